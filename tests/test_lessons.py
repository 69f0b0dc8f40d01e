"""The lessons: lesson 1 is the tutorial's network, every lesson's runs are valid configs, and
every observation reads the runs' own numbers, on an overfitting history and on a healthy one."""

from __future__ import annotations

import pytest

from dlapp import lesson_observations as obs
from dlapp.config import MAX_LAYERS
from dlapp.lessons import EPOCHS_ENV, LESSONS, SUBSET_ENV, lesson, lesson_configs, preset_configs

# --- the lessons as data ---------------------------------------------------------------------


def test_lesson_one_is_exactly_the_tutorials_mlp():
    import keras
    from model_helpers import layer_types

    from dlapp.models import build_model, loss_and_metrics, make_optimizer

    [(_, config)] = lesson_configs(lesson("first-network"))
    model_config, train = config.model, config.train
    assert (model_config.arch, model_config.hidden_units, model_config.activation) == ("mlp", (128,), "relu")
    assert (model_config.dropout, model_config.batch_norm, model_config.l2, model_config.augment) == (
        0.2,
        False,
        0.0,
        False,
    )
    assert (train.optimizer, train.learning_rate, train.epochs, train.batch_size) == ("adam", 0.001, 5, 32)
    assert loss_and_metrics(config) == ("sparse_categorical_crossentropy", ["accuracy"])
    assert isinstance(make_optimizer(train), keras.optimizers.Adam)
    model = build_model(model_config)
    assert layer_types(model) == ["InputLayer", "Flatten", "Dense", "Dropout", "Dense"]
    hidden, output = (layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    assert (hidden.units, hidden.activation.__name__) == (128, "relu")
    assert (output.units, output.activation.__name__) == (10, "softmax")
    assert model.count_params() == 101_770


def test_every_lesson_plans_valid_runs_with_distinct_labels():
    assert len(LESSONS) == 10 and len({item.key for item in LESSONS}) == 10
    for item in LESSONS:
        planned = lesson_configs(item, "mnist-sample")
        assert planned, item.key
        labels = [variant.label for variant, _ in planned]
        assert len(set(labels)) == len(labels), item.key
        assert item.explanation and item.look_for


def test_the_vanishing_gradient_lesson_has_an_eight_layer_sigmoid_mlp_within_the_limits():
    deep = lesson_configs(lesson("vanishing-gradients"))[0][1]
    assert deep.model.hidden_units == (64,) * 8 and len(deep.model.hidden_units) <= MAX_LAYERS
    assert deep.model.activation == "sigmoid"
    assert [config.model.arch for _, config in lesson_configs(lesson("vanishing-gradients"))] == [
        "mlp",
        "mlp",
        "resnet",
    ]


def test_test_settings_shrink_every_lesson(monkeypatch):
    monkeypatch.setenv(SUBSET_ENV, "300")
    monkeypatch.setenv(EPOCHS_ENV, "1")
    for item in LESSONS:
        for _, config in lesson_configs(item):
            assert config.data.train_subset == 300 and config.train.epochs == 1


def test_presets_are_lesson_configs():
    presets = preset_configs()
    assert presets["The tutorial's first network"] == lesson_configs(lesson("first-network"))[0][1]
    assert len(presets["A deep sigmoid MLP (8 layers)"].model.hidden_units) == 8


def test_unknown_lesson_names_the_known_ones():
    with pytest.raises(ValueError, match="first-network"):
        lesson("nope")


# --- synthetic histories -----------------------------------------------------------------------

OVERFIT = dict(
    loss=[0.9, 0.5, 0.3, 0.2, 0.12, 0.08, 0.05, 0.03, 0.02, 0.015],
    val_loss=[0.8, 0.45, 0.3, 0.25, 0.21, 0.23, 0.26, 0.29, 0.31, 0.34],
    accuracy=[0.7, 0.85, 0.9, 0.94, 0.96, 0.97, 0.98, 0.99, 0.995, 0.998],
    val_accuracy=[0.72, 0.84, 0.88, 0.9, 0.91, 0.905, 0.9, 0.9, 0.895, 0.89],
)
HEALTHY = dict(
    loss=[0.9, 0.5, 0.35, 0.3, 0.26, 0.24, 0.22, 0.21, 0.2, 0.19],
    val_loss=[0.8, 0.45, 0.34, 0.3, 0.27, 0.25, 0.24, 0.23, 0.225, 0.22],
    accuracy=[0.7, 0.85, 0.89, 0.91, 0.92, 0.93, 0.935, 0.94, 0.942, 0.945],
    val_accuracy=[0.72, 0.86, 0.89, 0.9, 0.915, 0.92, 0.925, 0.93, 0.932, 0.935],
)


def rows(history: dict[str, list[float]], epochs: int | None = None, **extra) -> list[dict]:
    n = epochs or len(history["loss"])
    return [{"epoch": i, **{key: values[i] for key, values in history.items()}, **extra} for i in range(n)]


def scaled(history: dict[str, list[float]], factor: float) -> dict[str, list[float]]:
    """The same curves with every loss multiplied and accuracy pulled towards chance by `factor`."""
    out = {}
    for key, values in history.items():
        out[key] = [v * factor if "loss" in key else 0.1 + (v - 0.1) / factor for v in values]
    return out


def run(label: str, history: dict, **fields) -> obs.LessonRun:
    return obs.LessonRun(label, rows(history, fields.pop("epochs", None)), **fields)


def test_first_network_reports_its_loss_best_epoch_and_test_score():
    text = obs.observe_first_network([run("net", OVERFIT, metrics={"test_accuracy": 0.893})])
    assert "from 0.9 after epoch 1 to 0.015 after epoch 10" in text
    assert "best after epoch 5: 91.0%" in text and "89.3%" in text
    healthy = obs.observe_first_network([run("net", HEALTHY)])
    assert "best after epoch 10: 93.5%" in healthy
    assert obs.observe_first_network([]) == obs.NOTHING_YET


def test_losses_says_which_learned_faster_or_that_the_expected_lead_did_not_show():
    faster = obs.observe_losses([run("cross-entropy", HEALTHY), run("MSE", scaled(HEALTHY, 1.5))])
    assert "after epoch 10" in faster and "Cross-entropy learned faster" in faster
    behind = obs.observe_losses([run("cross-entropy", scaled(OVERFIT, 1.5)), run("MSE", OVERFIT)])
    assert "did not show" in behind


def test_optimisers_ranks_the_optimisers_and_reads_each_learning_rate():
    runs = [
        run("SGD", scaled(HEALTHY, 2.0)),
        run("Adam", HEALTHY),
        run("η = 0.001", scaled(HEALTHY, 3.0), group="rate"),
        run("η = 1.5", {**OVERFIT, "loss": [2.3, 1.9, 2.1, 1.8, 2.4, 2.0, 2.2, 1.9, 2.5, 2.1]}, group="rate"),
    ]
    text = obs.observe_optimisers(runs)
    assert "best first: Adam 0.22, SGD 0.44" in text
    assert "η = 1.5: training loss 2.3 → 2.1, up again in 4 of 9 epochs" in text
    assert "Best: η = 1.5" in text  # its validation loss (0.34) beat 0.66: the numbers, not the expectation


def test_overfitting_finds_the_turn_and_compares_each_cures_gap():
    cured = {**OVERFIT, "val_loss": [v - 0.1 * i / 9 for i, v in enumerate(OVERFIT["val_loss"])]}
    runs = [
        run("no cure", OVERFIT),
        run("dropout 0.5", cured),
        run("early stopping", OVERFIT, epochs=8, settings={"early_stopping": 3}),
    ]
    text = obs.observe_overfitting(runs)
    assert "lowest at epoch 5 (0.21) and rose to 0.34 by epoch 10" in text and "overfitting." in text
    assert (
        "Validation minus training loss at the end: no cure 0.325, dropout 0.5 0.225; smallest with dropout 0.5" in text
    )
    assert "stopped after epoch 8 and kept the weights of epoch 5" in text
    healthy = obs.observe_overfitting([run("no cure", HEALTHY), run("dropout 0.5", OVERFIT)])
    assert "no clear overfitting" in healthy and "smallest with no cure" in healthy


def test_vanishing_reads_per_layer_gradients_when_recorded_and_says_so_when_not():
    layers = {"dense": {"grad_norm": 0.0002}, "dense_1": {"grad_norm": 0.01}, "probabilities": {"grad_norm": 0.2}}
    deep = obs.LessonRun("sigmoid MLP", rows(OVERFIT, layers=layers))
    text = obs.observe_vanishing([deep, run("ResNet", HEALTHY)])
    assert "in sigmoid MLP the first layer's gradient (0.0002) was 0.001 times the last layer's" in text
    assert "ResNet 93.5%, sigmoid MLP 89.0%" in text
    bare = obs.observe_vanishing([run("sigmoid MLP", HEALTHY)])
    assert bare.startswith("These runs recorded no per-layer gradients")


def test_convolution_and_recurrent_rank_by_validation_accuracy():
    text = obs.observe_convolution([run("MLP", OVERFIT, parameters=101_770), run("CNN", HEALTHY, parameters=105_866)])
    assert "after 10 epochs: CNN 93.5% with 105,866 weights, MLP 89.0% with 101,770 weights" in text
    assert "The CNN did better by 4.5 points" in text
    simple, gru = {"rnn_cell": "simple"}, {"rnn_cell": "gru"}
    text = obs.observe_recurrent(
        [run("simple RNN", OVERFIT, seconds=10, settings=simple), run("GRU", HEALTHY, seconds=20, settings=gru)]
    )
    assert "best first: GRU 93.5%, simple RNN 89.0%" in text and "simple RNN 10, GRU 20" in text
    assert "did not show" not in text
    upset = obs.observe_recurrent([run("simple RNN", HEALTHY, settings=simple), run("GRU", OVERFIT, settings=gru)])
    assert "the simple RNN did at least as well as the gated cells" in upset


def test_autoencoder_compares_reconstruction_errors():
    text = obs.observe_autoencoder(
        [
            run("latent size 2", HEALTHY, metrics={"test_mse": 0.04}),
            run("latent size 32", HEALTHY, metrics={"test_mse": 0.01}),
        ]
    )
    assert "latent size 2 0.04, latent size 32 0.01" in text and "Latent size 2 makes 4.0 times the error" in text


def test_saliency_names_the_most_common_mistake():
    confusion = [[0] * 10 for _ in range(10)]
    confusion[8][9], confusion[3][5], confusion[1][1] = 6, 2, 50
    text = obs.observe_saliency([run("CNN", HEALTHY, metrics={"test_accuracy": 0.981}, confusion=confusion)])
    assert "98.1% of the test digits" in text and "reading an 8 as a 9 (6 times)" in text


def test_sizes_names_the_smallest_model_close_to_the_best():
    close = {**HEALTHY, "val_accuracy": [v - 0.005 for v in HEALTHY["val_accuracy"]]}
    runs = [
        run("big", HEALTHY, parameters=400_000),
        run("small", close, parameters=25_000),
        run("bad", OVERFIT, parameters=1_000),
    ]
    assert "The small came within 1 point of the best with 16.0 times fewer weights" in obs.observe_sizes(runs)
    alone = obs.observe_sizes([run("big", HEALTHY, parameters=400_000), run("bad", OVERFIT, parameters=1_000)])
    assert "No smaller model came within 1 point of the big" in alone
