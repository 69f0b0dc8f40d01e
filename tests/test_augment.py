"""The drawing augmentation layers: what they change while training, and that they change nothing otherwise."""

import keras
import numpy as np
import pytest

from dlapp.augment import (
    Deskew,
    ElasticDistortion,
    StrokeThickness,
    TopBottom,
    _resample,
    drawing_augmentation,
    gaussian_kernel,
)
from dlapp.config import RunConfig
from dlapp.modelfile import load_model_file
from dlapp.models import build_model
from tests.model_helpers import layer_types


def _bar_images(batch: int = 8) -> np.ndarray:
    """(batch, 28, 28, 1) float32: a vertical bar 4 px wide, full ink."""
    images = np.zeros((batch, 28, 28, 1), np.float32)
    images[:, 4:24, 12:16, 0] = 1.0
    return images


@pytest.mark.parametrize(
    "layer", [StrokeThickness(0.8), ElasticDistortion(2.0), TopBottom(0.5), drawing_augmentation(0.1, 10, 0.1)]
)
def test_layers_are_the_identity_outside_training(layer):
    images = _bar_images()
    np.testing.assert_array_equal(np.asarray(layer(images, training=False)), images)


def test_thickness_changes_ink_area_both_ways_and_keeps_peak_ink():
    keras.utils.set_random_seed(0)
    images = _bar_images(64)
    changed = np.asarray(StrokeThickness(1.0)(images, training=True))
    ink = changed.sum(axis=(1, 2, 3))
    original = images[0].sum()
    assert ink.max() > original * 1.2  # some pens got wider
    assert ink.min() < original * 0.8  # some got thinner
    np.testing.assert_allclose(changed.max(axis=(1, 2, 3)), 1.0, rtol=1e-5)  # as canvas_to_mnist scales ink


def test_elastic_distortion_moves_ink_a_little_without_losing_it():
    keras.utils.set_random_seed(0)
    images = _bar_images()
    moved = np.asarray(ElasticDistortion(1.5)(images, training=True))
    assert not np.allclose(moved, images)
    np.testing.assert_allclose(moved.sum(axis=(1, 2, 3)), images.sum(axis=(1, 2, 3)), rtol=0.15)
    # Smooth field: the bar's columns move by about a pixel, never across the image.
    assert moved[:, :, :8].sum() < 0.02 * moved.sum()


def test_top_bottom_moves_rows_only_stretching_one_end_of_the_digit():
    keras.utils.set_random_seed(0)
    images = np.zeros((32, 28, 28, 1), np.float32)
    images[:, 4:24, 13, 0] = 1.0  # a 1 px vertical line, rows 4-23
    images[:, 14, 6:22, 0] = 1.0  # and a bar across its middle
    moved = np.asarray(TopBottom(1.0)(images, training=True))[..., 0]
    assert np.abs(moved[:, :, :6]).max() < 1e-6 and np.abs(moved[:, :, 22:]).max() < 1e-6  # nothing moves sideways
    bar_rows = (moved[:, :, 8] * np.arange(28)).sum(axis=1) / moved[:, :, 8].sum(axis=1)  # where the bar went
    assert bar_rows.min() < 12 and bar_rows.max() > 16  # up for a bigger bottom, down for a bigger top


def test_gaussian_kernel_is_normalised_per_direction():
    kernel = gaussian_kernel(3.0)
    assert kernel.shape[2:] == (2, 1)
    np.testing.assert_allclose(kernel.sum(axis=(0, 1)), 1.0, rtol=1e-5)


def test_config_adds_only_the_layers_that_are_switched_on():
    plain = RunConfig().replace(arch="cnn", augment=True, bend=0.0)
    assert not {"StrokeThickness", "ElasticDistortion"} & set(layer_types(build_model(plain.model)))
    drawn = plain.replace(augment_thickness=0.5, augment_elastic=1.5)
    types = layer_types(build_model(drawn.model))
    assert {"StrokeThickness", "ElasticDistortion"} <= set(types)
    bent = layer_types(build_model(drawn.replace(bend=3.0).model))
    assert bent.count("ElasticDistortion") == types.count("ElasticDistortion") + 1  # wobble, then the bend
    assert "ElasticDistortion" not in layer_types(build_model(drawn.replace(augment=False, bend=0.0).model))


def test_codegen_writes_the_bend_with_the_layers_own_smoothness():
    from dlapp import augment, codegen_layers

    assert codegen_layers.WARP_SIGMA == augment.WARP_SIGMA


def test_a_model_with_the_layers_loads_through_the_checked_loader(tmp_path):
    config = RunConfig().replace(arch="cnn", conv_filters=(4,), dense_units=8, augment=True, augment_elastic=1.0)
    model = build_model(config.model)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = load_model_file(path)  # the app's checked loader, safe mode
    images = _bar_images(2)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), rtol=1e-5)


def test_a_model_with_every_drawing_layer_fits_in_graph_mode():
    """Keras traces fit with an unknown batch size; the layers must work there, not only eagerly."""
    config = RunConfig().replace(
        arch="cnn",
        conv_filters=(4,),
        dense_units=8,
        augment=True,
        augment_thickness=0.5,
        augment_elastic=1.5,
        epochs=1,
    )
    model = build_model(config.model)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(_bar_images(40), np.arange(40) % 10, batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_elastic_resampling_with_no_displacement_is_the_identity():
    images = np.random.default_rng(0).random((3, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(_resample(images, np.zeros((3, 28, 28, 2), np.float32))), images, atol=1e-6)


def _slanted_bar(lean: float) -> np.ndarray:
    """(1, 28, 28, 1): a 3 px bar from row 4 to 23 whose column moves `lean` px per row (top to the right)."""
    image = np.zeros((1, 28, 28, 1), np.float32)
    for row in range(4, 24):
        left = round(13 - lean * (row - 13.5))
        image[0, row, left : left + 3, 0] = 1.0
    return image


def _column_spread(image: np.ndarray) -> float:
    """How far the ink's mean column moves from the top row to the bottom row, in px."""
    ink = image[0, :, :, 0]
    rows = [r for r in range(28) if ink[r].sum() > 0.5]
    centre = [(ink[r] * np.arange(28)).sum() / ink[r].sum() for r in (rows[0], rows[-1])]
    return abs(centre[1] - centre[0])


def test_deskew_stands_a_leaning_stroke_upright_and_keeps_its_ink():
    leaning = _slanted_bar(0.4)  # about 8 px of lean over the bar's 20 rows
    upright = np.asarray(Deskew()(leaning))
    assert _column_spread(leaning) > 6
    assert _column_spread(upright) < 1
    assert upright.sum() == pytest.approx(leaning.sum(), rel=0.05)


def test_deskew_leaves_an_upright_stroke_and_a_blank_image_alone():
    upright = _bar_images(1)
    np.testing.assert_allclose(np.asarray(Deskew()(upright)), upright, atol=1e-5)
    blank = np.zeros((1, 28, 28, 1), np.float32)
    np.testing.assert_array_equal(np.asarray(Deskew()(blank)), blank)


def test_the_cnn_deskews_only_when_its_setting_is_on():
    cnn = RunConfig().replace(arch="cnn", conv_filters=(4,), dense_units=0)
    assert "Deskew" in layer_types(build_model(cnn.model))  # on by default
    assert "Deskew" not in layer_types(build_model(cnn.replace(deskew=False).model))
