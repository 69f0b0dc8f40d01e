"""`python -m dlapp resume RUN_ID --epochs N [--learning-rate LR] --json`: continue a stored run.

It trains from the run's saved model (weights and optimizer state) as the same run, through
the same job and progress output as `train`; `--json` prints the usual summary last, whose
`epochs_completed` counts all of the run's epochs.
"""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Continue a stored run from its saved model: the same weights and optimizer state, the epoch count "
    "going on, the same run id. Progress goes to stderr; with --json the last stdout line is the usual "
    "summary, with epochs_completed counting all of the run's epochs."
)


def add_parser(commands, common: argparse.ArgumentParser) -> None:
    resume = commands.add_parser(
        "resume", parents=[common], allow_abbrev=False, help="Continue training a stored run.", description=DESCRIPTION
    )
    resume.add_argument("run_id", type=int, metavar="RUN_ID")
    resume.add_argument("--epochs", type=int, required=True, metavar="N", help="Further epochs to train (at least 1).")
    resume.add_argument(
        "--learning-rate", type=float, metavar="LR", help="A new learning rate (default: the run's own)."
    )


def cmd_resume(args: argparse.Namespace) -> int:
    from dlapp.cli import UsageError, report_job
    from dlapp.resume import plan_continuation, start_continuation
    from dlapp.store import RunStore

    store = RunStore(args.data_dir)
    run = store.run(args.run_id)
    try:
        plan = plan_continuation(run, args.epochs, args.learning_rate)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    job = start_continuation(store, plan, start=False)
    epochs = plan.config.train.epochs
    message = f"run {run.id}: continuing {run.arch} from epoch {plan.initial_epoch} to epoch {epochs}"
    return report_job(job, args, message)
