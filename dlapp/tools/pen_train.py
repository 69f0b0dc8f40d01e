"""`python -m dlapp.tools.pen_train`: draw the pen digits that may be trained on, as a small asset.

The UCI pen digits (`dlapp/assets/pendigits.npz`, CC BY 4.0) are real people's digits. The rows
in neither the dev nor the report drawings (`sketches.pendigits_rows("train")`, 4,494 rows) are
drawn once as mouse strokes on the 280x280 canvas (`sketches.draw_pendigit`, a fixed render seed)
and prepared like a drawing (`canvas_to_mnist`), then stored as uint8 28x28 images in
`dlapp/assets/pendigits_train.npz`, so the app trains on them without the tools package and
without drawing them again (about 20 ms a digit). Same command, same file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from dlapp.preprocess import canvas_to_mnist
from dlapp.tools.sketches import draw_pendigit, load_pendigits, pendigits_rows

ASSET = Path(__file__).resolve().parent.parent / "assets" / "pendigits_train.npz"
RENDER_SEED = 200  # the dev and report drawings use 100 and 101


def drawn_training_rows(rows: np.ndarray | None = None, seed: int = RENDER_SEED) -> dict[str, np.ndarray]:
    """The training rows drawn and prepared: x uint8 (n, 28, 28), y uint8 (n,), rows (n,) into pendigits.npz."""
    points, labels = load_pendigits()
    rows = pendigits_rows("train") if rows is None else rows
    rng = np.random.default_rng(seed)
    images = [canvas_to_mnist(draw_pendigit(points[row], int(labels[row]), rng)) for row in rows]
    x = np.round(np.stack(images) * 255).astype(np.uint8)
    return {"x": x, "y": labels[rows].astype(np.uint8), "rows": np.asarray(rows, np.uint16)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dlapp.tools.pen_train", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ASSET, help="where to write the npz")
    args = parser.parse_args(argv)
    arrays = drawn_training_rows()
    np.savez_compressed(args.out, **arrays)
    print(f"Wrote {len(arrays['y'])} pen digits to {args.out} ({args.out.stat().st_size / 1e6:.2f} MB).")


if __name__ == "__main__":
    main()
