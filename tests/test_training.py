"""fit_run, the one training recipe: real fits of a tiny MLP on the bundled sample."""

from __future__ import annotations

import dataclasses

import keras
import pytest

from dlapp.config import RunConfig
from dlapp.data import prepare
from dlapp.training import FitStart, fit_run

SMALL = RunConfig.from_flat(arch="mlp", hidden_units=(16,), train_subset=300, epochs=1, batch_size=32)


class _Epochs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(epoch)


class _StopAfter(keras.callbacks.Callback):
    def __init__(self, step: int):
        super().__init__()
        self.step = step
        self.stopped_at: int | None = None

    def on_train_batch_end(self, batch, logs=None):
        # Keras calls this once per call into TensorFlow, which may run several batches (steps_per_execution).
        if batch >= self.step and self.stopped_at is None:
            self.stopped_at = batch
            self.model.stop_training = True


def test_a_fit_reports_its_start_history_test_metrics_and_samples():
    starts = []
    result = fit_run(SMALL, on_fit_start=starts.append)
    assert starts == [FitStart(train_samples=270, steps_per_epoch=9, replicas=1)]
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert result.metrics["val_loss"] == result.history["val_loss"][-1]
    assert 0.0 <= result.metrics["test_accuracy"] <= 1.0
    assert sum(map(sum, result.confusion)) == 1000  # the sample's whole test set
    assert result.samples_trained == 270 and result.samples_per_second > 0


def test_a_stopped_fit_counts_its_samples_to_the_last_batch():
    stop = _StopAfter(step=2)
    result = fit_run(SMALL.replace(epochs=3), callbacks=[stop])
    assert result.samples_trained == (stop.stopped_at + 1) * 32 < 270
    assert len(result.history["loss"]) == 1 and "test_loss" in result.metrics


def test_a_model_continues_from_its_epoch_on_other_data():
    first = fit_run(SMALL)
    data = prepare(SMALL.data, "mlp", seed=0)
    few = dataclasses.replace(data, x_train=data.x_train[:64], y_train=data.y_train[:64])
    epochs = _Epochs()
    second = fit_run(SMALL.replace(epochs=2), model=first.model, initial_epoch=1, data=few, callbacks=[epochs])
    assert second.model is first.model
    assert epochs.seen == [1, 2]  # numbered on from the first fit
    assert second.train_samples == 64 and second.samples_trained == 2 * 64
    assert len(second.history["loss"]) == 2


def test_an_autoencoder_fit_reports_test_mse_and_no_confusion():
    config = RunConfig.from_flat(arch="autoencoder", encoder_units=(16,), latent_dim=2, train_subset=200, epochs=1)
    result = fit_run(config)
    assert "test_mse" in result.metrics and "test_accuracy" not in result.metrics
    assert result.confusion is None


def test_a_fit_reports_the_policy_its_precision_resolved_to():
    assert fit_run(SMALL.replace(precision="float32")).policy == "float32"
    assert fit_run(SMALL.replace(precision="mixed_bfloat16")).policy == "mixed_bfloat16"


def test_a_nan_loss_under_reduced_precision_fails_the_fit_with_a_sentence():
    import numpy as np
    import pytest

    from dlapp.precision import LossNotFinite

    config = RunConfig.from_flat(arch="autoencoder", encoder_units=(8,), reconstruction_loss="mse", epochs=3)
    data = prepare(config.data, "autoencoder", seed=0)
    every_other = (np.arange(len(data.x_train)) % 2 == 1)[:, None, None]
    poisoned = dataclasses.replace(data, x_train=np.where(every_other, np.float32(np.nan), data.x_train))
    with pytest.raises(LossNotFinite, match="set precision to float32"):
        fit_run(config.replace(precision="mixed_bfloat16"), data=poisoned)


def test_the_same_seed_gives_the_same_curve_through_the_tf_data_input():
    assert fit_run(SMALL).history == fit_run(SMALL).history


def test_a_fit_with_pen_digits_trains_on_them_too():
    starts = []
    result = fit_run(SMALL.replace(pen_digits=2000), on_fit_start=starts.append)
    assert starts[0].train_samples == 270 + round(300 / 4000 * 2000)
    assert result.samples_trained == starts[0].train_samples


def test_a_cosine_fit_lowers_its_learning_rate_to_0_by_its_last_batch():
    result = fit_run(SMALL.replace(lr_schedule="cosine", epochs=2))
    assert int(result.model.optimizer.iterations) == 2 * 9  # 270 images in batches of 32, twice
    assert float(result.model.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)
