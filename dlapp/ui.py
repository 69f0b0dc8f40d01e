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
from dlapp.config import ARCH_FIELDS, RunConfig, all_fields, describe_range
from dlapp.data import DATASETS, dataset_info, is_cached
from dlapp.errors import DlappError

if TYPE_CHECKING:
    from dlapp.store import Run, RunStore

ACTIVE = ("queued", "running")
STATUS_ICONS = {
    "queued": ":material/hourglass_top:",
    "running": ":material/directions_run:",
    "finished": ":material/check_circle:",
    "stopped": ":material/stop_circle:",
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
    "augment": "Augment while training",
    "augment_shift": "Max shift",
    "augment_rotation": "Max rotation (°)",
    "augment_zoom": "Max zoom",
    "train_subset": "Training subset size (0 = all)",
    "early_stopping": "Early stopping patience (0 = off)",
}
TRAIN_FIELDS = ("optimizer", "learning_rate", "batch_size", "epochs", "early_stopping", "seed")
DATA_FIELDS = ("validation_split", "train_subset")
AUGMENT_FIELDS = ("augment_shift", "augment_rotation", "augment_zoom")
KEY = "cfg_"  # session-state prefix of the settings widgets


# -- Streamlit's Keras clean-up --------------------------------------------------------------


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
        st.error(str(exc), icon=":material/block:")


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
        titles = {"arch": ARCH_TITLES, "dataset": {n: i.title for n, i in DATASETS.items()}}.get(name, {})
        st.selectbox(
            label, meta["choices"], key=key, help=help_text, disabled=disabled, format_func=lambda c: titles.get(c, c)
        )
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
    sections = {"Model": ARCH_FIELDS[arch]}
    if arch != "autoencoder":
        sections["Augmentation"] = ("augment", *(AUGMENT_FIELDS if augment else ()))
    return {**sections, "Training": tuple(train), "Data": DATA_FIELDS}


def config_from_state(names: tuple[str, ...]) -> tuple[RunConfig | None, str | None, str | None]:
    """The RunConfig the named settings widgets describe (defaults elsewhere), or (None, sentence, bad field)."""
    values = {name: st.session_state.get(KEY + name, _default(name)) for name in names}
    try:
        config = RunConfig.from_flat(**values).validate()
    except ValueError as exc:
        message = str(exc)
        first = message.split(" ", 1)[0].strip(",.:")
        return None, message, first if first in all_fields() else None
    return config, None, None


def render_settings() -> tuple[RunConfig | None, str | None]:
    """All run settings for the chosen architecture; a bad value's sentence appears under its widget."""
    for key in [k for k in st.session_state if str(k).startswith(KEY)]:
        st.session_state[key] = st.session_state[key]  # keep hidden settings when the architecture changes
    state = st.session_state
    arch = state.get(KEY + "arch", "mlp")
    sections = visible_fields(arch, state.get(KEY + "optimizer", "adam"), state.get(KEY + "augment", False))
    shown = ("arch", "dataset", *(n for names in sections.values() for n in names))
    config, error, bad_field = config_from_state(shown)  # widgets already hold this rerun's values
    render_field("arch")
    render_field("dataset")
    for title, names in sections.items():
        with st.expander(title, expanded=title not in ("Data", "Augmentation")):
            # Switches get a full row (their labels are long); the other widgets share two columns.
            grid = [n for n in names if not isinstance(_default(n), bool)]
            if names[0] not in grid:  # a section led by its on/off switch shows the switch first
                render_field(names[0])
            left, right = st.columns(2)
            for i, name in enumerate(grid):
                with left if i % 2 == 0 else right:
                    render_field(name)
                    if name == bad_field:
                        st.error(error, icon=":material/edit:")
            for name in names[1:]:
                if name not in grid:
                    render_field(name)
    if error and bad_field not in shown:
        st.error(error, icon=":material/edit:")
    return config, error


# -- model summary -------------------------------------------------------------------------------


@st.cache_data(show_spinner="Building the model…", max_entries=32)
def model_summary(config_json: str) -> tuple[list[dict], int]:
    """Layer rows and parameter count of a config's model, cached by its JSON."""
    keras_ready()
    from dlapp.models import build_model, layer_table

    model = build_model(RunConfig.from_json(config_json).model)
    return layer_table(model), int(model.count_params())


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


def is_training(run: Run) -> bool:
    """Queued or running, by the store - unless this process's job for it has already ended
    (its final write may have failed), so a page never waits on a run that cannot move."""
    from dlapp.jobs import get_job

    job = get_job(run.id) if run.status in ACTIVE else None
    return run.status in ACTIVE and (job is None or not job.done)


def render_progress(job) -> None:
    progress = job.progress()
    if job.status == "queued":
        position = job.queue_position
        st.info(
            f"Waiting for a free trainer: position {position} in the queue." if position else "Queued…",
            icon=":material/hourglass_top:",
        )
        return
    parts = [f"epoch {max(progress.epoch, 1)} of {progress.epochs}"]
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
    queued = job.status == "queued"
    top, stop = st.columns([3, 1], vertical_alignment="bottom")
    with top:
        render_progress(job)
    with stop:
        label, hint = (
            ("Cancel", "Leave the queue.") if queued else ("Stop", "Stop after this batch; the model is kept.")
        )
        if st.button(label, key=f"stop_{run_id}", icon=":material/stop_circle:", width="stretch", help=hint):
            job.stop()
            st.toast("Leaving the queue…" if queued else "Stopping after the current batch…")
    if queued:
        return  # nothing to chart yet; every waiting page stays cheap for the one that trains
    cache = collect_events(job)
    render_curves(cache["epochs"], cache["batches"], job.config.train.epochs, job.config.is_classifier, "live")


def render_run_result(store: RunStore, run: Run) -> None:
    """A finished (or stopped, failed, interrupted) run: status, test metrics, curves."""
    icon = STATUS_ICONS.get(run.status, "")
    if run.status == "failed":
        st.error(f"Run #{run.id} failed: {run.error or 'no detail recorded'}", icon=":material/error:")
    elif run.status == "interrupted":
        st.warning(f"Run #{run.id} was interrupted (the server stopped while it trained).", icon=":material/warning:")
    elif run.status == "stopped":
        message = f"Run #{run.id} stopped after {run.epochs_completed} epoch(s); the model trained so far is kept."
        st.warning(message, icon=icon)
    else:
        st.success(f"Run #{run.id} {run.status} after {run.epochs_completed} epoch(s).", icon=icon or None)
    render_test_metrics(run)
    epochs = store.epochs(run.id)
    cache = st.session_state.get(f"events_{run.id}")
    batches = cache["batches"] if cache else []
    if epochs:
        # x axis to the epochs it actually trained: a run stopped at 2 of 200 should not be a sliver.
        render_curves(epochs, batches, max(len(epochs), 1), run.is_classifier, f"result_{run.id}")


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
    for start in range(0, len(cells), 3):  # rows of three: the values stay readable in a half-width column
        for column, (label, value) in zip(st.columns(3), cells[start : start + 3], strict=False):
            column.metric(label, value)


# -- images ----------------------------------------------------------------------------------------------


def render_digit(image: np.ndarray, caption: str | None = None, factor: int = 5) -> None:
    """A 28x28 image shown with crisp, enlarged pixels, at its enlarged size (not stretched to the column)."""
    big = plots.upscale(image, factor)
    st.image(big, caption=caption, width=big.shape[1])


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
            st.metric(
                "Not sure",
                f"{prediction.label}?",
                f"{prediction.confidence:.0%} confident",
                delta_color="off",
                delta_arrow="off",
            )
            runners = ", ".join(f"{k} ({p:.0%})" for k, p in prediction.top_k[1:])
            st.caption(f"Also possible: {runners}.")
        else:
            st.metric(
                "It's a",
                str(prediction.label),
                f"{prediction.confidence:.0%} confident",
                delta_color="off",
                delta_arrow="off",
            )
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
    st.metric(
        "Accuracy on your drawings",
        f"{right.mean():.0%}",
        f"{int(right.sum())} of {len(labels)} right",
        delta_color="off",
        delta_arrow="off",
    )
    captions = [f"{'✓' if ok else '✗'} {t} → {g}" for t, g, ok in zip(labels, guesses, right, strict=True)]
    render_gallery(images, captions, columns=8, factor=2)


# -- evaluation (Evaluate page) -----------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=8)
def _report(run_id: int, model_path: str, modified: float, dataset: str, classifier: bool):
    from dlapp import evaluation
    from dlapp.data import shape_for

    keras_ready()
    model = load_model(model_path, modified)
    raw = load_dataset(dataset)
    if classifier:
        arch = "cnn" if len(model.input_shape) == 4 else "mlp"  # the input shape the file itself wants
        return evaluation.evaluate_classifier(model, shape_for(raw.x_test, arch), raw.y_test, raw.class_names)
    return evaluation.evaluate_autoencoder(model, raw.x_test)


def evaluation_report(run: Run):
    """The run's test-set report, computed once per run (and model file version) per server."""
    run_model(run)  # raises a sentence when the file is missing
    return _report(run.id, run.model_path, os.path.getmtime(run.model_path), run.dataset, run.is_classifier)


@st.cache_resource(show_spinner=False, max_entries=8)
def _codes(run_id: int, model_path: str, modified: float, dataset: str) -> np.ndarray:
    from dlapp.evaluation import latent_codes

    return latent_codes(load_model(model_path, modified), load_dataset(dataset).x_test)


def latent_codes_for(run: Run) -> np.ndarray:
    return _codes(run.id, run.model_path, os.path.getmtime(run.model_path), run.dataset)


def _pick_cell(chart_key: str) -> None:
    """A click on a confusion-matrix cell sets the true/predicted selectboxes."""
    points = st.session_state[chart_key].selection.points
    if points:
        st.session_state.cell_true, st.session_state.cell_pred = str(points[0]["y"]), str(points[0]["x"])


def render_classifier_report(report, x_test: np.ndarray) -> None:
    names = [str(c) for c in report.class_names]
    cells = st.columns(4)
    cells[0].metric("Test accuracy", f"{report.accuracy:.2%}")
    cells[1].metric("Test loss", f"{report.loss:.4f}")
    cells[2].metric("Mistakes", f"{len(report.mistakes):,} of {len(report.labels):,}")
    worst = int(np.argmin(report.recall))
    cells[3].metric(
        "Hardest class", names[worst], f"recall {report.recall[worst]:.0%}", delta_color="off", delta_arrow="off"
    )

    matrix_col, cell_col = st.columns([3, 2], gap="large")
    with matrix_col:
        st.plotly_chart(
            plots.confusion_heatmap(report.confusion, names),
            key="confusion",
            on_select=lambda: _pick_cell("confusion"),
            selection_mode="points",
            config={"displayModeBar": False},
        )
    with cell_col:
        off = report.confusion.copy()
        np.fill_diagonal(off, -1)
        t, p = np.unravel_index(np.argmax(off), off.shape)  # the most common confusion, as a start
        if "cell_true" not in st.session_state or st.session_state.cell_true not in names:
            st.session_state.cell_true, st.session_state.cell_pred = names[t], names[p]
        st.markdown("**Images in one cell** (click a cell, or choose)")
        true_col, pred_col = st.columns(2)
        true_name = true_col.selectbox("True class", names, key="cell_true")
        pred_name = pred_col.selectbox("Predicted as", names, key="cell_pred")
        ti, pi = names.index(true_name), names.index(pred_name)
        chosen = np.flatnonzero((report.labels == ti) & (report.predictions == pi))
        if len(chosen) == 0:
            st.info(f"No test image of {true_name} was predicted as {pred_name}.")
        else:
            st.caption(f"{len(chosen)} image(s); showing up to 24.")
            shown = chosen[:24]
            confidence = report.probabilities[shown, pi]
            render_gallery(x_test[shown], [f"{c:.0%}" for c in confidence], columns=6, factor=2)

    st.plotly_chart(plots.precision_recall(report.precision, report.recall, names), config={"displayModeBar": False})
    st.subheader("Most confident mistakes")
    st.caption("Wrong answers the model was surest about: often badly written digits, sometimes wrong labels.")
    shown = report.mistakes[:16]
    if len(shown) == 0:
        st.success("No mistakes on the test set.")
        return
    captions = [
        f"{names[report.labels[i]]} → {names[report.predictions[i]]} ({report.probabilities[i].max():.0%})"
        for i in shown
    ]
    render_gallery(x_test[shown], captions, columns=8, factor=3)


def render_autoencoder_report(run: Run, report, x_test: np.ndarray, y_test: np.ndarray, codes: np.ndarray) -> None:
    from dlapp.evaluation import decode_points

    cells = st.columns(3)
    cells[0].metric("Test reconstruction error (MSE)", f"{report.mse:.4f}")
    cells[1].metric("Latent size", codes.shape[1])
    cells[2].metric("Test images", f"{len(x_test):,}")

    st.subheader("Originals and reconstructions")
    picked = np.concatenate([np.flatnonzero(y_test == k)[:1] for k in range(10)])
    pair = np.concatenate([x_test[picked].astype(np.float32) / 255.0, report.reconstructions[picked]])
    st.image(plots.upscale(plots.mosaic(pair, columns=10), 3), caption="Top: test images. Bottom: reconstructions.")

    scatter_col, explore_col = st.columns([3, 2], gap="large")
    points, note = plots.project_2d(codes)
    with scatter_col:
        names = load_dataset(run.dataset).class_names
        st.plotly_chart(plots.latent_scatter(points, y_test, names, note), config={"displayModeBar": False})
    with explore_col:
        st.markdown("**Decoder explorer**: move through the plane and see what the decoder draws there.")
        if codes.shape[1] == 2:
            mean, directions = np.zeros(2), np.eye(2)
        elif codes.shape[1] == 1:
            mean, directions = np.zeros(1), np.array([[1.0], [0.0]])
        else:
            mean, directions = plots.pca_plane(codes)
        low, high = np.percentile(points, 1, axis=0), np.percentile(points, 99, axis=0)
        a = st.slider("Horizontal", float(low[0]), float(high[0]), float(np.median(points[:, 0])), key="latent_a")
        b = 0.0
        if codes.shape[1] > 1:
            b = st.slider("Vertical", float(low[1]), float(high[1]), float(np.median(points[:, 1])), key="latent_b")
        point = plots.plane_point(mean, directions, a, b)
        image = decode_points(run_model(run), point[None].astype(np.float32))[0]
        render_digit(image, f"Decoded from ({a:.2f}, {b:.2f})", factor=6)


# -- runs (Runs page) -------------------------------------------------------------------------------------------

RUNS_COLUMNS = {
    "test accuracy": st.column_config.NumberColumn(format="percent"),
    "test MSE": st.column_config.NumberColumn(format="%.4f"),
    "duration": st.column_config.TextColumn(),
}


def settings_summary(config: RunConfig) -> str:
    m, t = config.model, config.train

    def sizes(values: tuple[int, ...]) -> str:
        return "-".join(str(v) for v in values)

    model = {
        "mlp": f"{sizes(m.hidden_units)} {m.activation}, dropout {m.dropout:g}",
        "cnn": f"filters {sizes(m.conv_filters)}, k{m.kernel_size}, dense {m.dense_units}",
        "rnn": f"{m.rnn_cell} {sizes(m.rnn_units)}" + (", bidirectional" if m.bidirectional else ""),
        "autoencoder": f"{sizes(m.encoder_units)} → latent {m.latent_dim}",
        "resnet": f"{m.resnet_stages}×{m.resnet_blocks} blocks, width {m.resnet_width}",
    }[m.arch]
    return f"{model}; {t.optimizer} lr {t.learning_rate:g}, batch {t.batch_size}, {t.epochs} ep"


def runs_table(runs: list[Run]) -> list[dict]:
    """One row per run, the columns people compare first on the left."""
    return [
        {
            "id": run.id,
            "name": run.name,
            "status": run.status,
            "test accuracy": (run.metrics or {}).get("test_accuracy"),
            "test MSE": (run.metrics or {}).get("test_mse"),
            "architecture": run.arch,
            "dataset": run.dataset,
            "epochs": run.epochs_completed,
            "duration": duration(run.seconds),
            "settings": settings_summary(run.config),
            "created": run.created[:16].replace("T", " "),
        }
        for run in runs
    ]


def render_rename(store: RunStore, run: Run) -> None:
    with st.form(f"rename_{run.id}", border=False):
        name = st.text_input("Name", value=run.name, max_chars=80)
        if st.form_submit_button("Rename"):
            with friendly_errors():
                store.rename(run.id, name)
                st.rerun()


def render_delete(store: RunStore, run: Run) -> None:
    active = run.status in ACTIVE
    sure = st.checkbox(
        f"Yes, delete run #{run.id} with its model file and logs",
        key=f"sure_{run.id}",
        disabled=active,
        help="Stop the run first; a training run cannot be deleted." if active else None,
    )
    reason = "Tick the box above to confirm." if not sure else None
    if st.button("Delete run", type="secondary", icon=":material/delete:", disabled=not sure or active, help=reason):
        with friendly_errors():
            store.delete(run.id)
            st.toast(f"Deleted run #{run.id}.")
            st.rerun()


def render_downloads(run: Run) -> None:
    has_model = bool(run.model_path) and os.path.exists(run.model_path)
    st.download_button(
        "Download model (.keras)",
        data=open(run.model_path, "rb").read() if has_model else b"",
        file_name=f"dlapp-run-{run.id}.keras",
        mime="application/zip",
        icon=":material/download:",
        disabled=not has_model,
        help=None if has_model else "This run has no saved model file.",
    )
    try:
        from dlapp.codegen import generate_script

        script, reason = generate_script(run.config), None
    except ImportError:
        script, reason = "", "The script generator is not installed in this version of dlapp."
    except (DlappError, ValueError) as exc:
        script, reason = "", str(exc)
    st.download_button(
        "Download Keras script (.py)",
        data=script,
        file_name=f"dlapp_run_{run.id}.py",
        mime="text/x-python",
        icon=":material/code:",
        disabled=reason is not None,
        help=reason or "A standalone script that builds and trains the same model with plain Keras.",
    )
    if reason:
        st.caption(reason)


def import_model(store: RunStore, filename: str, content: bytes) -> int:
    """Keep an uploaded .keras file as a run (see dlapp.modelfile.import_model)."""
    from dlapp.modelfile import import_model

    keras_ready()
    return import_model(store, filename, content)
