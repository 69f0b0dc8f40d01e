"""Procedural canvas drawings of digits, to measure how a model does on what people draw.

MNIST test accuracy says little about the Draw page: there a digit is drawn with a
mouse, in any size, anywhere on a 280x280 canvas, in the person's own style. This
module renders digits 0-9 as pen strokes (several common styles per digit: 7 with
and without a bar, open and closed 4, ...) with random size, position, slant,
rotation, stroke width and wobble, on a transparent RGBA canvas with the ink in the
alpha channel - what streamlit-drawable-canvas returns. Same seed, same drawings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image, ImageDraw

from dlapp.preprocess import canvas_to_mnist

CANVAS = 280  # px, the Draw page's canvas
SUPERSAMPLE = 2  # draw at 2x and shrink: anti-aliased edges like the browser's
Stroke = list[tuple[float, float]]  # points in the unit box: x right, y down, both 0..1


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> Stroke:
    """Points along an ellipse; angles in degrees, 0 = right, 90 = down (so increasing is clockwise)."""
    steps = max(4, int(abs(end - start) / 10))
    angles = np.radians(np.linspace(start, end, steps))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


# digit -> style name -> strokes. Each stroke is one pen-down movement.
_TWO_TOP = _arc(0.5, 0.28, 0.46, 0.28, 195, 385)  # the hump of a 2
_SIX_LOOP = _arc(0.52, 0.72, 0.45, 0.28, 180, -170)  # down, round to the right, back up and left
_NINE_LOOP = _arc(0.45, 0.28, 0.42, 0.28, 5, -355)
_EIGHT_TOP = (0.5, 0.25, 0.36, 0.25)
STYLES: dict[int, dict[str, list[Stroke]]] = {
    0: {
        "oval": [_arc(0.5, 0.5, 0.5, 0.5, -100, 270)],
        "narrow": [_arc(0.5, 0.5, 0.3, 0.5, -80, -440)],
        "tilted open": [_arc(0.5, 0.5, 0.45, 0.5, -60, 280)],
    },
    1: {
        "stick": [[(0.5, 0.0), (0.5, 1.0)]],
        "flag": [[(0.22, 0.25), (0.55, 0.0), (0.55, 1.0)]],
        "flag and base": [[(0.22, 0.25), (0.55, 0.0), (0.55, 1.0)], [(0.2, 1.0), (0.9, 1.0)]],
    },
    2: {
        "curve": [_TWO_TOP + [(0.02, 1.0), (1.0, 1.0)]],
        "loop": [_TWO_TOP + [(0.1, 0.92), (0.25, 0.78), (0.33, 0.88), (0.22, 1.0), (0.55, 0.97), (1.0, 1.0)]],
        "angular": [[(0.05, 0.18), (0.45, 0.0), (0.92, 0.12), (0.92, 0.35), (0.0, 1.0), (1.0, 1.0)]],
    },
    3: {
        "round": [_arc(0.45, 0.25, 0.45, 0.25, 200, 450) + _arc(0.45, 0.75, 0.52, 0.25, -90, 160)],
        "flat top": [[(0.05, 0.0), (0.95, 0.0), (0.4, 0.38)] + _arc(0.45, 0.68, 0.52, 0.3, -90, 160)],
    },
    4: {
        "open": [[(0.2, 0.0), (0.03, 0.62), (1.0, 0.62)], [(0.72, 0.15), (0.72, 1.0)]],
        "closed": [[(0.72, 0.0), (0.0, 0.66), (1.0, 0.66)], [(0.72, 0.0), (0.72, 1.0)]],
    },
    5: {
        "bar last": [[(0.15, 0.0), (0.1, 0.45)] + _arc(0.45, 0.68, 0.47, 0.31, -140, 150), [(0.15, 0.0), (0.95, 0.0)]],
        "one stroke": [[(0.95, 0.0), (0.15, 0.0), (0.1, 0.45)] + _arc(0.45, 0.68, 0.47, 0.31, -140, 150)],
    },
    6: {
        "curve": [[(0.85, 0.0), (0.45, 0.15), (0.15, 0.42), (0.07, 0.72)] + _SIX_LOOP],
        "straight": [[(0.75, 0.0), (0.07, 0.72)] + _SIX_LOOP],
    },
    7: {
        "plain": [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]],
        "bar": [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)], [(0.3, 0.52), (0.9, 0.52)]],
        "hook": [[(0.0, 0.18), (0.05, 0.0), (1.0, 0.0), (0.42, 1.0)]],
        "curved": [[(0.0, 0.0), (1.0, 0.0), (0.7, 0.35), (0.5, 0.7), (0.42, 1.0)]],
    },
    8: {
        "figure": [_arc(*_EIGHT_TOP, -30, -270) + _arc(0.5, 0.75, 0.45, 0.25, -90, 270) + _arc(*_EIGHT_TOP, 90, -30)],
        "two circles": [_arc(*_EIGHT_TOP, -90, 270), _arc(0.5, 0.75, 0.45, 0.25, -90, 270)],
    },
    9: {
        "straight": [_NINE_LOOP + [(0.87, 0.3), (0.85, 1.0)]],
        "curved": [_NINE_LOOP + [(0.87, 0.3), (0.84, 0.75), (0.62, 0.98), (0.35, 0.95)]],
        "slanted": [_NINE_LOOP + [(0.87, 0.3), (0.6, 1.0)]],
    },
}


def draw_digit(digit: int, rng: np.random.Generator, style: str | None = None) -> np.ndarray:
    """One randomised drawing of `digit`: (280, 280, 4) uint8, ink in alpha, transparent background."""
    styles = STYLES[digit]
    strokes = styles[style] if style is not None else styles[list(styles)[rng.integers(len(styles))]]
    height = rng.uniform(0.3, 0.85) * CANVAS  # small and large digits
    width = height * 0.65 * rng.uniform(0.75, 1.25)
    pen = height * rng.uniform(0.06, 0.15)  # thin and thick strokes, relative to the digit
    slant, rotation = np.radians(rng.uniform(-10, 22)), np.radians(rng.uniform(-8, 8))
    placed = [_transform(np.array(s, float), width, height, slant, rotation, rng) for s in strokes]
    placed = _position(placed, pen, rng)
    return _render(placed, pen)


def _transform(points, width, height, slant, rotation, rng) -> np.ndarray:
    """Unit-box stroke -> pixel offsets around the digit's centre: scale, slant, rotate, wobble."""
    xy = (points - 0.5) * (width, height)
    xy[:, 0] -= xy[:, 1] * np.tan(slant)  # y grows downwards, so the top leans right
    cos, sin = np.cos(rotation), np.sin(rotation)
    xy = xy @ np.array([[cos, sin], [-sin, cos]])
    # A hand is not a plotter: the pen lands a little off (per stroke) and wavers (smoothly, per point).
    wobble = rng.normal(0, 0.012 * height, xy.shape)
    if len(xy) > 4:
        kernel = np.ones(3) / 3
        wobble = np.stack([np.convolve(wobble[:, i], kernel, mode="same") for i in range(2)], axis=1)
    return xy + rng.normal(0, 0.015 * height, 2) + wobble


def _position(strokes: list[np.ndarray], pen: float, rng) -> list[np.ndarray]:
    """Shift the digit to a random place where it fits on the canvas, often off-centre."""
    every = np.concatenate(strokes)
    low, high = every.min(axis=0) - pen / 2, every.max(axis=0) + pen / 2
    margin = 4.0
    shift = [rng.uniform(margin - low[i], max(margin - low[i], CANVAS - margin - high[i])) for i in range(2)]
    return [s + shift for s in strokes]


def _render(strokes: list[np.ndarray], pen: float) -> np.ndarray:
    big = CANVAS * SUPERSAMPLE
    ink = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(ink)
    width = max(1, round(pen * SUPERSAMPLE))
    for stroke in strokes:
        points = [tuple(p) for p in stroke * SUPERSAMPLE]
        draw.line(points, fill=255, width=width, joint="curve")
        for x, y in (points[0], points[-1]):  # round pen ends, as the browser draws them
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    alpha = np.asarray(ink.resize((CANVAS, CANVAS), Image.Resampling.BOX))
    rgba = np.zeros((CANVAS, CANVAS, 4), np.uint8)  # RGB stays 0, as a transparent canvas exports it
    rgba[..., 3] = alpha
    return rgba


def drawings(n: int, seed: int = 0) -> Iterator[tuple[np.ndarray, int, str]]:
    """n (canvas, label, style) with balanced labels (0, 1, ..., 9, 0, ...), random styles; same seed, same set."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        digit = i % 10
        style = list(STYLES[digit])[rng.integers(len(STYLES[digit]))]
        yield draw_digit(digit, rng, style), digit, style


def drawn_digits(
    n: int, seed: int = 0, preprocess: Callable[[np.ndarray], np.ndarray] = canvas_to_mnist
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """n drawings prepared by `preprocess` -> ((n, 28, 28) float32, (n,) labels, n style names)."""
    images, labels, styles = [], [], []
    for canvas, label, style in drawings(n, seed):
        images.append(preprocess(canvas))
        labels.append(label)
        styles.append(f"{label} {style}")
    return np.stack(images).astype(np.float32), np.array(labels, np.int64), styles
