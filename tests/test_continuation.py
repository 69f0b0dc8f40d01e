"""Continuations as jobs: the same run trains further through the queue, its epochs and notes go on,
and `python -m dlapp resume` prints the usual summary with all of the run's epochs."""

from __future__ import annotations

import json

import pytest

from dlapp import cli
from dlapp.checkpoints import CheckpointInfo, read_checkpoint_info
from dlapp.config import RunConfig
from dlapp.errors import StoreError
from dlapp.jobs import TrainingJob
from dlapp.modelfile import load_model_file
from dlapp.resume import continuation_notes, plan_continuation, start_continuation
from dlapp.store import RunStore

SMALL = RunConfig.from_flat(arch="mlp", hidden_units=(16,), train_subset=300, epochs=2, batch_size=64)
STEPS = 5  # 270 training images in batches of 64


@pytest.fixture
def finished(tmp_path) -> tuple[RunStore, int]:
    store = RunStore(tmp_path)
    job = TrainingJob(SMALL, store).start()
    assert job.wait(300) == "finished", job.error
    assert read_checkpoint_info(store.run(job.run_id).model_path) == CheckpointInfo(2, 2)
    return store, job.run_id


def test_a_continued_run_keeps_its_id_and_its_epochs_go_on(finished):
    store, run_id = finished
    before = store.epochs(run_id)
    plan = plan_continuation(store.run(run_id), 2, learning_rate=5e-4)
    job = start_continuation(store, plan)
    assert job.run_id == run_id
    assert job.wait(300) == "finished", job.error
    run = store.run(run_id)
    assert (run.status, run.epochs_completed, run.config.train.epochs) == ("finished", 4, 4)
    assert run.config.train.learning_rate == 5e-4 and run.config.model == SMALL.model
    rows = store.epochs(run_id)
    assert [r["epoch"] for r in rows] == [0, 1, 2, 3] and rows[:2] == before  # the first epochs are untouched
    assert [e.data["epoch"] for e in job.events_since(0) if e.kind == "epoch"] == [2, 3]
    assert job.summary["epochs_completed"] == 4 and job.summary["run_id"] == run_id
    assert read_checkpoint_info(run.model_path) == CheckpointInfo(4, 4)
    model = load_model_file(run.model_path, with_optimizer=True)
    assert int(model.optimizer.iterations) == 4 * STEPS  # the step count went on from the checkpoint's
    assert continuation_notes(store, run) == ["Epochs 3-4 came from a continuation at learning rate 0.0005."]
    assert len(store.runs()) == 1


def test_a_run_cannot_be_continued_twice_at_once(finished):
    store, run_id = finished
    plan = plan_continuation(store.run(run_id), 1)
    first = start_continuation(store, plan, start=False)  # queued, not yet training
    with pytest.raises(StoreError, match=f"Run #{run_id} is missing or already training"):
        start_continuation(store, plan)
    assert store.run(run_id).status == "queued"
    assert first.start().wait(300) == "finished", first.error
    assert store.run(run_id).epochs_completed == 3
    assert continuation_notes(store, store.run(run_id)) == ["Epoch 3 came from a continuation."]


def test_resume_on_the_command_line_prints_the_summary_with_all_epochs(finished, capsys):
    store, run_id = finished
    code = cli.main(["resume", str(run_id), "--epochs", "1", "--json", "--data-dir", str(store.data_dir)])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    summary = json.loads(out[-1])
    assert (summary["run_id"], summary["status"], summary["epochs_completed"]) == (run_id, "finished", 3)
    assert summary["model_path"] == str(store.model_file(run_id)) and 0.0 <= summary["test_accuracy"] <= 1.0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--epochs", "0"], "Further epochs must be a whole number of at least 1; got 0."),
        (["--epochs", "600"], "continue for at most 498 more."),
        (["--epochs", "1", "--learning-rate", "-1"], "learning"),
    ],
)
def test_resume_refuses_bad_input_in_one_line_and_changes_nothing(finished, capsys, args, expected):
    store, run_id = finished
    before = store.run(run_id)
    with pytest.raises(SystemExit) as info:
        cli.main(["resume", str(run_id), *args, "--data-dir", str(store.data_dir)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dlapp resume: error: ") and expected in err[0], err
    assert store.run(run_id) == before


def test_resume_of_a_run_without_a_model_is_one_sentence(finished, capsys):
    store, run_id = finished
    store.model_file(run_id).unlink()
    with pytest.raises(SystemExit) as info:
        cli.main(["resume", str(run_id), "--epochs", "1", "--data-dir", str(store.data_dir)])
    assert info.value.code == 2
    assert capsys.readouterr().err.strip() == (
        f"dlapp resume: error: Run #{run_id} has no saved model to continue from; "
        "train it again with its settings instead."
    )
