"""Every page renders without an exception, empty or with real runs; bad settings block training."""

import subprocess
import sys
from pathlib import Path

import pytest
from hostile_names import as_shown
from streamlit.testing.v1 import AppTest

from dlapp.config import RunConfig
from dlapp.jobs import TrainingJob
from dlapp.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = [
    "pages/data.py",
    "pages/train.py",
    "pages/evaluate.py",
    "pages/draw.py",
    "pages/runs.py",
    "pages/experiments.py",
]
TIMEOUT = 60  # the first page that needs Keras imports TensorFlow


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if page:
        at.switch_page(page).run()
    return at


def run_picker(at: AppTest):
    return next(box for box in at.selectbox if box.label == "Run")


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory) -> Path:
    """A store with one finished tiny MLP and one finished tiny autoencoder, trained for real."""
    data_dir = tmp_path_factory.mktemp("runs")
    store = RunStore(data_dir)
    for flat in (
        {"arch": "mlp", "hidden_units": (16,)},
        {"arch": "autoencoder", "encoder_units": (32,), "latent_dim": 2},
    ):
        config = RunConfig.from_flat(dataset="mnist-sample", train_subset=300, epochs=1, batch_size=64, **flat)
        job = TrainingJob(config, store).start()
        assert job.wait(timeout=300) == "finished", job.error
    return data_dir


@pytest.fixture
def empty_store(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def trained_store(trained_dir, monkeypatch) -> Path:
    monkeypatch.setenv("DLAPP_DATA_DIR", str(trained_dir))
    return trained_dir


@pytest.mark.parametrize("page", [None, *PAGES])
def test_every_page_renders_with_an_empty_store(empty_store, page):
    assert_clean(open_page(page))


@pytest.mark.parametrize("page", [None, *PAGES])
def test_every_page_renders_with_finished_runs(trained_store, page):
    assert_clean(open_page(page))


def test_home_lists_the_latest_runs(trained_store):
    at = open_page()
    text = " ".join(m.value for m in at.markdown)
    assert "mlp on mnist-sample" in text and "autoencoder on mnist-sample" in text


def test_evaluate_shows_autoencoder_reconstructions_and_latent_explorer(trained_store):
    at = open_page("pages/evaluate.py")
    autoencoder = next(r for r in RunStore(trained_store).runs() if r.arch == "autoencoder")
    run_picker(at).set_value(autoencoder.id).run()
    assert_clean(at)
    assert at.slider(key="latent_a") and at.slider(key="latent_b")
    at.slider(key="latent_a").set_value(0.0).run()
    assert_clean(at)


def test_evaluate_shows_images_of_a_chosen_confusion_cell(trained_store):
    at = open_page("pages/evaluate.py")
    mlp = next(r for r in RunStore(trained_store).runs() if r.arch == "mlp")
    run_picker(at).set_value(mlp.id).run()
    at.selectbox(key="cell_true").set_value("3").run()
    at.selectbox(key="cell_pred").set_value("3").run()
    assert_clean(at)
    assert any(m.label == "Test accuracy" for m in at.metric)


def test_draw_with_an_empty_canvas_asks_gently_for_a_digit(trained_store):
    at = open_page("pages/draw.py")
    assert_clean(at)
    assert any("Draw a digit" in i.value for i in at.info)


COMMAS = "Hidden layer sizes must be whole numbers separated by commas, like '128, 64';"


def train_button(at: AppTest):
    return next(b for b in at.button if b.label == "Train")


@pytest.mark.parametrize(
    ("widget", "field", "value", "message"),
    [
        ("text_input", "hidden_units", "0", "Hidden layer sizes must be at least 1 and at most 4096; you typed 0."),
        ("text_input", "hidden_units", "128, x", f"{COMMAS} you typed 128, x."),
        ("text_input", "hidden_units", "128,,64", f"{COMMAS} you typed 128,,64."),
        ("number_input", "dropout", 1.0, "Dropout must be at least 0 and less than 1; you typed 1."),
        ("number_input", "epochs", 0, "Epochs must be at least 1 and at most 500; you typed 0."),
        ("number_input", "learning_rate", 50.0, "Learning rate must be greater than 0 and at most 10; you typed 50."),
    ],
)
def test_a_bad_setting_shows_its_sentence_and_disables_train(empty_store, widget, field, value, message):
    at = open_page("pages/train.py")
    assert not train_button(at).disabled
    getattr(at, widget)(key=f"cfg_{field}").set_value(value).run()
    assert_clean(at)
    assert [as_shown(e.value) for e in at.error] == [message]
    assert train_button(at).disabled


def test_the_error_sentence_follows_the_value_typed_last(empty_store):
    at = open_page("pages/train.py")
    for typed in (0.0, -1.0, 50.0):
        at.number_input(key="cfg_learning_rate").set_value(typed).run()
    assert [as_shown(e.value) for e in at.error] == [
        "Learning rate must be greater than 0 and at most 10; you typed 50."
    ]


def test_settings_survive_a_visit_to_other_pages(empty_store):
    at = open_page("pages/train.py")
    at.number_input(key="cfg_epochs").set_value(20).run()
    at.text_input(key="cfg_hidden_units").set_value("256, 64").run()
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/train.py").run()
    assert at.number_input(key="cfg_epochs").value == 20
    assert at.text_input(key="cfg_hidden_units").value == "256, 64"
    at.selectbox(key="cfg_arch").set_value("cnn").run()
    at.switch_page("pages/evaluate.py").run()
    at.switch_page("pages/train.py").run()
    assert at.selectbox(key="cfg_arch").value == "cnn"
    at.selectbox(key="cfg_arch").set_value("mlp").run()  # back to the MLP: its layers as they were
    assert at.text_input(key="cfg_hidden_units").value == "256, 64"
    assert at.number_input(key="cfg_epochs").value == 20


def test_train_button_trains_and_the_page_shows_the_result(empty_store):
    at = open_page("pages/train.py")
    at.text_input(key="cfg_hidden_units").set_value("8")
    at.number_input(key="cfg_epochs").set_value(1)
    at.number_input(key="cfg_train_subset").set_value(200).run()
    train_button(at).click().run()
    assert_clean(at)
    run_id = at.session_state["train_run_id"]
    from dlapp.jobs import get_job

    assert get_job(run_id).wait(timeout=300) == "finished"
    at.run()
    assert_clean(at)
    assert any(m.label == "Test accuracy" for m in at.metric)


def _train_twice_script():
    import streamlit as st

    from dlapp import ui
    from dlapp.ui.training import start_training

    store = ui.get_store()
    ui.render_settings()
    if st.button("Train twice"):  # one click event handled twice, as a browser test once saw
        start_training(store)
        start_training(store)


def test_a_repeated_train_event_while_this_sessions_run_is_active_starts_nothing(empty_store):
    from dlapp.jobs import get_job

    at = AppTest.from_function(_train_twice_script, default_timeout=TIMEOUT).run()
    at.text_input(key="cfg_hidden_units").set_value("8")
    at.number_input(key="cfg_epochs").set_value(300)
    at.number_input(key="cfg_train_subset").set_value(200).run()
    next(b for b in at.button if b.label == "Train twice").click().run()
    assert_clean(at)
    first = at.session_state["train_run_id"]
    try:
        assert [run.id for run in RunStore(empty_store).runs()] == [first]
    finally:
        get_job(first).stop()
        get_job(first).wait(timeout=120)


def test_home_page_does_not_import_tensorflow(empty_store):
    code = (
        "import sys; from streamlit.testing.v1 import AppTest; "
        f"at = AppTest.from_file({APP!r}, default_timeout=30).run(); "
        "assert not at.exception, at.exception; "
        "sys.exit(2 if 'tensorflow' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True).returncode == 0


def test_page_reruns_leave_keras_state_alone(empty_store, monkeypatch):
    """Streamlit clears the Keras session after every run by default, which would pull the
    state out from under a job training in a background thread; dlapp turns that off."""
    import keras

    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: calls.append(1))
    at = open_page("pages/train.py")
    assert_clean(at)
    at.run()
    assert calls == []


def test_server_config_keeps_reruns_light_for_the_training_thread():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False  # a full gc per rerun starves training
    assert config["server"]["fileWatcherType"] == "none"


def test_only_the_ui_package_imports_streamlit():
    import ast

    offenders = []
    for path in (ROOT / "dlapp").rglob("*.py"):
        if "ui" in path.relative_to(ROOT / "dlapp").parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] in ("streamlit", "streamlit_drawable_canvas") for name in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_train_page_forgets_a_run_deleted_elsewhere(trained_store):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["train_run_id"] = 10**6  # this session's run, since deleted on the Runs page
    at.run()
    at.switch_page("pages/train.py").run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert "train_run_id" not in at.session_state


def test_draw_counts_saved_drawings_per_digit_in_words(trained_store):
    import numpy as np

    store = RunStore(trained_store)
    before = len(store.drawings()[1])
    for label in (3, 3, 7):
        store.add_drawing(label, np.zeros((28, 28), np.float32))
    try:
        at = open_page("pages/draw.py")
        assert_clean(at)
        caption = next(c.value for c in at.caption if "saved drawing" in c.value)
        assert "[" not in caption and "2 × 3" in caption and "1 × 7" in caption, caption
    finally:
        for drawing_id in store.drawing_ids()[before:]:
            store.delete_drawing(drawing_id)


def test_runs_table_leaves_empty_metric_cells_blank_not_none(trained_store):
    at = open_page("pages/runs.py")
    assert_clean(at)
    table = at.dataframe[0]
    assert table.proto.placeholder == "–"  # Streamlit's default shows the word None
    assert table.value["test MSE"].isna().any()  # the MLP has no MSE: a cell that would read None


def test_pen_digits_with_fashion_mnist_say_why_and_disable_train(empty_store):
    at = open_page("pages/train.py")
    at.number_input(key="cfg_pen_digits").set_value(1500).run()
    assert not at.error and not train_button(at).disabled
    at.selectbox(key="cfg_dataset").set_value("fashion_mnist").run()
    assert_clean(at)
    assert [as_shown(e.value) for e in at.error] == [
        "Real pen digits to add (0 = none) must be 0 for Fashion-MNIST: pen digits are digits, not clothes; "
        "set it to 0 or pick a digit set."
    ]
    assert train_button(at).disabled
