"""Per-epoch layer statistics: each kernel's gradient norm on a fixed probe batch, its weight
norm and a weight histogram, recorded by a callback at the end of every epoch.

Like `dlapp.callbacks.EventCallback` the callback only computes and forwards: its owner
(a training job) stores the dict. Nothing here runs per batch.

A layer's statistics are keyed by its name; a layer inside a nested model or wrapper gets
the path through it ("encoder/dense", "bidirectional/forward_lstm"). Layers without a
kernel (pooling, dropout, flatten, batch norm) are left out.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import keras
import numpy as np
import tensorflow as tf

# The probe batch: the same training images every epoch, so epochs compare. 256 of them, but
# never more than 1 in 64 (nor fewer than 32): on the 3,600-image sample a 256-image probe
# would cost 3-6% of an epoch for the conv nets, 1 in 64 costs 1-1.6% (bench, 2-core EPYC).
PROBE_SIZE = 256
PROBE_SHARE = 64
PROBE_MIN = 32
PROBE_SEED = 0  # picks them, so runs on the same data share a probe batch
HISTOGRAM_BINS = 30


class LayerStatsOwner(Protocol):
    def on_layers(self, epoch: int, layers: dict[str, dict]) -> None: ...


def probe_size(train_images: int) -> int:
    """How many images the probe batch has for a training set of this size (before capping at its size)."""
    return int(np.clip(train_images // PROBE_SHARE, PROBE_MIN, PROBE_SIZE))


def probe_batch(x: np.ndarray, y: np.ndarray, size: int | None = None, seed: int = PROBE_SEED):
    """`size` training examples (`probe_size` by default; all when there are fewer), chosen by `seed`, in data order."""
    size = probe_size(len(x)) if size is None else size
    if len(x) == 0:
        raise ValueError("The probe batch is drawn from the training images, and there are none.")
    if len(x) != len(y):
        raise ValueError(f"The probe batch needs one target per image; got {len(x)} images and {len(y)} targets.")
    rows = np.sort(np.random.default_rng(seed).choice(len(x), size=min(size, len(x)), replace=False))
    return x[rows], y[rows]


def kernel_layers(model: keras.Layer) -> list[tuple[str, keras.Variable]]:
    """(name, kernel) of every layer with a trainable kernel, input side first, nested models opened up."""
    return list(_kernels_under(model, prefix=""))


def _kernels_under(layer: keras.Layer, prefix: str) -> Iterator[tuple[str, keras.Variable]]:
    for child in _children(layer):
        kernel = own_kernel(child)
        if kernel is None:
            yield from _kernels_under(child, prefix=f"{prefix}{child.name}/")
        elif kernel.trainable:
            yield f"{prefix}{child.name}", kernel


def own_kernel(layer: keras.Layer) -> keras.Variable | None:
    """The layer's input kernel: its own `kernel`, or its cell's for a recurrent layer (LSTM, GRU, SimpleRNN)."""
    for holder in (layer, getattr(layer, "cell", None)):
        kernel = getattr(holder, "kernel", None)
        if isinstance(kernel, keras.Variable):
            return kernel
    return None


def _children(layer: keras.Layer) -> list[keras.Layer]:
    # Keras's own walk over tracked sub-layers: a model's layers, Bidirectional's two directions,
    # a custom block's parts. Data-flow order for functional models (topologically sorted).
    return list(layer._flatten_layers(include_self=False, recursive=False))


def layer_stats(grad_norm: float, weight_norm: float, low: float, high: float, counts) -> dict:
    """{"grad_norm", "weight_norm", "hist": {"edges", "counts"}}; None (and no histogram) for what is not finite."""
    finite_range = np.isfinite(low) and np.isfinite(high)
    edges = np.linspace(low, high, len(counts) + 1) if finite_range else np.zeros(0)
    return {
        "grad_norm": _finite_or_none(grad_norm),
        "weight_norm": _finite_or_none(weight_norm),
        "hist": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts] if finite_range else []},
    }


def _finite_or_none(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


class LayerProbe:
    """Every kernel's statistics on one fixed batch, in one compiled TensorFlow call.

    The gradient is the one training follows: the forward pass runs in training mode (batch
    norm on the batch's own statistics, which is how it rescues deep sigmoid networks), but
    statelessly, so the model's moving statistics and random state are left as they were.
    It is the gradient of the data loss alone; L2 terms reach each layer directly, not
    through backpropagation. Histograms are made inside the graph too: copying the kernels
    out to NumPy costs more than the counting.

    Compiled with `tf.function`: called eagerly it costs 3-8 times more every epoch. Tracing
    costs 0.1-0.8 s of CPU, so the compiled function is shared by every model of the same
    structure (`shared_measure`): the variants of an experiment or a lesson, a run trained
    again, trace it once.
    """

    def __init__(self, model: keras.Model, x: np.ndarray, y: np.ndarray, bins: int = HISTOGRAM_BINS):
        named = kernel_layers(model)
        self.names = [name for name, _ in named]
        positions = {id(variable): i for i, variable in enumerate(model.trainable_variables)}
        kernel_positions = [positions[id(kernel)] for _, kernel in named]
        self._model = model
        self._x, self._y = tf.constant(x), tf.constant(y)
        self._measure = shared_measure(model, kernel_positions, bins) if self.names else None

    def __call__(self) -> dict[str, dict]:
        if self._measure is None:
            return {}
        # The weights go in as values: the compiled function may have been traced on another model.
        trainable = [tf.convert_to_tensor(v) for v in self._model.trainable_variables]
        non_trainable = [tf.convert_to_tensor(v) for v in self._model.non_trainable_variables]
        summaries = self._measure(trainable, non_trainable, self._x, self._y)
        return {
            name: layer_stats(*(np.asarray(part) for part in s)) for name, s in zip(self.names, summaries, strict=True)
        }


# Compiled probes kept for reuse, most recently used last; each holds the model it was traced on.
SHARED_PROBES_KEPT = 4
_shared_probes: OrderedDict[str, Any] = OrderedDict()
_shared_probes_lock = threading.Lock()


def shared_measure(model: keras.Model, kernel_positions: list[int], bins: int = HISTOGRAM_BINS):
    """The compiled statistics function for models structured like `model`: traced on the first such model,
    called with another's weights as values. Same structure means the same layers with the same settings,
    connected the same way, the same loss and dtypes: everything but the layers' names and the weights."""
    try:
        key = structure_key(model, kernel_positions, bins)
    except (NotImplementedError, TypeError, ValueError):  # a custom layer without a config: this model's own
        return _compiled_measure(model, kernel_positions, bins)
    with _shared_probes_lock:
        measure = _shared_probes.get(key)
        if measure is None:
            measure = _compiled_measure(model, kernel_positions, bins)
            _shared_probes[key] = measure
        _shared_probes.move_to_end(key)
        while len(_shared_probes) > SHARED_PROBES_KEPT:
            _shared_probes.popitem(last=False)
    return measure


def structure_key(model: keras.Model, kernel_positions: list[int], bins: int) -> str:
    """The model's Keras config with every layer name replaced by its place, plus its loss, as one string.

    Built from the same settings, two models differ only in their layers' names (Keras numbers them)."""
    names = {layer.name: f"layer-{i}" for i, layer in enumerate(model._flatten_layers(include_self=True))}
    config = _renamed(json.loads(model.to_json()), names)
    config.pop("compile_config", None)  # the optimizer's settings do not change the gradient; the loss is below
    loss = data_loss(model)
    loss_config = keras.losses.serialize(loss) if isinstance(loss, keras.losses.Loss) else repr(loss)
    return json.dumps([config, loss_config, kernel_positions, bins], sort_keys=True, default=repr)


def _renamed(value, names: dict[str, str]):
    if isinstance(value, dict):
        return {key: _renamed(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, names) for item in value]
    return names.get(value, value) if isinstance(value, str) else value


def _compiled_measure(model: keras.Model, kernel_positions: list[int], bins: int):
    loss = data_loss(model)

    def measure(trainable, non_trainable, x, y):
        kernels = [trainable[i] for i in kernel_positions]
        with tf.GradientTape() as tape:
            tape.watch(kernels)
            prediction, _ = model.stateless_call(trainable, non_trainable, x, training=True)
            value = tf.reduce_mean(loss(tf.cast(y, tf.float32), tf.cast(prediction, tf.float32)))
        gradients = tape.gradient(value, kernels)
        return [_kernel_summary(k, g, bins) for k, g in zip(kernels, gradients, strict=True)]

    # No AutoGraph: nothing here branches on a tensor (Keras layers branch on Python values), and
    # converting the model's call code costs 0.3-0.5 s of CPU per run, most of the trace.
    return tf.function(measure, autograph=False)


def _kernel_summary(kernel, gradient, bins: int):
    """(grad norm, weight norm, low, high, (bins,) counts) of one kernel, as tensors."""
    weights = tf.reshape(tf.cast(kernel, tf.float32), [-1])
    low, high = tf.reduce_min(weights), tf.reduce_max(weights)
    # A constant kernel (all zeros at the start, say) gets a range one wide, as np.histogram gives it.
    flat = tf.equal(low, high)
    low, high = tf.where(flat, low - 0.5, low), tf.where(flat, high + 0.5, high)
    finite = tf.math.is_finite(low) & tf.math.is_finite(high)
    counts = tf.histogram_fixed_width(
        tf.where(tf.math.is_finite(weights), weights, low),
        tf.where(finite, tf.stack([low, high]), tf.constant([0.0, 1.0])),
        nbins=bins,
    )
    grad_norm = _norm(gradient) if gradient is not None else tf.constant(float("nan"))
    return grad_norm, _norm(weights), low, high, counts


def _norm(tensor):
    # What tf.norm computes here, in a tenth of its tracing time (tf.norm was 40% of the trace).
    return tf.sqrt(tf.reduce_sum(tf.square(tf.cast(tensor, tf.float32))))


def data_loss(model: keras.Model):
    """The per-example loss function the model was compiled with."""
    loss = getattr(model, "loss", None)
    if loss is None:
        raise ValueError("Gradients need the model's loss; compile the model before training it.")
    if isinstance(loss, str):
        return keras.losses.get(loss)
    if isinstance(loss, keras.losses.Loss) or callable(loss):
        return loss
    raise ValueError(f"Could not interpret loss {loss!r} for layer gradients; expected one loss for one output.")


class LayerStatsCallback(keras.callbacks.Callback):
    """At the end of every epoch, forwards {layer name: stats} for every layer with a trainable kernel.

    The probe batch is chosen once, here, from the training data it is given.
    `seconds` and `cpu_seconds` keep how long each epoch's recording took (wall, process CPU), for the bench.
    """

    def __init__(self, owner: LayerStatsOwner, x_train: np.ndarray, y_train: np.ndarray, probe_size: int | None = None):
        super().__init__()
        self.owner = owner
        self.x_probe, self.y_probe = probe_batch(x_train, y_train, size=probe_size)
        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []
        self._probe: LayerProbe | None = None

    def on_epoch_end(self, epoch, logs=None):
        began, cpu_began = time.perf_counter(), time.process_time()
        layers = self.record()
        self.seconds.append(time.perf_counter() - began)
        self.cpu_seconds.append(time.process_time() - cpu_began)
        self.owner.on_layers(epoch, layers)

    def record(self) -> dict[str, dict]:
        """{layer name: {"grad_norm", "weight_norm", "hist"}} for the model as it is now."""
        if self._probe is None:  # built on first use: the model is compiled and built by then
            self._probe = LayerProbe(self.model, self.x_probe, self.y_probe)
        return self._probe()


# --- what the first layer looks for -----------------------------------------------------------------------------

FIRST_LAYER_COUNT = 32  # neurons or kernels shown by default, the strongest first


@dataclass(frozen=True)
class FirstLayerWeights:
    layer: str  # the layer's name
    kind: str  # "Dense" or "Conv2D"
    images: np.ndarray  # (n, h, w): each neuron's 784 weights as 28x28, or each kernel's k x k weights
    units: list[int]  # which neuron or filter each image is (0-based), strongest first
    total: int  # neurons or filters the layer has


def first_layer_weights(model: keras.Model, count: int = FIRST_LAYER_COUNT) -> FirstLayerWeights | None:
    """The first layer's weights as pictures, the `count` strongest (largest weight norm) first.

    For a Dense layer reading the 784 pixels, each neuron's weights as a 28x28 image; for a
    Conv2D layer, each filter's kernel (summed over input channels). None when the first
    layer with weights is neither (an RNN reads one 28-pixel row at a time).
    """
    if count < 1:
        raise ValueError(f"count must be at least 1; got {count}.")
    layers = kernel_layers(model)
    if not layers:
        return None
    name, kernel = layers[0]
    weights = np.asarray(kernel, np.float32)
    if weights.ndim == 2 and weights.shape[0] == 28 * 28:
        images, kind = weights.T.reshape(-1, 28, 28), "Dense"  # (units, 28, 28)
    elif weights.ndim == 4:
        images, kind = weights.sum(axis=2).transpose(2, 0, 1), "Conv2D"  # (k, k, in, filters) -> (filters, k, k)
    else:
        return None
    strength = np.linalg.norm(images.reshape(len(images), -1), axis=1)
    order = np.argsort(-strength, kind="stable")[:count]
    return FirstLayerWeights(name, kind, images[order], [int(i) for i in order], len(images))
