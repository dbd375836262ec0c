"""Seed-stages per second of the JAX engine's two loops, side by side in one run.

The interval engine (:class:`~agents.compose.engines.jax_engine.JaxRunner`, the fast path for
Hi-C with a fixed schedule against a gradient follower) and the generic stage loop over rule
sets (:class:`~agents.compose.engines.jax_rules.RulesRunner`, every other pure pair), with the
NumPy engine beside them: the catalog's Hi-C and SGA against the gradient follower, and Hi-C
with adaptive commitment, on the duopoly (catalog defaults, ``record=None``, best of 3); and
the generic loop alone for the other catalog leaders of issue 18's goals (hierarchical, LOLA,
oracle SPSA). Each row gives seed-stages per wall second and per CPU second of the process (on
a shared machine the second discounts the time the process waited for a core).

Usage::

    python scripts/jax_loops.py [S] [STAGES] [LEADER ...]
    # default S = 32, 200000 stages per timing; LEADER (e.g. "sga", "hic adaptive") keeps
    # only those rows
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from agents import AdaptiveCommitment, catalog
from agents.compose.engines.jax_engine import JaxRunner
from agents.compose.engines.jax_rules import RulesRunner
from agents.compose.engines.runner import BatchRunner
from hic_envs.games import Duopoly


def main() -> None:
    S = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    N = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    game = Duopoly()
    cases = [
        ("hic", {}, JaxRunner),
        ("hic", {}, RulesRunner),
        ("hic", {}, BatchRunner),
        ("hic", {"commitment": AdaptiveCommitment()}, RulesRunner),
        ("hic", {"commitment": AdaptiveCommitment()}, BatchRunner),
        ("sga", {}, RulesRunner),
        ("sga", {}, BatchRunner),
        ("hierarchical", {}, RulesRunner),
        ("lola", {}, RulesRunner),
        ("oracle-spsa", {}, RulesRunner),
    ]
    only = sys.argv[3:]
    for lname, opts, cls in cases:
        if only and f"{lname}{' adaptive' if opts else ''}" not in only:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            follower = catalog.make_follower("gradient", game, S, {})
            leader = catalog.make_leader(lname, game, S, opts, partner=follower)
        runner = cls(game, leader, follower, 0, record=None)
        n = N if cls is not BatchRunner else max(N // 20, 1000)
        runner.run(1000)  # compiles (JAX) and warms up
        best = cpu = 0.0
        for _ in range(3):
            t, c = time.perf_counter(), time.process_time()
            runner.run(n)
            _ = np.asarray(runner.leader.strategies)  # waits for the device
            best = max(best, S * n / (time.perf_counter() - t))
            cpu = max(cpu, S * n / max(time.process_time() - c, 1e-9))
        label = f"{lname}{' adaptive' if opts else ''} x gradient"
        print(
            f"{label:28s} {cls.__name__:12s} S={S}: {best:.3g} seed-stages/s "
            f"({cpu:.3g} per CPU second)"
        )


if __name__ == "__main__":
    main()
