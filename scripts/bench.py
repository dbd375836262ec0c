"""Print seed-stages per second of the play loop and the batched engine, side by side.

Usage::

    python scripts/bench.py            # S = 1, 100, 1000, 10000, 100000; about 2 minutes
    python scripts/bench.py --quick    # smoke run

The same report as ``hic bench`` (both call :func:`agents.compose.bench.run_benchmarks`).
"""

from __future__ import annotations

import sys

from agents.compose.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
