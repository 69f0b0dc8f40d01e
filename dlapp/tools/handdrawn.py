"""`python -m dlapp.tools.handdrawn`: how the default CNN reads digits drawn on a canvas.

It trains the default CNN (the app's default settings, training seed 42) with and without
augmentation on the bundled sample and prints its accuracy on procedural drawings
(`procedural_drawings.py`) through `canvas_to_mnist` and through a naive resize. Seed 0 is
the reported set; settings were chosen on seeds 1 and 2.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from dlapp.preprocess import canvas_to_mnist, naive_resize
from dlapp.tools.machine import machine_info
from dlapp.tools.procedural_drawings import drawings, drawn_digits

AUGMENTED_EPOCHS = 20  # augmentation makes each epoch harder, so the augmented CNN gets more of them


PREPROCESSORS = {"canvas_to_mnist": canvas_to_mnist, "naive_resize": naive_resize}


def accuracy(model, n: int = 500, seed: int = 0) -> dict[str, float]:
    """Share of n drawings the model labels right, through each preprocessing."""
    return {name: float(np.mean(_right(model, n, seed, preprocess)[0])) for name, preprocess in PREPROCESSORS.items()}


def accuracy_by_style(model, n: int = 500, seed: int = 0) -> dict[str, float]:
    """Accuracy through canvas_to_mnist per drawing style ("1 flag", "7 bar", ...): where a model fails."""
    right, styles = _right(model, n, seed, canvas_to_mnist)
    return {style: float(np.mean(right[np.array(styles) == style])) for style in sorted(set(styles))}


def _right(model, n: int, seed: int, preprocess) -> tuple[np.ndarray, list[str]]:
    images, labels, styles = drawn_digits(n, seed, preprocess)
    shaped = images.reshape((n, *model.input_shape[1:]))
    predicted = np.argmax(model.predict(shaped, batch_size=256, verbose=0), axis=1)
    return predicted == labels, styles


def train_cnn(augment: bool = False, epochs: int | None = None, seed: int = 42):
    """The default CNN trained on the bundled sample, as the Train page would with these settings.

    epochs None keeps the app's default; every other setting is the app's default too.
    Returns the model and its test accuracy on the sample.
    """
    from dlapp.config import RunConfig
    from dlapp.training import fit_run

    config = RunConfig().replace(arch="cnn", dataset="mnist-sample", augment=augment, seed=seed)
    if epochs is not None:
        config = config.replace(epochs=epochs)
    result = fit_run(config)
    return result.model, result.metrics["test_accuracy"]


def machine_line() -> str:
    m = machine_info()
    return f"{m['cpu_model']}, {m['nproc']} cores, Python {m['python']}, TensorFlow {m['tensorflow']}"


def latencies(model, repeats: int = 100) -> dict[str, float]:
    """Median milliseconds: canvas -> probabilities (preprocessing included), and one saliency map."""
    from dlapp.inference import predict_proba, saliency

    canvas, label, _ = next(drawings(1, seed=99))
    image = canvas_to_mnist(canvas)
    predict_proba(model, image), saliency(model, image, label)  # trace once, outside the timing

    def median_ms(call: Callable[[], object]) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        return 1000 * float(np.median(times))

    return {
        "canvas -> probabilities": median_ms(lambda: predict_proba(model, canvas_to_mnist(canvas))),
        "saliency": median_ms(lambda: saliency(model, image, label)),
    }


def main(n: int = 500, seed: int = 0, augmented_epochs: int = AUGMENTED_EPOCHS) -> None:
    from dlapp.config import RunConfig

    rows, weak = [], {}
    for name, augment, epochs in (
        ("default CNN", False, RunConfig().train.epochs),
        ("augmented CNN", True, augmented_epochs),
    ):
        started = time.perf_counter()
        model, test_accuracy = train_cnn(augment=augment, epochs=epochs)
        result = accuracy(model, n, seed)
        weak[name] = {style: acc for style, acc in accuracy_by_style(model, n, seed).items() if acc < 0.9}
        rows.append((f"{name}, {epochs} epochs", test_accuracy, result, time.perf_counter() - started))
        if not augment:
            timings = latencies(model)
    train = RunConfig().train
    print(f"Hand-drawn digits: {n} procedural canvas drawings (seed {seed}); CNNs trained on mnist-sample")
    print(f"with the app's defaults (batch {train.batch_size}, training seed {train.seed}) and the epochs shown.\n")
    print("| model | MNIST-sample test | drawings, canvas_to_mnist | drawings, naive resize | train + measure |")
    print("|---|---|---|---|---|")
    for name, test_accuracy, result, seconds in rows:
        canvas, naive = result["canvas_to_mnist"], result["naive_resize"]
        print(f"| {name} | {test_accuracy:.1%} | {canvas:.1%} | {naive:.1%} | {seconds:.0f} s |")
    print("\nStyles read right less than 90% of the time (canvas_to_mnist):")
    for name, styles in weak.items():
        listed = ", ".join(f"{style} {acc:.0%}" for style, acc in styles.items()) or "none"
        print(f"- {name}: {listed}")
    print("\nDefault CNN, one drawing, median of 100: " + ", ".join(f"{k} {v:.1f} ms" for k, v in timings.items()))
    print(f"Machine: {machine_line()}")


if __name__ == "__main__":
    main()
