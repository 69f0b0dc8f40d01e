"""One digit's forward pass as pictures: feature-map grids, strips of activations, the image.

Plain RGB arrays made with NumPy, not Plotly figures: the Draw page redraws a dozen of
them after every stroke, and a Plotly figure costs about 50 ms to build where an array
costs under one. Colours follow the charts: Viridis from zero up, blue-white-red around
zero when values go negative.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.colors

FEATURE_MAPS_SHOWN = 16  # channels per conv layer by default; the page offers the rest
UNITS_SHOWN = 512  # units per strip; a 4096-unit layer shows its first 512 and says so
UNITS_PER_ROW = 64  # a strip wraps into rows of this many units
TILE_PX = 84  # a feature map is enlarged to about this many pixels across
CELL_PX = 10  # one unit of a strip, in pixels (40 when there are 16 units or fewer)
GAP_RGB = (232, 234, 240)  # between tiles and after the last unit
DIVERGING = "RdBu_r"  # blue below zero, white at zero, red above
POSITIVE = "Viridis"  # for values that are never negative (after ReLU, probabilities)


@dataclass(frozen=True)
class Picture:
    image: np.ndarray  # (h, w, 3) uint8
    title: str  # "conv2d · Conv2D · (28, 28, 32)", plain text: show it as text, never as markup
    legend: str  # what the colours mean, in one line


def value_range(values: np.ndarray) -> tuple[str, float, float]:
    """(colour scale, low, high): diverging around zero when values go below zero, else from zero up."""
    finite = np.asarray(values, np.float64)[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if low < 0:
        bound = max(abs(low), abs(high), 1e-12)
        return DIVERGING, -bound, bound
    return POSITIVE, 0.0, max(high, 1e-12)


@functools.lru_cache(maxsize=8)
def _lookup(scale: str) -> np.ndarray:
    """(256, 3) uint8 colours along a Plotly colour scale, interpolated between its stops."""
    stops = plotly.colors.get_colorscale(scale)
    positions = [float(position) for position, _ in stops]
    rgb = np.array(
        [plotly.colors.unlabel_rgb(plotly.colors.convert_colors_to_same_type(c, "rgb")[0][0]) for _, c in stops]
    )
    at = np.linspace(0.0, 1.0, 256)
    return np.column_stack([np.interp(at, positions, rgb[:, i]) for i in range(3)]).round().astype(np.uint8)


def colorize(values: np.ndarray, scale: str, low: float, high: float) -> np.ndarray:
    """Any-shape values -> (..., 3) uint8 colours; NaN (gaps, empty places) in the gap colour."""
    values = np.asarray(values, np.float64)
    index = np.clip(np.round((np.nan_to_num(values, nan=low) - low) / (high - low) * 255), 0, 255).astype(int)
    rgb = _lookup(scale)[index]
    rgb[np.isnan(values)] = GAP_RGB
    return rgb


def tiles(images: np.ndarray, columns: int, gap: int = 1) -> np.ndarray:
    """(n, h, w) -> one float image, filled row by row, NaN in the gaps and empty places."""
    n, h, w = images.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = image
    return out


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so small maps show crisp cells instead of a blur."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def title_of(name: str, kind: str, shape) -> str:
    return f"{name} · {kind} · {tuple(int(d) for d in shape)}"


def _legend(scale: str, low: float, high: float) -> str:
    if scale == DIVERGING:
        return f"blue: negative (down to {low:.2g}), white: 0, red: positive (up to {high:.2g})"
    return f"dark: 0, yellow: the largest value here ({high:.2g})"


def feature_map_picture(maps: np.ndarray, title: str, channels: int = FEATURE_MAPS_SHOWN, columns: int = 8):
    """(h, w, c) feature maps -> the first `channels` as a grid, one colour scale for the whole layer."""
    shown = np.moveaxis(maps[..., :channels], -1, 0)  # (n, h, w)
    if maps.shape[-1] > channels:
        title = f"{title}, the first {channels} of {maps.shape[-1]} channels"
    scale, low, high = value_range(shown)
    gap = max(1, maps.shape[0] // 14)
    image = colorize(tiles(shown, columns, gap), scale, low, high)
    return Picture(enlarge(image, max(1, round(TILE_PX / maps.shape[0]))), title, _legend(scale, low, high))


def strip_picture(values: np.ndarray, title: str, max_units: int = UNITS_SHOWN) -> Picture:
    """(units,) activations as coloured cells, wrapped into rows of 64; at most `max_units` of them."""
    values = np.asarray(values, np.float64).reshape(-1)
    shown = values[:max_units]
    if len(values) > max_units:
        title = f"{title}, the first {max_units:,} of {len(values):,} units"
    per_row = min(UNITS_PER_ROW, len(shown))
    rows = -(-len(shown) // per_row)
    cells = np.full(rows * per_row, np.nan)
    cells[: len(shown)] = shown
    scale, low, high = value_range(shown)
    image = colorize(cells.reshape(rows, per_row), scale, low, high)
    return Picture(enlarge(image, CELL_PX if len(shown) > 16 else 4 * CELL_PX), title, _legend(scale, low, high))


def grey_picture(image: np.ndarray, title: str) -> Picture:
    """A (28, 28) picture (the input, a reconstruction), black at 0 and white at 1."""
    grey = (np.clip(np.asarray(image, np.float64).reshape(28, 28), 0, 1) * 255).round().astype(np.uint8)
    return Picture(enlarge(np.stack([grey] * 3, axis=-1), 6), title, "black: 0, white: 1")


def layer_picture(activation: Any, channels: int = FEATURE_MAPS_SHOWN) -> Picture:
    """The picture of one `dlapp.activations.LayerActivation`'s output, chosen by its shape."""
    values = activation.values
    title = title_of(activation.name, activation.kind, activation.shape)
    if values.size == 28 * 28 and values.ndim >= 2:  # (28, 28) or (28, 28, 1): an image
        return grey_picture(values, title)
    if values.ndim == 3 and values.shape[0] > 1:
        return feature_map_picture(values, title, channels)
    return strip_picture(values, title)
