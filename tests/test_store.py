"""The run store against real SQLite files in tmp_path."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading

import numpy as np
import pytest

from dlapp.config import RunConfig
from dlapp.errors import StoreError
from dlapp.store import RunStore

CONFIG = RunConfig.from_flat(arch="cnn", epochs=2, train_subset=200)


def test_a_new_run_is_queued_with_its_config_and_owner(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(CONFIG)
    run = store.run(run_id)
    assert (run.status, run.arch, run.dataset, run.name) == ("queued", "cnn", "mnist-sample", f"cnn-{run_id}")
    assert run.config == CONFIG
    assert run.pid == os.getpid()
    assert run.is_classifier
    assert run.epochs_completed == 0 and run.model_path is None and run.tags == []


def test_data_dir_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path / "from-env"))
    store = RunStore()
    assert store.data_dir == tmp_path / "from-env"
    assert store.db_path.exists()


def test_epochs_finish_and_listing_newest_first(tmp_path):
    store = RunStore(tmp_path)
    first = store.create_run(CONFIG)
    second = store.create_run(CONFIG.replace(arch="autoencoder"), name="my ae")
    store.add_epoch(first, 0, {"loss": 2.0, "accuracy": 0.5, "val_loss": 2.1})
    store.add_epoch(first, 1, {"loss": 1.0, "accuracy": 0.7, "val_loss": 1.2})
    store.finish_run(
        first, "finished", metrics={"test_loss": 1.1, "test_accuracy": 0.66}, seconds=3.5,
        samples_per_second=120.0, confusion=[[1, 0], [0, 1]],
    )  # fmt: skip
    assert store.epochs(first) == [
        {"epoch": 0, "loss": 2.0, "accuracy": 0.5, "val_loss": 2.1},
        {"epoch": 1, "loss": 1.0, "accuracy": 0.7, "val_loss": 1.2},
    ]
    assert [r.id for r in store.runs()] == [second, first]
    run = store.run(first)
    assert (run.status, run.epochs_completed, run.seconds, run.samples_per_second) == ("finished", 2, 3.5, 120.0)
    assert run.metrics == {"test_loss": 1.1, "test_accuracy": 0.66}
    assert run.confusion == [[1, 0], [0, 1]]
    assert store.run(second).name == "my ae" and not store.run(second).is_classifier


def test_rename_and_tags(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(CONFIG)
    store.rename(run_id, "  baseline  ")
    store.set_tags(run_id, ["cnn", " fast", "cnn", ""])
    run = store.run(run_id)
    assert run.name == "baseline" and run.tags == ["cnn", "fast"]
    with pytest.raises(ValueError, match="cannot be empty"):
        store.rename(run_id, "  ")


def test_a_missing_run_is_one_sentence(tmp_path):
    store = RunStore(tmp_path)
    with pytest.raises(StoreError, match="There is no run 99"):
        store.run(99)
    with pytest.raises(StoreError, match="There is no run 99"):
        store.rename(99, "x")


def test_save_model_renames_into_place_and_delete_removes_files(tmp_path):
    import keras

    store = RunStore(tmp_path)
    run_id = store.create_run(CONFIG)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = store.save_model(run_id, model)
    assert path == tmp_path / "models" / f"run-{run_id}.keras" and path.exists()
    assert sorted(p.name for p in store.models_dir.iterdir()) == [path.name]  # no temp file left
    assert store.run(run_id).model_path == str(path)
    keras.saving.load_model(path, safe_mode=True)

    tensorboard = store.tensorboard_dir(run_id)
    (tensorboard / "train").mkdir(parents=True)
    (tensorboard / "train" / "events.out").write_bytes(b"x")
    store.add_epoch(run_id, 0, {"loss": 1.0})
    store.finish_run(run_id, "finished", metrics={}, seconds=1, samples_per_second=1)
    store.delete(run_id)
    assert not path.exists() and not tensorboard.exists()
    assert store.runs() == [] and store.epochs(run_id) == []


def test_a_run_still_training_cannot_be_deleted(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(CONFIG)
    store.set_status(run_id, "running")
    with pytest.raises(StoreError, match="still running; stop it"):
        store.delete(run_id)


def test_a_run_owned_by_a_dead_process_shows_as_interrupted(tmp_path):
    # A child process creates a run and exits without finishing it.
    code = f"from dlapp.store import RunStore; from dlapp.config import RunConfig; " \
           f"s = RunStore({str(tmp_path)!r}); r = s.create_run(RunConfig()); s.set_status(r, 'running')"  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)
    store = RunStore(tmp_path)
    (run,) = store.runs()
    assert run.status == "interrupted" and "ended before it finished" in run.error
    # Runs of this (living) process stay as they are.
    mine = store.create_run(CONFIG)
    assert RunStore(tmp_path).run(mine).status == "queued"


def _dead_run(data_dir) -> int:
    """A run left "running" by a child process that has exited."""
    code = (
        "from dlapp.store import RunStore; from dlapp.config import RunConfig; "
        f"s = RunStore({str(data_dir)!r}); r = s.create_run(RunConfig()); s.set_status(r, 'running'); print(r)"
    )
    return int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)


def _file_state(store: RunStore) -> tuple:
    files = [store.db_path, store.db_path.with_name("runs.sqlite-wal")]
    return tuple((f.stat().st_mtime_ns, f.stat().st_size) if f.exists() else None for f in files)


def test_reads_never_write_and_refresh_marks_dead_runs(tmp_path):
    store = RunStore(tmp_path)  # opened before the run's process died: it has not seen that yet
    dead = _dead_run(tmp_path)
    watcher = sqlite3.connect(tmp_path / "runs.sqlite")
    version, state = watcher.execute("PRAGMA data_version").fetchone()[0], _file_state(store)

    assert store.run(dead).status == "running"  # reads show what is stored and change nothing
    assert [r.status for r in store.runs()] == ["running"]
    store.epochs(dead), store.drawings(), store.drawing_ids()
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == version
    assert _file_state(store) == state

    assert store.refresh() == 1
    assert watcher.execute("PRAGMA data_version").fetchone()[0] != version
    run = store.run(dead)
    assert (run.status, run.error) == ("interrupted", "The process training this run ended before it finished.")

    version = watcher.execute("PRAGMA data_version").fetchone()[0]
    assert store.refresh() == 0  # nothing left to mark: a refresh with nothing to do writes nothing
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == version
    watcher.close()


def test_a_read_connection_refuses_to_write(tmp_path):
    store = RunStore(tmp_path)
    with pytest.raises(StoreError), store._db(readonly=True) as db:
        db.execute("DELETE FROM runs")


def test_stale_temp_model_files_of_dead_processes_are_removed(tmp_path):
    store = RunStore(tmp_path)
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    stale = store.models_dir / f".tmp-run-1-{int(dead_pid.stdout)}.keras"
    stale.write_bytes(b"half a zip")
    RunStore(tmp_path)
    assert not stale.exists()


def test_a_corrupt_database_file_is_one_sentence(tmp_path):
    (tmp_path / "runs.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError) as info:
        RunStore(tmp_path)
    message = str(info.value)
    assert "is not a dlapp run store (file is corrupt); move it aside or set DLAPP_DATA_DIR" in message
    assert message.count(".") <= 2 + str(tmp_path).count(".")  # one sentence


def _make_read_only(path):
    """chmod is enough for a normal user; root needs the immutable attribute."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        return lambda: path.chmod(0o755)
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a folder read-only for root here (chattr +i failed)")
    return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_data_dir_is_one_sentence(tmp_path):
    data_dir = tmp_path / "ro"
    data_dir.mkdir()
    undo = _make_read_only(data_dir)
    try:
        with pytest.raises(StoreError, match="read-only; choose a writable folder or set DLAPP_DATA_DIR"):
            RunStore(data_dir)
    finally:
        undo()


def test_a_data_dir_that_cannot_be_created_is_one_sentence(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="Cannot create the run store"):
        RunStore(tmp_path / "file" / "data")


def test_drawings_round_trip(tmp_path):
    store = RunStore(tmp_path)
    empty_images, empty_labels = store.drawings()
    assert empty_images.shape == (0, 28, 28) and empty_labels.shape == (0,)
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    first = store.add_drawing(3, image)
    store.add_drawing(7, np.zeros((28, 28), np.float32))
    images, labels = store.drawings()
    assert images.dtype == np.float32 and images.shape == (2, 28, 28)
    np.testing.assert_array_equal(images[0], image)
    assert labels.tolist() == [3, 7]
    store.delete_drawing(first)
    assert store.drawings()[1].tolist() == [7]
    with pytest.raises(ValueError, match="28x28"):
        store.add_drawing(1, np.zeros((10, 10)))
    with pytest.raises(ValueError, match="from 0 to 9"):
        store.add_drawing(12, image)


def test_one_thread_writes_while_another_reads(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(CONFIG)
    errors: list[BaseException] = []

    def write():
        try:
            for epoch in range(200):
                store.add_epoch(run_id, epoch, {"loss": float(epoch)})
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    seen = 0
    while writer.is_alive():
        rows = store.epochs(run_id)
        assert [row["epoch"] for row in rows] == list(range(len(rows)))
        seen = max(seen, len(rows))
        store.runs()
    writer.join()
    assert not errors and len(store.epochs(run_id)) == 200
