"""`python -m dlapp bench`: one run gives every measurement, as a table and one JSON line.

No timed assertions: the machine is shared, so the numbers are only checked to exist and be positive.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dlapp.tools import bench, bench_latency

ROOT = Path(__file__).resolve().parents[1]


def _numbers(node, path=""):
    """Every number in a nested dict/list, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numbers(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _numbers(value, f"{path}[{index}]")
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, node


def test_bench_prints_a_table_and_one_json_object_with_every_measurement(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dlapp", "bench", "--json", "--archs", "mlp", "--train-subset", "200"]
        + ["--epochs", "1", "--batch-size", "64", "--rounds", "1", "--calls", "10"]
        + ["--precisions", "auto,float32", "--seeds", "1", "--timing-size", "300"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = result.stdout.strip().splitlines()
    results = json.loads(lines[-1])
    table = "\n".join(lines[:-1])
    assert "| measurement | value | target | met |" in table and "mlp: job / bare fit, samples per CPU s" in table

    assert set(results) == {
        "machine",
        "settings",
        "targets",
        "sample_load",
        "build_s",
        "throughput",
        "stop_s",
        "latency_ms",
        "first_batch_s",
        "peak_rss_mb",
        "instruments",
        "speedup",
        "accuracy",
        "epoch_time",
        "ok",
    }
    machine = results["machine"]
    assert {"nproc", "cpu_model", "ram_gb", "tensorflow", "keras", "python"} <= set(machine)
    assert machine["nproc"] >= 1 and machine["tensorflow"] and machine["cpu_model"]
    assert results["settings"]["archs"] == ["mlp"] and results["settings"]["train_subset"] == 200
    throughput_keys = {"bare_sps", "job_sps", "ratio", "paired_ratio", "cpu_ratio", "bare_runs", "job_runs"}
    assert set(results["throughput"]["mlp"]) == throughput_keys | {"bare_cpu_sps", "job_cpu_sps"}
    assert set(results["latency_ms"]) == {
        "canvas_median",
        "canvas_p95",
        "preprocess_median",
        "saliency_median",
        "saliency_p95",
    }
    assert set(results["sample_load"]) == {"load_s", "import_s"}
    assert set(results["build_s"]) == {"mlp"} and set(results["peak_rss_mb"]) == {"mlp"}
    assert {"warm", "cold"} <= set(results["first_batch_s"])
    assert {"loop_s", "ended_s"} <= set(results["stop_s"]["mlp"]) and "mlp: Stop -> training loop stops" in table
    verdicts = {"throughput_mlp", "canvas", "saliency", "sample_load", "build_mlp", "first_batch", "speedup_mlp"}
    verdicts |= {"stop_mlp", "instruments_mlp"}
    # Accuracy is judged only where auto resolves to a reduced precision (a bf16 CPU or a GPU).
    assert verdicts <= set(results["ok"]) and set(results["ok"]) - verdicts <= {"accuracy_mlp_auto"}
    speed = results["speedup"]["mlp"]
    assert set(speed) == {"auto", "float32"} and {"cpu_ratio", "ratio", "paired_ratio"} <= set(speed["auto"])
    assert results["accuracy"]["mlp"]["float32"]["policy"] == "float32"
    assert len(results["accuracy"]["mlp"]["auto"]["runs"]) == 1
    assert results["epoch_time"]["mlp"]["images"] == 300 and "one epoch on 300 timing images" in table
    assert set(results["instruments"]) == {"mlp"} and "mlp: per-epoch instruments / epoch, CPU s" in table
    assert all(isinstance(v, bool) for v in results["ok"].values())

    numbers = dict(_numbers({k: v for k, v in results.items() if k not in ("settings", "machine")}))
    assert len(numbers) >= 15
    bad = {path: value for path, value in numbers.items() if not value > 0}
    assert not bad, bad
    # Nothing is left behind in the working directory: the bench stores its runs in a temporary folder.
    assert list(tmp_path.iterdir()) == []


def test_bad_bench_flags_exit_2_with_one_line(tmp_path):
    for args, words in [
        (["--archs", "vgg"], "--archs must be a comma-separated list of mlp, cnn"),
        (["--archs", ""], "--archs must be"),
        (["--epochs", "0"], "--epochs must be at least 1; got 0"),
        (["--rounds", "-1"], "--rounds must be at least 1"),
        (["--batch-size", "9000"], "--batch-size must be at least 1 and at most 8192"),
        (["--train-subset", "two"], "invalid int value: 'two'"),
        (["--precisions", "bf16"], "--precisions must be a comma-separated list of auto, float32"),
        (["--seeds", "11"], "--seeds must be 0 to 10; got 11"),
        (["--timing-size", "-1"], "--timing-size must be 0 to 60000 images"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "dlapp", "bench", *args],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], (args, result.stderr)
        assert result.stdout == ""


def test_percentile_and_markdown_helpers():
    assert bench_latency._percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert bench_latency._percentile(list(range(101)), 95) == 95.0
    assert bench.parse_archs(" mlp, cnn ") == ("mlp", "cnn")
