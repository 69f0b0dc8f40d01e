"""`python -m dlapp.tools.bench_experiments`: what running runs as an experiment costs.

A grid of three MLP runs (sgd, adam, rmsprop; 3 epochs on the sample) against the same three
runs started alone, one after another, in this process. Rounds alternate which goes first.
Each side is clocked in wall seconds and in process CPU seconds; on a shared machine other
processes move the wall clock a lot and the CPU clock little, so the target (at most 1.15x)
is judged on CPU seconds, with the wall ratio beside it.

The experiment view's cost to the trainer is measured in the browser (samples/s and server
CPU seconds per run with no page watching, the Train page's live view, or the Experiments view);
see README "Measured".
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from typing import Any

from dlapp.config import RunConfig

TARGET_RATIO = 1.15
OPTIMIZERS = ("sgd", "adam", "rmsprop")


def _clocked(action) -> tuple[float, float]:
    began, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - began, time.process_time() - cpu


def grid_overhead(rounds: int = 3, epochs: int = 3, log=lambda message: None) -> dict[str, Any]:
    """Median grid/alone ratios over `rounds` interleaved rounds, and every round's numbers."""
    from dlapp import experiments
    from dlapp.jobs import TrainingJob, configure_threads
    from dlapp.store import RunStore

    configure_threads()
    store = RunStore(tempfile.mkdtemp(prefix="dlapp-bench-experiments-"))
    base = RunConfig.from_flat(arch="mlp", dataset="mnist-sample", epochs=epochs)
    TrainingJob(base.replace(epochs=1), store).start().wait()  # warm-up: TensorFlow's start counts in neither

    def alone() -> None:
        for optimizer in OPTIMIZERS:
            TrainingJob(base.replace(optimizer=optimizer), store).start().wait()

    def grid() -> None:
        experiments.wait_all(experiments.start_grid(base, {"optimizer": list(OPTIMIZERS)}, store))

    rows = []
    for round_number in range(rounds):
        first, second = (alone, grid) if round_number % 2 == 0 else (grid, alone)
        timed = {first.__name__: _clocked(first), second.__name__: _clocked(second)}
        (alone_wall, alone_cpu), (grid_wall, grid_cpu) = timed["alone"], timed["grid"]
        rows.append(
            {
                "alone_s": round(alone_wall, 2),
                "grid_s": round(grid_wall, 2),
                "wall_ratio": round(grid_wall / alone_wall, 3),
                "alone_cpu_s": round(alone_cpu, 2),
                "grid_cpu_s": round(grid_cpu, 2),
                "cpu_ratio": round(grid_cpu / alone_cpu, 3),
            }
        )
        log(f"round {round_number + 1}/{rounds}: {rows[-1]}")
    return {
        "cpu_ratio_median": statistics.median(r["cpu_ratio"] for r in rows),
        "wall_ratio_median": statistics.median(r["wall_ratio"] for r in rows),
        "target": TARGET_RATIO,
        "rounds": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlapp.tools.bench_experiments", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="Interleaved grid/alone rounds (default 3).")
    parser.add_argument("--epochs", type=int, default=3, help="Epochs per run (default 3).")
    parser.add_argument("--json", action="store_true", help="Also print the results as one JSON line.")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.epochs < 1:
        parser.error("--rounds and --epochs must be at least 1.")
    result = grid_overhead(args.rounds, args.epochs, log=lambda m: print(m, file=sys.stderr, flush=True))
    verdict = "ok" if result["cpu_ratio_median"] <= TARGET_RATIO else "OVER TARGET"
    print(
        f"grid of 3 MLP runs / the same 3 alone: {result['cpu_ratio_median']:.3f} per CPU s "
        f"({result['wall_ratio_median']:.3f} wall); target <= {TARGET_RATIO} ({verdict})"
    )
    if args.json:
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
