"""Entry point for ``python -m axiom``."""

import sys

from axiom.cli import main

sys.exit(main())
