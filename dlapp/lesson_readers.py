"""A lesson's runs as the observations read them (`LessonRun`), and the small readers they share.

Numbers come from the store's epoch rows (`dlapp.curves.series`); percentages and other values
are written the same way in every sentence (`pct`, `num`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dlapp.curves import series

NOTHING_YET = "No run has finished an epoch yet, so there is nothing to read."


@dataclass(frozen=True)
class LessonRun:
    label: str  # the variant's name, like "dropout 0.5"
    epochs: list[dict]  # the store's epoch rows, 0-based "epoch" plus Keras's logs
    settings: dict[str, Any] = field(default_factory=dict)  # what this variant changed
    metrics: dict[str, float] = field(default_factory=dict)  # test_accuracy / test_mse, when finished
    parameters: int | None = None
    confusion: list[list[int]] | None = None  # rows = true class
    seconds: float | None = None
    group: str = ""  # a lesson with two comparisons tells them apart by this, like "rate"


def pct(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


def num(value: float) -> str:
    return f"{value:.3g}"


def last(run: LessonRun, key: str) -> float | None:
    values = series(run.epochs, key)
    return values[-1] if values else None


def at_epoch(run: LessonRun, key: str, epoch: int) -> float | None:
    """`key` after epoch `epoch` (counted from 1), or None if the run did not get there."""
    values = series(run.epochs, key)
    return values[epoch - 1] if 0 < epoch <= len(values) else None


def trained(runs: list[LessonRun]) -> list[LessonRun]:
    return [run for run in runs if series(run.epochs, "loss")]


def on_trained_runs(observe: Callable[..., str]) -> Callable[..., str]:
    """Hand `observe` only the runs that finished an epoch; with none, there is nothing to read yet."""

    @functools.wraps(observe)
    def observe_trained(runs: list[LessonRun], *args: Any, **kwargs: Any) -> str:
        runs = trained(runs)
        return observe(runs, *args, **kwargs) if runs else NOTHING_YET

    return observe_trained


def ranked(runs: list[LessonRun], key: str, highest: bool) -> list[tuple[LessonRun, float]]:
    """(run, last value of `key`) best first, leaving out runs without it."""
    scored = [(run, last(run, key)) for run in runs]
    scored = [(run, value) for run, value in scored if value is not None]
    return sorted(scored, key=lambda pair: pair[1], reverse=highest)


def ranking(runs: list[LessonRun], key: str = "val_accuracy", highest: bool = True) -> str:
    """'GRU 95.1%, LSTM 94.0%, simple 80.2%': the runs best first by their last value of `key`."""
    show = pct if key.endswith("accuracy") else num
    return ", ".join(f"{run.label} {show(value)}" for run, value in ranked(runs, key, highest))


def epochs_done(runs: list[LessonRun]) -> int:
    """Epochs the furthest run got through."""
    return max(len(series(run.epochs, "loss")) for run in runs)
