"""Evaluate: how good a trained model is, and where it goes wrong."""

import streamlit as st

from dlapp import ui

ui.page_setup("Evaluate")
store = ui.get_store()
runs = ui.runs_with_model(store)
if not runs:
    st.info("No trained model to evaluate yet: train one on the Train page first.", icon=":material/analytics:")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

run = ui.pick_run(runs, "Run", key="evaluate_run", help="Runs with a saved model, newest first.")
st.caption(f"Scored on the {ui.dataset_title(run.dataset)} test set, which the model never trained on.")

with ui.friendly_errors():
    with st.spinner(f"Evaluating run #{run.id} on the test set…"):
        raw = ui.load_dataset(run.dataset)
        report = ui.evaluation_report(run)
    if run.is_classifier:
        ui.render_classifier_report(report, raw.x_test)
    else:
        with st.spinner("Encoding the test set…"):
            codes = ui.latent_codes_for(run)
        ui.render_autoencoder_report(run, report, raw.x_test, raw.y_test, codes)
    ui.render_first_layer(run)
