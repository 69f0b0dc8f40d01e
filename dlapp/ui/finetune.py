"""The Draw page's handwriting tools: "draw the digit shown" mode, the drawings to review, and
"Teach this model my handwriting" with its before/after."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from dlapp import finetune
from dlapp.handwriting import needed_sentence, suspects
from dlapp.ui import owner
from dlapp.ui.common import friendly_errors, render_digit, runs_with_model
from dlapp.ui.starter import model_for, starter_run
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
        "Trains a copy of this model further on your drawings (shifted, turned, zoomed, thicker and thinner), "
        f"mixed with {_replay_words()} its original training digits so it keeps what it knew; {_which_layers()} "
        "change. The copy is a new run of yours; this run is not changed. "
        "One drawing in five of each digit is held out: it is never trained on, only tested."
    )
    missing = "This model could not be loaded; pick another run."  # friendly_errors has said why
    with friendly_errors():
        missing = finetune.refusal(run, model_for(run)) or needed_sentence(owner.my_drawings(store)[1])  # own drawings
    job = st.session_state.get(JOB_KEY) or _running_child(store, run)
    busy = job is not None and not job.done
    epochs_col, button_col = st.columns([1, 3], vertical_alignment="bottom")
    epochs = epochs_col.number_input("Epochs", 1, 50, finetune.EPOCHS, key="finetune_epochs", disabled=busy)
    if button_col.button(
        "Teach this model my handwriting",
        icon=":material/school:",
        type="primary",
        disabled=missing is not None or busy,
        help=missing,
    ):
        job = _start(store, run, int(epochs)) or job
        busy = job is not None and not job.done
    if missing:
        st.caption(missing)
    if busy:
        _watch(job.run_id)
    elif job is not None and job.status == "failed":
        st.error(f"Fine-tuning failed: {job.error}", icon=":material/error:")
    else:  # from the store, so a refresh (a new session) still shows it
        done = finetune.latest_finetune(store, run, owner.mine(store, "run"))
        if done is not None:
            render_before_after(done, in_use=done.id == run.id)


def _which_layers() -> str:
    return "all its layers" if finetune.TOP_LAYERS == 0 else f"only its last {finetune.TOP_LAYERS} layers with weights"


def _replay_words() -> str:
    """'three times as many of' for a replay share of 75%: old digits per drawing, in words."""
    ratio = finetune.REPLAY_SHARE / (1 - finetune.REPLAY_SHARE)
    words = {1: "as many of", 2: "twice as many of", 3: "three times as many of"}
    return words.get(round(ratio), f"{ratio:.1f} times as many of") if ratio >= 1 else "some of"


def _running_child(store: RunStore, run: Run):
    """After a refresh: the job of a fine-tune of `run` still queued or training in this server, if any."""
    from dlapp.jobs import get_job
    from dlapp.store import ACTIVE

    mine = owner.mine(store, "run")  # shared mode: another visitor's fine-tune of the same model is theirs
    children = (r for r in store.runs() if r.parent_run_id == run.id and (mine is None or r.id in mine))
    child = next((r for r in children if r.status in ACTIVE), None)
    return None if child is None else get_job(child.id)


def _start(store: RunStore, run: Run, epochs: int):
    """Queue the fine-tune as this visitor's new run (the model's own run is only read); None when refused."""
    if refusal := owner.jobs_refusal(store):  # shared mode: it counts against the visitor's quota
        st.error(refusal, icon=":material/block:")
        return None
    with friendly_errors():
        job = finetune.start_finetune(
            store, run, epochs, owner=owner.current_owner(), drawings=owner.mine(store, "drawing")
        )
        st.session_state[JOB_KEY] = job
        return job
    return None


def render_review(store: RunStore) -> None:
    """This visitor's drawings whose label every recent model all but rules out (or blank ones), each with Delete."""
    images, labels, ids = owner.my_drawings_with_ids(store)  # shared mode: only one's own can be deleted
    if not len(labels):
        return
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
    # Before anything is trained, the shipped starter model is the one model there is to ask.
    models = runs_with_model(store, classifier=True)[:REVIEW_MODELS] or [r for r in [starter_run()] if r]
    for run in models:
        with friendly_errors():
            probabilities = predict(model_for(run), shape_for(images, run.arch))
            out.append(probabilities[np.arange(len(labels)), labels])
    return out


def render_before_after(child: Run, in_use: bool = False) -> None:
    """A fine-tuned run's note and its accuracies before and after; `in_use`: the page draws with it."""
    result = finetune.run_summary(child)
    where = "the page is drawing with it" if in_use else "pick it under Model to draw with it"
    st.success(f"{finetune.note(child)} The new model is run #{child.id}; {where}.", icon=":material/school:")
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
