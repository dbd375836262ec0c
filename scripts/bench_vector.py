"""Env steps per second: the native vector views against SyncVectorEnv of single views.

Usage::

    python scripts/bench_vector.py              # 64 copies, duopoly, both views
    python scripts/bench_vector.py --num-envs 8 64 256 --seconds 2
    python scripts/bench_vector.py --quick      # smoke run

Each row steps ``gymnasium.vector.SyncVectorEnv`` over N single views (same-step autoreset, the
views built directly) and :class:`agents.compose.views.vector.FollowerVectorView` /
``LeaderVectorView`` with N copies, with the same default partners (Hi-C preset leader,
gradient-ascent follower) and episodes of 1000 steps, on fixed pre-drawn actions. An *env step*
is one stage in one copy, so a vector step of N copies counts N. Each figure is the best of
``--repeats`` timed runs of at least ``--seconds`` each (after a warm-up), which filters out
other load on the machine.
"""

from __future__ import annotations

import dataclasses
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from gymnasium.vector import AutoresetMode, SyncVectorEnv  # noqa: E402

from agents.compose.cli.config import parse  # noqa: E402
from agents.compose.views.single import FollowerView, LeaderView  # noqa: E402
from agents.compose.views.vector import FollowerVectorView, LeaderVectorView  # noqa: E402
from hic_envs.games import Duopoly  # noqa: E402


def _rate(env, n: int, seconds: float, repeats: int) -> float:
    """Best env steps per second over ``repeats`` runs of >= ``seconds`` each."""
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, size=(256, *env.action_space.shape)).astype(np.float32)
    for k in range(64):  # warm-up
        env.step(actions[k % 256])
    best = 0.0
    for _ in range(repeats):
        steps, t0 = 0, time.perf_counter()
        while True:
            for k in range(256):
                env.step(actions[k])
            steps += 256
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds:
                break
        best = max(best, steps * n / elapsed)
    return best


@dataclasses.dataclass(frozen=True)
class Config:
    """Env steps per second of the native vector views against SyncVectorEnv of single views."""

    num_envs: tuple[int, ...] = (64,)
    """Numbers of copies to measure."""
    seconds: float = 1.0
    """Minimum time per timed run."""
    repeats: int = 3
    """Timed runs per measurement (the best is reported)."""
    quick: bool = False
    """Smoke run (0.05 s, 1 repeat)."""

    def __post_init__(self) -> None:
        if any(n < 1 for n in self.num_envs) or self.seconds <= 0 or self.repeats < 1:
            raise ValueError("--num-envs and --repeats must be positive, --seconds > 0")


def main(argv: list[str] | None = None) -> None:
    args = parse(Config, argv, prog="python scripts/bench_vector.py")
    if args.quick:
        args = dataclasses.replace(args, seconds=0.05, repeats=1)
    game = Duopoly()
    print(f"game: {game.name}; env steps per second (best of {args.repeats} x {args.seconds} s)")
    print(f"{'view':<9} {'N':>5} {'SyncVectorEnv':>14} {'native':>12} {'speed-up':>9}")
    for n in args.num_envs:
        for name, single, native in (
            ("follower", FollowerView, FollowerVectorView),
            ("leader", LeaderView, LeaderVectorView),
        ):
            sync = SyncVectorEnv(
                [lambda single=single: single(game) for _ in range(n)],
                autoreset_mode=AutoresetMode.SAME_STEP,
            )
            r_sync = _rate(sync, n, args.seconds, args.repeats)
            r_native = _rate(native(game, n), n, args.seconds, args.repeats)
            print(
                f"{name:<9} {n:>5} {r_sync:>14,.0f} {r_native:>12,.0f} {r_native / r_sync:>8.1f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
