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

# Chosen from measurements (`python -m dlapp.tools.bench_finetune`, README "Fine-tuning"): people 1-5 simulated
# from real pen strokes, 13 drawings of each digit saved (10 trained on), their 7s, 1s and 9s in styles the
# parent CNN (97.2% on the MNIST-sample test split) reads 40% of. Mean (worst) over the 5 people, on this
# 2-vCPU Xeon shared with other work (load average 8-26: wall seconds swing with it, CPU seconds less):
#   trained  epochs replay | 7s,1s,9s held out, gain | MNIST test, points | wall s | CPU s (median)
#   all      5      50%    | 40 -> 95%, +56 (+44)    | -1.0 (-1.7)        | 47     | 18
#   top 2    5      50%    | 40 -> 94%, +54 (+44)    | -0.9 (-2.0)        | 34     | 11
#   all      5      75%    | 40 -> 90%, +51 (+42)    | +0.3 (+0.2)        | 65     | 25
#   top 2    5      75%    | 40 -> 92%, +52 (+43)    | +0.2 (+0.0)        | 43     | 15
#   all      3      75%    | 40 -> 92%, +52 (+42)    | +0.3 (-0.3)        | 49     | 18
#   top 2    3      75%    | 40 -> 91%, +51 (+42)    | +0.4 (+0.1)        | 40     | 12   <- chosen
# Half replay forgot up to 2 points of MNIST; three quarters forgot none. Training only the top 2 layers with
# weights (a CNN's dense layers) for 3 epochs cost no accuracy and did the least work: the closest to 30 s.
# Batch size stayed the parent's (32). Checked afterwards on people 11-15: README.
REPLAY_SHARE = 0.75  # of each epoch's images are replayed from the original training data
COPIES = 10  # augmented copies of each training drawing per epoch
LEARNING_RATE = 3e-4  # a third of Adam's default: nudge the model, do not retrain it
TOP_LAYERS = 2  # layers with weights left trainable, counted from the output; 0 = all
EPOCHS = 3
BATCH_SIZE = None  # None: the parent's (32 by default); not varied
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


def refusal(run: Run, model: Any = None) -> str | None:
    """Why `run`'s model (already loaded, if given) cannot be fine-tuned, in one sentence; None when it can."""
    if not run.is_classifier:
        return f"Run #{run.id} is an autoencoder, which has no digit labels to learn; pick a classifier run."
    if not run.model_path:
        return f"Run #{run.id} has no saved model; pick a run that finished training."
    if model is not None and not any(layer.trainable and layer.trainable_weights for layer in model.layers):
        return f"Run #{run.id}'s model has no trainable layers, so it cannot learn your drawings; pick another run."
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
    batch_size: int | None = BATCH_SIZE  # None: the parent's
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
        reason = refusal(self.parent, model)
        if reason:  # checked when it was planned; the file could have changed since
            raise ModelRejected(reason)
        weighted = [layer for layer in model.layers if layer.weights]
        if self.top_layers:
            for layer in weighted[: -self.top_layers]:
                layer.trainable = False
        return compile_model(model, config)


def _loaded(run: Run):
    """The run's model, to check before anything is queued (the job loads its own copy to train)."""
    from dlapp.modelfile import load_model_file

    return load_model_file(run.model_path)


def _accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    from dlapp.evaluation import predict

    if len(y) == 0:
        return float("nan")
    return float((predict(model, x).argmax(axis=1) == y).mean())


def plan_finetune(
    store: RunStore, run: Run, epochs: int = EPOCHS, drawings: set[int] | None = None, **settings: Any
) -> tuple[RunConfig, FineTunePlan]:
    """Check everything before anything is queued; raise ValueError with one sentence when it cannot go ahead.

    `drawings`: the ids of the drawings to learn from (one owner's, in shared mode); None: all of them.
    """
    reason = refusal(run) or refusal(run, _loaded(run))
    split = split_drawings(store, drawings)
    reason = reason or needed_sentence(np.concatenate([split.train_y, split.heldout_y]))
    if reason:
        raise ValueError(reason)
    plan = FineTunePlan(run, split, **settings)
    # Held-out drawings are the validation curve only: early stopping must not choose on them.
    batch = plan.batch_size or run.config.train.batch_size
    config = run.config.replace(
        epochs=epochs, early_stopping=0, learning_rate=plan.learning_rate, batch_size=batch
    ).validate()
    return config, plan


def start_finetune(
    store: RunStore,
    run: Run,
    epochs: int = EPOCHS,
    *,
    start: bool = True,
    owner: str | None = None,
    drawings: set[int] | None = None,
    **settings: Any,
) -> TrainingJob:
    """The fine-tune as a new run's `TrainingJob`, queued like any other (unless `start=False`).

    The parent run is only read, so anyone may fine-tune anyone's model: in shared mode the new run
    belongs to `owner` and learns only from `drawings` (that owner's ids).
    """
    from dlapp.jobs import TrainingJob

    config, plan = plan_finetune(store, run, epochs, drawings, **settings)
    name = f"{run.name[:40]} + my handwriting"
    job = TrainingJob(config, store, name, plan=plan, parent_run_id=run.id, owner=owner)
    return job.start() if start else job


def summary(store: RunStore, job: TrainingJob) -> dict[str, Any]:
    """The keys of SUMMARY_KEYS for an ended job; counts as whole numbers, missing values None."""
    return run_summary(store.run(job.run_id))


def run_summary(run: Run) -> dict[str, Any]:
    """The keys of SUMMARY_KEYS for a stored fine-tuned run; counts as whole numbers, missing values None."""
    values = {**run.metrics, "run_id": run.id, "parent_run_id": run.parent_run_id, "status": run.status}
    out = {key: values.get(key) for key in SUMMARY_KEYS}
    for key in ("drawings_used", "heldout"):
        out[key] = int(out[key]) if out[key] is not None else None
    return out


def finetune_summaries(store: RunStore, only: set[int] | None = None) -> list[dict[str, Any]]:
    """`run_summary` of every fine-tuned run with a before/after, newest first.

    `only`: the run ids to look among (one owner's, in shared mode); None: every run.
    """
    return [run_summary(r) for r in store.runs() if _has_before_after(r) and (only is None or r.id in only)]


def latest_finetune(store: RunStore, run: Run, only: set[int] | None = None) -> Run | None:
    """The fine-tune whose before/after belongs with `run`: itself when it is a fine-tune, else its
    newest fine-tuned child (stored, so it survives a refresh); None when there is neither.

    `only`: the run ids to look among for the child (one owner's, in shared mode); None: every run.
    """
    if _has_before_after(run):
        return run
    children = (r for r in store.runs() if r.parent_run_id == run.id and (only is None or r.id in only))
    return next((r for r in children if _has_before_after(r)), None)


def _has_before_after(run: Run) -> bool:
    return run.parent_run_id is not None and "heldout_accuracy_after" in run.metrics


def note(run: Run) -> str | None:
    """'Fine-tuned from run #3 on 80 of your drawings (20 held out).' for a fine-tuned run, else None."""
    if run.parent_run_id is None:
        return None
    # 0 is the shipped starter model's pseudo-run id (dlapp.ui.starter), which SQLite never gives a run.
    parent = "the starter model" if run.parent_run_id == 0 else f"run #{run.parent_run_id}"
    used, heldout = run.metrics.get("drawings_used"), run.metrics.get("heldout")
    if used is None:
        return f"Fine-tuned from {parent} on your drawings."
    return f"Fine-tuned from {parent} on {int(used)} of your drawings ({int(heldout or 0)} held out)."
