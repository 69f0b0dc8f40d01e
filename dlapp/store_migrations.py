"""Bring a run store written by an older dlapp up to date when it opens; nothing stored is lost."""

from __future__ import annotations

import sqlite3

NEW_RUN_COLUMNS = (("parent_run_id", "INTEGER"),)  # added to `runs` after the first release: (name, SQL type)


def add_missing_columns(db: sqlite3.Connection) -> None:
    """Bring a store written by an older dlapp up to date; old runs get NULL in the new columns.

    parent_run_id has no foreign key on purpose: deleting the parent leaves its fine-tuned runs intact.
    """
    have = {row["name"] for row in db.execute("PRAGMA table_info(runs)")}
    for column, kind in NEW_RUN_COLUMNS:
        if column not in have:
            db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
