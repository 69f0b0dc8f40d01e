"""Datasets by name, loaded as uint8 digits and shaped for an architecture.

Importing this module does not import TensorFlow: the bundled sample loads with
NumPy alone, and Keras is imported only to download a full set.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from dlapp.config import DataConfig
from dlapp.errors import DatasetUnavailable

DIGITS = tuple(str(d) for d in range(10))
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
SAMPLE_TEST_PER_CLASS = 100  # mnist-sample: 4,000 train / 1,000 test, stratified
DOWNLOAD_HOST = ("storage.googleapis.com", 443)  # where keras.datasets downloads from
DOWNLOAD_TIMEOUT = 3.0  # seconds to wait for the download host before saying the set is unavailable
PEN_DIGIT_SETS = ("mnist", "mnist-sample")  # the sets `pen_digits` adds to: digits, not clothes


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    class_names: tuple[str, ...]
    description: str
    # Files that, when present in the Keras cache, mean no download is needed.
    cache_files: tuple[str, ...] = ()


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        "mnist", "MNIST", DIGITS, "70,000 handwritten digits (60,000 train, 10,000 test).", ("mnist.npz",)
    ),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist",
        "Fashion-MNIST",
        FASHION,
        "70,000 clothing images in 10 classes, a harder drop-in for MNIST.",
        tuple(
            f"fashion-mnist/{f}"
            for f in (
                "train-labels-idx1-ubyte.gz",
                "train-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz",
            )
        ),
    ),
    "mnist-sample": DatasetInfo(
        "mnist-sample",
        "MNIST sample (offline)",
        DIGITS,
        "5,000 real MNIST digits bundled with dlapp (4,000 train, 1,000 test); works offline.",
    ),
}


@dataclass(frozen=True)
class RawData:
    """Digits as stored: uint8 (n, 28, 28) white on black, labels uint8 (n,)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def class_names(self) -> tuple[str, ...]:
        return DATASETS[self.name].class_names


@dataclass(frozen=True)
class PreparedData:
    """Float32 arrays in [0, 1], shaped for one architecture, split three ways."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]


def dataset_info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")
    return DATASETS[name]


def keras_cache_dir() -> Path:
    """Where keras.datasets keeps downloads (KERAS_HOME, else ~/.keras), as Keras decides it."""
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(base) / "datasets"


def is_cached(name: str) -> bool:
    """True when the dataset loads without a network."""
    info = dataset_info(name)
    return all((keras_cache_dir() / f).exists() for f in info.cache_files)


@functools.lru_cache(maxsize=4)
def load_raw(name: str, timeout: float = DOWNLOAD_TIMEOUT) -> RawData:
    """The dataset's uint8 digits; full sets download once into the Keras cache.

    Raises DatasetUnavailable within about `timeout` seconds when a download is
    needed and the network cannot reach the download host.
    """
    dataset_info(name)
    if name == "mnist-sample":
        return _load_sample()
    if not is_cached(name):
        _check_network(name, timeout)
    try:
        import keras

        loader = {"mnist": keras.datasets.mnist, "fashion_mnist": keras.datasets.fashion_mnist}[name]
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as exc:  # keras raises a bare Exception on network errors
        raise _unavailable(name, exc) from exc
    return RawData(name, x_train, y_train.astype(np.uint8), x_test, y_test.astype(np.uint8))


def _check_network(name: str, timeout: float = DOWNLOAD_TIMEOUT) -> None:
    """Raise DatasetUnavailable unless DOWNLOAD_HOST answers within `timeout` seconds.

    The probe runs in a daemon thread because the socket timeout does not cover the
    DNS lookup, which can block far longer when no resolver answers.
    """
    outcome: list[BaseException | None] = []

    def probe() -> None:
        try:
            socket.create_connection(DOWNLOAD_HOST, timeout=timeout).close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=probe, name="dlapp-network-probe", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    if not outcome:
        raise _unavailable(name, TimeoutError(f"no answer from {DOWNLOAD_HOST[0]} within {timeout:g} s"))
    if outcome[0] is not None:
        raise _unavailable(name, outcome[0]) from outcome[0]


def _unavailable(name: str, exc: BaseException) -> DatasetUnavailable:
    title = DATASETS[name].title
    return DatasetUnavailable(
        f"{title} could not be downloaded ({type(exc).__name__}: {str(exc)[:80] or 'no detail'}); "
        "check the network, or use the bundled 'mnist-sample' dataset, which works offline."
    )


def _load_sample() -> RawData:
    with resources.files("dlapp.assets").joinpath("mnist_5k.npz").open("rb") as fh:
        archive = np.load(fh)
        x, y = archive["x"], archive["y"]
    # Deterministic stratified split: the last 100 digits of each class are the test set.
    test = np.zeros(len(y), dtype=bool)
    for digit in range(10):
        test[np.flatnonzero(y == digit)[-SAMPLE_TEST_PER_CLASS:]] = True
    return RawData("mnist-sample", x[~test], y[~test], x[test], y[test])


def input_shape(arch: str) -> tuple[int, ...]:
    """The per-image input shape an architecture's model takes."""
    return (28, 28, 1) if arch in ("cnn", "resnet") else (28, 28)


def arch_for_input(model_input_shape: tuple) -> str:
    """An architecture whose `input_shape` matches a model's (batch axis first), for a model dlapp did not build.

    (None, 28, 28, 1) -> "cnn" (images with a channel axis), (None, 28, 28) -> "mlp" (plain 28x28 arrays);
    `shape_for(images, arch_for_input(model.input_shape))` then fits the model.
    """
    return "cnn" if len(model_input_shape) == 4 else "mlp"


def shape_for(images: np.ndarray, arch: str) -> np.ndarray:
    """uint8 or float (n, 28, 28) -> float32 in [0, 1] shaped (n, *input_shape(arch))."""
    x = images.astype(np.float32)
    if images.dtype == np.uint8:
        x /= 255.0
    return x.reshape((len(x), *input_shape(arch)))


def prepare(config: DataConfig, arch: str, seed: int = 0) -> PreparedData:
    """Load, shuffle (by seed), subset, split off validation, add any pen digits and shape for `arch`."""
    if config.pen_digits and config.dataset not in PEN_DIGIT_SETS:
        raise ValueError(f"Pen digits are digits, so they only join {' or '.join(PEN_DIGIT_SETS)}; switch them off.")
    raw = load_raw(config.dataset)
    order = np.random.default_rng(seed).permutation(len(raw.x_train))
    if config.train_subset:
        order = order[: config.train_subset]
    n_val = int(round(len(order) * config.validation_split))
    val_idx, train_idx = order[:n_val], order[n_val:]
    if len(train_idx) == 0:
        raise ValueError(
            f"train_subset={config.train_subset} with validation_split={config.validation_split} "
            "leaves no training images; raise train_subset or lower validation_split."
        )
    x_train, y_train = raw.x_train[train_idx], raw.y_train[train_idx]
    if config.pen_digits:
        x_train, y_train = _with_pen_digits(x_train, y_train, config.pen_digits, len(order) / len(raw.x_train))
    return PreparedData(
        x_train=shape_for(x_train, arch),
        y_train=y_train,
        x_val=shape_for(raw.x_train[val_idx], arch),
        y_val=raw.y_train[val_idx],
        x_test=shape_for(raw.x_test, arch),
        y_test=raw.y_test,
        class_names=raw.class_names,
    )


@functools.lru_cache(maxsize=1)
def load_pen_digits() -> tuple[np.ndarray, np.ndarray]:
    """Real writers' pen digits drawn as mouse strokes: uint8 (4494, 28, 28) white on black, labels uint8.

    Made by `python -m dlapp.tools.pen_train` from the UCI pen digits (CC BY 4.0; see
    `dlapp/assets/README.md`): only rows that the drawing reports never score.
    """
    with resources.files("dlapp.assets").joinpath("pendigits_train.npz").open("rb") as fh, np.load(fh) as data:
        return data["x"], data["y"]


def _with_pen_digits(x: np.ndarray, y: np.ndarray, count: int, share: float):
    """The training digits with `count` pen digits added (a fixed choice), or the same share of them as of
    the dataset when it is a subset."""
    pen_x, pen_y = load_pen_digits()
    chosen = np.random.default_rng(0).permutation(len(pen_y))[:count]
    chosen = chosen[: max(1, round(share * len(chosen)))]
    return np.concatenate([x, pen_x[chosen]]), np.concatenate([y, pen_y[chosen]])
