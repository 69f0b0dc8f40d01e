"""A lesson's experiment really trains through the experiments engine and reads back as LessonRuns."""

from __future__ import annotations

import re

from dlapp.lesson_runs import latest_lesson_experiment, lesson_runs, start_lesson
from dlapp.lessons import EPOCHS_ENV, SUBSET_ENV, lesson
from dlapp.store import RunStore


def test_the_loss_lesson_trains_both_variants_and_observes_their_own_numbers(tmp_path, monkeypatch):
    monkeypatch.setenv(SUBSET_ENV, "200")
    monkeypatch.setenv(EPOCHS_ENV, "2")
    store = RunStore(tmp_path)
    losses = lesson("loss-functions")
    runner = start_lesson(losses, store)
    assert runner.wait(timeout=300) == "finished"
    assert latest_lesson_experiment(store, losses).id == runner.experiment_id
    runs = lesson_runs(store, runner.experiment_id, losses)
    assert [run.label for run in runs] == ["cross-entropy", "MSE"]
    assert [store.run(r).config.model.loss for r in runner.run_ids] == ["crossentropy", "mse"]
    assert all(len(run.epochs) == 2 and run.parameters == 101_770 for run in runs)
    text = losses.observe(runs)
    first = f"{100 * runs[0].epochs[0]['val_accuracy']:.1f}%"
    assert first in text and re.search(r"after epoch 2, [\d.]+% and [\d.]+%", text), text
