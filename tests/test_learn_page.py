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
