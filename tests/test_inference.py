"""Single-image inference on small untrained models of every architecture, and a briefly trained CNN."""

from __future__ import annotations

import numpy as np
import pytest

from dlapp.data import load_raw
from dlapp.inference import (
    Prediction,
    decode,
    feature_maps,
    predict,
    predict_proba,
    reconstruct,
    saliency,
    top_k,
)
from tests.model_helpers import sample_digit, small_model


@pytest.fixture(scope="module")
def digit() -> np.ndarray:
    return sample_digit()  # (28, 28)


@pytest.mark.parametrize("arch", ["mlp", "cnn", "rnn", "resnet"])
def test_predict_proba_gives_ten_probabilities_for_every_classifier(arch, digit):
    probabilities = predict_proba(small_model(arch), digit)
    assert probabilities.shape == (10,)
    assert probabilities.min() >= 0 and probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_predict_proba_matches_model_predict(digit):
    model = small_model("cnn")
    expected = model.predict(digit.reshape(1, 28, 28, 1), verbose=0)[0]
    np.testing.assert_allclose(predict_proba(model, digit), expected, atol=1e-5)


def test_augmentation_is_off_at_prediction_time(digit):
    model = small_model("cnn", augment=True, augment_shift=0.3, augment_rotation=45.0)
    np.testing.assert_allclose(predict_proba(model, digit), predict_proba(model, digit), atol=1e-6)


def test_predict_reports_label_confidence_and_runners_up(digit):
    model = small_model("mlp")
    result = predict(model, digit, threshold=0.5)
    assert isinstance(result, Prediction)
    assert result.label == int(np.argmax(result.probabilities))
    assert result.confidence == pytest.approx(result.probabilities.max())
    assert result.unsure is (result.confidence < 0.5)
    assert result.top_k[0] == (result.label, pytest.approx(result.confidence))
    assert predict(model, digit, threshold=0.0).unsure is False


def test_top_k_is_sorted_best_first():
    probabilities = np.array([0.1, 0.5, 0.0, 0.3, 0.1, 0, 0, 0, 0, 0])
    assert top_k(probabilities, 3) == [(1, 0.5), (3, 0.3), (0, 0.1)]


def test_wrong_image_shape_is_refused_with_one_sentence():
    with pytest.raises(ValueError, match="28x28"):
        predict_proba(small_model("mlp"), np.zeros((32, 32), np.float32))


@pytest.mark.parametrize("arch", ["mlp", "cnn", "rnn", "resnet"])
def test_saliency_is_a_normalised_28x28_map(arch, digit):
    heat = saliency(small_model(arch), digit, class_index=3)
    assert heat.shape == (28, 28)
    assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)


def test_saliency_of_a_flat_gradient_is_all_zeros():
    import keras

    inputs = keras.Input((28, 28))
    flat = keras.layers.Flatten()(inputs)
    outputs = keras.layers.Dense(10, activation="softmax", kernel_initializer="zeros")(flat)
    heat = saliency(keras.Model(inputs, outputs), np.ones((28, 28), np.float32), 0)
    assert heat.shape == (28, 28) and not heat.any()


def test_saliency_rejects_a_class_outside_0_to_9(digit):
    with pytest.raises(ValueError, match="0-9"):
        saliency(small_model("mlp"), digit, 10)


def test_autoencoder_round_trip_shapes(digit):
    model = small_model("autoencoder")
    reconstruction, latent = reconstruct(model, digit)
    assert reconstruction.shape == (28, 28) and latent.shape == (2,)
    assert 0 <= reconstruction.min() and reconstruction.max() <= 1
    np.testing.assert_allclose(decode(model, latent), reconstruction, atol=1e-5)
    np.testing.assert_allclose(reconstruction, model.predict(digit[None], verbose=0)[0], atol=1e-5)
    with pytest.raises(ValueError, match="latent point has 3"):
        decode(model, np.zeros(3))


def test_reconstruct_needs_an_autoencoder(digit):
    with pytest.raises(ValueError, match="encoder"):
        reconstruct(small_model("mlp"), digit)


def test_feature_maps_cover_every_conv_layer(digit):
    maps = feature_maps(small_model("cnn", augment=True), digit)
    assert [m.shape for _, m in maps] == [(28, 28, 4), (14, 14, 8)]
    assert all(name.startswith("conv2d") for name, _ in maps)
    assert feature_maps(small_model("mlp"), digit) == []
    assert len(feature_maps(small_model("resnet"), digit)) >= 3


@pytest.mark.slow
def test_briefly_trained_cnn_is_right_on_held_out_digits():
    raw = load_raw("mnist-sample")
    model = small_model("cnn", conv_filters=(8, 16), dense_units=32)
    model.fit(raw.x_train[::4, ..., None] / 255.0, raw.y_train[::4], epochs=3, batch_size=32, verbose=0)  # 1000 digits
    images, labels = raw.x_test[::20] / 255.0, raw.y_test[::20]  # 50 digits
    right = [predict(model, image).label == label for image, label in zip(images, labels, strict=True)]
    assert np.mean(right) > 0.7
    # Saliency of the predicted class is denser where digits are drawn than in the empty border.
    heat = saliency(model, images[0], predict(model, images[0]).label)
    centre = heat[4:24, 4:24].sum()
    assert centre / 400 > 1.5 * (heat.sum() - centre) / (784 - 400)
