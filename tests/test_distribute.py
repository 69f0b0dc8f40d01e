"""Strategy choice. The mirrored path runs in a child process that splits the CPU into two
logical devices, which TensorFlow allows only before it initialises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dlapp.distribute import pick_strategy, strategy_choice

REPO = Path(__file__).resolve().parents[1]

MIRRORED_CHILD = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    from dlapp.config import RunConfig
    from dlapp.jobs import TrainingJob
    from dlapp.store import RunStore

    config = RunConfig.from_flat(arch="mlp", hidden_units=(16,), train_subset=300, epochs=2, batch_size=32)
    job = TrainingJob(config, RunStore(sys.argv[1])).start()
    job.wait()
    print(json.dumps({"replicas": job.replicas, "error": job.error, "summary": job.summary,
                      "epochs": [e.data for e in job.events_since(0) if e.kind == "epoch"]}))
    """
)


def test_mirrored_strategy_trains_on_two_logical_cpus(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "DLAPP_STRATEGY": "mirrored"}
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED_CHILD, str(tmp_path)], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["error"] is None
    assert report["replicas"] == 2
    assert report["summary"]["status"] == "finished" and report["summary"]["epochs_completed"] == 2
    assert [e["epoch"] for e in report["epochs"]] == [0, 1]
    assert Path(report["summary"]["model_path"]).exists()


def test_without_gpus_auto_and_default_use_one_replica(monkeypatch):
    monkeypatch.delenv("DLAPP_STRATEGY", raising=False)
    assert strategy_choice() == "auto"
    assert pick_strategy().num_replicas_in_sync == 1
    assert pick_strategy("default").num_replicas_in_sync == 1


def test_an_unknown_strategy_is_one_sentence(monkeypatch):
    monkeypatch.setenv("DLAPP_STRATEGY", "tpu")
    with pytest.raises(ValueError, match="DLAPP_STRATEGY='tpu' is not a strategy; set it to default or mirrored"):
        strategy_choice()
