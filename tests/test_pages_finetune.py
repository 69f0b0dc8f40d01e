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
