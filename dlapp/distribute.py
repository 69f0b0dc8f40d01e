"""Which `tf.distribute` strategy a training job builds and fits under.

MirroredStrategy when more than one GPU is visible, else the default (single-device)
strategy; `DLAPP_STRATEGY=default|mirrored` overrides the choice.
"""

from __future__ import annotations

import os

STRATEGY_ENV = "DLAPP_STRATEGY"
CHOICES = ("auto", "default", "mirrored")


def strategy_choice() -> str:
    choice = os.environ.get(STRATEGY_ENV, "auto").strip().lower() or "auto"
    if choice not in CHOICES:
        raise ValueError(f"{STRATEGY_ENV}={choice!r} is not a strategy; set it to default or mirrored, or unset it.")
    return choice


def pick_strategy(choice: str | None = None):
    """A tf.distribute.Strategy for `choice` ("auto", "default", "mirrored"; None reads the environment).

    "mirrored" without GPUs mirrors over the logical CPU devices, which is how the tests
    exercise the multi-replica path on a CPU-only machine.
    """
    import tensorflow as tf

    choice = choice or strategy_choice()
    if choice not in CHOICES:
        raise ValueError(f"Unknown strategy {choice!r}; expected one of {', '.join(CHOICES)}.")
    gpus = tf.config.list_logical_devices("GPU")
    if choice == "auto":
        choice = "mirrored" if len(gpus) > 1 else "default"
    if choice == "default":
        return tf.distribute.get_strategy()
    devices = gpus if gpus else tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy(devices=[device.name for device in devices])
