"""Leader and follower learners for hic_envs games, and what composes them with the games.

An agent is anything with ``reset(seed)``, ``act(obs)``, ``observe(reward, obs)`` and
``strategy`` (:class:`Agent`, a protocol); :class:`BatchAgent` is the helper behind the
library's learners, which run ``S`` seeds in lockstep. Uncoupled agents learn only from their
own payoffs and the other player's observed actions; coupled baselines say so in their
docstrings and set ``coupled = True``. The learners by name are in :mod:`agents.catalog`.

The composition layer (:mod:`agents.compose`: the play loop, the batched engine, the
Gymnasium views, experiments, the CLI, plots, the benchmark) sits above the learners; this
package re-exports its main entry points.
"""

from agents import catalog, presets, schedules
from agents.base import Agent, BatchAgent, check_agent
from agents.baselines import HierarchicalGradientLeader, OracleSPSALeader, SGALeader
from agents.compose.runner import (
    BatchHistory,
    BatchRunner,
    History,
    NonFiniteError,
    Thinning,
    derive_seeds,
    play,
    run_batch,
)
from agents.compose.views import FollowerView, LeaderView
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
    "BatchHistory",
    "BatchRunner",
    "BestResponseFollower",
    "EntropicMirrorFollower",
    "FixedAgent",
    "FollowerView",
    "GradientAscentFollower",
    "HiCLeader",
    "HierarchicalGradientLeader",
    "History",
    "LeaderView",
    "NonFiniteError",
    "OracleSPSALeader",
    "SB3Follower",
    "SB3Leader",
    "SGALeader",
    "StochasticGradientFollower",
    "Thinning",
    "UniformAgent",
    "__version__",
    "catalog",
    "check_agent",
    "derive_seeds",
    "play",
    "presets",
    "run_batch",
    "schedules",
]

_LAZY = {"SB3Follower": "agents.sb3", "SB3Leader": "agents.sb3"}


def __getattr__(name: str):
    # The SB3 agents import torch (seconds); load them only when first used.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'agents' has no attribute {name!r}")
