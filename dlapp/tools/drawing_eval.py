"""How a model reads a set of drawings: accuracy, per-digit accuracy and the pairs it confuses.

Streamlit-free; the model is anything with Keras's `predict` and `input_shape`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from dlapp.tools.sketches import DrawingSet


@dataclass(frozen=True)
class Score:
    accuracy: float  # through canvas_to_mnist
    plain_accuracy: float  # through a plain 28x28 resize
    per_digit: tuple[float, ...]  # accuracy per true digit 0-9, canvas_to_mnist
    confusions: dict[tuple[int, int], int]  # (true, predicted) -> count, mistakes only
    # (drawing kind, predicted) -> count, mistakes only: which style of a digit is misread ("6 big loop", 0)
    kind_confusions: dict[tuple[str, int], int] = field(default_factory=dict)


def predicted_labels(model, images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) images -> (n,) predicted digits, shaped for whatever input the model takes."""
    shaped = images.reshape((len(images), *model.input_shape[1:]))
    return np.argmax(model.predict(shaped, batch_size=256, verbose=0), axis=1)


def score(model, drawings: DrawingSet) -> Score:
    guesses = predicted_labels(model, drawings.images)
    plain = predicted_labels(model, drawings.plain)
    labels = drawings.labels
    right = guesses == labels
    per_digit = tuple(float(np.mean(right[labels == d])) if np.any(labels == d) else float("nan") for d in range(10))
    confusions = Counter((int(t), int(p)) for t, p in zip(labels[~right], guesses[~right], strict=True))
    kinds = np.asarray(drawings.kinds)
    by_kind = Counter((str(k), int(p)) for k, p in zip(kinds[~right], guesses[~right], strict=True))
    return Score(float(np.mean(right)), float(np.mean(plain == labels)), per_digit, dict(confusions), dict(by_kind))


def worst_pairs(scores: list[Score], top: int = 5, by_kind: bool = False) -> list[tuple[tuple, float]]:
    """The most frequent (true, predicted) mistakes, or (drawing kind, predicted) ones, averaged over scores."""
    total: Counter = Counter()
    for one in scores:
        total.update(one.kind_confusions if by_kind else one.confusions)
    return [(pair, count / len(scores)) for pair, count in total.most_common(top)]
