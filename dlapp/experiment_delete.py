"""Deleting an experiment: its runs (model files, logs), its grouping and its Optuna study.

An experiment's runs were made for it, so they go with it by default (a 12-run grid would
otherwise stay behind on the Runs page); `keep_runs` deletes only the grouping. The page and
`dlapp experiments ID --delete` both call `delete_experiment` and word it with `deletion_phrase`.
"""

from __future__ import annotations

from dlapp.experiment_store import ExperimentStore, study_name
from dlapp.experiments import get_runner
from dlapp.store import ACTIVE, RunStore


def delete_experiment(experiment_id: int, store: RunStore, keep_runs: bool = False) -> list[int]:
    """Delete an ended experiment with its runs (model files and logs) and its Optuna study.

    `keep_runs` deletes only the grouping and leaves the runs as ordinary runs. Returns the
    deleted runs' ids. While the experiment or one of its runs is queued or
    training, ValueError and nothing is deleted; a missing experiment is a StoreError.
    """
    experiments = ExperimentStore(store)
    experiment = experiments.experiment(experiment_id)
    if experiment.active or get_runner(experiment_id) is not None:
        raise ValueError(f"Experiment {experiment_id} is still running; stop it before deleting it.")
    runs = [] if keep_runs else [store.run(member.run_id) for member in experiments.members(experiment_id)]
    if busy := [run for run in runs if run.status in ACTIVE]:
        raise ValueError(f"Run {busy[0].id} of experiment {experiment_id} is still {busy[0].status}; stop it first.")
    for run in runs:  # runs first: if this stops half-way, the experiment is still there to delete again
        store.delete(run.id)
    experiments.delete(experiment_id)
    store.owners.forget("experiment", experiment_id)
    if experiment.kind == "search":
        _delete_study(experiments, experiment_id)
    return [run.id for run in runs]


def deletion_phrase(experiment_id: int, run_count: int) -> str:
    """What deleting an experiment removes, for the page's confirmation and the CLI's report."""
    if run_count == 0:
        return f"experiment #{experiment_id} (it has no runs left)"
    runs = (
        "its run, with its model file and logs"
        if run_count == 1
        else f"its {run_count} runs, with their model files and logs"
    )
    return f"experiment #{experiment_id} and {runs}"


def _delete_study(experiments: ExperimentStore, experiment_id: int) -> None:
    import optuna

    try:
        optuna.delete_study(study_name=study_name(experiment_id), storage=experiments.study_url)
    except KeyError:  # never created (the search failed before its first trial), or deleted already
        pass
