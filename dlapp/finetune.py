"""Teach a model the person's handwriting: train a copy of a run's model further on their saved drawings.

The result is a new run (its `parent_run_id` is the model's run) trained through the ordinary
job queue. Its training set is the drawings' training part, augmented (`dlapp.drawing_augment`),
mixed with a replay sample of the parent's own training data so it does not forget MNIST. The
held-out drawings (`dlapp.handwriting`) are only ever tested on: before the fit with the parent's
model, as the validation curve while it trains (never for early stopping), and after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dlapp.errors import ModelRejected
from dlapp.handwriting import DrawingSplit, needed_sentence, split_drawings

if TYPE_CHECKING:
    from dlapp.config import RunConfig
    from dlapp.jobs import TrainingJob
    from dlapp.store import Run, RunStore
    from dlapp.training import FitResult

REPLAY_SHARE = 0.5  # of each epoch's images are replayed from the original training data
COPIES = 10  # augmented copies of each training drawing per epoch
LEARNING_RATE = 3e-4  # a third of Adam's default: nudge the model, do not retrain it
# Layers with weights left trainable; 0 = all. Measured (README, "Fine-tuning"): training only the top 2
# gave the same accuracies on the bench; all layers stay the default, since frozen convolutions can
# only re-weigh the features MNIST taught them (a style far from MNIST was not measured that way).
TOP_LAYERS = 0
SUMMARY_KEYS = (
    "run_id",
    "parent_run_id",
    "status",
    "drawings_used",
    "heldout",
    "heldout_accuracy_before",
    "heldout_accuracy_after",
    "test_accuracy_before",
    "test_accuracy_after",
)


def refusal(run: Run) -> str | None:
    """Why `run`'s model cannot be fine-tuned (one sentence), or None when it can."""
    if not run.is_classifier:
        return f"Run #{run.id} is an autoencoder, which has no digit labels to learn; pick a classifier run."
    if not run.model_path:
        return f"Run #{run.id} has no saved model; pick a run that finished training."
    return None


def mix_replay(
    x_new: np.ndarray, y_new: np.ndarray, x_old: np.ndarray, y_old: np.ndarray, share: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """New images plus a replay sample of old ones making up `share` of the result, shuffled.

    With n new images the sample has round(n * share / (1 - share)) old ones (all of them when
    there are fewer), drawn without replacement.
    """
    if not 0.0 <= share < 1.0:
        raise ValueError(f"The replay share must be at least 0 and below 1; got {share!r}.")
    rng = np.random.default_rng(seed)
    wanted = min(len(x_old), round(len(x_new) * share / (1.0 - share)))
    pick = rng.choice(len(x_old), size=wanted, replace=False)
    x = np.concatenate([x_new, x_old[pick]])
    y = np.concatenate([y_new, y_old[pick]])
    order = rng.permutation(len(x))
    return x[order], y[order]


@dataclass
class FineTunePlan:
    """A `dlapp.jobs.FitPlan`: the parent's model and the mixed data, then the before/after accuracies."""

    parent: Run
    split: DrawingSplit
    learning_rate: float = LEARNING_RATE
    replay_share: float = REPLAY_SHARE
    copies: int = COPIES
    top_layers: int = TOP_LAYERS
    before: dict[str, float] = field(default_factory=dict)  # filled in by prepare()
    _model: Any = None

    def prepare(self, config: RunConfig) -> dict[str, Any]:
        from dlapp.data import PreparedData, prepare, shape_for
        from dlapp.drawing_augment import augment

        model = self._load(config)
        base = prepare(self.parent.config.data, config.model.arch, seed=config.train.seed)
        arch = config.model.arch
        heldout_x = shape_for(self.split.heldout_x, arch)
        self.before = {
            "heldout_accuracy_before": _accuracy(model, heldout_x, self.split.heldout_y),
            "test_accuracy_before": _accuracy(model, base.x_test, base.y_test),
        }
        drawn_x, drawn_y = augment(self.split.train_x, self.split.train_y, self.copies, seed=config.train.seed)
        x, y = mix_replay(
            shape_for(drawn_x, arch), drawn_y, base.x_train, base.y_train, self.replay_share, config.train.seed
        )
        data = PreparedData(x, y, heldout_x, self.split.heldout_y, base.x_test, base.y_test, base.class_names)
        self._model = model
        return {"model": model, "data": data}

    def finish(self, run_id: int, result: FitResult) -> dict[str, float]:
        from dlapp.data import shape_for

        heldout_x = shape_for(self.split.heldout_x, self.parent.config.model.arch)
        after = _accuracy(result.model, heldout_x, self.split.heldout_y)
        return {
            **self.before,
            "heldout_accuracy_after": after,
            "test_accuracy_after": result.metrics.get("test_accuracy", float("nan")),
            "drawings_used": float(len(self.split.train_y)),
            "heldout": float(len(self.split.heldout_y)),
        }

    def _load(self, config: RunConfig):
        from dlapp.modelfile import load_model_file
        from dlapp.models import compile_model

        model = load_model_file(self.parent.model_path)
        weighted = [layer for layer in model.layers if layer.weights]
        if not any(layer.trainable for layer in weighted):
            raise ModelRejected(
                f"Run #{self.parent.id}'s model has no trainable layers, so it cannot learn your drawings."
            )
        if self.top_layers:
            for layer in weighted[: -self.top_layers]:
                layer.trainable = False
        return compile_model(model, config)


def _accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    from dlapp.evaluation import predict

    if len(y) == 0:
        return float("nan")
    return float((predict(model, x).argmax(axis=1) == y).mean())


def plan_finetune(store: RunStore, run: Run, epochs: int = 5, **settings: Any) -> tuple[RunConfig, FineTunePlan]:
    """Check everything before anything is queued; raise ValueError with one sentence when it cannot go ahead."""
    reason = refusal(run)
    split = split_drawings(store)
    reason = reason or needed_sentence(np.concatenate([split.train_y, split.heldout_y]))
    if reason:
        raise ValueError(reason)
    plan = FineTunePlan(run, split, **settings)
    # Held-out drawings are the validation curve only: early stopping must not choose on them.
    config = run.config.replace(epochs=epochs, early_stopping=0, learning_rate=plan.learning_rate).validate()
    return config, plan


def start_finetune(store: RunStore, run: Run, epochs: int = 5, *, start: bool = True, **settings: Any) -> TrainingJob:
    """The fine-tune as a new run's `TrainingJob`, queued like any other (unless `start=False`)."""
    from dlapp.jobs import TrainingJob

    config, plan = plan_finetune(store, run, epochs, **settings)
    name = f"{run.name[:40]} + my handwriting"
    job = TrainingJob(config, store, name, plan=plan, parent_run_id=run.id)
    return job.start() if start else job


def summary(store: RunStore, job: TrainingJob) -> dict[str, Any]:
    """The keys of SUMMARY_KEYS for an ended job; counts as whole numbers, missing values None."""
    run = store.run(job.run_id)
    values = {**run.metrics, "run_id": run.id, "parent_run_id": run.parent_run_id, "status": run.status}
    out = {key: values.get(key) for key in SUMMARY_KEYS}
    for key in ("drawings_used", "heldout"):
        out[key] = int(out[key]) if out[key] is not None else None
    return out


def note(run: Run) -> str | None:
    """'Fine-tuned from run #3 on 80 of your drawings (20 held out).' for a fine-tuned run, else None."""
    if run.parent_run_id is None:
        return None
    used, heldout = run.metrics.get("drawings_used"), run.metrics.get("heldout")
    if used is None:
        return f"Fine-tuned from run #{run.parent_run_id} on your drawings."
    return f"Fine-tuned from run #{run.parent_run_id} on {int(used)} of your drawings ({int(heldout or 0)} held out)."
