"""The one recipe from a config to a fitted, tested model: `fit_run`.

A `TrainingJob` runs it in its thread (with its `EventCallback` and the TensorBoard log
folder); the bench runs it with nothing added, as its bare-fit baseline; the drawing report
runs it to train the CNN it measures. Streamlit-free, and TensorFlow is imported only when
a fit runs, so importing this module stays cheap.
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlapp.config import RunConfig

if TYPE_CHECKING:
    import keras

    from dlapp.data import PreparedData
    from dlapp.instruments import LayerStatsOwner


@dataclass(frozen=True)
class FitStart:
    """What is known once the data is prepared and the model built, just before `model.fit`."""

    train_samples: int  # training images per epoch (after the validation split)
    steps_per_epoch: int
    replicas: int  # devices the strategy trains on


@dataclass
class FitResult:
    model: keras.Model
    history: dict[str, list[float]]  # Keras History.history, as plain floats
    metrics: dict[str, float]  # the last epoch's logs, then test_loss and test_accuracy (or test_mse)
    confusion: list[list[int]] | None  # (classes, classes) on the test set; None for the autoencoder
    train_samples: int  # per epoch
    samples_trained: int  # over the whole fit, a stopped epoch counted up to its last batch
    fit_seconds: float  # wall seconds inside `model.fit` (validation included, test evaluation not)
    replicas: int
    policy: str  # the Keras dtype policy the layers computed in (what precision "auto" resolved to)

    @property
    def samples_per_second(self) -> float:
        return self.samples_trained / self.fit_seconds if self.fit_seconds > 0 else 0.0


def fit_run(
    config: RunConfig,
    *,
    callbacks: Sequence[Any] = (),
    tensorboard_dir: str | Path | None = None,
    on_fit_start: Callable[[FitStart], None] | None = None,
    data: PreparedData | None = None,
    model: keras.Model | None = None,
    initial_epoch: int = 0,
    checkpoint: Any | None = None,
    instruments: LayerStatsOwner | None = None,
) -> FitResult:
    """Seed, prepare the data, build the model under the strategy, fit, and test; in the calling thread.

    - `callbacks`: Keras callbacks added to the fit, e.g. an `EventCallback` (events, Stop),
      per-epoch instruments, checkpoints. With none and no `tensorboard_dir`, the fit is a plain
      `model.fit` (only early stopping when the config asks for it): the bench's baseline.
    - `tensorboard_dir`: write TensorBoard logs there once per epoch (skipped when the
      `tensorboard` package is missing; the run is not).
    - `on_fit_start`: called with a `FitStart` right before `model.fit` (a job's progress bar).
    - `data`: train on these arrays instead of `prepare(config.data, ...)` (fine-tuning on
      drawings); they must be shaped for `config.model.arch`.
    - `instruments`: record every layer's gradient norm, weight norm and weight histogram at each
      epoch's end (`dlapp.instruments`) and hand them to `instruments.on_layers(epoch, layers)`,
      before the epoch's other callbacks; the TensorBoard log gets them too.
    - `model` and `initial_epoch`: continue a compiled model (from a checkpoint) instead of
      building a new one; it trains `config.train.epochs` more epochs, numbered from
      `initial_epoch`, so epoch events and logs continue where the earlier run stopped.
    - `checkpoint`: a callback writing the model (`dlapp.checkpoints`); it comes last, so the
      model it writes at the end is the one early stopping restored.

    The seed is set here because Keras seed state is thread-local: call this in the thread
    that trains. A stop (`model.stop_training`) ends the fit early; the result is still tested.
    """
    import keras

    from dlapp.data import prepare
    from dlapp.distribute import pick_strategy
    from dlapp.input_pipeline import USE_TF_DATA, training_input, validation_input
    from dlapp.models import build_compiled
    from dlapp.precision import check_loss_finite, resolve_precision

    train = config.train
    policy = resolve_precision(train.precision)
    keras.utils.set_random_seed(train.seed)
    data = data if data is not None else prepare(config.data, config.model.arch, seed=train.seed)
    strategy = pick_strategy()
    if model is None:
        with strategy.scope():
            model = build_compiled(config, math.ceil(len(data.x_train) / train.batch_size) * train.epochs)
    tf_data = USE_TF_DATA[config.model.arch] and strategy.num_replicas_in_sync == 1  # as measured: one device
    x, y = data.x_train, _targets(config, data.x_train, data.y_train)
    validation = None
    if len(data.x_val):
        validation = validation_input(data.x_val, _targets(config, data.x_val, data.y_val), train.batch_size, tf_data)
    start = FitStart(len(data.x_train), math.ceil(len(data.x_train) / train.batch_size), strategy.num_replicas_in_sync)
    if on_fit_start is not None:
        on_fit_start(start)
    extras = _extra_callbacks(config, tensorboard_dir, validation is not None, policy)
    if instruments is not None:
        callbacks = [_layer_recorder(config, data, instruments, extras), *callbacks]
    steps_before = _optimizer_steps(model)
    began = time.perf_counter()
    history = model.fit(
        **training_input(x, y, train.batch_size, train.seed, tf_data),
        epochs=initial_epoch + train.epochs,
        initial_epoch=initial_epoch,
        validation_data=validation,
        callbacks=[*callbacks, *extras, *([checkpoint] if checkpoint is not None else [])],
        verbose=0,
    )
    fit_seconds = time.perf_counter() - began
    steps = _optimizer_steps(model) - steps_before
    logs = {name: [float(v) for v in values] for name, values in history.history.items()}
    check_loss_finite(logs, policy)  # a NaN loss in bfloat16/float16 fails the run, with what to do
    test_metrics, confusion = _test(model, config, data)
    return FitResult(
        model=model,
        history=logs,
        metrics={**{name: values[-1] for name, values in logs.items() if values}, **test_metrics},
        confusion=confusion,
        train_samples=start.train_samples,
        samples_trained=_samples(steps, start, train.batch_size),
        fit_seconds=fit_seconds,
        replicas=start.replicas,
        policy=policy,
    )


def _layer_recorder(config: RunConfig, data: PreparedData, owner: LayerStatsOwner, extras: Sequence[Any]):
    """The instruments' callback, forwarding to `owner` and to the TensorBoard log among `extras`."""
    from dlapp.instruments import LayerStatsCallback

    owners = [owner, *(callback for callback in extras if hasattr(callback, "on_layers"))]
    return LayerStatsCallback(_Owners(owners), data.x_train, _targets(config, data.x_train, data.y_train))


class _Owners:
    """Several owners of per-layer statistics, in order."""

    def __init__(self, owners: Sequence[LayerStatsOwner]):
        self.owners = list(owners)

    def on_layers(self, epoch: int, layers: dict[str, dict]) -> None:
        for owner in self.owners:
            owner.on_layers(epoch, layers)


def _targets(config: RunConfig, images, labels):
    """What the model learns to output: the labels, or the images themselves for the autoencoder."""
    return labels if config.is_classifier else images


def _optimizer_steps(model) -> int:
    """Batches the model's optimizer has applied, ever (a mirrored variable too, hence no plain int())."""
    import keras

    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def _samples(steps: int, start: FitStart, batch_size: int) -> int:
    """Images trained in `steps` optimizer steps: whole epochs, then the batches of the last one."""
    epochs, rest = divmod(steps, start.steps_per_epoch)
    return epochs * start.train_samples + min(rest * batch_size, start.train_samples)


def _extra_callbacks(
    config: RunConfig, tensorboard_dir: str | Path | None, has_validation: bool, policy: str
) -> list[Any]:
    """TensorBoard logs per epoch when a folder is given, early stopping when the config asks for it,
    and a stop at the first NaN loss under reduced precision (`check_loss_finite` then fails the run)."""
    import keras

    from dlapp.callbacks import EpochTensorBoard

    extras: list[Any] = []
    if policy != "float32":
        extras.append(keras.callbacks.TerminateOnNaN())
    if tensorboard_dir is not None and _tensorboard_installed():
        extras.append(EpochTensorBoard(str(tensorboard_dir)))
    patience = config.train.early_stopping
    if patience > 0:
        monitor = "val_loss" if has_validation else "loss"
        extras.append(keras.callbacks.EarlyStopping(monitor, patience=patience, restore_best_weights=True))
    return extras


def _tensorboard_installed() -> bool:
    """TensorFlow no longer pulls in the `tensorboard` package; without it the logs are skipped, not the run."""
    return importlib.util.find_spec("tensorboard") is not None


def _test(model, config: RunConfig, data: PreparedData) -> tuple[dict[str, float], list[list[int]] | None]:
    """Test loss and accuracy (or MSE), and the confusion matrix of a classifier."""
    from dlapp.evaluation import confusion_matrix, predict

    y_test = _targets(config, data.x_test, data.y_test)
    scores = model.evaluate(data.x_test, y_test, batch_size=config.train.batch_size, verbose=0, return_dict=True)
    if not config.is_classifier:
        return {"test_loss": float(scores["loss"]), "test_mse": float(scores["mse"])}, None
    predictions = predict(model, data.x_test).argmax(axis=1)
    confusion = confusion_matrix(y_test, predictions).tolist()
    return {"test_loss": float(scores["loss"]), "test_accuracy": float(scores["accuracy"])}, confusion
