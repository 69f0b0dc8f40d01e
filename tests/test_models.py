"""Architectures: every builder builds from defaults and options, counts parameters as by hand, and learns."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from model_helpers import layer_types

from dlapp import data, models
from dlapp.config import ARCHITECTURES, ModelConfig, RunConfig


def _model(**flat) -> keras.Model:
    config = RunConfig.from_flat(**flat).validate()
    return models.build_model(config.model)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_architecture_builds_from_defaults(arch):
    model = models.build_model(ModelConfig(arch=arch))
    assert model.name == arch
    assert tuple(model.input_shape[1:]) == data.input_shape(arch)
    expected_out = (28, 28) if arch == "autoencoder" else (models.NUM_CLASSES,)
    assert tuple(model.output_shape[1:]) == expected_out
    assert model.count_params() > 0


NON_DEFAULT = [
    dict(arch="mlp", hidden_units=(64, 32, 16), activation="gelu", dropout=0.0, batch_norm=True, l2=1e-4),
    dict(arch="mlp", hidden_units=(8,), activation="leaky_relu", augment=True),
    dict(arch="cnn", conv_filters=(8, 8, 8), kernel_size=5, pooling="avg", dense_units=0, batch_norm=True),
    dict(arch="cnn", conv_filters=(4,), pooling="none", dense_units=16, dropout=0.0, augment=True, l2=0.01),
    dict(arch="rnn", rnn_cell="gru", rnn_units=(16, 8), bidirectional=True, dropout=0.0),
    dict(arch="rnn", rnn_cell="simple", rnn_units=(8,), augment=True, l2=0.001),
    dict(arch="autoencoder", encoder_units=(32,), latent_dim=8, activation="tanh", reconstruction_loss="mse"),
    dict(arch="resnet", resnet_stages=3, resnet_blocks=2, resnet_width=4, activation="swish", augment=True),
]


@pytest.mark.parametrize("flat", NON_DEFAULT, ids=lambda flat: "-".join(f"{v}" for v in flat.values())[:60])
def test_every_architecture_builds_with_non_default_options(flat):
    model = _model(**flat)
    types = layer_types(model)
    config = RunConfig.from_flat(**flat).model
    if config.batch_norm or config.arch == "resnet":
        assert "BatchNormalization" in types
    if config.augment:
        assert {"RandomTranslation", "RandomRotation", "RandomZoom"} <= set(types)
    if config.arch == "rnn" and config.bidirectional:
        assert types.count("Bidirectional") == len(config.rnn_units)
    if config.arch == "cnn":
        pool = {"max": "MaxPooling2D", "avg": "AveragePooling2D", "none": None}[config.pooling]
        assert types.count("Conv2D") == len(config.conv_filters)
        assert pool is None or types.count(pool) == len(config.conv_filters)
    if config.arch == "autoencoder":
        assert [layer.name for layer in model.layers[1:]] == ["encoder", "decoder"]
        assert model.get_layer("encoder").output_shape[-1] == config.latent_dim


# Parameter counts worked out by hand: inputs * units + biases per Dense/Conv; 4 per BatchNorm channel
# (gamma, beta and the two moving statistics, which count_params includes).
HAND_COUNTS = [
    (dict(arch="mlp", hidden_units=(16,)), 784 * 16 + 16 + 16 * 10 + 10),
    (dict(arch="mlp", hidden_units=(16,), batch_norm=True), 784 * 16 + 16 + 4 * 16 + 16 * 10 + 10),
    # conv 3x3x1 -> 4 with bias; max pool 28 -> 14, so the head sees 14*14*4 = 784 inputs.
    (dict(arch="cnn", conv_filters=(4,), dense_units=0), 3 * 3 * 1 * 4 + 4 + 784 * 10 + 10),
    (
        dict(arch="cnn", conv_filters=(4, 8), pooling="max", dense_units=16),
        (3 * 3 * 1 * 4 + 4) + (3 * 3 * 4 * 8 + 8) + (7 * 7 * 8 * 16 + 16) + (16 * 10 + 10),
    ),
    # SimpleRNN: input kernel 28x8, recurrent 8x8, bias 8.
    (dict(arch="rnn", rnn_cell="simple", rnn_units=(8,)), (28 * 8 + 8 * 8 + 8) + (8 * 10 + 10)),
    # LSTM: four gates; GRU (reset_after) three gates with two biases each.
    (dict(arch="rnn", rnn_cell="lstm", rnn_units=(8,)), 4 * (28 * 8 + 8 * 8 + 8) + (8 * 10 + 10)),
    (dict(arch="rnn", rnn_cell="gru", rnn_units=(8,)), 3 * (28 * 8 + 8 * 8 + 2 * 8) + (8 * 10 + 10)),
    (
        dict(arch="rnn", rnn_cell="simple", rnn_units=(8,), bidirectional=True),
        2 * (28 * 8 + 8 * 8 + 8) + (16 * 10 + 10),
    ),
    (
        dict(arch="autoencoder", encoder_units=(16,), latent_dim=2),
        (784 * 16 + 16) + (16 * 2 + 2) + (2 * 16 + 16) + (16 * 784 + 784),
    ),
    # Stem conv 3x3x1x4 (no bias) + BN; one block: two 3x3x4x4 convs + 2 BN; pooled head 4 -> 10.
    (
        dict(arch="resnet", resnet_stages=1, resnet_blocks=1, resnet_width=4),
        (9 * 4 + 16) + (9 * 4 * 4 + 16) * 2 + (4 * 10 + 10),
    ),
    # A second stage doubles the width to 8 with stride 2, so its first block adds a 1x1 projection + BN.
    (
        dict(arch="resnet", resnet_stages=2, resnet_blocks=1, resnet_width=4),
        (9 * 4 + 16) + (9 * 4 * 4 + 16) * 2 + (9 * 4 * 8 + 32) + (9 * 8 * 8 + 32) + (4 * 8 + 32) + (8 * 10 + 10),
    ),
]


@pytest.mark.parametrize(("flat", "count"), HAND_COUNTS, ids=lambda v: str(v)[:50])
def test_parameter_count_matches_a_count_by_hand(flat, count):
    assert _model(**flat).count_params() == count


def test_dropout_zero_adds_no_dropout_layer_and_l2_adds_a_penalty():
    assert "Dropout" not in layer_types(_model(arch="mlp", dropout=0.0))
    model = _model(arch="mlp", hidden_units=(8,), l2=0.1)
    model(np.ones((1, 28, 28), dtype=np.float32))
    assert len(model.losses) == 1


def test_unknown_names_raise_value_error_saying_what_is_accepted():
    with pytest.raises(ValueError, match="Could not interpret architecture 'vit'"):
        models.build_model(ModelConfig(arch="vit"))
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: 'adagrad'"):
        models.make_optimizer(RunConfig().train.__class__(optimizer="adagrad"))
    with pytest.raises(ValueError, match="arch must be one of"):
        models.build_compiled(RunConfig.from_flat(arch="vit"))


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop", "adamw"])
def test_every_optimizer_compiles(optimizer):
    model = models.build_compiled(RunConfig.from_flat(hidden_units=(4,), optimizer=optimizer))
    assert model.optimizer.learning_rate.numpy() == pytest.approx(1e-3)


# Small versions of each architecture, so one short epoch on a few dozen digits is quick.
LEARNERS = {
    "mlp": dict(hidden_units=(32,)),
    "cnn": dict(conv_filters=(8,), dense_units=16),
    "rnn": dict(rnn_cell="gru", rnn_units=(16,)),
    "autoencoder": dict(encoder_units=(32,), latent_dim=2),
    "resnet": dict(resnet_stages=1, resnet_width=8),
}


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_one_epoch_on_a_few_dozen_digits_lowers_the_loss(arch):
    keras.utils.set_random_seed(0)
    config = RunConfig.from_flat(
        arch=arch, train_subset=64, validation_split=0.0, batch_size=4, learning_rate=3e-3, **LEARNERS[arch]
    ).validate()
    prepared = data.prepare(config.data, arch, seed=0)
    assert len(prepared.x_train) == 64
    target = prepared.x_train if arch == "autoencoder" else prepared.y_train
    model = models.build_compiled(config)
    before = model.evaluate(prepared.x_train, target, verbose=0, return_dict=True)["loss"]
    model.fit(prepared.x_train, target, epochs=1, batch_size=config.train.batch_size, verbose=0)
    after = model.evaluate(prepared.x_train, target, verbose=0, return_dict=True)["loss"]
    assert after < before, (before, after)


def test_mse_loss_is_the_squared_distance_to_the_one_hot_target_and_survives_saving(tmp_path):
    keras.utils.set_random_seed(0)
    config = RunConfig.from_flat(hidden_units=(16,), loss="mse", train_subset=64, validation_split=0.0).validate()
    prepared = data.prepare(config.data, "mlp", seed=0)
    model = models.build_compiled(config)
    model.fit(prepared.x_train, prepared.y_train, epochs=1, batch_size=16, verbose=0)
    scores = model.evaluate(prepared.x_train, prepared.y_train, verbose=0, return_dict=True)
    probabilities = model.predict(prepared.x_train, verbose=0)  # (64, 10)
    by_hand = np.mean((np.eye(10)[prepared.y_train] - probabilities) ** 2)
    assert scores["loss"] == pytest.approx(by_hand, rel=1e-4)
    assert scores["accuracy"] == pytest.approx(np.mean(probabilities.argmax(1) == prepared.y_train))
    model.save(tmp_path / "mse.keras")
    reloaded = keras.saving.load_model(tmp_path / "mse.keras", safe_mode=True)
    assert isinstance(reloaded.loss, models.OneHotMSE)


def test_label_smoothing_is_crossentropy_against_the_softened_one_hot_target_and_survives_saving(tmp_path):
    keras.utils.set_random_seed(0)
    config = RunConfig.from_flat(hidden_units=(16,), label_smoothing=0.2, train_subset=64, validation_split=0.0)
    prepared = data.prepare(config.validate().data, "mlp", seed=0)
    model = models.build_compiled(config)
    model.fit(prepared.x_train, prepared.y_train, epochs=1, batch_size=16, verbose=0)
    scores = model.evaluate(prepared.x_train, prepared.y_train, verbose=0, return_dict=True)
    probabilities = model.predict(prepared.x_train, verbose=0)  # (64, 10)
    target = np.eye(10)[prepared.y_train] * 0.8 + 0.2 / 10  # 0.82 on the true digit, 0.02 on each other
    by_hand = np.mean(-np.sum(target * np.log(np.clip(probabilities, 1e-7, 1.0)), axis=1))
    assert scores["loss"] == pytest.approx(by_hand, rel=1e-4)
    assert scores["accuracy"] == pytest.approx(np.mean(probabilities.argmax(1) == prepared.y_train))
    model.save(tmp_path / "smoothed.keras")
    reloaded = keras.saving.load_model(tmp_path / "smoothed.keras", safe_mode=True)
    assert isinstance(reloaded.loss, models.SmoothedCrossentropy) and reloaded.loss.smoothing == pytest.approx(0.2)
    unsmoothed, _ = models.loss_and_metrics(config.replace(label_smoothing=0.0))
    assert unsmoothed == "sparse_categorical_crossentropy"  # 0 is plain cross-entropy, as before the setting


def test_a_cosine_learning_rate_starts_at_the_rate_and_reaches_0_at_the_last_step():
    config = RunConfig.from_flat(hidden_units=(8,), lr_schedule="cosine", learning_rate=0.01)
    optimizer = models.make_optimizer(config.train, total_steps=100)
    assert float(optimizer.learning_rate) == pytest.approx(0.01)  # the rate at the optimizer's current step
    optimizer.iterations.assign(50)
    assert float(optimizer.learning_rate) == pytest.approx(0.005, rel=1e-3)  # half way down the half cosine
    optimizer.iterations.assign(100)
    assert float(optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)
    constant = models.make_optimizer(config.replace(lr_schedule="constant").train, total_steps=100)
    constant.iterations.assign(100)
    assert float(constant.learning_rate) == pytest.approx(0.01)
