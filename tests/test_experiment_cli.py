"""`dlapp sweep`, `tune`, `experiments` and `runs --csv`: one JSON object last, exit 2 on bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlapp.cli import main

TINY = ["--arch", "mlp", "--hidden-units", "16", "--train-subset", "200", "--epochs", "1", "--batch-size", "64"]


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (["sweep", "--vary", "optimizer=sgd,adam", "--vary", "dropout=0,1.5"], "dropout must be at least 0"),
        (["sweep", "--vary", "optimizer="], "optimizer has no values"),
        (["sweep", "--vary", "latent_dim=2,3"], "latent_dim does not apply to the mlp architecture"),
        (["sweep"], "Give at least one --vary"),
        (["tune", "--search", "learning_rate=1e-2:1e-4"], "learning_rate's range 0.01:0.0001 has its low end"),
        (["tune", "--search", "learning_rate=0:1e-2:log"], "touches 0"),
        (["tune", "--search", "dropout=0:0.5", "--trials", "65"], "trials must be from 1 to 64; got 65."),
        (["sweep", "--vary", "seed=" + ",".join(map(str, range(65)))], "This grid makes 65 runs"),
    ],
)
def test_bad_experiment_input_exits_2_with_one_sentence_and_stores_nothing(tmp_path, capsys, argv, sentence):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, *TINY, "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert sentence in err and len(err.strip().splitlines()) == 1
    main(["runs", "--json", "--data-dir", str(tmp_path)])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == []


def test_sweep_prints_one_json_object_and_the_runs_export_as_csv(tmp_path, capsys):
    data_dir = ["--data-dir", str(tmp_path)]
    code = main(["sweep", *TINY, "--vary", "optimizer=sgd,adam", "--json", *data_dir])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0
    assert set(result) == {"experiment_id", "status", "best_run_id", "runs"}
    assert result["status"] == "finished"
    assert [run["settings"] for run in result["runs"]] == [{"optimizer": "sgd"}, {"optimizer": "adam"}]
    assert all(set(run) == {"run_id", "status", "settings", "test_accuracy", "seconds"} for run in result["runs"])
    best = max(result["runs"], key=lambda run: run["test_accuracy"])
    assert result["best_run_id"] == best["run_id"]

    main(["experiments", *data_dir])
    assert "grid" in capsys.readouterr().out
    main(["experiments", str(result["experiment_id"]), "--csv", *data_dir])
    board = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["optimizer"] for row in board] == ["sgd", "adam"]
    main(["runs", "--csv", "--epochs", *data_dir])
    epochs = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sorted(int(row["run"]) for row in epochs) == sorted(run["run_id"] for run in result["runs"])
    assert {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"} <= set(epochs[0])


def test_ctrl_c_stops_the_experiment_and_keeps_its_runs(tmp_path):
    root = Path(__file__).resolve().parents[1]
    argv = [*TINY[:-4], "--epochs", "200", "--batch-size", "64", "--vary", "seed=1,2", "--json"]
    command = [sys.executable, "-m", "dlapp", "sweep", *argv, "--data-dir", str(tmp_path)]
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        for line in process.stderr:  # progress lines; interrupt once the first run has an epoch
            if re.search(r"epoch [1-9]\d*/200", line):
                break
            assert time.monotonic() < deadline, "the sweep never reported an epoch"
        os.kill(process.pid, signal.SIGINT)
        out, _ = process.communicate(timeout=300)
    finally:
        process.kill()
    result = json.loads(out.strip().splitlines()[-1])
    assert process.returncode == 130
    assert result["status"] == "stopped"
    assert [run["status"] for run in result["runs"]] == ["stopped", "stopped"]


def test_the_experiment_bench_refuses_zero_rounds(capsys):
    from dlapp.tools import bench_experiments

    with pytest.raises(SystemExit) as exit_info:
        bench_experiments.main(["--rounds", "0"])
    assert exit_info.value.code == 2 and "--rounds and --epochs must be at least 1." in capsys.readouterr().err
