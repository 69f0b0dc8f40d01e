"""Is the process that owns a run still alive? Linux `/proc` when there is one, `kill(pid, 0)` elsewhere.

A pid alone is not enough: after a crash the number can be reused by an unrelated
process. So a run records its process's start time (clock ticks since boot, field 22
of `/proc/<pid>/stat`) next to the pid, and a process only counts as the owner when
both match.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

PROC = Path("/proc")
DEAD_STATES = ("Z", "X")  # zombie, dead: the process has exited but not yet been reaped


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None when it is gone."""
    try:
        stat = (PROC / str(int(pid)) / "stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself hold spaces or ")": split after the last ")".
    return stat.rsplit(")", 1)[-1].split()


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    fields = _stat_fields(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None  # starttime is field 22 overall


def this_process() -> tuple[int, str, str | None]:
    """(pid, hostname, start time) of the calling process: what a run records about its owner."""
    pid = os.getpid()
    return pid, socket.gethostname(), process_start(pid)


def process_alive(pid: int | None, started: str | None) -> bool:
    """Whether `pid` is a living process that started at `started` (None: any start time)."""
    if pid is None:
        return False
    if PROC.is_dir():  # Linux: /proc tells zombies and reused pids apart
        fields = _stat_fields(pid)
        if fields is None or fields[0] in DEAD_STATES:
            return False
        return started is None or (len(fields) > 19 and fields[19] == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
