"""Experiments: a grid of runs, or an Optuna search, fed through the ordinary job queue.

An `ExperimentRunner` thread (never Streamlit) owns one experiment. A grid queues all its
runs at once as `TrainingJob`s and waits for them. A search asks Optuna for one trial at a
time (ask-and-tell, default TPE sampler, median pruner), trains it as a job, follows the
job's epoch events to `trial.report()` the validation score, stops the job when
`trial.should_prune()` says so (the run is kept and marked pruned), and tells Optuna the
result. The study lives in `studies.sqlite` in the data directory, so `resume()` carries
on after a restart with everything Optuna learnt. The search algorithm is Optuna's.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from dlapp.config import RunConfig
from dlapp.experiment_plan import (
    Dimension,
    PlannedRun,
    check_space,
    objective_of,
    plan_grid,
    settings_for,
    settings_label,
)
from dlapp.experiment_store import ExperimentStore
from dlapp.jobs import TrainingJob
from dlapp.names import MAX_NAME_LENGTH, clean_optional_name
from dlapp.store import RunStore

POLL_SECONDS = 0.1  # how often the runner reads a trial's new epoch events
COUNTED = ("finished", "failed")  # run statuses that use up a search's trial budget (plus pruned runs)


def start_grid(
    base: RunConfig, grid: dict[str, list[Any]], store: RunStore, name: str = "", owner: str | None = None
) -> ExperimentRunner:
    """Validate every combination, then queue them all; ValueError (nothing queued) on bad input."""
    planned = plan_grid(base, grid)
    name = clean_optional_name(name, "experiment name") or " × ".join(grid)
    return start_planned(name, base, planned, store, {"vary": grid}, owner=owner)


def start_planned(
    name: str,
    base: RunConfig,
    planned: list[PlannedRun],
    store: RunStore,
    plan: dict[str, Any],
    owner: str | None = None,
) -> ExperimentRunner:
    """Queue already validated runs as one grid experiment (a grid's combinations, or a lesson's variants).

    plan: stored with the experiment; `{"vary": {setting: [value per run]}}` names the settings that differ.
    owner: who started it in shared mode; it owns the experiment and each of its runs.
    """
    experiments = ExperimentStore(store)
    experiment_id = experiments.create(name, "grid", base, plan)
    _claim(store, experiment_id, owner)
    jobs = []
    for run in planned:
        job = TrainingJob(run.config, store, name=_run_name(name, run.settings), owner=owner)
        experiments.add_run(experiment_id, job.run_id, run.settings)
        jobs.append((job, run))
    return _launch(ExperimentRunner(experiment_id, store, grid_jobs=jobs, owner=owner))


def start_search(
    base: RunConfig,
    space: list[Dimension],
    store: RunStore,
    *,
    trials: int | None = 10,
    minutes: float | None = None,
    name: str = "",
    startup_trials: int = 5,
    first_trials: list[dict[str, Any]] = (),
    owner: str | None = None,
) -> ExperimentRunner:
    """Validate the space and budget, create the stored study, and start asking for trials.

    startup_trials: trials the median pruner lets finish before it compares (Optuna's default 5).
    first_trials: settings to try before the sampler's own picks (Optuna's `enqueue_trial`).
    """
    check_space(base, space, trials, minutes)
    metric, direction = objective_of(base)
    plan = {
        "space": [dim.to_dict() for dim in space],
        "trials": trials,
        "minutes": minutes or None,
        "metric": metric,
        "direction": direction,
        "startup_trials": startup_trials,
    }
    experiments = ExperimentStore(store)
    name = clean_optional_name(name, "experiment name") or "search of " + ", ".join(dim.name for dim in space)
    experiment_id = experiments.create(name, "search", base, plan)
    _claim(store, experiment_id, owner)
    study = _study(experiments, experiment_id, plan, create=True)
    for params in first_trials:
        study.enqueue_trial(params)
    return _launch(ExperimentRunner(experiment_id, store, owner=owner))


def resume(experiment_id: int, store: RunStore) -> ExperimentRunner:
    """Carry on a stopped or interrupted search until its budget is used; its study keeps what it learnt."""
    experiments = ExperimentStore(store)
    experiment = experiments.experiment(experiment_id)
    if experiment.kind != "search":
        raise ValueError(f"Experiment {experiment_id} is a grid; only a search can be resumed.")
    if experiment.active or get_runner(experiment_id) is not None:
        raise ValueError(f"Experiment {experiment_id} is still running; stop it before resuming it.")
    experiments.set_status(experiment_id, "running")
    return _launch(ExperimentRunner(experiment_id, store))


# --- runners of this process ------------------------------------------------------------

_runners: dict[int, ExperimentRunner] = {}
_runners_lock = threading.Lock()


def get_runner(experiment_id: int) -> ExperimentRunner | None:
    """The runner of this process driving `experiment_id`, while it runs."""
    with _runners_lock:
        runner = _runners.get(int(experiment_id))
    return runner if runner is not None and not runner.done else None


def _launch(runner: ExperimentRunner) -> ExperimentRunner:
    with _runners_lock:
        _runners[runner.experiment_id] = runner
    runner.start()
    return runner


def _claim(store: RunStore, experiment_id: int, owner: str | None) -> None:
    if owner is not None:
        store.owners.set("experiment", experiment_id, owner)


def _run_name(name: str, settings: dict[str, Any]) -> str:
    """'which optimizer: adam · dropout 0.5', cut to the longest name a run may have."""
    return f"{name}: {settings_label(settings)}"[:MAX_NAME_LENGTH].strip()


def _study(experiments: ExperimentStore, experiment_id: int, plan: dict[str, Any], create: bool = False):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the app and the CLI say what happens, not Optuna's log
    pruner = optuna.pruners.MedianPruner(n_startup_trials=plan.get("startup_trials", 5))
    name, storage = f"experiment-{experiment_id}", experiments.study_url
    if create:
        return optuna.create_study(study_name=name, storage=storage, direction=plan["direction"], pruner=pruner)
    return optuna.load_study(study_name=name, storage=storage, pruner=pruner)


class ExperimentRunner:
    """Drives one experiment's jobs in a thread; `stop()` ends the whole experiment."""

    def __init__(
        self,
        experiment_id: int,
        store: RunStore,
        grid_jobs: list[tuple[TrainingJob, PlannedRun]] = (),
        owner: str | None = None,
    ):
        self.experiment_id = experiment_id
        self.owner = owner  # shared mode: owns the search's trials too
        self.store = store
        self.experiments = ExperimentStore(store)
        self.experiment = self.experiments.experiment(experiment_id)
        self.stop_requested = False
        self._grid_jobs = list(grid_jobs)
        self._current: TrainingJob | None = None  # the search's trial in training
        self._thread = threading.Thread(target=self._run, name=f"dlapp-experiment-{experiment_id}", daemon=True)
        self._done = threading.Event()
        self.status = "running"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Cancel queued runs, stop the training one after its batch, ask for no more trials."""
        self.stop_requested = True
        for job, _ in self._grid_jobs:
            job.stop()
        if self._current is not None:
            self._current.stop()

    def wait(self, timeout: float | None = None) -> str:
        self._done.wait(timeout)
        return self.status

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def run_ids(self) -> list[int]:
        return [member.run_id for member in self.experiments.members(self.experiment_id)]

    def _run(self) -> None:
        error = None
        try:
            if self.experiment.kind == "grid":
                self._run_grid()
            else:
                self._run_search()
            status = "stopped" if self.stop_requested else "finished"
        except Exception as exc:  # a bug or a broken store: the experiment says so instead of hanging
            status, error = "failed", f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]
            for job, _ in self._grid_jobs:
                job.stop()
        self.status = status
        try:
            self.experiments.set_status(self.experiment_id, status, error)
        finally:
            self._done.set()

    # -- grid ------------------------------------------------------------------------------

    def _run_grid(self) -> None:
        for job, _ in self._grid_jobs:
            if not self.stop_requested:
                job.start()
        for job, run in self._grid_jobs:
            self._record_parameters(job.run_id, run.config)
        for job, _ in self._grid_jobs:
            job.wait()

    def _record_parameters(self, run_id: int, config: RunConfig) -> None:
        """The model's size for the leaderboard, counted on a fresh build (a few ms for these models)."""
        try:
            from dlapp.jobs import configure_threads
            from dlapp.models import build_model

            configure_threads()  # before this thread's build starts TensorFlow, as a job would
            self.experiments.set_parameters(run_id, build_model(config.model).count_params())
        except Exception:
            pass  # a config the builder refuses fails its own run, with the reason

    # -- search ----------------------------------------------------------------------------

    def _run_search(self) -> None:
        import optuna

        plan = self.experiment.plan
        study = _study(self.experiments, self.experiment_id, plan)
        for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)  # left running by a process that died
        space = [Dimension.from_dict(raw) for raw in plan["space"]]
        distributions = {dim.name: _distribution(dim) for dim in space}
        while not self.stop_requested and self._budget_left(plan):
            trial = study.ask(distributions)
            self._run_trial(study, trial, space, plan["metric"])

    def _budget_left(self, plan: dict[str, Any]) -> bool:
        """Trials and minutes are counted from the stored runs, so a resumed search picks up where it was."""
        runs = {run.id: run for run in self.store.runs()}
        used = [m for m in self.experiments.members(self.experiment_id) if m.run_id in runs]
        counted = [m for m in used if m.pruned or runs[m.run_id].status in COUNTED]
        if plan.get("trials") is not None and len(counted) >= plan["trials"]:
            return False
        seconds = sum(runs[m.run_id].seconds or 0.0 for m in used)
        return not plan.get("minutes") or seconds < plan["minutes"] * 60

    def _run_trial(self, study, trial, space: list[Dimension], metric: str) -> None:
        import optuna

        base = self.experiment.base_config
        settings = settings_for(base, space, trial.params)
        try:
            config = base.replace(**settings).validate()
        except ValueError:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)  # check_space saw every corner; kept as a guard
            return
        job = TrainingJob(config, self.store, name=_run_name(self.experiment.name, settings), owner=self.owner)
        self.experiments.add_run(self.experiment_id, job.run_id, settings, trial_number=trial.number)
        self._current = job
        if self.stop_requested:
            job.stop()
        job.start()
        self._record_parameters(job.run_id, config)
        last, pruned = _follow(job, trial, metric)
        self._current = None
        if pruned:
            self.experiments.mark_pruned(job.run_id)
            self.store.set_status(job.run_id, "pruned")  # stopped by the search, not by a person or an error
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        elif job.status == "finished" and last is not None and math.isfinite(last):
            study.tell(trial, last)
        else:  # failed, diverged, or stopped with the experiment
            study.tell(trial, state=optuna.trial.TrialState.FAIL)


def _follow(job: TrainingJob, trial, metric: str) -> tuple[float | None, bool]:
    """Report each epoch's score to the trial until the job ends; stop the job when Optuna prunes it.

    Returns (last epoch's score, whether the trial was pruned).
    """
    seen, reported, last, pruned = 0, -1, None, False
    while True:
        ended = job.done
        events = job.events_since(seen)
        seen = events[-1].index + 1 if events else seen  # batch events may be dropped: keep the stream's place
        for event in events:
            epoch = int(event.data.get("epoch", -1))
            if event.kind != "epoch" or epoch <= reported or pruned:
                continue
            reported = epoch
            value = event.data.get(metric)
            if not isinstance(value, (int, float)):
                continue
            last = float(value)  # a diverged (NaN) last epoch makes the trial fail, below
            if not math.isfinite(last):
                continue
            trial.report(last, epoch)
            if trial.should_prune():
                pruned = True
                job.stop()  # after the current batch; the run keeps its partial model
        if ended:
            return last, pruned
        job.wait(POLL_SECONDS)


def _distribution(dim: Dimension):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if dim.choices:
        return CategoricalDistribution(list(dim.choices))
    if dim.is_int:
        return IntDistribution(int(dim.low), int(dim.high), log=dim.log)
    return FloatDistribution(float(dim.low), float(dim.high), log=dim.log)


def wait_all(runner: ExperimentRunner, timeout: float | None = None) -> str:
    """Block until the experiment ends (or `timeout` passes); polls so Ctrl-C is handled promptly."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not runner.done and (deadline is None or time.monotonic() < deadline):
        runner.wait(0.25)
    return runner.status
