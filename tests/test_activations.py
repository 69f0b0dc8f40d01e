"""The forward pass of one digit, layer by layer, checked against the model's own outputs."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from dlapp.activations import forward_pass
from dlapp.inference import feature_maps, predict_proba, reconstruct
from tests.model_helpers import sample_digit, small_model


@pytest.fixture(scope="module")
def digit() -> np.ndarray:
    return sample_digit()  # (28, 28)


@pytest.mark.parametrize("arch", ["mlp", "cnn", "rnn", "resnet"])
def test_every_layer_in_data_flow_order_from_the_image_to_the_probabilities(arch, digit):
    model = small_model(arch)
    passed = forward_pass(model, digit)
    assert [layer.name for layer in passed.layers] == [layer.name for layer in model.layers]
    assert [layer.kind for layer in passed.layers] == [type(layer).__name__ for layer in model.layers]
    for activation, layer in zip(passed.layers, model.layers, strict=True):
        assert activation.shape == tuple(layer.output.shape[1:])
    assert passed.layers[0].role == "input" and passed.output.role == "output"
    np.testing.assert_allclose(passed.layers[0].values.reshape(28, 28), digit)
    np.testing.assert_allclose(passed.output.values, predict_proba(model, digit), atol=1e-5)
    assert passed.left_out == 0 and passed.note == ""


def test_conv_layers_show_the_same_feature_maps_as_inference(digit):
    model = small_model("cnn")
    by_name = {layer.name: layer.values for layer in forward_pass(model, digit).layers}
    for name, maps in feature_maps(model, digit):
        np.testing.assert_allclose(by_name[name], maps, atol=1e-5)


def test_the_autoencoder_shows_encoder_latent_code_and_decoder(digit):
    model = small_model("autoencoder")
    passed = forward_pass(model, digit)
    names = [layer.name for layer in passed.layers]
    assert names[0] == "image"
    assert [name.split("/")[0] for name in names[1:]] == ["encoder"] * 3 + ["decoder"] * 3
    reconstruction, latent = reconstruct(model, digit)
    (code,) = [layer for layer in passed.layers if layer.role == "latent code"]
    assert code.name == "encoder/latent"
    np.testing.assert_allclose(code.values, latent, atol=1e-5)
    np.testing.assert_allclose(passed.output.values, reconstruction, atol=1e-5)


def test_a_recurrent_layer_gives_its_hidden_state_after_each_row(digit):
    model = small_model("rnn", rnn_cell="simple")
    (recurrent,) = [layer for layer in forward_pass(model, digit).layers if layer.kind == "SimpleRNN"]
    assert recurrent.steps.shape == (28, 8)
    np.testing.assert_allclose(recurrent.steps[-1], recurrent.values, atol=1e-5)  # the layer returns the last
    # The same states stepped by hand: h_t = tanh(x_t W + h_(t-1) U + b).
    kernel, recurrent_kernel, bias = model.get_layer(recurrent.name).get_weights()
    state, expected = np.zeros(8, np.float32), []
    for row in digit:
        state = np.tanh(row @ kernel + state @ recurrent_kernel + bias)
        expected.append(state)
    np.testing.assert_allclose(recurrent.steps, np.array(expected), atol=1e-5)


def test_a_bidirectional_layer_puts_both_directions_in_row_order(digit):
    model = small_model("rnn", rnn_units=(8, 8), bidirectional=True)
    first, last = [layer for layer in forward_pass(model, digit).layers if layer.kind == "Bidirectional(LSTM)"]
    np.testing.assert_allclose(first.steps, first.values, atol=1e-5)  # return_sequences: the output is the states
    assert last.steps.shape == (28, 16) and last.values.shape == (16,)
    np.testing.assert_allclose(last.steps[-1, :8], last.values[:8], atol=1e-5)  # forward: ends at the last row
    np.testing.assert_allclose(last.steps[0, 8:], last.values[8:], atol=1e-5)  # backward: ends at the first row


def test_a_huge_model_is_cut_and_says_what_was_left_out(digit):
    model = small_model("mlp", hidden_units=(64,) * 8)  # 19 layers with the dropouts
    passed = forward_pass(model, digit, max_layers=6)
    assert len(passed.layers) == 6 and passed.left_out == 13
    assert passed.layers[0].role == "input" and passed.output.name == "probabilities"
    assert "19 layers" in passed.note and "13" in passed.note


def test_an_imported_keras_file_works_without_any_training_history(digit, tmp_path):
    path = tmp_path / "someone's model.keras"
    small_model("cnn", batch_norm=True).save(path)
    model = keras.saving.load_model(path, safe_mode=True, compile=False)
    passed = forward_pass(model, digit)
    kinds = [layer.kind for layer in passed.layers[1:4]]
    assert kinds == ["ElasticDistortion", "Deskew", "Conv2D"]  # dlapp's own layers (bend, deskew) load too
    assert passed.layers[3].shape == (28, 28, 4)
    np.testing.assert_allclose(passed.output.values, predict_proba(model, digit), atol=1e-5)


def test_a_model_that_cannot_be_opened_shows_its_ends_and_says_so(digit):
    # A layer first called in another graph: Keras cannot cut this model at that layer.
    shared = keras.layers.Dense(10, activation="softmax")
    shared(keras.Input((784,)))
    image = keras.Input((28, 28))
    model = keras.Model(image, shared(keras.layers.Flatten()(image)))
    passed = forward_pass(model, digit)
    assert [layer.role for layer in passed.layers] == ["input", "output"]
    assert "cannot be opened" in passed.note
    np.testing.assert_allclose(passed.output.values, predict_proba(model, digit), atol=1e-5)


def test_a_wrong_image_is_refused_in_one_sentence():
    with pytest.raises(ValueError, match="28x28"):
        forward_pass(small_model("mlp"), np.zeros((32, 32), np.float32))
