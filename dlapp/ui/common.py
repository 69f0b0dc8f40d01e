"""What every page uses: the run store, cached loaders, page set-up, error sentences, labels, images."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from dlapp import plots
from dlapp.data import DATASETS, dataset_info, is_cached
from dlapp.errors import DlappError
from dlapp.store import ACTIVE
from dlapp.ui.text import escape_markdown

if TYPE_CHECKING:
    from dlapp.store import Run, RunStore


STATUS_ICONS = {
    "queued": ":material/hourglass_top:",
    "running": ":material/directions_run:",
    "finished": ":material/check_circle:",
    "stopped": ":material/stop_circle:",
    "pruned": ":material/content_cut:",
    "failed": ":material/error:",
    "interrupted": ":material/warning:",
}
ARCH_TITLES = {
    "mlp": "MLP (dense layers)",
    "cnn": "CNN (convolutions)",
    "rnn": "RNN (rows as a sequence)",
    "autoencoder": "Autoencoder",
    "resnet": "Small ResNet",
}
LABELS = {
    "arch": "Architecture",
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
    "deskew": "Deskew (stand digits upright)",
    "bend": "Bend training digits (px)",
    "augment": "Augment while training",
    "augment_shift": "Max shift",
    "augment_rotation": "Max rotation (°)",
    "augment_zoom": "Max zoom",
    "augment_thickness": "Pen width change",
    "augment_elastic": "Wobble (px)",
    "augment_top_bottom": "Top/bottom size change",
    "train_subset": "Training subset size (0 = all)",
    "pen_digits": "Real pen digits to add (0 = none)",
    "early_stopping": "Early stopping patience (0 = off)",
    "lr_schedule": "Learning rate schedule",
    "label_smoothing": "Label smoothing (0 = off)",
}


def keep_keras_state_between_reruns() -> None:
    """Stop Streamlit from calling `keras.backend.clear_session()` after every script run.

    Streamlit does that (ScriptRunner's `_clean_problem_modules`) to free models a script
    built and forgot. Here a job trains in a background thread while pages rerun: every
    rerun and every one-second fragment tick would clear TensorFlow's kernel cache under
    the running fit, swap Keras's global state and force a full garbage collection. With
    the Train page open that made training 3.5-5x slower (measured). dlapp keeps its
    models on purpose (jobs, cached runs), so the clean-up has nothing to free.
    Matplotlib, its other target, is not used here.
    """
    try:  # a Streamlit internal (1.x); if a release moves it, this does nothing
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        return
    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = lambda: None


keep_keras_state_between_reruns()


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
        st.error(escape_markdown(str(exc)), icon=":material/block:")


def page_setup(title: str) -> None:
    """Every page starts here: make sure app.py's navigation is in charge, then show the title.

    Streamlit treats an app with a `pages/` folder as a legacy multipage app until the
    first run of `st.navigation`; on a fresh server whose first visitor opens a page URL
    (say /train), it would run pages/train.py alone: no navigation, no wide layout. Then
    we clear the legacy flag and rerun, so app.py runs and routes to the same page.
    """
    try:  # a Streamlit internal (1.4x-1.6x): if a release drops it, the quirk is its own to handle
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        PagesManager = None
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
    st.title(title, anchor=False)
    from dlapp.ui import owner  # shared mode only: keep the visitor's owner token; the teacher's unlock

    owner.keep_owner_token()
    owner.render_admin_unlock()


def run_label(run: Run) -> str:
    return f"#{run.id} {run.name} · {run.arch} · {run.dataset} · {run_status(run)}"


def run_status(run: Run) -> str:
    """'interrupted (model from epoch 4 of 30)': the status, and its model's epoch when not the run's last."""
    from dlapp.resume import model_epoch_note

    note = model_epoch_note(run)
    return f"{run.status} ({note})" if note else run.status


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


def render_data_availability() -> None:
    """One line per dataset: cached, or would download, or bundled."""
    for name, info in DATASETS.items():
        if name == "mnist-sample":
            state = "bundled, works offline"
        else:
            state = "downloaded" if is_cached(name) else "not downloaded yet (needs the network once)"
        st.markdown(f"- **{info.title}**: {state}")


def render_saveable_chart(figure, key: str | None = None) -> None:
    """A chart worth keeping: its toolbar (PNG download, reset axes, fullscreen) shows on hover, above the title."""
    st.plotly_chart(plots.below_mode_bar(figure), key=key, config=plots.PNG_MODE_BAR)


def render_digit(image: np.ndarray, caption: str | None = None, factor: int = 5) -> None:
    """A 28x28 image shown with crisp, enlarged pixels, at its enlarged size (not stretched to the column)."""
    big = plots.upscale(image, factor)
    st.image(big, caption=caption, width=big.shape[1])


def render_gallery(images: np.ndarray, captions: list[str], factor: int = 3) -> None:
    """Images side by side at their enlarged size, wrapping to more rows as the screen needs.

    One st.image of a list, not a row of st.columns: columns stack on a phone, one image per row.
    """
    if len(images):
        big = [plots.upscale(image, factor) for image in images]
        st.image(big, caption=captions, width=big[0].shape[1])


def pick_run(
    runs: list[Run], label: str, key: str, help: str | None = None, label_of: Callable[[Run], str] | None = None
) -> Run | None:
    """A selectbox over runs (newest first), each shown by `label_of` (default `run_label`); None if none."""
    if not runs:
        return None
    by_id = {run.id: run for run in runs}
    labels = {run.id: (label_of or run_label)(run) for run in runs}
    # A selectbox keeps showing an option's old text (after a rename) until its value changes, so the
    # widget gets a new key whenever a label changes, starting from the run chosen before (kept under `key`).
    widget_key = f"{key}_{zlib.crc32(repr(labels).encode())}"
    if widget_key not in st.session_state and st.session_state.get(key) in by_id:
        st.session_state[widget_key] = st.session_state[key]
    chosen = st.selectbox(label, list(by_id), format_func=labels.get, key=widget_key, help=help)
    st.session_state[key] = chosen
    return by_id.get(chosen)


def runs_with_model(store: RunStore, classifier: bool | None = None) -> list[Run]:
    runs = [r for r in store.runs() if r.model_path and r.status not in ACTIVE]
    if classifier is not None:
        runs = [r for r in runs if r.is_classifier == classifier]
    return runs
