"""The Learn page renders every lesson, and a finished lesson shows its curves and what its runs showed."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dlapp.lesson_runs import start_lesson
from dlapp.lessons import EPOCHS_ENV, LESSONS, SUBSET_ENV, lesson
from dlapp.store import RunStore

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 60  # the first page that needs Keras imports TensorFlow


def open_learn() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/learn.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_learn_is_second_in_the_navigation():
    source = Path(APP).read_text()
    keys = [line.split('"')[1] for line in source.splitlines() if line.strip().startswith('"') and "st.Page(" in line]
    assert keys[:2] == ["home", "learn"]


def test_every_lesson_renders_its_words_formula_and_button(tmp_path, monkeypatch):
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    at = open_learn()
    for item in LESSONS:
        at.selectbox(key="learn_lesson").set_value(item.key).run()
        assert not at.exception, (item.key, [e.message for e in at.exception])
        assert any(item.title in sub.value for sub in at.subheader), item.key
        assert any(item.explanation[:40] in md.value for md in at.markdown), item.key
        assert len(at.get("latex")) == len(item.formulas), item.key
        assert at.button(key=f"learn_start_{item.key}").label.startswith("Run this lesson's experiment")


@pytest.fixture
def finished_first_lesson(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(SUBSET_ENV, "200")
    monkeypatch.setenv(EPOCHS_ENV, "2")
    runner = start_lesson(lesson("first-network"), RunStore(tmp_path))
    assert runner.wait(timeout=300) == "finished"
    return tmp_path


def test_a_finished_lesson_shows_curves_code_and_its_observation(finished_first_lesson):
    at = open_learn()
    assert at.get("plotly_chart"), "the overlaid curves"
    code = at.code[0].value
    assert "layers.Dense(128" in code and "Dropout(0.2)" in code
    observation = next(s.value for s in at.success)
    assert "What your runs showed" in observation and "after epoch 2" in observation


def test_train_view_marks_the_best_epoch_and_asks_overfitting(tmp_path, monkeypatch):
    from dlapp.config import RunConfig

    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    store = RunStore(tmp_path)
    run_id = store.create_run(RunConfig.from_flat(loss="mse"), name="overfits")
    for epoch, (train, val) in enumerate([(0.9, 0.8), (0.5, 0.4), (0.3, 0.3), (0.2, 0.35), (0.1, 0.4), (0.05, 0.5)]):
        store.add_epoch(run_id, epoch, {"loss": train, "val_loss": val, "accuracy": 0.9, "val_accuracy": 0.8})
    store.finish_run(run_id, "finished", metrics={"test_accuracy": 0.8}, seconds=1.0, samples_per_second=1.0)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["train_run_id"] = run_id
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, [e.message for e in at.exception]
    warning = next(w.value for w in at.warning if "Overfitting?" in w.value)
    assert "rose from 0.3 to 0.5 after epoch 3" in warning
    titles = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("Loss (MSE) per epoch" in spec and "on the training and validation images" in spec for spec in titles)
    assert any("best epoch 3" in spec for spec in titles)


def test_a_train_preset_fills_every_setting_in_one_choice(tmp_path, monkeypatch):
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_preset").set_value("A deep sigmoid MLP (8 layers)").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.text_input(key="cfg_hidden_units").value == ", ".join(["64"] * 8)
    assert at.selectbox(key="cfg_activation").value == "sigmoid"
    assert at.selectbox(key="cfg_optimizer").value == "sgd"
    loss = at.selectbox(key="cfg_loss")
    assert loss.value == "crossentropy" and "cross-entropy punishes a confident wrong answer" in loss.help
    assert at.selectbox(key="train_preset").value is None  # back to its placeholder, ready for the next one


def test_the_handwriting_lesson_reads_the_persons_own_finetune(tmp_path, monkeypatch):
    from dlapp.config import RunConfig

    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    at = open_learn()
    at.selectbox(key="learn_lesson").set_value("your-handwriting").run()
    assert any("save about 10 drawings of each digit" in s.value for s in at.success)
    store = RunStore(tmp_path)
    parent = store.create_run(RunConfig.from_flat(arch="cnn"))
    child = store.create_run(RunConfig.from_flat(arch="cnn"), parent_run_id=parent)
    metrics = {"heldout_accuracy_before": 0.5, "heldout_accuracy_after": 0.85, "heldout": 20.0}
    metrics |= {"drawings_used": 80.0, "test_accuracy_before": 0.97, "test_accuracy_after": 0.965}
    store.finish_run(child, "finished", metrics=metrics, seconds=1.0, samples_per_second=1.0)
    at.run()
    shown = next(s.value for s in at.success if "What your drawings showed" in s.value).replace("\\", "")
    assert f"Run #{child} learned from 80 of your drawings" in shown and "50.0% right before, 85.0% after" in shown


def test_the_saliency_lesson_draws_inline_with_its_own_cnn_once_trained(tmp_path, monkeypatch):
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(SUBSET_ENV, "200")
    monkeypatch.setenv(EPOCHS_ENV, "1")
    runner = start_lesson(lesson("saliency"), RunStore(tmp_path))
    assert runner.wait(timeout=300) == "finished"
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["learn_lesson"] = "saliency"
    at.run()
    at.switch_page("pages/learn.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(md.value.startswith("**Draw a digit: the CNN's guess and its saliency map") for md in at.markdown)
    assert any("Draw a digit on the left" in info.value for info in at.info)  # the Draw page's guess, waiting
    assert not [link for link in at.get("page_link") if "saliency" in link.label]  # no detour to the Draw page
