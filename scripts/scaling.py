"""Scaling table: Hi-C against the coupled hierarchical gradient on random quadratic games.

Usage::

    python scripts/scaling.py                       # d = 1, 4, 16, 64, 256; 2e5 stages, 8 seeds
    python scripts/scaling.py --dims 1 4 --stages 2e4 --seeds 4   # quick look
    python scripts/scaling.py --out docs/scaling.md  # also write the table to a file

Prints a Markdown table (see :func:`agents.benchmark.scaling_study` for every column). BLAS is
pinned to one thread unless OPENBLAS_NUM_THREADS is set: on a loaded 2-core machine threaded
BLAS made the d = 256 matrix products ~100x slower.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from agents.benchmark import format_scaling, machine_info, scaling_study  # noqa: E402
from hic_envs.cli import _count  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dims", type=_count, nargs="+", default=[1, 4, 16, 64, 256])
    p.add_argument("--stages", type=_count, default=200_000, help="stage budget per run")
    p.add_argument("--seeds", type=_count, default=8)
    p.add_argument("--epsilon", type=float, default=0.05, help="relative distance to reach")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="also write the table (with its command) to this file")
    args = p.parse_args(argv)
    if not 0 < args.epsilon < 1:
        p.error(f"--epsilon must be in (0, 1), got {args.epsilon}")
    t = time.perf_counter()
    rows = scaling_study(
        tuple(args.dims),
        stages=args.stages,
        seeds=args.seeds,
        epsilon=args.epsilon,
        seed=args.seed,
        log=lambda m: print(m, file=sys.stderr, flush=True),
    )
    table = format_scaling(rows, args.epsilon)
    command = "python scripts/scaling.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = (
        f"RandomQuadraticGame(d1=d, d2=d, seed=0); gradient-ascent follower; {args.seeds} seeds; "
        f"epsilon: ||x - x*|| <= {args.epsilon} ||x_0 - x*||, held to the end of the budget.\n"
        f"machine: {machine_info()}\n\n{table}\n\n"
        f"command: `{command.strip()}` ({time.perf_counter() - t:.0f} s)\n"
    )
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
