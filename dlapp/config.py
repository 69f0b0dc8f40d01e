"""Run configuration: frozen dataclasses with commented defaults and one validator.

A run is described by three parts - what data, what model, how to train - gathered
in `RunConfig`. Every field carries its allowed values in its metadata, so
`validate()`, the command-line flags and the page widgets all read the same bounds.
Field names are unique across the three parts: `--batch-size` maps to
`TrainConfig.batch_size` without any prefix.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
from dataclasses import dataclass, field
from typing import Any

from dlapp.setting_help import HELP

ARCHITECTURES = ("mlp", "cnn", "rnn", "autoencoder", "resnet")
CLASSIFIERS = ("mlp", "cnn", "rnn", "resnet")
DATASETS = ("mnist", "fashion_mnist", "mnist-sample")
ACTIVATIONS = ("relu", "gelu", "elu", "selu", "tanh", "sigmoid", "swish", "leaky_relu")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw")
# How the learning rate moves over the fit: fixed, or falling along half a cosine to 0 at the last step.
LR_SCHEDULES = ("constant", "cosine")
POOLINGS = ("max", "avg", "none")
RNN_CELLS = ("simple", "lstm", "gru")
RECONSTRUCTION_LOSSES = ("binary_crossentropy", "mse")
# Keras dtype policies, plus "auto": dlapp.precision picks one for the hardware.
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
# A classifier's loss: cross-entropy on the class, or mean squared error against the one-hot target.
CLASSIFIER_LOSSES = ("crossentropy", "mse")

# The model fields each architecture reads (the rest of ModelConfig is ignored for it).
ARCH_FIELDS: dict[str, tuple[str, ...]] = {
    "mlp": ("hidden_units", "activation", "dropout", "batch_norm", "l2"),
    "cnn": (
        "conv_filters",
        "kernel_size",
        "pooling",
        "dense_units",
        "activation",
        "dropout",
        "batch_norm",
        "l2",
        "deskew",
        "bend",
    ),
    "rnn": ("rnn_cell", "rnn_units", "bidirectional", "dropout", "l2"),
    "autoencoder": ("encoder_units", "latent_dim", "reconstruction_loss", "activation", "l2"),
    "resnet": ("resnet_stages", "resnet_blocks", "resnet_width", "activation", "dropout", "l2"),
}
# Every classifier also reads its loss (the autoencoder has reconstruction_loss instead).
ARCH_FIELDS.update({arch: (*ARCH_FIELDS[arch], "loss") for arch in CLASSIFIERS})


class ConfigError(ValueError):
    """A setting outside what its field allows. The page and the CLI reword it from the attributes.

    field: the flat field name (`learning_rate`); value: what was given; allowed: what is
    accepted, as words (`greater than 0 and at most 10`). `template` places those three;
    `{name}` is the field as the reader knows it, so each front end names it in its own words.
    """

    def __init__(
        self, field: str, value: Any, allowed: str, template: str = "{name} must be {allowed}; {given} {value}."
    ) -> None:
        self.field, self.value, self.allowed, self.template = field, value, allowed, template
        super().__init__(self.worded(field))

    def worded(self, name: str, given: str = "got", value: str | None = None) -> str:
        """The sentence with the field called `name` and the value introduced by `given` ("you typed")."""
        shown = repr(self.value) if value is None else value
        return self.template.format(name=name, allowed=self.allowed, given=given, value=shown)


MAX_UNITS = 4096
PEN_DIGITS = 4494  # rows in dlapp/assets/pendigits_train.npz
MAX_LAYERS = 8
MAX_POOLED_BLOCKS = 4  # 28 -> 14 -> 7 -> 3 -> 1 px


def _spec(default: Any, help: str, **bounds: Any) -> Any:
    """A dataclass field whose metadata holds its help text and allowed values.

    bounds: `choices=(...)`, or `low=`/`high=` with `low_open`/`high_open` for
    open interval ends, and for list fields `items=True` (bounds apply per item).
    """
    factory = (lambda: default) if isinstance(default, tuple) else None
    metadata = {"help": help, **bounds}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class DataConfig:
    dataset: str = _spec("mnist-sample", HELP["dataset"], choices=DATASETS)
    # Fraction of the training set held out to validate each epoch.
    validation_split: float = _spec(0.1, HELP["validation_split"], low=0.0, high=0.5, high_open=True)
    # 0 means use every training image; otherwise the first N (after shuffling).
    train_subset: int = _spec(0, HELP["train_subset"], low=0, high=60000)
    # Real writers' pen digits drawn as mouse strokes (dlapp.data.load_pen_digits) added to the training
    # digits of a digit set, up to all 4,494; validation and test digits stay the dataset's own.
    pen_digits: int = _spec(0, HELP["pen_digits"], low=0, high=PEN_DIGITS)


@dataclass(frozen=True)
class ModelConfig:
    arch: str = _spec("mlp", HELP["arch"], choices=ARCHITECTURES)
    # MLP: one Dense layer per entry; [128] with dropout 0.2 is the classic first network.
    hidden_units: tuple[int, ...] = _spec((128,), HELP["hidden_units"], low=1, high=MAX_UNITS, items=True)
    activation: str = _spec("relu", HELP["activation"], choices=ACTIVATIONS)
    dropout: float = _spec(0.2, HELP["dropout"], low=0.0, high=1.0, high_open=True)
    batch_norm: bool = _spec(False, HELP["batch_norm"])
    l2: float = _spec(0.0, HELP["l2"], low=0.0, high=1.0)
    # CNN: one conv block (conv, [bn], activation, pool) per entry.
    # Three blocks pool 28 -> 3 px: a digit read from wider context transfers better to drawings than (32, 64)
    # (hand-drawn dev set, 5 training seeds: 96.4% vs 94.9%), with a third of the dense head's weights.
    conv_filters: tuple[int, ...] = _spec((32, 64, 128), HELP["conv_filters"], low=1, high=1024, items=True)
    kernel_size: int = _spec(3, HELP["kernel_size"], low=1, high=7)
    pooling: str = _spec("max", HELP["pooling"], choices=POOLINGS)
    dense_units: int = _spec(128, HELP["dense_units"], low=0, high=MAX_UNITS)
    # Deskewed digits read drawings better (default CNN, dev drawings, training seeds 1-2): procedural
    # 95.0% vs 93.2%, pendigits 74.2% vs 73.9%, sample test 97.0% vs 96.7% (dlapp.augment.Deskew).
    deskew: bool = _spec(True, HELP["deskew"])
    # Training digits bent as a whole (dlapp.augment.WARP_SIGMA): the shapes people draw that MNIST rarely
    # has. Default CNN, dev drawings, training seeds 1-2: procedural 96.0% vs 95.0%, pendigits 75.8% vs
    # 74.2%, sample test 97.5% vs 97.0% (3 px: 94.4%, 76.0%, 98.0%); see `dlapp.tools.drawing_variants`.
    bend: float = _spec(2.0, HELP["bend"], low=0.0, high=8.0)
    # RNN: the 28 image rows are 28 time steps of 28 pixels.
    rnn_cell: str = _spec("lstm", HELP["rnn_cell"], choices=RNN_CELLS)
    rnn_units: tuple[int, ...] = _spec((128,), HELP["rnn_units"], low=1, high=1024, items=True)
    bidirectional: bool = _spec(False, HELP["bidirectional"])
    # Autoencoder: Dense encoder, latent code, mirrored decoder.
    encoder_units: tuple[int, ...] = _spec((256, 64), HELP["encoder_units"], low=1, high=MAX_UNITS, items=True)
    # 2 makes the latent space drawable as a plane without projection.
    latent_dim: int = _spec(2, HELP["latent_dim"], low=1, high=256)
    reconstruction_loss: str = _spec("binary_crossentropy", HELP["reconstruction_loss"], choices=RECONSTRUCTION_LOSSES)
    # Classifiers: what training minimises; the tutorial's network uses cross-entropy.
    loss: str = _spec("crossentropy", HELP["loss"], choices=CLASSIFIER_LOSSES)
    # ResNet: a stem, then stages of residual blocks; width doubles per stage.
    resnet_stages: int = _spec(2, HELP["resnet_stages"], low=1, high=4)
    resnet_blocks: int = _spec(1, HELP["resnet_blocks"], low=1, high=8)
    resnet_width: int = _spec(16, HELP["resnet_width"], low=1, high=256)
    # Augmentation, for the image classifiers only, active only while training.
    augment: bool = _spec(False, HELP["augment"])
    augment_shift: float = _spec(0.1, HELP["augment_shift"], low=0.0, high=0.5)
    augment_rotation: float = _spec(10.0, HELP["augment_rotation"], low=0.0, high=180.0)
    augment_zoom: float = _spec(0.1, HELP["augment_zoom"], low=0.0, high=0.9)
    # How people draw with a mouse (dlapp.augment): pen width and wobble. 0 turns each off.
    augment_thickness: float = _spec(0.0, HELP["augment_thickness"], low=0.0, high=1.0)
    augment_elastic: float = _spec(0.0, HELP["augment_elastic"], low=0.0, high=5.0)
    augment_top_bottom: float = _spec(0.0, HELP["augment_top_bottom"], low=0.0, high=2.0)


@dataclass(frozen=True)
class TrainConfig:
    optimizer: str = _spec("adam", HELP["optimizer"], choices=OPTIMIZERS)
    learning_rate: float = _spec(1e-3, HELP["learning_rate"], low=0.0, high=10.0, low_open=True)
    lr_schedule: str = _spec("constant", HELP["lr_schedule"], choices=LR_SCHEDULES)
    # Classifiers with cross-entropy: the target puts 1 - s on the true digit and spreads s over all ten.
    label_smoothing: float = _spec(0.0, HELP["label_smoothing"], low=0.0, high=0.5, high_open=True)
    momentum: float = _spec(0.9, HELP["momentum"], low=0.0, high=1.0, high_open=True)
    weight_decay: float = _spec(1e-4, HELP["weight_decay"], low=0.0, high=1.0)
    # Keras's own default. 128 gave the 3,600-digit sample only ~140 steps in 5 epochs: undertrained.
    batch_size: int = _spec(32, HELP["batch_size"], low=1, high=8192)
    epochs: int = _spec(5, HELP["epochs"], low=1, high=500)
    # 0 turns early stopping off; otherwise epochs without val_loss improvement.
    early_stopping: int = _spec(0, HELP["early_stopping"], low=0, high=500)
    seed: int = _spec(42, HELP["seed"], low=0, high=2**31 - 1)
    # auto: float16 on a CUDA GPU, bfloat16 on a CPU with bf16 instructions, else float32 (dlapp.precision).
    precision: str = _spec("auto", HELP["precision"], choices=PRECISIONS)


@dataclass(frozen=True)
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    @property
    def is_classifier(self) -> bool:
        return self.model.arch in CLASSIFIERS

    def validate(self) -> RunConfig:
        """Raise ConfigError (a ValueError) naming the first bad field, its value and what is allowed."""
        for part in (self.data, self.model, self.train):
            for f in dataclasses.fields(part):
                _check(f, getattr(part, f.name))
        pooled = self.model.arch == "cnn" and self.model.pooling != "none"
        if pooled and len(self.model.conv_filters) > MAX_POOLED_BLOCKS:
            blocks = len(self.model.conv_filters)
            raise ConfigError(
                "conv_filters",
                self.model.conv_filters,
                f"at most {MAX_POOLED_BLOCKS} blocks",
                f"{{name}} has {blocks} blocks, but pooling halves the 28 px image each time, "
                f"so {{allowed}} fit; remove blocks or set pooling to none.",
            )
        if self.data.pen_digits and self.data.dataset == "fashion_mnist":
            raise ConfigError(
                "pen_digits",
                self.data.pen_digits,
                "0 for Fashion-MNIST",
                "{name} must be {allowed}: pen digits are digits, not clothes; set it to 0 or pick a digit set.",
            )
        return self

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {
            name: {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(part).items()}
            for name, part in (("data", self.data), ("model", self.model), ("train", self.train))
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunConfig:
        """Build from `to_dict()` output; unknown parts or fields raise ValueError."""
        if not isinstance(raw, dict):
            kind = type(raw).__name__
            raise ValueError(f"A run config must be a JSON object with data, model and train; got {kind}.")
        unknown = set(raw) - {"data", "model", "train"}
        if unknown:
            raise ValueError(f"Unknown config section {sorted(unknown)[0]!r}: expected data, model or train.")
        model = raw.get("model", {})
        if isinstance(model, dict) and model and "deskew" not in model:
            model = {**model, "deskew": False}  # written before deskewing existed: those models have none
        if isinstance(model, dict) and model and "bend" not in model:
            model = {**model, "bend": 0.0}  # trained before bending existed: say so, as it was trained
        return cls(
            data=_part_from_dict(DataConfig, raw.get("data", {})),
            model=_part_from_dict(ModelConfig, model),
            train=_part_from_dict(TrainConfig, raw.get("train", {})),
        )

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_flat(cls, **values: Any) -> RunConfig:
        """Build from flat field names (`arch=`, `batch_size=`), as flags and widgets give them."""
        return cls().replace(**values)

    def replace(self, **values: Any) -> RunConfig:
        """A copy with the given flat fields changed; an unknown name raises ValueError."""
        parts = {"data": {}, "model": {}, "train": {}}
        for name, value in values.items():
            section = section_of(name)  # before _coerce, so an unknown name gets the sentence, not a KeyError
            parts[section][name] = _coerce(name, value)
        return RunConfig(
            data=dataclasses.replace(self.data, **parts["data"]),
            model=dataclasses.replace(self.model, **parts["model"]),
            train=dataclasses.replace(self.train, **parts["train"]),
        )

    def flat(self) -> dict[str, Any]:
        """All fields by their flat names."""
        out: dict[str, Any] = {}
        for part in self.to_dict().values():
            out.update(part)
        return out


_PARTS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def all_fields() -> dict[str, dataclasses.Field]:
    """Flat field name -> dataclass field, across the three parts."""
    return {f.name: f for cls in _PARTS.values() for f in dataclasses.fields(cls)}


def section_of(name: str) -> str:
    for section, cls in _PARTS.items():
        if name in {f.name for f in dataclasses.fields(cls)}:
            return section
    known = ", ".join(sorted(all_fields()))
    raise ValueError(f"Unknown config field {name!r}; known fields are: {known}.")


def _part_from_dict(cls: type, raw: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    if not isinstance(raw, dict):
        section = next(name for name, part in _PARTS.items() if part is cls)
        raise ValueError(f"Config section {section!r} must be a JSON object of fields; got {type(raw).__name__}.")
    for key in raw:
        if key not in names:
            raise ValueError(f"Unknown config field {key!r}; known fields are: {', '.join(sorted(names))}.")
    return cls(**{k: _coerce(k, v) for k, v in raw.items()})


def _coerce(name: str, value: Any) -> Any:
    """Lists become tuples, so configs stay hashable and compare equal after JSON.

    Whole floats (3.0 from JSON or a number widget) become ints for whole-number fields,
    because Keras wants `epochs=3`, not 3.0; anything else is left for validate() to judge.
    """
    f = all_fields()[name]
    if f.metadata.get("items"):
        if isinstance(value, str):
            value = parse_int_list(name, value)
        if isinstance(value, list):
            value = tuple(value)
        if isinstance(value, tuple):
            value = tuple(_whole(item) for item in value)
    elif type(f.default) is int:
        value = _whole(value)
    return value


def _whole(value: Any) -> Any:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


INT_LIST_ALLOWED = "whole numbers separated by commas, like '128, 64'"


def parse_int_list(name: str, text: str) -> tuple[int, ...]:
    """'128, 64' -> (128, 64); anything else ('128,,64', '128, x', '') raises ConfigError naming the field."""
    try:
        # An empty part ("128,,64") is a typo, not a layer to drop: refused like any other bad part.
        return tuple(int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise ConfigError(name, text, INT_LIST_ALLOWED) from None


def _check(f: dataclasses.Field, value: Any) -> None:
    meta = f.metadata
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if meta.get("items"):
        if not isinstance(value, tuple) or not value:
            raise ConfigError(f.name, value, f"a list of 1 to {MAX_LAYERS} sizes")
        if len(value) > MAX_LAYERS:
            template = f"{{name}} has {len(value)} layers; {{allowed}} are allowed."
            raise ConfigError(f.name, value, f"at most {MAX_LAYERS}", template)
        for item in value:
            _check_scalar(f.name, item, int, meta)
        return
    _check_scalar(f.name, value, type(default), meta)


def _check_scalar(name: str, value: Any, kind: type, meta: dict) -> None:
    if "choices" in meta:
        if value not in meta["choices"]:
            raise ConfigError(name, value, "one of " + ", ".join(meta["choices"]))
        return
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(name, value, "true or false")
        return
    numeric_ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    # A float, even 3.0, is refused for a whole-number field: Keras fails on epochs=3.0 later, far from here.
    if kind is int and not (numeric_ok and isinstance(value, int)):
        raise ConfigError(name, value, "a whole number")
    if not numeric_ok or value != value:  # value != value catches NaN
        raise ConfigError(name, value, "a number")
    low, high = meta.get("low"), meta.get("high")
    too_low = low is not None and (value <= low if meta.get("low_open") else value < low)
    too_high = high is not None and (value >= high if meta.get("high_open") else value > high)
    if too_low or too_high:
        raise ConfigError(name, value, describe_range(meta))


def describe_range(meta: dict) -> str:
    low, high = meta.get("low"), meta.get("high")
    left = "greater than" if meta.get("low_open") else "at least"
    right = "less than" if meta.get("high_open") else "at most"
    return f"{left} {_number(low)} and {right} {_number(high)}"


def _number(value: float) -> str:
    # Whole bounds in full (seed: 2147483647, not 2.14748e+09); fractions short (0.5, 1e-05).
    return str(value) if isinstance(value, int) else f"{value:g}"
