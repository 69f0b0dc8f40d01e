"""Canvas image -> MNIST-style 28x28 digit, prepared the way MNIST itself was made.

MNIST digits are white ink on black, cropped to the ink, scaled so the longer side
is 20 px (anti-aliased, aspect kept), placed in a 28x28 field with the centre of
mass at pixel (14, 14). A model trained on MNIST only works on a drawing that went
through the same steps; `naive_resize` skips them, to show why they matter.

Pure NumPy + Pillow: no TensorFlow here, so the Draw page stays light.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from dlapp.errors import EmptyCanvas

SIZE = 28  # MNIST field
BOX = 20  # longer side of the digit inside the field
CENTRE = 14.0  # MNIST's centre of mass, in pixel-index coordinates (measured on the sample: 14.0, 14.0)
MAX_SIDE = 4096  # larger arrays are refused: they are not canvases and would cost seconds
INK_LEVEL = 0.1  # a pixel with at least this much ink belongs to the drawing (anti-aliased edges are fainter)
MIN_INK_FRACTION = 1e-3  # less ink than this share of the canvas is a stray click, not a digit
EMPTY_MESSAGE = "The canvas is empty: draw a digit first."


def canvas_to_mnist(image: np.ndarray) -> np.ndarray:
    """Canvas RGBA/RGB/grey (H, W[, C]) -> (28, 28) float32 in [0, 1], white ink on black, MNIST-centred."""
    ink = extract_ink(image)  # (H, W) in [0, 1]
    rows, cols = np.nonzero(ink >= INK_LEVEL)
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    height, width = ink.shape
    scale = BOX / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))  # Pillow wants (w, h)
    digit = _resize(ink, new_size)
    return _normalise(_place_by_centre_of_mass(digit))


def naive_resize(image: np.ndarray) -> np.ndarray:
    """The whole canvas squeezed to 28x28 with the same ink extraction: no crop, no centring."""
    return _normalise(_resize(extract_ink(image), (SIZE, SIZE)))


def extract_ink(image: np.ndarray) -> np.ndarray:
    """Any canvas convention -> (H, W) float32 ink in [0, 1] (1 = full ink); raises EmptyCanvas.

    Conventions: ink in the alpha channel (a transparent canvas, where RGB may be
    all zeros), light ink on a dark background, dark ink on a light background.
    """
    pixels = _as_float_image(image)  # (H, W, C) in [0, 1]
    channels = pixels.shape[2]
    alpha = pixels[..., 3] if channels in (2, 4) else None
    if alpha is not None and np.ptp(alpha) > INK_LEVEL:
        # Transparent canvas: where something was drawn is where alpha is; its colour does not matter.
        level = alpha
    else:
        colour = pixels[..., :3] if channels >= 3 else pixels[..., :1]
        level = colour @ np.array([0.299, 0.587, 0.114], np.float32) if colour.shape[2] == 3 else colour[..., 0]
    ink = _ink_against_background(level)
    if ink.max(initial=0.0) < INK_LEVEL or ink.mean() < MIN_INK_FRACTION:
        raise EmptyCanvas(EMPTY_MESSAGE)
    # Coloured or grey ink still counts as full ink: MNIST strokes peak at 255.
    return np.clip(ink / ink.max(), 0.0, 1.0)


def _ink_against_background(level: np.ndarray) -> np.ndarray:
    """Ink = distance from the background level, read off the border (the part people rarely draw on)."""
    border = np.concatenate([level[0], level[-1], level[:, 0], level[:, -1]])
    background = float(np.median(border))
    if background > 0.5:  # dark ink on a light background: invert
        return np.clip((background - level) / background, 0.0, 1.0)
    return np.clip((level - background) / (1.0 - background), 0.0, 1.0)


def _as_float_image(image: np.ndarray) -> np.ndarray:
    """Validate and convert to (H, W, C) float32 in [0, 1]; one-sentence ValueError otherwise."""
    if isinstance(image, Image.Image):
        image = np.asarray(image)
    try:
        array = np.asarray(image)
    except (ValueError, TypeError):  # ragged nested lists: NumPy's own message is two sentences
        raise ValueError("The canvas image must be a rectangular array of pixel values, like (280, 280, 4).") from None
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"The canvas image must hold numbers, but its values are of type {array.dtype}.")
    if array.ndim == 3 and array.shape[2] not in (1, 2, 3, 4):
        raise ValueError(
            f"The canvas image has {array.shape[2]} channels; expected 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA)."
        )
    if array.ndim not in (2, 3):
        raise ValueError(f"The canvas image must be (height, width) or (height, width, channels); got {array.shape}.")
    height, width = array.shape[:2]
    if min(height, width) < 1 or max(height, width) > MAX_SIDE:
        raise ValueError(f"The canvas image is {height}x{width} px; each side must be 1 to {MAX_SIDE} px.")
    pixels = array.astype(np.float32)
    if not np.isfinite(pixels).all():
        raise ValueError("The canvas image contains NaN or infinite values; send pixel values 0-255.")
    if np.issubdtype(array.dtype, np.integer) or pixels.max(initial=0.0) > 1.0:
        pixels /= 255.0  # integers, or floats that are clearly on the 0-255 scale
    pixels = np.clip(pixels, 0.0, 1.0)
    return pixels[..., None] if pixels.ndim == 2 else pixels


def _resize(ink: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Anti-aliased resize of a float image; `size` is (width, height) as Pillow has it."""
    # BOX averages every source pixel (no aliasing on big reductions); LANCZOS keeps enlargements smooth.
    shrinking = size[0] <= ink.shape[1] and size[1] <= ink.shape[0]
    method = Image.Resampling.BOX if shrinking else Image.Resampling.LANCZOS
    resized = Image.fromarray(ink.astype(np.float32)).resize(size, method)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _place_by_centre_of_mass(digit: np.ndarray) -> np.ndarray:
    """Paste a (h, w) digit (h, w <= 20) into 28x28 so its centre of mass lands on (14, 14).

    The offset is rounded to whole pixels, as MNIST did, and clamped so no ink falls off the field.
    """
    height, width = digit.shape
    mass = digit.sum()
    rows, cols = np.indices(digit.shape)
    centre_row = (digit * rows).sum() / mass if mass > 0 else (height - 1) / 2
    centre_col = (digit * cols).sum() / mass if mass > 0 else (width - 1) / 2
    top = int(np.clip(round(CENTRE - centre_row), 0, SIZE - height))
    left = int(np.clip(round(CENTRE - centre_col), 0, SIZE - width))
    field = np.zeros((SIZE, SIZE), np.float32)
    field[top : top + height, left : left + width] = digit
    return field


def _normalise(image: np.ndarray) -> np.ndarray:
    """Scale so the strongest pixel is 1: thin strokes lose contrast when shrunk, MNIST's do not."""
    peak = image.max(initial=0.0)
    if peak <= 0:
        raise EmptyCanvas(EMPTY_MESSAGE)
    return (image / peak).astype(np.float32)
