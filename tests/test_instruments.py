"""Per-epoch layer statistics: checked against a direct GradientTape, on real digits and real fits."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlapp.config import RunConfig
from dlapp.data import load_raw, shape_for
from dlapp.instruments import (
    LayerProbe,
    LayerStatsCallback,
    first_layer_weights,
    kernel_layers,
    layer_stats,
    probe_batch,
    probe_size,
)
from dlapp.models import build_compiled, build_mlp


class Owner:
    def __init__(self):
        self.records: list[tuple[int, dict]] = []

    def on_layers(self, epoch, layers):
        self.records.append((epoch, layers))


@pytest.fixture(scope="module")
def digits():
    raw = load_raw("mnist-sample")
    return raw.x_train[:300], raw.y_train[:300]  # uint8 (300, 28, 28), (300,)


def fit_recording(model, x, y, epochs=1, **fit_kwargs):
    owner = Owner()
    callback = LayerStatsCallback(owner, x, y)
    model.fit(x, y, batch_size=32, epochs=epochs, callbacks=[callback], verbose=0, **fit_kwargs)
    return owner, callback


def sigmoid_mlp(batch_norm: bool) -> keras.Model:
    model = build_mlp(hidden_units=(32,) * 8, activation="sigmoid", dropout=0.0, batch_norm=batch_norm)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


@pytest.mark.parametrize(
    ("arch", "settings"),
    [
        ("mlp", {"hidden_units": (24, 16)}),
        ("cnn", {"conv_filters": (4,), "dense_units": 8}),
        # Traced without AutoGraph: a recurrent loop and residual blocks must trace as plain Python too.
        ("rnn", {"rnn_units": (8,)}),
        ("resnet", {"resnet_blocks": 1, "resnet_stages": 1, "resnet_width": 4}),
    ],
)
def test_recorded_gradient_norms_equal_a_direct_gradient_tape_computation(digits, arch, settings):
    keras.utils.set_random_seed(1)
    x, y = shape_for(digits[0], arch), digits[1]
    model = build_compiled(RunConfig().replace(arch=arch, batch_norm=True, dropout=0.0, **settings))
    owner, callback = fit_recording(model, x, y, epochs=2)
    last_epoch, layers = owner.records[-1]
    assert last_epoch == 1
    assert_direct_gradients(model, callback.x_probe, callback.y_probe, layers)


def assert_direct_gradients(model, x_probe, y_probe, layers: dict[str, dict]) -> None:
    """The recorded norms are those of a plain GradientTape on this model's own weights."""
    named = kernel_layers(model)
    with tf.GradientTape() as tape:
        probabilities = model(x_probe, training=True)  # batch statistics, as training
        loss = keras.losses.SparseCategoricalCrossentropy()(y_probe, probabilities)
    gradients = tape.gradient(loss, [kernel for _, kernel in named])
    assert list(layers) == [name for name, _ in named]
    for (name, kernel), gradient in zip(named, gradients, strict=True):
        assert layers[name]["grad_norm"] == pytest.approx(float(tf.norm(gradient)), rel=1e-4)
        assert layers[name]["weight_norm"] == pytest.approx(float(np.linalg.norm(kernel.numpy())), rel=1e-5)


def test_models_of_one_structure_share_one_trace_and_each_gets_its_own_gradients(digits):
    x, y = probe_batch(shape_for(digits[0], "mlp"), digits[1], size=64)
    config = RunConfig().replace(arch="mlp", hidden_units=(12, 10), dropout=0.0)
    models = []
    for seed in (1, 2):  # different weights, and Keras names the second model's layers differently
        keras.utils.set_random_seed(seed)
        models.append(build_compiled(config))
    probes = [LayerProbe(model, x, y) for model in models]
    assert probes[0]._measure is probes[1]._measure
    traces = probes[0]._measure.experimental_get_tracing_count()
    for model, probe in zip(models, probes, strict=True):
        assert_direct_gradients(model, x, y, probe())
    assert probes[0]._measure.experimental_get_tracing_count() == traces + 1  # once, for both models
    assert probes[0]()[kernel_layers(models[0])[0][0]] != probes[1]()[kernel_layers(models[1])[0][0]]

    # Any other setting (here the activation) is another structure, with its own trace.
    other = build_compiled(config.replace(activation="tanh"))
    assert LayerProbe(other, x, y)._measure is not probes[0]._measure


def test_the_histogram_counts_every_weight_between_its_smallest_and_largest(digits):
    x, y = shape_for(digits[0], "mlp"), digits[1]
    model = build_compiled(RunConfig().replace(arch="mlp", hidden_units=(16,)))
    owner, _ = fit_recording(model, x, y)
    first, kernel = kernel_layers(model)[0]
    hist = owner.records[0][1][first]["hist"]
    assert len(hist["counts"]) == 30 and len(hist["edges"]) == 31
    assert sum(hist["counts"]) == kernel.numpy().size == 784 * 16
    assert hist["edges"][0] == pytest.approx(kernel.numpy().min()) and hist["edges"][-1] == pytest.approx(
        kernel.numpy().max()
    )
    expected, _ = np.histogram(kernel.numpy(), bins=np.asarray(hist["edges"], np.float32))
    assert np.abs(expected - np.asarray(hist["counts"])).sum() <= 4  # a weight on an edge may fall either side


def first_and_last_gradient_norms(model, digits) -> tuple[float, float]:
    keras.utils.set_random_seed(2)
    owner, _ = fit_recording(model, shape_for(digits[0], "mlp"), digits[1])
    norms = [stats["grad_norm"] for stats in owner.records[0][1].values()]
    assert len(norms) == 9  # 8 hidden layers and the output layer
    return norms[0], norms[-1]


def test_in_an_8_layer_sigmoid_mlp_the_first_layer_gets_a_smaller_gradient_than_the_last(digits):
    first, last = first_and_last_gradient_norms(sigmoid_mlp(batch_norm=False), digits)
    assert first < last / 100
    # Batch norm (on the batch's statistics, as in training) keeps the gradient from vanishing.
    first_normed, last_normed = first_and_last_gradient_norms(sigmoid_mlp(batch_norm=True), digits)
    assert last_normed / first_normed < (last / first) / 100


def test_one_record_per_epoch_and_nothing_computed_per_batch(digits):
    x, y = shape_for(digits[0], "mlp"), digits[1]
    owner, callback = fit_recording(build_compiled(RunConfig().replace(hidden_units=(8,))), x, y, epochs=3)
    assert [epoch for epoch, _ in owner.records] == [0, 1, 2]
    assert len(callback.seconds) == 3
    for hook in ("on_train_batch_begin", "on_train_batch_end", "on_batch_end", "on_test_batch_end"):
        assert getattr(LayerStatsCallback, hook) is getattr(keras.callbacks.Callback, hook)


def test_recording_leaves_the_model_unchanged(digits):
    x, y = shape_for(digits[0], "mlp"), digits[1]
    model = build_compiled(RunConfig().replace(hidden_units=(8,), batch_norm=True))
    model.fit(x, y, epochs=1, verbose=0)
    before = [w.copy() for w in model.get_weights()]  # includes batch norm's moving statistics
    callback = LayerStatsCallback(Owner(), x, y)
    callback.set_model(model)
    callback.record()
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_the_probe_batch_is_the_same_training_images_every_time(digits):
    x, y = digits
    first_x, first_y = probe_batch(x, y, size=256)
    again_x, again_y = probe_batch(x, y, size=256)
    assert first_x.shape == (256, 28, 28)
    np.testing.assert_array_equal(first_x, again_x)
    np.testing.assert_array_equal(first_y, again_y)
    assert len(probe_batch(x[:100], y[:100], size=256)[0]) == 100  # fewer training images: all of them


def test_the_probe_is_256_images_but_never_more_than_1_in_64_nor_fewer_than_32():
    assert probe_size(54_000) == 256  # full MNIST after validation
    assert probe_size(3_600) == 56  # the sample: about 1% of an epoch's work
    assert probe_size(400) == 32


def test_an_empty_training_set_is_refused_in_one_sentence():
    with pytest.raises(ValueError, match="training images"):
        probe_batch(np.zeros((0, 28, 28)), np.zeros(0))


@pytest.mark.parametrize(
    ("arch", "settings", "expected"),
    [
        ("cnn", {"conv_filters": (4, 8), "dense_units": 16}, ["conv2d", "conv2d", "dense", "probabilities"]),
        ("rnn", {"rnn_units": (8,), "bidirectional": True}, ["forward_lstm", "backward_lstm", "probabilities"]),
        (
            "autoencoder",
            {"encoder_units": (16,)},
            ["encoder/dense", "encoder/latent", "decoder/dense", "decoder/dense"],
        ),
        ("resnet", {"resnet_width": 4}, ["conv2d"] * 6 + ["probabilities"]),
    ],
)
def test_every_layer_with_a_kernel_is_found_and_nested_models_are_opened(arch, settings, expected):
    model = build_compiled(RunConfig().replace(arch=arch, **settings))
    names = [name for name, _ in kernel_layers(model)]
    # Keras numbers repeated layer names (dense_3, conv2d_7) by how many it made before in this process.
    assert [_without_number(name) for name in names] == expected


def _without_number(name: str) -> str:
    *path, last = name.split("/")
    stem, _, number = last.rpartition("_")
    last = stem if number.isdigit() else last
    return last if path and path[0].startswith("bidirectional") else "/".join([*path, last])


def test_a_frozen_layer_is_left_out(digits):
    model = build_compiled(RunConfig().replace(hidden_units=(8, 8)))
    model.layers[2].trainable = False  # the first hidden Dense
    assert len(kernel_layers(model)) == 2


def test_weights_that_are_not_finite_give_none_not_nan():
    stats = layer_stats(float("nan"), float("inf"), float("nan"), 1.0, np.zeros(30, int))
    assert stats == {"grad_norm": None, "weight_norm": None, "hist": {"edges": [], "counts": []}}


def test_an_uncompiled_model_is_refused_in_one_sentence(digits):
    model = build_mlp(hidden_units=(8,))
    callback = LayerStatsCallback(Owner(), shape_for(digits[0], "mlp"), digits[1])
    callback.set_model(model)
    with pytest.raises(ValueError, match="compile the model"):
        callback.record()


def test_the_first_dense_layer_shows_its_strongest_neurons_as_28x28_images():
    model = build_compiled(RunConfig().replace(hidden_units=(40,)))
    first = first_layer_weights(model)
    kernel = model.layers[2].kernel.numpy()  # (784, 40)
    assert first.kind == "Dense" and first.total == 40 and first.images.shape == (32, 28, 28)
    strongest = int(np.argmax(np.linalg.norm(kernel, axis=0)))
    assert first.units[0] == strongest
    np.testing.assert_array_equal(first.images[0], kernel[:, strongest].reshape(28, 28))
    assert len(first_layer_weights(model, count=100).units) == 40


def test_the_first_conv_layer_shows_its_kernels_and_an_rnn_has_no_picture():
    first = first_layer_weights(build_compiled(RunConfig().replace(arch="cnn", conv_filters=(6,), kernel_size=5)))
    assert first.kind == "Conv2D" and first.images.shape == (6, 5, 5) and sorted(first.units) == list(range(6))
    assert first_layer_weights(build_compiled(RunConfig().replace(arch="rnn", rnn_units=(4,)))) is None
    autoencoder = first_layer_weights(build_compiled(RunConfig().replace(arch="autoencoder", encoder_units=(8,))))
    assert autoencoder.layer.startswith("encoder/") and autoencoder.images.shape == (8, 28, 28)
