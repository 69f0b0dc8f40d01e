"""`python -m dlapp finetune RUN_ID`: teach a run's model the handwriting saved in the store.

It trains a new run (parent: RUN_ID) on the store's saved drawings through the same job as the
app, shows progress on stderr, and with `--json` prints one JSON object last: the keys of
`dlapp.finetune.SUMMARY_KEYS`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys


def add_parser(commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "finetune",
        parents=[common],
        allow_abbrev=False,
        help="Fine-tune a run's model on the drawings saved in the store (a new run).",
        description="Teach a run's model the handwriting saved in the store: a new run, trained on your drawings.",
    )
    parser.add_argument("run_id", type=int, metavar="RUN_ID")
    parser.add_argument("--epochs", type=int, default=5, help="Epochs of fine-tuning (default: 5).")


def cmd_finetune(args: argparse.Namespace) -> int:
    from dlapp import cli
    from dlapp.cli_progress import follow
    from dlapp.finetune import start_finetune, summary
    from dlapp.store import RunStore

    store = RunStore(args.data_dir)
    run = store.run(args.run_id)
    try:
        job = start_finetune(store, run, args.epochs, start=False)
    except ValueError as exc:
        raise cli.UsageError(cli._as_flags(str(exc))) from None
    cli._say(f"run {job.run_id}: fine-tuning run {run.id} on your drawings for {args.epochs} epochs")
    previous = signal.signal(signal.SIGINT, lambda *_: cli._stop(job))
    try:
        job.start()
        follow(job, sys.stderr)
    finally:
        signal.signal(signal.SIGINT, previous)
    result = summary(store, job)
    print(json.dumps(cli._jsonable(result)) if args.json else _text(result), flush=True)
    if job.status == "failed":
        cli._say(f"run {job.run_id} failed: {job.error}")
        return cli.EXIT_FAILED
    return cli.EXIT_INTERRUPTED if job.status == "stopped" else cli.EXIT_OK


def _text(result: dict) -> str:
    def pct(key: str) -> str:
        value = result.get(key)
        return "-" if value is None else f"{value:.0%}"

    return (
        f"run {result['run_id']} {result['status']} (from run {result['parent_run_id']}, "
        f"{result['drawings_used']} drawings, {result['heldout']} held out): "
        f"held-out drawings {pct('heldout_accuracy_before')} -> {pct('heldout_accuracy_after')}, "
        f"test set {pct('test_accuracy_before')} -> {pct('test_accuracy_after')}"
    )
