"""The instruments' bench on tiny runs: it measures what it says (numbers are reported, never asserted)."""

from __future__ import annotations

from dlapp.config import RunConfig
from dlapp.tools.bench_instruments import forward_pass_ms, recording_cost


def test_recording_cost_compares_the_recording_with_the_epoch_it_follows():
    config = RunConfig.from_flat(arch="mlp", hidden_units=(16,), train_subset=300, epochs=2)
    cost = recording_cost(config)
    assert cost["probe_images"] == 32  # 270 training images: the 32-image floor
    assert cost["epoch_cpu_s"] > 0 and cost["recording_cpu_s"] >= 0
    assert 0 <= cost["recording_share"] < 1
    assert cost["first_epoch_recording_cpu_s"] > 0


def test_forward_pass_latency_is_a_median_and_a_90th_percentile():
    timing = forward_pass_ms(calls=3)
    assert 0 < timing["median"] <= timing["p90"]
