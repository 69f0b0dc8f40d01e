"""Plotly figures for the pages. No Streamlit and no TensorFlow here: NumPy and Plotly only.

Train and validation keep the same colours on every chart, so a glance at any page
says which curve is which.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

# Set once rather than per figure: naming a template in update_layout validates and
# deep-copies it every time, which more than doubled the cost of a live chart redraw.
pio.templates.default = "plotly_white"

TRAIN_COLOR = "#4F46E5"  # indigo, the theme's primary colour
VAL_COLOR = "#F59E0B"  # amber
BATCH_COLOR = "rgba(79, 70, 229, 0.35)"  # the train colour, faded: per-batch noise
CORRECT_COLOR = "#10B981"
WRONG_COLOR = "#EF4444"
# Runs overlaid on one chart: train stays in indigo shades, validation in amber shades.
TRAIN_SHADES = ("#4F46E5", "#818CF8", "#3730A3", "#A5B4FC", "#312E81", "#6366F1")
VAL_SHADES = ("#F59E0B", "#FCD34D", "#B45309", "#FDE68A", "#78350F", "#FBBF24")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
CLASS_COLORS = (
    "#1F77B4",
    "#FF7F0E",
    "#2CA02C",
    "#D62728",
    "#9467BD",
    "#8C564B",
    "#E377C2",
    "#7F7F7F",
    "#BCBD22",
    "#17BECF",
)

METRIC_TITLES = {"loss": "Loss", "accuracy": "Accuracy", "mse": "Reconstruction error (MSE)"}
TWO_LINES = 62  # px above the plot for a title with a smaller second line
LOSS_NAMES = {"crossentropy": "cross-entropy", "mse": "MSE", "binary_crossentropy": "binary cross-entropy"}
LABEL_CHARS = 40  # a legend entry longer than this is cut: a long run name must not push the chart aside
# Right-to-left overrides and embeddings in a name: kept, but isolated, so they cannot flip what follows.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"


def one_line(text: object) -> str:
    """`text` with its line breaks turned into spaces and any direction override isolated."""
    line = " ".join(str(text).splitlines())
    if _BIDI_CONTROLS.search(line):
        line = FIRST_STRONG_ISOLATE + line + POP_DIRECTIONAL_ISOLATE
    return line


def plain_label(text: object, limit: int = LABEL_CHARS) -> str:
    """A person-typed `text` for a Plotly legend, hover label or title: one line, `limit` characters, no HTML.

    Plotly renders a subset of HTML in text (`<b>`, `<a href>`, `<br>`) and decodes entities,
    so escaping `&`, `<` and `>` makes it show the characters typed.
    """
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(one_line(text), quote=False)


def _layout(fig: go.Figure, title: str, height: int = 320, **kwargs) -> go.Figure:
    legend = {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0}
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={**legend, **kwargs.pop("legend", {})},
        **kwargs,
    )
    return fig


# Under the plot (automargin keeps it clear of the ticks, and it wraps downwards on a phone).
BOTTOM_LEGEND = {"orientation": "h", "yanchor": "top", "y": -0.2, "xanchor": "left", "x": 0.0}


def epoch_axis(total_epochs: int | None = None) -> dict:
    """An x axis of whole epochs from 0; a tick per epoch only while there are few (at 20 on a phone they overlap)."""
    xaxis = {"rangemode": "tozero", "tickformat": "d", "nticks": 8}
    if total_epochs:
        xaxis["range"] = [0, total_epochs + 0.2]
    if total_epochs and total_epochs <= 8:
        xaxis["dtick"] = 1
    return xaxis


def smooth(values: Sequence[float], weight: float = 0.8) -> np.ndarray:
    """Exponential moving average, debiased like TensorBoard's smoothing slider."""
    out = np.empty(len(values), dtype=np.float64)
    last, norm = 0.0, 0.0
    for i, value in enumerate(values):
        last = weight * last + (1 - weight) * float(value)
        norm = weight * norm + (1 - weight)
        out[i] = last / norm
    return out


def loss_name(config) -> str:
    """The loss a run's config minimises, in words: 'cross-entropy', 'MSE', 'binary cross-entropy'."""
    key = config.model.loss if config.is_classifier else config.model.reconstruction_loss
    return LOSS_NAMES.get(key, key)


def curve_title(metric: str, loss: str = "", splits: str = "training and validation images") -> str:
    """'Loss (cross-entropy) per epoch' over a smaller 'on the training and validation images'.

    Two lines, because one would not fit a phone-wide chart (Plotly does not wrap titles).
    """
    what = f"Loss ({loss})" if metric == "loss" and loss else METRIC_TITLES.get(metric, metric)
    return f"{what} per epoch<br><span style='font-size:12px;color:#64748B'>on the {splits}</span>"


def training_curve(
    epochs: Sequence[Mapping[str, float]],
    metric: str,
    batches: Sequence[tuple[float, float]] = (),
    total_epochs: int | None = None,
    loss: str = "",
    best_epoch: int | None = None,
) -> go.Figure:
    """Train and validation `metric` per epoch (x = epoch, 1-based), plus a smoothed per-batch curve.

    batches: (fractional epoch, value) pairs, drawn faded behind the epoch points.
    loss: the loss's name for the title; best_epoch (1-based): marked with a dotted line.
    """
    fig = go.Figure()
    if batches:
        xs, ys = zip(*batches, strict=True)
        fig.add_scatter(x=xs, y=smooth(ys), mode="lines", name="train, per batch", line={"color": BATCH_COLOR})
    x = [int(e["epoch"]) + 1 for e in epochs]
    for key, name, color in ((metric, "train", TRAIN_COLOR), (f"val_{metric}", "validation", VAL_COLOR)):
        y = [e.get(key) for e in epochs]
        if any(v is not None for v in y):
            fig.add_scatter(x=x, y=y, mode="lines+markers", name=name, line={"color": color, "width": 2.5})
    # No axis title: "epoch" is in the chart's title, which leaves the space under the ticks to the legend.
    xaxis = epoch_axis(total_epochs)
    yaxis = {"title": metric, "range": [0, 1.02]} if metric == "accuracy" else {"title": metric}
    if best_epoch is not None:
        fig.add_vline(x=best_epoch, line={"color": "#64748B", "dash": "dot", "width": 1.5})
        side = "right" if best_epoch > len(epochs) / 2 else "left"  # the label stays inside the plot
        fig.add_annotation(
            x=best_epoch, y=1, yref="paper", text=f"best epoch {best_epoch}", showarrow=False, yshift=8, xanchor=side
        )
    has_val = any(e.get(f"val_{metric}") is not None for e in epochs)
    title = curve_title(metric, loss, "training and validation images" if has_val else "training images")
    return _layout(fig, title, xaxis=xaxis, yaxis=yaxis, legend=BOTTOM_LEGEND).update_layout(margin={"t": TWO_LINES})


def runs_overlay(curves: Mapping[str, Sequence[Mapping[str, float]]], metric: str, loss: str = "") -> go.Figure:
    """Several runs' per-epoch curves: train in indigo shades, validation in amber shades, one dash per run."""
    fig = go.Figure()
    for i, (label, epochs) in enumerate(curves.items()):
        x = [int(e["epoch"]) + 1 for e in epochs]
        dash = DASHES[i % len(DASHES)]
        for key, part, shades in ((metric, "train", TRAIN_SHADES), (f"val_{metric}", "val", VAL_SHADES)):
            y = [e.get(key) for e in epochs]
            if any(v is not None for v in y):
                fig.add_scatter(
                    x=x,
                    y=y,
                    mode="lines+markers",
                    name=f"{plain_label(label)} ({part})",
                    line={"color": shades[i % len(shades)], "dash": dash, "width": 2},
                )
    title = curve_title(metric, loss, "training and validation (val) images of each run")
    return _layout(fig, title, height=360, xaxis={"title": "epoch"}).update_layout(margin={"t": TWO_LINES})


def mosaic(images: np.ndarray, columns: int, gap: int = 2) -> np.ndarray:
    """(n, h, w) -> one (rows*(h+gap), columns*(w+gap)) image, filled row by row, gaps dark grey."""
    n, h, w = images.shape
    rows = max(1, -(-n // columns))
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), 40, dtype=np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = to_uint8(image)
    return out


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float [0, 1] or uint8 -> uint8."""
    if image.dtype == np.uint8:
        return image
    return (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)


def upscale(image: np.ndarray, factor: int = 6) -> np.ndarray:
    """Nearest-neighbour enlargement, so a 28 px digit shows crisp pixels instead of a blur."""
    return np.repeat(np.repeat(to_uint8(image), factor, axis=0), factor, axis=1)


def samples_per_class(
    images: np.ndarray, labels: np.ndarray, class_names: Sequence[str], per_class: int = 10
) -> go.Figure:
    """One row of example images per class, the class name on the left."""
    rows = []
    for k in range(len(class_names)):
        picked = images[np.flatnonzero(labels == k)[:per_class]]
        pad = np.zeros((per_class - len(picked), *images.shape[1:]), dtype=images.dtype)
        rows.append(np.concatenate([picked, pad]))
    grid = mosaic(np.concatenate(rows), per_class)
    fig = go.Figure(go.Heatmap(z=grid, colorscale="gray", showscale=False, hoverinfo="skip"))
    centres = [k * 30 + 14 for k in range(len(class_names))]
    fig.update_yaxes(autorange="reversed", tickvals=centres, ticktext=list(class_names), showgrid=False)
    fig.update_xaxes(visible=False, scaleanchor="y", constrain="domain")
    return _layout(fig, f"{per_class} examples per class", height=520)


def class_distribution(train_labels: np.ndarray, test_labels: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """Images per class in the training and test sets (training in the train colour)."""
    k = len(class_names)
    fig = go.Figure()
    fig.add_bar(x=list(class_names), y=np.bincount(train_labels, minlength=k), name="train", marker_color=TRAIN_COLOR)
    fig.add_bar(x=list(class_names), y=np.bincount(test_labels, minlength=k), name="test", marker_color="#9CA3AF")
    return _layout(
        fig,
        "Images per class in the training and test sets",
        barmode="group",
        xaxis={"type": "category"},
        yaxis={"title": "images"},
        legend=BOTTOM_LEGEND,  # beside the title it covers the title's end
    )


def confusion_heatmap(confusion: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """Rows are the true class, columns the predicted one; counts written in each cell."""
    confusion = np.asarray(confusion)
    names = [str(c) for c in class_names]
    # Colour by share of the row, so a rare class's errors are as visible as a common one's.
    share = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=names,
            y=names,
            text=confusion,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hoverinfo="skip",  # the click layer below says it
        )
    )
    # Plotly reports no selection for a click on a heatmap cell, so an invisible marker sits on
    # every cell: a click selects that marker, and its (x, y) is the cell.
    rows, cols = np.indices(confusion.shape)
    fig.add_scatter(
        x=[names[c] for c in cols.ravel()],
        y=[names[r] for r in rows.ravel()],
        customdata=confusion.ravel(),
        mode="markers",
        marker={"size": 28, "symbol": "square", "opacity": 0, "color": "#f28e2b"},
        selected={"marker": {"opacity": 0.35}},
        unselected={"marker": {"opacity": 0}},
        showlegend=False,
        hovertemplate="true %{y}, predicted %{x}: %{customdata} images<extra></extra>",
    )
    fig.update_xaxes(title="predicted", type="category")  # below: on top, the axis title ran into the chart's
    fig.update_yaxes(title="true", type="category", autorange="reversed")
    return _layout(fig, "Confusion matrix on the test images", height=460)


def precision_recall(precision: np.ndarray, recall: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    fig = go.Figure()
    names = [str(c) for c in class_names]
    fig.add_bar(x=names, y=precision, name="precision", marker_color=TRAIN_COLOR)
    fig.add_bar(x=names, y=recall, name="recall", marker_color="#10B981")
    return _layout(
        fig,
        "Precision and recall per class on the test images",
        barmode="group",
        xaxis={"type": "category"},
        yaxis={"range": [0, 1]},
        legend=BOTTOM_LEGEND,  # beside the title it covers the title's end on a phone
    )


def pca_plane(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean (d,) and the first two principal directions (2, d) of (n, d) codes, by SVD."""
    codes = np.asarray(codes, dtype=np.float64)
    mean = codes.mean(axis=0)
    _, _, vt = np.linalg.svd(codes - mean, full_matrices=False)
    return mean, vt[:2]


def project_2d(codes: np.ndarray) -> tuple[np.ndarray, str]:
    """(n, d) latent codes -> (n, 2) points; PCA by SVD when d > 2. Returns the points and an axis note."""
    codes = np.asarray(codes, dtype=np.float64)
    if codes.shape[1] == 1:
        return np.column_stack([codes[:, 0], np.zeros(len(codes))]), "1-D latent code"
    if codes.shape[1] == 2:
        return codes, "latent code"
    mean, directions = pca_plane(codes)
    return (codes - mean) @ directions.T, "first two principal components"


def plane_point(mean: np.ndarray, directions: np.ndarray, a: float, b: float) -> np.ndarray:
    """The latent code at (a, b) on the plane `project_2d` drew (the inverse of the projection)."""
    return mean + a * directions[0] + b * directions[1]


def latent_scatter(points: np.ndarray, labels: np.ndarray, class_names: Sequence[str], note: str) -> go.Figure:
    fig = go.Figure()
    for k, name in enumerate(class_names):
        chosen = labels == k
        fig.add_scattergl(
            x=points[chosen, 0],
            y=points[chosen, 1],
            mode="markers",
            name=str(name),
            marker={"size": 5, "color": CLASS_COLORS[k % len(CLASS_COLORS)], "opacity": 0.75},
        )
    return _layout(
        fig,
        f"Latent space of the test images ({note})",
        height=460,
        legend={
            "title": {"text": "class"},
            "orientation": "v",
            "x": 1.02,
            "xanchor": "left",
            "y": 1.0,
            "yanchor": "top",
        },
    )


def saliency_overlay(image: np.ndarray, saliency: np.ndarray) -> np.ndarray:
    """(28, 28) digit and (28, 28) saliency in [0, 1] -> (28, 28, 3) uint8: grey digit, red where it matters."""
    grey = np.clip(image, 0, 1)[..., None] * 0.6
    heat = np.clip(saliency, 0, 1)[..., None]
    red = np.array([1.0, 0.15, 0.1])
    rgb = grey * (1 - heat) + heat * red
    return to_uint8(rgb)


# Plotly's toolbar for charts worth keeping (curves, experiment charts), shown on hover: "Download
# plot as PNG", "Reset axes" (dragging still zooms) and Streamlit's Fullscreen. The other buttons
# only made it long enough to cover a half-width chart's title. Other charts keep it off.
PNG_MODE_BAR = {
    "displaylogo": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoom2d", "pan2d", "zoomIn2d", "zoomOut2d", "autoScale2d"],
    "toImageButtonOptions": {"scale": 2},  # a sharp PNG for a report
}
MODE_BAR_ROOM = 32  # px: the toolbar is 26 px high, 2 px from the chart's top, and a gap
TITLE_LINE = 15  # px: the height of a title line (15 px font)


def below_mode_bar(fig: go.Figure) -> go.Figure:
    """`fig` with a strip of its own at the top for the toolbar: the title starts under it, never beneath it."""
    top = fig.layout.margin.t if fig.layout.margin.t is not None else 40
    # Plotly lifts a title of several lines by about a line per <br> from where its top is asked to be.
    lifted = TITLE_LINE * str(fig.layout.title.text or "").count("<br>")
    fig.update_layout(
        title={"yref": "container", "y": 1.0, "yanchor": "top", "pad": {"t": MODE_BAR_ROOM + lifted}},
        margin={"t": top + MODE_BAR_ROOM},
        height=(fig.layout.height or 320) + MODE_BAR_ROOM,  # the plot keeps its height
    )
    return fig
