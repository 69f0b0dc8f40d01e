"""`python -m dlapp bench`: how fast dlapp is on this machine, in one run.

What it measures, and how it keeps a busy (shared, 2-core) machine from lying:

- Training throughput per architecture: a `TrainingJob` (events, store writes, TensorBoard
  logs) against a bare `model.fit` of the same config, data and batch size, in this process.
  Both get an untimed warm-up, then they alternate (bare/job, job/bare, ...) for a few rounds
  and the medians are compared. Both are timed the way the job defines samples_per_second:
  samples trained / seconds inside `model.fit` (validation included; building the model and
  the final test evaluation excluded). Each fit is also clocked in process CPU seconds, which other
  processes on the machine barely disturb; the target is judged on that ratio.
- Canvas (280x280 RGBA) -> probabilities and saliency latency for the default CNN.
- Cold load of the bundled sample (in a fresh interpreter, so no cache helps) and the time
  to build each default model.
- Peak memory of a training run per architecture, each in its own interpreter (VmHWM: Linux
  hands a child the parent's ru_maxrss), which also gives the cold first-batch latency; the warm
  one is measured here.

The output is a Markdown table; with --json the last stdout line is one JSON object.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dlapp.config import ARCHITECTURES, RunConfig

TARGETS = {
    "throughput_ratio": 0.95,  # job samples/s over bare fit samples/s, at least
    "canvas_ms_median": 10.0,
    "saliency_ms_median": 50.0,
    "sample_load_s": 0.5,
    "build_s": 2.0,
    "first_batch_s": 2.0,
}
ROOT = Path(__file__).resolve().parent.parent  # so child interpreters import this dlapp

# Runs one training job in a fresh interpreter; prints its peak RSS and first-batch latency.
CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from dlapp.bench import seconds_to_first_batch
    from dlapp.config import RunConfig
    from dlapp.jobs import TrainingJob
    from dlapp.store import RunStore

    job = TrainingJob(RunConfig.from_json(sys.argv[1]), RunStore(sys.argv[2]))
    first_batch_s = seconds_to_first_batch(job)
    job.wait()
    # ru_maxrss is not this interpreter's own peak: Linux carries the parent's RSS over fork and exec
    # into it. VmHWM belongs to this process's address space only, so it is the number to report.
    try:
        status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
        peak_kib = int(status)
    except (OSError, IndexError, ValueError):
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({
        "status": job.status,
        "error": job.error,
        "first_batch_s": first_batch_s,
        "peak_rss_mb": peak_kib / 1024,
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    """
)

SAMPLE_LOAD_CHILD = textwrap.dedent(
    """
    import json, time
    began = time.perf_counter()
    from dlapp.data import load_raw
    imported = time.perf_counter()
    load_raw("mnist-sample")
    print(json.dumps({"import_s": imported - began, "load_s": time.perf_counter() - imported}))
    """
)


# --- the command ---------------------------------------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument(
        "--archs",
        default=",".join(ARCHITECTURES),
        help=f"Comma-separated architectures to measure (default: all, {','.join(ARCHITECTURES)}).",
    )
    parser.add_argument("--train-subset", type=int, default=0, help="Training images per fit (0 = all 4,000).")
    parser.add_argument("--epochs", type=int, default=3, help="Epochs per timed fit (default 3).")
    default_batch = RunConfig().train.batch_size  # the app's default: per-batch overhead shows most there
    parser.add_argument(
        "--batch-size", type=int, default=default_batch, help=f"Batch size of every fit (default {default_batch})."
    )
    parser.add_argument("--rounds", type=int, default=5, help="Timed bare/job pairs per architecture (default 5).")
    parser.add_argument("--calls", type=int, default=200, help="Calls per latency measurement (default 200).")


def parse_archs(text: str) -> tuple[str, ...]:
    archs = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [arch for arch in archs if arch not in ARCHITECTURES]
    if unknown or not archs:
        raise ValueError(f"--archs must be a comma-separated list of {', '.join(ARCHITECTURES)}; got {text!r}.")
    return archs


def settings_from_args(args) -> dict[str, Any]:
    """The bench settings, checked: one ValueError sentence for anything out of range."""
    archs = parse_archs(args.archs)
    for flag, value, low in (
        ("--epochs", args.epochs, 1),
        ("--batch-size", args.batch_size, 1),
        ("--rounds", args.rounds, 1),
        ("--calls", args.calls, 5),
    ):
        if value < low:
            raise ValueError(f"{flag} must be at least {low}; got {value}.")
    base_config(archs[0], args.train_subset, args.epochs, args.batch_size)  # validates subset and batch size
    return {
        "archs": list(archs),
        "train_subset": args.train_subset,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "calls": args.calls,
    }


def cmd_bench(args) -> int:
    settings = settings_from_args(args)
    results = run_bench(**settings, log=_say)
    print(markdown(results))
    if args.json:
        print(json.dumps(results), flush=True)
    return 0


def run_bench(
    archs: Sequence[str],
    train_subset: int,
    epochs: int,
    batch_size: int,
    rounds: int = 3,
    calls: int = 200,
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Every measurement, as one JSON-ready dict (see the module docstring)."""
    from dlapp.jobs import configure_threads

    configure_threads()  # before TensorFlow runs anything, as the app and the CLI do
    results: dict[str, Any] = {
        "machine": machine_info(),
        "settings": {
            "archs": list(archs),
            "train_subset": train_subset,
            "epochs": epochs,
            "batch_size": batch_size,
            "rounds": rounds,
            "calls": calls,
        },
        "targets": TARGETS,
    }
    with tempfile.TemporaryDirectory(prefix="dlapp-bench-") as folder:
        log("cold load of the bundled sample (fresh interpreters)")
        results["sample_load"] = sample_load_time()
        log("building each default model")
        results["build_s"] = build_times(archs)
        results["throughput"] = {}
        for arch in archs:
            log(f"throughput of {arch}: warm-up, then {rounds} interleaved bare/job rounds")
            config = base_config(arch, train_subset, epochs, batch_size)
            results["throughput"][arch] = throughput(config, Path(folder) / "store", rounds)
        log(f"canvas -> probabilities and saliency latency of the default CNN ({calls} calls)")
        results["latency_ms"] = latency(calls)
        log("first batch event of the default MLP, in this (warm) process")
        results["first_batch_s"] = {"warm": first_batch_warm(Path(folder) / "store")}
        results["peak_rss_mb"] = {}
        for arch in archs:
            log(f"peak memory of a {arch} training run (fresh interpreter)")
            child = child_run(base_config(arch, train_subset, epochs, batch_size), Path(folder) / f"child-{arch}")
            results["peak_rss_mb"][arch] = child["peak_rss_mb"]
            if arch == "mlp" or "cold" not in results["first_batch_s"]:
                results["first_batch_s"]["cold"] = child["first_batch_s"]
                results["first_batch_s"]["cold_arch"] = arch
    results["machine"]["loadavg_after"] = _loadavg()
    results["ok"] = verdicts(results)
    return results


def base_config(arch: str, train_subset: int, epochs: int, batch_size: int) -> RunConfig:
    """The architecture's default model on mnist-sample, with the bench's data and training sizes."""
    return RunConfig.from_flat(
        arch=arch, dataset="mnist-sample", train_subset=train_subset, epochs=epochs, batch_size=batch_size
    ).validate()


# --- machine -------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    import keras
    import tensorflow as tf

    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": _cpu_model(),
        "ram_gb": _ram_gb(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "loadavg_before": _loadavg(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _loadavg() -> list[float]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return []


# --- throughput ----------------------------------------------------------------------------


def throughput(config: RunConfig, store_dir: Path, rounds: int) -> dict[str, Any]:
    """Samples/s of a bare fit and of a TrainingJob, interleaved, medians and their ratio."""
    from dlapp.store import RunStore

    store = RunStore(store_dir)
    one_epoch = config.replace(epochs=1)
    bare_fit(one_epoch)  # warm-up: kernels and this layer mix traced once, untimed
    job_fit(one_epoch, store)  # warm-up: the first job also loads TensorBoard's writer
    bare, job = [], []
    for index in range(rounds):
        # Alternate which goes first, so a slow phase of the machine hits both sides.
        order = (bare_fit, job_fit) if index % 2 == 0 else (job_fit, bare_fit)
        for fit in order:
            if fit is bare_fit:
                bare.append(bare_fit(config))
            else:
                job.append(job_fit(config, store))
    bare_wall, job_wall = [w for w, _ in bare], [w for w, _ in job]
    bare_cpu, job_cpu = [c for _, c in bare], [c for _, c in job]
    return {
        "bare_sps": round(statistics.median(bare_wall), 1),
        "job_sps": round(statistics.median(job_wall), 1),
        "ratio": round(statistics.median(job_wall) / statistics.median(bare_wall), 3),
        # Each round's pair ran back to back, so their ratio sees the same machine load.
        "paired_ratio": round(statistics.median(j / b for j, b in zip(job_wall, bare_wall, strict=True)), 3),
        "cpu_ratio": round(statistics.median(job_cpu) / statistics.median(bare_cpu), 3),
        "bare_runs": [round(v, 1) for v in bare_wall],
        "job_runs": [round(v, 1) for v in job_wall],
        "bare_cpu_sps": round(statistics.median(bare_cpu), 1),
        "job_cpu_sps": round(statistics.median(job_cpu), 1),
    }


def _fit_clock():
    """A callback that clocks the fit from train begin to train end, in wall and in process CPU seconds.

    CPU seconds of this process barely move when other processes load the machine, while wall seconds
    can double; so the CPU ratio shows the job's own overhead even on a busy shared machine.
    """
    import keras

    class FitClock(keras.callbacks.Callback):
        wall = cpu = 0.0

        def on_train_begin(self, logs=None):
            self._wall, self._cpu = time.perf_counter(), time.process_time()

        def on_train_end(self, logs=None):
            self.wall, self.cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu

    return FitClock()


def _clocked_job_class():
    """TrainingJob plus the same clock the bare fit gets (one callback call per fit, nothing per batch)."""
    from dlapp.jobs import TrainingJob

    class ClockedJob(TrainingJob):
        def _extra_callbacks(self, has_validation: bool) -> list[Any]:
            self.clock = _fit_clock()
            return [*super()._extra_callbacks(has_validation), self.clock]

    return ClockedJob


def bare_fit(config: RunConfig) -> tuple[float, float]:
    """Samples/s of a plain `model.fit` the way a TrainingJob does it, minus the job: (per wall s, per CPU s)."""
    import keras

    from dlapp.data import prepare
    from dlapp.models import build_compiled

    train = config.train
    keras.utils.set_random_seed(train.seed)
    data = prepare(config.data, config.model.arch, seed=train.seed)
    autoencoder = not config.is_classifier
    y_train, y_val = (data.x_train, data.x_val) if autoencoder else (data.y_train, data.y_val)
    model = build_compiled(config)
    validation = (data.x_val, y_val) if len(data.x_val) else None
    clock = _fit_clock()
    began = time.perf_counter()
    model.fit(
        data.x_train,
        y_train,
        batch_size=train.batch_size,
        epochs=train.epochs,
        validation_data=validation,
        callbacks=[clock],
        verbose=0,
    )
    seconds = time.perf_counter() - began
    samples = train.epochs * len(data.x_train)
    return samples / seconds, samples / clock.cpu


def job_fit(config: RunConfig, store) -> tuple[float, float]:
    """The samples_per_second a TrainingJob records for itself (unrounded, from the store), and per CPU s."""
    job = _clocked_job_class()(config, store).start()
    status = job.wait()
    if status != "finished":
        raise RuntimeError(f"The bench's {config.model.arch} training job ended {status}: {job.error}")
    samples = config.train.epochs * job._train_samples
    return float(store.run(job.run_id).samples_per_second), samples / job.clock.cpu


# --- latency -------------------------------------------------------------------------------


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


# --- start-up costs --------------------------------------------------------------------------


def sample_load_time(repeats: int = 3) -> dict[str, float]:
    """Seconds to import dlapp.data and to load the bundled sample, each in a fresh interpreter (medians)."""
    runs = [_child_json([sys.executable, "-c", SAMPLE_LOAD_CHILD]) for _ in range(repeats)]
    return {
        "load_s": round(statistics.median(r["load_s"] for r in runs), 4),
        "import_s": round(statistics.median(r["import_s"] for r in runs), 4),
    }


def build_times(archs: Sequence[str], repeats: int = 3) -> dict[str, float]:
    """Median seconds to build and compile each architecture's default model (after one warm-up build)."""
    from dlapp.models import build_compiled

    build_compiled(RunConfig())  # the first build pays for initialising Keras, not for the model
    out = {}
    for arch in archs:
        config = RunConfig.from_flat(arch=arch)
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            build_compiled(config)
            times.append(time.perf_counter() - began)
        out[arch] = round(statistics.median(times), 4)
    return out


def seconds_to_first_batch(job) -> float | None:
    """Start `job` and return the seconds until its first batch event (None if it ended first)."""
    started = time.time()
    job.start()
    first = None
    while first is None and not job.done:
        first = next((e.time for e in job.events_since(0) if e.kind == "batch"), None)
        time.sleep(0.002)
    first = first or next((e.time for e in job.events_since(0) if e.kind == "batch"), None)
    return None if first is None else first - started


def first_batch_warm(store_dir: Path) -> float:
    """Seconds from start() to the first batch event of the default MLP, in this process (TF loaded)."""
    from dlapp.jobs import TrainingJob
    from dlapp.store import RunStore

    job = TrainingJob(RunConfig(), RunStore(store_dir))
    first = seconds_to_first_batch(job)
    job.stop()
    job.wait()
    if first is None:
        raise RuntimeError(f"The bench's default MLP job ended {job.status} before its first batch: {job.error}")
    return round(first, 3)


def child_run(config: RunConfig, store_dir: Path) -> dict[str, Any]:
    """Peak RSS (MB) and first-batch latency of one training job in a fresh interpreter."""
    result = _child_json([sys.executable, "-c", CHILD, config.to_json(), str(store_dir)])
    if result["status"] != "finished":
        raise RuntimeError(f"The bench's {config.model.arch} child run ended {result['status']}: {result['error']}")
    return {
        "peak_rss_mb": round(result["peak_rss_mb"], 1),
        "first_batch_s": None if result["first_batch_s"] is None else round(result["first_batch_s"], 3),
    }


def _child_json(command: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    if done.returncode != 0 or not done.stdout.strip():
        tail = " ".join(done.stderr.strip().splitlines()[-1:]) or f"exit status {done.returncode}"
        raise RuntimeError(f"A bench child process failed ({tail[:300]}).")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- verdicts and the table ------------------------------------------------------------------


def verdicts(results: dict[str, Any]) -> dict[str, bool]:
    """Which targets were met, by name."""
    # Judged on CPU seconds: on a shared machine the wall-clock ratios swing by 2x from one run to the next.
    ok = {
        f"throughput_{arch}": r["cpu_ratio"] >= TARGETS["throughput_ratio"] for arch, r in results["throughput"].items()
    }
    ok["canvas"] = results["latency_ms"]["canvas_median"] <= TARGETS["canvas_ms_median"]
    ok["saliency"] = results["latency_ms"]["saliency_median"] <= TARGETS["saliency_ms_median"]
    ok["sample_load"] = results["sample_load"]["load_s"] < TARGETS["sample_load_s"]
    ok.update({f"build_{arch}": s < TARGETS["build_s"] for arch, s in results["build_s"].items()})
    ok["first_batch"] = results["first_batch_s"]["warm"] < TARGETS["first_batch_s"]
    return ok


def markdown(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["settings"]
    subset = s["train_subset"] or "all"
    lines = [
        f"Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['ram_gb']} GB RAM, Python {m['python']}, "
        f"TensorFlow {m['tensorflow']}, Keras {m['keras']}; load average {m['loadavg_before']} before, "
        f"{m.get('loadavg_after', [])} after.",
        f"Settings: mnist-sample, train subset {subset}, {s['epochs']} epochs, batch size {s['batch_size']}, "
        f"{s['rounds']} interleaved rounds (medians), {s['calls']} latency calls.",
        "",
        "| measurement | value | target | met |",
        "|---|---|---|---|",
    ]

    def row(name: str, value: str, target: str, met: bool | None) -> None:
        lines.append(f"| {name} | {value} | {target} | {'' if met is None else 'yes' if met else 'NO'} |")

    ok = results["ok"]
    for arch, r in results["throughput"].items():
        row(
            f"{arch}: job / bare fit, samples per CPU s",
            f"{r['cpu_ratio']:.3f} ({r['job_cpu_sps']:,.0f} / {r['bare_cpu_sps']:,.0f})",
            f">= {TARGETS['throughput_ratio']}",
            ok[f"throughput_{arch}"],
        )
        row(
            f"  {arch}: job / bare fit, samples per wall s",
            f"{r['ratio']:.3f} ({r['job_sps']:,.0f} / {r['bare_sps']:,.0f}; paired {r['paired_ratio']:.3f})",
            "",
            None,
        )
    lat = results["latency_ms"]
    row("canvas -> probabilities, median (CNN)", f"{lat['canvas_median']:.2f} ms", "<= 10 ms", ok["canvas"])
    row("canvas -> probabilities, p95 (CNN)", f"{lat['canvas_p95']:.2f} ms", "", None)
    row("  of which canvas_to_mnist, median", f"{lat['preprocess_median']:.2f} ms", "", None)
    row("saliency, median (CNN)", f"{lat['saliency_median']:.2f} ms", "<= 50 ms", ok["saliency"])
    load = results["sample_load"]
    row("mnist-sample load, cold process", f"{load['load_s']:.3f} s", "< 0.5 s", ok["sample_load"])
    row("  import dlapp.data, cold process", f"{load['import_s']:.3f} s", "", None)
    for arch, seconds in results["build_s"].items():
        row(f"{arch}: build + compile default model", f"{seconds:.3f} s", "< 2 s", ok[f"build_{arch}"])
    first = results["first_batch_s"]
    row("first batch event after start(), default MLP", f"{first['warm']:.3f} s", "< 2 s", ok["first_batch"])
    if first.get("cold") is not None:
        row(
            f"  same, fresh process ({first['cold_arch']}, TensorFlow import included)",
            f"{first['cold']:.3f} s",
            "",
            None,
        )
    for arch, mb in results["peak_rss_mb"].items():
        row(f"{arch}: peak RSS of a training run", f"{mb:,.0f} MB", "", None)
    return "\n".join(lines)


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
