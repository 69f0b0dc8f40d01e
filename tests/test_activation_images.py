"""Pictures of one digit's forward pass: colours, caps, and which picture each layer gets."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from dlapp import activation_images as ai


def activation(values: np.ndarray, name: str = "layer", kind: str = "Dense"):
    return SimpleNamespace(name=name, kind=kind, values=values, steps=None, shape=values.shape)


def test_non_negative_values_run_dark_to_yellow_and_signed_values_blue_white_red():
    assert ai.value_range(np.array([0.0, 2.0])) == ("Viridis", 0.0, 2.0)
    assert ai.value_range(np.array([-1.0, 3.0])) == ("RdBu_r", -3.0, 3.0)
    dark, bright = ai.colorize(np.array([0.0, 2.0]), "Viridis", 0.0, 2.0)
    assert tuple(dark) == (68, 1, 84) and tuple(bright) == (253, 231, 37)
    blue, white, red = ai.colorize(np.array([-3.0, 0.0, 3.0]), "RdBu_r", -3.0, 3.0)
    assert blue[2] > blue[0] and red[0] > red[2] and min(white) > 240


def test_gaps_between_tiles_get_the_gap_colour():
    grid = ai.tiles(np.ones((3, 2, 2)), columns=2)
    assert grid.shape == (5, 5) and np.isnan(grid[2]).all() and np.isnan(grid[3:, 3:]).all()
    assert tuple(ai.colorize(grid, "Viridis", 0, 1)[2, 0]) == ai.GAP_RGB


def test_a_conv_layer_shows_its_first_16_channels_unless_asked_for_more():
    maps = np.random.default_rng(0).random((14, 14, 40))
    default = ai.feature_map_picture(maps, "conv2d")
    assert "the first 16 of 40 channels" in default.title
    everything = ai.feature_map_picture(maps, "conv2d", channels=40)
    assert "first" not in everything.title
    assert everything.image.shape[0] > default.image.shape[0]  # more rows of tiles
    assert default.image.dtype == np.uint8 and default.image.shape[-1] == 3


def test_a_huge_dense_layer_shows_its_first_512_units_and_says_so():
    picture = ai.strip_picture(np.arange(4096.0), "dense_7")
    assert "the first 512 of 4,096 units" in picture.title
    assert picture.image.shape[:2] == (8 * ai.CELL_PX, 64 * ai.CELL_PX)


def test_each_kind_of_output_gets_its_picture():
    image = ai.layer_picture(activation(np.full((28, 28, 1), 0.5), "image", "InputLayer"))
    assert image.image.shape == (168, 168, 3) and (image.image == 128).all()
    assert image.title == "image · InputLayer · (28, 28, 1)"
    maps = ai.layer_picture(activation(np.ones((7, 7, 8)), kind="Conv2D"))
    assert maps.legend.startswith("dark: 0")
    probabilities = ai.layer_picture(activation(np.full(10, 0.1), "probabilities"))
    assert probabilities.image.shape[:2] == (4 * ai.CELL_PX, 10 * 4 * ai.CELL_PX)  # few units: big cells


def test_a_layer_name_stays_plain_text_for_the_page_to_show_as_text():
    picture = ai.layer_picture(activation(np.ones(4), name="<b>mine</b>"))
    assert picture.title.startswith("<b>mine</b> · Dense")


@pytest.mark.parametrize("values", [np.zeros(5), np.full((3, 3, 2), np.nan)])
def test_flat_or_empty_outputs_still_make_a_picture(values):
    picture = ai.layer_picture(activation(values))
    assert picture.image.dtype == np.uint8
