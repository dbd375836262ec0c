"""Smoke test of an installed wheel (run by .ci/run in a fresh venv, outside the source tree).

Checks that the packages come from site-packages, not the checkout; that the version, the
type markers and the registrations are there; and that a PettingZoo env, a Gymnasium view and
the batch engine run.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import gymnasium
import numpy as np
import pettingzoo

import agents
import hic_envs
from agents import GradientAscentFollower, HiCLeader
from agents.compose import run_batch
from hic_envs.games import Duopoly

for pkg in (hic_envs, agents):
    where = Path(pkg.__file__).resolve()
    assert "site-packages" in where.parts, f"{pkg.__name__} imported from {where}"
    assert (where.parent / "py.typed").is_file(), f"{pkg.__name__} has no py.typed"
assert hic_envs.__version__ == agents.__version__ == importlib.metadata.version("hic-envs")

env = pettingzoo.make("parallel", "hic/Duopoly-v0", max_cycles=5)
obs, _ = env.reset(seed=0)
obs, rewards, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})
assert set(rewards) == {"leader_0", "follower_0"}

view = gymnasium.make("hic/Duopoly-Follower-v0")
view.reset(seed=0)
assert view.step(view.action_space.sample())[0].shape == (1,)

game = Duopoly()
leader = HiCLeader.for_game(game, num_envs=4, check_assumptions=False)
follower = GradientAscentFollower(game, 0.1, num_envs=4)
history = run_batch(game, leader, follower, 2000, seed=0)
assert np.all(np.isfinite(history.final_leader))
print(f"smoke test of the installed hic-envs {hic_envs.__version__} passed ({sys.prefix})")
