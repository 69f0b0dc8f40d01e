"""One experiment on the page: status and Stop, overlaid curves, the leaderboard, a search's charts, CSVs.

While the experiment runs in this server process the view redraws in an `st.fragment` every
REFRESH_SECONDS from the stores (never per batch: the trainer's speed is what matters).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from dlapp import experiment_plots, experiment_report
from dlapp.ui import owner
from dlapp.ui.common import STATUS_ICONS, friendly_errors, keras_ready, render_saveable_chart
from dlapp.ui.experiments import follow_open_in_train, open_in_train
from dlapp.ui.text import escape_markdown

if TYPE_CHECKING:
    from dlapp.experiment_store import Experiment
    from dlapp.store import RunStore

REFRESH_SECONDS = 1.5
PICK_KEY = "exp_pick"  # the experiment selectbox; Start points it at the new experiment


def experiment_label(experiment: Experiment) -> str:
    # No status here: a selectbox keeps its first labels while the experiment moves on.
    return f"#{experiment.id} {experiment.name} · {experiment.kind} · {experiment.created[:16].replace('T', ' ')}"


def experiment_store(store: RunStore):
    from dlapp.experiment_store import ExperimentStore

    return ExperimentStore(store)


def pick_experiment(experiments: list[Experiment]) -> Experiment | None:
    """The experiment to show: the one picked, else this session's, else one running, else the newest."""
    if not experiments:
        return None
    by_id = {e.id: e for e in experiments}
    if st.session_state.get(PICK_KEY) not in by_id:
        own = st.session_state.get("experiment_id")
        active = [e.id for e in experiments if e.active]
        st.session_state[PICK_KEY] = own if own in by_id else (active or [experiments[0].id])[0]
    picked = st.selectbox("Experiment", list(by_id), key=PICK_KEY, format_func=lambda i: experiment_label(by_id[i]))
    return by_id[picked]


def render_experiment(store: RunStore, experiment: Experiment) -> None:
    from dlapp.experiments import get_runner

    st.subheader(f"#{experiment.id} {escape_markdown(experiment.name)}", anchor=False)
    if experiment.active and get_runner(experiment.id) is not None:
        _live(store, experiment.id)
        return
    if experiment.active:
        st.info("This experiment runs in another process; its finished epochs are shown.", icon=":material/sync:")
    elif experiment.kind == "search" and experiment.status in ("stopped", "interrupted"):
        refusal = owner.item_refusal(store, "experiment", experiment.id)  # shared mode: its owner or the teacher
        st.button(
            "Resume search",
            icon=":material/play_arrow:",
            key=f"resume_{experiment.id}",
            on_click=_resume,
            args=(store, experiment.id),
            disabled=bool(refusal),
            help=refusal or "Carry on until the budget is used; Optuna keeps what the earlier trials taught it.",
        )
    _body(store, experiment, live=False)
    _render_delete(store, experiment)


def _render_delete(store: RunStore, experiment: Experiment) -> None:
    """Delete the experiment with its runs, once it has ended and the box is ticked; in shared mode its owner only."""
    from dlapp.experiment_delete import deletion_phrase

    if refusal := owner.item_refusal(store, "experiment", experiment.id):  # shared mode: owner or teacher
        st.button("Delete experiment", icon=":material/delete:", disabled=True, help=escape_markdown(refusal))
        st.caption(escape_markdown(refusal))
        return
    phrase = deletion_phrase(experiment.id, len(experiment_store(store).members(experiment.id)))
    sure = st.checkbox(
        f"Yes, delete {phrase}",
        key=f"sure_experiment_{experiment.id}",
        disabled=experiment.active,
        help="Stop the experiment first; a running one cannot be deleted." if experiment.active else None,
    )
    reason = "Tick the box above to confirm." if not sure else None
    st.button(
        "Delete experiment",
        key=f"delete_experiment_{experiment.id}",
        icon=":material/delete:",
        disabled=not sure or experiment.active,
        help=reason,
        on_click=_delete,  # before the page draws again, so it no longer shows the experiment
        args=(store, experiment.id, phrase),
    )


def _delete(store: RunStore, experiment_id: int, phrase: str) -> None:
    from dlapp.experiment_delete import delete_experiment

    if owner.item_refusal(store, "experiment", experiment_id):  # a disabled button's click, forged
        return
    with friendly_errors():
        delete_experiment(experiment_id, store)
        st.toast(f"Deleted {phrase}.")


def _resume(store: RunStore, experiment_id: int) -> None:
    from dlapp.experiment_store import ExperimentStore
    from dlapp.experiments import resume

    if owner.item_refusal(store, "experiment", experiment_id):  # a disabled button's click, forged
        return
    base = ExperimentStore(store).experiment(experiment_id).base_config
    if refusal := owner.experiment_refusal(store, [base]):  # shared mode: a search trains one trial at a time
        st.error(refusal, icon=":material/block:")
        return
    with friendly_errors():
        keras_ready()
        resume(experiment_id, store)


@st.fragment(run_every=REFRESH_SECONDS)
def _live(store: RunStore, experiment_id: int) -> None:
    from dlapp.experiment_store import ExperimentStore
    from dlapp.experiments import get_runner

    runner = get_runner(experiment_id)
    if runner is None:
        st.rerun()  # it ended: the whole page shows the result, without a timer
    experiment = ExperimentStore(store).experiment(experiment_id)
    _body(store, experiment, live=True, runner=runner)


def _body(store: RunStore, experiment: Experiment, live: bool, runner=None) -> None:
    follow_open_in_train()  # a click inside the live fragment reruns only the fragment
    items = experiment_report.entries(store, experiment.id)
    _status_line(experiment, items, runner)
    if not items:
        st.info("No runs yet: the first one is being prepared.", icon=":material/hourglass_top:")
        return
    curves = {e.run.id: store.epochs(e.run.id) for e in items}
    _curves(experiment, items, curves)
    rows = experiment_report.leaderboard(experiment, items, curves)
    chosen = _leaderboard(experiment, rows)
    if experiment.kind == "search":
        _search_charts(store, experiment, items, rows, live)
    if not live:
        _downloads(store, experiment, items, rows)
    if chosen is not None:
        run = next(e.run for e in items if e.run.id == chosen)
        st.button(
            f"Open run #{run.id} in Train",
            icon=":material/model_training:",
            on_click=open_in_train,
            args=(run.config,),
            help="Start from this run's settings on the Train page.",
        )


def _status_line(experiment: Experiment, items, runner) -> None:
    counts: dict[str, int] = {}
    for entry in items:
        counts[entry.status] = counts.get(entry.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no runs yet"
    if experiment.kind == "search":
        summary += f" · budget {_budget(experiment.plan)}"
    text_col, stop_col = st.columns([4, 1], vertical_alignment="center")
    icon = STATUS_ICONS.get(experiment.status, ":material/science:")
    text_col.markdown(f"{icon} **{experiment.status}** · {summary}")
    if experiment.error:
        st.error(experiment.error, icon=":material/error:")
    if runner is not None:
        stopping = runner.stop_requested
        refusal = owner.item_refusal(runner.store, "experiment", experiment.id)  # shared mode: owner or teacher
        hint = "Cancel the queued runs and stop the training one after its batch; finished runs are kept."
        pressed = stop_col.button(
            "Stopping…" if stopping else "Stop",
            key=f"stop_experiment_{experiment.id}",
            icon=":material/stop_circle:",
            disabled=stopping or bool(refusal),
            width="stretch",
            help=refusal or hint,
        )
        if pressed and not refusal:  # a disabled button's click, forged, changes nothing
            runner.stop()
            st.toast("Stopping the experiment after the current batch…")


def _budget(plan: dict) -> str:
    parts = [f"{plan['trials']} trials"] if plan.get("trials") else []
    if plan.get("minutes"):
        parts.append(f"{plan['minutes']:g} min")
    return " or ".join(parts)


def _curves(experiment: Experiment, items, curves: dict[int, list[dict]]) -> None:
    classifier = experiment.base_config.is_classifier
    metrics = ["accuracy", "loss"] if classifier else ["mse", "loss"]
    metric = st.segmented_control("Curve", metrics, default=metrics[0], key=f"exp_curve_{experiment.id}")
    pairs = [(f"#{e.run.id} {e.label}", curves[e.run.id]) for e in items]
    figure = experiment_plots.experiment_curves(pairs, metric or metrics[0])
    render_saveable_chart(figure, key=f"exp_curves_{experiment.id}")


def _leaderboard(experiment: Experiment, rows: list[dict]) -> int | None:
    """The sortable table (click a header); returns the run id of the selected row, if any."""
    shown = [{**row, "best": "★" if row["best"] else ""} for row in rows]
    score = "test accuracy" if experiment.base_config.is_classifier else "test MSE"
    percent = st.column_config.NumberColumn(format="percent")
    columns = {
        "best": st.column_config.TextColumn("best", width="small", help="The finished run with the best test score."),
        "run": st.column_config.NumberColumn("run", format="#%d"),
        "val accuracy": percent,
        "test accuracy": percent,
        "val MSE": st.column_config.NumberColumn(format="%.4f"),
        "test MSE": st.column_config.NumberColumn(format="%.4f"),
        "parameters": st.column_config.NumberColumn(format="localized"),
        "seconds": st.column_config.NumberColumn(format="%.1f"),
        "name": st.column_config.TextColumn("run name"),
    }
    for name in experiment_report.varied_settings(experiment):
        if any(isinstance(row.get(name), float) for row in rows):  # 0.000243, not 0.0002
            columns[name] = st.column_config.NumberColumn(name, format="%.3g")
    st.markdown(f"**Leaderboard** · ★ marks the best {score}. Click a header to sort; select a row to reuse it.")
    table = st.dataframe(
        shown,
        hide_index=True,
        column_config=columns,
        key=f"exp_board_{experiment.id}",
        on_select="rerun",
        selection_mode="single-row",
        width="stretch",
    )
    selected = table.selection.rows
    return rows[selected[0]]["run"] if selected and selected[0] < len(rows) else None


def _search_charts(store: RunStore, experiment: Experiment, items, rows: list[dict], live: bool) -> None:
    values = experiment_report.objective_values(experiment, items)
    if not values:
        return
    metric, direction = experiment.plan["metric"], experiment.plan["direction"]
    best = experiment_report.best_so_far(values, direction)
    left, right = st.columns(2)
    with left:
        figure = experiment_plots.best_so_far_chart(values, best, metric)
        render_saveable_chart(figure, key=f"exp_best_{experiment.id}")
    with right:
        finished = [row for row in rows if row["status"] == "finished"]
        score = next(k for k in rows[0] if k.startswith("test "))
        settings = experiment_report.varied_settings(experiment)
        log = [dim["name"] for dim in experiment.plan["space"] if dim.get("log")]
        figure = experiment_plots.parallel_coordinates(finished, settings, score, log)
        render_saveable_chart(figure, key=f"exp_parallel_{experiment.id}")
    importances = None if live else _importances(store, experiment.id, len(values))
    if importances:
        render_saveable_chart(experiment_plots.importance_bars(importances), key=f"exp_imp_{experiment.id}")
    elif len(experiment.plan["space"]) > 1:
        st.caption(
            f"Which settings mattered appears once the search has ended with at least "
            f"{experiment_report.MIN_TRIALS_FOR_IMPORTANCE} finished trials."
        )


@st.cache_data(show_spinner="Weighing the settings…", max_entries=16)
def _importances(_store: RunStore, experiment_id: int, finished: int) -> dict[str, float] | None:
    """Cached per experiment and number of finished trials: the evaluator fits a small forest."""
    from dlapp.experiment_store import ExperimentStore

    experiment = ExperimentStore(_store).experiment(experiment_id)
    return experiment_report.importances(experiment, _store)


def _downloads(store: RunStore, experiment: Experiment, items, rows: list[dict]) -> None:
    board_col, epochs_col = st.columns(2)
    board_col.download_button(
        "Leaderboard (.csv)",
        data=experiment_report.to_csv(rows),
        file_name=f"dlapp-experiment-{experiment.id}-leaderboard.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"exp_csv_board_{experiment.id}",
        on_click="ignore",
    )
    epochs_col.download_button(
        "Every epoch of every run (.csv)",
        data=lambda: experiment_report.to_csv(experiment_report.experiment_epoch_rows(store, items)),  # on click
        file_name=f"dlapp-experiment-{experiment.id}-epochs.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"exp_csv_epochs_{experiment.id}",
        on_click="ignore",
    )
