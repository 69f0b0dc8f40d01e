"""The person's own labelled test set: digits drawn on the Draw page, kept in the run store's SQLite file."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import numpy as np

Connect = Callable[..., AbstractContextManager[sqlite3.Connection]]  # connect(readonly=...) -> connection

SCHEMA = """
CREATE TABLE IF NOT EXISTS drawings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    label INTEGER NOT NULL,
    image BLOB NOT NULL  -- (28, 28) float32 in [0, 1], C order
);
"""
SIZE = (28, 28)


class Drawings:
    """Drawings in the database that `connect` opens (the run store's, so one file holds everything)."""

    def __init__(self, connect: Connect):
        self._connect = connect

    def add(self, label: int, image: np.ndarray) -> int:
        """Store one (28, 28) float image in [0, 1] with its digit label; returns its id."""
        image = np.asarray(image, dtype=np.float32)
        if image.shape != SIZE:
            raise ValueError(f"A drawing must be a 28x28 image; got shape {image.shape}.")
        if not 0 <= int(label) <= 9:
            raise ValueError(f"A drawing's label must be a digit from 0 to 9; got {label!r}.")
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO drawings (created, label, image) VALUES (?, ?, ?)",
                (time.strftime("%Y-%m-%dT%H:%M:%S%z"), int(label), np.clip(image, 0.0, 1.0).tobytes()),
            )
            return int(cursor.lastrowid)

    def all(self) -> tuple[np.ndarray, np.ndarray]:
        """All drawings, oldest first: images (n, 28, 28) float32 and labels (n,) int."""
        with self._connect(readonly=True) as db:
            rows = db.execute("SELECT label, image FROM drawings ORDER BY id").fetchall()
        images = [np.frombuffer(row["image"], dtype=np.float32).reshape(SIZE) for row in rows]
        labels = [row["label"] for row in rows]
        return np.array(images, np.float32).reshape(-1, *SIZE), np.array(labels, dtype=np.int64)

    def ids(self) -> list[int]:
        """Ids of the drawings, in the order `all()` returns them."""
        with self._connect(readonly=True) as db:
            return [row["id"] for row in db.execute("SELECT id FROM drawings ORDER BY id").fetchall()]

    def delete(self, drawing_id: int) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM drawings WHERE id = ?", (int(drawing_id),))
