"""dlapp: a deep-learning studio in the browser. The engine; it never imports Streamlit.

Importing the package is cheap: TensorFlow is imported only by the modules that need it.
"""

__version__ = "0.1.0"

import os as _os

# TensorFlow's C++ info and warning lines are noise to a person using the app or the
# command line; errors still show. (TensorFlow 2.21 prints a few absl start-up lines
# before it reads this setting; those remain.)
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
