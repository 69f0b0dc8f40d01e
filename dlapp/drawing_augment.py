"""Augmented copies of a few drawings: shift, rotation, zoom and stroke thickness, in NumPy/SciPy.

Fine-tuning has tens of drawings, not thousands; each epoch sees several changed copies of each,
so the model learns the person's shapes rather than the exact pixels of each drawing.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

MAX_SHIFT = 2.0  # px, each way
MAX_ROTATION = 12.0  # degrees, each way
ZOOM = (0.85, 1.15)  # scale of the digit
MAX_THICKNESS = 0.5  # blend towards the 3x3 dilation (thicker) or erosion (thinner), up to half way


def augment(images: np.ndarray, labels: np.ndarray, copies: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`copies` randomly changed copies of each (28, 28) image: (n * copies, 28, 28) float32, labels repeated."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(images) * copies, 28, 28), np.float32)
    for i, image in enumerate(np.repeat(np.asarray(images, np.float32), copies, axis=0)):
        out[i] = thicken(transform(image, rng), rng.uniform(-MAX_THICKNESS, MAX_THICKNESS))
    return out, np.repeat(np.asarray(labels), copies)


def transform(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotate and zoom about the centre, then shift: one affine resampling, (28, 28) -> (28, 28)."""
    angle = np.radians(rng.uniform(-MAX_ROTATION, MAX_ROTATION))
    zoom = rng.uniform(*ZOOM)
    shift = rng.uniform(-MAX_SHIFT, MAX_SHIFT, 2)
    cos, sin = np.cos(angle), np.sin(angle)
    inverse = np.array([[cos, -sin], [sin, cos]]) / zoom  # output pixel -> input pixel
    centre = np.array([13.5, 13.5])
    offset = centre - inverse @ (centre + shift)
    return ndimage.affine_transform(image, inverse, offset=offset, order=1, mode="constant", cval=0.0)


def thicken(image: np.ndarray, amount: float) -> np.ndarray:
    """Positive `amount` moves part way to a pen one pixel wider, negative to one narrower; peak ink stays 1."""
    target = ndimage.grey_dilation(image, size=3) if amount > 0 else ndimage.grey_erosion(image, size=3)
    changed = image + abs(amount) * (target - image)
    peak = changed.max()
    return (changed / peak if peak > 1e-6 else changed).astype(np.float32)
