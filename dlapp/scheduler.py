"""How many training jobs run at once in this process, and the queue in front of them.

The limit is read from $DLAPP_MAX_JOBS once, when the first job is queued (a job's thread never
reads the environment), and can be set afterwards (`dlapp.jobs.set_max_jobs`, for tests).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

MAX_JOBS_ENV = "DLAPP_MAX_JOBS"


def max_jobs() -> int:
    """How many jobs may train at once in this process: $DLAPP_MAX_JOBS, else half the cores (at least 1)."""
    raw = os.environ.get(MAX_JOBS_ENV, "").strip()
    if not raw:
        return max(1, (os.cpu_count() or 1) // 2)
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MAX_JOBS_ENV} must be a whole number of at least 1; got {raw!r}.")
    return int(raw)


_threads_lock = threading.Lock()
_threads_configured = False


def configure_threads(jobs_at_once: int) -> None:
    """Share the cores between `jobs_at_once` concurrent jobs; only possible before TensorFlow initialises."""
    global _threads_configured
    with _threads_lock:
        if _threads_configured:
            return
        _threads_configured = True
        import tensorflow as tf

        intra = max(1, (os.cpu_count() or 1) // max(1, jobs_at_once))  # a closed queue (limit 0) still shares
        try:
            tf.config.threading.set_intra_op_parallelism_threads(intra)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, intra))
        except RuntimeError:
            pass  # TensorFlow already ran something in this process; its own defaults stay


class Scheduler:
    """Queue in front of at most `limit` running jobs; `launch(job)` starts one.

    FIFO, or with `fair` (shared mode) round-robin over `job.owner`: the next job is the oldest
    one of the owner served least recently, so 3 owners' jobs start A1 B1 C1 A2 B2 C2.
    """

    def __init__(self, launch: Callable[[Any], None], limit: int | None = None, fair: bool | None = None) -> None:
        self._launch = launch
        self._lock = threading.Lock()
        self._running: list[Any] = []
        self._queue: deque[Any] = deque()
        self._limit = limit  # None until the first job: then read from $DLAPP_MAX_JOBS once
        self._fair = fair  # None until the first job: then shared mode decides
        self._served: dict[Any, int] = {}  # owner -> turn at which their last job started
        self._turn = 0

    @property
    def fair(self) -> bool:
        if self._fair is None:
            from dlapp.sharing import is_shared

            self._fair = is_shared()
        return self._fair

    @property
    def limit(self) -> int:
        if self._limit is None:
            self._limit = max_jobs()  # a bad value raises here, in the caller of start(), not in a thread
        return self._limit

    def set_limit(self, limit: int) -> None:
        with self._lock:
            self._limit = limit
            ready = self._take_ready()
        self._launch_all(ready)

    def submit(self, job: Any) -> None:
        with self._lock:
            self.limit  # noqa: B018 - read before queueing: a limit that cannot be read strands no job
            self.fair  # noqa: B018
            self._queue.append(job)
            ready = self._take_ready()
        self._launch_all(ready)

    def done(self, job: Any) -> None:
        with self._lock:
            if job in self._running:
                self._running.remove(job)
            ready = self._take_ready()
        self._launch_all(ready)

    def _launch_all(self, jobs: list[Any]) -> None:
        for job in jobs:
            self._launch(job)

    def cancel(self, job: Any) -> bool:
        """Take a job out of the queue; False when it is already running."""
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)
                return True
            return False

    def position(self, job: Any) -> int | None:
        with self._lock:
            order = self._order()
            return order.index(job) + 1 if job in order else None

    def _take_ready(self) -> list[Any]:
        ready = []
        while self._queue and len(self._running) < self.limit:
            job = self._order(first_only=True)[0]
            self._queue.remove(job)
            self._served[getattr(job, "owner", None)] = self._turn = self._turn + 1
            ready.append(job)
            self._running.append(job)
        return ready

    def _order(self, first_only: bool = False) -> list[Any]:
        """The queue in the order its jobs will start."""
        if not self.fair:
            return list(self._queue)
        served = dict(self._served)
        waiting, order, turn = list(self._queue), [], self._turn
        while waiting and not (first_only and order):
            job = min(waiting, key=lambda j: served.get(getattr(j, "owner", None), 0))  # min keeps queue order on ties
            waiting.remove(job)
            order.append(job)
            served[getattr(job, "owner", None)] = turn = turn + 1
        return order
