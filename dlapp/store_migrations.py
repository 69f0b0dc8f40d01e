"""Bring a run store written by an older dlapp up to date when it opens; nothing stored is lost."""

from __future__ import annotations

import sqlite3

NEW_COLUMNS = (  # added after the first release: (table, column, SQL type)
    ("runs", "parent_run_id", "INTEGER"),
    ("epochs", "layers", "TEXT"),  # per-layer statistics (instruments), JSON
)


def add_missing_columns(db: sqlite3.Connection) -> None:
    """Bring a store written by an older dlapp up to date; old runs get NULL in the new columns.

    parent_run_id has no foreign key on purpose: deleting the parent leaves its fine-tuned runs intact.
    """
    for table, column, kind in NEW_COLUMNS:
        have = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
