"""Checkpoints: atomic model files that say their epoch, written on time, surviving a full or read-only disk."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import keras
import numpy as np
import pytest
from test_faults import fill, remount, tmpfs

from dlapp.checkpoints import (
    CheckpointInfo,
    checkpoint_callback,
    checkpoint_interval,
    read_checkpoint_info,
    temp_name,
    write_model_file,
)
from dlapp.config import RunConfig
from dlapp.data import prepare
from dlapp.modelfile import load_model_file
from dlapp.models import STEPS_PER_EXECUTION, build_compiled

TINY = RunConfig.from_flat(arch="mlp", hidden_units=(16,), train_subset=300, batch_size=64)


class Owner:
    """Keeps what the callback forwards, as a job would."""

    def __init__(self, after_first=None):
        self.saved: list[CheckpointInfo] = []
        self.failures: list[str] = []
        self.after_first = after_first  # runs once, right after the first checkpoint is on disk

    def on_checkpoint(self, info: CheckpointInfo) -> None:
        self.saved.append(info)
        if len(self.saved) == 1 and self.after_first:
            self.after_first()

    def on_checkpoint_failed(self, message: str) -> None:
        self.failures.append(message)


class StopAfter(keras.callbacks.Callback):
    def __init__(self, epoch: int, batch: int):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            self.model.stop_training = True


def fit_with_checkpoints(
    path: Path, epochs: int, min_interval: float, owner=None, extra=(), batch_size: int = 64
) -> keras.Model:
    keras.utils.set_random_seed(1)
    data = prepare(TINY.data, "mlp", seed=1)
    model = build_compiled(TINY)
    callback = checkpoint_callback(
        lambda m, info: write_model_file(m, path, info), owner, epochs_planned=epochs, min_interval=min_interval
    )
    model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=batch_size, callbacks=[*extra, callback], verbose=0)
    return model


def assert_same_weights(a: keras.Model, b: keras.Model) -> None:
    for left, right in zip(a.weights, b.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(left), np.asarray(right))


def test_a_written_model_file_loads_with_its_optimizer_and_says_its_epoch(tmp_path):
    model = fit_with_checkpoints(tmp_path / "run-1.keras", epochs=2, min_interval=3600)
    path = write_model_file(model, tmp_path / "run-1.keras", CheckpointInfo(2, 30))
    assert read_checkpoint_info(path) == CheckpointInfo(2, 30)
    loaded = load_model_file(path, with_optimizer=True)
    assert_same_weights(model, loaded)
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 2 * 5  # 270 images, batch 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-1.keras"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    model = fit_with_checkpoints(tmp_path / "run-1.keras", epochs=1, min_interval=3600)
    before = (tmp_path / "run-1.keras").read_bytes()

    class Broken:
        def save(self, path):
            Path(path).write_bytes(b"half a model")
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        write_model_file(Broken(), tmp_path / "run-1.keras", CheckpointInfo(5, 5))
    assert (tmp_path / "run-1.keras").read_bytes() == before
    assert not temp_name(tmp_path / "run-1.keras").exists()
    assert read_checkpoint_info(tmp_path / "run-1.keras") == CheckpointInfo(1, 1)
    assert model is not None


def test_checkpoints_wait_for_the_interval_and_always_come_at_the_end(tmp_path):
    often, rarely = Owner(), Owner()
    fit_with_checkpoints(tmp_path / "often.keras", epochs=3, min_interval=0, owner=often)
    fit_with_checkpoints(tmp_path / "rarely.keras", epochs=3, min_interval=3600, owner=rarely)
    assert [i.epochs_trained for i in often.saved] == [1, 2, 3]
    assert [i.epochs_trained for i in rarely.saved] == [3]  # never due: only the end
    assert read_checkpoint_info(tmp_path / "rarely.keras") == CheckpointInfo(3, 3)
    assert often.failures == rarely.failures == []


def test_a_stop_mid_epoch_is_checkpointed_with_that_epoch(tmp_path):
    # Callbacks see the last batch of each call into TensorFlow (STEPS_PER_EXECUTION batches), so
    # the stop lands after the third epoch's first call: 270 images at batch 16 are 17 batches an epoch.
    per_call = STEPS_PER_EXECUTION["mlp"]
    owner, stop = Owner(), StopAfter(2, per_call - 1)
    model = fit_with_checkpoints(
        tmp_path / "stop.keras", 10, min_interval=3600, owner=owner, extra=[stop], batch_size=16
    )
    assert [i.epochs_trained for i in owner.saved] == [3]  # epochs 1, 2 and the stopped third
    assert read_checkpoint_info(tmp_path / "stop.keras") == CheckpointInfo(3, 10)
    assert int(load_model_file(tmp_path / "stop.keras", with_optimizer=True).optimizer.iterations) == 2 * 17 + per_call
    assert int(model.optimizer.iterations) == 2 * 17 + per_call


def test_the_checkpoint_comes_after_early_stopping_restored_the_best_weights(tmp_path):
    early = keras.callbacks.EarlyStopping("loss", patience=0, min_delta=10.0, restore_best_weights=True)
    model = fit_with_checkpoints(tmp_path / "early.keras", epochs=5, min_interval=3600, extra=[early])
    assert early.stopped_epoch == 1  # no epoch beats the first by 10, so it stops after the second
    assert_same_weights(model, load_model_file(tmp_path / "early.keras"))  # the restored first-epoch weights


def test_the_interval_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("DLAPP_CHECKPOINT_SECONDS", raising=False)
    assert checkpoint_interval() == 10.0
    monkeypatch.setenv("DLAPP_CHECKPOINT_SECONDS", "2.5")
    assert checkpoint_interval() == 2.5
    for bad in ("soon", "-1", "inf"):
        monkeypatch.setenv("DLAPP_CHECKPOINT_SECONDS", bad)
        with pytest.raises(ValueError, match=f"must be a number of seconds, 0 or more; got '{bad}'"):
            checkpoint_interval()


# --- real faults: a tmpfs that fills up or turns read-only after the first checkpoint ----------------


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_checkpoint_that_cannot_be_written_keeps_the_previous_one_says_so_once_and_training_goes_on(tmp_path, fault):
    with tmpfs(tmp_path / "mnt", "2m") as mnt:
        path = mnt / "run-1.keras"
        filler: list[Path] = []

        def break_the_disk() -> None:
            if fault == "full":
                filler.append(fill(mnt))
            else:
                remount(mnt, "ro")

        owner = Owner(after_first=break_the_disk)
        try:
            model = fit_with_checkpoints(path, epochs=4, min_interval=0, owner=owner)
            kept = read_checkpoint_info(path)
            loaded = load_model_file(path, with_optimizer=True)
            left = sorted(p.name for p in mnt.iterdir())
        finally:
            if fault == "read-only":
                subprocess.run(["mount", "-o", "remount,rw", str(mnt)], capture_output=True)
        assert int(model.optimizer.iterations) == 4 * 5  # all four epochs trained
        assert [i.epochs_trained for i in owner.saved] == [1]
        assert kept == CheckpointInfo(1, 4)  # the previous checkpoint, whole
        assert int(loaded.optimizer.iterations) == 5
        assert left == sorted(["run-1.keras", *(f.name for f in filler)])  # no temporary file
        reason = "No space left on device" if fault == "full" else "Read-only file system"
        assert owner.failures == [
            f"A checkpoint could not be written ({reason}); the previous one is kept and training goes on."
        ]


def test_saving_reuses_its_skip_lists_once_primed_in_the_training_thread():
    from keras.src.saving import saving_lib

    from dlapp.checkpoints import speed_up_keras_saving

    speed_up_keras_saving()
    assert saving_lib.get_attr_skipset("Layer") is saving_lib.get_attr_skipset("Layer")  # cached, not rebuilt


def test_a_slow_write_stretches_the_interval_so_checkpoints_stay_under_two_percent(monkeypatch):
    from dlapp import checkpoints

    clock = [0.0]
    monkeypatch.setattr(checkpoints.time, "monotonic", lambda: clock[0])
    written: list[float] = []

    def slow_save(model, info):
        written.append(clock[0])
        clock[0] += 1.0  # each write takes a second

    callback = checkpoint_callback(slow_save, epochs_planned=100, min_interval=10)
    callback.set_model(build_compiled(TINY))
    callback.set_params({"epochs": 100})
    callback.on_train_begin()
    for epoch in range(60):
        clock[0] += 5.0  # an epoch takes five seconds
        callback.on_epoch_end(epoch)
    assert written[0] == 10.0  # the first after the 10 s interval
    gaps = [b - a for a, b in zip(written, written[1:], strict=False)]
    assert len(written) >= 3 and all(gap >= 50.0 for gap in gaps), written  # 1 s of writing per 50 s at most
    assert len(written) / clock[0] <= checkpoints.MAX_SHARE
