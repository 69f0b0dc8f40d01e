"""Load a `.keras` model file someone uploaded, or refuse it with one sentence; keep it as a run.

The checks run cheapest first: size, zip archive, Keras config inside, no Python
code, then Keras itself in `safe_mode`, then the shapes a digit model must have.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from dlapp.errors import ModelRejected

MAX_BYTES = 50 * 1024 * 1024  # bigger than any model dlapp trains by two orders of magnitude
UNPACK_FACTOR = 10  # an archive that unpacks to more than 10x the size limit is a zip bomb, not a model
DIGIT_INPUTS = ((28, 28), (28, 28, 1))
ACCEPTED_OUTPUTS = ((10,), (28, 28), (28, 28, 1))  # 10 classes, or an autoencoder's image
LAMBDA_MESSAGE = (
    "The model file contains Python code (a Lambda layer), which dlapp refuses to run; "
    "rebuild the model without Lambda layers."
)
SAVE_HINT = "save one with model.save('name.keras')"


def load_model_file(path: str | Path, max_bytes: int = MAX_BYTES, *, with_optimizer: bool = False):
    """A checked `keras.Model` from a `.keras` file; raises ModelRejected with one sentence.

    with_optimizer: also restore the compiled optimizer with its state (Adam's moments, the
    step count), as continuing a run needs; prediction and evaluation do not.
    """
    path = Path(path)
    _check_archive(path, max_bytes)
    model = _load_safely(path, with_optimizer)
    _check_shapes(model)
    return model


def import_model(store, filename: str, content: bytes) -> int:
    """Check uploaded `.keras` bytes and keep them in `store` as a finished run; returns its id.

    The run's architecture is the model's own name when dlapp built it, else a guess from
    its shapes that picks the right input layout (the pages only rely on that layout).
    """
    from dlapp.config import ARCHITECTURES, RunConfig
    from dlapp.data import arch_for_input

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.keras"  # never the uploaded name: it is not ours to trust
        path.write_bytes(content)
        model = load_model_file(path, max_bytes=MAX_BYTES)  # read at call time: the limit is configurable
    if model.name in ARCHITECTURES:
        arch = model.name
    elif tuple(model.output_shape[1:]) != (10,):
        arch = "autoencoder"
    else:
        arch = arch_for_input(model.input_shape)
    title = " ".join(Path(filename).stem.split())[:60] or "model"  # one line: the run name must fit on one
    run_id = store.create_run(RunConfig.from_flat(arch=arch, dataset="mnist-sample"), name=f"imported {title}")
    store.save_model(run_id, model)
    store.finish_run(run_id, "finished", metrics={}, seconds=0.0, samples_per_second=0.0)
    store.set_tags(run_id, ["imported"])
    return run_id


def _check_archive(path: Path, max_bytes: int) -> None:
    if not path.is_file():
        raise ModelRejected(f"There is no model file at {path}; choose an existing .keras file.")
    size = path.stat().st_size
    if size > max_bytes:
        raise ModelRejected(
            f"The model file is {_size(size)}, over the limit of {_size(max_bytes)}; upload a smaller model."
        )
    if not zipfile.is_zipfile(path):
        raise ModelRejected(f"The file is not a Keras model (not a zip archive); {SAVE_HINT}.")
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if "config.json" not in archive.namelist():
                raise ModelRejected(f"The zip archive holds no Keras model (config.json is missing); {SAVE_HINT}.")
            config_text = archive.read("config.json").decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelRejected(f"The model file is a damaged zip archive ({exc}); save the model again.") from exc
    if unpacked > UNPACK_FACTOR * max_bytes:
        raise ModelRejected(f"The model file unpacks to {_size(unpacked)}, far over the limit of {_size(max_bytes)}.")
    if _mentions_lambda(config_text):
        raise ModelRejected(LAMBDA_MESSAGE)


def _mentions_lambda(config_text: str) -> bool:
    """Whether any layer in the saved config is a Lambda (checked before Keras deserialises anything)."""
    try:
        config = json.loads(config_text)
    except json.JSONDecodeError:
        return False  # Keras will reject the broken config with its own error below

    def walk(node) -> bool:
        if isinstance(node, dict):
            return node.get("class_name") == "Lambda" or any(walk(value) for value in node.values())
        if isinstance(node, list):
            return any(walk(item) for item in node)
        return False

    return walk(config)


def _load_safely(path: Path, with_optimizer: bool = False):
    import keras  # lazy: the pages that list runs should not pay for TensorFlow

    import dlapp.augment  # noqa: F401  registers dlapp's own augmentation layers, which saved models contain

    # Keras picks the format by file name; an upload may arrive as "upload.zip" or a temp name.
    with tempfile.TemporaryDirectory() as folder:
        keras_path = path if path.suffix == ".keras" else Path(shutil.copy(path, Path(folder) / "model.keras"))
        try:
            return keras.saving.load_model(keras_path, safe_mode=True, compile=with_optimizer)
        except ValueError as exc:
            if "safe_mode" in str(exc) or "Lambda" in str(exc):
                raise ModelRejected(LAMBDA_MESSAGE) from exc
            raise ModelRejected(f"Keras could not read the model file ({_first_line(exc)}).") from exc
        except TypeError as exc:  # custom classes Keras does not know
            raise ModelRejected(
                f"The model uses layers or objects dlapp does not know ({_first_line(exc)}); use built-in Keras layers."
            ) from exc
        except Exception as exc:  # damaged weights, truncated archive
            raise ModelRejected(f"Keras could not read the model file ({_first_line(exc)}).") from exc


def _check_shapes(model) -> None:
    inputs, outputs = model.input_shape, model.output_shape
    if isinstance(inputs, list) or isinstance(outputs, list):
        raise ModelRejected("The model has several inputs or outputs; dlapp needs one 28x28 image in, one result out.")
    if tuple(inputs[1:]) not in DIGIT_INPUTS:
        raise ModelRejected(
            f"The model takes inputs of shape {tuple(inputs[1:])}, not 28x28 digits; it needs (28, 28) or (28, 28, 1)."
        )
    if tuple(outputs[1:]) not in ACCEPTED_OUTPUTS:
        raise ModelRejected(
            f"The model outputs shape {tuple(outputs[1:])}; dlapp needs 10 class scores or a 28x28 reconstruction."
        )


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.1f} MB" if n_bytes >= 2**20 else f"{n_bytes:,} bytes"


def _first_line(exc: BaseException) -> str:
    """Keras's first sentence only, so the refusal stays one sentence."""
    text = str(exc).strip().splitlines()
    first = (text[0] if text else type(exc).__name__).split(". ", 1)[0]
    return first[:160].rstrip(".")
