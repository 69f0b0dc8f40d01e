"""Architectures by name. Each builder takes explicit keyword arguments and returns
an uncompiled `keras.Model` that starts with `keras.Input`.

`dlapp.codegen` writes the same layers out as a standalone script; the tests hold
the two to the same layer types and parameter count, so change them together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
from keras import layers

from dlapp.augment import WARP_SIGMA, Deskew, ElasticDistortion, drawing_augmentation
from dlapp.config import ARCH_FIELDS, ModelConfig, RunConfig, TrainConfig
from dlapp.precision import policy_scope, resolve_precision

NUM_CLASSES = 10
# Output layers compute in float32 whatever the model's policy: the softmax and the reconstruction
# feed the loss, and probabilities rounded to bfloat16's 3 digits would show as 0.996 for 1.0.
OUTPUT_DTYPE = "float32"


def _regularizer(l2: float):
    return keras.regularizers.L2(l2) if l2 > 0 else None


def _dense_block(x, units: int, activation: str, batch_norm: bool, dropout: float, l2: float):
    # With batch norm the activation comes after normalisation, so Dense stays linear.
    x = layers.Dense(units, activation=None if batch_norm else activation, kernel_regularizer=_regularizer(l2))(x)
    if batch_norm:
        x = layers.BatchNormalization()(x)
        x = layers.Activation(activation)(x)
    if dropout > 0:
        x = layers.Dropout(dropout)(x)
    return x


def _augmented_image(x, augment: keras.Sequential | None):
    """(batch, 28, 28) rows -> augmented (batch, 28, 28, 1) image, when augmenting."""
    if augment is None:
        return x
    return augment(layers.Reshape((28, 28, 1))(x))


def build_mlp(
    *,
    hidden_units: Sequence[int] = (128,),
    activation: str = "relu",
    dropout: float = 0.2,
    batch_norm: bool = False,
    l2: float = 0.0,
    augment: keras.Sequential | None = None,
) -> keras.Model:
    inputs = keras.Input(shape=(28, 28), name="image")
    x = layers.Flatten()(_augmented_image(inputs, augment))  # (batch, 784)
    for units in hidden_units:
        x = _dense_block(x, units, activation, batch_norm, dropout, l2)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(inputs, outputs, name="mlp")


def build_cnn(
    *,
    conv_filters: Sequence[int] = (32, 64, 128),
    kernel_size: int = 3,
    pooling: str = "max",
    dense_units: int = 128,
    activation: str = "relu",
    dropout: float = 0.2,
    batch_norm: bool = False,
    l2: float = 0.0,
    deskew: bool = False,
    bend: float = 0.0,
    augment: keras.Sequential | None = None,
) -> keras.Model:
    inputs = keras.Input(shape=(28, 28, 1), name="image")
    x = augment(inputs) if augment is not None else inputs
    if bend > 0:  # training only, like the augmentation; with or without it
        x = ElasticDistortion(bend, WARP_SIGMA, name="bend")(x)
    if deskew:  # after augmentation: the slant it adds is taken out again, as a drawing's is
        x = Deskew(name="deskew")(x)
    for filters in conv_filters:
        x = layers.Conv2D(
            filters,
            kernel_size,
            padding="same",
            activation=None if batch_norm else activation,
            kernel_regularizer=_regularizer(l2),
        )(x)
        if batch_norm:
            x = layers.BatchNormalization()(x)
            x = layers.Activation(activation)(x)
        if pooling == "max":
            x = layers.MaxPooling2D(2)(x)
        elif pooling == "avg":
            x = layers.AveragePooling2D(2)(x)
    x = layers.Flatten()(x)
    if dense_units:
        x = _dense_block(x, dense_units, activation, batch_norm, dropout, l2)
    elif dropout > 0:
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(inputs, outputs, name="cnn")


RNN_CELLS: dict[str, type] = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}


def build_rnn(
    *,
    rnn_cell: str = "lstm",
    rnn_units: Sequence[int] = (128,),
    bidirectional: bool = False,
    dropout: float = 0.2,
    l2: float = 0.0,
    augment: keras.Sequential | None = None,
) -> keras.Model:
    """Reads the image top to bottom: 28 time steps of 28 pixels."""
    if rnn_cell not in RNN_CELLS:
        raise ValueError(f"Could not interpret rnn_cell {rnn_cell!r}; expected one of {', '.join(RNN_CELLS)}.")
    inputs = keras.Input(shape=(28, 28), name="image")
    x = inputs
    if augment is not None:
        x = layers.Reshape((28, 28))(_augmented_image(inputs, augment))
    for i, units in enumerate(rnn_units):
        recurrent = RNN_CELLS[rnn_cell](
            units, return_sequences=i < len(rnn_units) - 1, kernel_regularizer=_regularizer(l2)
        )
        x = layers.Bidirectional(recurrent)(x) if bidirectional else recurrent(x)
    if dropout > 0:
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(inputs, outputs, name="rnn")


def build_autoencoder(
    *,
    encoder_units: Sequence[int] = (256, 64),
    latent_dim: int = 2,
    activation: str = "relu",
    l2: float = 0.0,
) -> keras.Model:
    """Image -> latent code -> image. Its layers "encoder" and "decoder" are models too."""
    image = keras.Input(shape=(28, 28), name="image")
    x = layers.Flatten()(image)
    for units in encoder_units:
        x = layers.Dense(units, activation=activation, kernel_regularizer=_regularizer(l2))(x)
    code = layers.Dense(latent_dim, name="latent")(x)
    encoder = keras.Model(image, code, name="encoder")

    latent = keras.Input(shape=(latent_dim,), name="latent_point")
    x = latent
    for units in reversed(encoder_units):
        x = layers.Dense(units, activation=activation, kernel_regularizer=_regularizer(l2))(x)
    x = layers.Dense(28 * 28, activation="sigmoid", dtype=OUTPUT_DTYPE)(x)
    decoder = keras.Model(latent, layers.Reshape((28, 28), dtype=OUTPUT_DTYPE)(x), name="decoder")

    inputs = keras.Input(shape=(28, 28), name="image")
    return keras.Model(inputs, decoder(encoder(inputs)), name="autoencoder")


def _residual_block(x, filters: int, stride: int, activation: str, l2: float):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, kernel_regularizer=_regularizer(l2))(
        x
    )
    y = layers.BatchNormalization()(y)
    y = layers.Activation(activation)(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_regularizer=_regularizer(l2))(y)
    y = layers.BatchNormalization()(y)
    if stride != 1 or shortcut.shape[-1] != filters:
        # Projection shortcut: a 1x1 conv matches the new size and width.
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(shortcut)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.Activation(activation)(layers.Add()([shortcut, y]))


def build_resnet(
    *,
    resnet_stages: int = 2,
    resnet_blocks: int = 1,
    resnet_width: int = 16,
    activation: str = "relu",
    dropout: float = 0.2,
    l2: float = 0.0,
    augment: keras.Sequential | None = None,
) -> keras.Model:
    inputs = keras.Input(shape=(28, 28, 1), name="image")
    x = augment(inputs) if augment is not None else inputs
    x = layers.Conv2D(resnet_width, 3, padding="same", use_bias=False, kernel_regularizer=_regularizer(l2))(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation(activation)(x)
    for stage in range(resnet_stages):
        filters = resnet_width * 2**stage
        for block in range(resnet_blocks):
            stride = 2 if stage > 0 and block == 0 else 1  # halve the size entering each later stage
            x = _residual_block(x, filters, stride, activation, l2)
    x = layers.GlobalAveragePooling2D()(x)
    if dropout > 0:
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(inputs, outputs, name="resnet")


BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "mlp": build_mlp,
    "cnn": build_cnn,
    "rnn": build_rnn,
    "autoencoder": build_autoencoder,
    "resnet": build_resnet,
}

# The ModelConfig fields each builder takes: the architecture's fields minus the loss, which
# is a compile setting (`augment` is built separately from the augment_* fields).
BUILDER_FIELDS: dict[str, tuple[str, ...]] = {
    arch: tuple(name for name in names if name not in ("reconstruction_loss", "loss"))
    for arch, names in ARCH_FIELDS.items()
}


def builder_kwargs(config: ModelConfig) -> dict:
    """The keyword arguments `BUILDERS[config.arch]` gets for this config."""
    if config.arch not in BUILDERS:
        raise ValueError(f"Could not interpret architecture {config.arch!r}; expected one of {', '.join(BUILDERS)}.")
    return {name: getattr(config, name) for name in BUILDER_FIELDS[config.arch]}


def build_model(config: ModelConfig, policy: str = "float32") -> keras.Model:
    """The uncompiled model for a model config, its layers computing in the Keras dtype `policy`."""
    kwargs = builder_kwargs(config)
    with policy_scope(policy):  # this model only: the thread's policy is restored afterwards
        if config.augment and config.arch != "autoencoder":
            kwargs["augment"] = drawing_augmentation(
                config.augment_shift,
                config.augment_rotation,
                config.augment_zoom,
                thickness=config.augment_thickness,
                elastic=config.augment_elastic,
                top_bottom=config.augment_top_bottom,
            )
        return BUILDERS[config.arch](**kwargs)


def learning_rate(config: TrainConfig, total_steps: int | None = None):
    """The learning rate, or a schedule of it over `total_steps` optimizer steps (cosine needs them)."""
    if config.lr_schedule == "cosine" and total_steps:
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=total_steps)
    return config.learning_rate


def make_optimizer(config: TrainConfig, total_steps: int | None = None) -> keras.optimizers.Optimizer:
    lr = learning_rate(config, total_steps)
    if config.optimizer == "adam":
        return keras.optimizers.Adam(lr)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=config.momentum)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=config.weight_decay)
    raise ValueError(
        f"Could not interpret optimizer identifier: {config.optimizer!r}; expected adam, sgd, rmsprop or adamw."
    )


@keras.saving.register_keras_serializable(package="dlapp")
class OneHotMSE(keras.losses.Loss):
    """Mean squared error between the class probabilities and the one-hot target, from integer labels.

    The datasets give labels as integers (3), so the one-hot target ([0, 0, 0, 1, 0, ...]) is made here.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, name: str = "one_hot_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes

    def call(self, y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")  # (batch,) from (batch,) or (batch, 1)
        target = keras.ops.one_hot(labels, self.num_classes, dtype=y_pred.dtype)  # (batch, 10)
        return keras.ops.mean(keras.ops.square(target - y_pred), axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes}


@keras.saving.register_keras_serializable(package="dlapp")
class SmoothedCrossentropy(keras.losses.Loss):
    """Cross-entropy against a softened one-hot target, from integer labels (Keras's sparse loss has no smoothing).

    With `smoothing` s the target is 1 - s on the true class plus s / 10 on every class.
    """

    def __init__(self, smoothing: float = 0.1, num_classes: int = NUM_CLASSES, name: str = "smoothed_ce", **kwargs):
        super().__init__(name=name, **kwargs)
        self.smoothing, self.num_classes = float(smoothing), num_classes

    def call(self, y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")  # (batch,) from (batch,) or (batch, 1)
        target = keras.ops.one_hot(labels, self.num_classes, dtype=y_pred.dtype)  # (batch, 10)
        return keras.losses.categorical_crossentropy(target, y_pred, label_smoothing=self.smoothing)

    def get_config(self) -> dict:
        return {**super().get_config(), "smoothing": self.smoothing, "num_classes": self.num_classes}


def loss_and_metrics(config: RunConfig) -> tuple[str | keras.losses.Loss, list[str]]:
    if config.model.arch == "autoencoder":
        return config.model.reconstruction_loss, ["mse"]
    if config.model.loss == "mse":
        return OneHotMSE(), ["accuracy"]
    if config.train.label_smoothing > 0:
        return SmoothedCrossentropy(config.train.label_smoothing), ["accuracy"]
    return "sparse_categorical_crossentropy", ["accuracy"]


# How each architecture compiles, chosen from measurements (`python -m dlapp.tools.speed_variants`).
# Every fit a fresh model, as a job trains, 3 epochs of mnist-sample's 3,600 images, batch 32,
# float32; rounds interleaved with a bare float32 fit (Keras's defaults: jit off, one batch per
# call, NumPy input); medians of samples per process CPU second over the bare fit's. 2-vCPU Xeon
# without bf16, shared with other work: on 2026-11-27, load average 11-27, so +-10-15% noise.
#                  mlp    autoencoder  cnn    rnn    resnet
#   NumPy, fit_run 0.92   1.04                       0.86   (the bare fit itself: the noise floor)
#   tf.data        1.23   1.07         0.96   1.13   0.96
#   tf.data +4     1.06   1.15         0.99          1.01
#   tf.data +8     1.11   1.10         1.00   1.11
#   tf.data +16    1.24   1.21
#   tf.data +8+XLA 0.39   0.68                0.61
# (+N: N batches per call.) An earlier session measured steady state, one model re-fitted per
# round (load 7-29): tf.data +8 mlp 2.5-3.3x, autoencoder 2.2-2.5x, cnn 1.26-1.58x, rnn 1.4-2.0x,
# resnet 1.07-1.24x; XLA on NumPy input mlp 0.90x, cnn 0.36x, rnn 1.27x, resnet 0.33x.
# XLA fuses the LSTM's per-step work (2.2x steady state) but its compile time, paid in every
# fresh fit, makes a 3-epoch job 0.61x; it loses to oneDNN's convolutions by ~3x. So XLA is off
# everywhere. Fresh fits gained nothing beyond the noise floor for the CNN and the ResNet, so
# they keep Keras's defaults (the bare fit itself: 1.0 by construction).
JIT_COMPILE = {"mlp": False, "cnn": False, "rnn": False, "autoencoder": False, "resnet": False}
# Batches run per call into TensorFlow: fewer Python round trips per batch. Callbacks (progress
# events, Stop) run only between calls, so only where the batches are short: 8 Dense batches
# take a few ms. The RNN gained nothing from 8 per call (1.11x vs 1.13x) and 8 LSTM batches
# delayed Stop by 0.5-0.9 s at load 22-28, so it runs one per call.
STEPS_PER_EXECUTION = {"mlp": 8, "cnn": 1, "rnn": 1, "autoencoder": 8, "resnet": 1}


def compile_model(model: keras.Model, config: RunConfig, total_steps: int | None = None) -> keras.Model:
    """Compile with the config's optimizer and loss, and the architecture's measured compilation choices.

    `total_steps`: optimizer steps the fit will take, for a cosine learning rate; without them it stays constant.
    """
    import tensorflow as tf

    loss, metrics = loss_and_metrics(config)
    arch = config.model.arch
    # Several batches per call fail inside MirroredStrategy's replica loop (TF 2.21): one per call there.
    one_device = tf.distribute.get_strategy().num_replicas_in_sync == 1
    model.compile(
        optimizer=make_optimizer(config.train, total_steps),
        loss=loss,
        metrics=metrics,
        jit_compile=JIT_COMPILE[arch],
        steps_per_execution=STEPS_PER_EXECUTION[arch] if one_device else 1,
    )
    return model


def build_compiled(config: RunConfig, total_steps: int | None = None) -> keras.Model:
    """Validate, build (under the precision `auto` resolves to here) and compile: what training starts from."""
    config.validate()
    return compile_model(build_model(config.model, resolve_precision(config.train.precision)), config, total_steps)


def layer_table(model: keras.Model) -> list[dict]:
    """One row per layer (name, type, output shape, parameters), the autoencoder's halves opened up."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.Model) and layer.name in ("encoder", "decoder"):
            rows.extend(_layer_row(inner, f"{layer.name} / ") for inner in layer.layers)
        else:
            rows.append(_layer_row(layer))
    return rows


def _layer_row(layer, prefix: str = "") -> dict:
    try:
        shape = tuple(layer.output.shape)
    except (AttributeError, ValueError):
        shape = ()
    return {
        "layer": prefix + layer.name,
        "type": type(layer).__name__,
        "output shape": "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")",
        "parameters": int(layer.count_params()),
    }
