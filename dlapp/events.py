"""A job's event stream: every epoch and end event, and a bounded window of the latest batch events.

One thread appends (the job's); any number of pages read without a lock. Each event carries
its `index` in the stream, which never changes when old batch events are dropped, so a reader
keeps its place with `next_index = events[-1].index + 1` (not by counting what it got).
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from dataclasses import dataclass

# Batch events kept: the latest BATCH_WINDOW to 2 * BATCH_WINDOW. At the job's ~10 batch events a
# second that is the last 2-4 minutes of per-batch points: a page redraws once a second, so it never
# misses one, and a page opened later draws the faded per-batch line for those minutes (every epoch
# point is kept). It bounds a long run's buffer to a few MB instead of ~36,000 events an hour.
BATCH_WINDOW = 1200


@dataclass(frozen=True)
class Event:
    kind: str  # "batch" | "epoch" | "finished" | "stopped" | "failed"
    time: float  # time.time() when it happened
    data: dict
    index: int = 0  # its place in the job's stream, 0-based; read from `index + 1` next time


class EventBuffer:
    def __init__(self, batch_window: int | None = None) -> None:
        self.batch_window = batch_window or BATCH_WINDOW
        self._events: list[Event] = []  # replaced whole, never edited in place, so a reader's copy stays valid
        self._count = 0  # events ever appended
        self._batches = 0  # batch events in self._events
        self._lock = threading.Lock()  # writers only: a stop() from a page may end a queued job

    def append(self, kind: str, data: dict) -> Event:
        with self._lock:
            event = Event(kind, time.time(), data, self._count)
            self._count += 1
            if kind == "batch":
                self._batches += 1
                if self._batches > 2 * self.batch_window:
                    self._drop_old_batches()
            self._events.append(event)  # a list append is atomic in CPython: readers see it whole or not yet
            return event

    def since(self, index: int) -> list[Event]:
        """The kept events whose index is `index` or later, oldest first."""
        events = self._events
        return events[bisect_left(events, index, key=lambda event: event.index) :]

    def __len__(self) -> int:
        """Events ever appended: the index the next one gets."""
        return self._count

    def _drop_old_batches(self) -> None:
        drop = self._batches - self.batch_window
        kept = []
        for event in self._events:
            if event.kind == "batch" and drop > 0:
                drop -= 1
                continue
            kept.append(event)
        self._events, self._batches = kept, self.batch_window
