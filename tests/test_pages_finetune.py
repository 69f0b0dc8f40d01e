"""The Draw page's handwriting tools in AppTest: the fine-tune button says how many drawings are missing,
"draw the digit shown" mode asks for 0, 1, 2 … and labels what is saved."""

import keras
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_pages import APP, TIMEOUT, assert_clean

from dlapp.config import RunConfig
from dlapp.store import RunStore

BUTTON = "Teach this model my handwriting"


@pytest.fixture
def store_with_model(tmp_path, monkeypatch) -> RunStore:
    """A store with one finished MLP run (a small untrained Keras model is enough for the page)."""
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    store = RunStore(tmp_path)
    run_id = store.create_run(RunConfig.from_flat(arch="mlp", dataset="mnist-sample"))
    inputs = keras.Input((28, 28))
    store.save_model(run_id, keras.Model(inputs, keras.layers.Dense(10, "softmax")(keras.layers.Flatten()(inputs))))
    store.finish_run(run_id, "finished", metrics={}, seconds=1.0, samples_per_second=1.0)
    return store


def open_draw() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/draw.py").run()
    assert_clean(at)
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_finetune_button_is_disabled_and_says_how_many_more_drawings(store_with_model):
    rng = np.random.default_rng(0)
    for label in (1, 1, 7, 7, 7):
        store_with_model.add_drawing(label, rng.uniform(0.2, 1, (28, 28)))
    at = open_draw()
    button = _button(at, BUTTON)
    assert button.disabled
    assert button.help.startswith("Save 15 more drawings (including 1 more 1)")
    assert any("Save 15 more drawings" in c.value for c in at.caption)


def test_the_finetune_button_is_enabled_with_enough_drawings(store_with_model):
    rng = np.random.default_rng(0)
    for i in range(30):
        store_with_model.add_drawing(i % 10, rng.uniform(0.2, 1, (28, 28)))
    at = open_draw()
    assert not _button(at, BUTTON).disabled


def test_draw_the_digit_shown_mode_asks_for_a_digit_and_labels_with_it(store_with_model):
    at = open_draw()
    at.toggle(key="prompt_mode").set_value(True).run()
    assert_clean(at)
    assert any(m.value == "### Draw a **0**" for m in at.markdown)
    label = next(s for s in at.selectbox if s.label == "This drawing is a")
    assert label.value == 0 and label.disabled


def _stored_finetune(store: RunStore, parent_id: int) -> int:
    """A finished fine-tuned run with its before/after, as the job stores it (no training needed)."""
    parent = store.run(parent_id)
    child = store.create_run(parent.config, name="mine + my handwriting", parent_run_id=parent_id)
    store.save_model(child, keras.models.load_model(parent.model_path))
    metrics = {
        "test_accuracy": 0.95,
        "heldout_accuracy_before": 0.4,
        "heldout_accuracy_after": 0.8,
        "test_accuracy_before": 0.96,
        "test_accuracy_after": 0.95,
        "drawings_used": 40.0,
        "heldout": 10.0,
    }
    store.finish_run(child, "finished", metrics=metrics, seconds=1.0, samples_per_second=1.0)
    return child


def test_a_fresh_session_shows_the_latest_finetunes_before_and_after(store_with_model):
    parent_id = store_with_model.runs()[0].id
    child_id = _stored_finetune(store_with_model, parent_id)
    at = open_draw()  # a new session: nothing in session state
    note = next(s.value for s in at.success if "Fine-tuned from" in s.value)
    assert f"Fine-tuned from run #{parent_id} on 40 of your drawings (10 held out)" in note
    assert f"run #{child_id}; the page is drawing with it" in note  # the newest run is picked first
    model_note = f"Run #{child_id}: fine-tuned from run #{parent_id} on 40 of your drawings (10 held out); 95.0% right"
    assert any(c.value.startswith(model_note) for c in at.caption)
    metrics = {m.label: (m.value, m.proto.delta) for m in at.metric}
    assert metrics["Your held-out drawings"] == ("80%", "+40 points (was 40%)")
    assert metrics["MNIST test digits"] == ("95%", "-1 points (was 96%)")


def test_with_only_the_starter_model_a_mislabelled_drawing_is_listed_for_review(tmp_path, monkeypatch):
    from dlapp.tools.sketches import drawn_digits

    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    store = RunStore(tmp_path)
    images, labels, _ = drawn_digits(10, seed=0)
    for image, label in zip(images, labels, strict=True):
        store.add_drawing(int(label), image)
    wrong = store.add_drawing(3, images[1])  # a clear 1, saved as a 3
    at = open_draw()
    warning = next(w.value for w in at.warning if "unlike their label" in w.value)
    assert "look blank or unlike their label to every model" in warning
    assert at.button(key=f"delete_drawing_{wrong}").label == "Delete"
