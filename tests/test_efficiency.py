"""Lesson 10's numbers: size, speed and accuracy of stored classifiers, and the sentence about them."""

from __future__ import annotations

from dlapp.config import RunConfig
from dlapp.efficiency import EfficiencyPoint, measure_runs, observe_efficiency
from dlapp.models import build_compiled
from dlapp.store import RunStore


def _stored_run(store: RunStore, accuracy: float, status: str = "finished", **flat) -> int:
    config = RunConfig.from_flat(**flat).validate()
    run_id = store.create_run(config, name=f"run {accuracy}")
    store.save_model(run_id, build_compiled(config))
    store.finish_run(run_id, status, metrics={"test_accuracy": accuracy}, seconds=1.0, samples_per_second=1.0)
    return run_id


def test_measures_finished_classifiers_with_a_model_file(tmp_path):
    store = RunStore(tmp_path)
    small = _stored_run(store, 0.9, hidden_units=(8,))
    big = _stored_run(store, 0.95, hidden_units=(64,))
    _stored_run(store, 0.99, status="stopped", hidden_units=(8,))  # not finished: left out
    points = {p.run_id: p for p in measure_runs(store)}
    assert set(points) == {small, big}
    assert (points[small].parameters, points[big].parameters) == (784 * 8 + 8 + 8 * 10 + 10, 784 * 64 + 64 + 650)
    assert points[small].file_mb < points[big].file_mb
    assert all(p.ms_per_prediction > 0 and p.name.startswith("run") for p in points.values())


def _point(name: str, parameters: int, accuracy: float) -> EfficiencyPoint:
    return EfficiencyPoint(0, name, "mlp", parameters, parameters * 4e-6, 1.0, accuracy)


def test_observation_names_the_smallest_run_close_to_the_best():
    text = observe_efficiency([_point("big", 400_000, 0.98), _point("small", 25_000, 0.975), _point("bad", 1_000, 0.8)])
    assert "the most accurate is “big”: 98.0% with 400,000 parameters" in text
    assert "“small” comes within 1 point of it with 16.0 times fewer parameters" in text
    alone = observe_efficiency(
        [_point("big", 400_000, 0.98), _point("twin", 400_000, 0.979), _point("bad", 1_000, 0.8)]
    )
    assert "comes within" not in alone
    assert observe_efficiency([]).startswith("No finished classifier")
