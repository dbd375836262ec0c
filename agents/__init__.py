"""Leader and follower learners for hic_envs games.

Uncoupled agents learn only from their own payoffs and the other player's observed actions;
coupled baselines say so in their docstrings and set ``coupled = True``.
"""

from agents import schedules
from agents.base import Agent
from agents.followers import GradientAscentFollower
from agents.hic import AdaptiveCommitment, HiCLeader
from agents.runner import BatchHistory, History, derive_seeds, play, run_batch

__all__ = [
    "AdaptiveCommitment",
    "Agent",
    "BatchHistory",
    "GradientAscentFollower",
    "HiCLeader",
    "History",
    "derive_seeds",
    "play",
    "run_batch",
    "schedules",
]
