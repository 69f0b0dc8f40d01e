"""What a lesson's runs showed, in sentences computed from their own numbers.

Each `observe_*` takes the lesson's runs (in the lesson's variant order) and returns plain
text. Nothing here is canned: every number comes from the epoch rows and metrics the store
kept, and when the numbers do not show what the lesson expects, the sentence says what they
do show. Epochs are counted from 1, as the charts show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dlapp.curves import best_epoch, series

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


# --- small readers ---------------------------------------------------------------------------


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


def _ranked(runs: list[LessonRun], key: str, highest: bool) -> list[tuple[LessonRun, float]]:
    scored = [(run, last(run, key)) for run in runs]
    scored = [(run, value) for run, value in scored if value is not None]
    return sorted(scored, key=lambda pair: pair[1], reverse=highest)


def ranking(runs: list[LessonRun], key: str = "val_accuracy", highest: bool = True) -> str:
    """'GRU 95.1%, LSTM 94.0%, simple 80.2%': the runs best first by their last value of `key`."""
    show = pct if key.endswith("accuracy") else num
    return ", ".join(f"{run.label} {show(value)}" for run, value in _ranked(runs, key, highest))


def _epochs_done(runs: list[LessonRun]) -> int:
    return max(len(series(run.epochs, "loss")) for run in runs)


# --- lesson 1: the first network ---------------------------------------------------------------


def observe_first_network(runs: list[LessonRun]) -> str:
    runs = trained(runs)
    if not runs:
        return NOTHING_YET
    run = runs[0]
    losses = series(run.epochs, "loss")
    moved = "fell" if losses[-1] < losses[0] else "did not fall"
    text = f"Training loss {moved} from {num(losses[0])} after epoch 1 to {num(losses[-1])} after epoch {len(losses)}."
    best = best_epoch(run.epochs, "val_accuracy", lowest=False)
    if best is not None:
        text += f" Validation accuracy was best after epoch {best.epoch}: {pct(best.value)}."
    if "test_accuracy" in run.metrics:
        text += f" On the test images, which it never saw, it got {pct(run.metrics['test_accuracy'])} right."
    return text


# --- lesson 2: loss functions ------------------------------------------------------------------


def observe_losses(runs: list[LessonRun]) -> str:
    runs = trained(runs)
    if len(runs) < 2:
        return NOTHING_YET if not runs else "Only one of the two runs has finished an epoch; wait for both."
    first, second = runs[0], runs[1]
    n = min(len(series(first.epochs, "val_accuracy")), len(series(second.epochs, "val_accuracy")))
    if n == 0:
        return "These runs kept no validation images, so there is no accuracy to compare."
    start = [at_epoch(run, "val_accuracy", 1) for run in (first, second)]
    end = [at_epoch(run, "val_accuracy", n) for run in (first, second)]
    text = (
        f"After epoch 1, {first.label} reached {pct(start[0])} validation accuracy and {second.label} "
        f"{pct(start[1])}; after epoch {n}, {pct(end[0])} and {pct(end[1])}."
    )
    if start[0] > start[1] and end[0] >= end[1]:
        return text + f" {first.label.capitalize()} learned faster, as expected."
    if start[1] >= start[0] and end[1] >= end[0]:
        return text + f" Here {second.label} kept up or did better: the expected lead of {first.label} did not show."
    return text + " Neither loss was ahead all the way."


# --- lesson 3: optimisers and the learning rate ------------------------------------------------


def _loss_rises(run: LessonRun) -> int:
    losses = series(run.epochs, "loss")
    return sum(later > earlier for earlier, later in zip(losses, losses[1:], strict=False))


def observe_optimisers(runs: list[LessonRun]) -> str:
    runs = trained(runs)
    if not runs:
        return NOTHING_YET
    by_rate = [run for run in runs if run.group == "rate"]
    by_optimizer = [run for run in runs if run.group != "rate"]
    parts = []
    if by_optimizer:
        parts.append(f"Validation loss at the end, best first: {ranking(by_optimizer, 'val_loss', highest=False)}.")
    if by_rate:
        parts.append(_rates_sentence(by_rate))
    return " ".join(parts)


def _rates_sentence(runs: list[LessonRun]) -> str:
    pieces = []
    for run in runs:
        losses = series(run.epochs, "loss")
        piece = f"{run.label}: training loss {num(losses[0])} → {num(losses[-1])}"
        rises = _loss_rises(run)
        if rises:
            piece += f", up again in {rises} of {len(losses) - 1} epochs"
        pieces.append(piece)
    best = _ranked(runs, "val_loss", highest=False)
    verdict = f" Best: {best[0][0].label}." if best else ""
    return "Learning rates — " + "; ".join(pieces) + "." + verdict


# --- lesson 4: overfitting -----------------------------------------------------------------------


def _gap(run: LessonRun) -> float | None:
    val, train = last(run, "val_loss"), last(run, "loss")
    return None if val is None or train is None else val - train


def overfitting_sentence(run: LessonRun) -> str:
    best = best_epoch(run.epochs)
    val, train = series(run.epochs, "val_loss"), series(run.epochs, "loss")
    if best is None:
        return f"{run.label} kept no validation images, so overfitting cannot be seen."
    n = len(val)
    if best.epoch < n and val[-1] > best.value * 1.05 and train[n - 1] < train[best.epoch - 1]:
        return (
            f"Validation loss was lowest at epoch {best.epoch} ({num(best.value)}) and rose to {num(val[-1])} "
            f"by epoch {n} while training loss kept falling (to {num(train[n - 1])}): overfitting."
        )
    return (
        f"Validation loss was lowest at epoch {best.epoch} ({num(best.value)}) and ended at {num(val[-1])} "
        f"after epoch {n}: no clear overfitting in these numbers."
    )


def observe_overfitting(runs: list[LessonRun]) -> str:
    runs = trained(runs)
    if not runs:
        return NOTHING_YET
    plain, cures = runs[0], runs[1:]
    text = overfitting_sentence(plain)
    stopped = [cure for cure in cures if _stopped_early(cure, plain)]
    compared = [run for run in runs if run not in stopped and _gap(run) is not None]
    if len(compared) > 1:
        gaps = ", ".join(f"{run.label} {num(_gap(run))}" for run in compared)
        smallest = min(compared, key=_gap)
        text += f" Validation minus training loss at the end: {gaps}; smallest with {smallest.label}."
    for cure in stopped:
        text += " " + _early_stop_sentence(cure)
    return text


def _stopped_early(cure: LessonRun, plain: LessonRun) -> bool:
    done = len(series(cure.epochs, "loss"))
    return bool(cure.settings.get("early_stopping")) and done < len(series(plain.epochs, "loss"))


def _early_stop_sentence(cure: LessonRun) -> str:
    done = len(series(cure.epochs, "loss"))
    best = best_epoch(cure.epochs)
    kept = f" and kept the weights of epoch {best.epoch} (validation loss {num(best.value)})" if best else ""
    return f"With {cure.label}, training stopped after epoch {done}{kept}."


# --- lesson 5: vanishing gradients ----------------------------------------------------------------


def gradient_ratio(run: LessonRun) -> tuple[float, float] | None:
    """(first layer's, last layer's) gradient norm at the last epoch that recorded them."""
    for row in reversed(run.epochs):
        layers = row.get("layers")
        if isinstance(layers, dict) and layers:
            norms = [stats.get("grad_norm") for stats in layers.values() if isinstance(stats, dict)]
            norms = [n for n in norms if isinstance(n, (int, float))]
            if len(norms) >= 2:
                return norms[0], norms[-1]
    return None


def observe_vanishing(runs: list[LessonRun]) -> str:
    runs = trained(runs)
    if not runs:
        return NOTHING_YET
    parts = []
    for run in runs:
        pair = gradient_ratio(run)
        if pair is None:
            continue
        first, final = pair
        share = f"{first / final:.2g} times" if final > 0 else "an unmeasurable share of"
        parts.append(f"in {run.label} the first layer's gradient ({num(first)}) was {share} the last layer's")
    text = (
        ("At the last epoch, " + "; ".join(parts) + ".")
        if parts
        else ("These runs recorded no per-layer gradients, so only accuracy is compared.")
    )
    return text + f" Validation accuracy at the end: {ranking(runs)}."


# --- lessons 6 and 7: architectures compared --------------------------------------------------------


def _with_weights(runs: list[LessonRun]) -> str:
    """'CNN 96.7% with 105,866 weights, MLP 94.0% with 101,770': best validation accuracy first."""
    parts = []
    for run, value in _ranked(runs, "val_accuracy", highest=True):
        parts.append(f"{run.label} {pct(value)}" + (f" with {run.parameters:,} weights" if run.parameters else ""))
    return ", ".join(parts)


def observe_convolution(runs: list[LessonRun]) -> str:
    runs = trained(runs)
    if not runs:
        return NOTHING_YET
    text = f"Validation accuracy after {_epochs_done(runs)} epochs: {_with_weights(runs)}."
    ranked = _ranked(runs, "val_accuracy", highest=True)
    if len(ranked) >= 2:
        text += f" The {ranked[0][0].label} did better by {100 * (ranked[0][1] - ranked[1][1]):.1f} points."
    return text


def observe_sizes(runs: list[LessonRun], within: float = 0.01) -> str:
    """Accuracy by size, and the smallest run within `within` of the best."""
    runs = [run for run in trained(runs) if run.parameters and last(run, "val_accuracy") is not None]
    if not runs:
        return NOTHING_YET
    text = f"Validation accuracy after {_epochs_done(runs)} epochs: {_with_weights(runs)}."
    best = max(runs, key=lambda run: last(run, "val_accuracy"))
    close = [run for run in runs if last(run, "val_accuracy") >= last(best, "val_accuracy") - within]
    small = min(close, key=lambda run: run.parameters)
    if small is best:
        return text + f" No smaller model came within {100 * within:.0f} point of the {best.label}."
    ratio = best.parameters / small.parameters
    return (
        text
        + f" The {small.label} came within {100 * within:.0f} point of the best with {ratio:.1f} times fewer weights."
    )


def observe_recurrent(runs: list[LessonRun]) -> str:
    runs = trained(runs)
    if not runs:
        return NOTHING_YET
    text = f"Validation accuracy after {_epochs_done(runs)} epochs, best first: {ranking(runs)}."
    ranked = _ranked(runs, "val_accuracy", highest=True)
    if ranked and ranked[0][0].settings.get("rnn_cell") == "simple":
        text += " Here the simple RNN did at least as well as the gated cells: their advantage did not show."
    timed = [run for run in runs if run.seconds]
    if len(timed) >= 2:
        text += " Seconds to train: " + ", ".join(f"{run.label} {run.seconds:.0f}" for run in timed) + "."
    return text


# --- lesson 8: autoencoders ------------------------------------------------------------------------


def observe_autoencoder(runs: list[LessonRun]) -> str:
    runs = trained(runs)
    if not runs:
        return NOTHING_YET
    scored = [(run, run.metrics.get("test_mse", last(run, "val_mse"))) for run in runs]
    scored = [(run, value) for run, value in scored if value is not None]
    if not scored:
        return "No run has a reconstruction error yet."
    text = "Mean squared error of the redrawn digits: " + ", ".join(f"{r.label} {num(v)}" for r, v in scored) + "."
    if len(scored) == 2 and min(v for _, v in scored) > 0:
        (a, va), (b, vb) = sorted(scored, key=lambda pair: pair[1])
        text += f" {b.label.capitalize()} makes {vb / va:.1f} times the error of {a.label}."
    return text


# --- lesson 9: why did it say that -----------------------------------------------------------------


def top_confusion(confusion: list[list[int]]) -> tuple[int, int, int] | None:
    """(true class, predicted class, count) of the most frequent mistake."""
    cells = [(count, t, p) for t, row in enumerate(confusion) for p, count in enumerate(row) if t != p and count]
    if not cells:
        return None
    count, true_class, predicted = max(cells)
    return true_class, predicted, count


def _a(digit: int) -> str:
    return f"an {digit}" if digit == 8 else f"a {digit}"


def observe_saliency(runs: list[LessonRun]) -> str:
    runs = trained(runs)
    if not runs:
        return NOTHING_YET
    run = runs[0]
    if "test_accuracy" not in run.metrics:
        return f"{run.label.capitalize()} has no test score yet; it appears when training finishes."
    text = f"The {run.label} got {pct(run.metrics['test_accuracy'])} of the test digits right."
    mistake = top_confusion(run.confusion or [])
    if mistake:
        true_class, predicted, count = mistake
        text += f" Its most common mistake was reading {_a(true_class)} as {_a(predicted)} ({count} times)."
    return text
