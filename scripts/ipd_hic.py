"""Hi-C with the game's preset against a gradient-ascent follower on the iterated Prisoner's
Dilemma: final distance to the DSE and the leader's Stackelberg payoff, per seed.

    python scripts/ipd_hic.py [--leader-tau 0.5] [--stages 100000] [--seeds 8]
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from agents import GradientAscentFollower, HiCLeader, presets
from agents.compose import run_batch
from agents.compose.cli.config import parse
from hic_envs.games import IteratedPrisonersDilemma


@dataclasses.dataclass(frozen=True)
class Config:
    """Command-line configuration (one flag per field, :mod:`agents.compose.cli.config`)."""

    tau: float = 3.0
    """The follower's entropy weight."""
    leader_tau: tuple[float, ...] = (0.0, 0.5)
    """The leader's entropy weights to run."""
    stages: int | None = None
    """Stages (default: the preset's recommended_stages)."""
    seeds: int = 8
    """Seeds (one batch)."""
    beta: float | None = None
    """The follower's step instead of the preset's (the leader's schedules are built for it through presets.hic_leader_kwargs(game, beta))."""  # noqa: E501


def main(argv: list[str] | None = None) -> None:
    args = parse(Config, argv, prog="python scripts/ipd_hic.py")
    for lt in args.leader_tau:
        t0 = time.time()
        game = IteratedPrisonersDilemma(tau=args.tau, leader_tau=lt)
        dse = game.stackelberg()
        stages = args.stages or presets.recommended_stages(game)
        beta = presets.follower_step_size(game) if args.beta is None else args.beta
        kwargs = presets.hic_leader_kwargs(game, beta=beta)
        leader = HiCLeader(game, num_envs=args.seeds, **kwargs)  # as HiCLeader.for_game
        follower = GradientAscentFollower(game, beta, num_envs=args.seeds)
        hist = run_batch(game, leader, follower, stages, seed=0, record="none")
        x = hist.final_leader
        dist = game.distance_to_stackelberg(x)
        v = game.hierarchical_payoff(x)
        x0 = 0.5 * (game.leader_low + game.leader_high)
        print(f"## tau = {args.tau}, leader_tau = {lt}: beta = {beta:.4g}, {stages} stages")
        print(f"DSE x* = {np.round(dse.x, 4).tolist()}, f1(x*, r(x*)) = {dse.leader_payoff:.5f}")
        print(f"start (centre) f1(x0, r(x0)) = {float(game.hierarchical_payoff(x0)):.5f}")
        print(
            f"|x - x*|: median {np.median(dist):.3g}, max {dist.max():.3g}; "
            f"f1(x, r(x)): min {v.min():.5f}, median {np.median(v):.5f}, max {v.max():.5f}"
        )
        print(f"final x (median over seeds) {np.round(np.median(x, axis=0), 4).tolist()}")
        print(f"({time.time() - t0:.0f} s)\n")


if __name__ == "__main__":
    main()
