"""`python -m dlapp.tools.starter`: train the starter model that ships in `dlapp/assets/`.

It trains the "best for drawing" preset on the bundled sample (training seed 42, the
app's own `fit_run`) and writes the model (weights only, no optimizer state: about 1 MB)
and its card. Same command, same model. Its drawing accuracy is the preset's row in
`python -m dlapp.tools.handdrawn`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from dlapp.presets import BEST_FOR_DRAWING
from dlapp.starter import CARD_FILE, MODEL_FILE, StarterCard, write_card

COMMAND = "python -m dlapp.tools.starter"


def train_starter(config=BEST_FOR_DRAWING.config):
    """(inference-only model, card) for a config."""
    from dlapp.training import fit_run

    result = fit_run(config)
    return inference_copy(result.model, config), StarterCard(
        preset=BEST_FOR_DRAWING.name,
        test_accuracy=round(result.metrics["test_accuracy"], 4),
        epochs=len(result.history.get("loss", [])),
        seconds=round(result.fit_seconds, 1),
        command=COMMAND,
        pen_digits=config.data.pen_digits,
    )


def inference_copy(model, config=BEST_FOR_DRAWING.config):
    """The same weights in a freshly built, uncompiled model: the file then holds no optimizer state."""
    from dlapp.models import build_model

    copy = build_model(config.model)
    copy.set_weights(model.get_weights())
    return copy


def save(model, card: StarterCard, model_path: Path = MODEL_FILE, card_path: Path = CARD_FILE) -> None:
    """Write to temporary names and rename into place, so a crash never leaves half a file."""
    partial = model_path.with_name(model_path.stem + ".partial.keras")
    model.save(partial)
    os.replace(partial, model_path)
    write_card(card, card_path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    model, card = train_starter()
    save(model, card)
    size_kb = MODEL_FILE.stat().st_size / 1024
    print(f"Wrote {MODEL_FILE} ({size_kb:.0f} KB) and {CARD_FILE.name}: {card.summary}")
    print(f"Fit: {card.seconds:.0f} s.")


if __name__ == "__main__":
    main()
