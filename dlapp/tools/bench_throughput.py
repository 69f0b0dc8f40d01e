"""Training throughput: a `TrainingJob` against a bare fit of the same config, data and batch size.

Both go through `dlapp.training.fit_run`: the bare fit with nothing added (a plain `model.fit`),
the job with its events, store writes and TensorBoard logs. Both get an untimed warm-up, then
they alternate (bare/job, job/bare, ...) and the medians are compared. Both are timed the way
the job defines samples_per_second: samples trained / seconds inside `model.fit` (validation
included; building the model and the final test evaluation excluded). Each fit is also clocked
in process CPU seconds, which other processes on the machine barely disturb.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from dlapp.config import RunConfig


def throughput(config: RunConfig, store_dir: Path, rounds: int) -> dict[str, Any]:
    """Samples/s of a bare fit and of a TrainingJob, interleaved, medians and their ratio."""
    from dlapp.store import RunStore

    store = RunStore(store_dir)
    one_epoch = config.replace(epochs=1)
    bare_fit(one_epoch)  # warm-up: kernels and this layer mix traced once, untimed
    job_fit(one_epoch, store)  # warm-up: the first job also loads TensorBoard's writer
    bare, job = [], []
    for index in range(rounds):
        # Alternate which goes first, so a slow phase of the machine hits both sides.
        order = (bare_fit, job_fit) if index % 2 == 0 else (job_fit, bare_fit)
        for fit in order:
            if fit is bare_fit:
                bare.append(bare_fit(config))
            else:
                job.append(job_fit(config, store))
    result = compare(bare, job, "job")
    result["bare_cpu_sps"] = round(statistics.median(c for _, c in bare), 1)
    result["job_cpu_sps"] = round(statistics.median(c for _, c in job), 1)
    return result


def compare(bare: list[tuple[float, float]], other: list[tuple[float, float]], name: str) -> dict[str, Any]:
    """Medians and ratios of interleaved (wall, CPU) samples/s of a bare fit and `name`'s fit."""
    bare_wall, other_wall = [w for w, _ in bare], [w for w, _ in other]
    bare_cpu, other_cpu = [c for _, c in bare], [c for _, c in other]
    return {
        "bare_sps": round(statistics.median(bare_wall), 1),
        f"{name}_sps": round(statistics.median(other_wall), 1),
        "ratio": round(statistics.median(other_wall) / statistics.median(bare_wall), 3),
        # Each round's pair ran back to back, so their ratio sees the same machine load.
        "paired_ratio": round(statistics.median(o / b for o, b in zip(other_wall, bare_wall, strict=True)), 3),
        "cpu_ratio": round(statistics.median(other_cpu) / statistics.median(bare_cpu), 3),
        "bare_runs": [round(v, 1) for v in bare_wall],
        f"{name}_runs": [round(v, 1) for v in other_wall],
    }


def fit_clock():
    """A callback that clocks the fit from train begin to train end, in wall and in process CPU seconds.

    CPU seconds of this process barely move when other processes load the machine, while wall seconds
    can double; so the CPU ratio shows the job's own overhead even on a busy shared machine.
    One call at the start of the fit and one at the end, nothing per batch.
    """
    import keras

    class FitClock(keras.callbacks.Callback):
        wall = cpu = 0.0

        def on_train_begin(self, logs=None):
            self._wall, self._cpu = time.perf_counter(), time.process_time()

        def on_train_end(self, logs=None):
            self.wall, self.cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu

    return FitClock()


def bare_fit(config: RunConfig) -> tuple[float, float]:
    """Samples/s of a plain `model.fit` of the config, nothing else added: (per wall s, per CPU s)."""
    from dlapp.training import fit_run

    clock = fit_clock()
    result = fit_run(config, callbacks=[clock])
    return result.samples_per_second, result.samples_trained / clock.cpu


def job_fit(config: RunConfig, store) -> tuple[float, float]:
    """The samples_per_second a TrainingJob records for itself (unrounded, from the store), and per CPU s."""
    from dlapp.jobs import TrainingJob

    clock = fit_clock()
    job = TrainingJob(config, store, callbacks=[clock]).start()
    status = job.wait()
    if status != "finished":
        raise RuntimeError(f"The bench's {config.model.arch} training job ended {status}: {job.error}")
    return float(store.run(job.run_id).samples_per_second), job.samples_trained / clock.cpu
