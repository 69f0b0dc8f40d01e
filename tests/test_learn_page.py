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
