"""How `fit` is fed: a `tf.data` pipeline (cached, shuffled each epoch, batched, prefetched)
where it measured faster than Keras's own NumPy path, else the NumPy arrays as they are.

TensorFlow is imported only when a pipeline is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# tf.data against Keras's NumPy path, per architecture; how and the numbers: the comment above
# `dlapp.models.JIT_COMPILE` (fresh fits, interleaved with a bare float32 fit, CPU-second ratios).
USE_TF_DATA: dict[str, bool] = {
    "mlp": True,  # 1.23x fresh (1.26-1.93x steady): Keras's per-batch slicing costs more than the step
    "cnn": False,  # 0.96x fresh (0.75-1.14x steady), no better with batches per call: NumPy, as Keras does
    "rnn": True,  # 1.13x fresh (1.34-1.43x steady), 1.11x with 8 per call; XLA costs more than it saves
    "autoencoder": True,  # 1.07x fresh (1.38-1.76x steady), 1.10x with 8 per call
    "resnet": False,  # 0.96x fresh, 1.01x with 4 per call: within the noise floor (0.86x for the bare fit itself)
}


def training_input(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, use_tf_data: bool) -> dict[str, Any]:
    """Keyword arguments for `model.fit`'s data: `x`/`y`/`batch_size`, or `x` as a tf.data pipeline.

    The pipeline reshuffles the whole set every epoch from `seed`, so the same seed gives the
    same curve; its batches are the same size as Keras's (the last one may be smaller).
    """
    if not use_tf_data:
        return {"x": x, "y": y, "batch_size": batch_size}
    import tensorflow as tf

    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .cache()
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    return {"x": dataset, "shuffle": False}  # the pipeline shuffles; Keras would only warn that it cannot


def validation_input(x: np.ndarray, y: np.ndarray, batch_size: int, use_tf_data: bool) -> Any:
    """`model.fit`'s validation_data: the arrays, or a cached, batched pipeline (same order each epoch)."""
    if not use_tf_data:
        return (x, y)
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).cache().prefetch(tf.data.AUTOTUNE)
