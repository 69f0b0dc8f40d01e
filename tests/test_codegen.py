"""Generated scripts build exactly the model dlapp builds, and run on their own."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from model_helpers import layer_types

from dlapp import data, models
from dlapp.codegen import DATA_ENV, generate_script
from dlapp.config import RunConfig

CONFIGS = [
    dict(arch="mlp"),
    dict(arch="mlp", hidden_units=(64, 32), batch_norm=True, dropout=0.0, l2=1e-4, activation="gelu"),
    dict(arch="mlp", loss="mse", hidden_units=(32,)),
    dict(arch="mlp", hidden_units=(16,), augment=True, augment_rotation=30.0, optimizer="sgd", momentum=0.5),
    dict(arch="cnn"),
    dict(arch="cnn", conv_filters=(8, 16, 16), pooling="avg", dense_units=0, batch_norm=True, kernel_size=5),
    dict(arch="cnn", conv_filters=(4, 4), pooling="none", dense_units=0, dropout=0.0, l2=0.01, augment=True),
    dict(arch="cnn", conv_filters=(4,), dense_units=32, batch_norm=True, augment=True, optimizer="adamw"),
    dict(arch="cnn", conv_filters=(4,), augment=True, augment_thickness=0.5, augment_elastic=1.5),
    dict(arch="cnn", conv_filters=(4,), augment=True, augment_elastic=1.0, bend=3.0),
    dict(arch="cnn", conv_filters=(4,), bend=0.0),
    dict(arch="cnn", conv_filters=(4,), augment=True, augment_top_bottom=0.5),
    dict(arch="cnn", conv_filters=(4,), deskew=False),
    dict(arch="cnn", conv_filters=(4,), label_smoothing=0.1, lr_schedule="cosine"),
    dict(arch="mlp", hidden_units=(8,), lr_schedule="cosine", optimizer="sgd"),
    dict(arch="mlp", hidden_units=(8,), augment=True, augment_elastic=1.0),
    dict(arch="rnn"),
    dict(arch="rnn", rnn_cell="gru", rnn_units=(16, 8), bidirectional=True, dropout=0.0),
    dict(arch="rnn", rnn_cell="simple", rnn_units=(8, 8, 8), augment=True, l2=0.001, optimizer="rmsprop"),
    dict(arch="rnn", rnn_cell="gru", rnn_units=(8,), loss="mse"),
    dict(arch="autoencoder"),
    dict(arch="autoencoder", encoder_units=(32, 16, 8), latent_dim=3, activation="tanh", reconstruction_loss="mse"),
    dict(arch="autoencoder", encoder_units=(8,), l2=0.1, augment=True),  # augment is ignored, as in dlapp
    dict(arch="resnet"),
    dict(arch="resnet", resnet_stages=3, resnet_blocks=2, resnet_width=4, dropout=0.0, l2=1e-3),
    dict(arch="resnet", resnet_stages=1, resnet_blocks=3, resnet_width=8, augment=True, activation="elu"),
]


def _script_namespace(config: RunConfig) -> dict:
    namespace = {"__name__": "generated_script"}  # not __main__, so nothing trains
    exec(compile(generate_script(config), "<generated>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("flat", CONFIGS, ids=lambda flat: "-".join(str(v) for v in flat.values())[:60])
def test_generated_build_model_matches_dlapp_layer_for_layer(flat):
    config = RunConfig.from_flat(**flat)
    namespace = _script_namespace(config)
    theirs = namespace["build_model"]()
    ours = models.build_model(config.model)
    assert layer_types(theirs) == layer_types(ours)
    assert theirs.count_params() == ours.count_params()
    assert theirs.name == ours.name
    assert theirs.input_shape == ours.input_shape and theirs.output_shape == ours.output_shape
    assert len(theirs.losses) == len(ours.losses)  # one L2 penalty per regularised layer
    loss, metrics = models.loss_and_metrics(config)
    compiled = namespace["compile_model"](theirs)
    # dlapp one-hots integer labels inside its MSE and smoothed losses; the script one-hots the targets and uses
    # Keras's own losses.
    if isinstance(loss, models.SmoothedCrossentropy):
        assert compiled.loss.get_config()["label_smoothing"] == pytest.approx(loss.smoothing)
    else:
        assert compiled.loss == ("mean_squared_error" if isinstance(loss, models.OneHotMSE) else loss)
    assert type(compiled.optimizer) is type(models.make_optimizer(config.train))
    assert float(compiled.optimizer.learning_rate.numpy()) == pytest.approx(config.train.learning_rate)
    assert namespace["INPUT_SHAPE"] == data.input_shape(config.model.arch)
    assert (namespace["EPOCHS"], namespace["BATCH_SIZE"]) == (config.train.epochs, config.train.batch_size)
    assert [m if isinstance(m, str) else m.name for m in compiled._compile_config.config["metrics"]] == metrics


def test_script_carries_the_run_settings_and_notes_the_sample():
    config = RunConfig.from_flat(epochs=7, batch_size=64, validation_split=0.2, seed=3, learning_rate=0.01)
    script = generate_script(config)
    for line in ("EPOCHS = 7", "BATCH_SIZE = 64", "VALIDATION_SPLIT = 0.2", "SEED = 3", "LEARNING_RATE = 0.01"):
        assert line in script
    assert 'DATASET = "mnist"' in script and "5,000" in script
    assert 'if __name__ == "__main__":' in script
    fashion = generate_script(RunConfig.from_flat(dataset="fashion_mnist"))
    assert 'DATASET = "fashion_mnist"' in fashion and "5,000" not in fashion
    assert "pen digits" not in script
    assert "1,500 real writers' pen digits" in generate_script(config.replace(pen_digits=1500))


def test_invalid_configs_are_refused_before_any_code_is_written():
    with pytest.raises(ValueError, match="dropout"):
        generate_script(RunConfig.from_flat(dropout=2.0))
    with pytest.raises(ValueError, match="activation"):
        generate_script(RunConfig.from_flat(activation='relu"); import os; os.system("echo pwned'))


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_generated_scripts_are_ruff_clean(tmp_path):
    paths = []
    for i, flat in enumerate(CONFIGS):
        path = tmp_path / f"script_{i}.py"
        path.write_text(generate_script(RunConfig.from_flat(**flat)))
        paths.append(str(path))
    settings = ["--config", str(Path(__file__).resolve().parents[1] / "pyproject.toml")]
    for command in (["ruff", "check", "--no-cache", "--select", "E,F,W,I,B,UP,RUF"], ["ruff", "format", "--check"]):
        result = subprocess.run([*command, *settings, *paths], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("arch", ["cnn", "autoencoder", "mlp-mse"])
def test_generated_script_trains_end_to_end_on_a_local_npz(tmp_path, arch):
    raw = data.load_raw("mnist-sample")
    npz = tmp_path / "digits.npz"
    np.savez(
        npz,
        x_train=raw.x_train[:300],
        y_train=raw.y_train[:300],
        x_test=raw.x_test[:100],
        y_test=raw.y_test[:100],
    )
    # The CNN trains under bfloat16, so the script's policy line is run for real, not only read.
    small = {
        # ... and with label smoothing and a cosine learning rate, whose one-hot targets and step count it makes.
        "cnn": dict(
            arch="cnn",
            conv_filters=(4,),
            dense_units=8,
            precision="mixed_bfloat16",
            label_smoothing=0.1,
            lr_schedule="cosine",
        ),
        "autoencoder": dict(arch="autoencoder", encoder_units=(16,)),
        "mlp-mse": dict(arch="mlp", hidden_units=(16,), loss="mse"),
    }[arch]
    config = RunConfig.from_flat(epochs=1, train_subset=200, batch_size=50, early_stopping=1, **small)
    script = tmp_path / "train_it.py"
    script.write_text(generate_script(config))
    env = {**os.environ, DATA_ENV: str(npz), "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, str(script), "--output", "trained.keras"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "test loss" in result.stdout
    assert ("test mse" if arch == "autoencoder" else "test accuracy") in result.stdout
    reloaded = keras.saving.load_model(tmp_path / "trained.keras")
    assert reloaded.count_params() == models.build_model(config.model).count_params()
    weighted = next(layer for layer in reloaded.layers if layer.weights)  # the first conv or dense layer
    assert weighted.dtype_policy.name == ("mixed_bfloat16" if arch == "cnn" else "float32")
    assert reloaded.outputs[0].dtype == "float32"


def test_script_sets_the_policy_the_run_used_not_auto():
    config = RunConfig.from_flat(precision="auto")
    assert 'PRECISION = "mixed_float16"' in generate_script(config, "mixed_float16")
    resolved = re.search(r'^PRECISION = "(\w+)"', generate_script(config), re.M).group(1)
    assert resolved in ("float32", "mixed_bfloat16", "mixed_float16")
