"""A 60,000-image training set for timing only: the bundled sample's digits, shifted and rotated.

The full MNIST cannot be downloaded on every machine, yet epoch times and batch-size choices
must be measured at its size. Each of the sample's 4,000 training digits appears 15 times,
every copy moved by up to 3 px and turned by up to 15 degrees (bilinear resampling, NumPy
only), which keeps the digits readable and varied enough that a model cannot simply
memorise them. The test set is the sample's 1,000 real, untouched test digits.
Not a dataset to learn from: a stand-in with MNIST's size and shape.
"""

from __future__ import annotations

import functools

import numpy as np

from dlapp.data import PreparedData, RawData, load_raw, shape_for

TIMING_SIZE = 60_000  # MNIST's training set
MAX_SHIFT_PX = 3.0
MAX_ROTATION_DEGREES = 15.0
_CHUNK = 5_000  # images resampled at once: bounds the coordinate arrays to ~16 MB each


@functools.lru_cache(maxsize=1)  # 47 MB at full size, and ~10 CPU seconds to make
def timing_set(size: int = TIMING_SIZE, seed: int = 0) -> RawData:
    """`size` moved and turned copies of the sample's training digits, and its real test digits."""
    if size < 1:
        raise ValueError(f"size must be at least 1 image; got {size}.")
    sample = load_raw("mnist-sample")
    rng = np.random.default_rng(seed)
    # Each training digit size/4000 times (rounded either way), in random order.
    source = rng.permutation(np.resize(rng.permutation(len(sample.x_train)), size))
    angles = np.deg2rad(rng.uniform(-MAX_ROTATION_DEGREES, MAX_ROTATION_DEGREES, size))
    shifts = rng.uniform(-MAX_SHIFT_PX, MAX_SHIFT_PX, (size, 2))
    images = np.empty((size, 28, 28), dtype=np.uint8)
    for start in range(0, size, _CHUNK):
        part = slice(start, start + _CHUNK)
        images[part] = _moved(sample.x_train[source[part]], angles[part], shifts[part])
    return RawData("mnist-sample", images, sample.y_train[source], sample.x_test, sample.y_test)


def timing_prepared(arch: str, size: int = TIMING_SIZE, seed: int = 0) -> PreparedData:
    """The timing set shaped for `arch`, all of it for training (no validation split), for `fit_run(data=...)`."""
    raw = timing_set(size, seed)
    no_images = shape_for(raw.x_train[:0], arch)
    return PreparedData(
        x_train=shape_for(raw.x_train, arch),
        y_train=raw.y_train,
        x_val=no_images,
        y_val=raw.y_train[:0],
        x_test=shape_for(raw.x_test, arch),
        y_test=raw.y_test,
        class_names=raw.class_names,
    )


def _moved(images: np.ndarray, angles: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Rotate each (28, 28) uint8 image about its centre by its angle, then shift it; bilinear, zero fill."""
    n = len(images)
    rows, cols = np.mgrid[0:28, 0:28].astype(np.float32) - 13.5  # pixel centres about the image centre
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    # For each output pixel, where it comes from in the source: the inverse rotation and shift.
    r = rows - shifts[:, 0, None, None]
    c = cols - shifts[:, 1, None, None]
    src_r = (cos * r - sin * c + 13.5).astype(np.float32)  # (n, 28, 28)
    src_c = (sin * r + cos * c + 13.5).astype(np.float32)
    r0, c0 = np.floor(src_r).astype(np.int64), np.floor(src_c).astype(np.int64)
    fr, fc = src_r - r0, src_c - c0
    padded = np.zeros((n, 30, 30), dtype=np.float32)  # one zero pixel around, so r0+1 and -1 stay inside
    padded[:, 1:29, 1:29] = images
    flat = padded.reshape(n, 900)

    def at(r_idx, c_idx):  # (n, 28, 28) source pixels, zero outside the image
        index = np.clip(r_idx + 1, 0, 29) * 30 + np.clip(c_idx + 1, 0, 29)
        return np.take_along_axis(flat, index.reshape(n, 784), axis=1).reshape(n, 28, 28)

    value = (
        at(r0, c0) * (1 - fr) * (1 - fc)
        + at(r0, c0 + 1) * (1 - fr) * fc
        + at(r0 + 1, c0) * fr * (1 - fc)
        + at(r0 + 1, c0 + 1) * fr * fc
    )
    return np.clip(np.rint(value), 0, 255).astype(np.uint8)
