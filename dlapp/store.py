"""The run store: one SQLite file (WAL mode) plus `.keras` model files in a data directory.

A training thread writes while page threads read, so every call opens its own short-lived
connection; WAL lets readers and the one writer proceed together. Importing this module
does not import TensorFlow (the home page lists runs).

Reads never write: runs left queued/running by a process that has died are marked
"interrupted" when the store opens and on `refresh()`, which the pages that must show
fresh statuses call (see `refresh`). Names are checked by `dlapp.names` on the way in,
so no caller can store a name that breaks the rule.

Layout of the data directory:
    runs.sqlite                 runs, epochs and drawings (`dlapp.drawings`)
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
from pathlib import Path
from typing import Any

import numpy as np

from dlapp import drawings, liveness, owners
from dlapp.checkpoints import CheckpointInfo, write_model_file
from dlapp.config import RunConfig
from dlapp.errors import StoreError
from dlapp.names import clean_name, clean_optional_name
from dlapp.run_record import Run, run_from_row
from dlapp.store_migrations import add_missing_columns

DATA_DIR_ENV = "DLAPP_DATA_DIR"
DEFAULT_DATA_DIR = "dlapp-data"
STATUSES = ("queued", "running", "finished", "stopped", "failed", "interrupted", "pruned")  # pruned: by a search
ACTIVE = ("queued", "running")  # the statuses of a run that is waiting for or holding a training slot
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
    pid_started TEXT,
    parent_run_id INTEGER
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    logs TEXT NOT NULL,
    layers TEXT,
    PRIMARY KEY (run_id, epoch)
);
"""
RUN_COLUMNS = "runs.*, (SELECT COUNT(*) FROM epochs e WHERE e.run_id = runs.id) AS epochs_completed"
INTERRUPTED_ERROR = "The process training this run ended before it finished."


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
            db.executescript(SCHEMA + drawings.SCHEMA)
            add_missing_columns(db)
        self._drawings = drawings.Drawings(self._db)
        self.owners = owners.Owners(self._db)  # shared mode: who owns which run (see dlapp.owners)
        self.refresh()
        self._remove_stale_temp_files()

    # -- connections ---------------------------------------------------------------------

    @contextmanager
    def _db(self, readonly: bool = False) -> Iterator[sqlite3.Connection]:
        """A fresh connection per call, committed on success: safe from any thread.

        `readonly` connections refuse to write (PRAGMA query_only), so a read cannot change the file.
        """
        conn = None
        try:
            conn = sqlite3.connect(self.db_path, timeout=30)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA query_only=ON" if readonly else "PRAGMA foreign_keys=ON")
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

    def create_run(self, config: RunConfig, name: str | None = None, *, parent_run_id: int | None = None) -> int:
        """A new run in status "queued", owned by this process (and started from `parent_run_id`, if given).

        Without a name (None, "" or only spaces) the run is named `<arch>-<id>`, such as `cnn-7`;
        a name that breaks the rule in `dlapp.names` raises InvalidName and nothing is stored.
        """
        name = clean_optional_name(name)
        arch = config.model.arch
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO runs (name, created, arch, dataset, config, status, pid, hostname, pid_started, "
                "parent_run_id) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                (name or "", _now(), arch, config.data.dataset, config.to_json(), *_owner(), parent_run_id),
            )
            run_id = int(cursor.lastrowid)
            if name is None:
                db.execute("UPDATE runs SET name = ? WHERE id = ?", (default_name(arch, run_id), run_id))
        return run_id

    def set_status(self, run_id: int, status: str, error: str | None = None) -> None:
        _check_status(status)
        with self._db() as db:
            self._update(db, run_id, "UPDATE runs SET status = ?, error = ? WHERE id = ?", (status, error, run_id))

    def add_epoch(self, run_id: int, epoch: int, logs: dict[str, float], layers: dict | None = None) -> None:
        """Record one finished epoch (0-based) with all its Keras logs, and its per-layer statistics if any."""
        clean = {k: float(v) for k, v in logs.items() if k not in ("epoch", "layers")}
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO epochs (run_id, epoch, logs, layers) VALUES (?, ?, ?, ?)",
                (int(run_id), int(epoch), json.dumps(clean), json.dumps(layers) if layers else None),
            )

    def save_model(self, run_id: int, model: Any, info: CheckpointInfo | None = None) -> Path:
        """Write the model atomically (a temporary name, fsync, rename), with the epoch it is from."""
        final = self.model_file(run_id)
        try:
            write_model_file(model, final, info)
        except OSError as exc:
            raise StoreError(
                f"Cannot write the model file {final} ({exc.strerror or exc}); free some space or set {DATA_DIR_ENV}."
            ) from None
        with self._db() as db:
            self._update(db, run_id, "UPDATE runs SET model_path = ? WHERE id = ?", (str(final), run_id))
        return final

    def reopen_run(self, run_id: int, config: RunConfig, keep_epochs: int) -> None:
        """Queue an ended run again in this process to train further (a continuation), with its new config;
        epochs after `keep_epochs` (trained by weights lost with a crash) are dropped."""
        active = ", ".join("?" * len(ACTIVE))
        with self._db() as db:
            reopened = db.execute(
                "UPDATE runs SET status = 'queued', error = NULL, config = ?, pid = ?, hostname = ?, pid_started = ? "
                f"WHERE id = ? AND status NOT IN ({active})",
                (config.to_json(), *liveness.this_process(), int(run_id), *ACTIVE),
            ).rowcount
            db.execute("DELETE FROM epochs WHERE run_id = ? AND epoch >= ?", (int(run_id), int(keep_epochs)))
            if not reopened:
                raise StoreError(f"Run #{run_id} is missing or already training; pick a run that has ended.")

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
        with self._db(readonly=True) as db:
            row = db.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (int(run_id),)).fetchone()
        if row is None:
            raise _missing(run_id)
        return run_from_row(row)

    def runs(self) -> list[Run]:
        """Every run, newest first."""
        with self._db(readonly=True) as db:
            rows = db.execute(f"SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC").fetchall()
        return [run_from_row(row) for row in rows]

    def epochs(self, run_id: int) -> list[dict]:
        """[{"epoch": 0, "loss": ..., "val_loss": ..., ..., "layers": {...}}, ...] in epoch order; "layers"
        ({name: {"grad_norm", "weight_norm", "hist": {"edges", "counts"}}}, `dlapp.instruments`) may be absent."""
        with self._db(readonly=True) as db:
            rows = db.execute("SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch", (int(run_id),)).fetchall()
        layers = [{"layers": json.loads(row["layers"])} if row["layers"] else {} for row in rows]
        return [
            {"epoch": row["epoch"], **json.loads(row["logs"]), **extra} for row, extra in zip(rows, layers, strict=True)
        ]

    def rename(self, run_id: int, name: str) -> None:
        """Give the run a new name; InvalidName (nothing saved) when it breaks the rule in `dlapp.names`."""
        name = clean_name(name)
        with self._db() as db:
            self._update(db, run_id, "UPDATE runs SET name = ? WHERE id = ?", (name, run_id))

    def set_tags(self, run_id: int, tags: list[str]) -> None:
        """Replace the run's tags; blank ones are dropped, and one that breaks the name rule raises InvalidName."""
        clean = sorted({tag for tag in (clean_optional_name(t, "tag") for t in tags) if tag})
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

    # -- drawings (the person's own labelled test set; see dlapp.drawings) -----------------

    def add_drawing(self, label: int, image: np.ndarray) -> int:
        return self._drawings.add(label, image)

    def drawings(self) -> tuple[np.ndarray, np.ndarray]:
        return self._drawings.all()

    def drawing_ids(self) -> list[int]:
        return self._drawings.ids()

    def delete_drawing(self, drawing_id: int) -> None:
        self._drawings.delete(drawing_id)

    # -- crash recovery --------------------------------------------------------------------

    def refresh(self) -> int:
        """Mark runs left queued/running by a process of this host that no longer exists "interrupted".

        The store does this when it opens; a long-lived reader (the app's one store per server)
        calls it where a page must show fresh statuses, such as the Runs page. It only writes
        when it finds such a run, and returns how many it marked.
        """
        active = ", ".join("?" * len(ACTIVE))
        with self._db() as db:
            rows = db.execute(
                f"SELECT id, pid, pid_started FROM runs WHERE status IN ({active}) AND hostname = ?",
                (*ACTIVE, socket.gethostname()),
            ).fetchall()
            dead = [row["id"] for row in rows if not liveness.process_alive(row["pid"], row["pid_started"])]
            if dead:
                db.executemany(
                    f"UPDATE runs SET status = 'interrupted', error = ? WHERE id = ? AND status IN ({active})",
                    [(INTERRUPTED_ERROR, run_id, *ACTIVE) for run_id in dead],
                )
        return len(dead)

    def _remove_stale_temp_files(self) -> None:
        """Half-written model files of processes that died mid-save."""
        for temp in self.models_dir.glob(f"{TMP_PREFIX}*.keras"):
            pid = temp.stem.rsplit("-", 1)[-1]
            if not pid.isdigit() or not liveness.process_alive(int(pid), None):
                temp.unlink(missing_ok=True)


def default_name(arch: str, run_id: int) -> str:
    """The name of a run created without one, such as `cnn-7`."""
    return f"{arch}-{int(run_id)}"


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


def _owner() -> tuple:
    """(pid, hostname, pid_started) of this process, which owns the runs it creates."""
    return liveness.this_process()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
