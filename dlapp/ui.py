"""Streamlit helpers shared by the pages: `render_<thing>(...) -> None` plus a few cached loaders.

The only dlapp module that imports Streamlit. Nothing here imports TensorFlow at
module level (the home page imports this module and must stay fast); functions
that need Keras import it when called.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from dlapp import plots
from dlapp.config import RunConfig, all_fields, describe_range
from dlapp.data import DATASETS, dataset_info, is_cached
from dlapp.errors import DlappError

if TYPE_CHECKING:
    from dlapp.store import Run, RunStore

ACTIVE = ("queued", "running")
STATUS_ICONS = {
    "queued": "⏳",
    "running": "🏃",
    "finished": "✅",
    "stopped": "⏹️",
    "failed": "❌",
    "interrupted": "⚠️",
}
ARCH_TITLES = {
    "mlp": "MLP (dense layers)",
    "cnn": "CNN (convolutions)",
    "rnn": "RNN (rows as a sequence)",
    "autoencoder": "Autoencoder",
    "resnet": "Small ResNet",
}
LABELS = {
    "hidden_units": "Hidden layer sizes",
    "conv_filters": "Filters per conv block",
    "rnn_units": "Units per recurrent layer",
    "encoder_units": "Encoder layer sizes",
    "rnn_cell": "RNN cell",
    "l2": "L2 weight penalty",
    "latent_dim": "Latent size",
    "resnet_stages": "Stages",
    "resnet_blocks": "Blocks per stage",
    "resnet_width": "Width of first stage",
    "augment": "Augment while training",
    "augment_shift": "Max shift",
    "augment_rotation": "Max rotation (°)",
    "augment_zoom": "Max zoom",
    "train_subset": "Training subset size (0 = all)",
    "early_stopping": "Early stopping patience (0 = off)",
}
# Model fields each architecture uses (mirrors dlapp.models.BUILDER_FIELDS, which imports Keras).
ARCH_FIELDS = {
    "mlp": ("hidden_units", "activation", "dropout", "batch_norm", "l2"),
    "cnn": ("conv_filters", "kernel_size", "pooling", "dense_units", "activation", "dropout", "batch_norm", "l2"),
    "rnn": ("rnn_cell", "rnn_units", "bidirectional", "dropout", "l2"),
    "autoencoder": ("encoder_units", "latent_dim", "reconstruction_loss", "activation", "l2"),
    "resnet": ("resnet_stages", "resnet_blocks", "resnet_width", "activation", "dropout", "l2"),
}
TRAIN_FIELDS = ("optimizer", "learning_rate", "batch_size", "epochs", "early_stopping", "seed")
DATA_FIELDS = ("validation_split", "train_subset")
AUGMENT_FIELDS = ("augment_shift", "augment_rotation", "augment_zoom")
KEY = "cfg_"  # session-state prefix of the settings widgets


# -- shared resources ------------------------------------------------------------------


def get_store() -> RunStore:
    """The run store for $DLAPP_DATA_DIR (one per data dir per server process)."""
    return _store_for(os.environ.get("DLAPP_DATA_DIR", ""))


@st.cache_resource(show_spinner=False)
def _store_for(data_dir: str) -> RunStore:
    from dlapp.store import RunStore

    return RunStore(data_dir or None)


@st.cache_resource(show_spinner="Starting TensorFlow…")
def keras_ready() -> bool:
    """Set TF thread options once, before TF initialises, then import Keras."""
    from dlapp import jobs

    jobs.configure_threads()
    import keras  # noqa: F401

    return True


@st.cache_resource(show_spinner=False, max_entries=4)
def load_dataset(name: str):
    """The raw uint8 dataset, shared by all sessions (cache_resource: no copy per rerun)."""
    from dlapp.data import load_raw

    return load_raw(name)


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def load_model(model_path: str, modified: float):
    """A stored run's model (safe_mode); `modified` makes a replaced file load afresh."""
    from dlapp.modelfile import load_model_file

    return load_model_file(model_path)


def run_model(run: Run):
    """Load a run's model, or raise DlappError with a sentence when it has none."""
    from dlapp.errors import ModelRejected

    if not run.model_path or not os.path.exists(run.model_path):
        raise ModelRejected(f"Run {run.id} has no saved model file; train it again or pick another run.")
    return load_model(run.model_path, os.path.getmtime(run.model_path))


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Show a dlapp error or a ValueError as its one sentence instead of a traceback."""
    try:
        yield
    except (DlappError, ValueError) as exc:
        st.error(str(exc), icon="🚫")


# -- small formatting helpers ---------------------------------------------------------------


def run_label(run: Run) -> str:
    return f"#{run.id} {run.name} · {run.arch} · {run.dataset} · {run.status}"


def headline_metric(run: Run) -> str:
    metrics = run.metrics or {}
    if "test_accuracy" in metrics:
        return f"{metrics['test_accuracy']:.1%} test accuracy"
    if "test_mse" in metrics:
        return f"{metrics['test_mse']:.4f} test MSE"
    return "no test score yet"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{seconds:.1f} s"


def field_label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def dataset_title(name: str) -> str:
    return dataset_info(name).title


# -- dataset -----------------------------------------------------------------------------------


def render_data_availability() -> None:
    """One line per dataset: cached, or would download, or bundled."""
    for name, info in DATASETS.items():
        if name == "mnist-sample":
            state = "bundled, works offline"
        else:
            state = "downloaded" if is_cached(name) else "not downloaded yet (needs the network once)"
        st.markdown(f"- **{info.title}**: {state}")


# -- run settings ------------------------------------------------------------------------------


def _default(name: str) -> Any:
    value = RunConfig().flat()[name]
    return ", ".join(str(v) for v in value) if isinstance(value, list) else value


def render_field(name: str, *, disabled: bool = False) -> None:
    """One settings widget built from the field's metadata (choices, bounds, help)."""
    meta = all_fields()[name].metadata
    key = KEY + name
    default = _default(name)
    if key not in st.session_state:
        st.session_state[key] = default
    label, help_text = field_label(name), meta["help"]
    if "choices" in meta:
        st.selectbox(label, meta["choices"], key=key, help=help_text, disabled=disabled)
    elif isinstance(default, bool):
        st.toggle(label, key=key, help=help_text, disabled=disabled)
    elif isinstance(default, str):  # an int list typed as "128, 64"
        st.text_input(label, key=key, help=f"{help_text} Comma-separated, like 128, 64.", disabled=disabled)
    else:
        kind = type(default)
        bounds = f" Allowed: {describe_range(meta)}."
        step = {"learning_rate": 1e-4, "weight_decay": 1e-5, "l2": 1e-4}.get(name, 0.05 if kind is float else 1)
        st.number_input(
            label,
            min_value=kind(meta["low"]),
            max_value=kind(meta["high"]),
            step=kind(step),
            format="%g" if kind is float else "%d",
            key=key,
            help=help_text + bounds,
            disabled=disabled,
        )


def visible_fields(arch: str, optimizer: str, augment: bool) -> dict[str, tuple[str, ...]]:
    """Settings sections for one architecture; optimizer-specific fields only where they apply."""
    train = list(TRAIN_FIELDS)
    if optimizer == "sgd":
        train.insert(2, "momentum")
    if optimizer == "adamw":
        train.insert(2, "weight_decay")
    model = ARCH_FIELDS[arch]
    if arch != "autoencoder":
        model = (*model, "augment", *(AUGMENT_FIELDS if augment else ()))
    return {"Model": model, "Training": tuple(train), "Data": DATA_FIELDS}


def config_from_state() -> tuple[RunConfig | None, str | None, str | None]:
    """The RunConfig the settings widgets describe, or (None, sentence, bad field name)."""
    values = {name: st.session_state.get(KEY + name, _default(name)) for name in all_fields()}
    try:
        config = RunConfig.from_flat(**values).validate()
    except ValueError as exc:
        message = str(exc)
        first = message.split(" ", 1)[0].strip(",.:")
        return None, message, first if first in values else None
    return config, None, None


def render_settings() -> tuple[RunConfig | None, str | None]:
    """All run settings for the chosen architecture; a bad value's sentence appears under its widget."""
    config, error, bad_field = config_from_state()  # widgets already hold this rerun's values
    render_field("arch")
    render_field("dataset")
    arch = st.session_state[KEY + "arch"]
    sections = visible_fields(
        arch, st.session_state.get(KEY + "optimizer", "adam"), st.session_state.get(KEY + "augment", False)
    )
    for title, names in sections.items():
        with st.expander(title, expanded=title != "Data"):
            left, right = st.columns(2)
            for i, name in enumerate(names):
                with left if i % 2 == 0 else right:
                    render_field(name)
                    if name == bad_field:
                        st.error(error, icon="✏️")
    if error and bad_field not in {n for names in sections.values() for n in names} | {"arch", "dataset"}:
        st.error(error, icon="✏️")
    return config, error


# -- model summary -------------------------------------------------------------------------------


@st.cache_data(show_spinner="Building the model…", max_entries=32)
def model_summary(config_json: str) -> tuple[list[dict], int]:
    """Layer rows (name, type, output shape, parameters) of the uncompiled model, and its parameter count."""
    keras_ready()
    from dlapp.models import build_model

    model = build_model(RunConfig.from_json(config_json).model)
    rows = []
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.name in ("encoder", "decoder"):
            rows.extend(_layer_row(inner, f"{layer.name} / ") for inner in layer.layers)
        else:
            rows.append(_layer_row(layer))
    return rows, int(model.count_params())


def _layer_row(layer, prefix: str = "") -> dict:
    try:
        shape = tuple(layer.output.shape)
    except (AttributeError, ValueError):
        shape = ()
    return {
        "layer": prefix + layer.name,
        "type": type(layer).__name__,
        "output shape": "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")",
        "parameters": int(layer.count_params()),
    }


def render_model_summary(config: RunConfig) -> None:
    rows, total = model_summary(config.to_json())
    st.markdown(f"**{ARCH_TITLES[config.model.arch]}** · {total:,} parameters · {len(rows)} layers")
    st.dataframe(rows, hide_index=True, width="stretch", height=min(38 + 35 * len(rows), 320))


# -- training progress ------------------------------------------------------------------------------


def _event_cache(run_id: int) -> dict:
    """Per-session accumulation of a job's events, so each redraw reads only the new ones."""
    key = f"events_{run_id}"
    if key not in st.session_state:
        st.session_state[key] = {"index": 0, "epochs": [], "batches": [], "end": None}
    return st.session_state[key]


def collect_events(job) -> dict:
    cache = _event_cache(job.run_id)
    for event in job.events_since(cache["index"]):
        cache["index"] += 1
        data = event.data
        if event.kind == "batch":
            steps = max(int(data.get("steps") or 1), 1)
            x = int(data["epoch"]) + (int(data["step"]) + 1) / steps
            cache["batches"].append((x, {k: v for k, v in data.items() if isinstance(v, (int, float))}))
        elif event.kind == "epoch":
            cache["epochs"].append(dict(data))
        else:
            cache["end"] = event
    return cache


def render_curves(epochs: list[dict], batches: list, total_epochs: int | None, classifier: bool, key: str) -> None:
    """Loss and accuracy (or MSE) side by side; they stack on a phone."""
    metrics = ("loss", "accuracy") if classifier else ("loss", "mse")
    columns = st.columns(2)
    for column, metric in zip(columns, metrics, strict=True):
        points = [(x, values[metric]) for x, values in batches if metric in values]
        with column:
            st.plotly_chart(
                plots.training_curve(epochs, metric, points, total_epochs),
                key=f"{key}_{metric}",
                config={"displayModeBar": False},
            )


def render_progress(job) -> None:
    progress = job.progress()
    if job.status == "queued":
        position = job.queue_position
        st.info(f"Waiting for a free trainer: position {position} in the queue." if position else "Queued…", icon="⏳")
        return
    parts = [f"epoch {min(progress.epoch + 1, progress.epochs)} of {progress.epochs}"]
    if progress.samples_per_second:
        parts.append(f"{progress.samples_per_second:,.0f} samples/s")
    if progress.eta_seconds is not None:
        parts.append(f"about {duration(progress.eta_seconds)} left")
    st.progress(min(max(progress.fraction, 0.0), 1.0), text=" · ".join(parts))


def render_live_training(run_id: int) -> None:
    """Progress, Stop and live curves for a job of this server process, redrawn once a second."""
    from dlapp.jobs import get_job

    job = get_job(run_id)
    if job is None:
        return
    _live_training(run_id)


@st.fragment(run_every=1.0)
def _live_training(run_id: int) -> None:
    from dlapp.jobs import get_job

    job = get_job(run_id)
    if job is None or job.status not in ACTIVE:
        st.rerun()  # whole page: it now shows the finished run, without a timer
    cache = collect_events(job)
    top, stop = st.columns([5, 1], vertical_alignment="bottom")
    with top:
        render_progress(job)
    with stop:
        if st.button("Stop", key=f"stop_{run_id}", icon="⏹️", width="stretch", help="Stop after this batch."):
            job.stop()
            st.toast("Stopping after the current batch…")
    render_curves(cache["epochs"], cache["batches"], job.config.train.epochs, job.config.is_classifier, "live")


def render_run_result(store: RunStore, run: Run) -> None:
    """A finished (or stopped, failed, interrupted) run: status, test metrics, curves."""
    icon = STATUS_ICONS.get(run.status, "")
    if run.status == "failed":
        st.error(f"Run #{run.id} failed: {run.error or 'no detail recorded'}", icon="❌")
    elif run.status == "interrupted":
        st.warning(f"Run #{run.id} was interrupted (the server stopped while it trained).", icon="⚠️")
    else:
        st.success(f"{icon} Run #{run.id} {run.status} after {run.epochs_completed} epoch(s).")
    render_test_metrics(run)
    epochs = store.epochs(run.id)
    cache = st.session_state.get(f"events_{run.id}")
    batches = cache["batches"] if cache else []
    if epochs:
        render_curves(epochs, batches, run.config.train.epochs, run.is_classifier, f"result_{run.id}")


def render_test_metrics(run: Run) -> None:
    metrics = run.metrics or {}
    cells = []
    if "test_accuracy" in metrics:
        cells.append(("Test accuracy", f"{metrics['test_accuracy']:.2%}"))
    if "test_loss" in metrics:
        cells.append(("Test loss", f"{metrics['test_loss']:.4f}"))
    if "test_mse" in metrics:
        cells.append(("Test MSE", f"{metrics['test_mse']:.4f}"))
    cells.append(("Epochs", str(run.epochs_completed)))
    cells.append(("Time", duration(run.seconds)))
    if run.samples_per_second:
        cells.append(("Samples/s", f"{run.samples_per_second:,.0f}"))
    for column, (label, value) in zip(st.columns(len(cells)), cells, strict=True):
        column.metric(label, value)


# -- images ----------------------------------------------------------------------------------------------


def render_digit(image: np.ndarray, caption: str | None = None, factor: int = 5) -> None:
    """A 28x28 image shown with crisp, enlarged pixels."""
    st.image(plots.upscale(image, factor), caption=caption)


def render_gallery(images: np.ndarray, captions: list[str], columns: int = 8, factor: int = 3) -> None:
    """Images in rows of `columns` (Streamlit stacks them on a narrow screen)."""
    for start in range(0, len(images), columns):
        cells = st.columns(columns)
        for cell, image, caption in zip(
            cells, images[start : start + columns], captions[start : start + columns], strict=False
        ):
            with cell:
                render_digit(image, caption, factor)


# -- run pickers -----------------------------------------------------------------------------------------


def pick_run(runs: list[Run], label: str, key: str, help: str | None = None) -> Run | None:
    """A selectbox over runs (newest first); None when there are none."""
    if not runs:
        return None
    by_id = {run.id: run for run in runs}
    chosen = st.selectbox(label, list(by_id), format_func=lambda i: run_label(by_id[i]), key=key, help=help)
    return by_id.get(chosen)


def runs_with_model(store: RunStore, classifier: bool | None = None) -> list[Run]:
    runs = [r for r in store.runs() if r.model_path and r.status not in ACTIVE]
    if classifier is not None:
        runs = [r for r in runs if r.is_classifier == classifier]
    return runs


# -- prediction (Draw page) ---------------------------------------------------------------------------------


def render_prediction(model, image: np.ndarray, unsure_below: float) -> None:
    """What the model sees, its guess, the probability bars and a saliency overlay."""
    from dlapp.inference import predict, saliency

    prediction = predict(model, image, threshold=unsure_below)
    seen_col, guess_col, map_col = st.columns(3)
    with seen_col:
        render_digit(image, "What the model sees (28×28)", factor=5)
    with guess_col:
        if prediction.unsure:
            st.metric("Not sure", f"{prediction.label}?", f"{prediction.confidence:.0%} confident", delta_color="off")
            runners = ", ".join(f"{k} ({p:.0%})" for k, p in prediction.top_k[1:])
            st.caption(f"Also possible: {runners}.")
        else:
            st.metric("It's a", str(prediction.label), f"{prediction.confidence:.0%} confident", delta_color="off")
    with map_col:
        heat = saliency(model, image, prediction.label)
        st.image(plots.upscale(plots.saliency_overlay(image, heat), 5), caption="Pixels that moved the guess most")
    st.plotly_chart(
        plots.probability_bars(prediction.probabilities, [str(d) for d in range(10)], prediction.label),
        config={"displayModeBar": False},
        key="probabilities",
    )


def render_reconstruction(autoencoder, image: np.ndarray) -> None:
    from dlapp.inference import reconstruct

    reconstruction, latent = reconstruct(autoencoder, image)
    seen_col, out_col = st.columns(2)
    with seen_col:
        render_digit(image, "Your digit (28×28)", factor=5)
    with out_col:
        render_digit(reconstruction, "The autoencoder's reconstruction", factor=5)
    code = ", ".join(f"{v:.2f}" for v in latent[:8]) + (" …" if len(latent) > 8 else "")
    st.caption(f"Latent code: ({code})")


def render_personal_test(model, images: np.ndarray, labels: np.ndarray) -> None:
    """Accuracy on the person's labelled drawings, and each drawing with its guess."""
    from dlapp.inference import predict_proba

    guesses = np.array([int(np.argmax(predict_proba(model, image))) for image in images])
    right = guesses == labels
    st.metric("Accuracy on your drawings", f"{right.mean():.0%}", f"{int(right.sum())} of {len(labels)} right")
    captions = [f"{'✓' if ok else '✗'} {t} → {g}" for t, g, ok in zip(labels, guesses, right, strict=True)]
    render_gallery(images, captions, columns=8, factor=2)
