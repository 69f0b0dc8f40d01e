"""The two charts only the lessons draw: gradient norm per layer, and size/speed/accuracy.

No Streamlit and no TensorFlow. Run names a person typed go through `plots.plain_label`.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from dlapp.efficiency import EfficiencyPoint
from dlapp.plots import CLASS_COLORS, _layout, plain_label


def last_layer_norms(epochs: Sequence[dict]) -> dict[str, float]:
    """Layer name -> gradient norm at the last epoch that recorded layers, in the model's layer order."""
    for row in reversed(epochs):
        layers = row.get("layers")
        if isinstance(layers, dict) and layers:
            return {
                name: float(stats["grad_norm"])
                for name, stats in layers.items()
                if isinstance(stats, dict) and isinstance(stats.get("grad_norm"), (int, float))
            }
    return {}


def gradient_profile(runs: Sequence[tuple[str, dict[str, float]]]) -> go.Figure:
    """Each run's gradient norm per layer, from the input (left) to the output (right), on a log scale."""
    fig = go.Figure()
    for i, (label, norms) in enumerate(runs):
        fig.add_scatter(
            x=list(range(1, len(norms) + 1)),
            y=[max(v, 1e-12) for v in norms.values()],  # a log axis cannot show 0
            customdata=list(norms),
            mode="lines+markers",
            name=plain_label(label),
            line={"color": CLASS_COLORS[i % len(CLASS_COLORS)], "width": 2},
            hovertemplate="%{customdata}: %{y:.2e}<extra></extra>",
        )
    return _layout(
        fig,
        "Gradient norm per layer at the last epoch, first layer on the left (log scale)",
        xaxis={"title": "layer, from input to output", "dtick": 1},
        yaxis={"title": "gradient norm", "type": "log"},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "xanchor": "left", "x": 0.0},
    )


def efficiency_scatter(points: Sequence[EfficiencyPoint]) -> go.Figure:
    """Test accuracy against parameters (log), marker size by milliseconds per prediction."""
    slowest = max((p.ms_per_prediction for p in points), default=1.0) or 1.0
    fig = go.Figure(
        go.Scatter(
            x=[p.parameters for p in points],
            y=[p.accuracy for p in points],
            mode="markers+text",
            text=[f"#{p.run_id}" for p in points],  # the run's number on the chart, its name on hover
            hovertext=[plain_label(p.name) for p in points],
            textposition="top center",
            customdata=[[p.file_mb, p.ms_per_prediction, p.arch] for p in points],
            marker={"size": [10 + 30 * p.ms_per_prediction / slowest for p in points], "color": CLASS_COLORS[0]},
            hovertemplate="%{text} %{hovertext}<br>%{customdata[2]}, %{x:,} parameters, %{customdata[0]:.2f} MB"
            "<br>%{customdata[1]:.2f} ms per prediction<br>test accuracy %{y:.1%}<extra></extra>",
        )
    )
    return _layout(
        fig,
        "Test accuracy against parameters (bigger marker: slower prediction)",
        height=420,
        xaxis={"title": "parameters (log scale)", "type": "log"},
        yaxis={"title": "test accuracy", "tickformat": ".0%"},
    )
