"""Live training: progress, Stop, the loss and accuracy charts, and a finished run's result."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from dlapp import plots
from dlapp.ui.common import ACTIVE, STATUS_ICONS, duration
from dlapp.ui.text import escape_markdown

if TYPE_CHECKING:
    from dlapp.store import Run, RunStore


def _event_cache(run_id: int) -> dict:
    """Per-session accumulation of a job's events, so each redraw reads only the new ones."""
    key = f"events_{run_id}"
    if key not in st.session_state:
        st.session_state[key] = {"index": 0, "epochs": [], "batches": [], "end": None}
    return st.session_state[key]


def collect_events(job) -> dict:
    cache = _event_cache(job.run_id)
    for event in job.events_since(cache["index"]):
        cache["index"] = event.index + 1  # dropped batch events leave gaps: never count
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
        st.error(f"Run #{run.id} failed: {escape_markdown(run.error or 'no detail recorded')}", icon=":material/error:")
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
