"""The best epoch and the overfitting warning, read from epoch rows as the store gives them."""

from __future__ import annotations

from dlapp.curves import best_epoch, overfitting, series


def _rows(train: list[float], val: list[float]) -> list[dict]:
    return [{"epoch": i, "loss": t, "val_loss": v} for i, (t, v) in enumerate(zip(train, val, strict=True))]


def test_best_epoch_counts_from_one_and_takes_the_earliest_tie():
    rows = _rows([0.9, 0.5, 0.4, 0.3], [0.8, 0.4, 0.4, 0.6])
    best = best_epoch(rows)
    assert (best.epoch, best.value) == (2, 0.4)
    assert best_epoch(rows, "loss").epoch == 4
    assert best_epoch([{"epoch": 0, "loss": 1.0}]) is None  # no validation split: no best epoch


def test_three_rising_validation_epochs_with_falling_training_loss_is_overfitting():
    rows = _rows([0.9, 0.6, 0.4, 0.3, 0.2, 0.1], [0.8, 0.5, 0.4, 0.45, 0.5, 0.6])
    found = overfitting(rows)
    assert found is not None and found.since_epoch == 3
    assert (found.val_from, found.val_to, found.train_from, found.train_to) == (0.4, 0.6, 0.4, 0.1)
    assert "after epoch 3" in found.sentence()


def test_two_rising_epochs_or_a_rising_training_loss_is_not_overfitting():
    assert overfitting(_rows([0.9, 0.6, 0.4, 0.3, 0.2], [0.8, 0.5, 0.4, 0.45, 0.5])) is None
    assert overfitting(_rows([0.9, 0.6, 0.4, 0.5, 0.6, 0.7], [0.8, 0.5, 0.4, 0.45, 0.5, 0.6])) is None
    healthy = _rows([0.9, 0.6, 0.4, 0.3, 0.2, 0.1], [0.8, 0.5, 0.4, 0.35, 0.3, 0.31])
    assert overfitting(healthy) is None


def test_a_nan_epoch_ends_the_series():
    rows = [{"loss": 1.0}, {"loss": float("nan")}, {"loss": 0.5}]
    assert series(rows, "loss") == [1.0]
