"""`python -m kpirules`: the same command line as `kpirules`."""

import sys

from .cli import main

sys.exit(main())
