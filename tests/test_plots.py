"""Figure builders: right traces, right colours, honest numbers; and no TensorFlow import."""

import subprocess
import sys

import numpy as np
import pytest

from dlapp import plots


def test_smooth_is_debiased_and_follows_a_constant():
    assert np.allclose(plots.smooth([2.0, 2.0, 2.0]), 2.0)
    assert plots.smooth([1.0])[0] == 1.0


def test_training_curve_draws_train_and_validation_in_their_colours():
    epochs = [{"epoch": 0, "loss": 1.0, "val_loss": 1.2}, {"epoch": 1, "loss": 0.5, "val_loss": 0.7}]
    fig = plots.training_curve(epochs, "loss", batches=[(0.5, 1.5), (1.0, 1.0)], total_epochs=3)
    by_name = {trace.name: trace for trace in fig.data}
    assert list(by_name["train"].x) == [1, 2]
    assert list(by_name["validation"].y) == [1.2, 0.7]
    assert by_name["train"].line.color == plots.TRAIN_COLOR
    assert by_name["validation"].line.color == plots.VAL_COLOR
    assert len(by_name["train, per batch"].x) == 2


def test_training_curve_without_validation_has_no_validation_trace():
    fig = plots.training_curve([{"epoch": 0, "accuracy": 0.9}], "accuracy")
    assert [trace.name for trace in fig.data] == ["train"]


def test_runs_overlay_keeps_train_indigo_and_validation_amber():
    curves = {"run 1": [{"epoch": 0, "loss": 1.0, "val_loss": 1.1}], "run 2": [{"epoch": 0, "loss": 0.9}]}
    fig = plots.runs_overlay(curves, "loss")
    colours = {trace.name: trace.line.color for trace in fig.data}
    assert colours["run 1 (train)"] in plots.TRAIN_SHADES and colours["run 1 (val)"] in plots.VAL_SHADES
    assert "run 2 (val)" not in colours


def test_mosaic_places_images_row_by_row():
    images = np.stack([np.full((2, 2), v, dtype=np.uint8) for v in (10, 20, 30)])
    grid = plots.mosaic(images, columns=2, gap=1)
    assert grid.shape == (5, 5)
    assert grid[0, 0] == 10 and grid[0, 3] == 20 and grid[3, 0] == 30


def test_confusion_heatmap_shows_counts_and_row_shares():
    confusion = np.array([[8, 2], [0, 5]])
    fig = plots.confusion_heatmap(confusion, ["a", "b"])
    heat = fig.data[0]
    assert np.allclose(heat.z, [[0.8, 0.2], [0.0, 1.0]])
    assert np.array_equal(heat.text, confusion)


def test_project_2d_keeps_2d_codes_and_projects_higher_ones_by_pca():
    codes = np.random.default_rng(0).normal(size=(50, 2))
    points, note = plots.project_2d(codes)
    assert np.array_equal(points, codes) and note == "latent code"
    # Variance all along one direction in 5-D: the first component carries all of it.
    direction = np.array([1.0, 2.0, 0.0, -1.0, 0.5])
    line = np.linspace(-1, 1, 40)[:, None] * direction
    points, note = plots.project_2d(line)
    assert points.shape == (40, 2) and "principal" in note
    assert np.allclose(points[:, 1], 0, atol=1e-9)


def test_probability_image_draws_each_bar_to_its_height_and_the_top_guess_in_the_primary_colour():
    from PIL import ImageColor

    from dlapp import probability_image as pi

    probabilities = np.full(10, 0.05)
    probabilities[3], probabilities[7] = 0.5, 0.05
    picture = np.asarray(pi.probability_image(probabilities, [str(d) for d in range(10)], highlight=3))
    assert picture.shape == (pi.HEIGHT * pi.SCALE, pi.WIDTH * pi.SCALE, 3)
    slot = picture.shape[1] / 10

    def bar_rows(k: int, colour: str, image: np.ndarray = picture) -> int:
        column = image[:, int((k + 0.5) * slot)]
        return int(np.all(column == ImageColor.getrgb(colour), axis=1).sum())

    assert bar_rows(3, plots.TRAIN_COLOR) > 0 and bar_rows(3, pi.BAR_COLOR) == 0
    assert bar_rows(7, pi.BAR_COLOR) > 0 and bar_rows(7, plots.TRAIN_COLOR) == 0
    assert bar_rows(3, plots.TRAIN_COLOR) == pytest.approx(10 * bar_rows(7, pi.BAR_COLOR), rel=0.05)
    empty = np.asarray(pi.probability_image(np.zeros(10), [str(d) for d in range(10)], highlight=None))
    assert bar_rows(0, pi.BAR_COLOR, empty) == 0 and empty.shape == picture.shape  # no drawing: no bars, same size


def test_upscale_and_saliency_overlay_shapes():
    image = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    assert plots.upscale(image, 4).shape == (112, 112)
    overlay = plots.saliency_overlay(image, np.zeros((28, 28)))
    assert overlay.shape == (28, 28, 3) and overlay.dtype == np.uint8


def test_a_saveable_chart_keeps_a_strip_for_its_toolbar_above_the_title_and_its_plot_height():
    epochs = [{"epoch": 0, "loss": 1.0, "val_loss": 1.1}, {"epoch": 1, "loss": 0.5, "val_loss": 0.6}]
    plain = plots.training_curve(epochs, "loss")
    moved = plots.below_mode_bar(plots.training_curve(epochs, "loss"))
    assert moved.layout.margin.t == plain.layout.margin.t + plots.MODE_BAR_ROOM
    assert moved.layout.height - moved.layout.margin.t == plain.layout.height - plain.layout.margin.t
    assert moved.layout.title.yanchor == "top" and moved.layout.title.pad.t >= plots.MODE_BAR_ROOM
    assert {"zoom2d", "pan2d"} <= set(plots.PNG_MODE_BAR["modeBarButtonsToRemove"])  # a short toolbar


def test_plots_does_not_import_tensorflow():
    code = "import sys, dlapp.plots; sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_plane_point_inverts_the_projection_on_the_plane():
    rng = np.random.default_rng(1)
    codes = rng.normal(size=(100, 2)) @ rng.normal(size=(2, 6))  # rank 2: every code lies on the plane
    mean, directions = plots.pca_plane(codes)
    points, _ = plots.project_2d(codes)
    assert np.allclose(plots.plane_point(mean, directions, *points[7]), codes[7])


def test_latent_scatter_has_one_trace_per_class():
    points = np.random.default_rng(2).normal(size=(30, 2))
    labels = np.arange(30) % 10
    fig = plots.latent_scatter(points, labels, [str(d) for d in range(10)], "latent code")
    assert [trace.name for trace in fig.data] == [str(d) for d in range(10)]


def test_plain_label_shows_html_as_text_on_one_short_line():
    assert plots.plain_label("<b>bold</b> &amp; <br>") == "&lt;b&gt;bold&lt;/b&gt; &amp;amp; &lt;br&gt;"
    assert plots.plain_label("two\nlines") == "two lines"
    long = plots.plain_label("w" * 10_000)
    assert len(long) == plots.LABEL_CHARS and long.endswith("…")
    assert plots.plain_label("a\u202eb") == "\u2068a\u202eb\u2069"  # the override ends with the name


def test_runs_overlay_legend_shows_run_names_as_text():
    name = '<a href="http://127.0.0.1:9/x">click</a><img src=x>'
    fig = plots.runs_overlay({name: [{"epoch": 0, "loss": 1.0}]}, "loss")
    legend = fig.data[0].name
    assert "<" not in legend and ">" not in legend
    assert legend.startswith("&lt;a href=") and legend.endswith(" (train)")


def test_curve_titles_name_the_loss_and_the_split():
    from dlapp.config import RunConfig

    epochs = [{"epoch": 0, "loss": 1.0, "val_loss": 1.2}, {"epoch": 1, "loss": 0.5, "val_loss": 0.7}]
    mse = plots.loss_name(RunConfig.from_flat(loss="mse"))
    fig = plots.training_curve(epochs, "loss", loss=mse, best_epoch=2)
    assert fig.layout.title.text.startswith("Loss (MSE) per epoch<br>")
    assert fig.layout.title.text.endswith("on the training and validation images</span>")
    assert [shape.x0 for shape in fig.layout.shapes] == [2] and "best epoch 2" in fig.layout.annotations[0].text
    train_only = plots.training_curve([{"epoch": 0, "accuracy": 0.9}], "accuracy")
    assert (
        "Accuracy per epoch<br>" in train_only.layout.title.text
        and "on the training images" in train_only.layout.title.text
    )
    assert plots.loss_name(RunConfig.from_flat(arch="autoencoder")) == "binary cross-entropy"
    overlay = plots.runs_overlay({"a": epochs}, "loss", loss="cross-entropy")
    assert overlay.layout.title.text.startswith("Loss (cross-entropy) per epoch<br>")
    assert "on the training and validation (val) images of each run" in overlay.layout.title.text
