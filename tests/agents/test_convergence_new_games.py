"""Hi-C's presets converge on the new games with an interior DSE (gradient-ascent follower).

12 seeds, one batch each, 5e4 stages; tolerances stated per game (the measured 32-seed
results at 1e5 stages are on the site's page docs/results/agents.md, from
scripts/preset_check.py and scripts/matrix_preset_check.py).
"""

import numpy as np
import pytest
from gymnasium import spaces

from agents import GradientAscentFollower, HiCLeader, presets
from agents.compose import run_batch
from hic_envs.games import HamiltonianGame, MatchingPennies, PrisonersDilemma

SEEDS = 12


@pytest.mark.parametrize(
    "make, tol",
    [
        (HamiltonianGame, 1e-4),
        (MatchingPennies, 1e-4),
        (lambda: PrisonersDilemma(tau=0.5, leader_tau=0.5), 1e-3),
    ],
)
def test_presets_reach_the_dse(make, tol):
    game = make()
    box = spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)
    leader = HiCLeader(box, **presets.hic_leader_kwargs(game), num_envs=SEEDS)
    follower = GradientAscentFollower(game, presets.follower_step_size(game), num_envs=SEEDS)
    hist = run_batch(game, leader, follower, 50_000, seed=0, record="none")
    d = game.distance_to_stackelberg(hist.final_leader)
    assert d.max() <= tol, d
