"""``python -m agents.compose.cli`` is ``hic``."""

import sys

from agents.compose.cli.main import main

sys.exit(main())
