"""The starter model shipped in `dlapp/assets/`, so the Draw page works before anything is trained.

`python -m dlapp.tools.starter` trains it from the bundled sample with the "best for
drawing" preset and writes two files: the model and a small JSON card saying how it
was trained and how well it does. A missing or damaged file is reported with one
sentence (`StarterUnavailable`), never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dlapp.errors import DlappError

ASSETS = Path(__file__).parent / "assets"
MODEL_FILE = ASSETS / "starter_cnn.keras"
CARD_FILE = ASSETS / "starter_cnn.json"
UNAVAILABLE = "The starter model that ships with dlapp is missing or damaged; train a model on the Train page to draw."


class StarterUnavailable(DlappError):
    """The shipped starter model cannot be loaded."""


@dataclass(frozen=True)
class StarterCard:
    """How the starter model was trained, for the Draw page to say."""

    preset: str
    test_accuracy: float  # on the sample's held-out 1,000 test digits
    epochs: int
    seconds: float
    command: str
    pen_digits: int = 0  # real writers' pen digits also trained on (cards written before them: none)

    @property
    def summary(self) -> str:
        digits = "4,000 MNIST sample digits"
        if self.pen_digits:
            digits += f" and {self.pen_digits:,} real writers' pen digits"
        return (
            f"The starter model shipped with dlapp: a CNN trained with the '{self.preset}' preset "
            f"on the bundled {digits} for {self.epochs} epochs; "
            f"{self.test_accuracy:.1%} right on the 1,000 held-out test digits."
        )


def starter_card(path: Path | None = None) -> StarterCard:
    try:
        return StarterCard(**json.loads((path or CARD_FILE).read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise StarterUnavailable(UNAVAILABLE) from exc


def load_starter(path: Path | None = None):
    """The starter `keras.Model`, through the app's checked loader; StarterUnavailable otherwise."""
    from dlapp.modelfile import load_model_file

    path = path or MODEL_FILE  # read at call time, so a test can point it elsewhere
    if not path.is_file():
        raise StarterUnavailable(UNAVAILABLE)
    try:
        return load_model_file(path)
    except DlappError as exc:
        raise StarterUnavailable(UNAVAILABLE) from exc


def write_card(card: StarterCard, path: Path = CARD_FILE) -> None:
    path.write_text(json.dumps(card.__dict__, indent=1) + "\n")
