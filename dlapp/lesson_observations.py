"""What a lesson's runs showed, in sentences computed from their own numbers.

Each `observe_*` takes the lesson's runs (in the lesson's variant order) and returns plain
text. Nothing here is canned: every number comes from the epoch rows and metrics the store
kept, and when the numbers do not show what the lesson expects, the sentence says what they
do show. Epochs are counted from 1, as the charts show them.
"""

from __future__ import annotations

from typing import Any

from dlapp.curves import best_epoch, series
from dlapp.lesson_readers import (
    NOTHING_YET,
    LessonRun,
    at_epoch,
    epochs_done,
    last,
    num,
    on_trained_runs,
    pct,
    ranked,
    ranking,
    trained,
)

# --- lesson 1: the first network ---------------------------------------------------------------


@on_trained_runs
def observe_first_network(runs: list[LessonRun]) -> str:
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


@on_trained_runs
def observe_losses(runs: list[LessonRun]) -> str:
    if len(runs) < 2:
        return "Only one of the two runs has finished an epoch; wait for both."
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


@on_trained_runs
def observe_optimisers(runs: list[LessonRun]) -> str:
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
    best = ranked(runs, "val_loss", highest=False)
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


@on_trained_runs
def observe_overfitting(runs: list[LessonRun]) -> str:
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


@on_trained_runs
def observe_vanishing(runs: list[LessonRun]) -> str:
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
    for run, value in ranked(runs, "val_accuracy", highest=True):
        parts.append(f"{run.label} {pct(value)}" + (f" with {run.parameters:,} weights" if run.parameters else ""))
    return ", ".join(parts)


@on_trained_runs
def observe_convolution(runs: list[LessonRun]) -> str:
    text = f"Validation accuracy after {epochs_done(runs)} epochs: {_with_weights(runs)}."
    best_first = ranked(runs, "val_accuracy", highest=True)
    if len(best_first) >= 2:
        text += f" The {best_first[0][0].label} did better by {100 * (best_first[0][1] - best_first[1][1]):.1f} points."
    return text


def observe_sizes(runs: list[LessonRun], within: float = 0.01) -> str:
    """Accuracy by size, and the smallest run within `within` of the best."""
    runs = [run for run in trained(runs) if run.parameters and last(run, "val_accuracy") is not None]
    if not runs:
        return NOTHING_YET
    text = f"Validation accuracy after {epochs_done(runs)} epochs: {_with_weights(runs)}."
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


@on_trained_runs
def observe_recurrent(runs: list[LessonRun]) -> str:
    text = f"Validation accuracy after {epochs_done(runs)} epochs, best first: {ranking(runs)}."
    best_first = ranked(runs, "val_accuracy", highest=True)
    if best_first and best_first[0][0].settings.get("rnn_cell") == "simple":
        text += " Here the simple RNN did at least as well as the gated cells: their advantage did not show."
    timed = [run for run in runs if run.seconds]
    if len(timed) >= 2:
        text += " Seconds to train: " + ", ".join(f"{run.label} {run.seconds:.0f}" for run in timed) + "."
    return text


# --- lesson 8: autoencoders ------------------------------------------------------------------------


@on_trained_runs
def observe_autoencoder(runs: list[LessonRun]) -> str:
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


@on_trained_runs
def observe_saliency(runs: list[LessonRun]) -> str:
    run = runs[0]
    if "test_accuracy" not in run.metrics:
        return f"{run.label.capitalize()} has no test score yet; it appears when training finishes."
    text = f"The {run.label} got {pct(run.metrics['test_accuracy'])} of the test digits right."
    mistake = top_confusion(run.confusion or [])
    if mistake:
        true_class, predicted, count = mistake
        text += f" Its most common mistake was reading {_a(true_class)} as {_a(predicted)} ({count} times)."
    return text


# --- lesson 11: your handwriting ---------------------------------------------------------------------

NO_FINETUNE = (
    'You have not taught a model your handwriting yet. On the Draw page, turn on "Draw the digit shown", '
    'save about 10 drawings of each digit, then press "Teach this model my handwriting": your numbers appear here.'
)


def observe_mnist_only(runs: list[LessonRun]) -> str:
    """The lesson's CNN on MNIST's own test digits: the score that says nothing about your handwriting."""
    runs = [run for run in trained(runs) if "test_accuracy" in run.metrics]
    if not runs:
        return NOTHING_YET
    return (
        f"The {runs[0].label} got {pct(runs[0].metrics['test_accuracy'])} of MNIST's test digits right. "
        "Those were written like its training digits; on the Draw page, see how it does on yours."
    )


def observe_handwriting(finetunes: list[dict[str, Any]]) -> str:
    """What the person's own fine-tunes showed, newest first; each dict has `dlapp.finetune.SUMMARY_KEYS`."""
    done = [f for f in finetunes if f.get("heldout_accuracy_after") is not None and f.get("heldout")]
    if not done:
        return NO_FINETUNE
    latest = done[0]
    text = _before_after_sentence(latest) + " " + _shift_sentence(latest)
    if len(done) > 1:
        gains = [100 * (f["heldout_accuracy_after"] - f["heldout_accuracy_before"]) for f in done]
        spread = f"from {min(gains):+.0f} to {max(gains):+.0f} points"
        text += f" Over your {len(done)} fine-tunes the held-out gain ran {spread}."
    return text + f" With {latest['heldout']} held-out drawings, each one is {100 / latest['heldout']:.0f} points."


def _before_after_sentence(f: dict[str, Any]) -> str:
    before, after = f["heldout_accuracy_before"], f["heldout_accuracy_after"]
    return (
        f"Run #{f['run_id']} learned from {f['drawings_used']} of your drawings and was tested on {f['heldout']} "
        f"it never trained on: {pct(before)} right before, {pct(after)} after ({100 * (after - before):+.0f} points)."
    )


def _shift_sentence(f: dict[str, Any]) -> str:
    """How far the person's drawings were from MNIST before, and what fine-tuning cost on MNIST."""
    test_before, test_after = f.get("test_accuracy_before"), f.get("test_accuracy_after")
    if test_before is None or test_after is None:
        return ""
    text = f"On MNIST's test digits it went from {pct(test_before)} to {pct(test_after)}"
    forgot = test_before - test_after
    text += ": it kept what it knew." if forgot <= 0.01 else f": it forgot {100 * forgot:.1f} points of MNIST."
    gap = test_before - f["heldout_accuracy_before"]
    if gap > 0.05:
        text = f"Before, it read MNIST {100 * gap:.0f} points better than your drawings: that gap is the shift. " + text
    return text
