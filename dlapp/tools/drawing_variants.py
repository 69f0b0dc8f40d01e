"""`python -m dlapp.tools.drawing_variants NAME ...`: settings tried for the drawing goals, on the dev drawings.

Each named variant is the default CNN or the "best for drawing" preset with a few settings
changed. It is trained with training seeds 1 and 2 (`train_and_score`, the drawing report's
own step) and scored on the "dev" drawings only, which is where settings are chosen; the
report drawings are left for `python -m dlapp.tools.handdrawn`. One line per variant and seed
is appended to `--out` as it finishes (JSON), then a table of mean and worst over seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from dlapp.config import RunConfig
from dlapp.presets import BEST_FOR_DRAWING
from dlapp.tools.handdrawn import mean_worst, train_and_score
from dlapp.tools.sketches import drawing_sets

# "default" is the CNN default before bending (bend 0); the "+warp" variants were measured with the bend
# inside the augmentation block (augment on, shift, rotation and zoom 0), the same layer in the same place.
DEFAULT = RunConfig().replace(arch="cnn", bend=0.0)
PRESET = BEST_FOR_DRAWING.config.replace(pen_digits=0, epochs=20)  # the preset before the pen digits
CNN = RunConfig().replace(arch="cnn")
THICKNESS_ONLY = dict(augment=True, augment_shift=0.0, augment_rotation=0.0, augment_zoom=0.0)
VARIANTS: dict[str, RunConfig] = {
    "default": DEFAULT,
    "default+bn": DEFAULT.replace(batch_norm=True),
    "default+pen": DEFAULT.replace(**THICKNESS_ONLY, augment_thickness=0.5),
    "default+bn+warp": DEFAULT.replace(batch_norm=True, bend=3.0),
    "default+warp": DEFAULT.replace(bend=3.0),
    "default+warp2": DEFAULT.replace(bend=2.0),  # the CNN default now
    "default+topbottom": DEFAULT.replace(**THICKNESS_ONLY, augment_top_bottom=0.8),
    "default+warp+topbottom": DEFAULT.replace(**THICKNESS_ONLY, bend=3.0, augment_top_bottom=0.8),
    "default+warp2+topbottom": DEFAULT.replace(**THICKNESS_ONLY, bend=2.0, augment_top_bottom=0.8),
    "preset": PRESET,
    "preset+bn": PRESET.replace(batch_norm=True),
    "preset+warp": PRESET.replace(bend=3.0),
    "preset+warp2": PRESET.replace(bend=2.0),
    "preset+bn+warp": PRESET.replace(batch_norm=True, bend=3.0),
    "preset+topbottom": PRESET.replace(augment_top_bottom=0.8),
    "preset+strong": PRESET.replace(augment_elastic=2.0, augment_rotation=15.0),
    # The real writers' pen digits added to the training digits (`pen_digits`; dlapp.tools.pen_train).
    "cnn": CNN,  # the CNN default now (bend 2 px)
    "cnn+pen": CNN.replace(pen_digits=4494),
    "cnn+pen3": CNN.replace(pen_digits=4494, epochs=3),
    "preset+pen": PRESET.replace(pen_digits=4494),
    "preset+pen10": PRESET.replace(pen_digits=4494, epochs=10),
    "preset+pen12": PRESET.replace(pen_digits=4494, epochs=12),
    "preset+pen16b128": PRESET.replace(pen_digits=4494, epochs=16, batch_size=128),
    "preset+pen1500e16": PRESET.replace(pen_digits=1500, epochs=16),  # before label smoothing and the cosine
    # For the big-loop 6 and the preset's test digits (acc7; none read better than what ships).
    "cnn+rot30": CNN.replace(augment=True, augment_shift=0.0, augment_zoom=0.0, augment_rotation=30.0),
    "preset-now": BEST_FOR_DRAWING.config,
    "preset-now+dense256": BEST_FOR_DRAWING.config.replace(dense_units=256),
    "preset-now+dropout0.4": BEST_FOR_DRAWING.config.replace(dropout=0.4),
    "preset-now+e24b128": BEST_FOR_DRAWING.config.replace(epochs=24, batch_size=128, learning_rate=2e-3),
}
SEEDS = (1, 2)


def shifted_accuracies(model, config: RunConfig, seed: int, sets) -> dict[str, float]:
    """Accuracy when the model averages its probabilities over the image and its 1 px shifts (a test-time average)."""
    from dlapp.data import prepare

    test = prepare(config.data, "cnn", seed=seed)
    out = {f"{d.name.split()[0]}_shifted": _shifted_accuracy(model, d.images, d.labels) for d in sets}
    out["test_shifted"] = _shifted_accuracy(model, test.x_test[..., 0], test.y_test)
    return out


def _shifted_accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    from dlapp.evaluation import predict

    moves = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))
    total = sum(predict(model, np.roll(images, move, axis=(1, 2))[..., None]) for move in moves)
    return float(np.mean(total.argmax(axis=1) == labels))


def run(names: list[str], seeds, out: Path, shifted: bool = False) -> dict[str, list[dict]]:
    """Train and score each variant with each seed, appending one JSON line per fit to `out`."""
    sets = drawing_sets("dev")
    results: dict[str, list[dict]] = {}
    for name in names:
        for seed in seeds:
            import keras

            keras.backend.clear_session()  # one process trains them all: start each fit from a clean graph
            cpu = time.process_time()
            one = train_and_score(VARIANTS[name], seed, sets, keep_model=shifted)
            cpu = time.process_time() - cpu  # steadier than wall seconds on a shared machine; includes scoring
            row = {
                "variant": name,
                "seed": seed,
                "seconds": round(one["seconds"], 1),
                "cpu_seconds": round(cpu, 1),
                "load": [round(v, 1) for v in os.getloadavg()],
                "val": one["val"],
                "test": one["test"],
                **{s: one["scores"][s].accuracy for s in one["scores"]},
                "confusions": {s: _top(one["scores"][s].confusions) for s in one["scores"]},
                "by_style": _top(one["scores"]["procedural"].kind_confusions),
                "big_loop_6_as_0": one["scores"]["procedural"].kind_confusions.get(("6 big loop", 0), 0),
                "time": time.strftime("%H:%M:%S", time.gmtime()),
            }
            if shifted:
                row.update(shifted_accuracies(one["model"], VARIANTS[name], seed, sets))
            with out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
            results.setdefault(name, []).append(row)
    return results


def _top(confusions: dict[tuple[int, int], int], top: int = 4) -> str:
    pairs = sorted(confusions.items(), key=lambda item: -item[1])[:top]
    return ", ".join(f"{t}->{p} {n}" for (t, p), n in pairs)


def print_table(rows: list[dict]) -> None:
    """Mean (worst) per variant over the rows it has, in the order first seen."""
    head = ["variant", "fit s (load)", "CPU s", "procedural dev", "pendigits dev", "validation", "sample test"]
    head.append("big-loop 6s as 0")
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for name in dict.fromkeys(row["variant"] for row in rows):
        mine = [row for row in rows if row["variant"] == name]
        fit = f"{np.mean([r['seconds'] for r in mine]):.0f} ({min(r['load'][0] for r in mine):.0f}-"
        fit += f"{max(r['load'][0] for r in mine):.0f})"
        cells = [f"{np.mean([r.get('cpu_seconds', np.nan) for r in mine]):.0f}"]
        cells += [mean_worst(r[key] for r in mine) for key in ("procedural", "pendigits")]
        # Settings are chosen on the dev drawings and the validation digits; older rows have no "val".
        cells.append(mean_worst(r["val"] for r in mine) if all("val" in r for r in mine) else "–")
        cells.append(mean_worst(r["test"] for r in mine))
        # The one template every model misreads: per seed, of the 30 among the 1,000 dev drawings (older rows: –).
        cells.append("/".join(str(r.get("big_loop_6_as_0", "–")) for r in mine))
        print(f"| {name} | {fit} | " + " | ".join(cells) + f" |  ({len(mine)} seeds)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dlapp.tools.drawing_variants", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"variants to train, of: {', '.join(VARIANTS)}")
    parser.add_argument("--seeds", type=int, default=len(SEEDS), help="training seeds per variant (1..N)")
    parser.add_argument("--out", type=Path, default=Path("drawing_variants.jsonl"), help="JSON lines, appended")
    parser.add_argument("--table", action="store_true", help="only print the table of what --out holds")
    parser.add_argument("--shifted", action="store_true", help="also score a test-time average over 1 px shifts")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r}; choose from {', '.join(VARIANTS)}")
    if not args.table:
        run(args.names, range(1, args.seeds + 1), args.out, args.shifted)
    print_table([json.loads(line) for line in args.out.read_text().splitlines() if line.strip()])


if __name__ == "__main__":
    main()
