"""Does a drawing look like a handwritten digit at all? Judged on the image, not by the classifier.

A classifier's softmax spreads 100% over the ten digits, so it is always confident about one
of them, even for a scribble unlike anything it trained on. This check looks at the 28x28
image itself (after `canvas_to_mnist`) and compares it with real MNIST digits.

What separates scribbles from digits (measured on this repository's data, 2026-11-26):
the 1,000 `mnist-sample` test digits, 500 canvas-like drawings from `dlapp.handdrawn`
(seed 0) and 20 scribbles drawn on a 280x280 canvas with the app's 18 px pen (bars, a wave,
a zigzag, a spiral, a hash sign, a box, a filled blob, eight random 10-point strokes):

- Height / width of the ink's bounding box: digits are taller than wide or square
  (0.5th percentile 0.6 on MNIST, 0.9 on the drawings); a horizontal bar is 0.1, a wave 0.35.
- Distance to the nearest of the 4,000 training digits (pixel L2, images in [0, 1]): median
  5.2 on MNIST test digits, at most 6.9 on the drawings; above 7.5 for 2.8% of MNIST test
  digits (its oddest), for no drawing, and for the zigzag, spiral, hash, box, blob and most
  random strokes.

Together (aspect under 0.5, or nearest digit further than 7.5) they flag 14 of the 20
scribbles, 0 of the 500 drawings and 2.8% of MNIST's test digits. A diagonal stroke, a plus
and an x pass: they are close to a 1, a 4 and some 8s, so the check does not claim them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_ASPECT = 0.5  # ink height / width below this is a bar or a wave lying down, not a digit
MAX_NEAREST = 7.5  # pixel distance to the nearest training digit beyond which nothing in MNIST is close
INK_LEVEL = 0.1  # as in dlapp.preprocess: fainter pixels are anti-aliased edges


@dataclass(frozen=True)
class DigitCheck:
    looks_like_digit: bool
    aspect: float  # ink bounding box height / width
    nearest: float  # L2 distance to the closest reference digit
    reason: str | None  # one sentence when it does not look like a digit


class DigitReference:
    """Reference digits (N, 28, 28) in [0, 1], kept flat for one matrix product per check."""

    def __init__(self, images: np.ndarray) -> None:
        self._flat = np.asarray(images, dtype=np.float32).reshape(len(images), -1)  # (N, 784)
        self._norms = (self._flat**2).sum(axis=1)  # (N,)

    def nearest(self, images: np.ndarray) -> np.ndarray:
        """(M,) L2 distance from each of (M, 28, 28) images to its closest reference digit."""
        v = np.asarray(images, dtype=np.float32).reshape(len(images), -1)  # (M, 784)
        squared = self._norms[None, :] - 2.0 * (v @ self._flat.T) + (v**2).sum(axis=1)[:, None]  # (M, N)
        return np.sqrt(np.maximum(squared.min(axis=1), 0.0))

    def check(self, image: np.ndarray) -> DigitCheck:
        """Judge one (28, 28) image in [0, 1], white ink on black (as `canvas_to_mnist` returns)."""
        return self.check_many(np.asarray(image)[None])[0]

    def check_many(self, images: np.ndarray) -> list[DigitCheck]:
        return [_judge(ink_aspect(image), float(d)) for image, d in zip(images, self.nearest(images), strict=True)]


def _judge(aspect: float, nearest: float) -> DigitCheck:
    reason = None
    if aspect < MIN_ASPECT:
        reason = "it is much wider than tall, and handwritten digits never are."
    elif nearest > MAX_NEAREST:
        reason = "no digit among thousands of real ones is anywhere near its shape."
    return DigitCheck(reason is None, aspect, nearest, reason)


def ink_aspect(image: np.ndarray) -> float:
    """Height / width of the box around the ink (rows and columns with a pixel of at least INK_LEVEL)."""
    rows = np.flatnonzero(np.asarray(image).max(axis=1) >= INK_LEVEL)
    cols = np.flatnonzero(np.asarray(image).max(axis=0) >= INK_LEVEL)
    if len(rows) == 0:
        return 1.0
    return (rows[-1] - rows[0] + 1) / (cols[-1] - cols[0] + 1)


def mnist_reference() -> DigitReference:
    """The bundled sample's 4,000 training digits."""
    from dlapp.data import load_raw

    return DigitReference(load_raw("mnist-sample").x_train.astype(np.float32) / 255.0)
