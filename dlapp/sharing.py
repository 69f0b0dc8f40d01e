"""Shared mode: one server for a class. Whether it is on, its quota settings and the teacher's password.

Shared mode is on when $DLAPP_SHARED is 1/true/yes, or when `.streamlit/secrets.toml` (in the working
directory or the home folder, where Streamlit reads it) has a `[dlapp]` section. Each setting is read
from the `[dlapp]` section first, then from its environment variable, then its default. Without
shared mode dlapp behaves as a one-person app: that person owns everything.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHARED_ENV = "DLAPP_SHARED"
SECRETS_SECTION = "dlapp"
SECRETS_FILES = (Path(".streamlit") / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml")
TRUE_WORDS = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class QuotaSettings:
    # Queued or running, experiments' and lessons' runs included. 7 is the largest lesson (the optimisers),
    # so every lesson runs on a class server as installed; the fair queue still takes people in turn.
    max_jobs_per_owner: int = 7
    max_run_minutes: float = 10.0  # estimated training time of one run
    max_upload_mb: float = 20.0  # size of one uploaded file
    max_uploads_per_hour: int = 20  # per owner


# setting name -> (environment variable, type)
SETTINGS = {
    "max_jobs_per_owner": ("DLAPP_MAX_JOBS_PER_OWNER", int),
    "max_run_minutes": ("DLAPP_MAX_RUN_MINUTES", float),
    "max_upload_mb": ("DLAPP_MAX_UPLOAD_MB", float),
    "max_uploads_per_hour": ("DLAPP_MAX_UPLOADS_PER_HOUR", int),
}


def secrets_section(files: tuple[Path, ...] = SECRETS_FILES) -> dict[str, Any] | None:
    """The `[dlapp]` section of the first secrets file that has one; None when none does."""
    for path in files:
        try:
            with open(path, "rb") as f:
                section = tomllib.load(f).get(SECRETS_SECTION)
        except (OSError, tomllib.TOMLDecodeError):
            continue  # a missing or broken secrets file is Streamlit's to report, not a reason to share
        if isinstance(section, dict):
            return section
    return None


def is_shared(env: dict[str, str] | None = None, section: dict[str, Any] | None = None) -> bool:
    """True when $DLAPP_SHARED says so or a `[dlapp]` secrets section exists."""
    env = os.environ if env is None else env
    if env.get(SHARED_ENV, "").strip().lower() in TRUE_WORDS:
        return True
    return (section if section is not None else secrets_section()) is not None


def quota_settings(env: dict[str, str] | None = None, section: dict[str, Any] | None = None) -> QuotaSettings:
    """The quotas in force: `[dlapp]` secrets, then environment variables, then the defaults."""
    env = os.environ if env is None else env
    section = (secrets_section() or {}) if section is None else section
    values = {}
    for name, (variable, kind) in SETTINGS.items():
        raw = section.get(name, env.get(variable))
        if raw is None or raw == "":
            continue
        try:
            value = kind(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{name} ({variable}) must be a positive number; got {raw!r}.") from None
        if value <= 0:
            raise ValueError(f"{name} ({variable}) must be a positive number; got {raw!r}.")
        values[name] = value
    return QuotaSettings(**values)


def admin_password(section: dict[str, Any] | None = None) -> str | None:
    """The teacher's password from `[dlapp] admin_password`; None (no admin) when unset or empty."""
    section = (secrets_section() or {}) if section is None else section
    password = section.get("admin_password")
    return password if isinstance(password, str) and password else None


class AdminGate:
    """Checks the admin password in constant time and refuses after `max_tries` wrong tries in `window` s."""

    def __init__(self, password: str | None, max_tries: int = 5, window: float = 60.0, clock=time.monotonic):
        self._password = password
        self._max_tries = max_tries
        self._window = window
        self._clock = clock
        self._failures: list[float] = []
        self._lock = threading.Lock()

    def check(self, attempt: str) -> tuple[bool, str]:
        """(unlocked, sentence for the person)."""
        with self._lock:
            now = self._clock()
            self._failures = [t for t in self._failures if now - t < self._window]
            if len(self._failures) >= self._max_tries:
                wait = int(self._window - (now - self._failures[0])) + 1
                return False, f"Too many wrong passwords; try again in {wait} seconds."
            if self._password is None:
                return False, "No admin password is set; add admin_password to the [dlapp] section of secrets.toml."
            if hmac.compare_digest(attempt.encode(), self._password.encode()):
                return True, "Admin unlocked: you can manage every run in this browser session."
            self._failures.append(now)
            return False, "Wrong admin password."
