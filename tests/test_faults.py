"""Faults: a disk that fills up or turns read-only, a corrupt run store, an exception inside fit.

What is real here and what is not:
- "Full" is a real ENOSPC from a tiny tmpfs mounted for the test (needs root and mount; skipped otherwise).
- "Read-only" is a real EROFS from remounting that tmpfs read-only (before training: remounting fails while
  TensorBoard holds a file open, so during training the store files are made immutable with chattr +i,
  which blocks root too). A plain chmod would prove nothing: the tests run as root.
- A killed process mid-training is covered by tests/test_jobs.py (interrupted run, epochs kept, no
  half-written model file) and is not repeated here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_names import as_shown

from dlapp import cli
from dlapp.callbacks import EventCallback
from dlapp.config import RunConfig
from dlapp.errors import StoreError
from dlapp.jobs import TrainingJob
from dlapp.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
TINY = RunConfig.from_flat(arch="mlp", hidden_units=(16,), train_subset=300, epochs=1, batch_size=64)
# Long enough to still be training when the fault is injected after its first epoch.
LONG = TINY.replace(epochs=200, batch_size=16)


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A real, small filesystem at `path` (root only); skips the test where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()[:80]})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount(path: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True, capture_output=True)


def fill(folder: Path) -> Path:
    """Write zeros into `folder` until its filesystem is full; returns the filler file."""
    filler = folder / "filler"
    with open(filler, "wb") as fh:
        chunk = bytes(64 * 1024)
        try:
            while True:
                fh.write(chunk)
                fh.flush()
        except OSError:
            pass
    with contextlib.suppress(OSError):
        # One more small write, so even the last partial block is taken.
        with open(filler, "ab") as fh:
            while True:
                fh.write(b"\0" * 512)
                fh.flush()
    return filler


def first_epoch_then(job: TrainingJob, action) -> None:
    """Wait for the job's first epoch event, then run `action` (the job keeps training meanwhile)."""
    while not job.done and not any(e.kind == "epoch" for e in job.events_since(0)):
        job.wait(0.05)
    assert not job.done, f"the job ended before the fault could be injected: {job.status} {job.error}"
    action()


def finished_run(store: RunStore) -> int:
    job = TrainingJob(TINY, store, name="before the fault").start()
    assert job.wait(300) == "finished", job.error
    return job.run_id


def assert_intact(store: RunStore, run_id: int) -> None:
    run = store.run(run_id)
    assert run.status == "finished" and run.epochs_completed == 1
    assert run.model_path and Path(run.model_path).is_file()


def eventually_recorded(store: RunStore, job: TrainingJob, patience: float = 60.0) -> tuple[str, str | None]:
    """The run's stored (status, error) once it is no longer active (the job retries every few seconds)."""
    deadline = time.monotonic() + patience
    while (run := store.run(job.run_id)).status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
    return run.status, run.error


def train_page(data_dir: Path, run_id: int):
    """The Train page of a session that started run `run_id`, rendered once."""
    from streamlit.testing.v1 import AppTest

    os.environ["DLAPP_DATA_DIR"] = str(data_dir)
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.session_state["train_run_id"] = run_id
        at.run()
        at.switch_page("pages/train.py").run()
    finally:
        del os.environ["DLAPP_DATA_DIR"]
    assert not at.exception, [e.message for e in at.exception]
    return at


def no_temp_models(store: RunStore) -> bool:
    return not any(p.name.startswith(".tmp") for p in store.models_dir.iterdir())


# --- read-only ---------------------------------------------------------------------------------


def test_a_read_only_filesystem_refuses_the_store_in_one_sentence_and_keeps_its_runs(tmp_path, capsys):
    with tmpfs(tmp_path / "mnt", "8m") as mnt:
        store = RunStore(mnt / "data")
        run_id = finished_run(store)
        remount(mnt, "ro")
        try:
            with pytest.raises(StoreError) as info:
                RunStore(mnt / "data")
            assert str(info.value) == (
                f"The run store folder {mnt / 'data'} is read-only; choose a writable folder or set DLAPP_DATA_DIR."
            )
            with pytest.raises(SystemExit) as exit_info:
                cli.main(["train", "--epochs", "1", "--data-dir", str(mnt / "data")])
            assert exit_info.value.code == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and "is read-only" in err[0]
        finally:
            remount(mnt, "rw")
        assert_intact(RunStore(mnt / "data"), run_id)
        assert len(RunStore(mnt / "data").runs()) == 1


def _immutable(*paths: Path) -> None:
    done = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not available here ({done.stderr.decode().strip()[:80]})")


def _mutable(*paths: Path) -> None:
    subprocess.run(["chattr", "-i", *map(str, paths)], capture_output=True)


def test_a_store_turning_read_only_mid_training_fails_the_job_with_one_sentence(tmp_path, monkeypatch):
    # No checkpoint during this run: one caught mid-write by chattr could neither be renamed nor removed,
    # and its temporary file would stay until the next start (test_checkpoints covers read-only checkpoints).
    monkeypatch.setenv("DLAPP_CHECKPOINT_SECONDS", "3600")
    store = RunStore(tmp_path / "data")
    before = finished_run(store)
    job = TrainingJob(LONG, store).start()
    # The folders (no new WAL or model file) and the database file itself; the WAL comes and goes.
    files = [store.db_path, store.data_dir, store.models_dir]
    try:
        first_epoch_then(job, lambda: _immutable(*files))
        assert job.wait(300) == "failed"
    finally:
        _mutable(*files)
    assert job.error == (
        f"The run store folder {store.data_dir} is read-only; choose a writable folder or set DLAPP_DATA_DIR."
    )
    assert job.events_since(0)[-1].kind == "failed"
    fresh = RunStore(tmp_path / "data")
    assert_intact(fresh, before)
    rows = fresh.epochs(job.run_id)
    assert len(rows) >= 1 and [r["epoch"] for r in rows] == list(range(len(rows)))
    assert no_temp_models(fresh)
    # Once the store takes writes again the run is recorded as failed, not left "running" (which would
    # keep the Train page busy until the server restarts).
    assert eventually_recorded(fresh, job) == ("failed", job.error)
    at = train_page(fresh.data_dir, job.run_id)
    assert f"Run #{job.run_id} failed: {job.error}" in [as_shown(e.value) for e in at.error]


# --- full disk ---------------------------------------------------------------------------------


def test_a_full_disk_before_training_means_no_run_starts(tmp_path):
    with tmpfs(tmp_path / "mnt", "4m") as mnt:
        store = RunStore(mnt / "data")
        run_id = finished_run(store)
        filler = fill(mnt)
        try:
            with pytest.raises(StoreError) as info:
                TrainingJob(TINY, store)
            assert str(info.value) == (
                f"The disk holding {store.data_dir} is full; free some space or set DLAPP_DATA_DIR."
            )
            # Reading needs room too (SQLite recreates its WAL files), so listing says the same sentence.
            with pytest.raises(StoreError, match="is full; free some space"):
                store.runs()
        finally:
            filler.unlink()
        assert_intact(RunStore(mnt / "data"), run_id)


def test_a_disk_filling_up_mid_training_ends_the_job_cleanly(tmp_path):
    with tmpfs(tmp_path / "mnt", "8m") as mnt:
        store = RunStore(mnt / "data")
        before = finished_run(store)
        job = TrainingJob(LONG, store).start()
        filler: list[Path] = []
        try:
            first_epoch_then(job, lambda: filler.append(fill(mnt)))
            assert job.wait(300) in ("failed", "stopped")
        finally:
            for f in filler:
                f.unlink()
        assert job.error and "\n" not in job.error
        assert "full" in job.error or "No space left" in job.error, job.error
        fresh = RunStore(mnt / "data")
        assert_intact(fresh, before)
        rows = fresh.epochs(job.run_id)
        assert len(rows) >= 1 and [r["epoch"] for r in rows] == list(range(len(rows)))
        assert no_temp_models(fresh)
        assert not fresh.model_file(job.run_id).exists() or fresh.run(job.run_id).model_path
        assert eventually_recorded(fresh, job) == ("failed", job.error)


def test_no_room_for_the_model_file_fails_the_run_with_its_sentence_and_no_partial_file(tmp_path):
    store = RunStore(tmp_path / "data")
    before = finished_run(store)
    kept = store.model_file(before).read_bytes()
    moved = tmp_path / "kept.keras"
    moved.write_bytes(kept)
    store.model_file(before).unlink()  # the models folder becomes its own tiny filesystem below
    with tmpfs(store.models_dir, "16k"):
        job = TrainingJob(TINY.replace(hidden_units=(256,)), store).start()  # ~2.4 MB of weights
        assert job.wait(300) == "failed"
        assert job.error.startswith("Cannot write the model file ")
        assert job.error.endswith("free some space or set DLAPP_DATA_DIR.")
        # The end's checkpoint failed first, and said so once; the job then tried once more and failed.
        assert job.checkpoint_problem == job.error[:-1] + "; the previous checkpoint is kept and training goes on."
        run = store.run(job.run_id)
        assert (run.status, run.error, run.model_path) == ("failed", job.error, None)
        assert run.epochs_completed == 1  # the epoch trained before the save is kept
        assert list(store.models_dir.iterdir()) == []  # the temporary file was removed
    assert store.run(before).status == "finished"


# --- corrupt store -----------------------------------------------------------------------------


def test_a_garbage_store_file_is_the_same_sentence_every_time_everywhere(tmp_path, monkeypatch, capsys):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    garbage = b"this is not sqlite at all" * 100
    (data_dir / "runs.sqlite").write_bytes(garbage)
    messages = []
    for _ in range(2):  # opening again neither crashes differently nor "repairs" the file
        with pytest.raises(StoreError) as info:
            RunStore(data_dir)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "is not a dlapp run store (file is corrupt); move it aside or set DLAPP_DATA_DIR" in messages[0]
    monkeypatch.setenv("DLAPP_DATA_DIR", str(data_dir))
    for _ in range(2):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["runs"])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"dlapp runs: error: {messages[0]}"]
    assert (data_dir / "runs.sqlite").read_bytes() == garbage  # nothing overwrote the person's file


def test_a_store_damaged_inside_is_one_sentence(tmp_path):
    store = RunStore(tmp_path)
    for _ in range(300):  # enough rows that the tables span several pages
        store.create_run(TINY, name="x" * 100)  # the longest name allowed
    for suffix in ("-wal", "-shm"):
        Path(str(store.db_path) + suffix).unlink(missing_ok=True)
    raw = bytearray(store.db_path.read_bytes())
    assert len(raw) > 3 * 4096
    raw[4096 : len(raw) - 4096] = os.urandom(len(raw) - 8192)  # keep the header, scramble the pages
    store.db_path.write_bytes(bytes(raw))
    for _ in range(2):
        with pytest.raises(StoreError) as info:
            RunStore(tmp_path).runs()
        message = str(info.value)
        assert message.endswith(".") and "\n" not in message
        assert "corrupt" in message or "failed" in message, message


def test_the_app_shows_a_corrupt_store_as_a_sentence_not_a_traceback(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    (tmp_path / "runs.sqlite").write_bytes(b"not a database" * 100)
    monkeypatch.setenv("DLAPP_DATA_DIR", str(tmp_path))
    for _ in range(2):  # a rerun gets the same sentence again, it does not loop or crash
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert not at.exception, [e.message for e in at.exception]
        errors = [as_shown(e.value) for e in at.error]
        assert any("is not a dlapp run store (file is corrupt)" in e for e in errors), errors


# --- an exception inside fit --------------------------------------------------------------------


@pytest.fixture
def failed_run(tmp_path, monkeypatch) -> tuple[Path, int, str]:
    def broken_epoch_end(self, epoch, logs=None):
        raise RuntimeError("the callback broke on purpose")

    store = RunStore(tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr(EventCallback, "on_epoch_end", broken_epoch_end)
        job = TrainingJob(TINY, store).start()
        assert job.wait(300) == "failed"
    return tmp_path, job.run_id, job.error


def test_the_train_page_shows_a_failed_run_with_its_error(failed_run):
    data_dir, run_id, error = failed_run
    assert error == "RuntimeError: the callback broke on purpose"
    at = train_page(data_dir, run_id)
    assert f"Run #{run_id} failed: {error}" in [as_shown(e.value) for e in at.error]
    train = [b for b in at.button if b.label == "Train"]
    assert train and not train[0].disabled  # a failed run does not block the next one


def test_the_runs_page_lists_the_failed_run(failed_run, monkeypatch):
    from streamlit.testing.v1 import AppTest

    data_dir, run_id, _ = failed_run
    monkeypatch.setenv("DLAPP_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/runs.py").run()
    assert not at.exception, [e.message for e in at.exception]
    table = at.dataframe[0].value
    assert table.loc[table["id"] == run_id, "status"].tolist() == ["failed"]


def test_a_failed_cli_run_exits_1_with_its_error_on_one_line(tmp_path):
    # A learning rate this large makes the loss NaN; a callback that refuses NaN turns it into an exception.
    code = (
        "import sys, keras\n"
        "from dlapp import callbacks, cli\n"
        "def broken(self, epoch, logs=None):\n"
        "    raise ValueError('loss became NaN, lower the learning rate')\n"
        "callbacks.EventCallback.on_epoch_end = broken\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "train", "--train-subset", "200", "--epochs", "1", "--json"]
        + ["--data-dir", str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith("failed: ValueError: loss became NaN, lower the learning rate")
    (run,) = RunStore(tmp_path).runs()
    assert run.status == "failed" and run.error == "ValueError: loss became NaN, lower the learning rate"
