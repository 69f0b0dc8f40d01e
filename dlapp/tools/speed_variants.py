"""Which input pipeline, batches per call and XLA setting each architecture trains fastest with.

    python -m dlapp.tools.speed_variants --archs mlp,cnn --rounds 3 [--epochs 3] [--json]

Each variant is `fit_run` of the default model with the per-architecture choices overridden
(`input_pipeline.USE_TF_DATA`, `models.STEPS_PER_EXECUTION`, `models.JIT_COMPILE`); the baseline
is `bench_speed.bare_float32_fit`, the fit a Keras user writes. Every fit builds a fresh model,
as a job does, so tracing and XLA compilation are paid inside the timed fit. Each round runs the
baseline and every variant once, in an order rotated per round, so a slow phase of a shared
machine hits them all; the ratios are medians of samples per process CPU second and per wall
second. The load average is printed with the results, since other work on the cores moves wall
times. What it found is written beside the choices in `models.py` and `input_pipeline.py`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
from collections.abc import Iterator
from typing import Any

from dlapp.config import RunConfig

# name -> (tf.data input, batches per call, XLA); "+8" is 8 batches per call
VARIANTS: dict[str, tuple[bool, int, bool]] = {
    "numpy": (False, 1, False),
    "numpy+8": (False, 8, False),
    "tf.data": (True, 1, False),
    "tf.data+4": (True, 4, False),
    "tf.data+8": (True, 8, False),
    "tf.data+16": (True, 16, False),
    "tf.data+8+XLA": (True, 8, True),
}


@contextlib.contextmanager
def choices(arch: str, tf_data: bool, per_call: int, jit: bool) -> Iterator[None]:
    """fit_run trains `arch` with these choices inside the block; the measured ones come back after."""
    from dlapp import input_pipeline, models

    tables = ((input_pipeline.USE_TF_DATA, tf_data), (models.STEPS_PER_EXECUTION, per_call), (models.JIT_COMPILE, jit))
    saved = [table[arch] for table, _ in tables]
    for table, value in tables:
        table[arch] = value
    try:
        yield
    finally:
        for (table, _), value in zip(tables, saved, strict=True):
            table[arch] = value


def measure(arch: str, variants: dict[str, tuple[bool, int, bool]], rounds: int, epochs: int) -> dict[str, Any]:
    """Per variant: median samples/s ratios over the bare float32 fit (CPU and wall), and the runs."""
    from dlapp.tools.bench_speed import bare_float32_fit, tuned_fit

    config = RunConfig.from_flat(arch=arch, epochs=epochs)
    fits = {"bare": lambda: bare_float32_fit(config)}
    for name, (tf_data, per_call, jit) in variants.items():
        fits[name] = lambda t=tf_data, p=per_call, j=jit: _with(arch, (t, p, j), lambda: tuned_fit(config))
    warm = config.replace(epochs=1)
    bare_float32_fit(warm)  # kernels loaded once, untimed
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in fits}
    names = list(fits)
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            runs[name].append(fits[name]())
    bare_wall = statistics.median(w for w, _ in runs["bare"])
    bare_cpu = statistics.median(c for _, c in runs["bare"])
    return {
        name: {
            "cpu_ratio": round(statistics.median(c for _, c in values) / bare_cpu, 3),
            "wall_ratio": round(statistics.median(w for w, _ in values) / bare_wall, 3),
            "wall_sps": [round(w) for w, _ in values],
        }
        for name, values in runs.items()
    }


def _with(arch: str, choice: tuple[bool, int, bool], fit):
    with choices(arch, *choice):
        return fit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", default="mlp,cnn,rnn,autoencoder,resnet")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--variants", default="", help="comma-separated names from VARIANTS (default all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from dlapp.jobs import configure_threads

    configure_threads()
    wanted = [name.strip() for name in args.variants.split(",") if name.strip()] or list(VARIANTS)
    variants = {name: VARIANTS[name] for name in wanted}
    results = {}
    for arch in args.archs.split(","):
        load_before = os.getloadavg()[0]
        results[arch] = measure(arch, variants, args.rounds, args.epochs)
        results[arch]["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
        print(arch, json.dumps(results[arch]), flush=True)
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
