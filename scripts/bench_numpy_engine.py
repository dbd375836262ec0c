"""Seed-stages per second of the NumPy engine on ``hic bench``'s workload, by CPU time.

The Hi-C leader with its Duopoly defaults against a gradient-ascent follower (what
``hic bench`` times), ``run_batch`` for 20 000 stages, best of five runs. CPU seconds of this
process discount the time it waited for a core on a shared machine; run two trees
alternately in the same minutes to compare them (the script uses only public names, so it
runs against an older checkout too)::

    PYTHONPATH=/path/to/tree python scripts/bench_numpy_engine.py 32 1000
"""

from __future__ import annotations

import sys
import time

from agents import GradientAscentFollower, HiCLeader

try:
    from agents.compose import run_batch
except ImportError:  # a tree from before the composition layer's split
    from agents import run_batch
from agents.presets import follower_step_size
from hic_envs.games import Duopoly


def seed_stages_per_cpu_second(S: int, stages: int = 20_000, repeats: int = 5) -> float:
    """Best of ``repeats`` runs of ``stages`` stages at batch size ``S``."""
    best = 0.0
    for _ in range(repeats):
        game = Duopoly()
        leader = HiCLeader.for_game(game, num_envs=S, check_assumptions=False)
        follower = GradientAscentFollower(game, follower_step_size(game), num_envs=S)
        c = time.process_time()
        run_batch(game, leader, follower, stages, seed=0)
        best = max(best, S * stages / (time.process_time() - c))
    return best


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [32, 1000]:
        print(f"S={size}: {seed_stages_per_cpu_second(size):.3g} seed-stages per CPU second")
