"""Small input gaps of issue 17: each is a clear error naming the value."""

from __future__ import annotations

import gymnasium
import numpy as np
import pettingzoo
import pytest

import hic_envs
from agents import GradientAscentFollower, HiCLeader, StochasticGradientFollower
from agents.compose.views.single import follower_view
from hic_envs import GameEnv
from hic_envs.games import Bimatrix, Duopoly
from hic_envs.registration import LIBRARY_WITHOUT_VIEWS, view_ids


@pytest.mark.parametrize("seed", [-1, -(2**70), True, 1.5, "3"])
def test_reset_with_a_bad_seed_names_it(seed):
    with pytest.raises(ValueError, match=r"reset: seed must be None or a non-negative integer"):
        GameEnv(Duopoly()).reset(seed=seed)
    agent = GradientAscentFollower(Duopoly(), 0.1)
    with pytest.raises(ValueError, match=r"GradientAscentFollower.reset: seed must be None"):
        agent.reset(seed=seed)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize(
    "make",
    [
        lambda g: GradientAscentFollower(g, 0.1),
        lambda g: StochasticGradientFollower(g, 0.1, 0.5),
        lambda g: HiCLeader(g, 0.01, 0.5, 3, check_assumptions=False),
    ],
)
def test_a_non_finite_observation_is_refused(make, bad):
    agent = make(Duopoly())
    agent.reset(seed=0)
    agent.act(np.array([1.0]))
    with pytest.raises(ValueError, match=r"observation must be finite, got \[(nan|inf|-inf)\]"):
        agent.observe(1.0, np.array([bad]))


@pytest.mark.parametrize("env_type", ["parallel", "aec"])
def test_max_cycles_minus_one_through_make_is_refused(env_type):
    with pytest.raises(ValueError, match="max_cycles=-1 is not an episode length"):
        pettingzoo.make(env_type, "hic/Duopoly-v0", max_cycles=-1)
    env = pettingzoo.make(env_type, "hic/Duopoly-v0")  # the default stays 1000
    assert env.unwrapped.max_cycles == 1000


def test_every_registered_view_can_be_made_with_its_defaults():
    ids = [v for e in hic_envs.list_envs() for v in view_ids(e) if v in gymnasium.registry]
    assert len(ids) == 2 * (len(hic_envs.list_envs()) - len(LIBRARY_WITHOUT_VIEWS))
    for view_id in ids:
        gymnasium.make(view_id).reset(seed=0)


def test_bimatrix_views_are_not_registered_but_can_be_made_with_a_partner():
    for view_id in view_ids("hic/Bimatrix-v0"):
        with pytest.raises(gymnasium.error.Error, match="doesn't exist"):
            gymnasium.make(view_id)
    game = Bimatrix()
    leader = HiCLeader(game, 0.01, 0.5, 5, check_assumptions=False)
    env = follower_view(game_factory=Bimatrix, leader=leader)
    env.reset(seed=0)
    env.step(env.action_space.sample())
