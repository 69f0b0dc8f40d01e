"""Training-time augmentation that looks like how people draw with a mouse.

People's canvas digits differ from MNIST's in three ways the affine layers
(shift, rotation, zoom) do not cover: the pen is thicker or thinner relative to
the digit, and a mouse wobbles so straight lines bend. These layers
add those changes to (batch, 28, 28, 1) images while training and pass images
through unchanged otherwise, so a saved model predicts exactly as before.

They are Keras layers registered under the package name "dlapp", so a `.keras`
file that contains them loads (in safe mode) wherever `dlapp.augment` is imported.

`Deskew` is the one layer here that also works when predicting: it stands a slanted digit
upright, so training digits, test digits and drawings are all read the same way.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

SIZE = 28
MAX_SKEW = 1.0  # at most one column per row: a stroke lying on its side is not sheared flat
# The CNN's `bend` is an elastic field this smooth: about the size of a digit's loop, so the whole
# digit bends (a 6's loop grows, a 1 curves) instead of its line wobbling (the default sigma, 3 px).
WARP_SIGMA = 6.0


@keras.saving.register_keras_serializable(package="dlapp")
class StrokeThickness(layers.Layer):
    """Thicker or thinner strokes: move each image part of the way to its 3x3 dilation or erosion.

    `max_change` 0.5 means each image is blended by a random amount in [-0.5, 0.5]:
    positive towards the dilated image (a pen about one pixel wider), negative
    towards the eroded one (thinner).
    """

    def __init__(self, max_change: float = 0.5, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.max_change = float(max_change)
        self.seed = seed
        self._seeds = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training or self.max_change <= 0:
            return images
        dilated = ops.max_pool(images, 3, strides=1, padding="same")  # (batch, 28, 28, 1)
        eroded = -ops.max_pool(-images, 3, strides=1, padding="same")
        batch = ops.shape(images)[0]
        amount = keras.random.uniform(
            (batch, 1, 1, 1), -self.max_change, self.max_change, seed=self._seeds, dtype=images.dtype
        )
        target = ops.where(amount > 0, dilated, eroded)
        changed = images + ops.abs(amount) * (target - images)
        # Erosion dims anti-aliased strokes; the canvas pipeline always scales ink to peak 1, so do the same.
        peak = ops.max(changed, axis=(1, 2, 3), keepdims=True)
        return changed / ops.maximum(peak, 1e-6)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_change": self.max_change, "seed": self.seed}


@keras.saving.register_keras_serializable(package="dlapp")
class ElasticDistortion(layers.Layer):
    """Simard et al.'s elastic distortion: every pixel moves along a smooth random field.

    A random displacement per pixel is smoothed by a Gaussian of width `sigma` px
    and scaled so its largest component is `alpha` px on average: straight lines
    bend gently, like a line drawn with a mouse.
    """

    def __init__(self, alpha: float = 1.5, sigma: float = 3.0, seed: int | None = None, **kwargs):
        kwargs.setdefault("dtype", "float32")  # resampling in float32, whatever the policy (as Deskew)
        super().__init__(**kwargs)
        self.alpha = float(alpha)
        self.sigma = float(sigma)
        self.seed = seed
        self._seeds = keras.random.SeedGenerator(seed)
        self._kernel = gaussian_kernel(self.sigma)  # (k, k, 2, 1): one smoothing filter per direction

    def call(self, images, training=None):
        if not training or self.alpha <= 0:
            return images
        images = ops.cast(images, "float32")
        batch = ops.shape(images)[0]
        noise = keras.random.uniform((batch, SIZE, SIZE, 2), -1.0, 1.0, seed=self._seeds)
        field = ops.depthwise_conv(noise, ops.convert_to_tensor(self._kernel), padding="same")
        peak = ops.mean(ops.max(ops.abs(field), axis=(1, 2, 3)))
        field = field * (self.alpha / (peak + 1e-6))  # (batch, 28, 28, 2) displacement in px
        return ops.expand_dims(_resample(ops.squeeze(images, -1), field), -1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "sigma": self.sigma, "seed": self.seed}


@keras.saving.register_keras_serializable(package="dlapp")
class TopBottom(layers.Layer):
    """A bigger top and a smaller bottom, or the other way round: rows moved by a random power curve.

    Output row r reads input row 27 x (r / 27) ** p, with log p uniform in +-log(1 + `max_change`):
    p < 1 gives the lower part more rows (a 6 whose loop fills most of the digit), p > 1 the upper
    part (a 9 with a big loop, an 8 with a big top), as people draw them and MNIST's writers rarely did.
    """

    def __init__(self, max_change: float = 0.5, seed: int | None = None, **kwargs):
        kwargs.setdefault("dtype", "float32")  # resampling in float32, whatever the policy (as Deskew)
        super().__init__(**kwargs)
        self.max_change = float(max_change)
        self.seed = seed
        self._seeds = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training or self.max_change <= 0:
            return images
        images = ops.cast(images, "float32")
        batch = ops.shape(images)[0]
        spread = float(np.log1p(self.max_change))
        power = ops.exp(keras.random.uniform((batch, 1, 1), -spread, spread, seed=self._seeds))
        rows = ops.reshape(ops.cast(ops.arange(SIZE), "float32"), (1, SIZE, 1)) / (SIZE - 1)  # 0 top .. 1 bottom
        moved = (SIZE - 1) * rows**power - (SIZE - 1) * rows  # (batch, 28, 1) rows to read from, minus where
        moved = ops.broadcast_to(moved, (batch, SIZE, SIZE))
        field = ops.stack([moved, ops.zeros_like(moved)], axis=-1)
        return ops.expand_dims(_resample(ops.squeeze(images, -1), field), -1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_change": self.max_change, "seed": self.seed}


@keras.saving.register_keras_serializable(package="dlapp")
class Deskew(layers.Layer):
    """Classic MNIST deskewing by image moments, in training and when predicting.

    The ink's second moments give its slant: skew = mu11 / mu02, the columns the ink moves
    per row away from its centre of mass. Each row is read shifted sideways by
    skew x (row - centre row), so a digit leaning right or left stands upright.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")  # moments and resampling in float32, whatever the policy
        super().__init__(**kwargs)

    def call(self, images):
        ink = ops.squeeze(ops.cast(images, "float32"), -1)  # (batch, 28, 28)
        grid = ops.cast(ops.arange(SIZE), "float32")
        rows, cols = ops.reshape(grid, (1, SIZE, 1)), ops.reshape(grid, (1, 1, SIZE))

        def mean(values):  # ink-weighted mean over each image, (batch, 1, 1)
            return ops.sum(ink * values, axis=(1, 2), keepdims=True) / (ops.sum(ink, axis=(1, 2), keepdims=True) + 1e-6)

        from_row, from_col = rows - mean(rows), cols - mean(cols)  # (batch, 28, 28)
        skew = ops.clip(mean(from_row * from_col) / (mean(from_row**2) + 1e-6), -MAX_SKEW, MAX_SKEW)
        shift = skew * from_row  # (batch, 28, 28): how far sideways each pixel is read from
        field = ops.stack([ops.zeros_like(shift), shift], axis=-1)
        return ops.expand_dims(_resample(ink, field), -1)

    def compute_output_shape(self, input_shape):
        return input_shape


def gaussian_kernel(sigma: float) -> np.ndarray:
    """(k, k, 2, 1) float32 normalised Gaussian, k about 4 sigma, for a depthwise conv over 2 channels."""
    radius = max(1, round(2 * sigma))
    steps = np.arange(-radius, radius + 1, dtype=np.float32)
    line = np.exp(-(steps**2) / (2 * sigma**2))
    square = np.outer(line, line)
    square /= square.sum()
    return np.repeat(square[:, :, None, None], 2, axis=2).astype(np.float32)


def _resample(images, field):
    """Bilinear look-up of (batch, 28, 28) images at the grid plus `field` (batch, 28, 28, 2) (rows, cols).

    Outside the image reads as no ink. Written with gathers on the flattened batch because
    `ops.image.map_coordinates` cannot take a batch size that is unknown while tracing.
    """
    batch = ops.shape(images)[0]
    grid = ops.cast(ops.arange(SIZE), "float32")
    rows = ops.reshape(grid, (1, SIZE, 1)) + field[..., 0]  # (batch, 28, 28)
    cols = ops.reshape(grid, (1, 1, SIZE)) + field[..., 1]
    top, left = ops.floor(rows), ops.floor(cols)
    down, right = rows - top, cols - left  # bilinear weights
    flat = ops.reshape(images, (-1,))
    offsets = ops.reshape(ops.arange(batch) * SIZE * SIZE, (-1, 1, 1))

    def ink_at(r, c):
        inside = (r >= 0) & (r <= SIZE - 1) & (c >= 0) & (c <= SIZE - 1)
        index = (
            offsets + ops.cast(ops.clip(r, 0, SIZE - 1), "int32") * SIZE + ops.cast(ops.clip(c, 0, SIZE - 1), "int32")
        )
        return ops.where(inside, ops.take(flat, index), 0.0)

    upper = (1 - right) * ink_at(top, left) + right * ink_at(top, left + 1)
    lower = (1 - right) * ink_at(top + 1, left) + right * ink_at(top + 1, left + 1)
    return (1 - down) * upper + down * lower


def drawing_augmentation(
    shift: float,
    rotation_degrees: float,
    zoom: float,
    *,
    thickness: float = 0.0,
    elastic: float = 0.0,
    top_bottom: float = 0.0,
) -> keras.Sequential:
    """Shift, rotation and zoom, then (each only when above 0) pen width, wobble and top/bottom sizes.

    Images are (batch, 28, 28, 1).

    (No shear: Keras 3.15's RandomShear writes a config it cannot read back, so a model with it
    could be saved but never loaded.)
    """
    steps = [
        layers.RandomTranslation(shift, shift, fill_mode="constant"),
        layers.RandomRotation(rotation_degrees / 360.0, fill_mode="constant"),
        layers.RandomZoom(zoom, fill_mode="constant"),
    ]
    if thickness > 0:
        steps.append(StrokeThickness(thickness))
    if elastic > 0:
        steps.append(ElasticDistortion(elastic))
    if top_bottom > 0:
        steps.append(TopBottom(top_bottom))
    return keras.Sequential(steps, name="augmentation")
