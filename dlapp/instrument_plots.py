"""Plotly figures of the instruments: gradient and weight statistics per epoch, the first
layer's weights, an RNN's hidden state. No Streamlit and no TensorFlow here. (The rest of
a digit's forward pass is drawn as plain images by `dlapp.activation_images`.)

Layer names can come from an imported model, so every one is HTML-escaped before it
reaches a title, a legend or a hover label (Plotly renders tags in those).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from dlapp.activation_images import DIVERGING, tiles, value_range
from dlapp.plots import _layout

LOG_AXIS = {"title": "gradient norm (log)", "type": "log", "exponentformat": "power", "dtick": 1}
STATES_SHOWN = 128  # hidden units in the RNN heatmap
MIN_DECADES = 4.0  # the gradient chart's y axis spans at least 10^4, so close lines look close


def has_layer_stats(epochs: Sequence[Mapping[str, Any]]) -> bool:
    """True when at least one epoch recorded layer statistics (runs made before them have none)."""
    return any(epoch.get("layers") for epoch in epochs)


def layer_order(epochs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Layer names input side first, as recorded (the first epoch that has any sets the order)."""
    for epoch in epochs:
        if epoch.get("layers"):
            return list(epoch["layers"])
    return []


def layer_colors(count: int) -> list[str]:
    """One colour per layer along Viridis: dark purple at the input, green-yellow at the output."""
    if count <= 1:
        return plotly.colors.sample_colorscale("Viridis", [0.0])
    return plotly.colors.sample_colorscale("Viridis", list(np.linspace(0.0, 0.9, count)))


def gradient_norm_chart(epochs: Sequence[Mapping[str, Any]], total_epochs: int | None = None) -> go.Figure:
    """Each layer's gradient norm per epoch on a log scale, coloured from the input layer to the output."""
    names = layer_order(epochs)
    fig = go.Figure()
    for name, color in zip(names, layer_colors(len(names)), strict=True):
        x = [int(e["epoch"]) + 1 for e in epochs if e.get("layers")]
        y = [_positive(e["layers"].get(name, {}).get("grad_norm")) for e in epochs if e.get("layers")]
        label = html.escape(name)
        fig.add_scatter(
            x=x,
            y=y,
            mode="lines+markers",
            name=label,
            line={"color": color, "width": 2},
            hovertemplate=f"{label}<br>epoch %{{x}}: %{{y:.2e}}<extra></extra>",
        )
    xaxis = {"title": "epoch", "rangemode": "tozero"}
    if total_epochs:
        xaxis.update(range=[0, total_epochs + 0.2], dtick=1 if total_epochs <= 20 else None)
    yaxis = {**LOG_AXIS, "range": log_range(epochs)}
    side_legend = {
        "orientation": "v",
        "x": 1.02,
        "xanchor": "left",
        "y": 1.0,
        "yanchor": "top",
        "title": "layers, input first",
    }
    return _layout(
        fig,
        "Gradient norm per layer",
        xaxis=xaxis,
        yaxis=yaxis,
        legend={**side_legend, "title": "layers, input first"},
    )


def log_range(epochs: Sequence[Mapping[str, Any]], decades: float = MIN_DECADES) -> list[float] | None:
    """A log10 axis range over every recorded gradient norm, at least `decades` tall, anchored at the top.

    A fixed minimum height keeps a healthy network's lines close together instead of
    stretched across the chart, so only a real spread looks like one.
    """
    norms = [_positive(s.get("grad_norm")) for e in epochs for s in (e.get("layers") or {}).values()]
    logs = np.log10([n for n in norms if n is not None])
    if not len(logs):
        return None
    top = float(np.ceil(logs.max() * 2) / 2 + 0.25)
    return [min(float(logs.min()) - 0.25, top - decades), top]


def gradient_spread(epochs: Sequence[Mapping[str, Any]]) -> float | None:
    """How many times larger the output side's gradient norm is than the input side's, at the last epoch."""
    names = layer_order(epochs)
    last = next((e for e in reversed(epochs) if e.get("layers")), None)
    if last is None or len(names) < 2:
        return None
    first, final = (_positive(last["layers"].get(name, {}).get("grad_norm")) for name in (names[0], names[-1]))
    return final / first if first and final else None


def gradient_profile(epochs: Sequence[Mapping[str, Any]]) -> go.Figure:
    """The last recorded epoch's gradient norm per layer, input to output: a vanishing gradient is a slope."""
    names = layer_order(epochs)
    last = next(e for e in reversed(epochs) if e.get("layers"))
    norms = [_positive(last["layers"].get(name, {}).get("grad_norm")) for name in names]
    labels = [html.escape(name) for name in names]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=norms,
            marker_color=layer_colors(len(names)),
            hovertemplate="%{x}: %{y:.2e}<extra></extra>",
        )
    )
    return _layout(
        fig,
        f"Gradient norm by layer, epoch {int(last['epoch']) + 1}",
        xaxis={"title": "layer (input → output)", "type": "category"},
        yaxis={**LOG_AXIS, "range": log_range([last])},
    )


def weight_histogram_heatmap(epochs: Sequence[Mapping[str, Any]], layer: str, bins: int = 60) -> go.Figure:
    """One layer's weight distribution per epoch (x = epoch, y = weight value, colour = share of weights).

    Each epoch's histogram has its own range; they are spread onto one shared grid of
    `bins` bins, assuming weights are even within a recorded bin.
    """
    recorded = [(int(e["epoch"]) + 1, e["layers"][layer]["hist"]) for e in epochs if layer in (e.get("layers") or {})]
    recorded = [(epoch, hist) for epoch, hist in recorded if hist["counts"]]
    label = html.escape(layer)
    fig = go.Figure()
    if recorded:
        low = min(hist["edges"][0] for _, hist in recorded)
        high = max(hist["edges"][-1] for _, hist in recorded)
        edges = np.linspace(low, high, bins + 1)
        shares = np.column_stack([rebin(hist["edges"], hist["counts"], edges) for _, hist in recorded])
        shares /= np.maximum(shares.sum(axis=0, keepdims=True), 1)
        fig.add_heatmap(
            x=[epoch for epoch, _ in recorded],
            y=(edges[:-1] + edges[1:]) / 2,
            z=shares,
            colorscale="Blues",
            showscale=False,
            hovertemplate="epoch %{x}, weight %{y:.3f}: %{z:.1%} of weights<extra></extra>",
        )
    return _layout(
        fig,
        f"{label}: weights over epochs",
        height=260,
        xaxis={"title": "epoch", "dtick": 1},
        yaxis={"title": "weight"},
    )


def rebin(edges: Sequence[float], counts: Sequence[int], new_edges: np.ndarray) -> np.ndarray:
    """Counts of a histogram moved onto other bin edges, by interpolating the cumulative count."""
    cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(counts, np.float64))])
    return np.diff(np.interp(new_edges, np.asarray(edges, np.float64), cumulative))


def _positive(value: float | None) -> float | None:
    """A value a log axis can show, else None (a gap): zero or missing gradients have no logarithm."""
    return value if value is not None and value > 0 else None


# --- pictures of weights and activations -----------------------------------------------------------------------


def _tile_labels(units: Sequence[int], shape: tuple[int, int], columns: int, gap: int = 1) -> np.ndarray:
    """For each pixel of `tiles(...)`, the number of the neuron or channel it belongs to (for hover)."""
    labels = np.stack([np.full(shape, unit) for unit in units])
    return tiles(labels.astype(np.float64), columns, gap)


def _picture(z: np.ndarray, title: str, colorscale: str, height: int, **heatmap: Any) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=z, colorscale=colorscale, hoverongaps=False, **heatmap))
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x", constrain="domain")
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_layout(plot_bgcolor="rgba(0,0,0,0)")
    return _layout(fig, title, height=height)


def first_layer_figure(images: np.ndarray, units: Sequence[int], layer: str, total: int, columns: int = 8):
    """Each neuron's (or kernel's) weights as a picture, each scaled to its own largest |weight|."""
    peak = np.abs(images).reshape(len(images), -1).max(axis=1)
    scaled = images / np.where(peak > 0, peak, 1)[:, None, None]  # each in [-1, 1]
    what = "neurons" if images.shape[1] == 28 else "kernels"
    rows = -(-len(images) // columns)
    return _picture(
        tiles(scaled, columns),
        f"{html.escape(layer)}: the {len(images)} strongest of {total} {what}",
        DIVERGING,
        height=min(900, 120 + rows * (110 if images.shape[1] >= 14 else 60)),
        zmid=0,
        zmin=-1,
        zmax=1,
        customdata=_tile_labels(units, images.shape[1:], columns),
        hovertemplate="#%{customdata}: %{z:.2f} of its largest weight<extra></extra>",
        colorbar={"title": "weight", "tickvals": [-1, 0, 1], "ticktext": ["−", "0", "+"], "thickness": 10},
    )


def _heatmap_range(values: np.ndarray) -> dict[str, Any]:
    scale, low, high = value_range(values)
    return {"colorscale": scale, "zmin": low, "zmax": high, **({"zmid": 0.0} if scale == DIVERGING else {})}


def hidden_state_heatmap(steps: np.ndarray, title: str, max_units: int = STATES_SHOWN) -> go.Figure:
    """(28, units) hidden states: x = the image row just read, y = the unit. `title` is plain text."""
    title = html.escape(title)
    shown = np.asarray(steps, np.float64)[:, :max_units]
    if steps.shape[1] > max_units:
        title = f"{title} (the first {max_units} of {steps.shape[1]} units)"
    fig = go.Figure(
        go.Heatmap(
            z=shown.T,
            x=np.arange(1, len(shown) + 1),
            hovertemplate="after row %{x}, unit %{y}: %{z:.2f}<extra></extra>",
            colorbar={"thickness": 10},
            **_heatmap_range(shown),
        )
    )
    fig.update_xaxes(title="image row read (time step)", dtick=4)
    fig.update_yaxes(title="unit", autorange="reversed")
    return _layout(fig, title, height=min(520, 180 + 3 * shown.shape[1]))
