"""Measurement programs, not used by the app: `python -m dlapp bench` (bench*.py) and
`python -m dlapp.tools.handdrawn`, the drawing report (handdrawn.py, procedural_drawings.py)."""
