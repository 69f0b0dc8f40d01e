"""What the instruments cost: per-epoch recording against the epoch it follows, per architecture, and
the Draw page's forward-pass panels for the default CNN.

`python -m dlapp.tools.bench_instruments [--archs mlp,cnn] [--epochs 4] [--calls 50]` prints a
Markdown table; its last line is one JSON object. Recording is judged in process CPU seconds,
which other processes on a shared machine barely disturb (wall seconds are printed too). The
first epoch's recording also traces the probe's `tf.function`, once per run: it is reported
apart from the steady epochs the budget is about.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from dlapp.config import ARCHITECTURES, RunConfig

TARGETS = {"recording_share": 0.02, "forward_pass_ms": 300.0}


def recording_cost(config: RunConfig) -> dict[str, Any]:
    """Recording time against epoch time for one fit of `config` (at least 2 epochs), CPU and wall."""
    import keras

    from dlapp.data import prepare
    from dlapp.instruments import LayerStatsCallback
    from dlapp.training import fit_run

    class EpochClock(keras.callbacks.Callback):
        """Clocks each epoch up to the recording, which runs right after it."""

        def __init__(self):
            super().__init__()
            self.wall, self.cpu = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self._wall, self._cpu = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.wall.append(time.perf_counter() - self._wall)
            self.cpu.append(time.process_time() - self._cpu)

    data = prepare(config.data, config.model.arch, seed=config.train.seed)
    targets = data.y_train if config.is_classifier else data.x_train
    clock, recorder = EpochClock(), LayerStatsCallback(_Discard(), data.x_train, targets)
    fit_run(config, callbacks=[clock, recorder], data=data)
    steady = slice(1, None)  # the first epoch traces both Keras's step and the probe
    cpu_share = statistics.median(recorder.cpu_seconds[steady]) / statistics.median(clock.cpu[steady])
    return {
        "probe_images": len(recorder.x_probe),
        "epoch_cpu_s": round(statistics.median(clock.cpu[steady]), 3),
        "recording_cpu_s": round(statistics.median(recorder.cpu_seconds[steady]), 4),
        "recording_share": round(cpu_share, 4),
        "wall_share": round(statistics.median(recorder.seconds[steady]) / statistics.median(clock.wall[steady]), 4),
        "first_epoch_recording_cpu_s": round(recorder.cpu_seconds[0], 3),
    }


class _Discard:
    def on_layers(self, epoch: int, layers: dict) -> None:
        pass


def forward_pass_ms(calls: int) -> dict[str, float]:
    """Milliseconds from a prepared drawing to the default CNN's forward-pass panels as PNG bytes."""
    import io

    from PIL import Image

    from dlapp.activation_images import layer_picture
    from dlapp.activations import forward_pass
    from dlapp.models import build_compiled
    from dlapp.preprocess import canvas_to_mnist
    from dlapp.tools.bench_latency import demo_canvas

    model = build_compiled(RunConfig.from_flat(arch="cnn"))
    image = canvas_to_mnist(demo_canvas())

    def panels() -> None:
        for layer in forward_pass(model, image).layers:
            Image.fromarray(layer_picture(layer).image).save(io.BytesIO(), format="PNG")  # as st.image sends it

    panels()  # the first call traces the probe model, once per model
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        panels()
        times.append((time.perf_counter() - began) * 1000)
    return {"median": round(statistics.median(times), 1), "p90": round(sorted(times)[int(0.9 * len(times))], 1)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", default=",".join(ARCHITECTURES), help="Comma-separated architectures.")
    parser.add_argument("--epochs", type=int, default=4, help="Epochs per fit, at least 2 (default 4).")
    parser.add_argument("--calls", type=int, default=50, help="Forward passes timed (default 50).")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch traces, the others are measured.")
    results: dict[str, Any] = {"recording": {}, "forward_pass_ms": forward_pass_ms(args.calls)}
    print("| architecture | probe images | epoch CPU s | recording CPU s | share (CPU) | share (wall) | first epoch |")
    print("|---|---|---|---|---|---|---|")
    for arch in [a.strip() for a in args.archs.split(",") if a.strip()]:
        cost = recording_cost(RunConfig.from_flat(arch=arch, epochs=args.epochs))
        results["recording"][arch] = cost
        print(
            f"| {arch} | {cost['probe_images']} | {cost['epoch_cpu_s']} | {cost['recording_cpu_s']} "
            f"| {cost['recording_share']:.1%} | {cost['wall_share']:.1%} | {cost['first_epoch_recording_cpu_s']} s |"
        )
    forward = results["forward_pass_ms"]
    print(f"\nForward-pass panels, default CNN: median {forward['median']} ms, p90 {forward['p90']} ms")
    results["ok"] = {
        **{arch: r["recording_share"] < TARGETS["recording_share"] for arch, r in results["recording"].items()},
        "forward_pass": forward["median"] < TARGETS["forward_pass_ms"],
    }
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
