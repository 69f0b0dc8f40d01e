"""What a lesson is made of: its words, formulas, base settings and variants (`Lesson`, `Variant`),
and the builders for variants that several lessons share. The lessons themselves are in `dlapp.lessons`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dlapp.lesson_readers import LessonRun


@dataclass(frozen=True)
class Variant:
    label: str  # how the run is named on the charts, like "dropout 0.5"
    settings: dict[str, Any] = field(default_factory=dict)  # flat settings changed from the lesson's base
    group: str = ""  # lesson 3 compares optimisers and then learning rates


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    explanation: str  # Markdown, a few plain sentences
    formulas: tuple[str, ...]  # LaTeX, shown with st.latex
    base: dict[str, Any]  # flat settings
    variants: tuple[Variant, ...]
    look_for: str
    observe: Callable[[list[LessonRun]], str]
    extra: str = ""  # what the page shows besides the curves: code, gradients, autoencoder, saliency, efficiency
    curve: str = "val_accuracy"  # the log the overlaid chart shows first


def sgd(label: str, learning_rate: float, momentum: float = 0.0, group: str = "") -> Variant:
    """A plain SGD variant (lesson 3): only the learning rate and the momentum change."""
    return Variant(label, {"optimizer": "sgd", "learning_rate": learning_rate, "momentum": momentum}, group)


def cnn(conv_filters: tuple[int, ...], dense_units: int) -> dict[str, Any]:
    """A CNN's flat settings over an MLP base: the lessons' CNNs differ only in their widths."""
    return dict(arch="cnn", conv_filters=conv_filters, dense_units=dense_units)
