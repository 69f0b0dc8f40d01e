"""What an experiment shows: its leaderboard, its curves' data, its search history, and CSV exports.

Read from the stores only (never from a job), so the same numbers appear on the page, on the
command line and in a CSV, whichever process trained the runs. No Streamlit, no TensorFlow.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any

from dlapp.experiment_plan import format_value, settings_label
from dlapp.experiment_store import Experiment, ExperimentStore, Member
from dlapp.store import Run, RunStore

MIN_TRIALS_FOR_IMPORTANCE = 4  # Optuna's evaluator needs a few finished trials to say anything


@dataclass(frozen=True)
class Entry:
    """One run of an experiment, as the leaderboard shows it."""

    member: Member
    run: Run

    @property
    def status(self) -> str:
        return "pruned" if self.member.pruned else self.run.status

    @property
    def label(self) -> str:
        return settings_label(self.member.settings)

    @property
    def score(self) -> float | None:
        """Test accuracy (classifier) or test MSE (autoencoder) of a finished run."""
        value = self.run.metrics.get("test_accuracy" if self.run.is_classifier else "test_mse")
        return value if self.run.status == "finished" and _finite(value) else None


def entries(store: RunStore, experiment_id: int) -> list[Entry]:
    members = ExperimentStore(store).members(experiment_id)
    runs = {run.id: run for run in store.runs()}
    return [Entry(m, runs[m.run_id]) for m in members if m.run_id in runs]


def best_entry(items: list[Entry]) -> Entry | None:
    """The finished run with the best test score (highest accuracy, lowest MSE)."""
    scored = [e for e in items if e.score is not None]
    if not scored:
        return None
    classifier = scored[0].run.is_classifier
    return max(scored, key=lambda e: e.score) if classifier else min(scored, key=lambda e: e.score)


def varied_settings(experiment: Experiment) -> list[str]:
    if experiment.kind == "grid":
        return list(experiment.plan["vary"])
    return [dim["name"] for dim in experiment.plan["space"]]


def leaderboard(
    experiment: Experiment, items: list[Entry], curves: dict[int, list[dict]] | None = None
) -> list[dict[str, Any]]:
    """One row per run: a column per varied setting, then validation and test score, size and time.

    curves: run id -> its epochs, when the caller has them; a run still training then shows its
    latest epoch's validation score (its final metrics are written only when it ends).
    """
    best = best_entry(items)
    classifier = experiment.base_config.is_classifier
    metric, title = ("accuracy", "accuracy") if classifier else ("mse", "MSE")
    rows = []
    for entry in items:
        row: dict[str, Any] = {"best": entry is best, "run": entry.run.id}
        for name in varied_settings(experiment):
            row[name] = _cell(entry.member.settings.get(name))
        row.update(
            {
                "status": entry.status,
                "epochs": entry.run.epochs_completed,
                f"val {title}": _val_score(entry, metric, (curves or {}).get(entry.run.id)),
                f"test {title}": entry.score,
                "parameters": entry.member.parameters,
                "seconds": round(entry.run.seconds, 1) if entry.run.seconds is not None else None,
                "name": entry.run.name,
            }
        )
        rows.append(row)
    return rows


def _cell(value: Any) -> Any:
    """Numbers stay numbers (so the column sorts); layer lists become '128-64'."""
    return format_value(value) if isinstance(value, (list, tuple, bool)) else value


def _val_score(entry: Entry, metric: str, epochs: list[dict] | None) -> float | None:
    value = epochs[-1].get(f"val_{metric}") if epochs else entry.run.metrics.get(f"val_{metric}")
    return value if _finite(value) else None


# --- search history ---------------------------------------------------------------------


def objective_values(experiment: Experiment, items: list[Entry]) -> list[tuple[int, float]]:
    """(trial number, final validation score) of each trial that finished, in trial order."""
    metric = experiment.plan.get("metric", "val_accuracy")
    out = []
    for entry in items:
        value = entry.run.metrics.get(metric)
        if entry.status == "finished" and entry.member.trial_number is not None and _finite(value):
            out.append((entry.member.trial_number, float(value)))
    return sorted(out)


def best_so_far(values: list[tuple[int, float]], direction: str) -> list[float]:
    """The running best of `values` (running max when maximising, min when minimising)."""
    pick = max if direction == "maximize" else min
    out: list[float] = []
    for _, value in values:
        out.append(value if not out else pick(out[-1], value))
    return out


def importances(experiment: Experiment, store: RunStore) -> dict[str, float] | None:
    """Each searched setting's share of the score's variance (Optuna's evaluator), once enough trials finished."""
    import optuna

    if experiment.kind != "search" or len(experiment.plan["space"]) < 2:
        return None
    try:
        study = optuna.load_study(study_name=f"experiment-{experiment.id}", storage=ExperimentStore(store).study_url)
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
            return None
        return dict(optuna.importance.get_param_importances(study))
    except (KeyError, ValueError, RuntimeError):
        return None  # every trial scored the same, or a setting never varied: nothing to rank


# --- exports ----------------------------------------------------------------------------


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows of dicts as CSV text; the columns are the union of the rows' keys, in first-seen order."""
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def epoch_rows(store: RunStore, runs: list[Run], settings: dict[int, dict[str, Any]] | None = None) -> list[dict]:
    """Every epoch of every run: run id and name, the run's varied settings if any, then all Keras logs."""
    rows = []
    for run in runs:
        extra = {name: _cell(value) for name, value in (settings or {}).get(run.id, {}).items()}
        for epoch in store.epochs(run.id):
            logs = {key: value for key, value in epoch.items() if key not in ("epoch", "layers")}
            rows.append({"run": run.id, "name": run.name, **extra, "epoch": epoch["epoch"] + 1, **logs})
    return rows


def experiment_epoch_rows(store: RunStore, items: list[Entry]) -> list[dict]:
    return epoch_rows(store, [e.run for e in items], {e.run.id: e.member.settings for e in items})


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
