"""Adaptive versus fixed commitment, when the leader does not know the follower's beta mu.

Duopoly(a=50, b=1, c1=c2=1) (DSE q1* = 24.5). Every leader is HiCLeader with the Duopoly
preset's step-size and perturbation schedules and the 0.9 baseline; only the commitment
differs:

* fixed k = 5, 50, 500 (a leader guessing a fast, medium or slow follower);
* Corollary 4.11's k_n for the *true* beta mu (p = 0.5; the reference a leader told beta mu
  would use);
* AdaptiveCommitment(tol) with constant tol = 0.01 and 0.001, and decaying tol_n =
  0.01 / (n + 1)^0.5 and 0.01 / (n + 1) (the default) (min_length 2, max_length 2000).

Followers: gradient ascent with beta = 0.25, 0.1, 0.01 (beta mu = 0.5, 0.2, 0.02), and a
noisy one (stochastic gradient, beta = 0.1, gradient noise sd 1). Each cell is one
``agents.compose.run_batch`` with ``num_envs = seeds``; the table gives the median
``|q1 - q1*|`` after each stage budget and the median number of updates made in the longest budget.

    python scripts/adaptive_commitment.py [--seeds 32] [--stages 20000 200000]
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from gymnasium import spaces

from agents import (
    AdaptiveCommitment,
    GradientAscentFollower,
    HiCLeader,
    StochasticGradientFollower,
    presets,
)
from agents.compose.cli.config import parse
from agents.compose.engines.runner import BatchRunner
from agents.schedules import CommitmentSchedule, PowerLaw
from hic_envs.games import Duopoly


@dataclasses.dataclass
class Config:
    """Command-line configuration (one flag per field, :mod:`agents.compose.cli.config`)."""

    seeds: int = 32
    """seeds per cell (one batch)."""
    stages: tuple[int, ...] = (20_000, 200_000)
    """stage budgets at which the distance is reported (increasing)."""
    seed: int = 0
    """batch seed of every cell."""


def _followers():
    return [
        ("gradient beta=0.25", 0.25, lambda g, S: GradientAscentFollower(g, 0.25, num_envs=S)),
        ("gradient beta=0.1", 0.1, lambda g, S: GradientAscentFollower(g, 0.1, num_envs=S)),
        ("gradient beta=0.01", 0.01, lambda g, S: GradientAscentFollower(g, 0.01, num_envs=S)),
        (
            "noisy gradient beta=0.1, sd 1",
            0.1,
            lambda g, S: StochasticGradientFollower(g, 0.1, 1.0, num_envs=S),
        ),
    ]


def _commitments(game, perturbation, beta):
    return [
        ("fixed k=5", 5),
        ("fixed k=50", 50),
        ("fixed k=500", 500),
        (
            "Cor. 4.11, true beta mu",
            CommitmentSchedule.for_game(game, beta, perturbation, p=0.5),
        ),
        ("adaptive tol=0.01", AdaptiveCommitment(tol=0.01, min_length=2, max_length=2000)),
        ("adaptive tol=0.001", AdaptiveCommitment(tol=0.001, min_length=2, max_length=2000)),
        (
            "adaptive tol=0.01/(n+1)^0.5",
            AdaptiveCommitment(tol=PowerLaw(0.01, 0.5), min_length=2, max_length=2000),
        ),
        (
            "adaptive tol=0.01/(n+1) (default)",
            AdaptiveCommitment(tol=PowerLaw(0.01, 1.0), min_length=2, max_length=2000),
        ),
    ]


def main(cfg: Config) -> None:
    game = Duopoly()
    x_star = float(game.stackelberg().x[0])
    kw = presets.hic_leader_kwargs(game)
    a, d = kw["step_size"], kw["perturbation"]
    box = spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)
    budgets = sorted(cfg.stages)
    print(
        f"Duopoly DSE q1* = {x_star}; {cfg.seeds} seeds; leader: HiCLeader, baseline 0.9, "
        f"alpha_n = {a.a:.4g} / (n + 1 + {a.A:g})^{a.gamma}, delta_n = {d.a:.4g} / "
        f"(n + 1)^{d.gamma}; cells: median abs(q1 - q1*) after "
        + ", ".join(f"{b:.0e}" for b in budgets)
        + " stages; updates = median updates made.\n"
    )
    head = " | ".join(f"{b:.0e} stages" for b in budgets)
    print(f"| follower | commitment | {head} | updates | time |")
    print("|---|---|" + "---|" * len(budgets) + "---|---|")
    for f_label, beta, make_follower in _followers():
        for c_label, commitment in _commitments(game, d, beta):
            leader = HiCLeader(
                box, a, d, commitment, baseline=0.9, num_envs=cfg.seeds, check_assumptions=False
            )
            runner = BatchRunner(
                game, leader, make_follower(game, cfg.seeds), cfg.seed, record="none"
            )
            t0, done, cells = time.perf_counter(), 0, []
            for b in budgets:
                hist = runner.run(b - done)
                done = b
                cells.append(np.median(np.abs(hist.final_leader[:, 0] - x_star)))
            dt = time.perf_counter() - t0
            row = " | ".join(f"{c:.2e}" for c in cells)
            n = np.median(leader.update_index)
            print(f"| {f_label} | {c_label} | {row} | {n:.0f} | {dt:.0f} s |", flush=True)


def _parse(argv: list[str] | None = None) -> Config:
    return parse(
        Config,
        argv,
        prog="python scripts/adaptive_commitment.py",
        description=__doc__.splitlines()[0],
    )


if __name__ == "__main__":
    main(_parse())
