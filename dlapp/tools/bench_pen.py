"""The pen-digits part of `python -m dlapp.tools.bench_finetune`: simulated people, before and after.

Prints one JSON line per person and a Markdown table (mean and worst over the people) for the README.
"""

from __future__ import annotations

import json
import os
import tempfile
import time

import numpy as np

from dlapp.tools.bench_finetune import train_parent
from dlapp.tools.pen_writers import MISSED_DIGITS, missed_styles, person, rendered, style_accuracy, style_clusters
from dlapp.tools.sketches import load_pendigits


def correct_answers(model, arch: str, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    from dlapp.data import shape_for
    from dlapp.evaluation import predict

    return predict(model, shape_for(images, arch)).argmax(axis=1) == labels


def scores(correct: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy on all the person's test drawings, on their 7s, 1s and 9s together, and per missed digit."""
    missed = np.isin(labels, MISSED_DIGITS)
    out = {"all": float(correct.mean()), "7-1-9": float(correct[missed].mean())}
    out.update({str(d): float(correct[labels == d].mean()) for d in MISSED_DIGITS})
    return out


def replace_drawings(store, images: np.ndarray, labels: np.ndarray) -> None:
    """The store's drawings become this person's (deleted ones take their held-out marks with them)."""
    for drawing_id in store.drawing_ids():
        store.delete_drawing(drawing_id)
    for image, label in zip(images, labels, strict=True):
        store.add_drawing(int(label), image)


def fine_tune_person(store, parent, parent_model, data, styles, missed, seed: int, args) -> dict:
    from dlapp.finetune import start_finetune, summary
    from dlapp.modelfile import load_model_file

    x, y = data
    who = person(styles, missed, seed, args.saved, args.tested)
    replace_drawings(store, x[who.saved_rows], y[who.saved_rows])
    test_x, test_y = x[who.test_rows], y[who.test_rows]
    before = scores(correct_answers(parent_model, parent.arch, test_x, test_y), test_y)
    began, cpu = time.perf_counter(), time.process_time()
    job = start_finetune(
        store,
        parent,
        args.epochs,
        top_layers=args.top_layers,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        replay_share=args.replay_share,
        copies=args.copies,
    )
    job.wait()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    child = store.run(job.run_id)
    after = scores(correct_answers(load_model_file(child.model_path), parent.arch, test_x, test_y), test_y)
    return {
        **summary(store, job),
        "person": seed,
        "styles": who.styles,
        "tested": len(test_y),
        "before": before,
        "after": after,
        "finetune_seconds": round(seconds, 1),
        "finetune_cpu_seconds": round(cpu, 1),  # both cores: what a quiet machine would need, about halved
        "fit_seconds": child.seconds,
    }


def measure_people(args) -> list[dict]:
    from dlapp.modelfile import load_model_file
    from dlapp.store import RunStore

    load_start = os.getloadavg()
    store = RunStore(args.store or tempfile.mkdtemp(prefix="bench-finetune-pen-"))
    parent = _stored_parent(store) or train_parent(store, args.parent_epochs)
    parent_model = load_model_file(parent.model_path)
    x, y = rendered()
    styles = style_clusters(load_pendigits()[0], y)
    correct = correct_answers(parent_model, parent.arch, x, y)
    missed = missed_styles(style_accuracy(styles, correct), smallest=args.saved + args.tested // 2)
    print(
        json.dumps(
            {
                "store": str(store.data_dir),
                "parent_run": parent.id,
                "pendigits_accuracy": float(correct.mean()),
                "missed_styles": missed,
            }
        )
    )
    results = []
    for seed in range(args.first_person, args.first_person + args.people):
        results.append(fine_tune_person(store, parent, parent_model, (x, y), styles, missed, seed, args))
        print(json.dumps(results[-1]), flush=True)
    print(table(results, args, load_start, os.getloadavg()))
    return results


def _stored_parent(store):
    """The store's first finished run that is not itself a fine-tune: `--store` reuses a parent."""
    runs = [r for r in reversed(store.runs()) if r.parent_run_id is None and r.status == "finished"]
    return runs[0] if runs else None


def table(results: list[dict], args, load_start, load_end) -> str:
    """Mean and worst over the people, as a Markdown table."""

    def cell(pick, digits: int = 0) -> str:
        values = np.array([pick(r) for r in results], float) * 100
        return f"{values.mean():.{digits}f} (worst {values.min():.{digits}f})"

    rows = [("all their digits", "all"), ("their 7s, 1s and 9s", "7-1-9")]
    rows += [(f"their {d}s", str(d)) for d in MISSED_DIGITS]
    lines = [
        f"top_layers={args.top_layers} epochs={args.epochs} batch={args.batch_size or 'parent'} "
        f"replay={args.replay_share} copies={args.copies} lr={args.learning_rate}; "
        f"people {', '.join(str(r['person']) for r in results)}; "
        f"load average {load_start[0]:.1f} -> {load_end[0]:.1f}",
        "| held-out drawings | before, % | after, % | gain, points |",
        "|---|---|---|---|",
    ]
    for label, key in rows:
        before, after = cell(lambda r, k=key: r["before"][k]), cell(lambda r, k=key: r["after"][k])
        lines.append(f"| {label} | {before} | {after} | {cell(lambda r, k=key: r['after'][k] - r['before'][k])} |")
    before, after = cell(lambda r: r["test_accuracy_before"], 1), cell(lambda r: r["test_accuracy_after"], 1)
    drop = cell(lambda r: r["test_accuracy_after"] - r["test_accuracy_before"], 1)
    lines.append(f"| MNIST-sample test | {before} | {after} | {drop} |")
    wall, cpu = [r["finetune_seconds"] for r in results], [r["finetune_cpu_seconds"] for r in results]
    lines.append(
        f"fine-tune wall time: median {np.median(wall):.1f} s, max {max(wall):.1f} s; "
        f"CPU time (both cores): median {np.median(cpu):.1f} s"
    )
    return "\n".join(lines)
