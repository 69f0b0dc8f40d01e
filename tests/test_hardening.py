"""Bad input of every kind gets one sentence and leaves stored runs exactly as they were.

The per-module tests (test_config, test_cli, test_preprocess, test_modelfile) check each refusal's
wording. Here the same kinds of input - and some they do not try - go through the entry points a
person reaches (TrainingJob, the command line, the canvas, the Runs page's import), against a store
that already holds a finished run, and the store is compared before and after.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dlapp import cli
from dlapp.config import RunConfig, all_fields
from dlapp.errors import DlappError, EmptyCanvas, ModelRejected
from dlapp.jobs import TrainingJob
from dlapp.preprocess import MAX_SIDE, canvas_to_mnist
from dlapp.store import RunStore

TINY = RunConfig.from_flat(arch="mlp", hidden_units=(16,), train_subset=200, epochs=1, batch_size=64)


def assert_one_sentence(message: str, *quoted: str) -> None:
    """One line, no traceback, ends with a full stop, no second sentence (quoted user values are ignored)."""
    assert "Traceback" not in message and "\n" not in message.strip(), message
    text = message.strip()
    for value in quoted:
        text = text.replace(value, "")
    assert text.endswith("."), message
    assert not re.search(r"[.!?]\s+[A-Z]", text[:-1]), message


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> RunStore:
    """A store holding one finished run, trained for real."""
    store = RunStore(tmp_path_factory.mktemp("finished"))
    job = TrainingJob(TINY, store, name="keep me").start()
    assert job.wait(300) == "finished", job.error
    store.add_drawing(7, np.zeros((28, 28), np.float32))
    return store


def snapshot(store: RunStore) -> dict:
    """Everything stored: run rows, epoch rows, drawings, and the bytes of every model file."""
    runs = store.runs()
    return {
        "runs": runs,
        "epochs": {run.id: store.epochs(run.id) for run in runs},
        "drawings": [a.tobytes() for a in store.drawings()],
        "models": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(store.models_dir.iterdir())},
    }


@pytest.fixture
def unchanged(store):
    """Yields the store; afterwards asserts nothing in it changed."""
    before = snapshot(store)
    assert len(before["runs"]) == 1 and len(before["models"]) == 1
    yield store
    assert snapshot(store) == before


# --- run settings ------------------------------------------------------------------------------

ANY_VALUE = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=-(10**6), max_value=10**6), max_size=12),
    st.lists(st.floats(allow_nan=True), max_size=3),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(all_fields())), value=ANY_VALUE)
def test_a_job_with_any_bad_setting_is_refused_in_one_sentence_before_it_is_stored(unchanged, name, value):
    try:
        config = RunConfig().replace(**{name: value})  # may refuse already (text that is not a list of sizes)
    except ValueError as exc:
        assert_one_sentence(str(exc), repr(value), str(value))
        return
    try:
        config.validate()
    except ValueError:
        pass
    else:
        assume(False)  # a valid value: nothing to refuse
    with pytest.raises(ValueError) as info:
        TrainingJob(config, unchanged)
    assert_one_sentence(str(info.value), repr(value), str(value))
    assert name in str(info.value)


# --- command line ------------------------------------------------------------------------------


def _cli_refusal(args: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    out, err = capsys.readouterr()
    assert info.value.code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


CLI_CASES = [
    (["train", "--hidden-units", ""], "whole numbers separated by commas"),
    (["train", "--hidden-units", "1,2,3,4,5,6,7,8,9"], "--hidden-units has 9 layers; at most 8"),
    (["train", "--hidden-units", "8,,x"], "whole numbers separated by commas"),
    (["train", "--learning-rate", "inf"], "--learning-rate must be greater than 0 and at most 10; got inf"),
    (["train", "--learning-rate=-1e-3"], "--learning-rate must be greater than 0"),  # argparse reads "-1e-3" as a flag
    (["train", "--seed", "-1"], "--seed must be at least 0"),
    (["train", "--seed", "2147483648"], "--seed must be at least 0 and at most 2147483647; got 2147483648"),
    (["train", "--validation-split", "0.5"], "--validation-split must be at least 0 and less than 0.5; got 0.5"),
    (["train", "--train-subset", "-5"], "--train-subset must be at least 0"),
    (["train", "--train-subset", "60001"], "--train-subset must be at least 0 and at most 60000"),
    (["train", "--epochs", "1e3"], "invalid int value: '1e3'"),
    (["train", "--epochs", "3.5"], "invalid int value: '3.5'"),
    (
        ["train", "--arch", "cnn", "--conv-filters", "8,8,8,8,8"],
        "--conv-filters has 5 blocks, but pooling",
    ),
    (["train", "--dataset", "imagenet"], "invalid choice: 'imagenet'"),
    (["train", "--dropout", "-0.1"], "--dropout must be at least 0 and less than 1"),
    (["train", "--augment-rotation", "1e309"], "--augment-rotation must be at least 0 and at most 180; got inf"),
    (["evaluate", "-1"], "There is no run -1"),
    (["evaluate", "99999999999999999999"], "There is no run"),
    (["runs", "--colour"], "unrecognized arguments: --colour"),
]


@pytest.mark.parametrize(("args", "words"), CLI_CASES, ids=[" ".join(a) for a, _ in CLI_CASES])
def test_bad_flags_are_one_line_and_touch_nothing(unchanged, monkeypatch, capsys, args, words):
    monkeypatch.setenv("DLAPP_DATA_DIR", str(unchanged.data_dir))
    line = _cli_refusal(args, capsys)
    assert words in line, line
    assert line.startswith("dlapp")


def test_unusable_data_dir_and_output_file_are_one_line(unchanged, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DLAPP_DATA_DIR", str(unchanged.data_dir))
    (tmp_path / "file").write_text("a regular file, not a folder")
    line = _cli_refusal(["train", "--epochs", "1", "--data-dir", str(tmp_path / "file" / "data")], capsys)
    assert "Cannot create the run store" in line and "--data-dir" in line
    run_id = unchanged.runs()[0].id
    line = _cli_refusal(["export", str(run_id), "-o", str(tmp_path / "file" / "script.py")], capsys)
    assert f"Cannot write {tmp_path / 'file' / 'script.py'}" in line


# --- canvas --------------------------------------------------------------------------------------

NOT_IMAGES = [
    (None, "must hold numbers"),
    ("a digit", "must hold numbers"),
    ({"pixels": [1, 2]}, "must hold numbers"),
    ([[1, 2], [3]], "must be a rectangular array"),  # ragged: NumPy cannot make an array of it
    (np.array([[1 + 2j, 0], [0, 0]]), "must hold numbers"),
    (np.array([[object(), 1]], dtype=object), "must hold numbers"),
    (np.zeros((280, 280, 4, 1), np.uint8), "must be (height, width)"),
    (np.zeros((280, 280, 6), np.uint8), "channels"),
    (np.zeros((0, 0, 4), np.uint8), "each side must be 1 to"),
    (np.zeros((280, 0, 4), np.uint8), "each side must be 1 to"),
    (np.zeros((), np.uint8), "must be (height, width)"),
    (np.full((28, 28), np.inf, np.float32), "NaN or infinite"),
    (np.broadcast_to(np.zeros(1, np.uint8), (MAX_SIDE + 1, 10)), f"each side must be 1 to {MAX_SIDE} px"),
    (np.broadcast_to(np.zeros(1, np.uint8), (10, 10**7, 4)), f"each side must be 1 to {MAX_SIDE} px"),
]


@pytest.mark.parametrize(("canvas", "words"), NOT_IMAGES, ids=[f"case{i}" for i in range(len(NOT_IMAGES))])
def test_canvas_arrays_that_are_not_images_get_one_sentence(canvas, words):
    with pytest.raises((ValueError, DlappError)) as info:
        canvas_to_mnist(canvas)
    if words:
        assert words in str(info.value)
    assert_one_sentence(str(info.value))


@pytest.mark.parametrize(
    "canvas",
    [
        np.zeros((1, 1, 4), np.uint8),
        np.full((1, 1, 4), 255, np.uint8),  # one fully inked pixel is its own background
        np.full((280, 280, 4), 255, np.uint8),  # all ink: no background to tell it from
        np.full((280, 280), -5, np.int8),
        np.random.default_rng(0).integers(0, 3, (280, 280, 4)).astype(np.uint8),  # faint noise
    ],
    ids=["1px", "1px inked", "all ink", "negative", "faint noise"],
)
def test_canvases_without_a_digit_are_empty_not_predicted(canvas):
    with pytest.raises(EmptyCanvas) as info:
        canvas_to_mnist(canvas)
    assert_one_sentence(str(info.value))


def test_a_canvas_at_the_size_limit_and_odd_value_ranges_still_give_a_digit():
    big = np.zeros((MAX_SIDE, MAX_SIDE), np.uint8)  # 16 MB: the largest canvas dlapp accepts
    big[1000:3000, 1900:2200] = 255
    digit = canvas_to_mnist(big)
    assert digit.shape == (28, 28) and digit.dtype == np.float32 and digit.max() == 1.0
    for canvas in (
        np.where(big[::16, ::16] > 0, 1e6, 0.0),  # floats far above 255 are clipped, not overflowed
        big[::16, ::16].astype(np.int64) * 10**9,
        big[::16, ::16] > 0,  # booleans
    ):
        out = canvas_to_mnist(canvas)
        assert out.shape == (28, 28) and np.isfinite(out).all() and 0.0 <= out.min() <= out.max() <= 1.0


# --- uploaded model files ------------------------------------------------------------------------


def _keras_bytes(model, tmp_path: Path) -> bytes:
    path = tmp_path / "model.keras"
    model.save(path)
    return path.read_bytes()


def _zip(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _lambda_model():
    import keras

    inputs = keras.Input((28, 28))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x)))


def _wrong_input_model():
    import keras

    inputs = keras.Input((32, 32, 3))
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))


def _good_model():
    from dlapp.models import build_compiled

    return build_compiled(TINY)


def _config_with_os_system() -> str:
    """A Keras config whose Dense activation names `os.system`: must never be resolved, let alone run."""
    layer = {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {
            "units": 10,
            "activation": {"module": "os", "class_name": "function", "config": "system", "registered_name": "function"},
        },
    }
    return json.dumps({"module": "keras", "class_name": "Sequential", "config": {"layers": [layer]}})


UPLOADS = {
    "empty file": (lambda tmp: b"", "not a zip archive"),
    "text file": (lambda tmp: b"print('hello')\n", "not a zip archive"),
    "png image": (lambda tmp: b"\x89PNG\r\n\x1a\n" + bytes(200), "not a zip archive"),
    "zip of weights only": (lambda tmp: _zip({"model.weights.h5": b"\0" * 64}), "config.json is missing"),
    "zip with a broken config": (lambda tmp: _zip({"config.json": "{not json", "metadata.json": "{}"}), "Keras"),
    "zip naming os.system": (lambda tmp: _zip({"config.json": _config_with_os_system()}), ""),
    "truncated .keras": (lambda tmp: _keras_bytes(_good_model(), tmp)[:-300], ""),
    "lambda layer": (lambda tmp: _keras_bytes(_lambda_model(), tmp), "Lambda layer"),
    "wrong input shape": (lambda tmp: _keras_bytes(_wrong_input_model(), tmp), "not 28x28 digits"),
    "zip bomb": (lambda tmp: _zip({"config.json": "{}", "weights.bin": bytes(3 * 10**6)}), "unpacks to"),
}


@pytest.mark.parametrize("case", list(UPLOADS))
def test_bad_uploads_are_refused_in_one_sentence_and_store_nothing(unchanged, tmp_path, monkeypatch, case):
    from dlapp import modelfile

    make, words = UPLOADS[case]
    content = make(tmp_path)
    if case == "zip bomb":
        monkeypatch.setattr("dlapp.modelfile.MAX_BYTES", 100_000)  # 3 MB unpacked is over 10x this limit
    with pytest.raises(ModelRejected) as info:
        modelfile.import_model(unchanged, "upload.keras", content)
    message = str(info.value)
    assert words in message, message
    assert_one_sentence(message)
    assert not any(p.name.startswith(".tmp") for p in unchanged.models_dir.iterdir())


def test_an_upload_over_the_size_limit_is_refused_before_keras_reads_it(unchanged, tmp_path, monkeypatch):
    from dlapp import modelfile

    content = _keras_bytes(_good_model(), tmp_path)
    monkeypatch.setattr("dlapp.modelfile.MAX_BYTES", len(content) - 1)
    monkeypatch.setattr("dlapp.modelfile._load_safely", lambda path: pytest.fail("Keras was asked to read it"))
    with pytest.raises(ModelRejected, match="over the limit of") as info:
        modelfile.import_model(unchanged, "big.keras", content)
    assert_one_sentence(str(info.value))


def test_a_hostile_upload_name_cannot_choose_where_the_model_is_written(tmp_path):
    from dlapp import modelfile

    store = RunStore(tmp_path / "data")
    content = _keras_bytes(_good_model(), tmp_path)
    run_id = modelfile.import_model(store, "../../../../tmp/evil\n.keras", content)
    assert [p.name for p in store.models_dir.iterdir()] == [f"run-{run_id}.keras"]
    assert store.run(run_id).model_path == str(store.models_dir / f"run-{run_id}.keras")
    assert not Path("/tmp/evil\n.keras").exists()


# --- security settings ---------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "dlapp").glob("*.py")])


def test_streamlit_config_limits_uploads_and_keeps_xsrf_and_cors_protection():

    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert isinstance(server["maxUploadSize"], int) and 1 <= server["maxUploadSize"] <= 200  # MB
    assert server["enableXsrfProtection"] is True
    assert server.get("enableCORS", True) is True  # False would let any origin call the server
    assert "*" not in server.get("corsAllowedOrigins", [])


def _calls(tree):

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            yield name, ast.unparse(func), {k.arg: k.value for k in node.keywords}


def test_uploads_accept_only_keras_files_and_every_load_uses_safe_mode():

    uploaders, loads = [], []
    for path in SOURCES:
        for name, full, keywords in _calls(ast.parse(path.read_text(), str(path))):
            if name == "file_uploader":
                uploaders.append((path.name, ast.literal_eval(keywords["type"])))
            if full in ("keras.saving.load_model", "keras.models.load_model", "tf.keras.models.load_model"):
                loads.append((path.name, "safe_mode" in keywords and ast.literal_eval(keywords["safe_mode"])))
            assert name != "enable_unsafe_deserialization", f"{path.name} turns safe_mode off globally"
    assert uploaders and all(types in (["keras"], ("keras",), "keras") for _, types in uploaders), uploaders
    assert loads and all(safe is True for _, safe in loads), loads


def test_dlapp_never_unpickles_evaluates_or_shells_out():

    forbidden_modules = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "joblib"}
    for path in SOURCES:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & forbidden_modules, path.name
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] not in forbidden_modules, path.name
        for name, full, keywords in _calls(tree):
            assert full not in ("eval", "exec", "compile", "__import__", "os.system", "os.popen"), (path.name, full)
            assert full not in ("yaml.load", "torch.load", "pd.read_pickle"), (path.name, full)
            if "shell" in keywords:
                assert ast.literal_eval(keywords["shell"]) is False, (path.name, full)
            if name == "load" and full.startswith(("np.", "numpy.")):
                # NumPy's default is allow_pickle=False; it must never be switched on.
                assert ast.literal_eval(keywords.get("allow_pickle", ast.Constant(False))) is False, path.name


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


def test_cli_training_writes_only_under_the_data_dir(tmp_path):

    cwd, data, home, tmp = (tmp_path / name for name in ("cwd", "data", "home", "tmp"))
    for folder in (cwd, home, tmp):
        folder.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("KERAS_HOME", "XDG_CACHE_HOME", "TMPDIR")},
        "DLAPP_DATA_DIR": str(data),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "CUDA_VISIBLE_DEVICES": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "dlapp", "train", "--train-subset", "200", "--epochs", "1", "--json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(summary["model_path"]).parent.parent == data
    assert _tree(cwd) == set()
    assert _tree(tmp) == set(), _tree(tmp)  # temporary files are cleaned up
    assert all(p == ".keras" or p.startswith(".keras/") for p in _tree(home)), _tree(home)  # Keras's own config
    stored = _tree(data)
    assert {"runs.sqlite", "models", f"models/run-{summary['run_id']}.keras"} <= stored
    assert all(
        p.split("/")[0] in ("runs.sqlite", "runs.sqlite-wal", "runs.sqlite-shm", "models", "tensorboard")
        for p in stored
    ), stored
