"""The mouse-like drawing sets: canvas-like images, every style drawable, dev and report kept apart."""

import numpy as np
import pytest

from dlapp.preprocess import canvas_to_mnist
from dlapp.tools import pen_train, sketches


@pytest.mark.parametrize("digit", range(10))
def test_every_style_draws_ink_in_alpha_like_the_transparent_canvas(digit):
    rng = np.random.default_rng(digit)
    for style in sketches.STYLES[digit]:
        canvas = sketches.draw_procedural(digit, style, rng)
        assert canvas.shape == (280, 280, 4) and canvas.dtype == np.uint8
        assert not canvas[..., :3].any()
        assert 0.005 < (canvas[..., 3] > 127).mean() < 0.45, style
        edge = canvas[..., 3][(canvas[..., 3] > 0) & (canvas[..., 3] < 255)]
        assert edge.size > 0  # anti-aliased edges, as the browser draws them
        assert canvas_to_mnist(canvas).shape == (28, 28)


def test_the_pen_is_the_canvas_pen_whatever_the_digit_size():
    """A straight stroke is PEN px wide, small digit or large, as on the Draw page."""
    canvas = sketches.render([np.array([[40.0, 140.0], [240.0, 140.0]])])
    column = canvas[:, 140, 3] / 255.0
    assert abs(column.sum() - sketches.PEN) < 1.0


def test_mouse_stroke_samples_the_path_a_few_pixels_apart():
    path = np.array([[0.0, 0.0], [200.0, 0.0]])
    points = sketches.mouse_stroke(path, np.random.default_rng(0), shake=0.0)
    gaps = np.diff(points[:, 0])
    assert 3.0 <= gaps.min() and gaps.max() <= 9.0
    assert points[0, 0] == 0.0 and points[-1, 0] == 200.0


def test_canvas_curve_starts_and_ends_where_the_mouse_did():
    points = np.array([[0.0, 0.0], [10.0, 20.0], [30.0, 20.0], [40.0, 0.0]])
    curve = sketches.canvas_curve(points)
    np.testing.assert_array_equal(curve[0], points[0])
    np.testing.assert_array_equal(curve[-1], points[-1])
    assert len(curve) > len(points)


def test_pendigits_are_shipped_whole():
    points, labels = sketches.load_pendigits()
    assert points.shape == (7494, 8, 2) and labels.shape == (7494,)
    assert points.max() == 100 and np.bincount(labels).tolist()[:3] == [780, 779, 780]


def test_dev_and_report_pendigits_rows_never_overlap():
    order = np.random.default_rng(0).permutation(7494)
    dev, report = (set(order[sketches.PENDIGITS_ROWS[p]]) for p in sketches.PARTS)
    assert dev and report and not dev & report
    assert not set(sketches.PROCEDURAL_SEEDS["dev"]) & set(sketches.PROCEDURAL_SEEDS["report"])


def test_same_part_same_drawings(monkeypatch):
    monkeypatch.setitem(sketches.PENDIGITS_ROWS, "dev", slice(0, 6))
    first, again = sketches.pendigits("dev"), sketches.pendigits("dev")
    np.testing.assert_array_equal(first.images, again.images)
    assert first.images.shape == (6, 28, 28) and first.plain.shape == (6, 28, 28)
    small = sketches.procedural("report", per_seed=10)
    assert small.labels.tolist() == list(range(10)) and len(small.kinds) == 10


def test_an_unknown_part_is_refused_in_one_sentence():
    with pytest.raises(ValueError, match="expected one of dev, report"):
        sketches.procedural("test")


def test_pen_digits_trained_on_are_never_dev_or_report_rows():
    """The training rows and the rows the drawing reports score are disjoint, and together every row."""
    train = set(sketches.pendigits_rows("train").tolist())
    dev, report = (set(sketches.pendigits_rows(part).tolist()) for part in sketches.PARTS)
    assert len(train) == 7494 - 3000 and not train & dev and not train & report
    assert len(train | dev | report) == 7494


def test_the_shipped_pen_training_asset_holds_only_training_rows():
    from dlapp.data import load_pen_digits

    with np.load(pen_train.ASSET) as asset:
        rows = asset["rows"]
    x, y = load_pen_digits()
    assert len(rows) == len(x) == len(y) and x.shape[1:] == (28, 28) and x.dtype == np.uint8
    assert sorted(rows.tolist()) == sorted(sketches.pendigits_rows("train").tolist())
    scored = np.concatenate([sketches.pendigits_rows(part) for part in sketches.PARTS])
    assert not np.isin(rows, scored).any()
    np.testing.assert_array_equal(y, sketches.load_pendigits()[1][rows])


def test_pen_training_rows_are_drawn_like_the_report_drawings():
    """The asset's script: a few rows drawn, prepared MNIST-style, stored as uint8; same seed, same images."""
    rows = sketches.pendigits_rows("train")[:4]
    first, again = pen_train.drawn_training_rows(rows), pen_train.drawn_training_rows(rows)
    np.testing.assert_array_equal(first["x"], again["x"])
    assert first["x"].shape == (4, 28, 28) and first["x"].dtype == np.uint8 and first["x"].max() > 200
    assert first["rows"].tolist() == rows.tolist()
