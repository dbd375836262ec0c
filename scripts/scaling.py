"""Scaling table: Hi-C against the coupled hierarchical gradient on random quadratic games.

Usage::

    python scripts/scaling.py                       # d = 1, 4, 16, 64, 256; 2e5 stages, 8 seeds
    python scripts/scaling.py --dims 1 4 --stages 2e4 --seeds 4   # quick look
    python scripts/scaling.py --out docs/scaling.md  # also write the table to a file

Prints a Markdown table (see :func:`agents.compose.engines.bench.scaling_study` for every
column). BLAS is
pinned to one thread unless OPENBLAS_NUM_THREADS is set: on a loaded 2-core machine threaded
BLAS made the d = 256 matrix products ~100x slower.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from agents.compose.cli.config import parse  # noqa: E402
from agents.compose.engines.bench import format_scaling, machine_info, scaling_study  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Config:
    """Scaling table: Hi-C against the coupled hierarchical gradient on random quadratic games."""

    dims: tuple[int, ...] = (1, 4, 16, 64, 256)
    """Dimensions d = d1 = d2."""
    stages: int = 200_000
    """Stage budget per run."""
    seeds: int = 8
    """Seeds per run (one batch)."""
    epsilon: float = 0.05
    """Relative distance to reach, in (0, 1)."""
    seed: int = 0
    """Master seed."""
    out: str | None = None
    """Also write the table (with its command) to this file."""

    def __post_init__(self) -> None:
        if not 0 < self.epsilon < 1:
            raise ValueError(f"--epsilon must be in (0, 1), got {self.epsilon}")
        for nm in ("stages", "seeds"):
            if getattr(self, nm) < 1:
                raise ValueError(f"--{nm} must be a positive integer, got {getattr(self, nm)}")
        if not self.dims or min(self.dims) < 1:
            raise ValueError(f"--dims must be positive integers, got {self.dims}")


def main(argv: list[str] | None = None) -> int:
    args = parse(Config, argv, prog="python scripts/scaling.py")
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
