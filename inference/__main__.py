"""`python -m inference ...` is `python -m inference.cli ...`."""

import sys

from inference.cli import main

sys.exit(main())
