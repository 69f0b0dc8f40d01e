"""Experiments: grids and searches are checked before anything is queued, then train for real.

The training tests fit tiny MLPs (200 digits of the bundled sample) so the whole file trains
for well under a minute on two cores.
"""

from __future__ import annotations

import time

import optuna
import pytest

from dlapp import experiments
from dlapp.config import RunConfig
from dlapp.experiment_plan import check_space, parse_dimension, parse_grid, plan_grid
from dlapp.experiment_store import ExperimentStore
from dlapp.store import RunStore

TINY = RunConfig.from_flat(dataset="mnist-sample", train_subset=200, hidden_units=(16,), batch_size=64, epochs=1)


# --- plans: no training -----------------------------------------------------------------


def test_a_grid_makes_every_combination_in_order_with_its_label():
    runs = plan_grid(TINY, parse_grid(["optimizer=sgd,adam,rmsprop", "dropout=0,0.5"]))
    assert [run.label for run in runs] == [
        "sgd · dropout 0",
        "sgd · dropout 0.5",
        "adam · dropout 0",
        "adam · dropout 0.5",
        "rmsprop · dropout 0",
        "rmsprop · dropout 0.5",
    ]
    assert runs[3].config == TINY.replace(optimizer="adam", dropout=0.5)
    assert runs[3].settings == {"optimizer": "adam", "dropout": 0.5}


def test_layer_sizes_are_written_with_dashes():
    runs = plan_grid(TINY, parse_grid(["hidden_units=64,128-64"]))
    assert [run.config.model.hidden_units for run in runs] == [(64,), (128, 64)]
    assert [run.label for run in runs] == ["hidden units 64", "hidden units 128-64"]


@pytest.mark.parametrize(
    ("vary", "sentence"),
    [
        (["optimizer="], "optimizer has no values; give at least one, like optimizer=adam,sgd."),
        (["dropout=0,1.5"], "dropout must be at least 0 and less than 1; got 1.5."),
        (["rnn_cell=lstm,gru"], "rnn_cell does not apply to the mlp architecture"),
        (["momentum=0.5,0.9"], "momentum applies only to the sgd optimizer, and this run uses adam."),
        (["optimizer=adam,nadam"], "optimizer must be one of adam, sgd, rmsprop, adamw; got 'nadam'."),
        (["epochs=1,two"], "epochs takes whole numbers; got 'two'."),
        (["dropout=0,0"], "dropout lists 0 twice; give each value once."),
        (["colour=red"], "Unknown setting 'colour'"),
        (["seed=" + ",".join(map(str, range(9))), "dropout=0,0.1,0.2,0.3,0.4,0.5,0.6,0.7"], "This grid makes 72 runs"),
    ],
)
def test_a_bad_grid_gets_one_sentence_naming_the_setting_and_value(vary, sentence):
    with pytest.raises(ValueError, match="^" + _literal(sentence)):
        plan_grid(TINY, parse_grid(vary))


@pytest.mark.parametrize(
    ("search", "sentence"),
    [
        ("learning_rate=1e-2:1e-4", "learning_rate's range 0.01:0.0001 has its low end at or above its high end"),
        ("learning_rate=0:1e-2:log", "learning_rate's log range 0:0.01 touches 0"),
        ("dropout=0:1", "dropout must be at least 0 and less than 1; got 1.0."),
        ("activation=0:1", "activation takes choices, not a range"),
        ("latent_dim=2:8", "latent_dim does not apply to the mlp architecture"),
        ("learning_rate=1e-4:1e-2:ln", "Write a range as learning_rate=LOW:HIGH or learning_rate=LOW:HIGH:log"),
    ],
)
def test_a_bad_search_space_gets_one_sentence(search, sentence):
    with pytest.raises(ValueError, match="^" + _literal(sentence)):
        check_space(TINY, [parse_dimension(search)], trials=4, minutes=None)


def test_a_search_needs_a_budget_of_at_most_64_trials():
    space = [parse_dimension("dropout=0:0.6")]
    with pytest.raises(ValueError, match="trials must be from 1 to 64; got 65."):
        check_space(TINY, space, trials=65, minutes=None)
    with pytest.raises(ValueError, match="Give the search a budget"):
        check_space(TINY, space, trials=None, minutes=None)
    check_space(TINY, space, trials=None, minutes=2.0)


def test_bad_input_queues_nothing(tmp_path):
    store = RunStore(tmp_path)
    with pytest.raises(ValueError):
        experiments.start_grid(TINY, parse_grid(["optimizer=adam", "dropout=0.2,2"]), store)
    with pytest.raises(ValueError):
        experiments.start_search(TINY, [parse_dimension("learning_rate=0:1:log")], store, trials=3)
    assert store.runs() == [] and ExperimentStore(store).experiments() == []


def _literal(text: str) -> str:
    import re

    return re.escape(text)


# --- real training ----------------------------------------------------------------------


def test_a_grid_trains_every_run_and_goes_on_past_a_failing_one(tmp_path, monkeypatch):
    from dlapp import data
    from dlapp.errors import DatasetUnavailable

    real_load = data.load_raw

    def offline_fashion(name, *args, **kwargs):
        if name == "fashion_mnist":
            raise DatasetUnavailable("Fashion-MNIST could not be downloaded; use the bundled 'mnist-sample' dataset.")
        return real_load(name, *args, **kwargs)

    monkeypatch.setattr(data, "load_raw", offline_fashion)
    store = RunStore(tmp_path)
    runner = experiments.start_grid(TINY, {"dataset": ["fashion_mnist", "mnist-sample"]}, store, name="which data")
    assert experiments.wait_all(runner, timeout=300) == "finished"
    members = ExperimentStore(store).members(runner.experiment_id)
    runs = [store.run(m.run_id) for m in members]
    assert [m.settings for m in members] == [{"dataset": "fashion_mnist"}, {"dataset": "mnist-sample"}]
    assert [r.status for r in runs] == ["failed", "finished"]
    assert "could not be downloaded" in runs[0].error
    assert runs[1].name == "which data: mnist-sample" and runs[1].metrics["test_accuracy"] > 0
    assert members[1].parameters == 784 * 16 + 16 + 16 * 10 + 10
    assert ExperimentStore(store).experiment(runner.experiment_id).status == "finished"


def test_stop_cancels_the_queued_runs_and_stops_the_training_one_after_its_batch(tmp_path):
    store = RunStore(tmp_path)
    runner = experiments.start_grid(TINY.replace(epochs=100), {"seed": [1, 2, 3]}, store)
    first = runner.run_ids[0]
    deadline = time.monotonic() + 300
    while not store.epochs(first):  # the first run has trained an epoch; the other two wait in the queue
        assert time.monotonic() < deadline, "the first run never finished an epoch"
        time.sleep(0.05)
    runner.stop()
    assert experiments.wait_all(runner, timeout=300) == "stopped"
    runs = [store.run(run_id) for run_id in runner.run_ids]
    assert [run.status for run in runs] == ["stopped", "stopped", "stopped"]
    assert 1 <= runs[0].epochs_completed < 100 and runs[0].model_path  # the partial model is kept
    assert [run.epochs_completed for run in runs[1:]] == [0, 0]
    assert ExperimentStore(store).experiment(runner.experiment_id).status == "stopped"


def test_a_search_reports_every_epoch_to_optuna_and_resumes_after_a_stop(tmp_path):
    store = RunStore(tmp_path)
    space = [parse_dimension("learning_rate=1e-3:3e-2:log"), parse_dimension("activation=relu,tanh")]
    runner = experiments.start_search(TINY.replace(epochs=2), space, store, trials=2)
    _wait_for_members(store, runner.experiment_id, 2)
    runner.stop()  # the second trial is cancelled or stopped: it does not use up the budget
    assert experiments.wait_all(runner, timeout=300) == "stopped"
    study = optuna.load_study(study_name=f"experiment-{runner.experiment_id}", storage=_url(store))
    first = study.trials[0]
    run_id = ExperimentStore(store).members(runner.experiment_id)[0].run_id
    val_accuracy = [epoch["val_accuracy"] for epoch in store.epochs(run_id)]
    assert first.state == optuna.trial.TrialState.COMPLETE
    assert first.intermediate_values == dict(enumerate(val_accuracy))
    assert first.value == val_accuracy[-1]
    assert store.run(run_id).config.train.learning_rate == first.params["learning_rate"]
    assert study.trials[1].state == optuna.trial.TrialState.FAIL

    study.ask()  # a trial left "running" by a process that died mid-trial
    resumed = experiments.resume(runner.experiment_id, RunStore(tmp_path))
    assert experiments.wait_all(resumed, timeout=300) == "finished"
    states = [t.state for t in optuna.load_study(study_name=study.study_name, storage=_url(store)).trials]
    complete = optuna.trial.TrialState.COMPLETE
    assert states.count(complete) == 2 and states[:2] == [complete, optuna.trial.TrialState.FAIL]
    assert states[2] == optuna.trial.TrialState.FAIL  # the dead process's trial, closed on resume


def test_the_median_pruner_stops_a_hopeless_trial_and_its_run_is_kept_as_pruned(tmp_path):
    store = RunStore(tmp_path)
    space = [parse_dimension("learning_rate=1e-7:1e-1:log")]
    first_trials = [{"learning_rate": 1e-2}, {"learning_rate": 1e-7}]  # a good rate, then a hopeless one
    runner = experiments.start_search(
        TINY.replace(epochs=10, optimizer="sgd"), space, store, trials=2, startup_trials=1, first_trials=first_trials
    )
    assert experiments.wait_all(runner, timeout=300) == "finished"
    good, hopeless = ExperimentStore(store).members(runner.experiment_id)
    assert not good.pruned and store.run(good.run_id).epochs_completed == 10
    assert hopeless.pruned and store.run(hopeless.run_id).status == "pruned"
    assert 1 <= store.run(hopeless.run_id).epochs_completed < 10
    study = optuna.load_study(study_name=f"experiment-{runner.experiment_id}", storage=_url(store))
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED]


def _wait_for_members(store: RunStore, experiment_id: int, count: int) -> None:
    deadline = time.monotonic() + 300
    while len(ExperimentStore(store).members(experiment_id)) < count:
        assert time.monotonic() < deadline, "the search never asked for its next trial"
        time.sleep(0.05)


def _url(store: RunStore) -> str:
    return ExperimentStore(store).study_url
