"""``python -m agents.compose.cli`` is ``hic``."""

import sys

from agents.compose.cli.main import main

if __name__ == "__main__":  # importing the module (the API reference does) runs nothing
    sys.exit(main())
