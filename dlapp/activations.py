"""One prepared (28, 28) digit through a model, layer by layer: what every layer outputs, in
the order the data flows. The Draw page shows it as "the forward pass of your drawing".

Nested models (the autoencoder's encoder and decoder, an augmentation block) are opened
up. A recurrent layer also gives its hidden state after each of the 28 image rows, read
by running the layer's own cell over the rows. It needs no training history, so an
imported `.keras` model works as well as a trained run.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from dlapp.inference import _compiled, _model_input

MAX_LAYERS = 40  # a deeper model shows its first 39 layers and its output; the page says how many were left out


@dataclass(frozen=True)
class LayerActivation:
    name: str  # the layer's name; "encoder/latent" inside a nested model
    kind: str  # the layer's class name: "Conv2D", "Dense", "LSTM", "InputLayer"
    values: np.ndarray  # the layer's output for the one image, no batch axis: (h, w, c), (units,), (28, 28)
    steps: np.ndarray | None = None  # recurrent layers: (28, units) hidden state after each image row
    role: str = ""  # "input", "latent code" or "output" where one applies

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)


@dataclass(frozen=True)
class ForwardPass:
    layers: list[LayerActivation]  # input first, output last
    left_out: int = 0  # layers between the shown ones and the output, past `max_layers`
    note: str = ""  # one sentence on what was left out or could not be opened, for the page

    @property
    def output(self) -> LayerActivation:
        return self.layers[-1]


def forward_pass(model: keras.Model, image: np.ndarray, max_layers: int = MAX_LAYERS) -> ForwardPass:
    """Every layer's output for one (28, 28) image in [0, 1], input first; at most `max_layers` of them."""
    if max_layers < 2:
        raise ValueError(f"max_layers must be at least 2 (the input and the output); got {max_layers}.")
    x = _model_input(model, image)  # (1, *model input shape)
    try:
        layers = _layer_outputs(model, x, prefix="")
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        # A subclassed or unusually wired model Keras cannot cut into layers: show its two ends.
        output = np.asarray(model(x, training=False), np.float32)[0]
        ends = [_input_activation(model, x), LayerActivation(model.name, type(model).__name__, output, role="output")]
        return ForwardPass(
            ends, note="This model's layers cannot be opened up, so only its input and output are shown."
        )
    layers[-1] = _with_role(layers[-1], "output")
    return _capped(layers, max_layers)


def _capped(layers: list[LayerActivation], max_layers: int) -> ForwardPass:
    if len(layers) <= max_layers:
        return ForwardPass(layers)
    left_out = len(layers) - max_layers
    kept = [*layers[: max_layers - 1], layers[-1]]
    note = (
        f"This model has {len(layers)} layers; the first {max_layers - 1} and the output are shown, "
        f"the {left_out} in between are left out to keep the page quick."
    )
    return ForwardPass(kept, left_out, note)


def _layer_outputs(model: keras.Model, x: tf.Tensor, prefix: str) -> list[LayerActivation]:
    """The outputs of `model`'s layers for input `x`, nested models opened up under `prefix/`."""
    outputs, inputs = _compiled(model, "layer_outputs", _probe_fn)(x)
    result: list[LayerActivation] = []
    for layer, output, layer_input in zip(_layers(model), outputs, inputs, strict=True):
        if isinstance(layer, keras.layers.InputLayer):
            if not prefix:  # a nested model's input is the previous layer's output, already shown
                result.append(
                    LayerActivation(layer.name, "InputLayer", np.asarray(output, np.float32)[0], role="input")
                )
        elif isinstance(layer, keras.Model):
            inner = _layer_outputs(layer, layer_input, prefix=f"{prefix}{layer.name}/")
            if layer.name == "encoder" and inner:
                inner[-1] = _with_role(inner[-1], "latent code")
            result.extend(inner)
        else:
            values = np.asarray(output, np.float32)[0]
            result.append(
                LayerActivation(f"{prefix}{layer.name}", _kind(layer), values, _hidden_steps(layer, layer_input))
            )
    return result


def _layers(model: keras.Model) -> list[keras.Layer]:
    """The model's layers in data-flow order, its input layer first when it has one."""
    layers = list(model.layers)
    own_input = getattr(model, "_functional", model)  # a Sequential keeps its graph in a functional model
    input_layers = [layer for layer in getattr(own_input, "layers", []) if isinstance(layer, keras.layers.InputLayer)]
    if input_layers and not any(isinstance(layer, keras.layers.InputLayer) for layer in layers):
        layers.insert(0, input_layers[0])
    return layers


def _probe_fn(model: keras.Model) -> Callable:
    """x -> (every layer's output, every layer's input), one compiled call for the whole model.

    A layer's tensors are read from its first call node: for a nested model that is the call
    inside this graph (its own `.output` would be the tensor of its inner graph).
    """
    nodes = [layer._inbound_nodes[0] for layer in _layers(model)]
    outputs = [node.output_tensors[0] for node in nodes]
    inputs = [node.input_tensors[0] if node.input_tensors else node.output_tensors[0] for node in nodes]
    probe = keras.Model(model.inputs, [outputs, inputs])
    return tf.function(lambda x: probe(x, training=False))


def _input_activation(model: keras.Model, x: tf.Tensor) -> LayerActivation:
    return LayerActivation("image", "InputLayer", np.asarray(x, np.float32)[0], role="input")


def _with_role(activation: LayerActivation, role: str) -> LayerActivation:
    return LayerActivation(activation.name, activation.kind, activation.values, activation.steps, role)


def _kind(layer: keras.Layer) -> str:
    """The class name, with the wrapped layer's for a wrapper: "Bidirectional(LSTM)"."""
    inner = getattr(layer, "forward_layer", None)
    return f"{type(layer).__name__}({type(inner).__name__})" if inner is not None else type(layer).__name__


# --- recurrent layers: the hidden state after every row -------------------------------------------------------


def _hidden_steps(layer: keras.Layer, layer_input: tf.Tensor) -> np.ndarray | None:
    """(steps, units) hidden states in image-row order, for a recurrent layer (or a Bidirectional one)."""
    if isinstance(layer, keras.layers.Bidirectional):
        halves = [
            _row_ordered_states(direction, layer_input) for direction in (layer.forward_layer, layer.backward_layer)
        ]
        return np.concatenate(halves, axis=-1)
    if isinstance(layer, keras.layers.RNN):
        return _row_ordered_states(layer, layer_input)
    return None


def _row_ordered_states(layer: keras.layers.RNN, layer_input: tf.Tensor) -> np.ndarray:
    states = np.asarray(_sequence_reader(layer)(layer_input), np.float32)[0]  # (steps, units)
    # A layer reading backwards produced its states from the last row up; put them back in row order.
    return states[::-1] if layer.go_backwards else states


_readers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # recurrent layer -> compiled sequence reader
_readers_lock = threading.Lock()


def _sequence_reader(layer: keras.layers.RNN) -> Callable:
    """An RNN around the layer's own cell (same weights, never copied) returning every step's state."""
    with _readers_lock:
        if layer not in _readers:
            reader = keras.layers.RNN(layer.cell, return_sequences=True, go_backwards=layer.go_backwards)
            _readers[layer] = tf.function(lambda x: reader(x, training=False))
        return _readers[layer]
