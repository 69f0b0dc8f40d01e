"""dlapp's own augmentation layers in a generated script: the calls, and their source copied from dlapp.augment.

The source is read from the file, not imported, so writing a script never imports TensorFlow.
"""

from __future__ import annotations

import ast
from pathlib import Path

from dlapp.config import RunConfig


def drawing_layer_calls(config: RunConfig) -> list[str]:
    """Calls of dlapp's own augmentation layers (pen width, wobble) the config switches on."""
    m = config.model
    if not m.augment or m.arch == "autoencoder":
        return []
    calls = []
    if m.augment_thickness > 0:
        calls.append(f"StrokeThickness({m.augment_thickness!r})")
    if m.augment_elastic > 0:
        calls.append(f"ElasticDistortion({m.augment_elastic!r})")
    return calls


# The source of dlapp.augment's layers, copied into scripts that use them (read, not imported: no TensorFlow here).
_LAYER_SOURCES = ("SIZE", "StrokeThickness", "ElasticDistortion", "gaussian_kernel", "_resample")


def layer_source() -> str:
    source = (Path(__file__).parent / "augment.py").read_text()
    segments = {}
    for node in ast.parse(source).body:
        names = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)] or [getattr(node, "name", "")]
        if names[0] in _LAYER_SOURCES:
            segments[names[0]] = ast.get_source_segment(source, node)
    return "\n\n\n".join(segments[name] for name in _LAYER_SOURCES)
