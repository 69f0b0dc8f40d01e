"""How good a trained model is: classifier reports, autoencoder reports, loading a run's model.

Everything is computed from one batched forward pass in inference mode (dropout and
augmentation off), the same numbers `model.evaluate` reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dlapp.data import shape_for
from dlapp.errors import StoreError

if TYPE_CHECKING:
    import keras

    from dlapp.store import RunStore

EPSILON = 1e-7  # Keras clips probabilities to [eps, 1 - eps] inside its cross-entropy
BATCH_SIZE = 256


@dataclass(frozen=True)
class ClassifierReport:
    loss: float  # mean sparse cross-entropy plus regularisation, as model.evaluate reports it
    accuracy: float
    confusion: np.ndarray  # (k, k) int, rows = true class, columns = predicted class
    precision: np.ndarray  # (k,) per class; 0 where the class was never predicted
    recall: np.ndarray  # (k,)
    f1: np.ndarray  # (k,)
    probabilities: np.ndarray  # (n, k) float32
    predictions: np.ndarray  # (n,) int
    labels: np.ndarray  # (n,) int, the true classes
    mistakes: np.ndarray  # indices of wrong predictions, most confident first
    class_names: tuple[str, ...]


@dataclass(frozen=True)
class AutoencoderReport:
    mse: float  # mean squared pixel error over the whole set
    errors: np.ndarray  # (n,) mean squared error per image
    reconstructions: np.ndarray  # (n, 28, 28) float32
    worst: np.ndarray  # indices, largest error first


def predict(model: keras.Model, x: np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """model(x, training=False) in batches, as one NumPy array."""
    if len(x) == 0:
        return np.zeros((0, *model.output_shape[1:]), dtype=np.float32)
    outputs = [np.asarray(model(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    return np.concatenate(outputs)


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """(k, k) counts; entry [t, p] is how many images of class t were predicted as p."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, dtype=np.int64), np.asarray(predictions, dtype=np.int64)), 1)
    return matrix


def per_class_scores(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 per class; a class with no predictions (or no images) scores 0."""
    true_positive = np.diag(confusion).astype(np.float64)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(true_positive, predicted, out=np.zeros_like(true_positive), where=predicted > 0)
    recall = np.divide(true_positive, actual, out=np.zeros_like(true_positive), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    return precision, recall, f1


def evaluate_classifier(
    model: keras.Model, x_test: np.ndarray, y_test: np.ndarray, class_names: tuple[str, ...] | list[str]
) -> ClassifierReport:
    probabilities = predict(model, x_test)  # (n, k)
    labels = np.asarray(y_test, dtype=np.int64)
    num_classes = probabilities.shape[1]
    predictions = probabilities.argmax(axis=1)
    picked = np.clip(probabilities[np.arange(len(labels)), labels].astype(np.float64), EPSILON, 1 - EPSILON)
    loss = float(-np.log(picked).mean()) + _regularisation(model) if len(labels) else 0.0
    confusion = confusion_matrix(labels, predictions, num_classes)
    precision, recall, f1 = per_class_scores(confusion)
    wrong = np.flatnonzero(predictions != labels)
    confidence = probabilities[wrong, predictions[wrong]]
    return ClassifierReport(
        loss=loss,
        accuracy=float((predictions == labels).mean()) if len(labels) else 0.0,
        confusion=confusion,
        precision=precision,
        recall=recall,
        f1=f1,
        probabilities=probabilities,
        predictions=predictions,
        labels=labels,
        mistakes=wrong[np.argsort(-confidence, kind="stable")],
        class_names=tuple(class_names),
    )


def evaluate_autoencoder(model: keras.Model, x_test: np.ndarray) -> AutoencoderReport:
    x = shape_for(np.asarray(x_test), "autoencoder")  # (n, 28, 28)
    reconstructions = predict(model, x)
    errors = ((reconstructions - x) ** 2).reshape(len(x), -1).mean(axis=1)
    return AutoencoderReport(
        mse=float(errors.mean()) if len(x) else 0.0,
        errors=errors,
        reconstructions=reconstructions,
        worst=np.argsort(-errors, kind="stable"),
    )


def latent_codes(autoencoder: keras.Model, images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) images (uint8 or float in [0, 1]) -> (n, latent_dim) codes from the "encoder"."""
    return predict(autoencoder.get_layer("encoder"), shape_for(np.asarray(images), "autoencoder"))


def decode_points(autoencoder: keras.Model, points: np.ndarray) -> np.ndarray:
    """(n, latent_dim) points -> (n, 28, 28) images from the "decoder"."""
    return predict(autoencoder.get_layer("decoder"), np.asarray(points, dtype=np.float32))


def reconstruct_batch(autoencoder: keras.Model, images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) images -> (n, 28, 28) reconstructions."""
    return predict(autoencoder, shape_for(np.asarray(images), "autoencoder"))


def load_run_model(store: RunStore, run_id: int) -> keras.Model:
    """The run's saved model, through the same checks as an upload (`dlapp.modelfile.load_model_file`).

    A stored file can be replaced by hand, so it is not trusted more than an upload: a bad
    one raises ModelRejected with one sentence.
    """
    from dlapp.modelfile import load_model_file

    run = store.run(run_id)
    if not run.model_path:
        raise StoreError(f"Run {run_id} has no saved model (it is {run.status}); train it again to get one.")
    if not Path(run.model_path).is_file():
        raise StoreError(f"The model file of run {run_id} is missing ({run.model_path}); train it again.")
    return load_model_file(run.model_path)


def _regularisation(model: keras.Model) -> float:
    return float(sum(float(np.asarray(loss)) for loss in model.losses))
