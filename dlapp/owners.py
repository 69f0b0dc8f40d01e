"""Who owns what in shared mode, and who may change it.

Owners live in their own table of the run store's SQLite file, `owners(kind, item_id, owner)`,
so the runs table is unchanged and a one-person store simply has no rows here. An item without
a row (made before shared mode, or by the command line) belongs to nobody: only an admin
manages it. Owner ids are opaque strings: a signed-in user's e-mail or a browser's random token.
"""

from __future__ import annotations

import hmac
import secrets
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager

import numpy as np

Connect = Callable[..., AbstractContextManager[sqlite3.Connection]]  # connect(readonly=...) -> connection

SCHEMA = """
CREATE TABLE IF NOT EXISTS owners (
    kind TEXT NOT NULL,       -- 'run', 'experiment' or 'drawing'
    item_id INTEGER NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (kind, item_id)
);
CREATE INDEX IF NOT EXISTS owners_by_owner ON owners (owner, kind);
"""
KINDS = ("run", "experiment", "drawing")
TOKEN_PREFIX = "t-"
TOKEN_BYTES = 16  # 128 random bits: not guessable


def new_token() -> str:
    """A fresh random owner token for a browser that has none (or a forged one)."""
    return TOKEN_PREFIX + secrets.token_hex(TOKEN_BYTES)


def is_token(text: object) -> bool:
    """True for something `new_token` could have made; anything else is treated as no token."""
    if not isinstance(text, str) or not text.startswith(TOKEN_PREFIX):
        return False
    digits = text[len(TOKEN_PREFIX) :]
    return len(digits) == 2 * TOKEN_BYTES and all(c in "0123456789abcdef" for c in digits)


def may_manage(visitor: str | None, owner: str | None, *, shared: bool, admin: bool = False) -> bool:
    """May `visitor` stop, rename, delete or tag an item owned by `owner`?"""
    if not shared or admin:
        return True
    return visitor is not None and owner is not None and hmac_equal(visitor, owner)


def refusal(visitor: str | None, owner: str | None, *, shared: bool, admin: bool = False) -> str | None:
    """None when allowed; else the sentence shown next to the disabled control."""
    if may_manage(visitor, owner, shared=shared, admin=admin):
        return None
    if owner is None:
        return "This run was made before sharing was on; only the teacher (admin) can change it."
    return "Someone else started this; only they or the teacher (admin) can change it."


def hmac_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())  # owner ids are secrets: compare in constant time


class Owners:
    """The owners table in the database that `connect` opens (the run store's)."""

    def __init__(self, connect: Connect):
        self._connect = connect
        with connect() as db:
            db.executescript(SCHEMA)

    def set(self, kind: str, item_id: int, owner: str) -> None:
        _check_kind(kind)
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO owners (kind, item_id, owner) VALUES (?, ?, ?)", (kind, int(item_id), owner)
            )

    def owner(self, kind: str, item_id: int) -> str | None:
        _check_kind(kind)
        with self._connect(readonly=True) as db:
            row = db.execute("SELECT owner FROM owners WHERE kind = ? AND item_id = ?", (kind, int(item_id))).fetchone()
        return row[0] if row else None

    def owned(self, kind: str, owner: str) -> set[int]:
        """Ids of the `kind` items that `owner` owns."""
        _check_kind(kind)
        with self._connect(readonly=True) as db:
            rows = db.execute("SELECT item_id FROM owners WHERE kind = ? AND owner = ?", (kind, owner)).fetchall()
        return {row[0] for row in rows}

    def forget(self, kind: str, item_id: int) -> None:
        """Drop the owner of a deleted item, so a reused id does not inherit it."""
        _check_kind(kind)
        with self._connect() as db:
            db.execute("DELETE FROM owners WHERE kind = ? AND item_id = ?", (kind, int(item_id)))


def keep_owned(images: np.ndarray, labels: np.ndarray, ids: list[int], owned: set[int]):
    """The drawings (images (n, 28, 28), labels (n,)) whose id, in the same order, is in `owned`."""
    keep = np.array([drawing_id in owned for drawing_id in ids], dtype=bool)
    return images[keep], labels[keep]


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"Unknown owned kind {kind!r}; expected one of {', '.join(KINDS)}.")
