"""The Evaluate page's reports: confusion matrix, mistakes, per-class scores, latent space."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from dlapp import plots
from dlapp.ui.common import keras_ready, load_dataset, load_model, render_digit, render_gallery, run_model

if TYPE_CHECKING:
    from dlapp.store import Run


@st.cache_resource(show_spinner=False, max_entries=8)
def _report(run_id: int, model_path: str, modified: float, dataset: str, classifier: bool):
    from dlapp import evaluation
    from dlapp.data import arch_for_input, shape_for

    keras_ready()
    model = load_model(model_path, modified)
    raw = load_dataset(dataset)
    if classifier:
        arch = arch_for_input(model.input_shape)  # the input shape the file itself wants
        return evaluation.evaluate_classifier(model, shape_for(raw.x_test, arch), raw.y_test, raw.class_names)
    return evaluation.evaluate_autoencoder(model, raw.x_test)


def evaluation_report(run: Run):
    """The run's test-set report, computed once per run (and model file version) per server."""
    run_model(run)  # raises a sentence when the file is missing
    return _report(run.id, run.model_path, os.path.getmtime(run.model_path), run.dataset, run.is_classifier)


@st.cache_resource(show_spinner=False, max_entries=8)
def _codes(run_id: int, model_path: str, modified: float, dataset: str) -> np.ndarray:
    from dlapp.evaluation import latent_codes

    return latent_codes(load_model(model_path, modified), load_dataset(dataset).x_test)


def latent_codes_for(run: Run) -> np.ndarray:
    return _codes(run.id, run.model_path, os.path.getmtime(run.model_path), run.dataset)


def _pick_cell(chart_key: str) -> None:
    """A click on a confusion-matrix cell sets the true/predicted selectboxes."""
    points = st.session_state[chart_key].selection.points
    if points:
        st.session_state.cell_true, st.session_state.cell_pred = str(points[0]["y"]), str(points[0]["x"])


def render_classifier_report(report, x_test: np.ndarray) -> None:
    names = [str(c) for c in report.class_names]
    cells = st.columns(4)
    cells[0].metric("Test accuracy", f"{report.accuracy:.2%}")
    cells[1].metric("Test loss", f"{report.loss:.4f}")
    cells[2].metric("Mistakes", f"{len(report.mistakes):,} of {len(report.labels):,}")
    worst = int(np.argmin(report.recall))
    cells[3].metric(
        "Hardest class", names[worst], f"recall {report.recall[worst]:.0%}", delta_color="off", delta_arrow="off"
    )

    matrix_col, cell_col = st.columns([3, 2], gap="large")
    with matrix_col:
        st.plotly_chart(
            plots.confusion_heatmap(report.confusion, names),
            key="confusion",
            on_select=lambda: _pick_cell("confusion"),
            selection_mode="points",
            config={"displayModeBar": False},
        )
    with cell_col:
        off = report.confusion.copy()
        np.fill_diagonal(off, -1)
        t, p = np.unravel_index(np.argmax(off), off.shape)  # the most common confusion, as a start
        if "cell_true" not in st.session_state or st.session_state.cell_true not in names:
            st.session_state.cell_true, st.session_state.cell_pred = names[t], names[p]
        st.markdown("**Images in one cell** (click a cell, or choose)")
        true_col, pred_col = st.columns(2)
        true_name = true_col.selectbox("True class", names, key="cell_true")
        pred_name = pred_col.selectbox("Predicted as", names, key="cell_pred")
        ti, pi = names.index(true_name), names.index(pred_name)
        chosen = np.flatnonzero((report.labels == ti) & (report.predictions == pi))
        if len(chosen) == 0:
            st.info(f"No test image of {true_name} was predicted as {pred_name}.")
        else:
            st.caption(f"{len(chosen)} image(s); showing up to 24.")
            shown = chosen[:24]
            confidence = report.probabilities[shown, pi]
            render_gallery(x_test[shown], [f"{c:.0%}" for c in confidence], columns=6, factor=2)

    st.plotly_chart(plots.precision_recall(report.precision, report.recall, names), config={"displayModeBar": False})
    st.subheader("Most confident mistakes")
    st.caption("Wrong answers the model was surest about: often badly written digits, sometimes wrong labels.")
    shown = report.mistakes[:16]
    if len(shown) == 0:
        st.success("No mistakes on the test set.")
        return
    captions = [
        f"{names[report.labels[i]]} → {names[report.predictions[i]]} ({report.probabilities[i].max():.0%})"
        for i in shown
    ]
    render_gallery(x_test[shown], captions, columns=8, factor=3)


def render_autoencoder_report(run: Run, report, x_test: np.ndarray, y_test: np.ndarray, codes: np.ndarray) -> None:
    from dlapp.evaluation import decode_points

    cells = st.columns(3)
    cells[0].metric("Test reconstruction error (MSE)", f"{report.mse:.4f}")
    cells[1].metric("Latent size", codes.shape[1])
    cells[2].metric("Test images", f"{len(x_test):,}")

    st.subheader("Originals and reconstructions")
    picked = np.concatenate([np.flatnonzero(y_test == k)[:1] for k in range(10)])
    pair = np.concatenate([x_test[picked].astype(np.float32) / 255.0, report.reconstructions[picked]])
    st.image(plots.upscale(plots.mosaic(pair, columns=10), 3), caption="Top: test images. Bottom: reconstructions.")

    scatter_col, explore_col = st.columns([3, 2], gap="large")
    points, note = plots.project_2d(codes)
    with scatter_col:
        names = load_dataset(run.dataset).class_names
        st.plotly_chart(plots.latent_scatter(points, y_test, names, note), config={"displayModeBar": False})
    with explore_col:
        st.markdown("**Decoder explorer**: move through the plane and see what the decoder draws there.")
        if codes.shape[1] == 2:
            mean, directions = np.zeros(2), np.eye(2)
        elif codes.shape[1] == 1:
            mean, directions = np.zeros(1), np.array([[1.0], [0.0]])
        else:
            mean, directions = plots.pca_plane(codes)
        low, high = np.percentile(points, 1, axis=0), np.percentile(points, 99, axis=0)
        a = st.slider("Horizontal", float(low[0]), float(high[0]), float(np.median(points[:, 0])), key="latent_a")
        b = 0.0
        if codes.shape[1] > 1:
            b = st.slider("Vertical", float(low[1]), float(high[1]), float(np.median(points[:, 1])), key="latent_b")
        point = plots.plane_point(mean, directions, a, b)
        image = decode_points(run_model(run), point[None].astype(np.float32))[0]
        render_digit(image, f"Decoded from ({a:.2f}, {b:.2f})", factor=6)
