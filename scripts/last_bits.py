"""How far the pinned engine cases move when NumPy or BLAS compute other last bits (issue 17).

Prints, for every case of ``tests/experiments/test_engine_pinned.py``, the final mean leader
and follower strategies as JSON. Run it twice, e.g. as is and with NumPy's AVX-512 paths off,
and compare with ``--compare``::

    python scripts/last_bits.py > a.json
    NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" python scripts/last_bits.py > b.json
    python scripts/last_bits.py --compare a.json b.json

The tolerance of the pinned values (``rtol=1e-9``) must lie far above what this prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parents[1] / "tests" / "experiments"


def finals() -> dict[str, list[float]]:
    sys.path.insert(0, str(TESTS))
    from test_engine_pinned import CASES, run_batch  # the cases, defined once in the test

    out = {}
    for name in sorted(CASES):
        build, S, stages, noise, cycles, record = CASES[name]
        game, leader, follower = build(S)
        h = run_batch(
            game, leader, follower, stages, seed=11, noise_std=noise, max_cycles=cycles,
            record=record,
        )  # fmt: skip
        out[name] = [*h.final_leader.mean(axis=0).tolist(), *h.final_follower.mean(axis=0).tolist()]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--compare", nargs=2, metavar="JSON")
    args = p.parse_args()
    if not args.compare:
        print(json.dumps(finals()))
        return
    a, b = (json.loads(Path(f).read_text()) for f in args.compare)
    worst = 0.0
    for name in sorted(a):
        x, y = np.array(a[name]), np.array(b[name])
        rel = float(np.max(np.abs(x - y) / np.maximum(np.abs(x), 1e-300)))
        worst = max(worst, rel)
        print(f"{name:32s} max relative difference {rel:.2g}")
    print(f"worst {worst:.2g}")


if __name__ == "__main__":
    main()
