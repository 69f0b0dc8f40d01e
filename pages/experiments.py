"""Experiments: ask "which optimizer?" or "how much dropout?" once, and watch the runs answer it."""

import streamlit as st

from dlapp import ui

ui.follow_open_in_train()
ui.page_setup("Experiments")
store = ui.get_store()

settings_col, new_col = st.columns([2, 3], gap="large")
with settings_col:
    st.subheader("Base settings")
    st.caption("Every run starts from these (shared with the Train page); the experiment varies the rest.")
    base, error = ui.render_settings()
with new_col:
    st.subheader("New experiment")
    ui.render_new_experiment(store, base, error)

st.divider()
with ui.friendly_errors():
    shown = ui.pick_experiment(ui.experiment_store(store).experiments())
    if shown is None:
        st.info(
            "No experiments yet: pick a setting and its values above, then Start. "
            "`python -m dlapp sweep` and `tune` start them from a terminal.",
            icon=":material/science:",
        )
    else:
        ui.render_experiment(store, shown)
