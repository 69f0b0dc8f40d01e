"""Deleting an experiment: its runs, model files and Optuna study go; or only the grouping; never while it runs."""

from __future__ import annotations

import optuna
import pytest

from dlapp import experiments
from dlapp.config import RunConfig
from dlapp.errors import StoreError
from dlapp.experiment_delete import delete_experiment, deletion_phrase
from dlapp.experiment_plan import parse_dimension
from dlapp.experiment_store import ExperimentStore
from dlapp.store import RunStore

TINY = RunConfig.from_flat(dataset="mnist-sample", train_subset=200, hidden_units=(16,), batch_size=64, epochs=1)


def test_deleting_an_experiment_deletes_its_runs_model_files_and_study(tmp_path):
    store = RunStore(tmp_path)
    other = experiments.start_grid(TINY, {"seed": [1]}, store)  # another experiment's run must stay
    space = [parse_dimension("learning_rate=1e-3:3e-2:log")]
    search = experiments.start_search(TINY, space, store, trials=2)
    assert experiments.wait_all(search, timeout=300) == "finished"
    assert experiments.wait_all(other, timeout=300) == "finished"
    run_ids = [member.run_id for member in ExperimentStore(store).members(search.experiment_id)]
    model_files = [store.model_file(run_id) for run_id in run_ids]
    assert len(run_ids) == 2 and all(path.exists() for path in model_files)

    deleted = delete_experiment(search.experiment_id, store)

    assert deleted == run_ids
    assert [run.id for run in store.runs()] == other.run_ids
    assert not any(path.exists() for path in model_files)
    assert [e.id for e in ExperimentStore(store).experiments()] == [other.experiment_id]
    assert optuna.get_all_study_names(_url(store)) == []
    assert deletion_phrase(search.experiment_id, 2) == (
        f"experiment #{search.experiment_id} and its 2 runs, with their model files and logs"
    )


def test_deleting_with_keep_runs_leaves_them_as_ordinary_runs(tmp_path):
    store = RunStore(tmp_path)
    runner = experiments.start_grid(TINY, {"seed": [1, 2]}, store)
    assert experiments.wait_all(runner, timeout=300) == "finished"
    run_ids = runner.run_ids
    assert delete_experiment(runner.experiment_id, store, keep_runs=True) == []
    assert sorted(run.id for run in store.runs()) == sorted(run_ids) and len(run_ids) == 2
    assert ExperimentStore(store).experiments() == []
    assert all(ExperimentStore(store).experiment_of(run_id) is None for run_id in run_ids)


def test_a_running_experiment_is_not_deleted_and_a_missing_one_is_one_sentence(tmp_path):
    store = RunStore(tmp_path)
    runner = experiments.start_grid(TINY.replace(epochs=100), {"seed": [1]}, store)
    try:
        with pytest.raises(ValueError, match="still running; stop it before deleting it"):
            delete_experiment(runner.experiment_id, store)
        assert [run.id for run in store.runs()] == runner.run_ids == [1]
    finally:
        runner.stop()
        experiments.wait_all(runner, timeout=300)
    with pytest.raises(StoreError, match="There is no experiment 99"):
        delete_experiment(99, store)


def _url(store: RunStore) -> str:
    return ExperimentStore(store).study_url
