"""Quota arithmetic for shared mode: jobs per owner, estimated minutes per run, uploads per hour.

Every check returns None when allowed, else one sentence that names the quota and when it frees.
Nothing here reads Streamlit or the clock by itself, so the arithmetic is tested directly.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable

from dlapp.config import RunConfig
from dlapp.sharing import QuotaSettings

TRAIN_IMAGES = {"mnist": 60_000, "fashion_mnist": 60_000, "mnist-sample": 4_000}  # before the validation split
# Samples/s used until this server has finished a run of the architecture (conservative, 2 slow cores).
FALLBACK_SPEED = {"mlp": 4_000.0, "autoencoder": 2_000.0, "cnn": 600.0, "rnn": 800.0, "resnet": 150.0}
HOUR = 3600.0
# A run that trained fewer samples measures mostly its start-up (building and compiling the model), not
# its speed: a 300-image, 1-epoch run on this loaded 2-core machine measured 22 samples/s, which would
# have refused a 3-minute run as 9 hours long.
MIN_MEASURED_SAMPLES = 10_000


def training_images(config: RunConfig) -> int:
    """Images one epoch trains on: the subset (or the whole set) less the validation share, plus any pen
    digits (the same share of them as of the set, as `dlapp.data.prepare` adds them)."""
    whole = TRAIN_IMAGES.get(config.data.dataset, 60_000)
    total = min(whole, config.data.train_subset) if config.data.train_subset else whole
    pen = round(config.data.pen_digits * total / whole)
    return int(total * (1.0 - config.data.validation_split)) + pen


def measured_speed(arch: str, runs: Iterable) -> float:
    """Median samples/s of this architecture's finished runs here (long enough to measure); else the fallback."""
    speeds = [r.samples_per_second for r in runs if r.arch == arch and _measures_speed(r)]
    return statistics.median(speeds) if speeds else FALLBACK_SPEED.get(arch, min(FALLBACK_SPEED.values()))


def _measures_speed(run) -> bool:
    if run.status != "finished" or not run.samples_per_second:
        return False
    return training_images(run.config) * run.epochs_completed >= MIN_MEASURED_SAMPLES


def estimated_seconds(config: RunConfig, samples_per_second: float) -> float:
    return training_images(config) * config.train.epochs / max(samples_per_second, 1e-9)


def run_length_refusal(config: RunConfig, samples_per_second: float, settings: QuotaSettings) -> str | None:
    """Refuse a run whose estimated training time is over the per-run quota, before it is queued."""
    minutes = estimated_seconds(config, samples_per_second) / 60.0
    if minutes <= settings.max_run_minutes:
        return None
    return (
        f"This run would train for about {minutes:.0f} minutes ({training_images(config):,} images × "
        f"{config.train.epochs} epochs at {samples_per_second:,.0f} samples/s), over this server's "
        f"{_minutes(settings.max_run_minutes)} limit per run; use fewer epochs or a training subset."
    )


def jobs_refusal(active: int, settings: QuotaSettings, adding: int = 1) -> str | None:
    """Refuse queuing `adding` more runs (an experiment counts each) when the owner has `active` queued or running."""
    limit = settings.max_jobs_per_owner
    if active + adding <= limit:
        return None
    if adding > limit:
        return (
            f"This asks for {adding} runs at once, but each person may have at most {limit} queued or running; "
            f"ask for {limit} or fewer, or ask the teacher to raise max_jobs_per_owner."
        )
    return (
        f"You already have {active} runs queued or running, and each person may have at most {limit} "
        "queued or running; "
        "a place frees when one of them finishes or you stop it."
    )


def upload_size_refusal(size_bytes: int, settings: QuotaSettings) -> str | None:
    mb = size_bytes / 1_000_000
    if mb <= settings.max_upload_mb:
        return None
    limit = settings.max_upload_mb
    return f"This file is {mb:.1f} MB, over this server's {limit:g} MB limit per upload; upload a smaller file."


class UploadLog:
    """Upload times per owner over the last hour (in memory: a restart forgives everyone)."""

    def __init__(self, clock=time.time):
        self._clock = clock
        self._times: dict[str, deque[tuple[float, str]]] = defaultdict(deque)
        self._lock = threading.Lock()

    def refusal(self, owner: str, settings: QuotaSettings, digest: str = "") -> str | None:
        """None, and the upload is counted; else the sentence saying when the next one is allowed.

        The same file again within the hour (same `digest`, as on every rerun of the page while the
        file stays in the uploader) is not counted twice.
        """
        with self._lock:
            now = self._clock()
            times = self._times[owner]
            while times and now - times[0][0] >= HOUR:
                times.popleft()
            if digest and any(seen == digest for _, seen in times):
                return None
            if len(times) >= settings.max_uploads_per_hour:
                wait = _minutes((HOUR - (now - times[0][0])) / 60.0)
                return (
                    f"You have uploaded {len(times)} files in the last hour, this server's limit; "
                    f"the next upload is allowed in {wait}."
                )
            times.append((now, digest))
            return None


def _minutes(minutes: float) -> str:
    whole = max(1, round(minutes))
    return f"{whole} minute" if whole == 1 else f"{whole} minutes"
