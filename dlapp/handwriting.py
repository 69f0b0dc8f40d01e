"""The person's saved drawings as fine-tuning data: a held-out part that never moves, and
whether there are enough of them.

The held-out part is stratified (each digit's first drawing, then every fifth one after it,
in the order they were saved, so every digit that appears has at least one held-out drawing
and at least 20% of them are held out) and fixed per drawing: the assignment is written to
the store's SQLite file the first time a drawing is split, so later saves or deletions never
move a drawing between the parts. A drawing once used for training is never tested on.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dlapp.store import RunStore

HOLDOUT_EVERY = 5  # one drawing in five of each digit is held out: at least 20%
MIN_PER_DIGIT = 3  # of each digit that appears
MIN_TOTAL = 20

SPLIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS drawing_split (
    drawing_id INTEGER PRIMARY KEY REFERENCES drawings(id) ON DELETE CASCADE,
    heldout INTEGER NOT NULL  -- 1: never trained on, only tested
)
"""


@dataclass(frozen=True)
class DrawingSplit:
    """The saved drawings split two ways; images (n, 28, 28) float32, labels (n,) int."""

    train_x: np.ndarray
    train_y: np.ndarray
    heldout_x: np.ndarray
    heldout_y: np.ndarray

    @property
    def total(self) -> int:
        return len(self.train_y) + len(self.heldout_y)


def assign_heldout(labels: list[int], known: list[bool | None]) -> list[bool]:
    """Held-out flags for drawings in the order they were saved; `known` flags are kept as they are.

    A new drawing of digit d is held out when fewer than one in `HOLDOUT_EVERY` of d's drawings
    so far (itself included) are: the first, sixth, eleventh... drawing of each digit.
    """
    seen, heldout, flags = np.zeros(10, int), np.zeros(10, int), []
    for label, flag in zip(labels, known, strict=True):
        seen[label] += 1
        if flag is None:
            flag = heldout[label] * HOLDOUT_EVERY < seen[label]
        heldout[label] += bool(flag)
        flags.append(bool(flag))
    return flags


def split_drawings(store: RunStore) -> DrawingSplit:
    """The store's drawings, split; drawings split for the first time get their part written down."""
    with closing(sqlite3.connect(store.db_path, timeout=30)) as db, db:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(SPLIT_SCHEMA)
        rows = db.execute(
            "SELECT d.id, d.label, d.image, s.heldout FROM drawings d "
            "LEFT JOIN drawing_split s ON s.drawing_id = d.id ORDER BY d.id"
        ).fetchall()
        flags = assign_heldout([r[1] for r in rows], [None if r[3] is None else bool(r[3]) for r in rows])
        new = [(r[0], int(f)) for r, f in zip(rows, flags, strict=True) if r[3] is None]
        db.executemany("INSERT INTO drawing_split (drawing_id, heldout) VALUES (?, ?)", new)
    images = np.array([np.frombuffer(r[2], np.float32).reshape(28, 28) for r in rows], np.float32).reshape(-1, 28, 28)
    labels, held = np.array([r[1] for r in rows], np.int64), np.array(flags, bool)
    return DrawingSplit(images[~held], labels[~held], images[held], labels[held])


def drawings_needed(labels: np.ndarray) -> int:
    """How many more drawings fine-tuning needs: 3 of each digit that appears, and 20 in all."""
    counts = np.bincount(np.asarray(labels, int), minlength=10)
    short = int(sum(MIN_PER_DIGIT - c for c in counts if 0 < c < MIN_PER_DIGIT))
    return max(short, MIN_TOTAL - int(counts.sum()))


def needed_sentence(labels: np.ndarray) -> str | None:
    """One sentence saying which drawings are missing, or None when there are enough."""
    missing = drawings_needed(labels)
    if missing <= 0:
        return None
    counts = np.bincount(np.asarray(labels, int), minlength=10)
    short = [
        f"{MIN_PER_DIGIT - c} more {d}{'s' if MIN_PER_DIGIT - c > 1 else ''}"
        for d, c in enumerate(counts)
        if 0 < c < MIN_PER_DIGIT
    ]
    detail = f" (including {', '.join(short)})" if short else ""
    return (
        f"Save {missing} more drawing{'s' if missing != 1 else ''}{detail}: fine-tuning needs "
        f"at least {MIN_PER_DIGIT} of each digit you draw and {MIN_TOTAL} in all."
    )


def suspects(images: np.ndarray, labels: np.ndarray, label_probabilities: list[np.ndarray]) -> list[int]:
    """Indexes of drawings to review: blank ones, and ones whose label every model all but rules out.

    `label_probabilities`: per model, (n,) the probability it gives each drawing's saved label.
    """
    blank = np.asarray(images).reshape(len(images), -1).max(axis=1) < BLANK_BELOW
    if label_probabilities:
        ruled_out = np.all(np.stack(label_probabilities) < RULED_OUT_BELOW, axis=0)
    else:
        ruled_out = np.zeros(len(labels), bool)
    return [int(i) for i in np.flatnonzero(blank | ruled_out)]


BLANK_BELOW = 0.05  # no pixel this bright: nothing was drawn
RULED_OUT_BELOW = 0.01  # every model gives the saved label under 1%: probably the wrong label
