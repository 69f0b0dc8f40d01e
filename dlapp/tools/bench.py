"""`python -m dlapp bench`: how fast dlapp is on this machine, in one run.

What it measures, and how it keeps a busy (shared, 2-core) machine from lying:

- Training throughput per architecture: a `TrainingJob` (events, store writes, TensorBoard
  logs) against a bare fit of the same config, data and batch size, in this process, rounds
  interleaved (`bench_throughput.py`). Each fit is also clocked in process CPU seconds, which
  other processes on the machine barely disturb; the target is judged on that ratio.
- What the per-epoch instruments cost against the epoch they follow, in CPU s (`bench_instruments.py`).
- Faster than a plain Keras fit (`bench_speed.py`): `fit_run` per architecture and precision
  against a bare float32 `model.fit` of the same model and batch size; test accuracy per
  precision over seeds; one epoch's time on the 60,000-image timing set.
- Stop: seconds from `job.stop()` until the training loop stops, and until the job has ended,
  per architecture (`bench_stop.py`; several batches per call delay it to the end of a call).
- Canvas (280x280 RGBA) -> probabilities and saliency latency for the default CNN (`bench_latency.py`).
- Cold load of the bundled sample (in a fresh interpreter, so no cache helps), the time to build
  each default model, the first batch event after start(), and the peak memory of a training run
  per architecture, each in its own interpreter (`bench_startup.py`).

The output is a Markdown table; with --json the last stdout line is one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dlapp.config import ARCHITECTURES, RunConfig
from dlapp.tools import bench_instruments, bench_speed
from dlapp.tools.bench_latency import latency
from dlapp.tools.bench_startup import build_times, child_run, first_batch_warm, sample_load_time
from dlapp.tools.bench_stop import stop_latency
from dlapp.tools.bench_throughput import throughput
from dlapp.tools.machine import loadavg, machine_info

TARGETS = {
    "throughput_ratio": 0.95,  # job samples/s over bare fit samples/s, at least
    "canvas_ms_median": 10.0,
    "saliency_ms_median": 50.0,
    "sample_load_s": 0.5,
    "build_s": 2.0,
    "first_batch_s": 2.0,
    "stop_loop_s": 1.0,  # Stop pressed -> the training loop's last batch
}


def add_arguments(parser) -> None:
    parser.add_argument(
        "--archs",
        default=",".join(ARCHITECTURES),
        help=f"Comma-separated architectures to measure (default: all, {','.join(ARCHITECTURES)}).",
    )
    parser.add_argument("--train-subset", type=int, default=0, help="Training images per fit (0 = all 4,000).")
    parser.add_argument("--epochs", type=int, default=3, help="Epochs per timed fit (default 3).")
    default_batch = RunConfig().train.batch_size  # the app's default: per-batch overhead shows most there
    parser.add_argument(
        "--batch-size", type=int, default=default_batch, help=f"Batch size of every fit (default {default_batch})."
    )
    parser.add_argument("--rounds", type=int, default=5, help="Timed bare/job pairs per architecture (default 5).")
    parser.add_argument("--calls", type=int, default=200, help="Calls per latency measurement (default 200).")
    bench_speed.add_speed_arguments(parser)


def parse_archs(text: str) -> tuple[str, ...]:
    archs = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [arch for arch in archs if arch not in ARCHITECTURES]
    if unknown or not archs:
        raise ValueError(f"--archs must be a comma-separated list of {', '.join(ARCHITECTURES)}; got {text!r}.")
    return archs


def settings_from_args(args) -> dict[str, Any]:
    """The bench settings, checked: one ValueError sentence for anything out of range."""
    archs = parse_archs(args.archs)
    for flag, value, low in (
        ("--epochs", args.epochs, 1),
        ("--batch-size", args.batch_size, 1),
        ("--rounds", args.rounds, 1),
        ("--calls", args.calls, 5),
    ):
        if value < low:
            raise ValueError(f"{flag} must be at least {low}; got {value}.")
    base_config(archs[0], args.train_subset, args.epochs, args.batch_size)  # validates subset and batch size
    return {
        "archs": list(archs),
        "train_subset": args.train_subset,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "calls": args.calls,
        **bench_speed.speed_settings(args),
    }


def cmd_bench(args) -> int:
    settings = settings_from_args(args)
    results = run_bench(**settings, log=_say)
    print(markdown(results))
    if args.json:
        print(json.dumps(results), flush=True)
    return 0


def run_bench(
    archs: Sequence[str],
    train_subset: int,
    epochs: int,
    batch_size: int,
    rounds: int = 3,
    calls: int = 200,
    precisions: Sequence[str] = ("auto",),
    seeds: int = 0,
    timing_size: int = 0,
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Every measurement, as one JSON-ready dict (see the module docstring)."""
    from dlapp.jobs import configure_threads

    configure_threads()  # before TensorFlow runs anything, as the app and the CLI do
    results: dict[str, Any] = {
        "machine": machine_info(),
        "settings": {
            "archs": list(archs),
            "train_subset": train_subset,
            "epochs": epochs,
            "batch_size": batch_size,
            "rounds": rounds,
            "calls": calls,
            "precisions": list(precisions),
            "seeds": seeds,
            "timing_size": timing_size,
        },
        "targets": {**TARGETS, **bench_speed.SPEED_TARGETS},
    }
    with tempfile.TemporaryDirectory(prefix="dlapp-bench-") as folder:
        log("cold load of the bundled sample (fresh interpreters)")
        results["sample_load"] = sample_load_time()
        log("building each default model")
        results["build_s"] = build_times(archs)
        results["throughput"] = {}
        for arch in archs:
            log(f"throughput of {arch}: warm-up, then {rounds} interleaved bare/job rounds")
            config = base_config(arch, train_subset, epochs, batch_size)
            results["throughput"][arch] = throughput(config, Path(folder) / "store", rounds)
        results["stop_s"] = {}
        for arch in archs:
            log(f"Stop latency of a {arch} job ({min(rounds, 3)} stops)")
            long_enough = base_config(arch, 0, max(epochs, 10), batch_size)  # 10 epochs: Stop lands mid-fit
            results["stop_s"][arch] = stop_latency(long_enough, Path(folder) / "store", repeats=min(rounds, 3))
        configs = {arch: base_config(arch, train_subset, epochs, batch_size) for arch in archs}
        speed = {"precisions": precisions, "seeds": seeds, "timing_size": timing_size}
        results.update(bench_speed.run_speed(configs, speed, rounds, log))
        log("what the per-epoch instruments cost, per architecture")
        results["instruments"] = bench_instruments.bench_section(configs)
        log(f"canvas -> probabilities and saliency latency of the default CNN ({calls} calls)")
        results["latency_ms"] = latency(calls)
        log("first batch event of the default MLP, in this (warm) process")
        results["first_batch_s"] = {"warm": first_batch_warm(Path(folder) / "store")}
        results["peak_rss_mb"] = {}
        for arch in archs:
            log(f"peak memory of a {arch} training run (fresh interpreter)")
            child = child_run(base_config(arch, train_subset, epochs, batch_size), Path(folder) / f"child-{arch}")
            results["peak_rss_mb"][arch] = child["peak_rss_mb"]
            if arch == "mlp" or "cold" not in results["first_batch_s"]:
                results["first_batch_s"]["cold"] = child["first_batch_s"]
                results["first_batch_s"]["cold_arch"] = arch
    results["machine"]["loadavg_after"] = loadavg()
    results["ok"] = verdicts(results)
    return results


def base_config(arch: str, train_subset: int, epochs: int, batch_size: int) -> RunConfig:
    """The architecture's default model on mnist-sample, with the bench's data and training sizes."""
    return RunConfig.from_flat(
        arch=arch, dataset="mnist-sample", train_subset=train_subset, epochs=epochs, batch_size=batch_size
    ).validate()


def verdicts(results: dict[str, Any]) -> dict[str, bool]:
    """Which targets were met, by name."""
    # Judged on CPU seconds: on a shared machine the wall-clock ratios swing by 2x from one run to the next.
    ok = {
        f"throughput_{arch}": r["cpu_ratio"] >= TARGETS["throughput_ratio"] for arch, r in results["throughput"].items()
    }
    ok["canvas"] = results["latency_ms"]["canvas_median"] <= TARGETS["canvas_ms_median"]
    ok["saliency"] = results["latency_ms"]["saliency_median"] <= TARGETS["saliency_ms_median"]
    ok["sample_load"] = results["sample_load"]["load_s"] < TARGETS["sample_load_s"]
    ok.update({f"build_{arch}": s < TARGETS["build_s"] for arch, s in results["build_s"].items()})
    ok["first_batch"] = results["first_batch_s"]["warm"] < TARGETS["first_batch_s"]
    ok.update(bench_instruments.bench_verdicts(results))
    ok.update({f"stop_{arch}": r["loop_s"] < TARGETS["stop_loop_s"] for arch, r in results["stop_s"].items()})
    ok.update(bench_speed.speed_verdicts(results))
    return ok


def markdown(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["settings"]
    subset = s["train_subset"] or "all"
    lines = [
        f"Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['ram_gb']} GB RAM, Python {m['python']}, "
        f"TensorFlow {m['tensorflow']}, Keras {m['keras']}; load average {m['loadavg_before']} before, "
        f"{m.get('loadavg_after', [])} after.",
        f"Settings: mnist-sample, train subset {subset}, {s['epochs']} epochs, batch size {s['batch_size']}, "
        f"{s['rounds']} interleaved rounds (medians), {s['calls']} latency calls.",
        "",
        "| measurement | value | target | met |",
        "|---|---|---|---|",
    ]

    def row(name: str, value: str, target: str, met: bool | None) -> None:
        lines.append(f"| {name} | {value} | {target} | {'' if met is None else 'yes' if met else 'NO'} |")

    ok = results["ok"]
    for arch, r in results["throughput"].items():
        row(
            f"{arch}: job / bare fit, samples per CPU s",
            f"{r['cpu_ratio']:.3f} ({r['job_cpu_sps']:,.0f} / {r['bare_cpu_sps']:,.0f})",
            f">= {TARGETS['throughput_ratio']}",
            ok[f"throughput_{arch}"],
        )
        row(
            f"  {arch}: job / bare fit, samples per wall s",
            f"{r['ratio']:.3f} ({r['job_sps']:,.0f} / {r['bare_sps']:,.0f}; paired {r['paired_ratio']:.3f})",
            "",
            None,
        )
    for arch, r in results["stop_s"].items():
        row(f"{arch}: Stop -> training loop stops, median", f"{r['loop_s']:.3f} s", "< 1 s", ok[f"stop_{arch}"])
        row(f"  {arch}: Stop -> job ended (validation, checkpoint, test)", f"{r['ended_s']:.2f} s", "", None)
    lat = results["latency_ms"]
    row("canvas -> probabilities, median (CNN)", f"{lat['canvas_median']:.2f} ms", "<= 10 ms", ok["canvas"])
    row("canvas -> probabilities, p95 (CNN)", f"{lat['canvas_p95']:.2f} ms", "", None)
    row("  of which canvas_to_mnist, median", f"{lat['preprocess_median']:.2f} ms", "", None)
    row("saliency, median (CNN)", f"{lat['saliency_median']:.2f} ms", "<= 50 ms", ok["saliency"])
    load = results["sample_load"]
    row("mnist-sample load, cold process", f"{load['load_s']:.3f} s", "< 0.5 s", ok["sample_load"])
    row("  import dlapp.data, cold process", f"{load['import_s']:.3f} s", "", None)
    for arch, seconds in results["build_s"].items():
        row(f"{arch}: build + compile default model", f"{seconds:.3f} s", "< 2 s", ok[f"build_{arch}"])
    first = results["first_batch_s"]
    row("first batch event after start(), default MLP", f"{first['warm']:.3f} s", "< 2 s", ok["first_batch"])
    if first.get("cold") is not None:
        row(
            f"  same, fresh process ({first['cold_arch']}, TensorFlow import included)",
            f"{first['cold']:.3f} s",
            "",
            None,
        )
    for arch, mb in results["peak_rss_mb"].items():
        row(f"{arch}: peak RSS of a training run", f"{mb:,.0f} MB", "", None)
    for name, value, target, met in bench_instruments.bench_rows(results):
        row(name, value, target, met)
    for name, value, target, met in bench_speed.speed_rows(results):
        row(name, value, target, met)
    return "\n".join(lines)


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
