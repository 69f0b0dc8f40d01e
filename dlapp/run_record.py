"""One stored run as the pages and the command line read it, made from its database row."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from dlapp.config import CLASSIFIERS, RunConfig


@dataclass(frozen=True)
class Run:
    id: int
    name: str
    created: str  # ISO 8601, local time with offset
    arch: str
    dataset: str
    config: RunConfig
    status: str
    metrics: dict[str, float]  # test_loss/test_accuracy or test_mse, plus the final train/val logs
    model_path: str | None
    error: str | None
    tags: list[str]
    seconds: float | None
    samples_per_second: float | None
    epochs_completed: int
    confusion: list[list[int]] | None  # rows = true class
    pid: int | None
    parent_run_id: int | None = None  # the run this one was fine-tuned from (it may since have been deleted)

    @property
    def is_classifier(self) -> bool:
        return self.arch in CLASSIFIERS


def run_from_row(row: sqlite3.Row) -> Run:
    confusion = row["confusion"]
    return Run(
        id=row["id"],
        name=row["name"],
        created=row["created"],
        arch=row["arch"],
        dataset=row["dataset"],
        config=RunConfig.from_json(row["config"]),
        status=row["status"],
        metrics=json.loads(row["metrics"]),
        model_path=row["model_path"],
        error=row["error"],
        tags=json.loads(row["tags"]),
        seconds=row["seconds"],
        samples_per_second=row["samples_per_second"],
        epochs_completed=row["epochs_completed"],
        confusion=json.loads(confusion) if confusion else None,
        pid=row["pid"],
        parent_run_id=row["parent_run_id"],
    )
