"""The run store: one SQLite file (WAL mode) plus `.keras` model files in a data directory.

A training thread writes while page threads read, so every call opens its own short-lived
connection; WAL lets readers and the one writer proceed together. Importing this module
does not import TensorFlow (the home page lists runs).

Layout of the data directory:
    runs.sqlite                 runs, epochs and drawings
    models/run-<id>.keras       the trained (or partially trained) model
    tensorboard/run-<id>/       TensorBoard event files
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlapp.config import CLASSIFIERS, RunConfig
from dlapp.errors import StoreError

DATA_DIR_ENV = "DLAPP_DATA_DIR"
DEFAULT_DATA_DIR = "dlapp-data"
STATUSES = ("queued", "running", "finished", "stopped", "failed", "interrupted")
ACTIVE = ("queued", "running")
TMP_PREFIX = ".tmp-run-"  # .tmp-run-<id>-<pid>.keras while a model is being written

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created TEXT NOT NULL,
    arch TEXT NOT NULL,
    dataset TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}',
    model_path TEXT,
    error TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    seconds REAL,
    samples_per_second REAL,
    confusion TEXT,
    pid INTEGER,
    hostname TEXT,
    pid_started TEXT
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    logs TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS drawings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    label INTEGER NOT NULL,
    image BLOB NOT NULL
);
"""

RUN_COLUMNS = (
    "id, name, created, arch, dataset, config, status, metrics, model_path, error, tags, seconds, "
    "samples_per_second, confusion, pid, (SELECT COUNT(*) FROM epochs e WHERE e.run_id = runs.id)"
)


@dataclass(frozen=True)
class Run:
    id: int
    name: str
    created: str  # ISO 8601, local time with offset
    arch: str
    dataset: str
    config: RunConfig
    status: str
    metrics: dict[str, float]  # test_loss/test_accuracy or test_mse, plus the final train/val logs
    model_path: str | None
    error: str | None
    tags: list[str]
    seconds: float | None
    samples_per_second: float | None
    epochs_completed: int
    confusion: list[list[int]] | None  # rows = true class
    pid: int | None

    @property
    def is_classifier(self) -> bool:
        return self.arch in CLASSIFIERS


class RunStore:
    def __init__(self, data_dir: str | Path | None = None):
        self.data_dir = Path(data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).expanduser().absolute()
        self.db_path = self.data_dir / "runs.sqlite"
        self.models_dir = self.data_dir / "models"
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the run store in {self.data_dir} ({exc.strerror or exc}); "
                f"choose a writable folder with --data-dir or {DATA_DIR_ENV}."
            ) from None
        try:
            if not os.access(self.data_dir, os.W_OK):
                raise PermissionError
            self.models_dir.mkdir(exist_ok=True)
        except OSError:
            raise _read_only(self.data_dir) from None
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        self._mark_interrupted()
        self._remove_stale_temp_files()

    # -- connections ---------------------------------------------------------------------

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection per call, committed on success: safe from any thread."""
        conn = None
        try:
            conn = sqlite3.connect(self.db_path, timeout=30)
            conn.execute("PRAGMA foreign_keys=ON")
            with conn:
                yield conn
        except sqlite3.DatabaseError as exc:
            raise self._store_error(exc) from None
        finally:
            if conn is not None:
                conn.close()

    def _store_error(self, exc: sqlite3.DatabaseError) -> StoreError:
        text = str(exc).lower()
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            return StoreError(
                f"{self.db_path} is not a dlapp run store (file is corrupt); move it aside or set {DATA_DIR_ENV}."
            )
        if "full" in text or ("disk i/o error" in text and _nearly_full(self.data_dir)):
            # SQLite reports a full disk as "disk I/O error" when it cannot grow the WAL or shared-memory file.
            return StoreError(f"The disk holding {self.data_dir} is full; free some space or set {DATA_DIR_ENV}.")
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return _read_only(self.data_dir)
        return StoreError(f"The run store {self.db_path} failed ({exc}); check the folder or set {DATA_DIR_ENV}.")

    # -- runs ------------------------------------------------------------------------------

    def tensorboard_dir(self, run_id: int) -> Path:
        return self.data_dir / "tensorboard" / f"run-{int(run_id)}"

    def model_file(self, run_id: int) -> Path:
        return self.models_dir / f"run-{int(run_id)}.keras"

    def create_run(self, config: RunConfig, name: str | None = None) -> int:
        """A new run in status "queued", owned by this process."""
        pid = os.getpid()
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO runs (name, created, arch, dataset, config, status, pid, hostname, pid_started) "
                "VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
                (
                    name or "",
                    _now(),
                    config.model.arch,
                    config.data.dataset,
                    config.to_json(),
                    pid,
                    socket.gethostname(),
                    _process_start(pid),
                ),
            )
            run_id = int(cursor.lastrowid)
            if not name:
                db.execute("UPDATE runs SET name = ? WHERE id = ?", (f"{config.model.arch}-{run_id}", run_id))
        return run_id

    def set_status(self, run_id: int, status: str, error: str | None = None) -> None:
        _check_status(status)
        with self._db() as db:
            self._update(db, run_id, "UPDATE runs SET status = ?, error = ? WHERE id = ?", (status, error, run_id))

    def add_epoch(self, run_id: int, epoch: int, logs: dict[str, float]) -> None:
        """Record one finished epoch (0-based) with all its Keras logs."""
        clean = {k: float(v) for k, v in logs.items() if k != "epoch"}
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO epochs (run_id, epoch, logs) VALUES (?, ?, ?)",
                (int(run_id), int(epoch), json.dumps(clean)),
            )

    def save_model(self, run_id: int, model: Any) -> Path:
        """Write the model to a temporary name, then rename it into place (atomic on one filesystem)."""
        final = self.model_file(run_id)
        temp = self.models_dir / f"{TMP_PREFIX}{int(run_id)}-{os.getpid()}.keras"
        try:
            model.save(temp)
            os.replace(temp, final)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise StoreError(
                f"Cannot write the model file {final} ({exc.strerror or exc}); free some space or set {DATA_DIR_ENV}."
            ) from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        with self._db() as db:
            self._update(db, run_id, "UPDATE runs SET model_path = ? WHERE id = ?", (str(final), run_id))
        return final

    def finish_run(
        self,
        run_id: int,
        status: str,
        *,
        metrics: dict,
        seconds: float,
        samples_per_second: float,
        confusion: list[list[int]] | None = None,
        error: str | None = None,
    ) -> None:
        _check_status(status)
        with self._db() as db:
            self._update(
                db,
                run_id,
                "UPDATE runs SET status = ?, metrics = ?, seconds = ?, samples_per_second = ?, confusion = ?, "
                "error = ? WHERE id = ?",
                (
                    status,
                    json.dumps({k: float(v) for k, v in metrics.items()}),
                    float(seconds),
                    float(samples_per_second),
                    json.dumps(confusion) if confusion is not None else None,
                    error,
                    run_id,
                ),
            )

    def run(self, run_id: int) -> Run:
        if not -(2**63) <= int(run_id) < 2**63:  # SQLite would raise OverflowError for an id typed by hand
            raise _missing(run_id)
        self._mark_interrupted()
        with self._db() as db:
            row = db.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (int(run_id),)).fetchone()
        if row is None:
            raise _missing(run_id)
        return _run_from_row(row)

    def runs(self) -> list[Run]:
        """Every run, newest first."""
        self._mark_interrupted()
        with self._db() as db:
            rows = db.execute(f"SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC").fetchall()
        return [_run_from_row(row) for row in rows]

    def epochs(self, run_id: int) -> list[dict]:
        """[{"epoch": 0, "loss": ..., "val_loss": ..., ...}, ...] in epoch order."""
        with self._db() as db:
            rows = db.execute("SELECT epoch, logs FROM epochs WHERE run_id = ? ORDER BY epoch", (int(run_id),))
            return [{"epoch": epoch, **json.loads(logs)} for epoch, logs in rows.fetchall()]

    def rename(self, run_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("A run name cannot be empty; type at least one character.")
        with self._db() as db:
            self._update(db, run_id, "UPDATE runs SET name = ? WHERE id = ?", (name, run_id))

    def set_tags(self, run_id: int, tags: list[str]) -> None:
        clean = sorted({t.strip() for t in tags if t.strip()})
        with self._db() as db:
            self._update(db, run_id, "UPDATE runs SET tags = ? WHERE id = ?", (json.dumps(clean), run_id))

    def delete(self, run_id: int) -> None:
        """Remove the run, its epochs, its model file and its TensorBoard logs."""
        run = self.run(run_id)
        if run.status in ACTIVE:
            raise StoreError(f"Run {run_id} is still {run.status}; stop it before deleting it.")
        with self._db() as db:
            db.execute("DELETE FROM epochs WHERE run_id = ?", (int(run_id),))
            db.execute("DELETE FROM runs WHERE id = ?", (int(run_id),))
        self.model_file(run_id).unlink(missing_ok=True)
        shutil.rmtree(self.tensorboard_dir(run_id), ignore_errors=True)

    def _update(self, db: sqlite3.Connection, run_id: int, sql: str, params: tuple) -> None:
        if db.execute(sql, params).rowcount == 0:
            raise _missing(run_id)

    # -- drawings (the person's own labelled test set) -------------------------------------

    def add_drawing(self, label: int, image: np.ndarray) -> int:
        """Store one (28, 28) float image in [0, 1] with its digit label; returns its id."""
        image = np.asarray(image, dtype=np.float32)
        if image.shape != (28, 28):
            raise ValueError(f"A drawing must be a 28x28 image; got shape {image.shape}.")
        if not 0 <= int(label) <= 9:
            raise ValueError(f"A drawing's label must be a digit from 0 to 9; got {label!r}.")
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO drawings (created, label, image) VALUES (?, ?, ?)",
                (_now(), int(label), np.clip(image, 0.0, 1.0).tobytes()),
            )
            return int(cursor.lastrowid)

    def drawings(self) -> tuple[np.ndarray, np.ndarray]:
        """All drawings, oldest first: images (n, 28, 28) float32 and labels (n,) int."""
        with self._db() as db:
            rows = db.execute("SELECT label, image FROM drawings ORDER BY id").fetchall()
        images = np.array([np.frombuffer(blob, dtype=np.float32).reshape(28, 28) for _, blob in rows], np.float32)
        return images.reshape(-1, 28, 28), np.array([label for label, _ in rows], dtype=np.int64)

    def drawing_ids(self) -> list[int]:
        """Ids of the drawings, in the order `drawings()` returns them."""
        with self._db() as db:
            return [row[0] for row in db.execute("SELECT id FROM drawings ORDER BY id").fetchall()]

    def delete_drawing(self, drawing_id: int) -> None:
        with self._db() as db:
            db.execute("DELETE FROM drawings WHERE id = ?", (int(drawing_id),))

    # -- crash recovery --------------------------------------------------------------------

    def _mark_interrupted(self) -> None:
        """Runs left queued/running by a process of this host that no longer exists become "interrupted"."""
        host = socket.gethostname()
        with self._db() as db:
            rows = db.execute(
                "SELECT id, pid, pid_started FROM runs WHERE status IN ('queued', 'running') AND hostname = ?",
                (host,),
            ).fetchall()
            dead = [(run_id,) for run_id, pid, started in rows if not _process_alive(pid, started)]
            if dead:
                db.executemany(
                    "UPDATE runs SET status = 'interrupted', "
                    "error = 'The process training this run ended before it finished.' WHERE id = ?",
                    dead,
                )

    def _remove_stale_temp_files(self) -> None:
        """Half-written model files of processes that died mid-save."""
        for temp in self.models_dir.glob(f"{TMP_PREFIX}*.keras"):
            pid = temp.stem.rsplit("-", 1)[-1]
            if not pid.isdigit() or not _process_alive(int(pid), None):
                temp.unlink(missing_ok=True)


def _run_from_row(row: tuple) -> Run:
    (run_id, name, created, arch, dataset, config, status, metrics, model_path, error, tags, seconds, sps) = row[:13]
    confusion, pid, epochs_completed = row[13:]
    return Run(
        id=run_id,
        name=name,
        created=created,
        arch=arch,
        dataset=dataset,
        config=RunConfig.from_json(config),
        status=status,
        metrics=json.loads(metrics),
        model_path=model_path,
        error=error,
        tags=json.loads(tags),
        seconds=seconds,
        samples_per_second=sps,
        epochs_completed=epochs_completed,
        confusion=json.loads(confusion) if confusion else None,
        pid=pid,
    )


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name; state is field 3, starttime field 22.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _process_alive(pid: int | None, started: str | None) -> bool:
    if pid is None:
        return False
    stat = Path(f"/proc/{pid}/stat")
    if stat.parent.parent.exists():  # Linux: /proc tells zombies and reused pids apart
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            return False
        if fields[0] in ("Z", "X"):
            return False
        return started is None or fields[19] == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < 1024 * 1024
    except OSError:
        return False


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"Unknown run status {status!r}; expected one of {', '.join(STATUSES)}.")


def _missing(run_id: int) -> StoreError:
    return StoreError(f"There is no run {run_id} in the store; pick one from the Runs page or `dlapp runs`.")


def _read_only(data_dir: Path) -> StoreError:
    return StoreError(f"The run store folder {data_dir} is read-only; choose a writable folder or set {DATA_DIR_ENV}.")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
