"""Training jobs: `model.fit` in a background thread, with an event buffer, a stop flag,
the seed, and a per-process limit on how many jobs train at once.

The thread never calls Streamlit. It appends `Event`s to a list (a list append is atomic
in CPython, so readers need no lock) and writes every finished epoch to the store. A page
polls `events_since(i)` and `progress()`; a second tab finds the job with `get_job(run_id)`.
TensorFlow is imported inside the thread, so importing this module stays cheap.
"""

from __future__ import annotations

import importlib.util
import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from dlapp.config import RunConfig
from dlapp.errors import DlappError
from dlapp.store import RunStore

MAX_JOBS_ENV = "DLAPP_MAX_JOBS"
KEEP_FINISHED_JOBS = 50  # finished jobs kept in the registry, so a page can still attach to them
END_KINDS = ("finished", "stopped", "failed")


@dataclass(frozen=True)
class Event:
    kind: str  # "batch" | "epoch" | "finished" | "stopped" | "failed"
    time: float  # time.time() when it happened
    data: dict


@dataclass(frozen=True)
class Progress:
    epoch: int  # the epoch being trained, 1-based (0 before the first batch)
    epochs: int
    step: int  # steps finished in that epoch
    steps_per_epoch: int | None  # None until the data is prepared
    fraction: float  # of all planned training samples, in [0, 1]
    samples_per_second: float | None
    eta_seconds: float | None  # None until a batch has been timed


def max_jobs() -> int:
    """How many jobs may train at once in this process: $DLAPP_MAX_JOBS, else half the cores (at least 1)."""
    raw = os.environ.get(MAX_JOBS_ENV, "").strip()
    if not raw:
        return max(1, (os.cpu_count() or 1) // 2)
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MAX_JOBS_ENV} must be a whole number of at least 1; got {raw!r}.")
    return int(raw)


_threads_lock = threading.Lock()
_threads_configured = False


def configure_threads() -> None:
    """Share the cores between concurrent jobs; only possible before TensorFlow initialises."""
    global _threads_configured
    with _threads_lock:
        if _threads_configured:
            return
        _threads_configured = True
        import tensorflow as tf

        intra = max(1, (os.cpu_count() or 1) // max_jobs())
        try:
            tf.config.threading.set_intra_op_parallelism_threads(intra)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, intra))
        except RuntimeError:
            pass  # TensorFlow already ran something in this process; its own defaults stay


class _Scheduler:
    """FIFO queue in front of at most `max_jobs()` running jobs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: list[TrainingJob] = []
        self._queue: deque[TrainingJob] = deque()

    def submit(self, job: TrainingJob) -> None:
        with self._lock:
            self._queue.append(job)
            ready = self._take_ready()
        for next_job in ready:
            next_job._launch()

    def done(self, job: TrainingJob) -> None:
        with self._lock:
            if job in self._running:
                self._running.remove(job)
            ready = self._take_ready()
        for next_job in ready:
            next_job._launch()

    def cancel(self, job: TrainingJob) -> bool:
        """Take a job out of the queue; False when it is already running."""
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)
                return True
            return False

    def position(self, job: TrainingJob) -> int | None:
        with self._lock:
            return self._queue.index(job) + 1 if job in self._queue else None

    def _take_ready(self) -> list[TrainingJob]:
        ready = []
        while self._queue and len(self._running) < max_jobs():
            ready.append(self._queue.popleft())
            self._running.append(ready[-1])
        return ready


_scheduler = _Scheduler()
_registry: dict[int, TrainingJob] = {}
_registry_lock = threading.Lock()


def get_job(run_id: int) -> TrainingJob | None:
    """The job of this process training (or having trained) run `run_id`, if any."""
    with _registry_lock:
        return _registry.get(int(run_id))


def _register(job: TrainingJob) -> None:
    with _registry_lock:
        _registry[job.run_id] = job
        finished = [run_id for run_id, j in _registry.items() if j.done]
        for run_id in finished[: max(0, len(finished) - KEEP_FINISHED_JOBS)]:
            del _registry[run_id]


class TrainingJob:
    batch_event_interval = 0.1  # seconds between batch events (~10/s); the last batch of an epoch always gets one

    def __init__(self, config: RunConfig, store: RunStore | None = None, name: str | None = None):
        self.config = config.validate()
        self.store = store if store is not None else RunStore()
        self.run_id = self.store.create_run(config, name)
        self.stop_requested = False  # read by EventCallback after every batch
        self.history: dict[str, list[float]] | None = None  # Keras History.history once fit returns
        self.replicas: int | None = None  # devices the strategy trains on
        self.started_at: float | None = None  # time.time() when the thread started training
        self.ended_at: float | None = None
        self._events: list[Event] = []
        self._status = "queued"
        self._error: str | None = None
        self._summary: dict | None = None
        self._submitted = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._fit_started: float | None = None  # time.time() just before model.fit
        self._latest_batch: dict | None = None
        self._train_samples = 0
        self._steps_per_epoch: int | None = None
        _register(self)

    # -- the page's side -------------------------------------------------------------------

    def start(self) -> TrainingJob:
        """Queue the job; it trains as soon as fewer than `max_jobs()` jobs are running."""
        if not self._submitted and not self.done:
            self._submitted = True
            _scheduler.submit(self)
        return self

    def stop(self) -> None:
        """Ask the job to stop; a running fit ends after the current batch and keeps its model."""
        self.stop_requested = True
        if _scheduler.cancel(self) or (not self._submitted and not self.done):
            self._submitted = True
            self._end("stopped", metrics={}, seconds=0.0, samples_per_second=0.0)
            self._done.set()

    def wait(self, timeout: float | None = None) -> str:
        """Block until the job ends (or `timeout` seconds pass); returns the status."""
        self._done.wait(timeout)
        return self._status

    @property
    def status(self) -> str:
        return self._status

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def error(self) -> str | None:
        return self._error

    @property
    def summary(self) -> dict | None:
        return self._summary

    @property
    def queue_position(self) -> int | None:
        """1 when this job trains next; None when it is not waiting."""
        return _scheduler.position(self)

    @property
    def num_events(self) -> int:
        return len(self._events)

    def events_since(self, index: int) -> list[Event]:
        return self._events[index:]

    def progress(self) -> Progress:
        epochs = self.config.train.epochs
        latest, started = self._latest_batch, self._fit_started
        if latest is None or started is None:
            fraction = 1.0 if self._status == "finished" else 0.0
            return Progress(0, epochs, 0, self._steps_per_epoch, fraction, None, None)
        total = epochs * self._train_samples
        seen = latest["samples_seen"]
        elapsed = latest["time"] - started
        speed = seen / elapsed if elapsed > 0 else None
        finished = self._status == "finished"
        eta = 0.0 if self.done else (max(0.0, total - seen) / speed if speed else None)
        return Progress(
            epoch=latest["epoch"] + 1,
            epochs=epochs,
            step=latest["step"] + 1,
            steps_per_epoch=latest["steps"],
            fraction=1.0 if finished else min(1.0, seen / total) if total else 0.0,
            samples_per_second=speed,
            eta_seconds=eta,
        )

    # -- EventCallback's side (training thread) ----------------------------------------------

    def on_batch(self, data: dict) -> None:
        data["samples_seen"] = self._samples_seen(data["epoch"], data["step"])
        event = Event("batch", time.time(), data)
        self._events.append(event)
        self._latest_batch = {**data, "time": event.time}

    def on_epoch(self, data: dict) -> None:
        # The store first: when a page sees the event, the epoch is already saved.
        self.store.add_epoch(self.run_id, data["epoch"], data)
        self._events.append(Event("epoch", time.time(), data))

    def _samples_seen(self, epoch: int, step: int) -> int:
        batch_size = self.config.train.batch_size
        return epoch * self._train_samples + min((step + 1) * batch_size, self._train_samples)

    # -- the training thread -----------------------------------------------------------------

    def _launch(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"dlapp-run-{self.run_id}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.started_at = time.time()
        began = time.perf_counter()
        try:
            self._status = "running"
            self.store.set_status(self.run_id, "running")
            self._train(began)
        except Exception as exc:
            error = _one_line(exc)
            self._end("failed", metrics={}, seconds=time.perf_counter() - began, samples_per_second=0.0, error=error)
        finally:
            self.ended_at = time.time()
            _scheduler.done(self)
            self._done.set()

    def _train(self, began: float) -> None:
        import keras

        from dlapp.callbacks import EventCallback
        from dlapp.data import prepare
        from dlapp.distribute import pick_strategy
        from dlapp.models import build_compiled

        configure_threads()
        train = self.config.train
        keras.utils.set_random_seed(train.seed)  # thread-local in Keras 3, hence here
        data = prepare(self.config.data, self.config.model.arch, seed=train.seed)
        autoencoder = not self.config.is_classifier
        y_train, y_val, y_test = (
            (data.x_train, data.x_val, data.x_test) if autoencoder else (data.y_train, data.y_val, data.y_test)
        )
        self._train_samples = len(data.x_train)
        self._steps_per_epoch = math.ceil(len(data.x_train) / train.batch_size)

        strategy = pick_strategy()
        self.replicas = strategy.num_replicas_in_sync
        with strategy.scope():
            model = build_compiled(self.config)
        validation = (data.x_val, y_val) if len(data.x_val) else None
        events = EventCallback(self, min_interval=self.batch_event_interval)
        callbacks = [events, *self._extra_callbacks(has_validation=validation is not None)]

        self._fit_started = time.time()
        fit_began = time.perf_counter()
        history = model.fit(
            data.x_train,
            y_train,
            batch_size=train.batch_size,
            epochs=train.epochs,
            validation_data=validation,
            callbacks=callbacks,
            verbose=0,
        )
        fit_seconds = time.perf_counter() - fit_began
        self.history = {name: [float(v) for v in values] for name, values in history.history.items()}
        samples = self._samples_seen(events.epoch, events.step) if events.step >= 0 else 0

        metrics, confusion = self._test(model, data.x_test, y_test, autoencoder)
        last_epoch = {name: values[-1] for name, values in self.history.items() if values}
        self.store.save_model(self.run_id, model)
        self._end(
            "stopped" if self.stop_requested else "finished",
            metrics={**last_epoch, **metrics},
            seconds=time.perf_counter() - began,
            samples_per_second=samples / fit_seconds if fit_seconds > 0 else 0.0,
            confusion=confusion,
        )

    def _extra_callbacks(self, has_validation: bool) -> list[Any]:
        """TensorBoard logs per epoch, and early stopping when the config asks for it."""
        import keras

        from dlapp.callbacks import EpochTensorBoard

        callbacks: list[Any] = []
        if _tensorboard_installed():
            callbacks.append(EpochTensorBoard(str(self.store.tensorboard_dir(self.run_id))))
        patience = self.config.train.early_stopping
        if patience > 0:
            monitor = "val_loss" if has_validation else "loss"
            callbacks.append(keras.callbacks.EarlyStopping(monitor, patience=patience, restore_best_weights=True))
        return callbacks

    def _test(self, model, x_test, y_test, autoencoder: bool) -> tuple[dict[str, float], list[list[int]] | None]:
        from dlapp.evaluation import confusion_matrix, predict

        batch_size = self.config.train.batch_size
        scores = model.evaluate(x_test, y_test, batch_size=batch_size, verbose=0, return_dict=True)
        if autoencoder:
            return {"test_loss": float(scores["loss"]), "test_mse": float(scores["mse"])}, None
        predictions = predict(model, x_test).argmax(axis=1)
        confusion = confusion_matrix(y_test, predictions).tolist()
        return {"test_loss": float(scores["loss"]), "test_accuracy": float(scores["accuracy"])}, confusion

    def _end(
        self,
        status: str,
        *,
        metrics: dict,
        seconds: float,
        samples_per_second: float,
        confusion: list[list[int]] | None = None,
        error: str | None = None,
    ) -> None:
        """Record the outcome in the store, then publish it: summary, status, end event."""
        try:
            self.store.finish_run(
                self.run_id,
                status,
                metrics=metrics,
                seconds=seconds,
                samples_per_second=samples_per_second,
                confusion=confusion,
                error=error,
            )
        except Exception as exc:  # the store itself broke (disk full...): the job still ends, and says why
            status, error = "failed", error or _one_line(exc)
            _record_when_possible(self.store, self.run_id, error, seconds)
        try:
            run = self.store.run(self.run_id)
            model_path, epochs_completed = run.model_path, run.epochs_completed
        except Exception:
            model_path, epochs_completed = None, sum(1 for e in self._events if e.kind == "epoch")
        summary: dict[str, Any] = {
            "run_id": self.run_id,
            "status": status,
            "epochs_completed": epochs_completed,
            **{k: metrics[k] for k in ("test_loss", "test_accuracy", "test_mse") if k in metrics},
            "model_path": model_path,
            "seconds": round(seconds, 3),
            "samples_per_second": round(samples_per_second, 1),
        }
        self._error, self._summary, self._status = error, summary, status
        self._events.append(Event(status, time.time(), {"summary": summary, "error": error}))


RECORD_RETRY_SECONDS = 2.0
RECORD_RETRY_FOR = 3600.0


def _record_when_possible(store: RunStore, run_id: int, error: str, seconds: float) -> None:
    """Mark the run failed as soon as the store takes writes again (space freed, folder writable).

    Until then its row still says "running" while this process lives, and the pages treat the
    run as training: the Train button would stay disabled until the server restarts.
    """

    def retry() -> None:
        deadline = time.monotonic() + RECORD_RETRY_FOR
        while time.monotonic() < deadline:
            time.sleep(RECORD_RETRY_SECONDS)
            try:
                store.finish_run(run_id, "failed", metrics={}, seconds=seconds, samples_per_second=0.0, error=error)
                return
            except Exception:
                continue

    threading.Thread(target=retry, name=f"dlapp-record-{run_id}", daemon=True).start()


def _tensorboard_installed() -> bool:
    """TensorFlow no longer pulls in the `tensorboard` package; without it the logs are skipped, not the run."""
    return importlib.util.find_spec("tensorboard") is not None


def _one_line(exc: BaseException) -> str:
    """The error as one line a person can read: type and message, newlines folded, length capped.

    dlapp's own errors are already a sentence for a person, so they go without their type name.
    """
    text = " ".join(str(exc).split()) or "no detail"
    return (text if isinstance(exc, DlappError) else f"{type(exc).__name__}: {text}")[:500]
