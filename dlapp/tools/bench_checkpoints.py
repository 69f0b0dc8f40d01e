"""What checkpointing costs a training run, per architecture, at the default interval.

`python -m dlapp.tools.bench_checkpoints [--archs mlp,cnn] [--repeats 5] [--json]`

A checkpoint runs in the training thread at the end of an epoch, so its cost is the time one
write takes (a `.keras` save with the optimizer state, fsync, rename), paid at most once per
epoch and at most once per interval: a share of training time of write / max(interval, epoch)
("share at the interval"). After a slow write the callback stretches the interval so the share
stays under 2% ("stretched"). Each architecture's bench model (the bench's settings: the
bundled sample, batch size 32) trains one epoch to time an epoch and to give the optimizer its
state, then is written `repeats` times into a temporary folder on the data disk.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from dlapp.checkpoints import MAX_SHARE, CheckpointInfo, checkpoint_interval, speed_up_keras_saving, write_model_file
from dlapp.config import ARCHITECTURES, RunConfig

TARGET_SHARE = MAX_SHARE  # of training time, at most


def measure(arch: str, repeats: int, folder: Path, interval: float) -> dict:
    import keras

    from dlapp.data import prepare
    from dlapp.models import build_compiled

    config = RunConfig.from_flat(arch=arch, dataset="mnist-sample", batch_size=32, epochs=1)
    keras.utils.set_random_seed(config.train.seed)
    data = prepare(config.data, arch, seed=config.train.seed)
    target = data.y_train if config.is_classifier else data.x_train
    model = build_compiled(config)
    model.fit(data.x_train[:64], target[:64], batch_size=32, epochs=1, verbose=0)  # trace first
    began = time.perf_counter()
    model.fit(data.x_train, target, batch_size=32, epochs=1, verbose=0)
    epoch_s = time.perf_counter() - began
    path = folder / f"run-{arch}.keras"
    speed_up_keras_saving()  # as the checkpoint callback does when training begins
    write_model_file(model, path, CheckpointInfo(1, 1))  # untimed warm-up
    seconds = []
    for _ in range(repeats):
        began = time.perf_counter()
        write_model_file(model, path, CheckpointInfo(1, 1))
        seconds.append(time.perf_counter() - began)
    write_s = statistics.median(seconds)
    return {
        "arch": arch,
        "parameters": int(model.count_params()),
        "file_mb": round(path.stat().st_size / 2**20, 2),
        "write_ms_median": round(write_s * 1000, 1),
        "write_ms_max": round(max(seconds) * 1000, 1),
        "epoch_s": round(epoch_s, 2),
        "share": round(write_s / max(interval, epoch_s), 4),
        "share_stretched": round(write_s / max(interval, epoch_s, write_s / MAX_SHARE), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlapp.tools.bench_checkpoints", description=__doc__.split("\n")[0])
    parser.add_argument("--archs", default=",".join(ARCHITECTURES), help="Comma-separated architectures.")
    parser.add_argument("--repeats", type=int, default=5, help="Timed writes per architecture (default 5).")
    parser.add_argument("--data-dir", default=".", help="Folder whose disk the checkpoints go to (default: here).")
    parser.add_argument("--json", action="store_true", help="Also print the results as one JSON line.")
    args = parser.parse_args(argv)
    archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    unknown = [a for a in archs if a not in ARCHITECTURES]
    if unknown or args.repeats < 1:
        parser.error(f"--archs must name {', '.join(ARCHITECTURES)} and --repeats be at least 1.")
    interval = checkpoint_interval()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(dir=args.data_dir, prefix=".bench-checkpoints-") as folder:
        rows = [measure(arch, args.repeats, Path(folder), interval) for arch in archs]
    print(f"Checkpoint cost at an interval of {interval:g} s (target: at most {TARGET_SHARE:.0%} of training time)")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in load_before)}; {os.cpu_count()} CPUs\n")
    print("| arch | parameters | file MB | write ms (median / max) | epoch s | share at the interval | stretched |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        mark = "" if r["share"] <= TARGET_SHARE else " (over)"
        print(
            f"| {r['arch']} | {r['parameters']:,} | {r['file_mb']} | {r['write_ms_median']} / {r['write_ms_max']} "
            f"| {r['epoch_s']} | {r['share']:.2%}{mark} | {r['share_stretched']:.2%} |"
        )
    if args.json:
        print(json.dumps({"interval_s": interval, "target_share": TARGET_SHARE, "archs": rows}))
    return 0 if all(r["share_stretched"] <= TARGET_SHARE for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
