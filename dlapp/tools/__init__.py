"""Measurement programs, not used by the app.

- `python -m dlapp bench` (bench*.py, machine.py): training speed and latency.
- `python -m dlapp.tools.handdrawn`: the drawing report (handdrawn.py), on mouse-like drawings
  (sketches.py) scored per digit (drawing_eval.py).
- `python -m dlapp.tools.starter`: trains the starter model shipped in dlapp/assets/.
"""
