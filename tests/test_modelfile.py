"""load_model_file accepts dlapp's own models and refuses everything else with one sentence."""

from __future__ import annotations

import zipfile

import keras
import numpy as np
import pytest

from dlapp.config import RunConfig
from dlapp.errors import ModelRejected
from dlapp.modelfile import load_model_file
from dlapp.models import build_compiled


def saved(model: keras.Model, path) -> str:
    model.save(path)
    return str(path)


def one_sentence(message: str) -> bool:
    return message.endswith(".") and ". " not in message and "\n" not in message


@pytest.mark.parametrize("arch", ["cnn", "mlp", "autoencoder"])
def test_dlapp_models_load_and_predict_the_same(arch, tmp_path):
    model = build_compiled(RunConfig().replace(arch=arch, hidden_units=(8,), conv_filters=(4,), encoder_units=(8,)))
    loaded = load_model_file(saved(model, tmp_path / "model.keras"))
    x = np.random.default_rng(0).random((2, *model.input_shape[1:])).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_a_keras_zip_under_another_name_still_loads(tmp_path):
    model = build_compiled(RunConfig().replace(arch="mlp", hidden_units=(8,)))
    path = tmp_path / "upload.zip"
    saved(model, tmp_path / "model.keras")
    (tmp_path / "model.keras").rename(path)
    assert load_model_file(path).output_shape == (None, 10)


def lambda_model() -> keras.Model:
    inputs = keras.Input((28, 28))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x)))


def wrong_input_model() -> keras.Model:
    inputs = keras.Input((32, 32, 3))
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))


def wrong_output_model() -> keras.Model:
    inputs = keras.Input((28, 28))
    return keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs)))


def write_not_a_zip(path):
    path.write_text("print('hello')")
    return path


def write_zip_without_config(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weights.bin", b"\0" * 100)
    return path


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: write_not_a_zip(p), "not a zip"),
        (lambda p: write_zip_without_config(p), "config.json is missing"),
        (lambda p: saved(lambda_model(), p), "contains Python code \\(a Lambda layer\\), which dlapp refuses to run"),
        (lambda p: saved(wrong_input_model(), p), "not 28x28 digits"),
        (lambda p: saved(wrong_output_model(), p), "10 class scores"),
    ],
    ids=["not a zip", "zip without config", "lambda layer", "wrong input shape", "wrong output shape"],
)
def test_bad_files_are_refused_with_one_sentence(make, words, tmp_path):
    path = make(tmp_path / "model.keras")
    with pytest.raises(ModelRejected, match=words) as info:
        load_model_file(path)
    assert one_sentence(str(info.value))


def test_keras_safe_mode_refusal_is_reported_as_lambda(tmp_path, monkeypatch):
    # Skip dlapp's own config scan, so the refusal must come from Keras safe_mode itself.
    monkeypatch.setattr("dlapp.modelfile._mentions_lambda", lambda text: False)
    with pytest.raises(ModelRejected, match="Lambda layer"):
        load_model_file(saved(lambda_model(), tmp_path / "model.keras"))


def test_too_big_file_is_refused_before_opening(tmp_path):
    path = write_zip_without_config(tmp_path / "model.keras")
    with pytest.raises(ModelRejected, match="over the limit of 10 bytes") as info:
        load_model_file(path, max_bytes=10)
    assert one_sentence(str(info.value))


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ModelRejected, match="no model file"):
        load_model_file(tmp_path / "nothing.keras")
