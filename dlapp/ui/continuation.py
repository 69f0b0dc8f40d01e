"""Continue training a run, and start a new run with a run's settings: controls the pages share.

Each page adds one call: `render_model_epoch` where a run is shown, `render_continue` and
`render_again` where a run is managed. `use_settings(config)` is the one way to fill the Train
page's settings from a config (the experiments view's "Open in Train" calls it too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from dlapp.resume import MAX_EPOCHS, checkpoint_epochs, continuation_notes, model_epoch_note, refusal
from dlapp.ui.common import friendly_errors, keras_ready

if TYPE_CHECKING:
    from dlapp.config import RunConfig
    from dlapp.store import Run, RunStore

TRAIN_PAGE = "pages/train.py"


def model_caption(run: Run) -> str | None:
    """'Model from epoch 4 of 30.' when the saved model is from before the run's end, else None."""
    note = model_epoch_note(run)
    return f"{note[:1].upper()}{note[1:]}." if note else None


def render_model_epoch(store: RunStore, run: Run) -> None:
    """Which epoch the run's saved model is from (when not its last), and which epochs were continued."""
    lines = [model_caption(run), *continuation_notes(store, run)]
    for line in filter(None, lines):
        st.caption(line)


def further_epochs_default(run: Run) -> int:
    """The epochs a run still had planned when it stopped early, else as many as it first had."""
    have = checkpoint_epochs(run) or 0
    remaining = run.config.train.epochs - have
    return remaining if remaining > 0 else min(run.config.train.epochs, max(1, MAX_EPOCHS - have))


def render_continue(store: RunStore, run: Run, *, go_to_train: bool = False) -> None:
    """'Continue training' with further epochs and a learning rate; disabled, with the reason, when it cannot."""
    reason = refusal(run)
    with st.form(f"continue_{run.id}", border=False):
        epochs_col, rate_col = st.columns(2)
        more = epochs_col.number_input(
            "Further epochs",
            value=further_epochs_default(run),
            step=1,
            format="%d",
            disabled=reason is not None,
            help=f"Trained from the saved model on, the epoch count going on; a run has at most {MAX_EPOCHS}.",
        )
        rate = rate_col.number_input(
            "Learning rate",
            value=float(run.config.train.learning_rate),
            step=1e-4,
            format="%g",
            disabled=reason is not None,
            help="Keep it, or lower it to fine-tune; the architecture cannot change.",
        )
        pressed = st.form_submit_button(
            "Continue training",
            icon=":material/resume:",
            disabled=reason is not None,
            help=reason or "Same weights, same optimizer state; the run keeps its id and its curves go on.",
        )
    if reason:
        st.caption(reason)
    if pressed:
        with friendly_errors():
            _continue(store, run, more, rate)
            if go_to_train:
                st.switch_page(TRAIN_PAGE)
            st.rerun()


def _continue(store: RunStore, run: Run, more: Any, rate: float) -> None:
    from dlapp.resume import plan_continuation, start_continuation

    keras_ready()
    more = int(more) if isinstance(more, float) and more.is_integer() else more
    new_rate = None if rate == run.config.train.learning_rate else float(rate)
    plan = plan_continuation(run, more, new_rate)
    start_continuation(store, plan)
    st.session_state.train_run_id = run.id  # the Train page shows it live...
    st.session_state.pop(f"events_{run.id}", None)  # ...from the new job's events, not the last job's


def use_settings(config: RunConfig) -> None:
    """Fill the Train page's settings with `config`; nothing trains until the person presses Train.

    Call it from a button's `on_click` (or before the Train page draws its settings): Streamlit
    refuses a new value for a widget already drawn in this rerun.
    """
    from dlapp.ui import settings

    saved = st.session_state.setdefault(settings.SAVED, {})  # what the Train page falls back to after a page switch
    for name, value in config.flat().items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else value
        saved[name] = shown
        st.session_state[settings.KEY + name] = shown


def render_again(run: Run, *, go_to_train: bool = False) -> None:
    """'Again with these settings': the run's config in the Train page's settings, in one click."""
    pressed = st.button(
        "Again with these settings",
        key=f"again_{run.id}",
        icon=":material/replay:",
        on_click=use_settings,
        args=(run.config,),
        help="Fill the Train page's settings with this run's; nothing starts until you press Train.",
    )
    if pressed:
        if go_to_train:
            st.switch_page(TRAIN_PAGE)
        st.toast(f"The settings of run #{run.id} are filled in.")


def render_continuation(store: RunStore, run: Run | None, *, go_to_train: bool = False) -> None:
    """Under a shown run: which epoch its model is from, 'Continue training' and 'Again with these settings'."""
    if run is None:
        return
    render_model_epoch(store, run)
    with st.expander("Continue training, or start again with these settings", expanded=run.status == "interrupted"):
        render_continue(store, run, go_to_train=go_to_train)
        render_again(run, go_to_train=go_to_train)
