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
from agents.runner import BatchHistory, History, derive_seeds, play, run_batch

__all__ = [
    "AdaptiveCommitment",
    "Agent",
    "BatchHistory",
    "BestResponseFollower",
    "EntropicMirrorFollower",
    "GradientAscentFollower",
    "HiCLeader",
    "HierarchicalGradientLeader",
    "History",
    "OracleSPSALeader",
    "SGALeader",
    "StochasticGradientFollower",
    "derive_seeds",
    "play",
    "presets",
    "run_batch",
    "schedules",
]
