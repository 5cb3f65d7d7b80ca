"""Run the command line as ``python -m include.datasphere_glue``."""

from __future__ import annotations

import sys

from include.datasphere_glue.cli import main

sys.exit(main())
