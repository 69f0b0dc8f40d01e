"""Continuing from a checkpoint: the optimizer state and epoch counter carry on, accuracy matches an
uninterrupted run, and a run that cannot be continued is refused with one sentence and left as it was."""

from __future__ import annotations

import sqlite3

import keras
import numpy as np
import pytest

from dlapp.checkpoints import CheckpointInfo, checkpoint_callback, write_model_file
from dlapp.config import RunConfig
from dlapp.data import prepare
from dlapp.errors import ModelRejected
from dlapp.models import build_compiled, build_model
from dlapp.resume import (
    Continuation,
    continuation_notes,
    load_checkpoint,
    model_epoch_note,
    plan_continuation,
    record_continuation,
    refusal,
)
from dlapp.store import RunStore

TINY = RunConfig.from_flat(arch="mlp", hidden_units=(16,), train_subset=300, batch_size=64, epochs=30)
STEPS = 5  # 270 training images in batches of 64
# The tutorial's first network: Flatten, Dense 128 relu, Dropout 0.2, Dense 10 softmax, Adam 1e-3.
TUTORIAL = RunConfig.from_flat(arch="mlp", train_subset=2000, batch_size=32, epochs=4)


def moments(model: keras.Model) -> dict[str, np.ndarray]:
    return {v.path: np.array(v) for v in model.optimizer.variables if "momentum" in v.path or "velocity" in v.path}


class FirstStep(keras.callbacks.Callback):
    """What the optimizer holds just before the first step of this fit."""

    def __init__(self):
        super().__init__()
        self.iterations: int | None = None
        self.moments: dict[str, np.ndarray] = {}

    def on_train_batch_begin(self, batch, logs=None):
        if self.iterations is None:
            self.iterations = int(self.model.optimizer.iterations)
            self.moments = moments(self.model)


def train(config: RunConfig, epochs: int, path=None, *, initial_epoch: int = 0, model=None, extra=()):
    keras.utils.set_random_seed(config.train.seed + initial_epoch)
    data = prepare(config.data, config.model.arch, seed=config.train.seed)
    model = model or build_compiled(config)
    callbacks = list(extra)
    if path is not None:
        save = lambda m, info: write_model_file(m, path, info)  # noqa: E731
        callbacks.append(checkpoint_callback(save, epochs_planned=config.train.epochs, min_interval=3600))
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=config.train.batch_size,
        epochs=epochs,
        initial_epoch=initial_epoch,
        callbacks=callbacks,
        verbose=0,
    )
    return model, history, data


def test_a_continued_fit_carries_on_the_step_count_and_the_adam_moments(tmp_path):
    path = tmp_path / "run-1.keras"
    trained, _, _ = train(TINY, 2, path)
    saved = moments(trained)
    assert saved and all(np.abs(m).sum() > 0 for m in saved.values())

    first = FirstStep()
    continued, history, _ = train(TINY, 3, initial_epoch=2, model=load_checkpoint(path), extra=[first])
    assert history.epoch == [2]  # the epoch counter goes on
    assert first.iterations == 2 * STEPS  # the step count carries on at the first continued step...
    assert first.moments.keys() == saved.keys()
    for name, value in first.moments.items():  # ...and the moments are the saved ones, not zeros
        assert np.abs(value).sum() > 0, name
        np.testing.assert_array_equal(value, saved[name])
    assert int(continued.optimizer.iterations) == 3 * STEPS


def test_a_new_learning_rate_replaces_the_checkpoints(tmp_path):
    path = tmp_path / "run-1.keras"
    train(TINY, 1, path)
    assert float(load_checkpoint(path).optimizer.learning_rate) == pytest.approx(1e-3)
    assert float(load_checkpoint(path, learning_rate=5e-4).optimizer.learning_rate) == pytest.approx(5e-4)


@pytest.mark.slow
def test_a_continued_tutorial_mlp_reaches_the_accuracy_of_an_uninterrupted_one(tmp_path):
    whole, _, data = train(TUTORIAL, 4)
    path = tmp_path / "run-1.keras"
    train(TUTORIAL, 2, path)  # "interrupted" after its second epoch's checkpoint
    continued, history, _ = train(TUTORIAL, 4, initial_epoch=2, model=load_checkpoint(path))
    assert history.epoch == [2, 3]
    accuracy = {
        name: model.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)["accuracy"]
        for name, model in (("whole", whole), ("continued", continued))
    }
    assert accuracy["whole"] > 0.85, accuracy  # it learned; the comparison below means something
    assert abs(accuracy["whole"] - accuracy["continued"]) <= 0.03, accuracy  # within noise (1,000 test digits)


# --- planning a continuation against a real store --------------------------------------------


def stored_run(store: RunStore, status: str, epochs: int, info: CheckpointInfo | None, *, compiled=True) -> int:
    run_id = store.create_run(TINY)
    for epoch in range(epochs):
        store.add_epoch(run_id, epoch, {"loss": 1.0 / (epoch + 1)})
    model = build_compiled(TINY) if compiled else build_model(TINY.model)
    if compiled:
        model.optimizer.build(model.trainable_variables)
    store.save_model(run_id, model)
    if info is not None:
        write_model_file(model, store.model_file(run_id), info)
    store.set_status(run_id, status)
    return run_id


def test_an_interrupted_run_is_planned_from_its_checkpoint_with_the_epochs_asked_for(tmp_path):
    store = RunStore(tmp_path)
    run_id = stored_run(store, "interrupted", 6, CheckpointInfo(4, 30))
    run = store.run(run_id)
    assert model_epoch_note(run) == "model from epoch 4 of 30"
    assert refusal(run) is None
    plan = plan_continuation(run, 26, learning_rate=5e-4)
    assert (plan.run_id, plan.initial_epoch, plan.config.train.epochs) == (run_id, 4, 30)
    assert plan.config.train.learning_rate == 5e-4
    assert plan.config.model == run.config.model  # the architecture never changes
    assert store.run(run_id) == run  # planning changed nothing


def test_a_finished_run_saved_without_a_checkpoint_note_continues_after_all_its_epochs(tmp_path):
    store = RunStore(tmp_path)
    run = store.run(stored_run(store, "finished", 30, None))
    assert model_epoch_note(run) is None
    assert plan_continuation(run, 10).initial_epoch == 30


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("missing", "Run #1 has no saved model to continue from; train it again with its settings instead."),
        ("garbage", "The model file of run #1 cannot be continued: the file is not a Keras model (not a zip archive)"),
        ("uncompiled", "The model file of run #1 holds no optimizer state, so it cannot be continued;"),
    ],
)
def test_a_missing_or_corrupt_model_file_is_refused_in_one_sentence_and_nothing_changes(tmp_path, damage, expected):
    store = RunStore(tmp_path)
    run_id = stored_run(store, "interrupted", 3, None, compiled=damage != "uncompiled")
    path = store.model_file(run_id)
    if damage == "missing":
        path.unlink()
        assert model_epoch_note(store.run(run_id)) is None  # no model, no epoch to name
    elif damage == "garbage":
        path.write_bytes(b"not a model" * 100)
    before = (store.run(run_id), store.epochs(run_id), path.read_bytes() if path.exists() else None)
    with pytest.raises((ValueError, ModelRejected)) as info:
        plan_continuation(store.run(run_id), 5)
    message = str(info.value)
    assert message.startswith(expected) and message.endswith(".") and "\n" not in message
    assert (store.run(run_id), store.epochs(run_id), path.read_bytes() if path.exists() else None) == before


def test_a_training_run_and_impossible_epoch_counts_are_refused(tmp_path):
    store = RunStore(tmp_path)
    run_id = stored_run(store, "running", 2, CheckpointInfo(2, 30))
    assert refusal(store.run(run_id)) == f"Run #{run_id} is running; wait for it to end or stop it, then continue it."
    store.set_status(run_id, "stopped")
    run = store.run(run_id)
    with pytest.raises(ValueError, match="Further epochs must be a whole number of at least 1; got 0."):
        plan_continuation(run, 0)
    with pytest.raises(ValueError, match="has trained 2 epochs and a run has at most 500; continue for at most 498"):
        plan_continuation(run, 499)
    with pytest.raises(ValueError, match="learning_rate must be greater than 0"):
        plan_continuation(run, 3, learning_rate=0.0)


def test_continuation_notes_say_which_epochs_came_from_which_continuation(tmp_path):
    store = RunStore(tmp_path)
    run_id = stored_run(store, "interrupted", 6, CheckpointInfo(4, 30))
    assert continuation_notes(store, store.run(run_id)) == []
    with sqlite3.connect(store.db_path) as conn:  # reading the notes wrote nothing, not even their table
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'continuations'").fetchall() == []
    plan = plan_continuation(store.run(run_id), 26)
    record_continuation(store, plan)
    for epoch in range(6, 30):
        store.add_epoch(run_id, epoch, {"loss": 0.1})
    assert continuation_notes(store, store.run(run_id)) == ["Epochs 5-30 came from a continuation."]
    later = Continuation(run_id, plan.config.replace(epochs=31, learning_rate=1e-4), 30, 1e-4)
    record_continuation(store, later)
    assert continuation_notes(store, store.run(run_id)) == ["Epochs 5-30 came from a continuation."]  # nothing yet
    store.add_epoch(run_id, 30, {"loss": 0.1})
    assert continuation_notes(store, store.run(run_id)) == [
        "Epochs 5-30 came from a continuation.",
        "Epoch 31 came from a continuation at learning rate 0.0001.",
    ]


def test_a_run_trained_with_a_cosine_learning_rate_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "run-1.keras"
    cosine = TINY.replace(lr_schedule="cosine")
    keras.utils.set_random_seed(0)
    data = prepare(cosine.data, "mlp", seed=0)
    model = build_compiled(cosine, total_steps=STEPS)
    model.fit(data.x_train, data.y_train, batch_size=64, epochs=1, verbose=0)
    write_model_file(model, path, CheckpointInfo(epochs_trained=1, epochs_planned=1))
    with pytest.raises(ModelRejected) as refused:
        load_checkpoint(path, run_id=1)
    message = str(refused.value)
    assert "run #1" in message and "cosine" in message and message.count(". ") == 0


def test_a_cosine_run_stopped_halfway_continues_along_its_cosine_and_keeps_its_rate(tmp_path):
    """A crash or a Stop before the last step must not cost the run: it goes on where the cosine was."""
    path = tmp_path / "run-1.keras"
    cosine = TINY.replace(lr_schedule="cosine")
    keras.utils.set_random_seed(0)
    data = prepare(cosine.data, "mlp", seed=0)
    model = build_compiled(cosine, total_steps=2 * STEPS)  # planned 2 epochs, stopped after 1
    model.fit(data.x_train, data.y_train, batch_size=64, epochs=1, verbose=0)
    write_model_file(model, path, CheckpointInfo(epochs_trained=1, epochs_planned=2))

    resumed = load_checkpoint(path, run_id=1)
    optimizer = resumed.optimizer
    assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == STEPS
    halfway = float(keras.ops.convert_to_numpy(optimizer.learning_rate))  # read at the saved step: cos(pi/2)
    assert halfway == pytest.approx(cosine.train.learning_rate / 2, rel=1e-3)
    with pytest.raises(ModelRejected) as refused:
        load_checkpoint(path, learning_rate=0.01, run_id=1)
    message = str(refused.value)
    assert "run #1" in message and "cosine" in message and message.count(". ") == 0


def test_planning_a_cosine_run_refuses_a_new_learning_rate_before_anything_changes(tmp_path):
    store = RunStore(tmp_path)
    cosine = TINY.replace(lr_schedule="cosine")
    run_id = store.create_run(cosine)
    store.add_epoch(run_id, 0, {"loss": 1.0})
    model = build_compiled(cosine, total_steps=2 * STEPS)
    model.optimizer.build(model.trainable_variables)
    store.save_model(run_id, model, CheckpointInfo(1, 2))
    store.set_status(run_id, "interrupted")
    run = store.run(run_id)
    assert plan_continuation(run, 1).initial_epoch == 1  # its cosine goes on
    with pytest.raises(ModelRejected, match="without a new learning rate"):
        plan_continuation(run, 1, learning_rate=0.01)
    assert store.run(run_id) == run
