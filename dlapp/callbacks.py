"""The one Keras callback dlapp trains with: it turns `logs` into plain dicts for an owner.

No UI and no file I/O here; the owner (a `TrainingJob`) decides what to do with each event.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import keras
import numpy as np


class EventOwner(Protocol):
    stop_requested: bool

    def on_batch(self, data: dict) -> None: ...

    def on_epoch(self, data: dict) -> None: ...


class EventCallback(keras.callbacks.Callback):
    """Forwards batch logs (at most ~`1 / min_interval` per second, always the last batch of an
    epoch) and every epoch's logs; sets `model.stop_training` within one batch of a stop request.

    Async-safe: Keras then runs the batch hook on a worker thread and does not wait for each
    step's loss before launching the next step. Waiting cost the default MLP and autoencoder
    11-16% of their samples per CPU second against a bare fit (2-vCPU Xeon, 3 epochs of the
    sample). Keras finishes every batch hook before an epoch's end, so a batch event never
    follows its epoch's event; the lock and the step check keep batch events in order when two
    hooks overlap.
    """

    async_safe = True

    def __init__(self, owner: EventOwner, min_interval: float = 0.1):
        super().__init__()
        self.owner = owner
        self.min_interval = min_interval
        self.epoch = 0  # the epoch being trained, 0-based
        self.step = -1  # the last finished step of that epoch, 0-based
        self._last_forwarded = float("-inf")
        self._lock = threading.Lock()

    def stop_now(self) -> None:
        """From any thread: the fit loop reads `model.stop_training` after every step, on its own thread.

        The batch-begin hook also checks the owner's flag, but only before the next call into
        TensorFlow, which then runs in full (up to `STEPS_PER_EXECUTION` batches) before the loop
        looks; this ends the loop after the call that is running.
        """
        if self.model is not None:
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.step = epoch, -1

    def on_train_batch_begin(self, batch, logs=None):
        # On the training thread, before each step: a stop lands after the step that is running.
        self._stop_if_asked()

    def on_train_batch_end(self, batch, logs=None):
        steps = self.params.get("steps")
        if steps:
            # With steps_per_execution > 1 Keras names the last batch of a call, which runs past the
            # epoch's end when the epoch's steps are not a multiple of it.
            batch = min(batch, steps - 1)
        logs = _floats(logs or {})  # outside the lock: this waits for the step to finish
        with self._lock:
            if batch <= self.step:
                return  # a later step's hook ran first; this one is stale
            self.step = batch
            now = time.monotonic()
            if batch + 1 == steps or now - self._last_forwarded >= self.min_interval:
                self._last_forwarded = now
                self.owner.on_batch({"epoch": self.epoch, "step": batch, "steps": steps, **logs})
        self._stop_if_asked()

    def _stop_if_asked(self) -> None:
        if self.owner.stop_requested:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.owner.on_epoch({"epoch": epoch, **_floats(logs)})


def _floats(logs: dict) -> dict[str, float]:
    # Keras hands callbacks Python floats already; float() makes sure nothing holds a tensor.
    return {name: float(value) for name, value in logs.items()}


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """`keras.callbacks.TensorBoard` writing once per epoch, and nothing per batch.

    The stock callback calls `tf.summary.scalar` for every batch even with update_freq="epoch",
    where no writer records them: about 0.5 ms a batch, a tenth of a small model's step time.
    """

    # Its batch hook only writes the graph once; Keras need not wait for each step (see EventCallback).
    async_safe = True

    def __init__(self, log_dir: str):
        super().__init__(log_dir=log_dir, update_freq="epoch", profile_batch=0)

    def on_train_batch_end(self, batch, logs=None):
        # What the stock hook does besides the unrecorded scalars: write the graph after the first batch.
        if getattr(self, "_should_write_train_graph", False):
            self._write_keras_model_train_graph()
            self._should_write_train_graph = False

    def on_layers(self, epoch: int, layers: dict[str, dict]) -> None:
        """Per-layer statistics from `dlapp.instruments`: gradient and weight norms as scalars, weight histograms.

        The histograms are the probe's own counts, written as TensorBoard's histogram tensor:
        `summary.histogram` counted the weights again through a traced TensorFlow function,
        0.1 s a 3-layer MLP's epoch, a tenth of its 3-epoch run.
        """
        with self._train_writer.as_default():
            for name, stats in layers.items():
                for key in ("grad_norm", "weight_norm"):
                    if stats[key] is not None:
                        self.summary.scalar(f"{key}/{name}", stats[key], step=epoch)
                buckets = histogram_buckets(stats["hist"])
                if buckets is not None:
                    self.summary.write(f"weights/{name}", buckets, step=epoch, metadata=_histogram_metadata())


def histogram_buckets(hist: dict) -> np.ndarray | None:
    """TensorBoard's histogram tensor, rows of (left edge, right edge, count); None without counts."""
    if not hist["counts"]:
        return None
    edges = np.asarray(hist["edges"], np.float64)
    return np.stack([edges[:-1], edges[1:], np.asarray(hist["counts"], np.float64)], axis=1)


def _histogram_metadata():
    from tensorboard.plugins.histogram import metadata  # only where the TensorBoard log is written

    return metadata.create_summary_metadata(display_name=None, description=None)
