"""One prepared (28, 28) digit through a trained model: probabilities, saliency,
reconstructions, feature maps.

The Draw page calls these on every stroke, so each model gets its compiled
`tf.function`s once (kept in weak caches: they go when the model goes) and one
image is fed straight to the model, never through `model.predict`, whose per-call
set-up costs more than the network itself.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

NUM_CLASSES = 10


@dataclass(frozen=True)
class Prediction:
    probabilities: np.ndarray  # (10,) float32, sums to 1
    label: int
    confidence: float  # probability of `label`
    unsure: bool  # confidence below the threshold: the page says "not sure"
    top_k: list[tuple[int, float]] = field(default_factory=list)  # best first


def predict_proba(model: keras.Model, image: np.ndarray) -> np.ndarray:
    """(28, 28) image in [0, 1] -> (10,) class probabilities, for any input shape the model takes."""
    output = _compiled(model, "forward", _forward_fn)(_model_input(model, image))
    return _as_probabilities(np.asarray(output, dtype=np.float32).reshape(-1))


def predict(model: keras.Model, image: np.ndarray, threshold: float = 0.5, k: int = 3) -> Prediction:
    """The most likely class, how sure the model is, and the runners-up."""
    probabilities = predict_proba(model, image)
    label = int(np.argmax(probabilities))
    confidence = float(probabilities[label])
    return Prediction(probabilities, label, confidence, confidence < threshold, top_k(probabilities, k))


def top_k(probabilities: np.ndarray, k: int = 3) -> list[tuple[int, float]]:
    """The k most likely (class, probability) pairs, best first; ties keep the lower class first."""
    probabilities = np.asarray(probabilities).reshape(-1)
    order = np.argsort(-probabilities, kind="stable")[: max(0, k)]
    return [(int(i), float(probabilities[i])) for i in order]


def saliency(model: keras.Model, image: np.ndarray, class_index: int) -> np.ndarray:
    """|d score / d pixel| for one class -> (28, 28) in [0, 1]; all zeros when the gradient is zero.

    The score is the pre-softmax logit when the model ends in a softmax Dense layer
    (its gradient is not squashed when the model is already sure), else the probability.
    """
    if not 0 <= int(class_index) < NUM_CLASSES:
        raise ValueError(f"class_index must be a digit class 0-9; got {class_index!r}.")
    gradient = _compiled(model, "saliency", _saliency_fn)(_model_input(model, image), tf.constant(int(class_index)))
    magnitude = np.abs(np.asarray(gradient, dtype=np.float32)).reshape(28, 28, -1).max(axis=-1)  # (28, 28)
    peak = magnitude.max()
    return magnitude / peak if peak > 0 else np.zeros((28, 28), np.float32)


def reconstruct(autoencoder: keras.Model, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(28, 28) image -> (reconstruction (28, 28), latent code (d,)) through the "encoder" and "decoder"."""
    encoder, decoder = _halves(autoencoder)
    latent = encoder(_model_input(autoencoder, image), training=False)  # (1, d)
    reconstruction = decoder(latent, training=False)  # (1, 28, 28)
    return np.asarray(reconstruction, np.float32).reshape(28, 28), np.asarray(latent, np.float32).reshape(-1)


def decode(autoencoder: keras.Model, point: np.ndarray) -> np.ndarray:
    """A point of the latent space (d,) -> the (28, 28) image the decoder draws for it."""
    _, decoder = _halves(autoencoder)
    latent_dim = int(decoder.input_shape[-1])
    point = np.asarray(point, dtype=np.float32).reshape(-1)
    if point.shape != (latent_dim,):
        raise ValueError(f"The latent point has {point.size} numbers, but this autoencoder's code has {latent_dim}.")
    return np.asarray(decoder(point[None], training=False), np.float32).reshape(28, 28)


def feature_maps(model: keras.Model, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(layer name, (h, w, channels) activations) for every top-level Conv2D layer, input side first.

    An MLP or RNN has none, so the list is empty. Augmentation layers sit before the
    first conv but do nothing outside training.
    """
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not convs:
        return []
    outputs = _compiled(model, "feature_maps", _feature_maps_fn)(_model_input(model, image))
    return [(layer.name, np.asarray(out, np.float32)[0]) for layer, out in zip(convs, outputs, strict=True)]


# --- helpers -------------------------------------------------------------------------------------------------

_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {kind: compiled function}
_cache_lock = threading.Lock()  # Streamlit serves sessions from several threads


def _compiled(model: keras.Model, kind: str, make: Callable[[keras.Model], Callable]) -> Callable:
    """The model's compiled function of this kind, traced once per model."""
    with _cache_lock:
        functions = _cache.setdefault(model, {})
        if kind not in functions:
            functions[kind] = make(model)
        return functions[kind]


# The compiled functions hold the model only weakly, so the cache entry does not keep its own key alive.


def _forward_fn(model: keras.Model) -> Callable:
    model_ref = weakref.ref(model)
    return tf.function(lambda x: model_ref()(x, training=False))


def _saliency_fn(model: keras.Model) -> Callable:
    model_ref = weakref.ref(model)
    score_of = _logits_model(model) or (lambda x: model_ref()(x, training=False))

    @tf.function
    def gradient(x, class_index):
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = tf.gather(tf.reshape(score_of(x), [-1]), class_index)
        return tape.gradient(score, x)

    return gradient


def _logits_model(model: keras.Model) -> Callable | None:
    """x -> pre-softmax logits, when the model ends in a Dense layer with a softmax; else None."""
    last = model.layers[-1]
    if not (isinstance(last, keras.layers.Dense) and last.activation is keras.activations.softmax):
        return None
    try:
        features = keras.Model(model.inputs, last.input)
    except (ValueError, TypeError, AttributeError):  # a graph Keras cannot cut there: fall back to probabilities
        return None
    return lambda x: tf.matmul(features(x, training=False), last.kernel) + last.bias


def _feature_maps_fn(model: keras.Model) -> Callable:
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    probe = keras.Model(model.inputs, [layer.output for layer in convs])
    return tf.function(lambda x: probe(x, training=False))


def _model_input(model: keras.Model, image: np.ndarray) -> tf.Tensor:
    """(28, 28) -> (1, *model input shape) float32 tensor; one-sentence ValueError for anything else."""
    pixels = np.asarray(image, dtype=np.float32)
    if pixels.size != 28 * 28 or pixels.squeeze().shape != (28, 28):
        raise ValueError(f"Expected one 28x28 image (run canvas_to_mnist first); got shape {pixels.shape}.")
    per_image = tuple(model.input_shape[1:])
    if int(np.prod(per_image)) != 28 * 28:
        raise ValueError(f"This model takes inputs of shape {per_image}, not 28x28 digits.")
    return tf.constant(pixels.reshape((1, *per_image)))


def _as_probabilities(output: np.ndarray) -> np.ndarray:
    """Softmax output is used as is; raw logits (from an uploaded model) get a softmax."""
    if output.min() >= 0 and abs(float(output.sum()) - 1.0) < 1e-3:
        return output
    shifted = np.exp(output - output.max())
    return (shifted / shifted.sum()).astype(np.float32)


def _halves(autoencoder: keras.Model) -> tuple[keras.Model, keras.Model]:
    try:
        return autoencoder.get_layer("encoder"), autoencoder.get_layer("decoder")
    except ValueError:
        raise ValueError(
            "This model has no 'encoder' and 'decoder' parts; reconstructions need a dlapp autoencoder."
        ) from None
