"""How `fit` is fed: a `tf.data` pipeline (cached, shuffled each epoch, batched, prefetched)
where it measured faster than Keras's own NumPy path, else the NumPy arrays as they are.

TensorFlow is imported only when a pipeline is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Measured in one process, interleaved rounds, medians of samples/s against the NumPy path
# (mnist-sample, 3,600 training images, batch 32, float32; 2-core Xeon shared with other work,
# load average 7-15): see the README's measured section for the whole table.
USE_TF_DATA: dict[str, bool] = {
    "mlp": True,  # 1.93x: Keras's per-batch slicing of the arrays costs more than the small model's step
    "cnn": False,  # 0.82x: compute-bound; the pipeline only adds its own threads on 2 busy cores
    "rnn": False,  # 0.98x
    "autoencoder": True,
    "resnet": False,
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
    return {"x": dataset}


def validation_input(x: np.ndarray, y: np.ndarray, batch_size: int, use_tf_data: bool) -> Any:
    """`model.fit`'s validation_data: the arrays, or a cached, batched pipeline (same order each epoch)."""
    if not use_tf_data:
        return (x, y)
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).cache().prefetch(tf.data.AUTOTUNE)
