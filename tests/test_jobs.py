"""Training jobs: real Keras training on the bundled sample digits, in tmp_path stores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import keras
import pytest

from dlapp import events
from dlapp.callbacks import EventCallback
from dlapp.checkpoints import read_checkpoint_info
from dlapp.config import RunConfig
from dlapp.data import prepare
from dlapp.input_pipeline import USE_TF_DATA, training_input, validation_input
from dlapp.jobs import TrainingJob, get_job, job_limit, max_jobs, set_max_jobs
from dlapp.modelfile import load_model_file
from dlapp.models import STEPS_PER_EXECUTION, build_compiled
from dlapp.scheduler import Scheduler
from dlapp.store import RunStore
from tests.model_helpers import tensorboard_tags

REPO = Path(__file__).resolve().parents[1]
SMALL = RunConfig.from_flat(arch="mlp", hidden_units=(16,), train_subset=300, epochs=2, batch_size=32)


def _without_epoch(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("epoch", "layers")}


def test_epoch_events_and_store_rows_equal_the_keras_history(tmp_path):
    store = RunStore(tmp_path)
    job = TrainingJob(SMALL, store)
    assert job.status == "queued" and store.run(job.run_id).status == "queued"
    assert get_job(job.run_id) is job
    assert job.start().wait(300) == "finished", job.error

    epoch_events = [e.data for e in job.events_since(0) if e.kind == "epoch"]
    history = job.history  # History.history as model.fit returned it
    assert [e["epoch"] for e in epoch_events] == [0, 1]
    for epoch, data in enumerate(epoch_events):
        assert _without_epoch(data) == {name: values[epoch] for name, values in history.items()}
    assert store.epochs(job.run_id) == epoch_events
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}

    # Batch events: throttled, but the last batch of every epoch is always there.
    batches = [e.data for e in job.events_since(0) if e.kind == "batch"]
    steps = batches[0]["steps"]
    assert steps == 9  # 270 training images (300 less 10% validation) in batches of 32
    assert {(b["epoch"], b["step"]) for b in batches} >= {(0, steps - 1), (1, steps - 1)}
    assert batches[-1]["samples_seen"] == 2 * 270
    assert {"loss", "accuracy"} <= set(batches[-1])

    end = job.events_since(job.num_events - 1)[0]
    assert end.kind == "finished" and end.data["error"] is None
    summary = job.summary
    assert end.data["summary"] == summary
    assert summary["status"] == "finished" and summary["epochs_completed"] == 2
    assert summary["samples_per_second"] > 0 and 0.0 <= summary["test_accuracy"] <= 1.0

    run = store.run(job.run_id)
    assert run.status == "finished" and run.epochs_completed == 2
    assert run.metrics["test_accuracy"] == summary["test_accuracy"]
    assert run.metrics["val_loss"] == history["val_loss"][-1]
    assert sum(map(sum, run.confusion)) == 1000  # the sample's whole test set
    model = keras.saving.load_model(run.model_path, safe_mode=True)
    assert model.output_shape == (None, 10)
    assert tensorboard_tags(store.tensorboard_dir(job.run_id) / "train") >= {"epoch_loss", "epoch_accuracy"}
    assert "epoch_loss" in tensorboard_tags(store.tensorboard_dir(job.run_id) / "validation")

    progress = job.progress()
    assert (progress.epoch, progress.epochs, progress.step, progress.steps_per_epoch) == (2, 2, 9, 9)
    assert progress.fraction == 1.0 and progress.eta_seconds == 0.0


def test_same_config_and_seed_give_the_curve_of_a_bare_fit(tmp_path):
    job = TrainingJob(SMALL, RunStore(tmp_path)).start()
    assert job.wait(300) == "finished", job.error

    bare: dict = {}

    def bare_fit():  # the textbook loop with dlapp's measured input pipeline, seeded in its own thread the same way
        keras.utils.set_random_seed(SMALL.train.seed)
        data = prepare(SMALL.data, "mlp", seed=SMALL.train.seed)
        model = build_compiled(SMALL)
        tf_data = USE_TF_DATA["mlp"]
        history = model.fit(
            **training_input(data.x_train, data.y_train, 32, SMALL.train.seed, tf_data),
            epochs=2,
            validation_data=validation_input(data.x_val, data.y_val, 32, tf_data),
            verbose=0,
        )
        bare.update(history.history)

    thread = threading.Thread(target=bare_fit)
    thread.start()
    thread.join()
    assert set(bare) == set(job.history)
    for name, values in bare.items():
        assert job.history[name] == pytest.approx(values, rel=1e-5), name


class _StopAtStep(TrainingJob):
    """Presses Stop from inside the training thread at the first batch event from step `stop_at` on."""

    batch_event_interval = 0.0  # an event after every call into TensorFlow, so every call can be counted
    stop_at = 4
    stopped_at: int | None = None

    def on_batch(self, data):
        super().on_batch(data)
        if data["epoch"] == 0 and data["step"] >= self.stop_at and self.stopped_at is None:
            self.stopped_at = data["step"]
            self.stop()


def test_stop_lands_within_one_batch_and_keeps_the_partial_model(tmp_path):
    store = RunStore(tmp_path)
    config = SMALL.replace(train_subset=1000, batch_size=16, epochs=3)  # 57 steps per epoch
    job = _StopAtStep(config, store).start()
    assert job.wait(300) == "stopped", job.error

    # A call into TensorFlow runs STEPS_PER_EXECUTION batches, and callbacks see the last of each.
    per_call = STEPS_PER_EXECUTION["mlp"]
    steps_run = [e.data["step"] for e in job.events_since(0) if e.kind == "batch"]
    after_stop = [step for step in steps_run if step > job.stopped_at]
    assert steps_run[: job.stopped_at // per_call + 1] == list(range(per_call - 1, job.stopped_at + 1, per_call))
    assert len(after_stop) <= 1
    assert [e.kind for e in job.events_since(0)][-2:] == ["epoch", "stopped"]

    run = store.run(job.run_id)
    assert run.status == "stopped" and job.summary["status"] == "stopped"
    assert run.epochs_completed == 1  # the epoch Keras closed when it stopped
    assert Path(run.model_path).exists()
    keras.saving.load_model(run.model_path, safe_mode=True)
    assert "test_accuracy" in run.metrics


class _Gated(TrainingJob):
    """Holds its first batch until the test opens the gate, so the queue can be inspected."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.in_first_batch = threading.Event()

    def on_batch(self, data):
        self.in_first_batch.set()
        self.gate.wait(120)
        super().on_batch(data)


@pytest.fixture
def limit_of_one():
    previous = job_limit()
    set_max_jobs(1)
    yield
    set_max_jobs(previous)


def test_a_limit_of_one_runs_jobs_one_after_the_other(tmp_path, limit_of_one):
    store = RunStore(tmp_path)
    config = SMALL.replace(epochs=1)
    first, second, third = (_Gated(config, store) for _ in range(3))
    for job in (first, second, third):
        job.start()
    assert first.in_first_batch.wait(120)
    assert first.status == "running" and first.queue_position is None
    assert (second.status, second.queue_position) == ("queued", 1)
    assert (third.status, third.queue_position) == ("queued", 2)
    third.stop()  # a queued job that is stopped never trains
    assert third.status == "stopped" and third.done and third.started_at is None
    assert store.run(third.run_id).status == "stopped"
    assert second.queue_position == 1

    for job in (first, second):
        job.gate.set()
    assert first.wait(300) == "finished" and second.wait(300) == "finished"
    assert first.ended_at <= second.started_at  # their training intervals do not overlap
    assert first.events_since(0)[-1].time <= second.started_at


def test_max_jobs_reads_the_environment(monkeypatch):
    monkeypatch.setenv("DLAPP_MAX_JOBS", "3")
    assert max_jobs() == 3
    monkeypatch.setenv("DLAPP_MAX_JOBS", "0")
    with pytest.raises(ValueError, match="DLAPP_MAX_JOBS must be a whole number of at least 1"):
        max_jobs()
    monkeypatch.delenv("DLAPP_MAX_JOBS")
    assert max_jobs() == max(1, (os.cpu_count() or 1) // 2)


def test_the_limit_is_read_once_so_a_bad_value_later_cannot_hang_wait(tmp_path, limit_of_one, monkeypatch):
    first = _Gated(SMALL.replace(epochs=1), RunStore(tmp_path)).start()
    assert first.in_first_batch.wait(120)
    monkeypatch.setenv("DLAPP_MAX_JOBS", "zero")  # read again when the job ends, this would raise in its thread
    first.gate.set()
    first.wait(120)
    assert first.done and first.status == "finished", first.error
    second = TrainingJob(SMALL.replace(epochs=1), RunStore(tmp_path)).start()  # the limit in force still holds
    assert second.wait(120) == "finished", second.error


def test_an_error_in_the_scheduler_after_a_job_cannot_hang_wait(tmp_path, monkeypatch):
    done = Scheduler.done
    thread_errors = []
    monkeypatch.setattr(threading, "excepthook", lambda args: thread_errors.append(str(args.exc_value)))

    def done_then_raise(self, job):
        done(self, job)  # the queue moves on as usual, then the bookkeeping breaks
        raise RuntimeError("the scheduler broke on purpose")

    monkeypatch.setattr(Scheduler, "done", done_then_raise)
    job = TrainingJob(SMALL.replace(epochs=1), RunStore(tmp_path)).start()
    job.wait(120)
    assert job.done and job.status == "finished", job.error
    deadline = time.monotonic() + 60
    while not thread_errors and time.monotonic() < deadline:
        time.sleep(0.05)
    assert thread_errors == ["the scheduler broke on purpose"]


def test_a_bad_job_limit_is_one_sentence():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="The job limit must be a whole number of at least 1"):
            set_max_jobs(bad)


def test_a_long_run_keeps_every_epoch_but_a_bounded_window_of_batch_events(tmp_path, monkeypatch):
    monkeypatch.setattr(events, "BATCH_WINDOW", 10)
    config = SMALL.replace(train_subset=1000, batch_size=16, epochs=3)  # 57 steps per epoch, 171 batches

    class EveryBatch(TrainingJob):
        batch_event_interval = 0.0  # an event per batch: far more than the window keeps

    job = EveryBatch(config, RunStore(tmp_path)).start()
    assert job.wait(300) == "finished", job.error
    kept = job.events_since(0)
    batches = [e for e in kept if e.kind == "batch"]
    assert 10 <= len(batches) <= 20
    assert [e.data["epoch"] for e in kept if e.kind == "epoch"] == [0, 1, 2]
    calls = -(-57 // STEPS_PER_EXECUTION["mlp"])  # callbacks see one batch per call into TensorFlow
    assert job.num_events == 3 * calls + 3 + 1  # every batch event, epoch and the end event were counted
    assert batches[-1].data["samples_seen"] == 3 * 900 and kept[-1].kind == "finished"
    assert [e.index for e in kept] == sorted({e.index for e in kept}) and kept[-1].index == job.num_events - 1
    progress = job.progress()
    assert (progress.epoch, progress.step, progress.fraction) == (3, 57, 1.0)


def test_an_exception_inside_fit_fails_the_run_with_its_text(tmp_path, monkeypatch):
    def broken_epoch_end(self, epoch, logs=None):
        raise RuntimeError("the callback broke\non purpose")

    monkeypatch.setattr(EventCallback, "on_epoch_end", broken_epoch_end)
    store = RunStore(tmp_path)
    job = TrainingJob(SMALL.replace(epochs=1), store).start()
    assert job.wait(300) == "failed"
    assert job.error == "RuntimeError: the callback broke on purpose"
    end = job.events_since(0)[-1]
    assert end.kind == "failed" and end.data["error"] == job.error
    run = store.run(job.run_id)
    assert (run.status, run.error, run.model_path) == ("failed", job.error, None)
    assert job.summary["status"] == "failed"


def test_an_autoencoder_job_reports_test_mse(tmp_path):
    config = RunConfig.from_flat(arch="autoencoder", encoder_units=(16,), latent_dim=2, train_subset=200, epochs=1)
    store = RunStore(tmp_path)
    job = TrainingJob(config, store).start()
    assert job.wait(300) == "finished", job.error
    summary = job.summary
    assert "test_mse" in summary and "test_accuracy" not in summary
    run = store.run(job.run_id)
    assert run.confusion is None and not run.is_classifier
    (epoch,) = store.epochs(job.run_id)
    assert epoch["loss"] == job.history["loss"][0] and "val_mse" in epoch


KILLED_CHILD = textwrap.dedent(
    """
    import sys
    from dlapp.config import RunConfig
    from dlapp.jobs import TrainingJob
    from dlapp.store import RunStore

    # Slow enough that it is still training when the parent kills it.
    config = RunConfig.from_flat(arch="mlp", hidden_units=(32,), train_subset=2000, batch_size=16, epochs=500)
    TrainingJob(config, RunStore(sys.argv[1])).start().wait()
    """
)


def test_a_killed_process_leaves_its_epochs_an_interrupted_run_and_its_last_checkpoint(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "DLAPP_CHECKPOINT_SECONDS": "0"}  # a checkpoint every epoch
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, str(tmp_path)], cwd=REPO, env=env)
    try:
        deadline = time.monotonic() + 240
        store = None
        while time.monotonic() < deadline and child.poll() is None:
            if (tmp_path / "runs.sqlite").exists():
                store = store or RunStore(tmp_path)
                runs = store.runs()
                if runs and runs[0].epochs_completed >= 2:  # so epoch 1's checkpoint is surely written
                    break
            time.sleep(0.2)
        assert child.poll() is None, "the child ended before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()

    fresh = RunStore(tmp_path)
    (run,) = fresh.runs()
    assert run.status == "interrupted"
    rows = fresh.epochs(run.id)
    assert len(rows) >= 1 and [r["epoch"] for r in rows] == list(range(len(rows)))
    assert all({"loss", "accuracy", "val_loss", "val_accuracy"} <= set(r) for r in rows)
    assert [p.name for p in fresh.models_dir.iterdir()] == [f"run-{run.id}.keras"]  # no temporary file
    info = read_checkpoint_info(run.model_path)
    assert info.epochs_planned == 500 and 1 <= info.epochs_trained <= len(rows)
    model = load_model_file(run.model_path, with_optimizer=True)  # loadable, with its optimizer state
    assert int(model.optimizer.iterations) == info.epochs_trained * 113  # the epoch it says: 1800 images, batch 16


def test_a_dataset_that_cannot_load_fails_with_its_sentence(tmp_path, monkeypatch):
    from dlapp import data
    from dlapp.errors import DatasetUnavailable

    def offline(name):
        raise DatasetUnavailable("MNIST could not be downloaded; use the bundled 'mnist-sample' dataset.")

    monkeypatch.setattr(data, "load_raw", offline)
    job = TrainingJob(SMALL.replace(dataset="mnist"), RunStore(tmp_path)).start()
    assert job.wait(300) == "failed"
    assert job.error == "MNIST could not be downloaded; use the bundled 'mnist-sample' dataset."


def test_early_stopping_ends_a_run_that_stops_improving(tmp_path):
    # SGD at a learning rate of 10 diverges at once, so val_loss never improves after the first epoch.
    config = SMALL.replace(epochs=10, early_stopping=1, optimizer="sgd", learning_rate=10.0)
    job = TrainingJob(config, RunStore(tmp_path)).start()
    assert job.wait(300) == "finished", job.error
    run = job.store.run(job.run_id)
    assert 2 <= run.epochs_completed < 10  # patience 1: the first epoch without improvement ends it
    assert len(job.history["val_loss"]) == run.epochs_completed


def test_a_run_stores_the_precision_auto_resolved_to(tmp_path):
    from dlapp.precision import resolve_precision

    store = RunStore(tmp_path)
    job = TrainingJob(SMALL.replace(precision="auto"), store)
    assert store.run(job.run_id).config.train.precision == resolve_precision("auto") != "auto"
    assert job.config.train.precision == resolve_precision("auto")
    job.stop()


def test_a_finished_job_lets_go_of_the_model_its_callbacks_saw(tmp_path):
    """The registry keeps 50 finished jobs; their models must not stay in memory with them."""
    import gc
    import weakref

    seen = keras.callbacks.Callback()
    job = TrainingJob(SMALL.replace(epochs=1), RunStore(tmp_path), callbacks=[seen], instruments=False).start()
    assert job.wait(timeout=300) == "finished", job.error
    model = weakref.ref(seen.model)
    del seen
    gc.collect()
    assert model() is None
