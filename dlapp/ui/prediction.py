"""The Draw page's prediction, saliency and reconstruction views, and the personal test set."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from dlapp import plots
from dlapp.ui.common import render_digit, render_gallery

if TYPE_CHECKING:
    from dlapp.inference import Prediction
    from dlapp.novelty import DigitCheck

CONFIDENTLY_WRONG = (
    "A classifier always shares 100% among its ten digits, so it is sure of one of them "
    "even for a shape unlike anything it trained on."
)


SEEN_CAPTION = "What the model sees (28×28)"
SALIENCY_CAPTION = "Pixels that moved the guess most"


def render_prediction(model, image: np.ndarray, unsure_below: float, check: DigitCheck | None = None) -> None:
    """What the model sees, its guess, the probability bars and a saliency overlay.

    check: whether the image looks like a digit at all (None: not judged, for non-digit datasets).
    """
    from dlapp.inference import predict, saliency

    prediction = predict(model, image, threshold=unsure_below)
    seen_col, guess_col, map_col = st.columns(3)
    with seen_col:
        render_digit(image, SEEN_CAPTION, factor=5)
    with guess_col:
        _render_guess_metric(prediction, check)
    with map_col:
        heat = saliency(model, image, prediction.label)
        st.image(plots.upscale(plots.saliency_overlay(image, heat), 5), caption=SALIENCY_CAPTION)
    if check is not None and not check.looks_like_digit:
        st.warning(f"This doesn't look like a digit: {check.reason} {CONFIDENTLY_WRONG}", icon=":material/help:")
    render_bars(prediction.probabilities, prediction.label)


def _render_guess_metric(prediction: Prediction, check: DigitCheck | None) -> None:
    confident = f"{prediction.confidence:.0%} confident"
    if check is not None and not check.looks_like_digit:
        st.metric("Not a digit?", f"{prediction.label}?", confident, delta_color="off", delta_arrow="off")
    elif prediction.unsure:
        st.metric("Not sure", f"{prediction.label}?", confident, delta_color="off", delta_arrow="off")
        runners = ", ".join(f"{k} ({p:.0%})" for k, p in prediction.top_k[1:])
        st.caption(f"Also possible: {runners}.")
    else:
        st.metric("It's a", str(prediction.label), confident, delta_color="off", delta_arrow="off")


def render_waiting_prediction() -> None:
    """The prediction's row and bars before any stroke, blank: the first stroke then only fills them in.

    The browser fetches the code of a metric the first time one is on the page (0.2 s here): shown
    now, that wait is over before the person draws.
    """
    blank = np.zeros((28, 28), np.float32)
    seen_col, guess_col, map_col = st.columns(3)
    with seen_col:
        render_digit(blank, SEEN_CAPTION, factor=5)
    with guess_col:
        st.metric("Its guess", "–", "draw a digit", delta_color="off", delta_arrow="off")
    with map_col:
        st.image(plots.upscale(plots.saliency_overlay(blank, blank), 5), caption=SALIENCY_CAPTION)
    render_bars(np.zeros(10), None)


def render_bars(probabilities: np.ndarray, highlight: int | None) -> None:
    """The probability per class as a picture (`dlapp.probability_image`: cheaper to redraw than a chart)."""
    from dlapp.probability_image import probability_image

    st.markdown("**Probability per class**")
    st.image(probability_image(probabilities, [str(d) for d in range(10)], highlight), width="stretch")


def render_reconstruction(autoencoder, image: np.ndarray) -> None:
    from dlapp.inference import reconstruct

    reconstruction, latent = reconstruct(autoencoder, image)
    seen_col, out_col = st.columns(2)
    with seen_col:
        render_digit(image, "Your digit (28×28)", factor=5)
    with out_col:
        render_digit(reconstruction, "The autoencoder's reconstruction", factor=5)
    code = ", ".join(f"{v:.2f}" for v in latent[:8]) + (" …" if len(latent) > 8 else "")
    st.caption(f"Latent code: ({code})")


def render_personal_test(model, images: np.ndarray, labels: np.ndarray) -> None:
    """Accuracy on the person's labelled drawings, and each drawing with its guess."""
    from dlapp.inference import predict_proba

    guesses = np.array([int(np.argmax(predict_proba(model, image))) for image in images])
    right = guesses == labels
    st.metric(
        "Accuracy on your drawings",
        f"{right.mean():.0%}",
        f"{int(right.sum())} of {len(labels)} right",
        delta_color="off",
        delta_arrow="off",
    )
    captions = [f"{'✓' if ok else '✗'} {t} → {g}" for t, g, ok in zip(labels, guesses, right, strict=True)]
    render_gallery(images, captions, factor=2)
