"""The Draw page: the canvas, the model's guess, and the person's own labelled test set."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from dlapp.errors import EmptyCanvas
from dlapp.finetune import note as finetune_note
from dlapp.ui import owner
from dlapp.ui.common import friendly_errors, runs_with_model
from dlapp.ui.finetune import advance_prompt
from dlapp.ui.instruments import render_forward_pass
from dlapp.ui.prediction import (
    render_personal_test,
    render_prediction,
    render_reconstruction,
    render_waiting_prediction,
)
from dlapp.ui.starter import is_starter, model_for, starter_run

if TYPE_CHECKING:
    from dlapp.novelty import DigitReference
    from dlapp.store import Run, RunStore

UNSURE_BELOW = 0.6  # top probability under this is reported as "not sure"
DIGIT_DATASETS = ("mnist", "mnist-sample")  # models for which "not a digit" means something
LABEL_KEY = "draw_label"


def draw_models(store: RunStore) -> list[Run]:
    """Your runs with a saved model, latest classifier first (autoencoders after), then the shipped starter."""
    runs = runs_with_model(store)
    starter = starter_run()
    ordered = [r for r in runs if r.is_classifier] + [r for r in runs if not r.is_classifier]
    mine = owner.mine(store, "run")  # shared mode: this visitor's own runs before everyone else's
    if mine is not None:
        ordered = [r for r in ordered if r.id in mine] + [r for r in ordered if r.id not in mine]
    return ordered + ([starter] if starter is not None else [])


def _forget_label_when_cleared(has_ink: bool) -> None:
    """A new drawing starts without the last one's label: reset it when the canvas goes blank."""
    if st.session_state.get("draw_had_ink") and not has_ink:
        st.session_state[LABEL_KEY] = None
    st.session_state.draw_had_ink = has_ink


def _clear_canvas() -> None:
    """A fresh canvas for the next prompted digit: a new key remounts it empty."""
    st.session_state.canvas_key = st.session_state.get("canvas_key", 0) + 1


def render_canvas(key: str | None = None) -> np.ndarray | None:
    """The drawing canvas; the canvas image (280, 280, 4) uint8, or None.

    Its own toolbar clears it (the bin, "Reset canvas & history"): the canvas stays mounted,
    so a stroke drawn right after clearing counts. A separate Clear button remounted it under
    a new key, which could swallow that stroke. `key`: a canvas of its own elsewhere (a lesson),
    apart from the Draw page's canvas and its label.
    """
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
        # Fixed unless "draw the digit shown" mode clears it after a save; the bin keeps it mounted.
        key=key or f"canvas_{st.session_state.get('canvas_key', 0)}",
    )
    st.caption("Draw one digit, large, in the middle of the box. The bin above the box clears it.")
    rgba = None if canvas.image_data is None else np.asarray(canvas.image_data)
    if key is None:
        _forget_label_when_cleared(rgba is not None and bool(rgba[..., 3].any()))
    return rgba


@st.cache_resource(show_spinner=False)
def _digit_reference() -> DigitReference:
    from dlapp.novelty import mnist_reference

    return mnist_reference()


def render_guess(run: Run, rgba: np.ndarray | None) -> np.ndarray | None:
    """What the model makes of the drawing; returns the 28x28 image it saw, or None for an empty canvas."""
    from dlapp.preprocess import canvas_to_mnist

    # The hint's slot stays, empty, under a drawing: every element below keeps its place, so a
    # stroke updates the waiting row and bars in place instead of the browser building them anew.
    hint = st.empty()
    try:
        if rgba is None:
            raise EmptyCanvas("empty")
        image = canvas_to_mnist(rgba)
    except EmptyCanvas:
        hint.info("Draw a digit on the left and the model's guess appears here.", icon=":material/gesture:")
        if run.is_classifier:
            render_waiting_prediction()
        return None
    with friendly_errors():
        model = model_for(run)
        if not run.is_classifier:
            render_reconstruction(model, image)
        else:
            check = _digit_reference().check(image) if run.dataset in DIGIT_DATASETS else None
            render_prediction(model, image, UNSURE_BELOW, check)
        render_forward_pass(model, image)
    return image


def prepare_model(run: Run) -> bool:
    """Load and warm the picked model now, before any stroke; False (after one sentence) when it cannot be used."""
    with friendly_errors():
        model_for(run)
        if run.is_classifier and run.dataset in DIGIT_DATASETS:
            _digit_reference()
        return True
    if is_starter(run):
        st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
    return False


def render_model_note(run: Run) -> None:
    """Which model the page uses and how it was trained, in one line."""
    if is_starter(run):
        from dlapp.starter import starter_card

        with friendly_errors():
            st.caption(starter_card().summary + " Train your own on the Train page: it will come first here.")
        return
    train = run.config.train
    accuracy = run.metrics.get("test_accuracy")
    scored = f"; {accuracy:.1%} right on its test digits" if accuracy is not None else ""
    augmented = "with" if run.config.model.augment else "without"
    tuned = finetune_note(run)
    if tuned:  # its epochs were a fine-tune's: say so rather than "trained for 3 epochs"
        st.caption(f"Run #{run.id}: {tuned[0].lower()}{tuned[1:-1]}{scored}.")
        return
    st.caption(
        f"Run #{run.id}: {run.arch.upper()} trained on {run.dataset} for {run.epochs_completed} epoch(s), "
        f"batch {train.batch_size}, {augmented} augmentation{scored}."
    )


def _fingerprint(image: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(image, dtype=np.float32).tobytes()).hexdigest()


def _save_drawing(store: RunStore, label: int, image: np.ndarray, prompted: bool = False) -> None:
    """Save-button callback: it runs before the page, so the page already shows Save greyed out.

    In "draw the digit shown" mode the next digit is then asked for on a clean canvas."""
    with friendly_errors():
        owner.claim_drawing(store, store.add_drawing(int(label), image))  # shared mode: a personal test set
        st.session_state.saved_drawing = _fingerprint(image)
        st.toast(f"Saved as a {label}.")
        if prompted:
            advance_prompt(label)
            _clear_canvas()


def render_test_set(store: RunStore, run: Run, image: np.ndarray | None, prompt: int | None = None) -> None:
    """Label and save drawings, and score the model on all of them; `prompt`: the digit asked for, if any."""
    st.subheader("Your own test set")
    label_col, save_col, test_col = st.columns([1, 1, 2], vertical_alignment="bottom")
    if prompt is None:
        label = label_col.selectbox(
            "This drawing is a", range(10), index=None, placeholder="pick its digit", key=LABEL_KEY
        )
    else:
        label = label_col.selectbox("This drawing is a", [prompt], disabled=True)
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
        "Save drawing",
        disabled=reason is not None,
        help=reason,
        on_click=_save_drawing,
        args=(store, label, image, prompt is not None),
    )
    drawn_x, drawn_y = owner.my_drawings(store)  # after a save: the new drawing counts
    if test_col.button(
        f"Test this model on your {len(drawn_y)} drawing(s)",
        disabled=len(drawn_y) == 0,
        help="Save a few labelled drawings first." if len(drawn_y) == 0 else None,
    ):
        with friendly_errors(), st.spinner("Predicting…"):
            render_personal_test(model_for(run), drawn_x, drawn_y)
    elif len(drawn_y):
        st.caption(f"{len(drawn_y)} saved drawing(s): {per_digit(drawn_y)}.")


def per_digit(labels: np.ndarray) -> str:
    """'3 × 0, 1 × 7': how many saved drawings of each digit, leaving out digits with none."""
    counts = np.bincount(labels, minlength=10)
    return ", ".join(f"{count} × {digit}" for digit, count in enumerate(counts) if count)
