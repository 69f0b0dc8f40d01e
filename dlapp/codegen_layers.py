"""dlapp's own layers in a generated script: the calls, and their source copied from dlapp.augment.

The source is read from the file, not imported, so writing a script never imports TensorFlow.
"""

from __future__ import annotations

import ast
from pathlib import Path

from dlapp.config import RunConfig

WARP_SIGMA = 6.0  # dlapp.augment.WARP_SIGMA, repeated so that writing a script does not import TensorFlow


def drawing_layer_calls(config: RunConfig) -> list[str]:
    """Calls of dlapp's own augmentation layers (pen width, wobble, top/bottom) the config switches on."""
    m = config.model
    if not m.augment or m.arch == "autoencoder":
        return []
    calls = []
    if m.augment_thickness > 0:
        calls.append(f"StrokeThickness({m.augment_thickness!r})")
    if m.augment_elastic > 0:
        calls.append(f"ElasticDistortion({m.augment_elastic!r})")
    if m.augment_top_bottom > 0:
        calls.append(f"TopBottom({m.augment_top_bottom!r})")
    return calls


def deskews(config: RunConfig) -> bool:
    """Whether the model starts with dlapp's `Deskew` layer (the CNN, when its `deskew` setting is on)."""
    return config.model.arch == "cnn" and config.model.deskew


def bends(config: RunConfig) -> bool:
    """Whether the CNN bends its training digits (its `bend` setting above 0)."""
    return config.model.arch == "cnn" and config.model.bend > 0


def uses_own_layers(config: RunConfig) -> bool:
    return bool(drawing_layer_calls(config)) or deskews(config) or bends(config)


# What each of dlapp.augment's layers needs copied with it, in the order the script defines them.
_NEEDS = {
    "StrokeThickness": ("StrokeThickness",),
    "ElasticDistortion": ("ElasticDistortion", "gaussian_kernel"),
    "TopBottom": ("TopBottom",),
    "Deskew": ("MAX_SKEW", "Deskew"),
}
_ORDER = (
    "SIZE",
    "MAX_SKEW",
    "StrokeThickness",
    "ElasticDistortion",
    "TopBottom",
    "Deskew",
    "gaussian_kernel",
    "_resample",
)


def layer_source(config: RunConfig) -> str:
    """The source of the dlapp.augment layers this config uses ("" for none), with what they need."""
    used = [call.split("(")[0] for call in drawing_layer_calls(config)] + (["Deskew"] if deskews(config) else [])
    used += ["ElasticDistortion"] if bends(config) else []
    if not used:
        return ""
    wanted = {"SIZE", "_resample"}.union(*(_NEEDS[name] for name in used))
    source = (Path(__file__).parent / "augment.py").read_text()
    segments = {}
    for node in ast.parse(source).body:
        names = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)] or [getattr(node, "name", "")]
        if names[0] in wanted:
            # With its decorator: registered as "dlapp>Deskew" etc., a model the script saves loads in dlapp.
            decorators = "".join(f"@{ast.get_source_segment(source, d)}\n" for d in getattr(node, "decorator_list", []))
            segments[names[0]] = decorators + ast.get_source_segment(source, node)
    return "\n\n\n".join(segments[name] for name in _ORDER if name in wanted)
