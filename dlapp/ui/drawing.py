"""The Draw page: the canvas, the model's guess, and the person's own labelled test set."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from dlapp.errors import EmptyCanvas
from dlapp.ui.common import friendly_errors, run_model, runs_with_model
from dlapp.ui.prediction import render_personal_test, render_prediction, render_reconstruction

if TYPE_CHECKING:
    from dlapp.novelty import DigitReference
    from dlapp.store import Run, RunStore

UNSURE_BELOW = 0.6  # top probability under this is reported as "not sure"
DIGIT_DATASETS = ("mnist", "mnist-sample")  # models for which "not a digit" means something
LABEL_KEY = "draw_label"


def draw_models(store: RunStore) -> list[Run]:
    """Runs with a saved model, latest classifier first (the autoencoders after them)."""
    runs = runs_with_model(store)
    return [r for r in runs if r.is_classifier] + [r for r in runs if not r.is_classifier]


def _clear_canvas() -> None:
    st.session_state.canvas_key = st.session_state.get("canvas_key", 0) + 1
    st.session_state[LABEL_KEY] = None  # a new drawing starts without the last one's label


def render_canvas() -> np.ndarray | None:
    """The drawing canvas and its Clear button; the canvas image (280, 280, 4) uint8, or None."""
    # Imported here: the component registers itself on import, which needs a running Streamlit
    # server, and the Home page (which imports dlapp.ui) has no use for it.
    from streamlit_drawable_canvas import st_canvas

    canvas = st_canvas(
        stroke_width=18,
        stroke_color="#000000",
        background_color="",  # transparent: the ink is the alpha channel
        height=280,
        width=280,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"canvas_{st.session_state.get('canvas_key', 0)}",
    )
    st.caption("Draw one digit, large, in the middle of the box.")
    st.button("Clear", icon=":material/ink_eraser:", on_click=_clear_canvas)
    return None if canvas.image_data is None else np.asarray(canvas.image_data)


@st.cache_resource(show_spinner=False)
def _digit_reference() -> DigitReference:
    from dlapp.novelty import mnist_reference

    return mnist_reference()


def render_guess(run: Run, rgba: np.ndarray | None) -> np.ndarray | None:
    """What the model makes of the drawing; returns the 28x28 image it saw, or None for an empty canvas."""
    from dlapp.preprocess import canvas_to_mnist

    try:
        if rgba is None:
            raise EmptyCanvas("empty")
        image = canvas_to_mnist(rgba)
    except EmptyCanvas:
        st.info("Draw a digit on the left and the model's guess appears here.", icon=":material/gesture:")
        return None
    with friendly_errors():
        model = run_model(run)
        if not run.is_classifier:
            render_reconstruction(model, image)
        else:
            check = _digit_reference().check(image) if run.dataset in DIGIT_DATASETS else None
            render_prediction(model, image, UNSURE_BELOW, check)
    return image


def _fingerprint(image: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(image, dtype=np.float32).tobytes()).hexdigest()


def _save_drawing(store: RunStore, label: int, image: np.ndarray) -> None:
    """Save-button callback: it runs before the page, so the page already shows Save greyed out."""
    with friendly_errors():
        store.add_drawing(int(label), image)
        st.session_state.saved_drawing = _fingerprint(image)
        st.toast(f"Saved as a {label}.")


def render_test_set(store: RunStore, run: Run, image: np.ndarray | None) -> None:
    """Label and save drawings, and score the model on all of them."""
    st.subheader("Your own test set")
    label_col, save_col, test_col = st.columns([1, 1, 2], vertical_alignment="bottom")
    label = label_col.selectbox("This drawing is a", range(10), index=None, placeholder="pick its digit", key=LABEL_KEY)
    saved = image is not None and st.session_state.get("saved_drawing") == _fingerprint(image)
    reason = (
        "Draw a digit first."
        if image is None
        else "This drawing is saved; draw another one or change it."
        if saved
        else "Pick the digit it shows."
        if label is None
        else None
    )
    save_col.button(
        "Save drawing", disabled=reason is not None, help=reason, on_click=_save_drawing, args=(store, label, image)
    )
    drawn_x, drawn_y = store.drawings()  # after a save: the new drawing counts
    if test_col.button(
        f"Test this model on your {len(drawn_y)} drawing(s)",
        disabled=len(drawn_y) == 0,
        help="Save a few labelled drawings first." if len(drawn_y) == 0 else None,
    ):
        with friendly_errors(), st.spinner("Predicting…"):
            render_personal_test(run_model(run), drawn_x, drawn_y)
    elif len(drawn_y):
        st.caption(f"{len(drawn_y)} saved drawing(s): {per_digit(drawn_y)}.")


def per_digit(labels: np.ndarray) -> str:
    """'3 × 0, 1 × 7': how many saved drawings of each digit, leaving out digits with none."""
    counts = np.bincount(labels, minlength=10)
    return ", ".join(f"{count} × {digit}" for digit, count in enumerate(counts) if count)
