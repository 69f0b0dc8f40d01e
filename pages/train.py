"""Train: choose an architecture and its settings, see the model, train it and watch it learn."""

import streamlit as st

from dlapp import ui
from dlapp.store import Run

ui.page_setup("Train")
store = ui.get_store()
settings_col, main_col = st.columns([2, 3], gap="large")

with settings_col:
    st.subheader("Settings")
    config, error = ui.render_settings()


def shown_run() -> tuple[Run | None, bool]:
    """The run to show, and whether it is this session's own.

    This session's run when it has one; else a run still training on this server (after a
    refresh, or in a second tab), shown for watching - it does not block this session's
    Train, whose run would queue behind it.
    """
    with ui.friendly_errors():
        runs = {run.id: run for run in store.runs()}
        own_id = st.session_state.get("train_run_id")
        if own_id in runs:
            return runs[own_id], True
        st.session_state.pop("train_run_id", None)  # deleted on the Runs page: nothing of ours to show
        active = [run for run in runs.values() if ui.is_training(run)]
        return (active[0] if active else None), False
    return None, False


def start_training() -> None:
    from dlapp.jobs import TrainingJob

    ui.keras_ready()
    name = st.session_state.get("run_name") or None
    job = TrainingJob(config, store, name=name).start()
    st.session_state.train_run_id = job.run_id


with main_col:
    run, own = shown_run()
    training = run is not None and ui.is_training(run)
    busy = own and training

    st.subheader("Model")
    if config is None:
        st.info("Fix the highlighted setting to see the model.", icon=":material/edit:")
    else:
        with ui.friendly_errors():
            ui.render_model_summary(config)

    name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    name_col.text_input("Run name (optional)", key="run_name", placeholder="e.g. wide mlp, no dropout")
    reason = error or ("Your run is training: stop it or wait for it to finish." if busy else None)
    with button_col:
        with ui.friendly_errors():
            st.button(
                "Train",
                type="primary",
                icon=":material/play_arrow:",
                width="stretch",
                disabled=reason is not None,
                help=ui.escape_markdown(
                    reason or "Start training with these settings; it keeps going if you switch pages."
                ),
                on_click=start_training,
            )
    if reason and not error:
        st.caption(reason)

    if training and not own:
        st.caption(f"Run #{run.id} is training on this server now; a run you start waits in the queue behind it.")
    if run is not None:
        st.subheader(f"Run #{run.id}: {ui.escape_markdown(run.name)}" + ("" if own else " (started elsewhere)"))
        from dlapp.jobs import get_job

        if training and get_job(run.id) is not None:
            ui.render_live_training(run.id)
        elif training:
            st.info(
                "This run is training in another server process; its finished epochs are shown.",
                icon=":material/directions_run:",
            )
            ui.render_curves(store.epochs(run.id), [], run.config.train.epochs, run.is_classifier, "other")
        else:
            ui.render_run_result(store, run)
