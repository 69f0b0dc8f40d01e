"""Digits drawn the way the Draw page's canvas draws them, to measure what people will see.

Two sources, both rendered as the browser renders a mouse stroke on the 280x280
canvas: a fixed 18 px round pen (so a small digit has relatively thick strokes),
the mouse's points a few pixels apart and a little shaky, joined by the quadratic
curves the canvas library draws, anti-aliased, ink in the alpha channel.

- `procedural`: pen-stroke templates for many styles (loops on 2 and 7, open and
  closed 4s, 1s with and without a base, 6s and 9s of different curvature, ...),
  drawn small and large, off-centre, slanted and shaky.
- `pendigits`: real digits written by 30 people on a tablet (UCI pen-based digits,
  CC BY 4.0, shipped as `dlapp/assets/pendigits.npz`; see its README). The rows in neither
  part may be trained on (`pendigits_rows("train")`); the same writers wrote every part, so a
  model trained on them reads this source optimistically.

Each comes in two parts that never overlap: "dev" (settings are chosen on it) and
"report" (the numbers the README shows). Same part, same drawings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from PIL import Image, ImageDraw

from dlapp.preprocess import canvas_to_mnist, naive_resize

CANVAS = 280  # px, the Draw page's canvas
PEN = 18  # px, the Draw page's stroke width
SUPERSAMPLE = 3  # draw at 3x and shrink: anti-aliased edges like the browser's
PARTS = ("dev", "report")
PROCEDURAL_SEEDS = {"dev": (1, 2), "report": (0,)}  # 500 drawings per seed
PENDIGITS_ROWS = {"dev": slice(0, 1000), "report": slice(1000, 3000)}  # of a fixed shuffle (seed 0)
# The rest of that shuffle may be trained on (`dlapp.tools.pen_train`): never the dev or report rows.
PENDIGITS_TRAIN_ROWS = slice(3000, None)
Stroke = list[tuple[float, float]]  # points in the unit box: x right, y down, both 0..1


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> Stroke:
    """Points along an ellipse; angles in degrees, 0 = right, 90 = down (so increasing is clockwise)."""
    steps = max(4, int(abs(end - start) / 10))
    angles = np.radians(np.linspace(start, end, steps))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


_TWO_TOP = _arc(0.5, 0.28, 0.46, 0.28, 195, 385)
_NINE_LOOP = _arc(0.45, 0.28, 0.42, 0.28, 5, -355)
_EIGHT_TOP = (0.5, 0.25, 0.36, 0.25)
# digit -> style -> strokes; each stroke is one pen-down movement.
STYLES: dict[int, dict[str, list[Stroke]]] = {
    0: {
        "oval": [_arc(0.5, 0.5, 0.5, 0.5, -100, 270)],
        "narrow": [_arc(0.5, 0.5, 0.3, 0.5, -80, -440)],
        "open top": [_arc(0.5, 0.5, 0.45, 0.5, -60, 280)],
        "round": [_arc(0.5, 0.5, 0.6, 0.5, -90, 275)],
    },
    1: {
        "stick": [[(0.5, 0.0), (0.5, 1.0)]],
        "slanted stick": [[(0.7, 0.0), (0.35, 1.0)]],
        "flag": [[(0.22, 0.25), (0.55, 0.0), (0.55, 1.0)]],
        "flag and base": [[(0.22, 0.25), (0.55, 0.0), (0.55, 1.0)], [(0.2, 1.0), (0.9, 1.0)]],
    },
    2: {
        "curve": [_TWO_TOP + [(0.02, 1.0), (1.0, 1.0)]],
        "loop": [_TWO_TOP + [(0.1, 0.92), (0.25, 0.78), (0.33, 0.88), (0.22, 1.0), (0.55, 0.97), (1.0, 1.0)]],
        "angular": [[(0.05, 0.18), (0.45, 0.0), (0.92, 0.12), (0.92, 0.35), (0.0, 1.0), (1.0, 1.0)]],
        "swan": [_TWO_TOP + [(0.3, 0.75), (0.05, 1.0), (0.5, 0.9), (1.0, 0.95)]],
    },
    3: {
        "round": [_arc(0.45, 0.25, 0.45, 0.25, 200, 450) + _arc(0.45, 0.75, 0.52, 0.25, -90, 160)],
        "flat top": [[(0.05, 0.0), (0.95, 0.0), (0.4, 0.38)] + _arc(0.45, 0.68, 0.52, 0.3, -90, 160)],
        "narrow": [_arc(0.5, 0.25, 0.35, 0.25, 190, 450) + _arc(0.5, 0.75, 0.4, 0.25, -90, 150)],
    },
    4: {
        "open": [[(0.2, 0.0), (0.03, 0.62), (1.0, 0.62)], [(0.72, 0.15), (0.72, 1.0)]],
        "closed": [[(0.72, 0.0), (0.0, 0.66), (1.0, 0.66)], [(0.72, 0.0), (0.72, 1.0)]],
        "crossed": [[(0.25, 0.0), (0.0, 0.55), (1.0, 0.55)], [(0.7, 0.0), (0.7, 1.0)]],
        "one stroke": [[(0.15, 0.0), (0.05, 0.55), (0.9, 0.55), (0.75, 0.2), (0.72, 1.0)]],
    },
    5: {
        "bar last": [[(0.15, 0.0), (0.1, 0.45)] + _arc(0.45, 0.68, 0.47, 0.31, -140, 150), [(0.15, 0.0), (0.95, 0.0)]],
        "one stroke": [[(0.95, 0.0), (0.15, 0.0), (0.1, 0.45)] + _arc(0.45, 0.68, 0.47, 0.31, -140, 150)],
        "round belly": [[(0.9, 0.0), (0.2, 0.0), (0.15, 0.4)] + _arc(0.5, 0.68, 0.5, 0.32, -150, 170)],
    },
    6: {
        "curve": [[(0.85, 0.0), (0.45, 0.15), (0.15, 0.42), (0.07, 0.72)] + _arc(0.52, 0.72, 0.45, 0.28, 180, -170)],
        "straight": [[(0.75, 0.0), (0.07, 0.72)] + _arc(0.52, 0.72, 0.45, 0.28, 180, -170)],
        "big loop": [[(0.8, 0.0), (0.2, 0.3)] + _arc(0.5, 0.62, 0.48, 0.38, 200, -150)],
        "small loop": [[(0.7, 0.0), (0.3, 0.4), (0.15, 0.8)] + _arc(0.45, 0.82, 0.32, 0.18, 180, -170)],
    },
    7: {
        "plain": [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]],
        "bar": [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)], [(0.3, 0.52), (0.9, 0.52)]],
        "hook": [[(0.0, 0.18), (0.05, 0.0), (1.0, 0.0), (0.42, 1.0)]],
        "curved": [[(0.0, 0.0), (1.0, 0.0), (0.7, 0.35), (0.5, 0.7), (0.42, 1.0)]],
        "loop": [[(0.1, 0.12), (0.0, 0.02), (0.12, 0.0), (0.15, 0.1), (0.1, 0.12), (1.0, 0.0), (0.4, 1.0)]],
    },
    8: {
        "figure": [_arc(*_EIGHT_TOP, -30, -270) + _arc(0.5, 0.75, 0.45, 0.25, -90, 270) + _arc(*_EIGHT_TOP, 90, -30)],
        "two circles": [_arc(*_EIGHT_TOP, -90, 270), _arc(0.5, 0.75, 0.45, 0.25, -90, 270)],
        "small top": [_arc(0.5, 0.2, 0.28, 0.2, -90, 270), _arc(0.5, 0.7, 0.48, 0.3, -90, 270)],
    },
    9: {
        "straight": [_NINE_LOOP + [(0.87, 0.3), (0.85, 1.0)]],
        "curved": [_NINE_LOOP + [(0.87, 0.3), (0.84, 0.75), (0.62, 0.98), (0.35, 0.95)]],
        "slanted": [_NINE_LOOP + [(0.87, 0.3), (0.6, 1.0)]],
        "big loop": [_arc(0.45, 0.35, 0.45, 0.35, 5, -355) + [(0.9, 0.35), (0.85, 1.0)]],
        "small loop": [_arc(0.55, 0.2, 0.3, 0.2, 5, -355) + [(0.85, 0.2), (0.75, 1.0)]],
    },
}


@dataclass(frozen=True)
class DrawingSet:
    """Drawings prepared for a model: through `canvas_to_mnist` and through a plain resize."""

    name: str
    images: np.ndarray  # (n, 28, 28) float32, canvas_to_mnist
    plain: np.ndarray  # (n, 28, 28) float32, naive_resize
    labels: np.ndarray  # (n,) int64
    kinds: tuple[str, ...]  # per drawing: "7 loop", "pendigits", ...


def mouse_stroke(points: np.ndarray, rng: np.random.Generator, shake: float) -> np.ndarray:
    """A path in canvas px -> the points a mouse reports along it: 3-9 px apart, `shake` px of tremor."""
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    spacing = rng.uniform(3.0, 9.0)
    at = np.linspace(0.0, along[-1], max(2, int(along[-1] / spacing) + 1))
    sampled = np.stack([np.interp(at, along, points[:, i]) for i in range(2)], axis=1)
    return sampled + rng.normal(0.0, shake, sampled.shape)


def canvas_curve(points: np.ndarray) -> np.ndarray:
    """The canvas library's smoothing: quadratic curves through the midpoints, each point a control point."""
    if len(points) < 3:
        return points
    mids = (points[:-1] + points[1:]) / 2
    t = np.linspace(0.0, 1.0, 5)[:, None]
    pieces = [points[:1], mids[:1]]
    for start, control, end in zip(mids[:-1], points[1:-1], mids[1:], strict=True):
        pieces.append((1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end)
    pieces.append(points[-1:])
    return np.concatenate(pieces)


def render(strokes: list[np.ndarray], pen: float = PEN) -> np.ndarray:
    """Strokes in canvas px -> (280, 280, 4) uint8 with the ink in alpha, as the transparent canvas exports it."""
    big = CANVAS * SUPERSAMPLE
    ink = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(ink)
    width = max(1, round(pen * SUPERSAMPLE))
    for stroke in strokes:
        points = [tuple(p) for p in canvas_curve(stroke) * SUPERSAMPLE]
        if len(points) > 1:
            draw.line(points, fill=255, width=width, joint="curve")
        for x, y in points:  # round caps and joins, as the browser draws a `round` line
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    rgba = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    rgba[..., 3] = np.asarray(ink.resize((CANVAS, CANVAS), Image.Resampling.BOX))
    return rgba


def place(unit_strokes: list[np.ndarray], rng: np.random.Generator, width_ratio: float, slant_deg: float):
    """Unit-box strokes -> canvas px: random size (small to large), slant, rotation, place (often off-centre)."""
    height = rng.uniform(0.3, 0.85) * CANVAS
    width = height * width_ratio
    slant, rotation = np.radians(slant_deg), np.radians(rng.uniform(-8, 8))
    cos, sin = np.cos(rotation), np.sin(rotation)
    placed = []
    for stroke in unit_strokes:
        xy = (np.asarray(stroke, float) - 0.5) * (width, height)
        xy[:, 0] -= xy[:, 1] * np.tan(slant)  # y grows downwards, so the top leans right
        placed.append(xy @ np.array([[cos, sin], [-sin, cos]]))
    every = np.concatenate(placed)
    low, high = every.min(axis=0) - PEN / 2 - 2, every.max(axis=0) + PEN / 2 + 2
    shift = [rng.uniform(-low[i], max(-low[i], CANVAS - high[i])) for i in range(2)]
    return [s + shift for s in placed]


def draw_procedural(digit: int, style: str, rng: np.random.Generator) -> np.ndarray:
    """One mouse drawing of a template style: (280, 280, 4) uint8."""
    placed = place(STYLES[digit][style], rng, 0.65 * rng.uniform(0.75, 1.25), rng.uniform(-10, 22))
    shake = rng.choice([0.3, 0.8, 2.0])  # steady, normal and shaky hands
    return render([mouse_stroke(s, rng, shake) for s in placed])


# Width / height of MNIST digits' ink boxes, quartiles per digit (measured on the bundled sample).
MNIST_ASPECT = (
    (0.8, 1.0),
    (0.3, 0.6),
    (0.8, 1.1),
    (0.7, 0.95),
    (0.7, 0.9),
    (0.8, 1.1),
    (0.6, 0.8),
    (0.7, 0.9),
    (0.65, 0.9),
    (0.6, 0.8),
)


def draw_digit(digit: int, rng: np.random.Generator, style: str | None = None) -> np.ndarray:
    """One mouse-like drawing of `digit` in `style` (a random one when None): (280, 280, 4) uint8."""
    styles = list(STYLES[digit])
    return draw_procedural(digit, style or styles[rng.integers(len(styles))], rng)


def drawn_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """n drawings, labels 0, 1, ..., 9, 0, ..., through `canvas_to_mnist` -> (images, labels, "digit style")."""
    rng = np.random.default_rng(seed)
    images, labels, kinds = [], [], []
    for i in range(n):
        digit = i % 10
        style = list(STYLES[digit])[rng.integers(len(STYLES[digit]))]
        images.append(canvas_to_mnist(draw_digit(digit, rng, style)))
        labels.append(digit)
        kinds.append(f"{digit} {style}")
    return np.stack(images).astype(np.float32), np.array(labels, np.int64), kinds


def draw_pendigit(points: np.ndarray, digit: int, rng: np.random.Generator) -> np.ndarray:
    """One pendigits row's 8 points (0-100, y up) drawn as one mouse stroke: (280, 280, 4) uint8."""
    unit = np.column_stack([points[:, 0] / 100.0, 1.0 - points[:, 1] / 100.0])
    # The set scaled x and y to 0-100 separately, losing the aspect ratio (a 1 came out as wide
    # as an 8): give it back an aspect drawn from MNIST's for the same digit.
    placed = place([unit], rng, rng.uniform(*MNIST_ASPECT[digit]), 0.0)
    return render([mouse_stroke(placed[0], rng, rng.choice([0.3, 0.8]))])


def _prepared(name: str, canvases, labels, kinds) -> DrawingSet:
    canvases = list(canvases)
    return DrawingSet(
        name,
        np.stack([canvas_to_mnist(c) for c in canvases]).astype(np.float32),
        np.stack([naive_resize(c) for c in canvases]).astype(np.float32),
        np.asarray(labels, np.int64),
        tuple(kinds),
    )


def procedural(part: str, per_seed: int = 500) -> DrawingSet:
    """Template drawings, balanced over digits (0, 1, ..., 9, 0, ...) and random styles."""
    canvases, labels, kinds = [], [], []
    for seed in PROCEDURAL_SEEDS[_checked(part)]:
        rng = np.random.default_rng(seed)
        for i in range(per_seed):
            digit = i % 10
            style = list(STYLES[digit])[rng.integers(len(STYLES[digit]))]
            canvases.append(draw_procedural(digit, style, rng))
            labels.append(digit)
            kinds.append(f"{digit} {style}")
    return _prepared(f"procedural {part}", canvases, labels, kinds)


def load_pendigits() -> tuple[np.ndarray, np.ndarray]:
    """All 7,494 shipped pendigits: points (n, 8, 2) uint8 0-100 (x, y up) and labels (n,) uint8."""
    with resources.files("dlapp.assets").joinpath("pendigits.npz").open("rb") as fh, np.load(fh) as data:
        return data["points"], data["labels"]


def pendigits_rows(part: str) -> np.ndarray:
    """Row numbers of `load_pendigits()` in a part: "dev", "report" or "train", disjoint slices of one shuffle."""
    chosen = PENDIGITS_TRAIN_ROWS if part == "train" else PENDIGITS_ROWS[_checked(part)]
    return np.random.default_rng(0).permutation(len(load_pendigits()[1]))[chosen]


def pendigits(part: str) -> DrawingSet:
    """Real people's digits, drawn as mouse strokes; dev and report are disjoint rows of one fixed shuffle."""
    points, labels = load_pendigits()
    rows = pendigits_rows(part)
    rng = np.random.default_rng(100 + PARTS.index(part))
    canvases = (draw_pendigit(points[row], int(labels[row]), rng) for row in rows)
    return _prepared(f"pendigits {part}", canvases, labels[rows], [f"{labels[row]} pendigits" for row in rows])


@lru_cache(maxsize=4)
def drawing_sets(part: str) -> tuple[DrawingSet, ...]:
    """Both sources for one part, rendered once per process."""
    return procedural(part), pendigits(part)


def _checked(part: str) -> str:
    if part not in PARTS:
        raise ValueError(f"Could not interpret drawing part {part!r}; expected one of {', '.join(PARTS)}.")
    return part
