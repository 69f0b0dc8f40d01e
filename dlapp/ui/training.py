"""Live training: progress, Stop, the loss and accuracy charts, and a finished run's result."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from dlapp import plots
from dlapp.names import MAX_NAME_LENGTH, InvalidName, clean_optional_name
from dlapp.ui import owner
from dlapp.ui.common import ACTIVE, STATUS_ICONS, duration, friendly_errors, keras_ready, render_saveable_chart
from dlapp.ui.instruments import render_gradient_chart
from dlapp.ui.settings import current_config
from dlapp.ui.text import escape_markdown

if TYPE_CHECKING:
    from dlapp.store import Run, RunStore

REFUSED_KEY = "train_refused"  # session_state: why the last Train click queued nothing (shared mode's quotas)


def shown_run(store: RunStore) -> tuple[Run | None, bool]:
    """The run the Train page shows, and whether it is this session's own.

    This session's run when it has one; else a run still training on this server (after a
    refresh, or in a second tab), shown for watching - it does not block this session's
    Train, whose run would queue behind it. A watched run stays shown once it finishes.
    """
    state = st.session_state
    with friendly_errors():
        store.refresh()  # runs whose process died since the server started show as interrupted
        runs = {run.id: run for run in store.runs()}
        if state.get("train_run_id") in runs:
            return runs[state.train_run_id], True
        state.pop("train_run_id", None)  # deleted on the Runs page: nothing of ours to show
        active = [run for run in runs.values() if is_training(run)]
        if active:
            state.watched_run_id = active[0].id
        return runs.get(state.get("watched_run_id")), False
    return None, False


def start_training(store: RunStore) -> None:
    """Train-button callback: start a job for the settings as they are now; it becomes this session's run."""
    from dlapp.jobs import TrainingJob, get_job

    own = st.session_state.get("train_run_id")
    if own is not None and (job := get_job(own)) is not None and not job.done:
        # Train is disabled while this session's run waits or trains, but a browser test once saw one
        # click event arrive twice and queue two runs: a repeated event starts nothing.
        return
    config = current_config()
    if config is None:  # a value typed just before the click is wrong: the page now says which
        return
    if refusal := owner.start_refusal(store, config):  # shared mode's quotas, checked before queuing
        st.session_state[REFUSED_KEY] = refusal  # shown under the button by this rerun, then forgotten
        return
    keras_ready()
    name = st.session_state.get("run_name") or None
    job = TrainingJob(config, store, name=name, owner=owner.current_owner()).start()
    st.session_state.train_run_id = job.run_id
    st.session_state.pop("watched_run_id", None)


def render_train_button(store: RunStore, error: str | None, busy: bool) -> None:
    """Run name and Train, disabled with the reason while a setting is wrong or this session's run trains."""
    name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    name = name_col.text_input(
        "Run name (optional)", key="run_name", placeholder="e.g. wide mlp, no dropout", max_chars=MAX_NAME_LENGTH
    )
    busy_reason = "Your run is training: stop it or wait for it to finish." if busy else None
    reason = error or _name_problem(name) or busy_reason
    with button_col, friendly_errors():
        st.button(
            "Train",
            type="primary",
            icon=":material/play_arrow:",
            width="stretch",
            disabled=reason is not None,
            help=escape_markdown(reason or "Start training with these settings; it keeps going if you switch pages."),
            on_click=start_training,
            args=(store,),
        )
    if reason and not error:
        st.caption(reason)
    if refused := st.session_state.pop(REFUSED_KEY, None):
        st.error(escape_markdown(refused), icon=":material/block:")


def _name_problem(name: str | None) -> str | None:
    """The name rule's sentence for a run name the store would refuse, else None."""
    try:
        clean_optional_name(name)
    except InvalidName as exc:
        return str(exc)
    return None


def render_shown_run(store: RunStore, run: Run | None, own: bool) -> None:
    """The shown run: live while it trains in this process, its epochs so far if elsewhere, else its result."""
    if run is None:
        return
    from dlapp.jobs import get_job

    training = is_training(run)
    if training and not own:
        st.caption(f"Run #{run.id} is training on this server now; a run you start waits in the queue behind it.")
    not_theirs = None if own else owner.run_refusal(store, run.id)  # shared mode: someone else's run
    whose = "" if own else " (someone else's)" if not_theirs else " (started elsewhere)"
    st.subheader(f"Run #{run.id}: {escape_markdown(run.name)}{whose}")
    if not_theirs:
        st.caption(escape_markdown(not_theirs))
    if training and get_job(run.id) is not None:
        render_live_training(run.id)
    elif training:
        st.info(
            "This run is training in another server process; its finished epochs are shown.",
            icon=":material/directions_run:",
        )
        config = run.config
        render_curves(
            store.epochs(run.id), [], config.train.epochs, run.is_classifier, "other", plots.loss_name(config)
        )
    else:
        render_run_result(store, run)


def _event_cache(job) -> dict:
    """Per-session accumulation of a job's events, so each redraw reads only the new ones.

    A continuation's cache starts with the run's earlier epochs: its curves go on where they stopped."""
    key = f"events_{job.run_id}"
    if key not in st.session_state:
        earlier = [row for row in job.store.epochs(job.run_id) if row["epoch"] < job.initial_epoch]
        st.session_state[key] = {"index": 0, "epochs": earlier, "batches": [], "end": None}
    return st.session_state[key]


def collect_events(job) -> dict:
    cache = _event_cache(job)
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


def render_curves(
    epochs: list[dict], batches: list, total_epochs: int | None, classifier: bool, key: str, loss: str = ""
) -> None:
    """Loss and accuracy (or MSE) side by side, the best epoch marked; "overfitting?" when the curves say so.

    loss: the loss's name for the chart title (`plots.loss_name(config)`).
    """
    from dlapp.curves import best_epoch, overfitting

    warning = overfitting(epochs)
    if warning is not None:
        st.warning(warning.sentence() + " Try dropout, L2 or early stopping.", icon=":material/trending_up:")
    best = best_epoch(epochs)
    metrics = ("loss", "accuracy") if classifier else ("loss", "mse")
    columns = st.columns(2)
    for column, metric in zip(columns, metrics, strict=True):
        points = [(x, values[metric]) for x, values in batches if metric in values]
        with column:
            figure = plots.training_curve(
                epochs, metric, points, total_epochs, loss=loss, best_epoch=best.epoch if best else None
            )
            render_saveable_chart(figure, key=f"{key}_{metric}")


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
        if job.checkpoint_problem:  # said while it trains; training goes on
            st.caption(job.checkpoint_problem)
    with stop:
        label, hint = (
            ("Cancel", "Leave the queue.") if queued else ("Stop", "Stop after this batch; the model is kept.")
        )
        refusal = owner.run_refusal(job.store, run_id)  # shared mode: only its owner (or the teacher) stops it
        hint = escape_markdown(refusal) if refusal else hint
        stop_clicked = st.button(
            label,
            key=f"stop_{run_id}",
            icon=":material/stop_circle:",
            width="stretch",
            help=hint,
            disabled=bool(refusal),
        )
        if stop_clicked and not refusal:  # a disabled button's click, forged, changes nothing
            job.stop()
            st.toast("Leaving the queue…" if queued else "Stopping after the current batch…")
    if queued:
        return  # nothing to chart yet; every waiting page stays cheap for the one that trains
    cache = collect_events(job)
    config = job.config
    render_curves(
        cache["epochs"], cache["batches"], config.train.epochs, config.is_classifier, "live", plots.loss_name(config)
    )
    render_gradient_chart(cache["epochs"], config.train.epochs, "live")


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
        loss = plots.loss_name(run.config)
        render_curves(epochs, batches, max(len(epochs), 1), run.is_classifier, f"result_{run.id}", loss)
        render_gradient_chart(epochs, max(len(epochs), 1), f"result_{run.id}")


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
