"""The Draw page on a fresh install: the shipped starter model, or one sentence when it is missing or damaged."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dlapp import starter
from dlapp.config import RunConfig
from dlapp.jobs import TrainingJob
from dlapp.store import RunStore
from dlapp.ui.starter import _starter_model

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 90  # the page loads the model (TensorFlow) before the canvas


def open_draw() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/draw.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def model_picker(at: AppTest):
    return next(box for box in at.selectbox if box.label == "Model")


@pytest.fixture
def empty_store(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path / "data"))
    _starter_model.clear()
    yield tmp_path
    _starter_model.clear()


def test_fresh_install_draws_with_the_starter_and_says_how_it_was_trained(empty_store):
    at = open_draw()
    picker = model_picker(at)
    assert picker.options[picker.index].startswith("Starter model")
    note = " ".join(c.value for c in at.caption)
    assert "best for drawing" in note and "bundled" in note and "test digits" in note
    assert any("Draw a digit" in i.value for i in at.info)


def test_before_any_stroke_the_guess_row_is_already_on_the_page_blank(empty_store):
    """The metric and both images are there, empty, so the first stroke does not wait for the browser to
    fetch a metric's code; nothing is guessed yet."""
    at = open_draw()
    assert [(m.label, m.value) for m in at.metric] == [("Its guess", "–")]
    captions = [picture.caption for image in at.get("image") for picture in image.proto.imgs]
    assert {"What the model sees (28×28)", "Pixels that moved the guess most"} <= set(captions)


@pytest.mark.parametrize("content", [None, b"this is not a keras file"])
def test_a_missing_or_damaged_starter_is_one_sentence_and_an_offer_to_train(empty_store, monkeypatch, content):
    bad = empty_store / "starter.keras"
    if content is not None:
        bad.write_bytes(content)
    monkeypatch.setattr(starter, "MODEL_FILE", bad)
    at = open_draw()
    assert [e.value.replace("\\", "") for e in at.error] == [starter.UNAVAILABLE]  # shown escaped, as text
    assert any("Train" in link.label for link in at.get("page_link"))


def test_without_a_starter_card_the_page_offers_to_train(empty_store, monkeypatch):
    monkeypatch.setattr(starter, "CARD_FILE", empty_store / "missing.json")
    at = open_draw()
    assert [i.value for i in at.info] == [starter.UNAVAILABLE]


@pytest.mark.slow
def test_your_runs_come_before_the_starter(empty_store):
    store = RunStore(empty_store / "data")
    config = RunConfig.from_flat(arch="mlp", hidden_units=(16,), train_subset=300, epochs=1, batch_size=64)
    job = TrainingJob(config, store).start()
    assert job.wait(timeout=300) == "finished", job.error
    at = open_draw()
    picker = model_picker(at)
    assert picker.index == 0 and picker.options[0].startswith("#")  # the person's run, picked first
    assert picker.options[-1].startswith("Starter model")
