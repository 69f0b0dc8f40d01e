"""Experiments in the run store's SQLite file: which runs belong to which experiment.

Two tables next to the run store's own (same file, same WAL mode): `experiments` (name,
kind, base config, plan, status) and `experiment_runs` (run id -> experiment id, the varied
settings, whether the search pruned it, its parameter count). A run's own row, epochs and
model stay in `runs`/`epochs`, so the Runs, Evaluate and Draw pages see experiment runs as
ordinary runs. Every call opens its own short-lived connection, as RunStore does.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlapp import liveness
from dlapp.config import RunConfig
from dlapp.errors import StoreError
from dlapp.names import clean_optional_name

EXPERIMENT_STATUSES = ("running", "finished", "stopped", "failed", "interrupted")
KINDS = ("grid", "search")
STUDY_FILE = "studies.sqlite"  # Optuna's own tables, kept apart from the run store's

SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created TEXT NOT NULL,
    kind TEXT NOT NULL,
    base_config TEXT NOT NULL,
    plan TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    pid INTEGER,
    hostname TEXT,
    pid_started TEXT
);
CREATE TABLE IF NOT EXISTS experiment_runs (
    run_id INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    settings TEXT NOT NULL,
    pruned INTEGER NOT NULL DEFAULT 0,
    trial_number INTEGER,
    parameters INTEGER
);
CREATE INDEX IF NOT EXISTS experiment_runs_by_experiment ON experiment_runs (experiment_id);
"""


_SCHEMA_READY: set[Path] = set()  # databases whose experiment tables this process has created


@dataclass(frozen=True)
class Experiment:
    id: int
    name: str
    created: str  # ISO 8601, local time with offset
    kind: str  # "grid" or "search"
    base_config: RunConfig
    plan: dict[str, Any]  # grid: {"vary": {...}}; search: {"space": [...], "trials", "minutes", ...}
    status: str
    error: str | None

    @property
    def active(self) -> bool:
        return self.status == "running"


@dataclass(frozen=True)
class Member:
    """One run of an experiment. Runs deleted on the Runs page drop out (the join skips them)."""

    run_id: int
    settings: dict[str, Any]  # varied setting -> value, JSON types (lists for layer sizes)
    pruned: bool
    trial_number: int | None
    parameters: int | None


class ExperimentStore:
    """Experiments kept in `run_store.db_path`; the Optuna studies in `studies.sqlite` beside it."""

    def __init__(self, run_store: Any):
        self.db_path = Path(run_store.db_path)
        self.study_url = f"sqlite:///{Path(run_store.data_dir) / STUDY_FILE}"
        if self.db_path not in _SCHEMA_READY:  # a page opens this store several times a second
            with self._db() as db:
                db.executescript(SCHEMA)
            _SCHEMA_READY.add(self.db_path)
        self.refresh()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = None
        try:
            conn = sqlite3.connect(self.db_path, timeout=30)
            conn.execute("PRAGMA foreign_keys=ON")
            with conn:
                yield conn
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"The experiment tables in {self.db_path} failed ({exc}); check the folder.") from None
        finally:
            if conn is not None:
                conn.close()

    # -- experiments -----------------------------------------------------------------------

    def create(self, name: str, kind: str, base: RunConfig, plan: dict[str, Any]) -> int:
        """A new running experiment owned by this process; a name breaking the name rule raises InvalidName."""
        if kind not in KINDS:
            raise ValueError(f"Unknown experiment kind {kind!r}; expected grid or search.")
        name = clean_optional_name(name, "experiment name")
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO experiments (name, created, kind, base_config, plan, status, pid, hostname, pid_started) "
                "VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?)",
                (name or "", _now(), kind, base.to_json(), json.dumps(plan), *liveness.this_process()),
            )
            experiment_id = int(cursor.lastrowid)
            if not name:
                db.execute("UPDATE experiments SET name = ? WHERE id = ?", (f"{kind} {experiment_id}", experiment_id))
        return experiment_id

    def set_status(self, experiment_id: int, status: str, error: str | None = None) -> None:
        if status not in EXPERIMENT_STATUSES:
            raise ValueError(f"Unknown experiment status {status!r}; expected one of {', '.join(EXPERIMENT_STATUSES)}.")
        with self._db() as db:
            db.execute(
                "UPDATE experiments SET status = ?, error = ?, pid = ?, hostname = ?, pid_started = ? WHERE id = ?",
                (status, error, *liveness.this_process(), int(experiment_id)),
            )

    def experiment(self, experiment_id: int) -> Experiment:
        with self._db() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM experiments WHERE id = ?", (int(experiment_id),)).fetchone()
        if row is None:
            raise StoreError(
                f"There is no experiment {experiment_id}; pick one on the Experiments page or `dlapp experiments`."
            )
        return _experiment_from_row(row)

    def experiments(self) -> list[Experiment]:
        """Every experiment, newest first."""
        with self._db() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM experiments ORDER BY id DESC").fetchall()
        return [_experiment_from_row(row) for row in rows]

    def delete(self, experiment_id: int) -> None:
        """Forget the grouping; the runs themselves stay in the run store."""
        with self._db() as db:
            db.execute("DELETE FROM experiment_runs WHERE experiment_id = ?", (int(experiment_id),))
            db.execute("DELETE FROM experiments WHERE id = ?", (int(experiment_id),))

    # -- membership ------------------------------------------------------------------------

    def add_run(self, experiment_id: int, run_id: int, settings: dict[str, Any], trial_number: int | None = None):
        with self._db() as db:
            db.execute(
                "INSERT INTO experiment_runs (run_id, experiment_id, settings, trial_number) VALUES (?, ?, ?, ?)",
                (int(run_id), int(experiment_id), json.dumps(settings), trial_number),
            )

    def mark_pruned(self, run_id: int) -> None:
        with self._db() as db:
            db.execute("UPDATE experiment_runs SET pruned = 1 WHERE run_id = ?", (int(run_id),))

    def set_parameters(self, run_id: int, parameters: int) -> None:
        with self._db() as db:
            db.execute("UPDATE experiment_runs SET parameters = ? WHERE run_id = ?", (int(parameters), int(run_id)))

    def members(self, experiment_id: int) -> list[Member]:
        """The experiment's runs still in the store, in the order they were made."""
        with self._db() as db:
            rows = db.execute(
                "SELECT er.run_id, er.settings, er.pruned, er.trial_number, er.parameters FROM experiment_runs er "
                "JOIN runs r ON r.id = er.run_id WHERE er.experiment_id = ? ORDER BY er.run_id",
                (int(experiment_id),),
            ).fetchall()
        return [
            Member(run_id, json.loads(settings), bool(pruned), trial, params)
            for run_id, settings, pruned, trial, params in rows
        ]

    def experiment_of(self, run_id: int) -> int | None:
        with self._db() as db:
            row = db.execute("SELECT experiment_id FROM experiment_runs WHERE run_id = ?", (int(run_id),)).fetchone()
        return row[0] if row else None

    # -- crash recovery --------------------------------------------------------------------

    def refresh(self) -> int:
        """Mark experiments left running by a process of this host that no longer exists "interrupted".

        Done when the store opens (as RunStore does); reads never write. Returns how many it marked.
        """
        with self._db() as db:
            rows = db.execute(
                "SELECT id, pid, pid_started FROM experiments WHERE status = 'running' AND hostname = ?",
                (socket.gethostname(),),
            ).fetchall()
            dead = [(row[0],) for row in rows if not liveness.process_alive(row[1], row[2])]
            if dead:
                db.executemany(
                    "UPDATE experiments SET status = 'interrupted', "
                    "error = 'The process running this experiment ended before it finished.' "
                    "WHERE id = ? AND status = 'running'",
                    dead,
                )
        return len(dead)


_COLUMNS = "id, name, created, kind, base_config, plan, status, error"


def _experiment_from_row(row: tuple) -> Experiment:
    experiment_id, name, created, kind, base, plan, status, error = row
    return Experiment(experiment_id, name, created, kind, RunConfig.from_json(base), json.loads(plan), status, error)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
