"""`python -m kzdw.cli`."""

import sys

from kzdw.cli import main

sys.exit(main())
