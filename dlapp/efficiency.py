"""How big and how fast each trained classifier is, next to how good: lesson 10's numbers.

For every finished classifier run with a model file: its parameter count, the file's size,
the median milliseconds to classify one digit (after a warm-up call, the way the Draw page
calls it) and its test accuracy. Models are loaded through the checked loader and let go
after measuring, so a long run list costs time, not memory.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlapp.lesson_observations import num, pct
from dlapp.store import RunStore

TIMED_CALLS = 20  # single-digit predictions per model; the median is reported
MAX_RUNS = 12  # newest runs measured: loading a model takes about half a second


@dataclass(frozen=True)
class EfficiencyPoint:
    run_id: int
    name: str  # person-typed: show as text
    arch: str
    parameters: int
    file_mb: float
    ms_per_prediction: float
    accuracy: float


def measure_runs(store: RunStore, limit: int = MAX_RUNS) -> list[EfficiencyPoint]:
    """The newest `limit` finished classifier runs that have a model file and a test accuracy."""
    runs = [
        run
        for run in store.runs()
        if run.status == "finished" and run.is_classifier and "test_accuracy" in run.metrics and run.model_path
    ]
    points = []
    for run in runs[:limit]:
        point = _measure(store, run)
        if point is not None:
            points.append(point)
    return points


def _measure(store: RunStore, run) -> EfficiencyPoint | None:
    from dlapp.evaluation import load_run_model
    from dlapp.inference import predict_proba

    try:
        model = load_run_model(store, run.id)
    except Exception:  # a missing or rejected file: that run is left off the chart, the rest still show
        return None
    digit = np.zeros((28, 28), dtype=np.float32)
    predict_proba(model, digit)  # the first call traces the model's function
    times = []
    for _ in range(TIMED_CALLS):
        began = time.perf_counter()
        predict_proba(model, digit)
        times.append((time.perf_counter() - began) * 1000)
    return EfficiencyPoint(
        run.id,
        run.name,
        run.arch,
        int(model.count_params()),
        Path(run.model_path).stat().st_size / 1e6,
        statistics.median(times),
        float(run.metrics["test_accuracy"]),
    )


def observe_efficiency(points: list[EfficiencyPoint], within: float = 0.01) -> str:
    """The smallest run whose accuracy is within `within` of the best, against the best."""
    if not points:
        return "No finished classifier with a saved model yet: train a few, then look again."
    best = max(points, key=lambda p: p.accuracy)
    good = [p for p in points if p.accuracy >= best.accuracy - within and p.parameters < best.parameters]
    text = f"Of {len(points)} runs, the most accurate is “{best.name}”: {_describe(best)}."
    if good:
        small = min(good, key=lambda p: p.parameters)
        text += (
            f" “{small.name}” comes within {100 * within:.0f} point of it with "
            f"{best.parameters / small.parameters:.1f} times fewer parameters: {_describe(small)}."
        )
    return text


def _describe(point: EfficiencyPoint) -> str:
    return (
        f"{pct(point.accuracy)} with {point.parameters:,} parameters, {num(point.file_mb)} MB, "
        f"{num(point.ms_per_prediction)} ms per prediction"
    )
