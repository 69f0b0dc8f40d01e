"""Checkpoints: while a run trains, its model (with the optimizer state) is written every so often,
so a crash keeps the minutes already trained and the run can be continued.

A checkpoint is the run's ordinary `.keras` file: the same file Draw, Evaluate and the downloads
use. It also holds a small `dlapp-checkpoint.json` saying which epoch it is from, so the file
describes itself even when the process died between writing it and recording it anywhere else.
Importing this module does not import TensorFlow; the callback class is built on first use.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

INTERVAL_ENV = "DLAPP_CHECKPOINT_SECONDS"
DEFAULT_INTERVAL = 10.0  # seconds; a checkpoint of a bench model takes 0.05-0.3 s
MAX_SHARE = 0.02  # of training time a checkpoint may cost: a slow write stretches the interval to stay under it
INFO_NAME = "dlapp-checkpoint.json"  # Keras ignores entries of the archive it does not know
TEMP_PREFIX = ".tmp-"  # .tmp-<final stem>-<pid>.keras while a file is being written


@dataclass(frozen=True)
class CheckpointInfo:
    epochs_trained: int  # whole or stopped epochs the weights have seen: "model from epoch 4"
    epochs_planned: int  # the run's planned epochs when it was written: "... of 30"


def checkpoint_interval() -> float:
    """Seconds between checkpoints: $DLAPP_CHECKPOINT_SECONDS, else 10."""
    raw = os.environ.get(INTERVAL_ENV, "").strip()
    if not raw:
        return DEFAULT_INTERVAL
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{INTERVAL_ENV} must be a number of seconds, 0 or more; got {raw!r}.")
    return seconds


def temp_name(final: Path) -> Path:
    """Where `final` is written before it is renamed into place: same folder, so the rename is atomic."""
    return final.with_name(f"{TEMP_PREFIX}{final.stem}-{os.getpid()}{final.suffix}")


def write_model_file(model: Any, final: str | Path, info: CheckpointInfo | None = None) -> Path:
    """Write `model` to `final` so that `final` is always either the old file or the whole new one.

    Saved to a temporary name in the same folder, flushed to the disk, then renamed over the
    old file; any failure removes the temporary file, leaves `final` as it was and re-raises.
    """
    final = Path(final)
    temp = temp_name(final)
    try:
        model.save(temp)  # the optimizer state is included: model.compile() set it
        if info is not None:
            with zipfile.ZipFile(temp, "a") as archive:
                archive.writestr(INFO_NAME, json.dumps(info.__dict__))
        _fsync(temp)
        os.replace(temp, final)
        _fsync(final.parent)  # the rename itself survives a power cut
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return final


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_checkpoint_info(path: str | Path | None) -> CheckpointInfo | None:
    """Which epoch a model file is from; None for a missing or unreadable file, or one saved at the end
    of a run by an older dlapp (or imported), which says nothing about its epoch."""
    if not path:
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            raw = json.loads(archive.read(INFO_NAME))
        return CheckpointInfo(int(raw["epochs_trained"]), int(raw["epochs_planned"]))
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile):
        return None


def speed_up_keras_saving() -> None:
    """Fill the cache Keras 3.x means to keep of which attributes saving skips (in this thread).

    `saving_lib.get_attr_skipset` reads the key "saving_attr_skiplist_<type>" but stores
    "saving_attr_skipset_<type>", so every save builds reference objects anew: about half of
    a checkpoint's time. Keras's global state is thread-local, hence per training thread.
    Only speed depends on it; if a Keras release moves these internals, saving just stays slower.
    """
    try:
        from keras.src.backend.common import global_state
        from keras.src.saving import saving_lib

        for kind in ("Operation", "Layer", "Functional", "Sequential", "Metric", "Optimizer", "Loss"):
            key = f"saving_attr_skiplist_{kind}"
            if global_state.get_global_attribute(key) is None:
                global_state.set_global_attribute(key, saving_lib.get_attr_skipset(kind))
    except Exception:
        pass


class CheckpointOwner(Protocol):
    def on_checkpoint(self, info: CheckpointInfo) -> None: ...

    def on_checkpoint_failed(self, message: str) -> None: ...


def failure_sentence(exc: BaseException) -> str:
    """One sentence for a checkpoint that could not be written; training goes on regardless."""
    from dlapp.errors import DlappError

    text = " ".join(str(exc).split())
    if isinstance(exc, DlappError):  # already a sentence saying what to do (the store's "free some space")
        return f"{text.rstrip('.')}; the previous checkpoint is kept and training goes on."
    reason = getattr(exc, "strerror", None) or text or type(exc).__name__
    return f"A checkpoint could not be written ({reason}); the previous one is kept and training goes on."


def checkpoint_callback(
    save: Callable[[Any, CheckpointInfo], Any],
    owner: CheckpointOwner | None = None,
    *,
    epochs_planned: int,
    min_interval: float | None = None,
):
    """A Keras callback that calls `save(model, info)` at the end of an epoch when `min_interval`
    seconds (default: `checkpoint_interval()`) have passed since the last checkpoint (or since
    training began), and always once training ends (finished, stopped or stopped early).

    A write that takes long (a big model, a busy disk) stretches the wait before the next one,
    so checkpoints cost at most `MAX_SHARE` of the time; `min_interval=0` means every epoch.

    Put it after every callback that changes the weights at the end (EarlyStopping's restore).
    """
    import keras

    class CheckpointCallback(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.min_interval = checkpoint_interval() if min_interval is None else min_interval
            self.saved: CheckpointInfo | None = None  # the last checkpoint written
            self.failing = False  # the last write failed; the owner has been told once
            self._last_write = time.monotonic()
            self._wait = self.min_interval  # seconds from the last checkpoint to the next
            self._epochs_trained = 0

        def on_train_begin(self, logs=None):
            speed_up_keras_saving()
            self._last_write = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            self._epochs_trained = epoch + 1
            last = self.model.stop_training or epoch + 1 == self.params.get("epochs")
            # The last epoch is written by on_train_end, after EarlyStopping has restored its best weights.
            if not last and time.monotonic() - self._last_write >= self._wait:
                self._write()

        def on_train_end(self, logs=None):
            if self._epochs_trained:
                self._write()

        def _write(self) -> None:
            info = CheckpointInfo(self._epochs_trained, epochs_planned)
            began = time.monotonic()
            try:
                save(self.model, info)
            except Exception as exc:  # a full or read-only disk must not end the training
                if not self.failing and owner is not None:
                    owner.on_checkpoint_failed(failure_sentence(exc))
                self.failing, self._last_write = True, time.monotonic()  # retry after an interval, not every epoch
                return
            self.failing, self.saved, self._last_write = False, info, time.monotonic()
            if self.min_interval > 0:  # took d seconds: wait d * 49 more, and d is 2% of the whole
                self._wait = max(self.min_interval, (self._last_write - began) * (1 / MAX_SHARE - 1))
            if owner is not None:
                owner.on_checkpoint(info)

    return CheckpointCallback()
