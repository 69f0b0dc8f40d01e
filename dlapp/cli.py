"""The command line: `python -m dlapp train|runs|evaluate|export`, with the same engine as the app.

Every config field is a flag named after it (`--batch-size`, `--hidden-units 128,64`,
`--batch-norm/--no-batch-norm`), generated from `dlapp.config.all_fields()`, so new
fields need no CLI change. Bad input exits with status 2 and one line on stderr,
never a traceback. TensorFlow is imported only by the commands that need it.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from dlapp import cli_resume, experiment_cli
from dlapp.cli_progress import is_number as _is_number
from dlapp.config import ConfigError, RunConfig, all_fields, describe_range, parse_int_list
from dlapp.errors import DlappError
from dlapp.names import MAX_NAME_LENGTH, clean_optional_name

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """A bad flag or value found after parsing; reported like an argparse error."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {_one_line(message)}\n")


# --- flags from the config fields ----------------------------------------------------------


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _int_list(name: str):
    def parse(text: str) -> tuple[int, ...]:
        try:
            return parse_int_list(name, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = "comma-separated list"  # argparse names the type in its own messages
    return parse


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    defaults = RunConfig().flat()
    group = parser.add_argument_group("run settings (defaults from dlapp.config)")
    for name, field in all_fields().items():
        meta, default = field.metadata, defaults[name]
        help_text = meta["help"]
        kwargs: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS}
        if "choices" in meta:
            kwargs.update(choices=meta["choices"])
        elif isinstance(default, bool):
            kwargs.update(action=argparse.BooleanOptionalAction)
        elif meta.get("items"):
            kwargs.update(type=_int_list(name), metavar="N,N")
            help_text += f" Each {describe_range(meta)}."
        else:
            kwargs.update(type=type(default), metavar=type(default).__name__.upper())
            help_text += f" Must be {describe_range(meta)}."
        shown = ",".join(map(str, default)) if isinstance(default, list) else default
        help_text += f" Default: {shown}."
        group.add_argument(_flag(name), help=help_text.replace("%", "%%"), **kwargs)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The validated run config: defaults, overridden by the flags given."""
    given = {name: getattr(args, name) for name in all_fields() if hasattr(args, name)}
    try:
        return RunConfig.from_flat(**given).validate()
    except ValueError as exc:
        raise UsageError(_as_flags(exc)) from None


def _as_flags(exc: ValueError) -> str:
    """A config error names the field (batch_size); on the command line, name the flag (--batch-size)."""
    return exc.worded(_flag(exc.field)) if isinstance(exc, ConfigError) else str(exc)


def _run_name(text: str) -> str | None:
    """The name rule of dlapp.names, checked before anything is loaded or stored."""
    try:
        return clean_optional_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_run_name.__name__ = "run name"  # argparse names the type in its own messages


# --- the parser ----------------------------------------------------------------------------


def build_parser() -> OneLineParser:
    common = OneLineParser(add_help=False)
    common.add_argument("--data-dir", help="Run store folder (default: $DLAPP_DATA_DIR or ./dlapp-data).")
    common.add_argument("--json", action="store_true", help="Print the result as one JSON object on stdout.")

    parser = OneLineParser(
        prog="dlapp", description="Train and inspect dlapp runs from the command line.", allow_abbrev=False
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)

    train = commands.add_parser(
        "train", parents=[common], allow_abbrev=False, help="Train a model and store the run.", description=_TRAIN_DOC
    )
    train.add_argument(
        "--name",
        type=_run_name,
        help=f"Name of the run, up to {MAX_NAME_LENGTH} characters on one line "
        "(default: the architecture and the run id, such as cnn-7).",
    )
    _add_config_flags(train)

    cli_resume.add_parser(commands, common)
    runs = commands.add_parser("runs", parents=[common], allow_abbrev=False, help="List the stored runs, newest first.")
    experiment_cli.add_commands(commands, common, runs)

    evaluate = commands.add_parser(
        "evaluate", parents=[common], allow_abbrev=False, help="Evaluate a run's model on its test set."
    )
    evaluate.add_argument("run_id", type=int, metavar="RUN_ID")

    export = commands.add_parser(
        "export", parents=[common], allow_abbrev=False, help="Write a run's config as a standalone Keras script."
    )
    export.add_argument("run_id", type=int, metavar="RUN_ID")
    export.add_argument("-o", "--output", help="File to write (default: stdout).")

    from dlapp import cli_finetune

    cli_finetune.add_parser(commands, common)

    from dlapp.tools import bench  # cheap: TensorFlow is imported only when the bench runs

    bench_parser = commands.add_parser(
        "bench", allow_abbrev=False, help="Measure training overhead, latency and memory on this machine."
    )
    bench_parser.add_argument("--json", action="store_true", help="Also print the results as one JSON line.")
    bench.add_arguments(bench_parser)
    return parser


_TRAIN_DOC = (
    "Train with the same engine as the app. Progress goes to stderr; with --json the last stdout line is "
    "one JSON object (run_id, status, epochs_completed, test_loss, test_accuracy or test_mse, model_path, "
    "seconds, samples_per_second). Ctrl-C stops after the current batch and keeps the run as 'stopped'."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {
        "train": cmd_train,
        "runs": cmd_runs,
        "evaluate": cmd_evaluate,
        "export": cmd_export,
        "bench": cmd_bench,
        "resume": cli_resume.cmd_resume,
        "finetune": _cmd_finetune,
        **experiment_cli.COMMANDS,
    }
    command = commands[args.command]
    try:
        return command(args)
    except (UsageError, DlappError) as exc:
        parser.exit(EXIT_USAGE, f"dlapp {args.command}: error: {_one_line(str(exc))}\n")
    except KeyboardInterrupt:
        parser.exit(EXIT_INTERRUPTED, f"dlapp {args.command}: interrupted.\n")
    except Exception as exc:  # a bug or a broken environment: still one line, never a traceback
        parser.exit(EXIT_FAILED, f"dlapp {args.command}: error: {type(exc).__name__}: {_one_line(str(exc))}\n")


# --- train ---------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from dlapp.data import load_raw
    from dlapp.jobs import TrainingJob
    from dlapp.precision import precision_warning
    from dlapp.store import RunStore

    config = config_from_args(args)
    store = RunStore(args.data_dir)
    load_raw(config.data.dataset)  # an offline full set fails here, in seconds, before a run is stored
    job = TrainingJob(config, store=store, name=args.name)
    warning = precision_warning(config.train.precision)  # allowed, but slow on this machine
    if warning:
        _say(warning)
    what = f"training {config.model.arch} on {config.data.dataset} for {config.train.epochs} epochs"
    return report_job(job, args, f"run {job.run_id}: {what}")


def report_job(job, args: argparse.Namespace, message: str) -> int:
    """Start `job`, show its progress on stderr, print its summary; the exit status says how it ended."""
    from dlapp.cli_progress import follow

    _say(message)
    previous = signal.signal(signal.SIGINT, lambda *_: _stop(job))
    try:
        job.start()
        follow(job, sys.stderr)
    finally:
        signal.signal(signal.SIGINT, previous)
    summary = _complete_summary(job)
    if args.json:
        print(json.dumps(_jsonable(summary)), flush=True)
    else:
        _print_summary(summary)
    if job.status == "failed":
        _say(f"run {job.run_id} failed: {job.error}")
        return EXIT_FAILED
    return EXIT_INTERRUPTED if job.status == "stopped" else EXIT_OK


def _stop(job) -> None:
    if not job.stop_requested:
        _say("stopping after the current batch (the run is kept) ...")
    job.stop()


def _complete_summary(job) -> dict[str, Any]:
    """The job's summary: every documented key present (None when there is no value)."""
    from dlapp.jobs import summary_keys

    summary = {key: (job.summary or {}).get(key) for key in summary_keys(job.config.is_classifier)}
    summary["run_id"], summary["status"] = job.run_id, job.status
    return summary


def _print_summary(summary: dict[str, Any]) -> None:
    parts = [f"run {summary['run_id']} {summary['status']} after {summary['epochs_completed']} epochs"]
    for key in ("test_loss", "test_accuracy", "test_mse"):
        if summary.get(key) is not None:
            parts.append(f"{key.replace('_', ' ')} {summary[key]:.4f}")
    if summary.get("model_path"):
        parts.append(f"model {summary['model_path']}")
    print(", ".join(parts))


# --- runs, evaluate, export ----------------------------------------------------------------


def cmd_runs(args: argparse.Namespace) -> int:
    from dlapp.store import RunStore

    runs = RunStore(args.data_dir).runs()
    if args.csv:
        return experiment_cli.print_runs_csv(args, RunStore(args.data_dir), runs, [_run_row(run) for run in runs])
    if args.json:
        print(json.dumps(_jsonable([_run_row(run) for run in runs])))
        return EXIT_OK
    if not runs:
        print("No runs yet; start one with `python -m dlapp train`.")
        return EXIT_OK
    rows = [_run_row(run) for run in runs]
    columns = ("id", "name", "created", "arch", "dataset", "status", "epochs", "test", "seconds")
    table = [[_cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in table)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in table:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    return EXIT_OK


def _run_row(run) -> dict[str, Any]:
    metric = "test_accuracy" if run.is_classifier else "test_mse"
    test = run.metrics.get(metric)
    return {
        "id": run.id,
        "name": run.name,
        "created": run.created,
        "arch": run.arch,
        "dataset": run.dataset,
        "status": run.status,
        "epochs": run.epochs_completed,
        "test": f"{metric.removeprefix('test_')} {test:.4f}" if _is_number(test) else None,
        "test_loss": run.metrics.get("test_loss"),
        metric: test,
        "seconds": round(run.seconds, 1) if run.seconds is not None else None,
        "model_path": run.model_path,
        "error": run.error,
    }


def cmd_evaluate(args: argparse.Namespace) -> int:
    from dlapp import evaluation
    from dlapp.data import prepare
    from dlapp.store import RunStore

    store = RunStore(args.data_dir)
    run = store.run(args.run_id)
    model = evaluation.load_run_model(store, run.id)
    data = prepare(run.config.data, run.arch, seed=run.config.train.seed)
    if run.is_classifier:
        report = evaluation.evaluate_classifier(model, data.x_test, data.y_test, data.class_names)
        result = {
            "run_id": run.id,
            "test_loss": report.loss,
            "test_accuracy": report.accuracy,
            "per_class": {
                name: {"precision": float(p), "recall": float(r), "f1": float(f)}
                for name, p, r, f in zip(report.class_names, report.precision, report.recall, report.f1, strict=True)
            },
            "confusion": report.confusion.tolist(),
        }
        text = f"run {run.id}: test loss {report.loss:.4f}, test accuracy {report.accuracy:.4f}"
    else:
        ae_report = evaluation.evaluate_autoencoder(model, data.x_test)
        result = {"run_id": run.id, "test_mse": ae_report.mse}
        text = f"run {run.id}: test mse {ae_report.mse:.4f}"
    if args.json:
        print(json.dumps(_jsonable(result)))
        return EXIT_OK
    print(text)
    for name, scores in result.get("per_class", {}).items():
        precision, recall, f1 = scores["precision"], scores["recall"], scores["f1"]
        print(f"  {name:>12}  precision {precision:.3f}  recall {recall:.3f}  f1 {f1:.3f}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from dlapp.codegen import generate_script
    from dlapp.store import RunStore

    run = RunStore(args.data_dir).run(args.run_id)
    script = generate_script(run.config)
    if not args.output:
        sys.stdout.write(script)
        return EXIT_OK
    try:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(script)
    except OSError as exc:
        raise UsageError(f"Cannot write {args.output} ({exc.strerror or exc}); choose another file with -o.") from None
    if args.json:
        print(json.dumps({"run_id": run.id, "path": args.output}))
    else:
        _say(f"wrote run {run.id} as a Keras script to {args.output}")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from dlapp.tools import bench

    try:
        bench.settings_from_args(args)
    except ValueError as exc:
        raise UsageError(_as_flags(exc)) from None
    return bench.cmd_bench(args)


def _cmd_finetune(args: argparse.Namespace) -> int:
    from dlapp.cli_finetune import cmd_finetune

    return cmd_finetune(args)


# --- small helpers -------------------------------------------------------------------------


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _jsonable(value: Any) -> Any:
    """Strict JSON: NaN and infinities (a diverged loss) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
