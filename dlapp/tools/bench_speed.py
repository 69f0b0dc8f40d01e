"""Faster than a plain Keras fit? Speed-up, accuracy per precision, and epoch time at MNIST's size.

- Speed-up: `fit_run` of the default job (its precision, compilation and input pipeline) against
  the fit a Keras user would write: the same model built in float32, compiled with Keras's
  defaults, fed the NumPy arrays, same batch size. Rounds alternate which goes first; medians
  of samples per wall second and per process CPU second (other processes on a shared machine
  barely move the latter), and the median of each round's paired ratio.
- Accuracy per precision: the default job's test accuracy (test mse for the autoencoder) for
  each seed, and the mean, so a speed-up that learns less shows.
- Epoch time at 60,000 images: one epoch of the default job on `dlapp.timing_data`'s set.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

from dlapp.config import RunConfig
from dlapp.tools.bench_throughput import compare, fit_clock


def bare_float32_fit(config: RunConfig) -> tuple[float, float]:
    """Samples/s of `model.fit` as a Keras user writes it: float32, default compile, NumPy arrays."""
    import keras

    from dlapp.data import prepare
    from dlapp.models import build_model, loss_and_metrics, make_optimizer

    train = config.train
    keras.utils.set_random_seed(train.seed)
    data = prepare(config.data, config.model.arch, seed=train.seed)
    targets = (lambda x, y: y) if config.is_classifier else (lambda x, y: x)
    model = build_model(config.model, "float32")
    loss, metrics = loss_and_metrics(config)
    model.compile(optimizer=make_optimizer(train), loss=loss, metrics=metrics)
    clock = fit_clock()
    model.fit(
        data.x_train,
        targets(data.x_train, data.y_train),
        batch_size=train.batch_size,
        epochs=train.epochs,
        validation_data=(data.x_val, targets(data.x_val, data.y_val)) if len(data.x_val) else None,
        callbacks=[clock],
        verbose=0,
    )
    samples = len(data.x_train) * train.epochs
    return samples / clock.wall, samples / clock.cpu


def tuned_fit(config: RunConfig) -> tuple[float, float]:
    """Samples/s of dlapp's own fit of the config (`fit_run`, nothing else added)."""
    from dlapp.training import fit_run

    clock = fit_clock()
    result = fit_run(config, callbacks=[clock])
    return result.samples_per_second, result.samples_trained / clock.cpu


def speedup(config: RunConfig, rounds: int) -> dict[str, Any]:
    """`fit_run(config)` against a bare float32 fit of the same model and batch size, interleaved."""
    one_epoch = config.replace(epochs=1)
    bare_float32_fit(one_epoch)  # warm-ups, untimed: kernels and both code paths traced once
    tuned_fit(one_epoch)
    bare, tuned = [], []
    for index in range(rounds):
        first_bare = index % 2 == 0  # alternate, so a slow phase of the machine hits both sides
        for fit in (bare_float32_fit, tuned_fit) if first_bare else (tuned_fit, bare_float32_fit):
            (bare if fit is bare_float32_fit else tuned).append(fit(config))
    return compare(bare, tuned, "tuned")


def accuracy_by_precision(config: RunConfig, precisions: Sequence[str], seeds: Sequence[int]) -> dict[str, Any]:
    """Test accuracy (test mse for the autoencoder) of `fit_run` per precision and seed, and the means."""
    from dlapp.precision import resolve_precision
    from dlapp.training import fit_run

    metric = "test_accuracy" if config.is_classifier else "test_mse"
    out: dict[str, Any] = {"metric": metric}
    for precision in precisions:
        scores = [fit_run(config.replace(precision=precision, seed=seed)).metrics[metric] for seed in seeds]
        out[precision] = {
            "policy": resolve_precision(precision),
            "runs": [round(s, 4) for s in scores],
            "mean": round(statistics.fmean(scores), 4),
        }
    return out


def epoch_time_at_size(config: RunConfig, size: int) -> dict[str, Any]:
    """Seconds of one epoch of `fit_run` on `size` timing images (no validation), after a short warm-up."""
    from dlapp.timing_data import timing_prepared
    from dlapp.training import fit_run

    data = timing_prepared(config.model.arch, size)
    one_epoch = config.replace(epochs=1)
    fit_run(one_epoch, data=timing_prepared(config.model.arch, min(size, 2_000)))  # trace once, untimed
    began = time.process_time()
    result = fit_run(one_epoch, data=data)
    return {
        "images": size,
        "seconds": round(result.fit_seconds, 1),
        "cpu_seconds": round(time.process_time() - began, 1),
        "samples_per_second": round(result.samples_per_second, 1),
    }


# --- the bench's speed section: run, judge, print -------------------------------------------------

SPEED_TARGETS = {
    "speedup_auto": {"cnn": 1.3, "resnet": 1.3},  # default job over bare float32 fit; every other arch 1.0
    "speedup_floor": 1.0,
    "accuracy_points": 0.3,  # reduced precision's mean test accuracy within this of float32's
}
DEFAULT_PRECISIONS = ("auto", "float32", "mixed_bfloat16")


def add_speed_arguments(parser) -> None:
    parser.add_argument(
        "--precisions",
        default=",".join(DEFAULT_PRECISIONS),
        help=f"Precisions whose speed-up and accuracy are measured (default {','.join(DEFAULT_PRECISIONS)}).",
    )
    parser.add_argument("--seeds", type=int, default=3, help="Seeds per precision for accuracy (0 = skip; default 3).")
    parser.add_argument(
        "--timing-size", type=int, default=60_000, help="Images for the one-epoch time (0 = skip; default 60,000)."
    )


def speed_settings(args) -> dict[str, Any]:
    """The speed section's settings, checked: one ValueError sentence for anything out of range."""
    from dlapp.config import PRECISIONS

    precisions = tuple(part.strip() for part in args.precisions.split(",") if part.strip())
    if not precisions or any(p not in PRECISIONS for p in precisions):
        raise ValueError(
            f"--precisions must be a comma-separated list of {', '.join(PRECISIONS)}; got {args.precisions!r}."
        )
    if not 0 <= args.seeds <= 10:
        raise ValueError(f"--seeds must be 0 to 10; got {args.seeds}.")
    if not 0 <= args.timing_size <= 60_000:
        raise ValueError(f"--timing-size must be 0 to 60000 images; got {args.timing_size}.")
    return {"precisions": list(precisions), "seeds": args.seeds, "timing_size": args.timing_size}


def run_speed(configs: dict[str, RunConfig], settings: dict[str, Any], rounds: int, log) -> dict[str, Any]:
    """Speed-up per architecture and precision, accuracy per precision, epoch time at the timing size."""
    out: dict[str, Any] = {"speedup": {}, "accuracy": {}, "epoch_time": {}}
    for arch, config in configs.items():
        out["speedup"][arch] = {}
        for precision in settings["precisions"]:
            log(f"speed-up of {arch} at precision {precision} over a bare float32 fit ({rounds} rounds)")
            out["speedup"][arch][precision] = speedup(config.replace(precision=precision), rounds)
        if settings["seeds"] and config.model.arch != "autoencoder":
            log(f"test accuracy of {arch} per precision, {settings['seeds']} seeds, {RunConfig().train.epochs} epochs")
            default_length = config.replace(epochs=RunConfig().train.epochs)  # the default job's 5 epochs
            out["accuracy"][arch] = accuracy_by_precision(
                default_length, settings["precisions"], range(settings["seeds"])
            )
        if settings["timing_size"]:
            log(f"one epoch of {arch} on {settings['timing_size']:,} timing images")
            out["epoch_time"][arch] = epoch_time_at_size(config, settings["timing_size"])
    return out


def speed_verdicts(results: dict[str, Any]) -> dict[str, bool]:
    """The issue's goals: auto's speed-up (CPU seconds) per architecture, reduced precision's accuracy."""
    ok = {}
    for arch, by_precision in results["speedup"].items():
        if "auto" in by_precision:
            target = SPEED_TARGETS["speedup_auto"].get(arch, SPEED_TARGETS["speedup_floor"])
            ok[f"speedup_{arch}"] = by_precision["auto"]["cpu_ratio"] >= target
    for arch, acc in results["accuracy"].items():
        if "float32" not in acc:
            continue
        for precision, scores in acc.items():
            if precision not in ("metric", "float32") and scores["policy"] != "float32":
                gap = (acc["float32"]["mean"] - scores["mean"]) * 100
                ok[f"accuracy_{arch}_{precision}"] = gap <= SPEED_TARGETS["accuracy_points"]
    return ok


def speed_rows(results: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(measurement, value, target, met) rows for the bench's table."""
    ok, rows = results["ok"], []
    for arch, by_precision in results["speedup"].items():
        for precision, r in by_precision.items():
            target = SPEED_TARGETS["speedup_auto"].get(arch, 1.0) if precision == "auto" else None
            rows.append(
                (
                    f"{arch}, precision {precision}: fit_run / bare float32 fit, samples per CPU s",
                    f"{r['cpu_ratio']:.3f} (wall {r['ratio']:.3f}, paired {r['paired_ratio']:.3f}; "
                    f"{r['tuned_sps']:,.0f} / {r['bare_sps']:,.0f} samples/s)",
                    f">= {target}" if target else "",
                    ok.get(f"speedup_{arch}") if precision == "auto" else None,
                )
            )
    for arch, acc in results["accuracy"].items():
        for precision, scores in acc.items():
            if precision == "metric":
                continue
            runs = ", ".join(f"{100 * s:.1f}" for s in scores["runs"])
            rows.append(
                (
                    f"{arch}: test accuracy at {precision} ({scores['policy']}), mean of {len(scores['runs'])} seeds",
                    f"{100 * scores['mean']:.2f}% ({runs})",
                    "" if precision == "float32" else f"within {SPEED_TARGETS['accuracy_points']} points of float32",
                    ok.get(f"accuracy_{arch}_{precision}"),
                )
            )
    for arch, t in results["epoch_time"].items():
        rows.append(
            (
                f"{arch}: one epoch on {t['images']:,} timing images (default job)",
                f"{t['seconds']:.1f} s ({t['samples_per_second']:,.0f} samples/s)",
                "",
                None,
            )
        )
    return rows
