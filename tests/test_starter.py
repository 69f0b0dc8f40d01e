"""The shipped starter model: loads when whole, one sentence when missing or damaged, written atomically."""

import json

import numpy as np
import pytest

from dlapp import starter
from dlapp.presets import BEST_FOR_DRAWING, PRESETS, preset
from dlapp.starter import StarterCard, StarterUnavailable, load_starter, starter_card
from dlapp.tools.starter import save

CARD = StarterCard("best for drawing", 0.985, 20, 80.0, "python -m dlapp.tools.starter")


def _tiny_model():
    import keras

    from dlapp.config import RunConfig
    from dlapp.models import build_model

    keras.utils.set_random_seed(0)
    return build_model(RunConfig().replace(arch="cnn", conv_filters=(4,), dense_units=8, augment=True).model)


def test_a_saved_starter_loads_and_its_card_reads_back(tmp_path):
    model_path, card_path = tmp_path / "starter.keras", tmp_path / "starter.json"
    model = _tiny_model()
    save(model, CARD, model_path, card_path)
    assert not list(tmp_path.glob("*partial*"))  # written under a temporary name, then renamed
    loaded = load_starter(model_path)
    image = np.zeros((1, 28, 28, 1), np.float32)
    np.testing.assert_allclose(loaded.predict(image, verbose=0), model.predict(image, verbose=0), rtol=1e-5)
    card = starter_card(card_path)
    assert card == CARD
    assert "best for drawing" in card.summary and "98.5%" in card.summary and "20 epochs" in card.summary
    assert "pen digits" not in card.summary


def test_a_card_from_before_pen_digits_reads_as_sample_only_and_a_pen_card_says_so(tmp_path):
    path = tmp_path / "starter.json"
    path.write_text(json.dumps({k: v for k, v in CARD.__dict__.items() if k != "pen_digits"}))
    assert starter_card(path).pen_digits == 0
    pen = StarterCard(**{**CARD.__dict__, "pen_digits": 1500})
    assert "4,000 MNIST sample digits and 1,500 real writers' pen digits" in pen.summary


@pytest.mark.parametrize("content", [None, b"", b"not a zip at all", b"PK\x03\x04 truncated"])
def test_a_missing_or_damaged_starter_is_one_sentence_offering_to_train(tmp_path, content):
    path = tmp_path / "starter.keras"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(StarterUnavailable) as caught:
        load_starter(path)
    message = str(caught.value)
    assert message == starter.UNAVAILABLE and message.count(". ") == 0 and "Train page" in message


@pytest.mark.parametrize("text", [None, "{", json.dumps({"preset": "x"})])
def test_a_missing_or_damaged_card_is_the_same_sentence(tmp_path, text):
    path = tmp_path / "card.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(StarterUnavailable, match="Train page"):
        starter_card(path)


def test_the_shipped_starter_files_load():
    """The repository's own starter (trained by `python -m dlapp.tools.starter`) is whole."""
    model = load_starter()
    assert model.output_shape == (None, 10)
    assert starter_card().preset == BEST_FOR_DRAWING.name


def test_presets_are_valid_named_configs():
    for name, one in PRESETS.items():
        assert one.name == name and one.description
        one.config.validate()
    assert preset("best for drawing") is BEST_FOR_DRAWING
    with pytest.raises(ValueError, match="Could not interpret preset 'fast'; expected one of 'best for drawing'"):
        preset("fast")
