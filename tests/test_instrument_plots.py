"""Figures of the instruments: what each one shows, its caps, and escaped layer names."""

from __future__ import annotations

import numpy as np
import pytest

from dlapp import instrument_plots as ip


def stats(grad_norm: float, low: float = -1.0, high: float = 1.0, counts=None) -> dict:
    counts = counts if counts is not None else [1] * 30
    return {
        "grad_norm": grad_norm,
        "weight_norm": 1.0,
        "hist": {"edges": list(np.linspace(low, high, 31)), "counts": counts},
    }


def vanishing_epochs(epochs: int = 3) -> list[dict]:
    """An 8-layer network whose gradient shrinks 10x per layer towards the input."""
    names = [f"dense_{i}" for i in range(8)]
    return [
        {"epoch": e, "loss": 1.0, "layers": {name: stats(10.0 ** (i - 7)) for i, name in enumerate(names)}}
        for e in range(epochs)
    ]


def test_one_line_per_layer_in_recorded_order_coloured_input_to_output_on_a_log_axis():
    fig = ip.gradient_norm_chart(vanishing_epochs(), total_epochs=5)
    assert [trace.name for trace in fig.data] == [f"dense_{i}" for i in range(8)]
    assert [trace.line.color for trace in fig.data] == ip.layer_colors(8)
    assert fig.data[0].line.color == "rgb(68, 1, 84)"  # Viridis starts dark purple at the input
    assert fig.layout.yaxis.type == "log"
    assert list(fig.data[0].x) == [1, 2, 3] and fig.data[0].y[0] == pytest.approx(1e-7)
    low, high = fig.layout.yaxis.range
    assert low <= -7 and high >= 0  # every line is inside the axis


def test_lines_of_a_healthy_network_sit_close_on_an_axis_at_least_four_decades_tall():
    epochs = [{"epoch": 0, "layers": {"a": stats(0.02), "b": stats(0.05)}}]
    low, high = ip.gradient_norm_chart(epochs).layout.yaxis.range
    assert high - low >= 4 and high > np.log10(0.05)


def test_the_spread_says_how_many_times_smaller_the_first_layers_gradient_is():
    assert ip.gradient_spread(vanishing_epochs()) == pytest.approx(1e7)
    assert ip.gradient_spread([{"epoch": 0, "loss": 1.0}]) is None


def test_a_run_without_layer_statistics_is_recognised():
    old_run = [{"epoch": 0, "loss": 1.0}, {"epoch": 1, "loss": 0.5}]
    assert not ip.has_layer_stats(old_run) and ip.layer_order(old_run) == []
    assert ip.has_layer_stats(vanishing_epochs())


def test_a_missing_or_zero_gradient_is_a_gap_not_an_error():
    epochs = [{"epoch": 0, "layers": {"a": stats(None), "b": stats(0.0), "c": stats(0.1)}}]
    fig = ip.gradient_norm_chart(epochs)
    assert [trace.y[0] for trace in fig.data] == [None, None, 0.1]


def test_layer_names_from_an_imported_model_are_escaped_everywhere():
    name = "<img src=x onerror=alert(1)>"
    epochs = [{"epoch": 0, "layers": {name: stats(0.1)}}]
    figures = [
        ip.gradient_norm_chart(epochs),
        ip.gradient_profile(epochs),
        ip.weight_histogram_heatmap(epochs, name),
        ip.first_layer_figure(np.ones((2, 28, 28)), [0, 1], name, 2),
        ip.hidden_state_heatmap(np.ones((28, 4)), name),
    ]
    for fig in figures:
        text = fig.to_json()
        assert "<img" not in text and "&lt;img" in text


def test_rebinning_keeps_every_weight():
    edges, counts = np.linspace(-1, 1, 31), np.arange(30)
    moved = ip.rebin(edges, counts, np.linspace(-2, 2, 61))
    assert moved.sum() == pytest.approx(counts.sum())
    np.testing.assert_allclose(ip.rebin(edges, counts, edges), counts)


def test_the_weight_heatmap_shows_each_epochs_share_of_weights_on_one_grid():
    epochs = [{"epoch": e, "layers": {"dense": stats(0.1, -1 - e, 1 + e)}} for e in range(3)]
    heat = ip.weight_histogram_heatmap(epochs, "dense").data[0]
    assert list(heat.x) == [1, 2, 3]
    z = np.asarray(heat.z)
    assert z.shape == (60, 3)
    np.testing.assert_allclose(z.sum(axis=0), 1.0)
    assert heat.y[0] < -2.9 and heat.y[-1] > 2.9  # the grid covers the widest epoch


def test_first_layer_weights_are_diverging_around_zero_each_scaled_to_its_own_peak():
    images = np.stack([np.full((28, 28), 0.5), np.full((28, 28), -0.01)])
    fig = ip.first_layer_figure(images, [7, 3], "dense", 64)
    heat = fig.data[0]
    assert heat.zmid == 0 and (heat.zmin, heat.zmax) == (-1, 1)
    z = np.asarray(heat.z, dtype=float)
    assert np.nanmax(z) == 1.0 and np.nanmin(z) == -1.0  # both neurons visible, however weak
    assert np.isnan(z[:, 28]).all()  # a gap between the tiles
    assert "the 2 strongest of 64 neurons" in fig.layout.title.text


def test_the_rnn_hidden_state_is_a_heatmap_of_rows_by_units():
    fig = ip.hidden_state_heatmap(np.tanh(np.random.default_rng(0).normal(size=(28, 200))), "lstm · LSTM · (200,)")
    heat = fig.data[0]
    assert np.asarray(heat.z).shape == (128, 28) and list(heat.x) == list(range(1, 29))
    assert heat.zmid == 0 and "the first 128 of 200 units" in fig.layout.title.text
