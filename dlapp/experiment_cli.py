"""`dlapp sweep`, `dlapp tune` and `dlapp experiments`, and the CSV exports of `dlapp runs`.

The same engine as the Experiments page (dlapp.experiments). Progress goes to stderr; with
--json the last stdout line is one JSON object. Ctrl-C stops the whole experiment (queued
runs cancelled, the training one stopped after its batch) and keeps its finished runs.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Any

from dlapp import cli  # cli imports this module too: names are looked up on it when a command runs

PROGRESS_SECONDS = 0.5

_SWEEP_DOC = (
    "Train every combination of up to three settings' values (at most 64 runs), through the job queue. "
    "Example: --vary optimizer=sgd,adam --vary dropout=0,0.5. Layer sizes are written with dashes: "
    "--vary hidden_units=64,128-64. With --json the last stdout line is one JSON object: experiment_id, "
    "status, best_run_id, runs (run_id, status, settings, test_accuracy or test_mse, seconds)."
)
_TUNE_DOC = (
    "Let Optuna (TPE sampler, median pruning after each epoch) search ranges for the best validation score. "
    "Example: --search learning_rate=1e-4:1e-2:log --search dropout=0:0.6 --search activation=relu,tanh "
    "--trials 10. The study is kept in the data folder; --resume ID carries on a stopped search. "
    "With --json the last stdout line adds best_settings and pruned to what sweep prints."
)


def add_commands(commands: Any, common: argparse.ArgumentParser, runs: argparse.ArgumentParser) -> None:
    """The experiment commands, and `runs --csv [--epochs]`."""
    add_csv_flags(runs)
    sweep = commands.add_parser(
        "sweep", parents=[common], allow_abbrev=False, help="Train a grid of runs.", description=_SWEEP_DOC
    )
    sweep.add_argument("--vary", action="append", default=[], metavar="SETTING=V1,V2", help="Values to try.")
    sweep.add_argument("--name", default="", help="Name of the experiment.")
    cli._add_config_flags(sweep)

    tune = commands.add_parser(
        "tune", parents=[common], allow_abbrev=False, help="Search settings with Optuna.", description=_TUNE_DOC
    )
    tune.add_argument(
        "--search", action="append", default=[], metavar="SETTING=LOW:HIGH[:log]", help="A range or choices."
    )
    tune.add_argument("--trials", type=int, default=None, help="Trials to train (1-64; default 10).")
    tune.add_argument("--minutes", type=float, default=None, help="Stop starting trials after this much training.")
    tune.add_argument("--resume", type=int, metavar="EXPERIMENT_ID", help="Carry on a stopped or interrupted search.")
    tune.add_argument("--name", default="", help="Name of the experiment.")
    cli._add_config_flags(tune)

    listing = commands.add_parser(
        "experiments", parents=[common], allow_abbrev=False, help="List experiments, or show one's leaderboard."
    )
    listing.add_argument("experiment_id", type=int, nargs="?", metavar="EXPERIMENT_ID")
    add_csv_flags(listing)


def add_csv_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--csv", action="store_true", help="Print the table as CSV.")
    parser.add_argument("--epochs", action="store_true", help="With --csv: every epoch of every run instead.")


# --- sweep and tune ---------------------------------------------------------------------


def cmd_sweep(args: argparse.Namespace) -> int:
    from dlapp import experiments
    from dlapp.experiment_plan import parse_grid

    store, base = _store_and_base(args)
    if not args.vary:
        raise cli.UsageError("Give at least one --vary SETTING=V1,V2, like --vary optimizer=sgd,adam.")
    runner = _checked(lambda: experiments.start_grid(base, parse_grid(args.vary), store, name=args.name))
    return _drive(runner, store, args)


def cmd_tune(args: argparse.Namespace) -> int:
    from dlapp import experiments
    from dlapp.experiment_plan import parse_dimension

    store, base = _store_and_base(args)
    if args.resume is not None:
        runner = _checked(lambda: experiments.resume(args.resume, store))
        return _drive(runner, store, args)
    if not args.search:
        raise cli.UsageError("Give at least one --search SETTING=LOW:HIGH[:log], like --search dropout=0:0.6.")
    trials = args.trials if args.trials is not None or args.minutes else 10
    runner = _checked(
        lambda: experiments.start_search(
            base,
            [parse_dimension(text) for text in args.search],
            store,
            trials=trials,
            minutes=args.minutes,
            name=args.name,
        )
    )
    return _drive(runner, store, args)


def _store_and_base(args: argparse.Namespace):
    from dlapp.store import RunStore

    return RunStore(args.data_dir), cli.config_from_args(args)


def _checked(start):
    """Start the experiment; a bad grid or range is a usage error (exit 2) with its one sentence."""
    try:
        return start()
    except ValueError as exc:
        raise cli.UsageError(str(exc)) from None


def _drive(runner, store, args: argparse.Namespace) -> int:
    from dlapp.experiments import wait_all

    experiment = runner.experiment
    _say(f"experiment {experiment.id} ({experiment.kind}): {len(runner.run_ids)} run(s) queued so far")
    previous = signal.signal(signal.SIGINT, lambda *_: _stop(runner))
    try:
        seen: dict[int, tuple[str, int]] = {}
        while not runner.done:
            wait_all(runner, timeout=PROGRESS_SECONDS)
            _report_progress(store, experiment.id, seen)
    finally:
        signal.signal(signal.SIGINT, previous)
    result = experiment_result(store, experiment.id)
    if args.json:
        print(json.dumps(cli._jsonable(result)), flush=True)
    else:
        _print_result(result)
    if runner.status == "stopped":
        return cli.EXIT_INTERRUPTED
    statuses = [run["status"] for run in result["runs"]]
    return cli.EXIT_FAILED if runner.status == "failed" or (statuses and set(statuses) == {"failed"}) else cli.EXIT_OK


def _stop(runner) -> None:
    if not runner.stop_requested:
        _say("stopping the experiment after the current batch (finished runs are kept) ...")
    runner.stop()


def _report_progress(store, experiment_id: int, seen: dict[int, tuple[str, int]]) -> None:
    """One stderr line per new epoch or status change of any run of the experiment."""
    from dlapp.experiment_report import entries

    for entry in entries(store, experiment_id):
        run = entry.run
        state = (entry.status, run.epochs_completed)
        if seen.get(run.id) == state:
            continue
        seen[run.id] = state
        text = f"run {run.id} ({entry.label}): {entry.status}, epoch {run.epochs_completed}/{run.config.train.epochs}"
        if entry.score is not None:
            text += f", test {'accuracy' if run.is_classifier else 'mse'} {entry.score:.4f}"
        _say(text + (f": {run.error}" if run.error else ""))


def experiment_result(store, experiment_id: int) -> dict[str, Any]:
    """The JSON object `sweep` and `tune` print: the experiment, its best run and every run."""
    from dlapp.experiment_report import best_entry, entries
    from dlapp.experiment_store import ExperimentStore

    experiment = ExperimentStore(store).experiment(experiment_id)
    items = entries(store, experiment_id)
    best = best_entry(items)
    metric = "test_accuracy" if experiment.base_config.is_classifier else "test_mse"
    result: dict[str, Any] = {
        "experiment_id": experiment.id,
        "status": experiment.status,
        "best_run_id": best.run.id if best else None,
        "runs": [
            {
                "run_id": e.run.id,
                "status": e.status,
                "settings": e.member.settings,
                metric: e.score,
                "seconds": round(e.run.seconds, 3) if e.run.seconds is not None else None,
            }
            for e in items
        ],
    }
    if experiment.kind == "search":
        result["best_settings"] = best.member.settings if best else None
        result["pruned"] = sum(e.member.pruned for e in items)
    return result


def _print_result(result: dict[str, Any]) -> None:
    print(f"experiment {result['experiment_id']} {result['status']}; best run: {result['best_run_id'] or '-'}")
    for run in result["runs"]:
        score = next((run[k] for k in ("test_accuracy", "test_mse") if k in run), None)
        shown = "-" if score is None else f"{score:.4f}"
        print(f"  run {run['run_id']}  {run['status']:<9} {shown:>7}  {json.dumps(run['settings'])}")


# --- listing and CSV --------------------------------------------------------------------


def cmd_experiments(args: argparse.Namespace) -> int:
    from dlapp.experiment_report import entries, experiment_epoch_rows, leaderboard, to_csv
    from dlapp.experiment_store import ExperimentStore
    from dlapp.store import RunStore

    store = RunStore(args.data_dir)
    experiments = ExperimentStore(store)
    if args.experiment_id is None:
        rows = [_experiment_row(store, e) for e in experiments.experiments()]
        return _print_table(rows, args, empty="No experiments yet; start one with `python -m dlapp sweep` or `tune`.")
    experiment = experiments.experiment(args.experiment_id)
    items = entries(store, experiment.id)
    if args.csv and args.epochs:
        sys.stdout.write(to_csv(experiment_epoch_rows(store, items)))
        return cli.EXIT_OK
    if args.json:
        print(json.dumps(cli._jsonable(experiment_result(store, experiment.id))))
        return cli.EXIT_OK
    return _print_table(leaderboard(experiment, items), args, empty="This experiment has no runs.")


def _experiment_row(store, experiment) -> dict[str, Any]:
    from dlapp.experiment_report import best_entry, entries

    items = entries(store, experiment.id)
    best = best_entry(items)
    return {
        "id": experiment.id,
        "name": experiment.name,
        "kind": experiment.kind,
        "status": experiment.status,
        "runs": len(items),
        "best_run": best.run.id if best else None,
        "best": round(best.score, 4) if best else None,
        "created": experiment.created[:16].replace("T", " "),
    }


def print_runs_csv(args: argparse.Namespace, store, runs, rows: list[dict]) -> int:
    """`dlapp runs --csv`: the runs table, or with --epochs every epoch of every run."""
    from dlapp.experiment_report import epoch_rows, to_csv

    sys.stdout.write(to_csv(epoch_rows(store, runs) if args.epochs else rows))
    return cli.EXIT_OK


def _print_table(rows: list[dict[str, Any]], args: argparse.Namespace, empty: str) -> int:
    from dlapp.experiment_report import to_csv

    if args.csv:
        sys.stdout.write(to_csv(rows))
        return cli.EXIT_OK
    if args.json:
        print(json.dumps(cli._jsonable(rows)))
        return cli.EXIT_OK
    if not rows:
        print(empty)
        return cli.EXIT_OK
    columns = list(rows[0])
    table = [[_text(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in table)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in table:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    return cli.EXIT_OK


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "*" if value else ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


COMMANDS = {"sweep": cmd_sweep, "tune": cmd_tune, "experiments": cmd_experiments}
