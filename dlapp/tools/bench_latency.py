"""Canvas (280x280 RGBA) -> probabilities and saliency latency of the default CNN."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from dlapp.config import RunConfig


def demo_canvas(size: int = 280):
    """A real sample digit drawn on a transparent size x size RGBA canvas, as the Draw page sends it."""
    import numpy as np
    from PIL import Image

    from dlapp.data import load_raw

    digit = load_raw("mnist-sample").x_test[0]
    big = np.asarray(Image.fromarray(digit).resize((size * 3 // 4, size * 3 // 4), Image.Resampling.BILINEAR))
    canvas = np.zeros((size, size, 4), np.uint8)
    canvas[..., :3] = 255  # white ink; what was drawn is in the alpha channel
    top = (size - big.shape[0]) // 2
    canvas[top : top + big.shape[0], top : top + big.shape[1], 3] = big
    return canvas


def latency(calls: int) -> dict[str, float]:
    """Milliseconds per canvas -> probabilities call, and per saliency map, on the default CNN."""
    from dlapp.inference import predict_proba, saliency
    from dlapp.models import build_compiled
    from dlapp.preprocess import canvas_to_mnist

    model = build_compiled(RunConfig.from_flat(arch="cnn"))
    canvas = demo_canvas()

    def canvas_to_probabilities() -> None:
        predict_proba(model, canvas_to_mnist(canvas))

    image = canvas_to_mnist(canvas)
    canvas_ms = _timings(canvas_to_probabilities, calls)
    preprocess_ms = _timings(lambda: canvas_to_mnist(canvas), calls)
    saliency_ms = _timings(lambda: saliency(model, image, 3), max(5, calls // 4))
    return {
        "canvas_median": round(statistics.median(canvas_ms), 2),
        "canvas_p95": round(_percentile(canvas_ms, 95), 2),
        "preprocess_median": round(statistics.median(preprocess_ms), 2),
        "saliency_median": round(statistics.median(saliency_ms), 2),
        "saliency_p95": round(_percentile(saliency_ms, 95), 2),
    }


def _timings(call: Callable[[], Any], calls: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):  # the first call traces the compiled function
        call()
    out = []
    for _ in range(calls):
        began = time.perf_counter()
        call()
        out.append((time.perf_counter() - began) * 1000)
    return out


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
