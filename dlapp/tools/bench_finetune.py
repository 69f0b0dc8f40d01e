"""Measure fine-tuning on a writer's style the model misses: crossbar 7s and 1s with a flag and base.

A parent CNN is trained on the offline MNIST sample; then 10 procedural drawings of each digit
(7s with a bar, 1s with flag and base, other digits in any style) are saved to a fresh store,
the model is fine-tuned on them, and accuracy is reported on the held-out drawings, on a fresh
set of 200 drawings of the two missed styles, and on the MNIST test split, before and after.

    python -m dlapp.tools.bench_finetune [--epochs 5] [--top-layers 0] [--parent-epochs 3]
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


def measure(epochs: int, top_layers: int, parent_epochs: int, learning_rate: float) -> dict:
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--top-layers", type=int, default=0)
    parser.add_argument("--parent-epochs", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    args = parser.parse_args()
    print(json.dumps(measure(args.epochs, args.top_layers, args.parent_epochs, args.learning_rate)))


if __name__ == "__main__":
    main()
