"""Train: choose an architecture and its settings, see the model, train it and watch it learn."""

import streamlit as st

from dlapp import ui

ui.page_setup("Train")
store = ui.get_store()
settings_col, main_col = st.columns([2, 3], gap="large")

with settings_col:
    st.subheader("Settings")
    ui.render_presets()
    config, error = ui.render_settings()

with main_col:
    run, own = ui.shown_run(store)
    st.subheader("Model")
    ui.render_model_summary(config)
    ui.render_train_button(store, error, busy=own and run is not None and ui.is_training(run))
    ui.render_shown_run(store, run, own)
    ui.render_continuation(store, run)
