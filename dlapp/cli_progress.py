"""How `python -m dlapp train` shows a running job: a redrawn bar on a terminal, epoch lines otherwise."""

from __future__ import annotations

import math
from typing import Any, TextIO


def follow(job, stream: TextIO) -> None:
    """Show progress until the job ends: a redrawn bar on a terminal, plain epoch lines otherwise."""
    on_terminal = stream.isatty()
    seen, warned = 0, False
    while not job.done:
        job.wait(0.25)
        if job.checkpoint_problem and not warned:  # said once; training goes on
            warned = True
            stream.write(("\r\x1b[K" if on_terminal else "") + job.checkpoint_problem + "\n")
        events = job.events_since(seen)
        seen = events[-1].index + 1 if events else seen  # old batch events may be gone: count by index
        for event in events:
            if event.kind == "epoch":
                line = epoch_line(event.data, job.config.train.epochs)
                stream.write(("\r\x1b[K" if on_terminal else "") + line + "\n")
        if on_terminal and not job.done:
            stream.write("\r\x1b[K" + bar(job.progress()))
        stream.flush()
    if on_terminal:
        stream.write("\r\x1b[K")
        stream.flush()


def epoch_line(logs: dict, epochs: int) -> str:
    values = ", ".join(f"{key} {value:.4f}" for key, value in logs.items() if key != "epoch" and is_number(value))
    return f"epoch {logs['epoch'] + 1}/{epochs}: {values}"


def bar(progress, width: int = 30) -> str:
    if progress.steps_per_epoch is None and progress.fraction == 0:
        return "starting: loading TensorFlow and the data ..."
    filled = int(round(progress.fraction * width))
    text = f"epoch {max(progress.epoch, 1)}/{progress.epochs} [{'#' * filled}{'.' * (width - filled)}]"
    text += f" {progress.fraction:4.0%}"
    if progress.samples_per_second:
        text += f"  {progress.samples_per_second:,.0f} img/s"
    if progress.eta_seconds is not None:
        text += f"  eta {progress.eta_seconds:.0f}s"
    return text


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
