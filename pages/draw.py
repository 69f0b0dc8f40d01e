"""Draw: draw a digit, see what a trained model thinks, and keep drawings as your own test set."""

import streamlit as st

from dlapp import ui
from dlapp.starter import UNAVAILABLE as STARTER_UNAVAILABLE

ui.page_setup("Draw")
store = ui.get_store()
runs = ui.draw_models(store)
if not runs:  # no run with a model, and the starter model is missing or damaged
    st.info(STARTER_UNAVAILABLE, icon=":material/edit:")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

run = ui.pick_run(
    runs,
    "Model",
    key="draw_run",
    help="Your runs with a saved model come first, latest classifier first; the starter model is last.",
    label_of=ui.model_label,
)
ui.render_model_note(run)
if not ui.prepare_model(run):  # loads the model now, so the first stroke does not wait for it
    st.stop()
prompt = ui.prompted_digit() if run.is_classifier else None  # "draw the digit shown" mode
if prompt is not None:
    ui.render_prompt(prompt)
st.space("medium")  # room for the canvas toolbar, which floats above the canvas
canvas_col, result_col = st.columns([2, 3], gap="large")
with canvas_col:
    rgba = ui.render_canvas()
with result_col:
    image = ui.render_guess(run, rgba)

st.divider()
if run.is_classifier:
    ui.render_test_set(store, run, image, prompt)
    st.divider()
    ui.render_review(store)
    ui.render_finetune(store, run)
else:
    st.caption(
        "Pick a classifier run to label drawings, test the model on them and teach it your handwriting: "
        "an autoencoder has no digit labels."
    )
