"""Training jobs: `dlapp.training.fit_run` in a background thread, with an event buffer, a stop
flag, and a per-process limit on how many jobs train at once. How a model is trained lives in
`training.py`; this module only schedules it, runs it in a thread and publishes what happens.

The thread never calls Streamlit. It appends `Event`s to an `EventBuffer` (readers need no
lock) and writes every finished epoch to the store. A page polls `events_since(i)` and
`progress()`; a second tab finds the job with `get_job(run_id)`. TensorFlow is imported
inside the thread, so importing this module stays cheap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dlapp.config import RunConfig
from dlapp.errors import one_line
from dlapp.events import Event, EventBuffer
from dlapp.job_types import FitPlan, Progress, summary_keys
from dlapp.scheduler import Scheduler, max_jobs
from dlapp.scheduler import configure_threads as _configure_threads
from dlapp.store import RunStore

if TYPE_CHECKING:
    from dlapp.checkpoints import CheckpointInfo
    from dlapp.resume import Continuation
    from dlapp.training import FitStart

KEEP_FINISHED_JOBS = 50  # finished jobs kept in the registry, so a page can still attach to them
END_KINDS = ("finished", "stopped", "failed")


def set_max_jobs(limit: int | None = None) -> int:
    """Set how many jobs may train at once in this process (None: read $DLAPP_MAX_JOBS again).

    The limit is otherwise read once, when the first job is queued. Waiting jobs start at once
    when the new limit allows; running ones are never stopped. Returns the limit now in force.
    """
    if limit is None:
        limit = max_jobs()
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"The job limit must be a whole number of at least 1; got {limit!r}.")
    _scheduler.set_limit(limit)
    return limit


def job_limit() -> int:
    """How many jobs may train at once in this process now."""
    return _scheduler.limit


def configure_threads() -> None:
    """Share the cores between the jobs that may train at once (before TensorFlow initialises)."""
    _configure_threads(job_limit())


_scheduler = Scheduler(launch=lambda job: job._launch())
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

    def __init__(
        self,
        config: RunConfig,
        store: RunStore | None = None,
        name: str | None = None,
        *,
        callbacks: Sequence[Any] = (),
        continuation: Continuation | None = None,
        plan: FitPlan | None = None,
        parent_run_id: int | None = None,
        instruments: bool = True,
        owner: str | None = None,
    ):
        """`callbacks`: Keras callbacks the fit gets besides the job's own (instruments, checkpoints...).

        `continuation`: train the stored run it names further, from its checkpoint, instead of a new run.
        `plan`: what to train instead of a new model on the config's dataset (a fine-tune); see `FitPlan`.
        `parent_run_id`: the run this one starts from, kept with the run.
        `instruments`: record per-layer gradient and weight statistics with every epoch.
        `owner`: who started it in shared mode (recorded in the store; the fair queue takes owners in turn).
        """
        from dlapp.precision import with_resolved_precision

        configure_threads()  # before the GPU check below starts TensorFlow
        # The store keeps the policy this run trains in ("auto" resolved here), so the run says what it used.
        self.config = with_resolved_precision(config.validate())
        self.callbacks = list(callbacks)
        self.plan = plan
        self.instruments = instruments
        self._layers: dict[int, dict] = {}  # epoch -> per-layer statistics, until the epoch's row is written
        self.store = store if store is not None else RunStore()
        self.continuation = continuation
        self.initial_epoch = continuation.initial_epoch if continuation else 0  # epochs trained before this job
        if continuation is None:
            self.run_id = self.store.create_run(self.config, name, parent_run_id=parent_run_id)
        else:
            self.run_id = continuation.run_id
            self.store.reopen_run(self.run_id, self.config, keep_epochs=self.initial_epoch)
        self.checkpoint: CheckpointInfo | None = None  # the last checkpoint written
        self.checkpoint_problem: str | None = None  # why a checkpoint could not be written (said once)
        self.owner = owner
        if owner is not None:
            self.store.owners.set("run", self.run_id, owner)
        self.stop_requested = False  # read by EventCallback after every batch
        self._stopper: Any = None  # the running fit's EventCallback, which can stop it at once
        self.history: dict[str, list[float]] | None = None  # Keras History.history once fit returns
        self.replicas: int | None = None  # devices the strategy trains on
        self.started_at: float | None = None  # time.time() when the thread started training
        self.ended_at: float | None = None
        self.samples_trained = 0  # over the whole fit, once it returns
        self._events = EventBuffer()
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
        """Queue the job; it trains as soon as fewer jobs than the limit (`set_max_jobs`) are running."""
        if not self._submitted and not self.done:
            self._submitted = True
            _scheduler.submit(self)
        return self

    def stop(self) -> None:
        """Ask the job to stop; a running fit ends after the current batch and keeps its model."""
        self.stop_requested = True
        if self._stopper is not None:
            self._stopper.stop_now()
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
        """Once the job ended: every key of `summary_keys`, None where there is no value."""
        return self._summary

    @property
    def queue_position(self) -> int | None:
        """1 when this job trains next; None when it is not waiting."""
        return _scheduler.position(self)

    @property
    def num_events(self) -> int:
        """Events so far, including batch events no longer kept: the index of the next event."""
        return len(self._events)

    def events_since(self, index: int) -> list[Event]:
        """Kept events from stream index `index` on; continue from `events[-1].index + 1`.

        Every epoch and end event is kept, batch events only for the latest few minutes
        (`dlapp.events.BATCH_WINDOW`)."""
        return self._events.since(index)

    def progress(self) -> Progress:
        epochs = self.config.train.epochs
        latest, started = self._latest_batch, self._fit_started
        if latest is None or started is None:
            fraction = 1.0 if self._status == "finished" else 0.0
            return Progress(0, epochs, 0, self._steps_per_epoch, fraction, None, None)
        before = self.initial_epoch * self._train_samples  # a continuation's earlier epochs
        total = epochs * self._train_samples - before  # what this job trains
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
            fraction=1.0 if finished else min(1.0, (before + seen) / (before + total)) if total > 0 else 0.0,
            samples_per_second=speed,
            eta_seconds=eta,
        )

    # -- EventCallback's side (training thread) ----------------------------------------------

    def on_batch(self, data: dict) -> None:
        data["samples_seen"] = self._samples_seen(data["epoch"], data["step"])
        event = self._events.append("batch", data)
        self._latest_batch = {**data, "time": event.time}

    def on_layers(self, epoch: int, layers: dict[str, dict]) -> None:
        # Recorded just before the epoch's logs arrive in on_epoch, which stores both in one row.
        self._layers[epoch] = layers

    def on_epoch(self, data: dict) -> None:
        layers = self._layers.pop(data["epoch"], None)
        # The store first: when a page sees the event, the epoch is already saved.
        self.store.add_epoch(self.run_id, data["epoch"], data, layers=layers)
        self._events.append("epoch", {**data, "layers": layers} if layers else data)

    def _samples_seen(self, epoch: int, step: int) -> int:
        """Images this job has trained, by the end of `step` of `epoch` (numbered across the whole run)."""
        batch_size = self.config.train.batch_size
        return (epoch - self.initial_epoch) * self._train_samples + min((step + 1) * batch_size, self._train_samples)

    # -- the checkpoint callback's side (training thread) --------------------------------------

    def on_checkpoint(self, info: CheckpointInfo) -> None:
        self.checkpoint = info

    def on_checkpoint_failed(self, message: str) -> None:
        self.checkpoint_problem = message

    def _save_checkpoint(self, model, info: CheckpointInfo) -> None:
        self.store.save_model(self.run_id, model, info)

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
            error = one_line(exc)
            self._end("failed", metrics={}, seconds=time.perf_counter() - began, samples_per_second=0.0, error=error)
        finally:
            self.ended_at = time.time()
            # They hold the model (a Keras callback keeps .model); a finished job keeps only its events.
            self._stopper, self.callbacks = None, []
            self._done.set()  # first: whatever the scheduler does next, wait() returns
            _scheduler.done(self)

    def _train(self, began: float) -> None:
        from dlapp.callbacks import EventCallback
        from dlapp.checkpoints import CheckpointInfo, checkpoint_callback
        from dlapp.training import fit_run

        configure_threads()
        events = EventCallback(self, min_interval=self.batch_event_interval)
        self._stopper = events
        epochs = self.config.train.epochs
        checkpoints = checkpoint_callback(self._save_checkpoint, self, epochs_planned=epochs)
        inputs = {"model": self._resumed_model(), "initial_epoch": self.initial_epoch}
        inputs.update(self.plan.prepare(self.config) if self.plan is not None else {})  # a fine-tune's model and data
        result = fit_run(
            self.config.replace(epochs=epochs - self.initial_epoch),  # fit_run counts the epochs still to train
            callbacks=[events, *self.callbacks],
            checkpoint=checkpoints,
            tensorboard_dir=self.store.tensorboard_dir(self.run_id),
            on_fit_start=self._fit_starting,
            **inputs,
            instruments=self if self.instruments else None,
        )
        self.history, self.samples_trained = result.history, result.samples_trained
        if checkpoints.failing or checkpoints.saved is None:  # the end's checkpoint is missing: say why, now
            trained = self.initial_epoch + len(next(iter(result.history.values()), []))
            self.store.save_model(self.run_id, result.model, CheckpointInfo(trained, epochs))
        extra = self.plan.finish(self.run_id, result) if self.plan is not None else {}
        self._end(
            "stopped" if self.stop_requested else "finished",
            metrics={**result.metrics, **extra},
            seconds=time.perf_counter() - began,
            samples_per_second=result.samples_per_second,
            confusion=result.confusion,
        )

    def _resumed_model(self):
        """A continuation's model from the run's checkpoint, built under the training strategy; else None."""
        if self.continuation is None:
            return None
        from dlapp.distribute import pick_strategy
        from dlapp.resume import load_checkpoint

        with pick_strategy().scope():
            return load_checkpoint(self.store.model_file(self.run_id), self.continuation.learning_rate)

    def _fit_starting(self, start: FitStart) -> None:
        self._train_samples, self._steps_per_epoch, self.replicas = (
            start.train_samples,
            start.steps_per_epoch,
            start.replicas,
        )
        self._fit_started = time.time()

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
            status, error = "failed", error or one_line(exc)
            _record_when_possible(self.store, self.run_id, error, seconds)
        try:
            run = self.store.run(self.run_id)
            model_path, epochs_completed = run.model_path, run.epochs_completed
        except Exception:
            model_path, epochs_completed = None, sum(1 for e in self._events.since(0) if e.kind == "epoch")
        values = {
            **metrics,
            "run_id": self.run_id,
            "status": status,
            "epochs_completed": epochs_completed,
            "model_path": model_path,
            "seconds": round(seconds, 3),
            "samples_per_second": round(samples_per_second, 1),
        }
        summary = {key: values.get(key) for key in summary_keys(self.config.is_classifier)}  # None: no value
        self._error, self._summary, self._status = error, summary, status
        self._events.append(status, {"summary": summary, "error": error})


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
