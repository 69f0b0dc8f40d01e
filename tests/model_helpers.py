"""Helpers the model, inference, job and codegen tests share."""

from pathlib import Path

import keras
import numpy as np

from dlapp.config import RunConfig
from dlapp.data import load_raw
from dlapp.models import build_compiled

# Tiny settings per architecture: models that build in a blink and still have every layer kind.
SMALL_SETTINGS = {
    "mlp": {"hidden_units": (16,)},
    "cnn": {"conv_filters": (4, 8), "dense_units": 16},
    "rnn": {"rnn_units": (8,)},
    "resnet": {"resnet_width": 4},
    "autoencoder": {"encoder_units": (32,), "latent_dim": 2},
}


def small_model(arch: str, **overrides) -> keras.Model:
    """An untrained, compiled model of `arch` with the tiny settings, `overrides` on top."""
    return build_compiled(RunConfig().replace(arch=arch, **{**SMALL_SETTINGS[arch], **overrides}))


def sample_digit() -> np.ndarray:
    """The bundled sample's first test digit, scaled to [0, 1]."""
    return load_raw("mnist-sample").x_test[0].astype(np.float32) / 255.0  # (28, 28)


def layer_types(model: keras.Model) -> list[str]:
    """Layer class names in order, walking into nested models (augmentation, encoder, decoder)."""
    out = []
    for layer in model.layers:
        out.append(type(layer).__name__)
        if isinstance(layer, keras.Model):
            out.extend(layer_types(layer))
    return out


def tensorboard_tags(folder: Path) -> set[str]:
    """Every summary tag in the TensorBoard event files of `folder` (a run's train or validation log)."""
    import tensorflow as tf

    return {
        value.tag
        for path in folder.glob("events.out.tfevents.*")
        for event in tf.compat.v1.train.summary_iterator(str(path))
        for value in event.summary.value
    }


def tensorboard_tensors(folder: Path, tag: str) -> list[np.ndarray]:
    """The tensors logged under `tag` in `folder`'s event files, in step order, as TensorBoard reads them."""
    import tensorflow as tf

    found = [
        (event.step, tf.make_ndarray(value.tensor))
        for path in folder.glob("events.out.tfevents.*")
        for event in tf.compat.v1.train.summary_iterator(str(path))
        for value in event.summary.value
        if value.tag == tag
    ]
    return [tensor for _, tensor in sorted(found, key=lambda pair: pair[0])]
