"""`python -m dlapp`: flags from the config, one JSON line, one-line errors, Ctrl-C keeps the run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dlapp import cli, data
from dlapp.config import RunConfig, all_fields
from dlapp.store import RunStore

CLASSIFIER_KEYS = {
    "run_id",
    "status",
    "epochs_completed",
    "test_loss",
    "test_accuracy",
    "model_path",
    "seconds",
    "samples_per_second",
}
TINY = ["--dataset", "mnist-sample", "--train-subset", "300", "--epochs", "1"]


def _env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DLAPP_DATA_DIR": str(data_dir),
        "KERAS_HOME": str(data_dir / "keras"),  # an empty Keras cache: full sets need the network
        "CUDA_VISIBLE_DEVICES": "",
        "PYTHONUNBUFFERED": "1",
    }


def dlapp(data_dir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dlapp", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, dict]:
    """One tiny MLP run, shared by the tests that read runs back."""
    data_dir = tmp_path_factory.mktemp("dlapp-data")
    result = dlapp(data_dir, "train", *TINY, "--hidden-units", "32", "--name", "tiny", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    return data_dir, _last_json(result.stdout)


def test_train_prints_one_json_object_with_every_documented_key(trained):
    data_dir, summary = trained
    assert set(summary) == CLASSIFIER_KEYS
    assert summary["status"] == "finished" and summary["epochs_completed"] == 1
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and summary["test_loss"] > 0
    assert Path(summary["model_path"]).is_file()
    assert summary["seconds"] > 0 and summary["samples_per_second"] > 0
    run = RunStore(data_dir).run(summary["run_id"])
    assert run.name == "tiny" and run.config.model.hidden_units == (32,)
    assert run.config.data.train_subset == 300 and run.status == "finished"


def test_autoencoder_reports_mse_instead_of_accuracy(tmp_path):
    result = dlapp(tmp_path, "train", *TINY, "--arch", "autoencoder", "--encoder-units", "16", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = _last_json(result.stdout)
    assert set(summary) == CLASSIFIER_KEYS - {"test_accuracy"} | {"test_mse"}
    assert summary["test_mse"] >= 0 and summary["status"] == "finished"


def test_runs_lists_the_run_as_a_table_and_as_json(trained):
    data_dir, summary = trained
    table = dlapp(data_dir, "runs")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[:3] == ["id", "name", "created"]
    assert any(row.split()[:2] == [str(summary["run_id"]), "tiny"] for row in rows)
    listed = json.loads(dlapp(data_dir, "runs", "--json").stdout)
    mine = next(row for row in listed if row["id"] == summary["run_id"])
    assert mine["status"] == "finished" and mine["test_accuracy"] == pytest.approx(summary["test_accuracy"])


def test_export_writes_a_script_that_builds_the_runs_model(trained, tmp_path):
    data_dir, summary = trained
    target = tmp_path / "run.py"
    result = dlapp(data_dir, "export", str(summary["run_id"]), "-o", str(target))
    assert result.returncode == 0, result.stderr
    script = target.read_text()
    assert "TRAIN_SUBSET = 300" in script and "layers.Dense(32" in script
    to_stdout = dlapp(data_dir, "export", str(summary["run_id"]))
    assert to_stdout.stdout == script
    compile(script, str(target), "exec")


def test_evaluate_reproduces_the_stored_test_accuracy(trained):
    data_dir, summary = trained
    result = dlapp(data_dir, "evaluate", str(summary["run_id"]), "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    report = _last_json(result.stdout)
    assert report["test_accuracy"] == pytest.approx(summary["test_accuracy"], abs=1e-6)
    assert len(report["confusion"]) == 10 and sum(map(sum, report["confusion"])) == 1000


def _wrong_input_model():
    import keras

    inputs = keras.Input((32, 32, 3))  # loads fine in safe_mode; only the shape check refuses it
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))


def _lambda_model():
    import keras

    inputs = keras.Input((28, 28))
    scaled = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(scaled)))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_wrong_input_model, "The model takes inputs of shape (32, 32, 3), not 28x28 digits"),
        (_lambda_model, "The model file contains Python code (a Lambda layer), which dlapp refuses to run"),
    ],
    ids=["wrong input shape", "lambda layer"],
)
def test_evaluate_refuses_a_crafted_model_file_in_one_sentence(tmp_path, make, message):
    store = RunStore(tmp_path)
    run_id = store.create_run(RunConfig.from_flat(arch="mlp"))
    store.save_model(run_id, make())  # a stored file is checked like an upload: it may have been swapped
    store.finish_run(run_id, "finished", metrics={}, seconds=1.0, samples_per_second=1.0)
    result = dlapp(tmp_path, "evaluate", str(run_id))
    assert result.returncode == 2, result.stderr
    # TensorFlow's own start-up log lines come first (its C++ logging); dlapp says one line, last.
    line = result.stderr.strip().splitlines()[-1]
    assert [text for text in result.stderr.splitlines() if text.startswith("dlapp")] == [line]
    assert line.startswith(f"dlapp evaluate: error: {message}") and line.endswith(".")
    assert line.removeprefix("dlapp evaluate: error: ").count(". ") == 0  # one sentence
    assert "Traceback" not in result.stderr and result.stdout == ""


def _network_reachable() -> bool:
    try:
        socket.create_connection(data.DOWNLOAD_HOST, timeout=2).close()
        return True
    except OSError:
        return False


BAD_ARGS = [
    (["train", "--colour", "red"], "unrecognized arguments: --colour"),
    (["train", "--epoch", "3"], "unrecognized arguments: --epoch"),  # no silent abbreviations
    (["train", "--epochs", "0"], "--epochs must be at least 1 and at most 500; got 0"),
    (["train", "--epochs", "501"], "--epochs must be at least 1 and at most 500; got 501"),
    (["train", "--dropout", "2"], "--dropout must be at least 0 and less than 1; got 2.0"),
    (["train", "--learning-rate", "0"], "--learning-rate must be greater than 0"),
    (["train", "--learning-rate", "nan"], "--learning-rate must be a number; got nan"),
    (["train", "--batch-size", "8193"], "--batch-size must be at least 1 and at most 8192"),
    (["train", "--hidden-units", "abc"], "hidden_units must be whole numbers separated by commas"),
    (["train", "--hidden-units", "0"], "--hidden-units must be at least 1 and at most 4096; got 0"),
    (["train", "--hidden-units", "64,5000"], "at most 4096; got 5000"),
    (["train", "--arch", "vit"], "invalid choice: 'vit'"),
    (["train", "--optimizer", "adagrad"], "invalid choice: 'adagrad'"),
    (["train", "--epochs", "two"], "invalid int value: 'two'"),
    (["train", "--batch-norm", "yes"], "unrecognized arguments: yes"),
    (["train", "--name", "first\nsecond"], "argument --name: A run name must fit on one line"),
    (["train", "--name", "x" * 101], "argument --name: A run name can be at most 100 characters; this one has 101"),
    (["evaluate", "999"], "There is no run 999"),
    (["export", "999"], "There is no run 999"),
    (["evaluate", "first"], "invalid int value: 'first'"),
    (["fly"], "invalid choice: 'fly'"),
    ([], "the following arguments are required: COMMAND"),
]


@pytest.mark.parametrize(("args", "message"), BAD_ARGS, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_bad_arguments_exit_2_with_one_line_and_no_traceback(tmp_path, args, message):
    result = dlapp(tmp_path, *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0] and lines[0].startswith("dlapp")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not RunStore(tmp_path).runs()  # nothing was stored


@pytest.mark.skipif(_network_reachable(), reason="the download host is reachable, so MNIST would download")
def test_offline_full_dataset_exits_2_with_one_line_and_stores_nothing(tmp_path):
    result = dlapp(tmp_path, "train", "--dataset", "fashion_mnist", "--epochs", "1", "--json")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not be downloaded" in lines[0] and "mnist-sample" in lines[0]
    assert "Traceback" not in result.stderr
    assert not RunStore(tmp_path).runs()


def test_sigint_during_training_stops_the_job_and_keeps_the_run(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "dlapp", "train", "--train-subset", "2000", "--epochs", "200", "--batch-size", "32"]
        + ["--hidden-units", "32", "--json"],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = []
        for line in process.stderr:  # plain progress lines, since stderr is not a terminal
            seen.append(line)
            if line.startswith("epoch 1/200"):
                process.send_signal(signal.SIGINT)
                break
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert any(line.startswith("epoch 1/200") for line in seen), "".join(seen)[-2000:]
    assert process.returncode == cli.EXIT_INTERRUPTED
    assert "Traceback" not in stderr
    summary = _last_json(stdout)
    assert summary["status"] == "stopped" and 1 <= summary["epochs_completed"] < 200
    run = RunStore(tmp_path).run(summary["run_id"])
    assert run.status == "stopped" and run.model_path and Path(run.model_path).is_file()


# --- the parser itself, in process --------------------------------------------------------


def test_every_config_field_has_a_flag_with_dashes():
    parser = cli.build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    flags = {option for action in train._actions for option in action.option_strings}
    for name in all_fields():
        assert "--" + name.replace("_", "-") in flags, name
    assert {"--no-batch-norm", "--no-bidirectional", "--no-augment", "--data-dir", "--name", "--json"} <= flags


def test_flags_become_a_validated_config_and_unset_flags_keep_defaults():
    args = cli.build_parser().parse_args(
        ["train", "--arch", "cnn", "--conv-filters", "8,16", "--batch-norm", "--learning-rate", "0.01"]
        + ["--no-augment", "--validation-split", "0.2", "--epochs", "3"]
    )
    config = cli.config_from_args(args)
    expected = RunConfig.from_flat(
        arch="cnn", conv_filters=(8, 16), batch_norm=True, learning_rate=0.01, augment=False, validation_split=0.2
    ).replace(epochs=3)
    assert config == expected
    assert cli.config_from_args(cli.build_parser().parse_args(["train"])) == RunConfig()
