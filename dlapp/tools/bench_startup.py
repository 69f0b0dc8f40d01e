"""Start-up costs and memory: cold load of the bundled sample, model build times, the first batch
event after start() (warm, and cold in a fresh interpreter), and the peak memory of a training run.

Peak memory is measured per architecture in its own interpreter (VmHWM: Linux hands a child the
parent's ru_maxrss).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dlapp.config import RunConfig

ROOT = Path(__file__).resolve().parents[2]  # so child interpreters import this dlapp

# Runs one training job in a fresh interpreter; prints its peak RSS and first-batch latency.
CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from dlapp.tools.bench_startup import seconds_to_first_batch
    from dlapp.config import RunConfig
    from dlapp.jobs import TrainingJob
    from dlapp.store import RunStore

    job = TrainingJob(RunConfig.from_json(sys.argv[1]), RunStore(sys.argv[2]))
    first_batch_s = seconds_to_first_batch(job)
    job.wait()
    # ru_maxrss is not this interpreter's own peak: Linux carries the parent's RSS over fork and exec
    # into it. VmHWM belongs to this process's address space only, so it is the number to report.
    try:
        status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
        peak_kib = int(status)
    except (OSError, IndexError, ValueError):
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({
        "status": job.status,
        "error": job.error,
        "first_batch_s": first_batch_s,
        "peak_rss_mb": peak_kib / 1024,
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    """
)

SAMPLE_LOAD_CHILD = textwrap.dedent(
    """
    import json, time
    began = time.perf_counter()
    from dlapp.data import load_raw
    imported = time.perf_counter()
    load_raw("mnist-sample")
    print(json.dumps({"import_s": imported - began, "load_s": time.perf_counter() - imported}))
    """
)


def sample_load_time(repeats: int = 3) -> dict[str, float]:
    """Seconds to import dlapp.data and to load the bundled sample, each in a fresh interpreter (medians)."""
    runs = [_child_json([sys.executable, "-c", SAMPLE_LOAD_CHILD]) for _ in range(repeats)]
    return {
        "load_s": round(statistics.median(r["load_s"] for r in runs), 4),
        "import_s": round(statistics.median(r["import_s"] for r in runs), 4),
    }


def build_times(archs: Sequence[str], repeats: int = 3) -> dict[str, float]:
    """Median seconds to build and compile each architecture's default model (after one warm-up build)."""
    from dlapp.models import build_compiled

    build_compiled(RunConfig())  # the first build pays for initialising Keras, not for the model
    out = {}
    for arch in archs:
        config = RunConfig.from_flat(arch=arch)
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            build_compiled(config)
            times.append(time.perf_counter() - began)
        out[arch] = round(statistics.median(times), 4)
    return out


def seconds_to_first_batch(job) -> float | None:
    """Start `job` and return the seconds until its first batch event (None if it ended first)."""
    started = time.time()
    job.start()
    first = None
    while first is None and not job.done:
        first = next((e.time for e in job.events_since(0) if e.kind == "batch"), None)
        time.sleep(0.002)
    first = first or next((e.time for e in job.events_since(0) if e.kind == "batch"), None)
    return None if first is None else first - started


def first_batch_warm(store_dir: Path) -> float:
    """Seconds from start() to the first batch event of the default MLP, in this process (TF loaded)."""
    from dlapp.jobs import TrainingJob
    from dlapp.store import RunStore

    job = TrainingJob(RunConfig(), RunStore(store_dir))
    first = seconds_to_first_batch(job)
    job.stop()
    job.wait()
    if first is None:
        raise RuntimeError(f"The bench's default MLP job ended {job.status} before its first batch: {job.error}")
    return round(first, 3)


def child_run(config: RunConfig, store_dir: Path) -> dict[str, Any]:
    """Peak RSS (MB) and first-batch latency of one training job in a fresh interpreter."""
    result = _child_json([sys.executable, "-c", CHILD, config.to_json(), str(store_dir)])
    if result["status"] != "finished":
        raise RuntimeError(f"The bench's {config.model.arch} child run ended {result['status']}: {result['error']}")
    return {
        "peak_rss_mb": round(result["peak_rss_mb"], 1),
        "first_batch_s": None if result["first_batch_s"] is None else round(result["first_batch_s"], 3),
    }


def _child_json(command: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    if done.returncode != 0 or not done.stdout.strip():
        tail = " ".join(done.stderr.strip().splitlines()[-1:]) or f"exit status {done.returncode}"
        raise RuntimeError(f"A bench child process failed ({tail[:300]}).")
    return json.loads(done.stdout.strip().splitlines()[-1])
