"""Bytes a sweep writes into its own files (sweep.json, sweep.csv, sweep.jsonl) for N tiny
configurations run serially: linear in N since the sweep store keeps an append-only record
(issue 19), where rewriting sweep.json after every configuration made it quadratic.

    python scripts/sweep_store_writes.py 100 400

Runs on this tree; on a tree from before the sweeps package (agents/compose/sweep.py) it
measures that code the same way, for the comparison.
"""

from __future__ import annotations

import collections
import sys
import tempfile
import time
from pathlib import Path

try:  # the sweeps package
    from agents.compose.sweeps import driver, run_sweep
    from agents.compose.sweeps import store as files

    WRITE = "atomic_write"
except ImportError:  # before it: one module, sweep.json rewritten per configuration
    from agents.compose.sweep import run_sweep

    from agents.compose import sweep as files

    driver = None
    WRITE = "_atomic_write"


def measure(n: int) -> tuple[dict[str, int], float]:
    """Bytes per file name (whole-file writes, and appends to the record), and wall seconds."""
    written: collections.Counter[str] = collections.Counter()
    real_write = getattr(files, WRITE)

    def write(path, data):
        written[Path(path).name] += len(data)
        real_write(path, data)

    setattr(files, WRITE, write)
    if driver is not None:
        real_append = driver.append_result

        def append(out, index, entry):
            before = (out / "sweep.jsonl").stat().st_size
            real_append(out, index, entry)
            written["sweep.jsonl (appended)"] += (out / "sweep.jsonl").stat().st_size - before

        driver.append_result = append
    spec = {
        "name": "writes",
        "base": {"env_id": "hic/Duopoly-v0", "seeds": 1, "stages": 100},
        "grid": {"seed": list(range(n))},
    }
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        run_sweep(spec, Path(d) / "s", executor="serial", progress=False)
        return dict(written), time.perf_counter() - t0


def main(argv: list[str]) -> None:
    for n in map(int, argv or ["100"]):
        written, seconds = measure(n)
        parts = ", ".join(f"{k} {v:,}" for k, v in sorted(written.items()))
        print(f"N={n}: {parts} bytes ({seconds:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
