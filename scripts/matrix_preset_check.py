"""Hi-C's presets on the matrix games with an interior DSE (a leader entropy bonus makes it so).

Each game's preset (``agents.presets.hic_leader_kwargs``) against a gradient-ascent follower
(``agents.presets.follower_step_size``), 32 seeds, ``agents.presets.recommended_stages``
stages; prints the final ``|x - x*|`` (median, max) as a Markdown table.

    python scripts/matrix_preset_check.py [--seeds 32]
"""

from __future__ import annotations

import dataclasses

import numpy as np
from gymnasium import spaces

from agents import GradientAscentFollower, HiCLeader, presets
from agents.compose import run_batch
from agents.compose.cli.config import parse
from hic_envs.games import BattleOfSexes, MatchingPennies, PrisonersDilemma, StagHunt

GAMES = {
    "PrisonersDilemma(tau=0.5, leader_tau=0.5)": lambda: PrisonersDilemma(tau=0.5, leader_tau=0.5),
    "MatchingPennies(tau=0.5, leader_tau=0.2)": lambda: MatchingPennies(tau=0.5, leader_tau=0.2),
    "StagHunt(leader_tau=0.5)": lambda: StagHunt(leader_tau=0.5),
    "BattleOfSexes(tau=2, leader_tau=0.3)": lambda: BattleOfSexes(tau=2.0, leader_tau=0.3),
}


@dataclasses.dataclass(frozen=True)
class Config:
    """Command-line configuration (one flag per field, :mod:`agents.compose.cli.config`)."""

    seeds: int = 32
    """Seeds per game (one batch)."""


def main(cfg: Config) -> None:
    seeds = cfg.seeds
    print("| game | x* | beta | stages | median abs(x - x*) | max abs(x - x*) |")
    print("|---|---|---|---|---|---|")
    for label, make in GAMES.items():
        game = make()
        beta = presets.follower_step_size(game)
        stages = presets.recommended_stages(game)
        box = spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)
        leader = HiCLeader(box, **presets.hic_leader_kwargs(game), num_envs=seeds)
        follower = GradientAscentFollower(game, beta, num_envs=seeds)
        hist = run_batch(game, leader, follower, stages, seed=0, record="none")
        d = game.distance_to_stackelberg(hist.final_leader)
        x_star = float(game.stackelberg().x[0])
        print(
            f"| {label} | {x_star:.4g} | {beta:.4g} | {stages:.0e} | {np.median(d):.2e} | "
            f"{d.max():.2e} |",
            flush=True,
        )


if __name__ == "__main__":
    main(parse(Config, prog="python scripts/matrix_preset_check.py", description=__doc__))
