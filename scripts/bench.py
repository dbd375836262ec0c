"""Print seed-stages per second of the play loop and the batched engine, side by side.

Usage::

    python scripts/bench.py            # play; NumPy S = 1, 32, 1000, 1e5; JAX S = 32, 1000,
                                       # 1e5; the default job per backend (45 s here)
    python scripts/bench.py --quick    # smoke run

The same report as ``hic bench`` (both call :func:`agents.compose.engines.bench.run_benchmarks`).
"""

from __future__ import annotations

import sys

from agents.compose.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
