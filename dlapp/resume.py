"""Continuing a run from its checkpoint: the same weights, the same optimizer state (Adam's
moments, the step count), and the epoch counter going on, for a number of further epochs.

Only further epochs and, if wanted, a new learning rate can change; the architecture cannot.
Everything is checked (the run is not training, its model file loads with its optimizer)
before anything is changed, so a refusal leaves the run exactly as it was. Each continuation
is noted in the run store's SQLite file, so a page can say "epochs 5-30 came from a continuation".
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlapp.checkpoints import read_checkpoint_info
from dlapp.config import RunConfig, all_fields
from dlapp.errors import ModelRejected, StoreError

if TYPE_CHECKING:
    from dlapp.store import Run, RunStore

MAX_EPOCHS = all_fields()["epochs"].metadata["high"]
CONTINUABLE = ("finished", "stopped", "interrupted", "failed")

NOTES_SCHEMA = """
CREATE TABLE IF NOT EXISTS continuations (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    from_epoch INTEGER NOT NULL,      -- epochs the checkpoint had trained when the continuation began
    planned_epochs INTEGER NOT NULL,  -- the run's total epochs it set out to reach
    learning_rate REAL,               -- the new learning rate, or NULL when it was kept
    created TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Continuation:
    run_id: int
    config: RunConfig  # the run's own config, epochs = initial_epoch + further (and the new learning rate)
    initial_epoch: int  # epochs the checkpoint has trained; `fit` goes on from here
    learning_rate: float | None  # the new learning rate, None to keep the checkpoint's


def checkpoint_epochs(run: Run) -> int | None:
    """Epochs the run's model file has trained, or None when it has no model file.

    The file says so itself when dlapp checkpointed it; a file written only at the end of a
    run by an older dlapp holds all of the run's epochs.
    """
    if not run.model_path or not Path(run.model_path).is_file():
        return None
    info = read_checkpoint_info(run.model_path)
    return info.epochs_trained if info is not None else run.epochs_completed


def model_epoch_note(run: Run) -> str | None:
    """'model from epoch 4 of 30' when the model is from an earlier epoch than the run reached or
    planned (an interrupted or stopped run); None when it is the whole run's model or there is none."""
    have = checkpoint_epochs(run)
    planned = run.config.train.epochs
    if have is None or (have >= run.epochs_completed and (have >= planned or run.status == "finished")):
        return None
    return f"model from epoch {have} of {planned}"


def refusal(run: Run) -> str | None:
    """Why `run` cannot be continued now (one sentence), or None when it can."""
    if run.status not in CONTINUABLE:
        return f"Run #{run.id} is {run.status}; wait for it to end or stop it, then continue it."
    if checkpoint_epochs(run) is None:
        return f"Run #{run.id} has no saved model to continue from; train it again with its settings instead."
    return None


def plan_continuation(run: Run, further_epochs: int, learning_rate: float | None = None) -> Continuation:
    """Check everything a continuation needs, loading the model file once; raise ValueError or
    ModelRejected with one sentence when it cannot go ahead. Nothing is changed here."""
    reason = refusal(run)
    if reason:
        raise ValueError(reason)
    initial = checkpoint_epochs(run) or 0
    if not isinstance(further_epochs, int) or isinstance(further_epochs, bool) or further_epochs < 1:
        raise ValueError(f"Further epochs must be a whole number of at least 1; got {further_epochs!r}.")
    if initial + further_epochs > MAX_EPOCHS:
        raise ValueError(
            f"Run #{run.id} has trained {initial} epochs and a run has at most {MAX_EPOCHS}; "
            f"continue for at most {MAX_EPOCHS - initial} more."
        )
    changes: dict[str, Any] = {"epochs": initial + further_epochs}
    if learning_rate is not None:
        changes["learning_rate"] = learning_rate
    config = run.config.replace(**changes).validate()
    # Refuses a bad file, or a new rate for a cosine run, before anything changes.
    load_checkpoint(run.model_path, learning_rate, run_id=run.id)
    return Continuation(run.id, config, initial, learning_rate)


def start_continuation(store: RunStore, plan: Continuation, *, start: bool = True):
    """The continuation as a `TrainingJob` on the same run, queued (unless `start=False`) like any job.

    Only now does the run change: it is queued again with the new epoch count (a run that
    started training meanwhile is refused by the store), and the continuation is noted.
    """
    from dlapp.jobs import TrainingJob

    owner = store.owners.owner("run", plan.run_id)  # shared mode: the run keeps its owner, who queues in turn
    job = TrainingJob(plan.config, store, continuation=plan, owner=owner)
    record_continuation(store, plan)
    return job.start() if start else job


def load_checkpoint(path: str | Path, learning_rate: float | None = None, *, run_id: int | None = None):
    """The compiled model of a checkpoint, with its optimizer state; raises ModelRejected with one sentence."""
    from dlapp.modelfile import load_model_file

    whose = f"of run #{run_id} " if run_id is not None else ""
    try:
        model = load_model_file(path, with_optimizer=True)
    except ModelRejected as exc:
        raise ModelRejected(f"The model file {whose}cannot be continued: {_lower_first(str(exc))}") from exc
    optimizer = getattr(model, "optimizer", None)  # an uncompiled model has none at all
    if optimizer is None or not optimizer.variables:
        raise ModelRejected(
            f"The model file {whose}holds no optimizer state, so it cannot be continued; "
            "train it again with its settings instead."
        )
    schedule = optimizer.get_config().get("learning_rate")
    if isinstance(schedule, dict):  # a cosine schedule, saved as its config: it goes on from the saved step
        _check_schedule_left(schedule, optimizer, learning_rate, whose)
        return model
    if learning_rate is not None:
        model.optimizer.learning_rate.assign(learning_rate)
    return model


def _check_schedule_left(schedule: dict, optimizer, learning_rate: float | None, whose: str) -> None:
    """A cosine run stopped or interrupted before its last step continues along its cosine; one that
    reached the end has a rate of 0 left, and a new learning rate would replace the schedule."""
    import keras

    decay_steps = schedule.get("config", {}).get("decay_steps")
    if decay_steps is None or int(keras.ops.convert_to_numpy(optimizer.iterations)) >= decay_steps:
        raise ModelRejected(
            f"The model file {whose}was trained with a cosine learning rate, which fell to 0 by its last epoch, "
            "so it cannot be continued; train it again with more epochs instead."
        )
    if learning_rate is not None:
        raise ModelRejected(
            f"The model file {whose}follows a cosine learning rate, which goes on from where it stopped; "
            "continue it without a new learning rate."
        )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# -- notes ---------------------------------------------------------------------------------------


def _notes_db(store: RunStore, *, write: bool) -> closing[sqlite3.Connection]:
    """A connection to the store's file; a reading one never writes (as the store's own reads)."""
    conn = sqlite3.connect(store.db_path, timeout=30)
    if write:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(NOTES_SCHEMA)
    else:
        conn.execute("PRAGMA query_only=ON")
    return closing(conn)


def record_continuation(store: RunStore, plan: Continuation) -> None:
    """Note that the run's epochs from `plan.initial_epoch + 1` on come from a continuation."""
    try:
        with _notes_db(store, write=True) as conn, conn:
            conn.execute(
                "INSERT INTO continuations (run_id, from_epoch, planned_epochs, learning_rate, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (plan.run_id, plan.initial_epoch, plan.config.train.epochs, plan.learning_rate, _now()),
            )
    except sqlite3.Error as exc:
        raise StoreError(f"The continuation of run #{plan.run_id} could not be noted ({exc}); try again.") from None


def continuation_notes(store: RunStore, run: Run) -> list[str]:
    """'Epochs 5-30 came from a continuation.' for each continuation that trained an epoch, oldest first.

    A continuation's epochs end where the next one began (what came after was retrained) or,
    for the last one, at the epochs the run has now.
    """
    try:
        with _notes_db(store, write=False) as conn, conn:
            rows = conn.execute(
                "SELECT from_epoch, planned_epochs, learning_rate FROM continuations WHERE run_id = ? ORDER BY rowid",
                (int(run.id),),
            ).fetchall()
    except sqlite3.Error:
        return []  # no continuation yet (no table), or an unreadable file: the page still shows the run
    notes = []
    for i, (start, planned, learning_rate) in enumerate(rows):
        end = min(planned, rows[i + 1][0] if i + 1 < len(rows) else run.epochs_completed)
        if end > start:
            span = f"Epoch {end}" if end == start + 1 else f"Epochs {start + 1}-{end}"
            rate = f" at learning rate {learning_rate:g}" if learning_rate is not None else ""
            notes.append(f"{span} came from a continuation{rate}.")
    return notes


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
