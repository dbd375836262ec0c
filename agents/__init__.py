"""Leader and follower learners for hic_envs games, and what composes them with the games.

An agent is anything with ``reset(seed)``, ``act(obs)``, ``observe(reward, obs)`` and
``strategy`` (:class:`Agent`, a protocol); :class:`BatchAgent` is the helper behind the
library's learners, which run ``S`` seeds in lockstep. Uncoupled agents learn only from their
own payoffs and the other player's observed actions; coupled baselines say so in their
docstrings and set ``coupled = True``. The learners by name are in :mod:`agents.catalog`.

The composition layer (:mod:`agents.compose`: the play loop, the batched engine, the
Gymnasium views, experiments, sweeps, the CLI, plots, the benchmark) sits above the learners,
and this package does not import it: ``from agents.compose import play, run_batch, ...``.
"""

from agents import catalog, presets, schedules
from agents.base import Agent, BatchAgent, check_agent
from agents.baselines import HierarchicalGradientLeader, OracleSPSALeader, SGALeader
from agents.followers import (
    BestResponseFollower,
    EntropicMirrorFollower,
    GradientAscentFollower,
    StochasticGradientFollower,
)
from agents.hic import AdaptiveCommitment, HiCLeader
from agents.stationary import FixedAgent, UniformAgent
from hic_envs import __version__  # the one version source (pyproject reads it too)

__all__ = [
    "AdaptiveCommitment",
    "Agent",
    "BatchAgent",
    "BestResponseFollower",
    "EntropicMirrorFollower",
    "FixedAgent",
    "GradientAscentFollower",
    "HiCLeader",
    "HierarchicalGradientLeader",
    "OracleSPSALeader",
    "SB3Follower",
    "SB3Leader",
    "SGALeader",
    "StochasticGradientFollower",
    "UniformAgent",
    "__version__",
    "catalog",
    "check_agent",
    "presets",
    "schedules",
]

_LAZY = {"SB3Follower": "agents.sb3", "SB3Leader": "agents.sb3"}
#: Names this package re-exported from the composition layer before it moved out (issue 18).
_MOVED = {
    "BatchHistory": "agents.compose",
    "BatchRunner": "agents.compose",
    "FollowerView": "agents.compose",
    "History": "agents.compose",
    "LeaderView": "agents.compose",
    "NonFiniteError": "agents.compose",
    "Thinning": "agents.compose",
    "derive_seeds": "agents.compose",
    "play": "agents.compose",
    "run_batch": "agents.compose",
}


def __getattr__(name: str):
    # The SB3 agents import torch (seconds); load them only when first used.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _MOVED:
        # No hidden upward import: the learners do not load the composition layer.
        raise AttributeError(
            f"module 'agents' has no attribute {name!r}: the composition layer's names moved "
            f"to {_MOVED[name]}; use `from {_MOVED[name]} import {name}`"
        )
    raise AttributeError(f"module 'agents' has no attribute {name!r}")
