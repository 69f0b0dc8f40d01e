"""The lessons' own charts: gradient norm per layer in layer order, and the efficiency scatter."""

from __future__ import annotations

from dlapp.efficiency import EfficiencyPoint
from dlapp.lesson_plots import efficiency_scatter, gradient_profile, last_layer_norms


def test_gradient_profile_reads_the_last_recorded_epoch_in_layer_order():
    epochs = [
        {"epoch": 0, "layers": {"dense": {"grad_norm": 0.1}, "probabilities": {"grad_norm": 0.5}}},
        {
            "epoch": 1,
            "layers": {"dense": {"grad_norm": 0.001}, "dense_1": {"grad_norm": None}, "out": {"grad_norm": 0.4}},
        },
        {"epoch": 2},  # an epoch without layer statistics does not hide the ones before it
    ]
    norms = last_layer_norms(epochs)
    assert norms == {"dense": 0.001, "out": 0.4}
    fig = gradient_profile([("sigmoid MLP", norms)])
    assert list(fig.data[0].y) == [0.001, 0.4] and fig.layout.yaxis.type == "log"
    assert "first layer on the left" in fig.layout.title.text
    assert last_layer_norms([{"epoch": 0, "loss": 1.0}]) == {}


def test_efficiency_scatter_shows_run_numbers_and_names_only_as_text():
    points = [EfficiencyPoint(7, "<b>bold</b> run", "mlp", 25_000, 0.3, 0.8, 0.95)]
    fig = efficiency_scatter(points)
    assert list(fig.data[0].text) == ["#7"] and "<b>" not in fig.data[0].hovertext[0]
    assert fig.layout.xaxis.type == "log" and "Test accuracy against parameters" in fig.layout.title.text
