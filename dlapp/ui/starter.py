"""The Draw page's models: the person's runs first, then the starter model shipped with dlapp.

The starter appears as a pseudo-run (id 0, which SQLite never gives a run) so the page's
guess and test-set views take it like any other. Models load, and their prediction
functions are traced, when the page opens or the model is picked: the first stroke
then costs what every other stroke costs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from dlapp.presets import BEST_FOR_DRAWING
from dlapp.starter import MODEL_FILE, StarterUnavailable, starter_card

if TYPE_CHECKING:
    from dlapp.store import Run

STARTER_ID = 0


def starter_run() -> Run | None:
    """The shipped starter model as a run, or None when its card is missing or damaged."""
    from dlapp.store import Run

    try:
        card = starter_card()
    except StarterUnavailable:
        return None
    return Run(
        id=STARTER_ID,
        name="starter model",
        created="",
        arch="cnn",
        dataset="mnist-sample",
        config=BEST_FOR_DRAWING.config,
        status="shipped",
        metrics={"test_accuracy": card.test_accuracy},
        model_path=str(MODEL_FILE),
        error=None,
        tags=["starter"],
        seconds=card.seconds,
        samples_per_second=None,
        epochs_completed=card.epochs,
        confusion=None,
        pid=None,
    )


def is_starter(run: Run) -> bool:
    return run.id == STARTER_ID


@st.cache_resource(show_spinner="Loading the starter model…")
def _starter_model():
    from dlapp.starter import load_starter

    return _warmed(load_starter())


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _run_model(model_path: str, modified: float):
    from dlapp.modelfile import load_model_file

    return _warmed(load_model_file(model_path))


def _warmed(model):
    """Trace the prediction and saliency functions once on a blank digit, so no stroke waits for it."""
    from dlapp.inference import predict_proba, saliency

    blank = np.zeros((28, 28), np.float32)
    if model.output_shape[1:] == (10,):
        predict_proba(model, blank)
        saliency(model, blank, 0)
    return model


def model_for(run: Run):
    """The loaded, warmed model of a run or of the starter; DlappError with one sentence otherwise."""
    import os

    from dlapp.errors import ModelRejected

    if is_starter(run):
        return _starter_model()
    if not run.model_path or not os.path.exists(run.model_path):
        raise ModelRejected(f"Run {run.id} has no saved model file; train it again or pick another run.")
    return _run_model(run.model_path, os.path.getmtime(run.model_path))


def model_label(run: Run) -> str:
    """How the Draw page's model list shows a run, or the starter."""
    from dlapp.ui.common import run_label

    if is_starter(run):
        return "Starter model (shipped with dlapp)"
    return run_label(run)
