"""The Draw page's handwriting tools: "draw the digit shown" mode, the drawings to review, and
"Teach this model my handwriting" with its before/after."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from dlapp import finetune
from dlapp.handwriting import needed_sentence, suspects
from dlapp.ui.common import friendly_errors, render_digit, run_model, runs_with_model
from dlapp.ui.training import render_progress

if TYPE_CHECKING:
    from dlapp.store import Run, RunStore

JOB_KEY = "finetune_job"  # session_state: the fine-tune this session started
PROMPT_KEY = "prompt_digit"  # session_state: the digit "draw the digit shown" asks for next
REVIEW_MODELS = 3  # a drawing is listed for review when every one of these models rules its label out


def prompted_digit() -> int | None:
    """The digit to draw next in "draw the digit shown" mode, or None when the mode is off."""
    on = st.toggle(
        "Draw the digit shown",
        key="prompt_mode",
        help="The page asks for 0, 1, 2 … 9 in turn; each save is labelled with the digit asked for.",
    )
    if not on:
        return None
    return st.session_state.setdefault(PROMPT_KEY, 0)


def render_prompt(digit: int) -> None:
    st.markdown(f"### Draw a **{digit}**")
    st.caption("Save it when it looks right; the next digit is asked for on a clean canvas.")


def advance_prompt(digit: int) -> None:
    """After `digit` was saved in prompt mode: ask for the next one (9 is followed by 0)."""
    st.session_state[PROMPT_KEY] = (int(digit) + 1) % 10


def render_finetune(store: RunStore, run: Run) -> None:
    """The fine-tune button (or what is missing), the drawings to review, and this session's fine-tune."""
    st.subheader("Teach this model your handwriting")
    st.caption(
        "Trains a copy of this model on your drawings (shifted, turned, zoomed, thicker and thinner), "
        "mixed half and half with its original training digits so it keeps what it knew. "
        "One drawing in five of each digit is held out: it is never trained on, only tested."
    )
    missing = finetune.refusal(run) or needed_sentence(store.drawings()[1])
    job = st.session_state.get(JOB_KEY)
    busy = job is not None and not job.done
    epochs_col, button_col = st.columns([1, 3], vertical_alignment="bottom")
    epochs = epochs_col.number_input("Epochs", 1, 50, 5, key="finetune_epochs", disabled=busy)
    if button_col.button(
        "Teach this model my handwriting",
        icon=":material/school:",
        type="primary",
        disabled=missing is not None or busy,
        help=missing,
    ):
        with friendly_errors():
            st.session_state[JOB_KEY] = job = finetune.start_finetune(store, run, int(epochs))
    if missing:
        st.caption(missing)
    if job is not None:
        _render_job(store, job)


def render_review(store: RunStore) -> None:
    """Drawings whose label every recent model all but rules out (or blank ones), each with Delete."""
    images, labels = store.drawings()
    if not len(labels):
        return
    ids = store.drawing_ids()
    flagged = suspects(images, labels, _label_probabilities(store, images, labels))
    if not flagged:
        return
    st.warning(
        f"{len(flagged)} drawing(s) look blank or unlike their label to every model: check them before teaching.",
        icon=":material/rule:",
    )
    for start in range(0, len(flagged), 8):
        for cell, index in zip(st.columns(8), flagged[start : start + 8], strict=False):
            with cell:
                render_digit(images[index], f"saved as {labels[index]}", factor=2)
                if st.button("Delete", key=f"delete_drawing_{ids[index]}", icon=":material/delete:"):
                    store.delete_drawing(ids[index])
                    st.rerun()


def _label_probabilities(store: RunStore, images: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    from dlapp.data import shape_for
    from dlapp.evaluation import predict

    out = []
    for run in runs_with_model(store, classifier=True)[:REVIEW_MODELS]:
        with friendly_errors():
            probabilities = predict(run_model(run), shape_for(images, run.arch))
            out.append(probabilities[np.arange(len(labels)), labels])
    return out


def _render_job(store: RunStore, job) -> None:
    if not job.done:
        _watch(job.run_id)
        return
    if job.status == "failed":
        st.error(f"Fine-tuning failed: {job.error}", icon=":material/error:")
        return
    result = finetune.summary(store, job)
    child = store.run(job.run_id)
    st.success(
        f"{finetune.note(child)} The new model is run #{child.id}; pick it under Model to draw with it.",
        icon=":material/school:",
    )
    drawn, mnist = st.columns(2)
    _before_after(drawn, "Your held-out drawings", result["heldout_accuracy_before"], result["heldout_accuracy_after"])
    _before_after(mnist, "MNIST test digits", result["test_accuracy_before"], result["test_accuracy_after"])


def _before_after(column, label: str, before: float | None, after: float | None) -> None:
    if before is None or after is None:
        column.metric(label, "–")
        return
    column.metric(label, f"{after:.0%}", f"{(after - before) * 100:+.0f} points (was {before:.0%})")


@st.fragment(run_every=1.0)
def _watch(run_id: int) -> None:
    from dlapp.jobs import get_job

    job = get_job(run_id)
    if job is None or job.done:
        st.rerun()  # the whole page: it now shows the before/after, without a timer
    render_progress(job)
