"""Draw: draw a digit, see what a trained model thinks, and keep drawings as your own test set."""

import streamlit as st

from dlapp import ui

ui.page_setup("Draw")
store = ui.get_store()
runs = ui.draw_models(store)
if not runs:
    st.info(
        "There is no trained model yet: train one on the Train page, then come back to draw.", icon=":material/edit:"
    )
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

run = ui.pick_run(runs, "Model", key="draw_run", help="Runs with a saved model, latest classifier first.")
st.space("medium")  # room for the canvas toolbar, which floats above the canvas
canvas_col, result_col = st.columns([2, 3], gap="large")
with canvas_col:
    rgba = ui.render_canvas()
with result_col:
    image = ui.render_guess(run, rgba)

st.divider()
if run.is_classifier:
    ui.render_test_set(store, run, image)
else:
    st.caption("Pick a classifier run to label drawings and test the model on them.")
