"""Plotly figures of an experiment: overlaid curves, best so far, parallel coordinates, importances.

No Streamlit and no TensorFlow. Run labels come from settings a person typed, so every text
Plotly renders (legend, hover, axis ticks) is HTML-escaped: Plotly reads `<b>` and `<br>` in them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from dlapp.plots import METRIC_TITLES

pio.templates.default = "plotly_white"
RUN_COLORS = (
    "#4F46E5",
    "#F59E0B",
    "#10B981",
    "#EF4444",
    "#0EA5E9",
    "#A855F7",
    "#84CC16",
    "#EC4899",
    "#64748B",
    "#14B8A6",
)


def _layout(fig: go.Figure, title: str, height: int = 340, subtitle: str = "", **kwargs: Any) -> go.Figure:
    """Title (escaped) over an optional smaller subtitle line: Plotly does not wrap titles, so a long
    one would run off a phone-wide chart."""
    text = html.escape(title)
    if subtitle:
        text += f"<br><span style='font-size:12px;color:#64748B'>{html.escape(subtitle)}</span>"
    fig.update_layout(
        title={"text": text, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        height=height,
        margin=kwargs.pop("margin", {"l": 10, "r": 10, "t": 58 if subtitle else 40, "b": 10}),
        **kwargs,
    )
    return fig


def experiment_curves(curves: Sequence[tuple[str, Sequence[dict]]], metric: str) -> go.Figure:
    """Validation `metric` per epoch, one colour per run (solid), its training curve dotted in the same colour.

    curves: (run label, epochs) pairs; the legend names each run by its label.
    """
    fig = go.Figure()
    for i, (label, epochs) in enumerate(curves):
        color, name = RUN_COLORS[i % len(RUN_COLORS)], html.escape(label)
        x = [int(e["epoch"]) + 1 for e in epochs]
        for key, dash, legend in ((f"val_{metric}", "solid", True), (metric, "dot", False)):
            fig.add_scatter(
                x=x,
                y=[e.get(key) for e in epochs],
                mode="lines+markers",
                name=name,
                legendgroup=str(i),
                showlegend=legend,
                line={"color": color, "dash": dash, "width": 2 if legend else 1},
                marker={"size": 6 if legend else 3},
                hovertemplate=f"{name}<br>{'validation' if legend else 'training'} {metric}: %{{y:.4f}}"
                "<br>epoch %{x}<extra></extra>",
            )
    title = f"{METRIC_TITLES.get(metric, metric)} per epoch"
    yaxis = {"title": metric, "range": [0, 1.02]} if metric == "accuracy" else {"title": metric}
    legend = {"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0.0}
    subtitle = "validation solid, training dotted"
    return _layout(fig, title, height=400, subtitle=subtitle, xaxis={"dtick": 1}, yaxis=yaxis, legend=legend)


def best_so_far_chart(values: Sequence[tuple[int, float]], best: Sequence[float], metric: str) -> go.Figure:
    """Each finished trial's score (dots) and the best score so far (a step line), over trial numbers."""
    trials = [number + 1 for number, _ in values]
    fig = go.Figure()
    fig.add_scatter(x=trials, y=[v for _, v in values], mode="markers", name="trial", marker={"color": RUN_COLORS[0]})
    fig.add_scatter(x=trials, y=best, mode="lines", name="best so far", line={"color": RUN_COLORS[1], "shape": "hv"})
    legend = {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0}
    yaxis = {"title": metric.replace("val_", "validation ").replace("_", " ")}
    return _layout(fig, "Best so far", xaxis={"title": "trial", "dtick": 1}, yaxis=yaxis, legend=legend)


def parallel_coordinates(
    rows: Sequence[dict[str, Any]], settings: Sequence[str], score: str, log_settings: Sequence[str] = ()
) -> go.Figure:
    """One line per run across its settings' axes to its score; word settings get one tick per value.

    log_settings: settings searched on a log scale, drawn as log10 so small values do not pile up at 0.
    """
    dimensions = [_dimension(name, [row.get(name) for row in rows], name in log_settings) for name in settings]
    scores = [row.get(score) for row in rows]
    dimensions.append({"label": html.escape(score), "values": scores})
    line = {"color": scores, "colorscale": "Viridis", "showscale": False}
    figure = go.Figure(go.Parcoords(dimensions=dimensions, line=line, labelangle=0, labelside="bottom"))
    return _layout(figure, "Settings and score", height=360, margin={"l": 50, "r": 50, "t": 50, "b": 40})


def _dimension(name: str, values: list[Any], log: bool) -> dict[str, Any]:
    label = html.escape(name.replace("_", " "))
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        if log and all(v > 0 for v in values):
            return {"label": f"{label} (log10)", "values": [math.log10(v) for v in values]}
        return {"label": label, "values": values}
    words = sorted({str(v) for v in values})
    index = {word: i for i, word in enumerate(words)}
    ticks = [html.escape(word) for word in words]
    positions = [index[str(v)] for v in values]
    return {"label": label, "values": positions, "tickvals": list(index.values()), "ticktext": ticks}


def importance_bars(importances: dict[str, float]) -> go.Figure:
    """Each setting's share of the score's variation, largest on top."""
    names = sorted(importances, key=importances.get)
    fig = go.Figure(
        go.Bar(
            x=[importances[n] for n in names],
            y=[html.escape(n.replace("_", " ")) for n in names],
            orientation="h",
            marker={"color": RUN_COLORS[0]},
            hovertemplate="%{y}: %{x:.0%}<extra></extra>",
        )
    )
    height = 120 + 36 * len(names)
    return _layout(fig, "Which settings mattered", height=height, xaxis={"title": "importance", "tickformat": ".0%"})
