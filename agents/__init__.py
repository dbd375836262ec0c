"""Leader and follower learners for hic_envs games.

Uncoupled agents learn only from their own payoffs and the other player's observed actions;
coupled baselines say so in their docstrings and set ``coupled = True``.
"""

from agents import presets, schedules
from agents.base import Agent
from agents.baselines import HierarchicalGradientLeader, OracleSPSALeader, SGALeader
from agents.followers import (
    BestResponseFollower,
    EntropicMirrorFollower,
    GradientAscentFollower,
    StochasticGradientFollower,
)
from agents.hic import AdaptiveCommitment, HiCLeader
from agents.runner import (
    BatchHistory,
    BatchRunner,
    History,
    Thinning,
    derive_seeds,
    play,
    run_batch,
)
from agents.stationary import FixedAgent, UniformAgent

__all__ = [
    "AdaptiveCommitment",
    "Agent",
    "BatchHistory",
    "BatchRunner",
    "BestResponseFollower",
    "EntropicMirrorFollower",
    "FixedAgent",
    "GradientAscentFollower",
    "HiCLeader",
    "HierarchicalGradientLeader",
    "History",
    "OracleSPSALeader",
    "SB3Follower",
    "SB3Leader",
    "SGALeader",
    "StochasticGradientFollower",
    "Thinning",
    "UniformAgent",
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
