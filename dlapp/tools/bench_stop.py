"""How long Stop takes in a training job: until the training loop stops, and until the job has ended.

With several batches per call into TensorFlow (`models.STEPS_PER_EXECUTION`) callbacks run, and
a stop can land, only between calls; this measures what that costs a person pressing Stop.
The job is stopped mid-epoch, a while after its first batch event (tracing done), `repeats`
times at different moments; medians are reported. "Ended" adds what a stopped job still does:
validation of the partial epoch, the instruments, the last checkpoint and the test evaluation.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from dlapp.config import RunConfig


def stop_latency(config: RunConfig, store_dir: Path, repeats: int = 3, after_s: float = 1.0) -> dict[str, Any]:
    """Seconds from `job.stop()` to the end of the loop's last call into TensorFlow, and to the job's end (medians)."""
    loop, ended = [], []
    for index in range(repeats):
        seen, done = _stop_once(config, store_dir, after_s + 0.37 * index)  # a different phase each time
        loop.append(seen)
        ended.append(done)
    return {
        "loop_s": round(statistics.median(loop), 3),
        "ended_s": round(statistics.median(ended), 3),
        "loop_runs": [round(v, 3) for v in loop],
        "ended_runs": [round(v, 3) for v in ended],
    }


def _stop_once(config: RunConfig, store_dir: Path, after_s: float) -> tuple[float, float]:
    import keras

    from dlapp.jobs import TrainingJob
    from dlapp.store import RunStore

    class StopSeen(keras.callbacks.Callback):
        """Times every call into TensorFlow from the training thread; the loop stops after the last one.

        Batch-begin hooks run on the training thread (batch-end hooks on Keras's worker thread, which
        a loaded machine leaves behind the steps, so they would time the worker, not the loop).
        """

        async_safe = True  # like the job's own callbacks, so the job trains as it does in the app
        begins: list[float]

        def on_train_begin(self, logs=None):
            self.begins = []

        def on_train_batch_begin(self, batch, logs=None):
            self.begins.append(time.perf_counter())

        def loop_stopped_at(self) -> float:
            """When the last call ended: its start plus a typical call's length."""
            gaps = [b - a for a, b in zip(self.begins, self.begins[1:], strict=False)]
            return self.begins[-1] + (statistics.median(gaps) if gaps else 0.0)

    seen = StopSeen()
    job = TrainingJob(config, RunStore(store_dir), callbacks=[seen])
    job.start()
    while not job.done and not any(e.kind == "batch" for e in job.events_since(0)):
        time.sleep(0.01)
    time.sleep(after_s)
    if job.done:
        raise RuntimeError(f"The {config.model.arch} job ended before Stop could be pressed; give it more epochs.")
    pressed = time.perf_counter()
    job.stop()
    status = job.wait()
    ended = time.perf_counter()
    if status != "stopped":
        raise RuntimeError(f"The {config.model.arch} job ended {status} instead of stopping: {job.error}")
    return max(seen.loop_stopped_at() - pressed, 0.0), ended - pressed
