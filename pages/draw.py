"""Draw: draw a digit, see what a trained model thinks, and keep drawings as your own test set."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from dlapp import ui
from dlapp.errors import EmptyCanvas

UNSURE_BELOW = 0.6  # top probability under this is reported as "not sure"

ui.page_setup("Draw")
store = ui.get_store()
runs = ui.runs_with_model(store)
if not runs:
    st.info(
        "There is no trained model yet: train one on the Train page, then come back to draw.", icon=":material/edit:"
    )
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

classifiers = [run for run in runs if run.is_classifier]
ordered = classifiers + [run for run in runs if not run.is_classifier]  # latest classifier first
run = ui.pick_run(ordered, "Model", key="draw_run", help="Runs with a saved model, latest classifier first.")
if "canvas_key" not in st.session_state:
    st.session_state.canvas_key = 0

st.space("medium")  # room for the canvas toolbar, which floats above the canvas
canvas_col, result_col = st.columns([2, 3], gap="large")
with canvas_col:
    canvas = st_canvas(
        stroke_width=18,
        stroke_color="#000000",
        background_color="",  # transparent: the ink is the alpha channel
        height=280,
        width=280,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"canvas_{st.session_state.canvas_key}",
    )
    st.caption("Draw one digit, large, in the middle of the box.")
    if st.button("Clear", icon=":material/ink_eraser:"):
        st.session_state.canvas_key += 1
        st.rerun()

with result_col:
    image = None
    with ui.friendly_errors():
        from dlapp.preprocess import canvas_to_mnist

        try:
            if canvas.image_data is None:
                raise EmptyCanvas("empty")
            image = canvas_to_mnist(np.asarray(canvas.image_data))
        except EmptyCanvas:
            st.info("Draw a digit on the left and the model's guess appears here.", icon=":material/gesture:")
        if image is not None:
            model = ui.run_model(run)
            if run.is_classifier:
                ui.render_prediction(model, image, UNSURE_BELOW)
            else:
                ui.render_reconstruction(model, image)
            ui.render_forward_pass(model, image)

if run.is_classifier:
    st.divider()
    st.subheader("Your own test set")
    drawn_x, drawn_y = store.drawings()
    label_col, save_col, test_col = st.columns([1, 1, 2], vertical_alignment="bottom")
    label = label_col.selectbox("This drawing is a", range(10), index=None, placeholder="pick its digit")
    save_reason = "Draw a digit first." if image is None else "Pick the digit it shows." if label is None else None
    if save_col.button("Save drawing", disabled=save_reason is not None, help=save_reason):
        with ui.friendly_errors():
            store.add_drawing(int(label), image)
            st.toast(f"Saved as a {label}.")
            drawn_x, drawn_y = store.drawings()
    test_help = "Save a few labelled drawings first." if len(drawn_y) == 0 else None
    if test_col.button(
        f"Test this model on your {len(drawn_y)} drawing(s)", disabled=len(drawn_y) == 0, help=test_help
    ):
        with ui.friendly_errors(), st.spinner("Predicting…"):
            ui.render_personal_test(ui.run_model(run), drawn_x, drawn_y)
    elif len(drawn_y):
        st.caption(f"{len(drawn_y)} saved drawing(s); counts per digit: {np.bincount(drawn_y, minlength=10).tolist()}")
else:
    st.caption("Pick a classifier run to label drawings and test the model on them.")
