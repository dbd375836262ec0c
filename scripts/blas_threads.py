"""The NumPy engine with the BLAS threading it picks against OpenBLAS's default threads.

Usage::

    python scripts/blas_threads.py   # RandomQuadratic d1 = d2 = 256, S = 32, 400 stages each

Prints seed-stages per second both ways (agents/compose/threads.py; issue 18). Run it without
``OPENBLAS_NUM_THREADS`` set, so that the default is BLAS's own.
"""

from __future__ import annotations

import time

from threadpoolctl import threadpool_info

import agents.compose.engines.threads as threads
from agents import GradientAscentFollower, HiCLeader
from agents.compose.engines.runner import BatchRunner
from hic_envs.games import RandomQuadraticGame


def main(d: int = 256, S: int = 32, stages: int = 400) -> None:
    print("BLAS:", [(i["internal_api"], i["num_threads"]) for i in threadpool_info()])
    game = RandomQuadraticGame(d1=d, d2=d, seed=0)
    small = threads.SMALL_PRODUCT
    for label, limit in (("the engine picks (one thread)", small), ("BLAS's default", 0)):
        threads.SMALL_PRODUCT = limit
        leader = HiCLeader.for_game(game, num_envs=S, check_assumptions=False)
        follower = GradientAscentFollower(game, 0.1, num_envs=S)
        runner = BatchRunner(game, leader, follower, 0, record=None)
        runner.run(50)
        t = time.perf_counter()
        runner.run(stages)
        print(f"{label}: {stages * S / (time.perf_counter() - t):.3g} seed-stages/s")
    threads.SMALL_PRODUCT = small


if __name__ == "__main__":
    main()
