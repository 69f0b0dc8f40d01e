"""`python -m dlapp ...`: the command line (see dlapp.cli)."""

import sys

from dlapp.cli import main

sys.exit(main())
