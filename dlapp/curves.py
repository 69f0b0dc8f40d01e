"""Reading a run's loss curves: the best epoch, and whether it has started to overfit.

Pure functions over the store's epoch rows (`[{"epoch": 0, "loss": ..., "val_loss": ...}, ...]`,
epochs 0-based as Keras counts them); what they return counts epochs from 1, as people do.
The live Train view and the lessons' observations both read curves through here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

RISING_EPOCHS = 3  # validation loss must rise this many epochs in a row before we call it


@dataclass(frozen=True)
class BestEpoch:
    epoch: int  # counted from 1
    value: float


@dataclass(frozen=True)
class Overfitting:
    since_epoch: int  # the last epoch before validation loss started to rise, counted from 1
    val_from: float
    val_to: float
    train_from: float
    train_to: float

    def sentence(self) -> str:
        return (
            f"Overfitting? Validation loss rose from {self.val_from:.3g} to {self.val_to:.3g} after epoch "
            f"{self.since_epoch} while training loss fell from {self.train_from:.3g} to {self.train_to:.3g}."
        )


def series(rows: list[dict], key: str) -> list[float]:
    """One log's values in epoch order, stopping at the first epoch without it (or with NaN)."""
    values = []
    for row in rows:
        value = row.get(key)
        if not isinstance(value, (int, float)) or math.isnan(value):
            break
        values.append(float(value))
    return values


def best_epoch(rows: list[dict], key: str = "val_loss", lowest: bool = True) -> BestEpoch | None:
    """The epoch where `key` was lowest (or highest), the earliest on ties; None without that log."""
    values = series(rows, key)
    if not values:
        return None
    pick = min if lowest else max
    index = values.index(pick(values))
    return BestEpoch(index + 1, values[index])


def overfitting(rows: list[dict], rising: int = RISING_EPOCHS) -> Overfitting | None:
    """Validation loss rose in each of the last `rising` epochs while training loss fell in each."""
    val, train = series(rows, "val_loss"), series(rows, "loss")
    n = min(len(val), len(train))
    if n < rising + 1:
        return None
    val, train = val[n - rising - 1 : n], train[n - rising - 1 : n]
    val_rose = all(later > earlier for earlier, later in pairwise(val))
    train_fell = all(later < earlier for earlier, later in pairwise(train))
    if not (val_rose and train_fell):
        return None
    return Overfitting(n - rising, val[0], val[-1], train[0], train[-1])
