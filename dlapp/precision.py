"""Which number format (Keras dtype policy) a run's layers compute in, and applying it to one model.

`auto` resolves by hardware: `mixed_float16` on a CUDA GPU (its tensor cores are built for
it), `mixed_bfloat16` on a CPU that reports bf16 instructions (`avx512_bf16` or `amx_bf16`
in /proc/cpuinfo), and `float32` everywhere else. Without those instructions reduced
precision is emulated and slower than float32, so choosing it by hand is allowed but
warned about.

The policy is applied per model with `policy_scope`: Keras keeps its global policy per
thread, and the scope restores the previous one, so no other job, session or the Draw page
ever builds under a policy it did not ask for. Importing this module does not import
TensorFlow.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from dlapp.config import PRECISIONS, RunConfig
from dlapp.errors import DlappError

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
CPUINFO = Path("/proc/cpuinfo")
# How the Train page names each resolved policy, after "on this CPU" / "on the GPU".
COMPUTE_DTYPES = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


def cpu_flags(cpuinfo_text: str | None = None) -> set[str]:
    """The CPU feature flags Linux reports (the first `flags` line); empty where there is no /proc/cpuinfo."""
    if cpuinfo_text is None:
        try:
            cpuinfo_text = CPUINFO.read_text()
        except OSError:
            return set()  # macOS, Windows: no cheap, reliable bf16 flag, so auto stays float32 there
    for line in cpuinfo_text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def cpu_has_bf16(cpuinfo_text: str | None = None) -> bool:
    return any(flag in cpu_flags(cpuinfo_text) for flag in BF16_CPU_FLAGS)


def has_cuda_gpu() -> bool:
    """True when TensorFlow sees a GPU (TensorFlow's GPU builds are CUDA builds)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def resolve_precision(choice: str, *, cpuinfo_text: str | None = None, gpu: bool | None = None) -> str:
    """The Keras policy name for a `precision` setting: `auto` becomes one of the other three."""
    if choice not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {choice!r}.")
    if choice != "auto":
        return choice
    if has_cuda_gpu() if gpu is None else gpu:
        return "mixed_float16"
    if cpu_has_bf16(cpuinfo_text):
        return "mixed_bfloat16"
    return "float32"


def precision_warning(choice: str, *, cpuinfo_text: str | None = None, gpu: bool | None = None) -> str | None:
    """One sentence when a hand-picked precision has no hardware support here (it still runs, slowly)."""
    if choice == "mixed_float16" and not (has_cuda_gpu() if gpu is None else gpu):
        return "mixed_float16 needs a CUDA GPU and there is none here, so training will be slow; use auto."
    if choice == "mixed_bfloat16" and not cpu_has_bf16(cpuinfo_text):
        return "This CPU has no bfloat16 instructions (avx512_bf16 or amx_bf16), so training will be slow; use auto."
    return None


def describe_policy(policy: str, *, gpu: bool | None = None) -> str:
    """'bfloat16 on this CPU', 'float16 on the GPU', 'float32 on this CPU': what a person reads."""
    on_gpu = has_cuda_gpu() if gpu is None else gpu
    return f"{COMPUTE_DTYPES[policy]} on {'the GPU' if on_gpu else 'this CPU'}"


def precision_caption(choice: str) -> str:
    """What the Train page says under the setting: the format it trains in here, and any warning."""
    policy = resolve_precision(choice)
    said = f"Trains in {describe_policy(policy)}."
    if choice == "auto":
        said = f"Auto: trains in {describe_policy(policy)}."
    warning = precision_warning(choice)
    return f"{said} {warning}" if warning else said


def with_resolved_precision(config: RunConfig) -> RunConfig:
    """The config with `auto` replaced by the policy it resolves to here, as a run stores it."""
    return config.replace(precision=resolve_precision(config.train.precision))


@contextlib.contextmanager
def policy_scope(policy: str) -> Iterator[None]:
    """Build layers under `policy` in this thread only, then restore the thread's previous policy.

    Layers keep the policy they were built with, so the model computes in it after the scope
    ends; layers built elsewhere, before or after, are untouched.
    """
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


class LossNotFinite(DlappError):
    """The loss became NaN or infinite while training in reduced precision."""


def check_loss_finite(history: Mapping[str, Sequence[float]], policy: str) -> None:
    """Raise LossNotFinite when a reduced-precision fit's loss stopped being a number.

    Pair it with `keras.callbacks.TerminateOnNaN`, which ends the fit at the first such batch,
    so a run never trains on silently with NaN weights.
    """
    if policy == "float32":
        return
    for epoch, loss in enumerate(history.get("loss", []), start=1):
        if not math.isfinite(loss):
            raise LossNotFinite(
                f"The loss became {loss} in epoch {epoch} under {policy}, whose numbers are too coarse for this "
                "model and learning rate; set precision to float32 and train again."
            )
