"""A run config written out as a standalone, readable Keras script for learners.

The script spells out every layer `dlapp.models` would build for the config (same
layer types, same parameter count; tests/test_codegen.py holds the two together),
loads the data with `keras.datasets`, trains with the same optimizer, loss, batch
size, epochs, validation split and seed, evaluates and saves. Every value from the
config is validated first and written with `repr`, so no user text reaches the code
unquoted. Importing this module does not import TensorFlow.
"""

from __future__ import annotations

from dlapp.codegen_layers import WARP_SIGMA, drawing_layer_calls, layer_source, uses_own_layers
from dlapp.codegen_main import compile_code, main_code
from dlapp.codegen_main import literal as _lit
from dlapp.config import RunConfig
from dlapp.data import DATASETS
from dlapp.precision import resolve_precision

_ARCH_NAMES = {"mlp": "an MLP", "cnn": "a CNN", "rnn": "an RNN", "autoencoder": "an autoencoder", "resnet": "a ResNet"}
DATA_ENV = "DLAPP_SCRIPT_DATA"  # the generated script's override: a local .npz instead of a download


def generate_script(config: RunConfig, policy: str | None = None) -> str:
    """The whole script as text; raises ValueError for an invalid config.

    policy: the Keras dtype policy the run trained with (what `auto` resolved to on its machine);
    None resolves the config's precision here.
    """
    config.validate()
    policy = resolve_precision(policy or config.train.precision)
    head = _header(config) + "\n\n" + _settings(config, policy)  # one blank line after the imports, as isort has it
    sections = [head, _DATA_CODE, _model_code(config), main_code(config)]
    return "\n\n\n".join(section.strip("\n") for section in sections) + "\n"


def _header(config: RunConfig) -> str:
    dataset = config.data.dataset
    note = ""
    if dataset == "mnist-sample":
        note = (
            "\nThe app trained on its bundled sample of 5,000 MNIST digits (4,000 train, 1,000 test);\n"
            "this script downloads the full MNIST set through keras.datasets instead.\n"
        )
    if config.data.pen_digits:
        note += (
            f"\nThe app also trained on {config.data.pen_digits:,} real writers' pen digits drawn as mouse strokes\n"
            "(dlapp/assets/pendigits_train.npz, UCI pen digits, CC BY 4.0); this script does not.\n"
        )
    title = "MNIST" if dataset == "mnist-sample" else DATASETS[dataset].title
    return f'''"""Train {_ARCH_NAMES[config.model.arch]} on {title}: a standalone Keras script written by dlapp.
{note}
Run it with `python this_script.py`; pass `--data digits.npz` (or set ${DATA_ENV}) to use a
local .npz file holding x_train, y_train, x_test and y_test instead of downloading.
`build_model()` returns the untrained model, so you can import it and experiment.
"""

import argparse
import os

import keras
import numpy as np
from keras import {"layers, ops" if uses_own_layers(config) else "layers"}'''


def _settings(config: RunConfig, policy: str) -> str:
    data, train = config.data, config.train
    keras_dataset = "fashion_mnist" if data.dataset == "fashion_mnist" else "mnist"
    values = {
        "DATASET": keras_dataset,
        "TRAIN_SUBSET": data.train_subset,
        "VALIDATION_SPLIT": data.validation_split,
        "EPOCHS": train.epochs,
        "BATCH_SIZE": train.batch_size,
        "LEARNING_RATE": train.learning_rate,
        "EARLY_STOPPING": train.early_stopping,
        "SEED": train.seed,
        "PRECISION": policy,
        "INPUT_SHAPE": (28, 28, 1) if config.model.arch in ("cnn", "resnet") else (28, 28),
    }

    comments = {
        "DATASET": "keras.datasets.<name>",
        "TRAIN_SUBSET": "train on the first N shuffled images; 0 = all",
        "VALIDATION_SPLIT": "fraction of the training images held out each epoch",
        "EARLY_STOPPING": "epochs without val_loss improvement before stopping; 0 = off",
        "SEED": "same seed, same curve",
        "PRECISION": "Keras dtype policy the run trained with; the output layers stay float32",
        "INPUT_SHAPE": "one image, as the model takes it",
    }
    lines = ["# The run's settings, as chosen in dlapp."]
    for name, value in values.items():
        comment = f"  # {comments[name]}" if name in comments else ""
        lines.append(f"{name} = {_lit(value)}{comment}")
    if config.model.l2 > 0:
        # Regularizers keep no state, so every layer can share this one.
        lines.append(f"L2_PENALTY = keras.regularizers.L2({_lit(config.model.l2)})  # on the layers' kernels")
    return "\n".join(lines)


_DATA_CODE = '''
def load_data(path=None):
    """(x_train, y_train), (x_test, y_test) as uint8 images (n, 28, 28) and integer labels."""
    path = path or os.environ.get("DLAPP_SCRIPT_DATA")
    if path:
        with np.load(path) as archive:
            return (archive["x_train"], archive["y_train"]), (archive["x_test"], archive["y_test"])
    return getattr(keras.datasets, DATASET).load_data()


def prepare(images):
    """uint8 (n, 28, 28) -> float32 in [0, 1], shaped the way the model's input wants it."""
    return (images.astype("float32") / 255.0).reshape((len(images), *INPUT_SHAPE))


def split(x_train, y_train):
    """Shuffle by SEED, keep TRAIN_SUBSET images, hold out the first VALIDATION_SPLIT of them."""
    order = np.random.default_rng(SEED).permutation(len(x_train))
    if TRAIN_SUBSET:
        order = order[:TRAIN_SUBSET]
    n_val = round(len(order) * VALIDATION_SPLIT)
    val, train = order[:n_val], order[n_val:]
    return (x_train[train], y_train[train]), (x_train[val], y_train[val])
'''


# --- the model, layer by layer ------------------------------------------------------------


def _model_code(config: RunConfig) -> str:
    m = config.model
    parts = [layer_source(config)] if uses_own_layers(config) else []
    if m.augment and m.arch != "autoencoder":
        parts.append(_augmentation_code(config))
    if m.arch == "resnet":
        parts.append(_residual_block_code(config))
    body = {"mlp": _mlp, "cnn": _cnn, "rnn": _rnn, "autoencoder": _autoencoder, "resnet": _resnet}[m.arch](config)
    parts.append("def build_model():\n" + _indent(body))
    parts.append(compile_code(config))
    return "\n\n\n".join(parts)


def _indent(lines: list[str]) -> str:
    return "\n".join(f"    {line}" if line else "" for line in lines)


def _reg(l2: float) -> str:
    return ", kernel_regularizer=L2_PENALTY" if l2 > 0 else ""


def _augmentation_code(config: RunConfig) -> str:
    m = config.model
    extra = drawing_layer_calls(config)
    lines = "".join(f"\n            {call}," for call in extra)
    return f'''def augmentation():
    """Random shift, rotation and zoom of (28, 28, 1) images; these layers do nothing outside training."""
    return keras.Sequential(
        [
            layers.RandomTranslation({_lit(m.augment_shift)}, {_lit(m.augment_shift)}, fill_mode="constant"),
            layers.RandomRotation({_lit(m.augment_rotation)} / 360.0, fill_mode="constant"),
            layers.RandomZoom({_lit(m.augment_zoom)}, fill_mode="constant"),{lines}
        ],
        name="augmentation",
    )'''


def _augmented_rows(config: RunConfig) -> list[str]:
    """(batch, 28, 28) input -> augmented (batch, 28, 28, 1) images, for the MLP and RNN."""
    if not (config.model.augment and config.model.arch != "autoencoder"):
        return []
    return ["x = augmentation()(layers.Reshape((28, 28, 1))(x))  # (batch, 28, 28, 1)"]


def _dense_block(units: int, config: RunConfig) -> list[str]:
    m = config.model
    if m.batch_norm:
        # Batch norm comes between the linear Dense layer and its activation.
        lines = [
            f"x = layers.Dense({_lit(units)}, activation=None{_reg(m.l2)})(x)",
            "x = layers.BatchNormalization()(x)",
            f"x = layers.Activation({_lit(m.activation)})(x)",
        ]
    else:
        lines = [f"x = layers.Dense({_lit(units)}, activation={_lit(m.activation)}{_reg(m.l2)})(x)"]
    if m.dropout > 0:
        lines.append(f"x = layers.Dropout({_lit(m.dropout)})(x)")
    return lines


_HEAD = [
    'outputs = layers.Dense(10, activation="softmax", name="probabilities", dtype="float32")(x)  # one per class',
]


def _model_return(arch: str) -> str:
    return f"return keras.Model(inputs, outputs, name={_lit(arch)})"


def _mlp(config: RunConfig) -> list[str]:
    lines = ['inputs = keras.Input(shape=(28, 28), name="image")', "x = inputs", *_augmented_rows(config)]
    lines.append("x = layers.Flatten()(x)  # (batch, 784)")
    for units in config.model.hidden_units:
        lines += _dense_block(units, config)
    return [*lines, *_HEAD, _model_return("mlp")]


def _cnn(config: RunConfig) -> list[str]:
    m = config.model
    lines = ['inputs = keras.Input(shape=(28, 28, 1), name="image")', "x = inputs"]
    if m.augment:
        lines.append("x = augmentation()(x)")
    if m.bend > 0:
        lines.append(f'x = ElasticDistortion({_lit(m.bend)}, {_lit(WARP_SIGMA)}, name="bend")(x)  # training only')
    if m.deskew:
        lines.append('x = Deskew(name="deskew")(x)  # stand slanted digits upright, in training and prediction')
    size = 28
    pool = {"max": "MaxPooling2D", "avg": "AveragePooling2D"}.get(m.pooling)
    for filters in m.conv_filters:
        activation = "None" if m.batch_norm else _lit(m.activation)
        conv = f'layers.Conv2D({_lit(filters)}, {_lit(m.kernel_size)}, padding="same", activation={activation}'
        lines.append(f"x = {conv}{_reg(m.l2)})(x)")
        if m.batch_norm:
            lines += ["x = layers.BatchNormalization()(x)", f"x = layers.Activation({_lit(m.activation)})(x)"]
        if pool:
            size //= 2
            lines.append(f"x = layers.{pool}(2)(x)  # (batch, {size}, {size}, {filters})")
    lines.append("x = layers.Flatten()(x)")
    if m.dense_units:
        lines += _dense_block(m.dense_units, config)
    elif m.dropout > 0:
        lines.append(f"x = layers.Dropout({_lit(m.dropout)})(x)")
    return [*lines, *_HEAD, _model_return("cnn")]


_RNN_LAYERS = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def _rnn(config: RunConfig) -> list[str]:
    m = config.model
    lines = ['inputs = keras.Input(shape=(28, 28), name="image")  # 28 time steps (rows) of 28 pixels', "x = inputs"]
    if m.augment:
        lines += [*_augmented_rows(config), "x = layers.Reshape((28, 28))(x)  # back to rows"]
    cell = _RNN_LAYERS[m.rnn_cell]
    for i, units in enumerate(m.rnn_units):
        sequences = i < len(m.rnn_units) - 1  # every layer but the last hands all 28 steps on
        recurrent = f"layers.{cell}({_lit(units)}, return_sequences={_lit(sequences)}{_reg(m.l2)})"
        if m.bidirectional:
            lines += [f"recurrent = {recurrent}", "x = layers.Bidirectional(recurrent)(x)  # reads rows both ways"]
        else:
            lines.append(f"x = {recurrent}(x)")
    if m.dropout > 0:
        lines.append(f"x = layers.Dropout({_lit(m.dropout)})(x)")
    return [*lines, *_HEAD, _model_return("rnn")]


def _autoencoder(config: RunConfig) -> list[str]:
    m = config.model
    act, reg = _lit(m.activation), _reg(m.l2)
    lines = ["# Encoder: image -> latent code.", 'image = keras.Input(shape=(28, 28), name="image")']
    lines.append("x = layers.Flatten()(image)  # (batch, 784)")
    lines += [f"x = layers.Dense({_lit(units)}, activation={act}{reg})(x)" for units in m.encoder_units]
    lines += [
        f'code = layers.Dense({_lit(m.latent_dim)}, name="latent")(x)',
        'encoder = keras.Model(image, code, name="encoder")',
        "",
        "# Decoder: latent code -> image, the encoder mirrored.",
        f'latent = keras.Input(shape=({_lit(m.latent_dim)},), name="latent_point")',
        "x = latent",
    ]
    lines += [f"x = layers.Dense({_lit(units)}, activation={act}{reg})(x)" for units in reversed(m.encoder_units)]
    lines += [
        'x = layers.Dense(28 * 28, activation="sigmoid", dtype="float32")(x)  # one brightness per pixel',
        'decoder = keras.Model(latent, layers.Reshape((28, 28), dtype="float32")(x), name="decoder")',
        "",
        'inputs = keras.Input(shape=(28, 28), name="image")',
        'return keras.Model(inputs, decoder(encoder(inputs)), name="autoencoder")',
    ]
    return lines


def _residual_block_code(config: RunConfig) -> str:
    m = config.model
    act, reg = _lit(m.activation), _reg(m.l2)
    return f'''def residual_block(x, filters, stride):
    """Two 3x3 convolutions plus a shortcut; a 1x1 convolution projects the shortcut when the shape changes."""
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False{reg})(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation({act})(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False{reg})(y)
    y = layers.BatchNormalization()(y)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(shortcut)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.Activation({act})(layers.Add()([shortcut, y]))'''


def _resnet(config: RunConfig) -> list[str]:
    m = config.model
    lines = ['inputs = keras.Input(shape=(28, 28, 1), name="image")', "x = inputs"]
    if m.augment:
        lines.append("x = augmentation()(x)")
    lines += [
        f'x = layers.Conv2D({_lit(m.resnet_width)}, 3, padding="same", use_bias=False{_reg(m.l2)})(x)  # the stem',
        "x = layers.BatchNormalization()(x)",
        f"x = layers.Activation({_lit(m.activation)})(x)",
    ]
    size = 28
    for stage in range(m.resnet_stages):
        filters = m.resnet_width * 2**stage
        for block in range(m.resnet_blocks):
            stride = 2 if stage > 0 and block == 0 else 1  # each later stage starts by halving the size
            size = -(-size // stride)
            note = f"  # stage {stage + 1}, block {block + 1}: (batch, {size}, {size}, {filters})"
            lines.append(f"x = residual_block(x, {_lit(filters)}, stride={_lit(stride)}){note}")
    lines.append("x = layers.GlobalAveragePooling2D()(x)")
    if m.dropout > 0:
        lines.append(f"x = layers.Dropout({_lit(m.dropout)})(x)")
    return [*lines, *_HEAD, _model_return("resnet")]
