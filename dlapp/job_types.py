"""The small types a training job shares with its callers: its plan, its progress, its summary keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from dlapp.config import RunConfig
    from dlapp.training import FitResult


def summary_keys(is_classifier: bool) -> tuple[str, ...]:
    """A job's summary keys, in order; `python -m dlapp train --json` prints exactly these.

    The test metric is test_accuracy for a classifier, test_mse for the autoencoder."""
    metric = "test_accuracy" if is_classifier else "test_mse"
    return ("run_id", "status", "epochs_completed", "test_loss", metric, "model_path", "seconds", "samples_per_second")


class FitPlan(Protocol):
    """What a job trains when it is not a new model on its config's dataset (a fine-tune, for one).

    Both methods run in the training thread, so they may load models and TensorFlow.
    """

    def prepare(self, config: RunConfig) -> dict[str, Any]:
        """Keyword arguments for `fit_run` (`model`, `data`, `initial_epoch`)."""

    def finish(self, run_id: int, result: FitResult) -> dict[str, float]:
        """Extra metrics stored with the run once the fit has ended and its model is saved."""


@dataclass(frozen=True)
class Progress:
    epoch: int  # the epoch being trained, 1-based (0 before the first batch)
    epochs: int
    step: int  # steps finished in that epoch
    steps_per_epoch: int | None  # None until the data is prepared
    fraction: float  # of all planned training samples, in [0, 1]
    samples_per_second: float | None
    eta_seconds: float | None  # None until a batch has been timed
