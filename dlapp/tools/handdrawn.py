"""`python -m dlapp.tools.handdrawn`: how models read digits drawn the way the Draw page draws them.

Each candidate - the default CNN (Train page, CNN, nothing changed), the "best for drawing"
preset - is trained with several training seeds on the bundled sample (`fit_run`, the app's
own recipe) and scored on mouse-like canvas drawings (`dlapp.sketches`): procedural styles
and real pendigits writers, through `canvas_to_mnist` and through a plain resize. Settings
were chosen on the "dev" drawings; this prints the "report" ones unless told otherwise.
Every number is the mean over seeds and, in brackets, the worst seed.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np

from dlapp.config import RunConfig
from dlapp.presets import BEST_FOR_DRAWING
from dlapp.tools.drawing_eval import Score, score, worst_pairs
from dlapp.tools.machine import machine_info
from dlapp.tools.sketches import PARTS, DrawingSet, drawing_sets

CANDIDATES = {
    "default CNN": RunConfig().replace(arch="cnn"),
    f"preset '{BEST_FOR_DRAWING.name}'": BEST_FOR_DRAWING.config,
}
SEEDS = (1, 2, 3)


def train_and_score(config: RunConfig, seed: int, sets: tuple[DrawingSet, ...], keep_model: bool = False) -> dict:
    """One training seed: fit seconds, sample test accuracy, a Score per drawing set (and the model if asked)."""
    from dlapp.training import fit_run

    result = fit_run(config.replace(seed=seed))
    scores = {drawings.name.split()[0]: score(result.model, drawings) for drawings in sets}
    out = {
        "seconds": result.fit_seconds,
        "val": result.metrics.get("val_accuracy", float("nan")),  # where settings are chosen, with the dev drawings
        "test": result.metrics["test_accuracy"],
        "scores": scores,
    }
    return {**out, "model": result.model} if keep_model else out


def _train_and_score(job: tuple) -> tuple:
    name, config, seed, sets = job
    return name, train_and_score(config, seed, sets)


def run_all(candidates: dict[str, RunConfig], seeds, sets, jobs: int) -> dict[str, list[dict]]:
    """Every candidate with every seed; in `jobs` separate processes when more than one (spawned: TF and fork clash)."""
    work = [(name, config, seed, sets) for name, config in candidates.items() for seed in seeds]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            done = list(pool.map(_train_and_score, work))
    else:
        done = [_train_and_score(job) for job in work]
    results: dict[str, list[dict]] = {name: [] for name in candidates}
    for name, result in done:
        results[name].append(result)
    return results


def mean_worst(values) -> str:
    values = np.asarray(list(values), float)
    return f"{values.mean():.1%} ({values.min():.1%})"


def print_summary(results: dict[str, list[dict]], sets: list[str]) -> None:
    head = ["model", "train s", "sample test (1,000)", *(f"{s} drawings" for s in sets), "plain resize, all drawings"]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for name, runs in results.items():
        cells = [name, f"{np.mean([r['seconds'] for r in runs]):.0f}", mean_worst(r["test"] for r in runs)]
        cells += [mean_worst(r["scores"][s].accuracy for r in runs) for s in sets]
        cells.append(mean_worst(np.mean([r["scores"][s].plain_accuracy for s in sets]) for r in runs))
        print("| " + " | ".join(cells) + " |")


def print_per_digit(results: dict[str, list[dict]], sets: list[str]) -> None:
    print("\nPer digit (canvas_to_mnist), mean over seeds (worst):\n")
    print("| model | drawings | " + " | ".join(str(d) for d in range(10)) + " |\n|" + "---|" * 12)
    for name, runs in results.items():
        for s in sets:
            digits = np.array([r["scores"][s].per_digit for r in runs])  # (seeds, 10)
            cells = [f"{digits[:, d].mean():.0%} ({digits[:, d].min():.0%})" for d in range(10)]
            print(f"| {name} | {s} | " + " | ".join(cells) + " |")
    print("\nMost frequent mistakes, true → predicted (drawings per seed):\n")
    for name, runs in results.items():
        for s in sets:
            scores: list[Score] = [r["scores"][s] for r in runs]
            pairs = ", ".join(f"{t}→{p} {n:.1f}" for (t, p), n in worst_pairs(scores))
            print(f"- {name}, {s}: {pairs or 'none'}")
    print("\nProcedural mistakes by drawing style, style → predicted (drawings per seed):\n")
    for name, runs in results.items():
        scores = [r["scores"]["procedural"] for r in runs if "procedural" in r["scores"]]
        styles = ", ".join(f"{k} → {p} {n:.1f}" for (k, p), n in worst_pairs(scores, by_kind=True))
        print(f"- {name}: {styles or 'none'}")


def stroke_latency_ms(repeats: int = 50) -> float:
    """Median ms from a canvas image to the starter model's probabilities (preprocessing included), model loaded."""
    from dlapp.inference import predict_proba
    from dlapp.preprocess import canvas_to_mnist
    from dlapp.starter import load_starter
    from dlapp.tools.sketches import draw_procedural

    model = load_starter()

    canvas = draw_procedural(7, "plain", np.random.default_rng(99))
    predict_proba(model, canvas_to_mnist(canvas))  # trace once, outside the timing
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        predict_proba(model, canvas_to_mnist(canvas))
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dlapp.tools.handdrawn", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=len(SEEDS), help="training seeds per model (1..N)")
    parser.add_argument("--part", choices=PARTS, default="report", help="which drawings to score")
    parser.add_argument("--jobs", type=int, default=1, help="train this many runs at once, in separate processes")
    args = parser.parse_args(argv)
    seeds = list(range(1, args.seeds + 1))
    sets = drawing_sets(args.part)
    results = run_all(CANDIDATES, seeds, sets, args.jobs)
    names = [d.name.split()[0] for d in sets]
    counts = ", ".join(f"{len(d.labels)} {d.name}" for d in sets)
    print(f"Drawings: {counts}; models trained on mnist-sample with training seeds {seeds}.\n")
    print_summary(results, names)
    print_per_digit(results, names)
    print(f"\nStarter model, canvas -> probabilities, median of 50: {stroke_latency_ms():.1f} ms")
    m = machine_info()
    print(
        f"Machine: {m['cpu_model']}, {m['nproc']} cores (shared with other work), load {m['loadavg_before']}, "
        f"Python {m['python']}, TensorFlow {m['tensorflow']}; {args.jobs} run(s) trained at once."
    )


if __name__ == "__main__":
    main()
