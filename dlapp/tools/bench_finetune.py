"""Measure fine-tuning on handwriting the model misses: real pen strokes, or generated styles.

`--source pendigits` (the default) simulates people from the UCI pen digits
(`dlapp.tools.pen_writers`): each writes 7, 1 and 9 in a style the parent model misses and the
other digits in one style each. Per person, `--saved` drawings of each digit are saved to the
store (the app holds out one in five and trains on the rest), the parent is fine-tuned on them,
and accuracy is reported before and after on up to `--tested` other drawings per digit of the
same styles (never trained on), per digit for 7, 1 and 9, and on the MNIST-sample test split.

`--source procedural` is the first measurement: 10 generated drawings per digit, 7s with a bar
and 1s with flag and base, tested on 200 fresh drawings of those two styles.

The parent is a default CNN trained on the offline MNIST sample (`--parent-epochs`).

    python -m dlapp.tools.bench_finetune [--people 5] [--epochs 3] [--top-layers 2] [--replay-share 0.75] [--store DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np

from dlapp.preprocess import canvas_to_mnist
from dlapp.tools.sketches import STYLES, draw_digit

MISSED = {7: "bar", 1: "flag and base"}


def styled_drawings(per_digit: int, seed: int, digits=range(10)) -> tuple[np.ndarray, np.ndarray]:
    """`per_digit` drawings of each digit, the missed styles for 7 and 1, any style for the rest."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(per_digit):
        for digit in digits:
            style = MISSED.get(digit) or list(STYLES[digit])[rng.integers(len(STYLES[digit]))]
            images.append(canvas_to_mnist(draw_digit(digit, rng, style)))
            labels.append(digit)
    return np.array(images, np.float32), np.array(labels, np.int64)


def train_parent(store, epochs: int):
    from dlapp.config import RunConfig
    from dlapp.jobs import TrainingJob

    job = TrainingJob(RunConfig.from_flat(arch="cnn", dataset="mnist-sample", epochs=epochs), store).start()
    job.wait()
    return store.run(job.run_id)


def style_accuracy(model, arch: str, images, labels) -> float:
    from dlapp.data import shape_for
    from dlapp.evaluation import predict

    return float((predict(model, shape_for(images, arch)).argmax(axis=1) == labels).mean())


def measure_procedural(epochs: int, top_layers: int, parent_epochs: int, learning_rate: float) -> dict:
    from dlapp.finetune import start_finetune, summary
    from dlapp.modelfile import load_model_file
    from dlapp.store import RunStore

    store = RunStore(tempfile.mkdtemp(prefix="bench-finetune-"))
    parent = train_parent(store, parent_epochs)
    for image, label in zip(*styled_drawings(10, seed=1), strict=True):
        store.add_drawing(int(label), image)
    fresh_x, fresh_y = styled_drawings(100, seed=2, digits=(1, 7))
    before = style_accuracy(load_model_file(parent.model_path), parent.arch, fresh_x, fresh_y)
    began = time.perf_counter()
    job = start_finetune(store, parent, epochs, top_layers=top_layers, learning_rate=learning_rate)
    job.wait()
    seconds = time.perf_counter() - began
    child = store.run(job.run_id)
    after = style_accuracy(load_model_file(child.model_path), parent.arch, fresh_x, fresh_y)
    return {
        **summary(store, job),
        "missed_style_accuracy_before": before,
        "missed_style_accuracy_after": after,
        "finetune_seconds": round(seconds, 1),
        "fit_seconds": child.seconds,
        "top_layers": top_layers,
        "learning_rate": learning_rate,
    }


def main() -> None:
    from dlapp import finetune

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("pendigits", "procedural"), default="pendigits")
    parser.add_argument("--epochs", type=int, default=finetune.EPOCHS)
    parser.add_argument("--top-layers", type=int, default=finetune.TOP_LAYERS, help="0: all layers.")
    parser.add_argument("--parent-epochs", type=int, default=5)
    parser.add_argument("--learning-rate", type=float, default=finetune.LEARNING_RATE)
    parser.add_argument("--batch-size", type=int, default=None, help="Default: the parent's.")
    parser.add_argument("--replay-share", type=float, default=finetune.REPLAY_SHARE)
    parser.add_argument("--copies", type=int, default=finetune.COPIES, help="Augmented copies of each drawing.")
    parser.add_argument("--people", type=int, default=5, help="How many simulated people.")
    parser.add_argument("--first-person", type=int, default=11, help="Their seeds start here (1-5 chose the settings).")
    parser.add_argument("--saved", type=int, default=13, help="Drawings saved per digit (3 of 13 held out).")
    parser.add_argument("--tested", type=int, default=40, help="Other drawings per digit to test on, at most.")
    parser.add_argument("--store", default=None, help="A bench store to reuse its parent (default: a new one).")
    args = parser.parse_args()
    if args.source == "procedural":
        print(json.dumps(measure_procedural(args.epochs, args.top_layers, args.parent_epochs, args.learning_rate)))
        return
    from dlapp.tools.bench_pen import measure_people

    measure_people(args)


if __name__ == "__main__":
    main()
