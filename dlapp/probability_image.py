"""The Draw page's probability bars as a picture, drawn with Pillow.

Drawn on the server, the bars reach the browser as one PNG that replaces the last one. The
Plotly chart they replace cost the browser about 90 ms to redraw after every stroke (median
stroke-to-probabilities 0.53-0.55 s with it, 0.45 s without, 2-vCPU Xeon, idle), a fifth of
what is left once the canvas component's fixed 200 ms wait before sending a stroke is paid.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dlapp.plots import TRAIN_COLOR

SCALE = 2  # drawn at twice the size it is shown, so text stays sharp on high-density screens
WIDTH, HEIGHT = 520, 200  # CSS px as shown
BAR_COLOR = "#C7CBD6"  # the other classes: grey; the top guess in the theme's primary colour
TEXT_COLOR = "#31333F"  # Streamlit's text colour
AXIS_COLOR = "#9AA0AC"
TOP, BOTTOM = 24, 26  # px above the tallest bar (its label) and below the axis (the class names)


def probability_image(probabilities: np.ndarray, class_names: Sequence[str], highlight: int | None) -> Image.Image:
    """Bars of each class's probability (0 to 1), its percentage above and its name below."""
    width, height = WIDTH * SCALE, HEIGHT * SCALE
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13 * SCALE)
    top, axis = TOP * SCALE, height - BOTTOM * SCALE
    slot = width / len(class_names)
    for i, (name, p) in enumerate(zip(class_names, np.clip(probabilities, 0.0, 1.0), strict=True)):
        left, right = i * slot + slot * 0.18, (i + 1) * slot - slot * 0.18
        bar_top = axis - p * (axis - top)
        if p > 0:
            draw.rectangle((left, bar_top, right, axis), fill=TRAIN_COLOR if i == highlight else BAR_COLOR)
        middle = (left + right) / 2
        draw.text((middle, bar_top - 4 * SCALE), f"{p:.0%}", fill=TEXT_COLOR, font=font, anchor="ms")
        draw.text((middle, axis + 6 * SCALE), str(name), fill=TEXT_COLOR, font=font, anchor="mt")
    draw.line((0, axis, width, axis), fill=AXIS_COLOR, width=SCALE)
    return image
