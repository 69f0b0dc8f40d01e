"""Per-layer statistics in a real training job: stored with each epoch, sent with its event, logged for
TensorBoard; and a store made before them still opens and reads."""

from __future__ import annotations

import json
import sqlite3

import pytest

from dlapp.config import RunConfig
from dlapp.jobs import TrainingJob
from dlapp.store import RunStore
from tests.model_helpers import tensorboard_tags, tensorboard_tensors

SMALL = RunConfig.from_flat(arch="cnn", conv_filters=(4,), dense_units=8, train_subset=300, epochs=2, batch_size=32)


def test_every_epoch_row_and_event_carries_each_layers_statistics(tmp_path):
    store = RunStore(tmp_path)
    job = TrainingJob(SMALL, store)
    assert job.start().wait(300) == "finished", job.error

    epochs = store.epochs(job.run_id)
    assert [e["epoch"] for e in epochs] == [0, 1]
    for epoch in epochs:
        names = list(epoch["layers"])
        assert len(names) == 3 and names[0].startswith("conv2d") and names[-1] == "probabilities"
        for stats in epoch["layers"].values():
            assert stats["grad_norm"] > 0 and stats["weight_norm"] > 0
            assert len(stats["hist"]["counts"]) == 30 and len(stats["hist"]["edges"]) == 31
    events = [e.data for e in job.events_since(0) if e.kind == "epoch"]
    assert [e["layers"] for e in events] == [e["layers"] for e in epochs]  # the live chart needs no store read
    assert epochs[0]["layers"] != epochs[1]["layers"]  # the weights moved

    tags = tensorboard_tags(store.tensorboard_dir(job.run_id) / "train")
    first = names[0]
    assert {f"grad_norm/{first}", f"weight_norm/{first}", f"weights/{first}", "grad_norm/probabilities"} <= tags
    histograms = tensorboard_tensors(store.tensorboard_dir(job.run_id) / "train", f"weights/{first}")
    assert len(histograms) == 2  # one per epoch, read by TensorBoard's histogram plugin
    for buckets, stats in zip(histograms, (e["layers"][first] for e in epochs), strict=True):
        assert buckets.shape == (30, 3)
        assert buckets[:, 2].tolist() == stats["hist"]["counts"]  # the probe's counts, as the app shows them
        assert buckets[:, 2].sum() == 3 * 3 * 1 * 4  # every weight of the 3x3 kernels, 1 channel in, 4 filters


def test_a_job_can_train_without_instruments(tmp_path):
    store = RunStore(tmp_path)
    job = TrainingJob(SMALL.replace(epochs=1), store, instruments=False)
    assert job.start().wait(300) == "finished", job.error
    assert "layers" not in store.epochs(job.run_id)[0]


def test_a_store_made_before_layer_statistics_opens_and_reads(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(RunConfig(), "old run")
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:  # the epochs table as it was: no layers column
        db.execute("DROP TABLE epochs")
        db.execute("CREATE TABLE epochs (run_id INTEGER NOT NULL, epoch INTEGER NOT NULL, logs TEXT NOT NULL)")
        db.execute("INSERT INTO epochs VALUES (?, 0, ?)", (run_id, json.dumps({"loss": 0.5})))

    reopened = RunStore(tmp_path)
    assert reopened.epochs(run_id) == [{"epoch": 0, "loss": 0.5}]  # no "layers": the views say so
    layers = {"dense": {"grad_norm": 0.1, "weight_norm": 2.0, "hist": {"edges": [0.0, 1.0], "counts": [3]}}}
    reopened.add_epoch(run_id, 1, {"loss": 0.4}, layers=layers)
    assert reopened.epochs(run_id)[1] == {"epoch": 1, "loss": pytest.approx(0.4), "layers": layers}
