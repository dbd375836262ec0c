"""Gymnasium views of a game with an embedded partner: one env per view (:mod:`.single`) and
the vectorised views, Gymnasium ``VectorEnv`` and SB3 ``VecEnv`` (:mod:`.vector`).

This package re-exports :mod:`.single`'s public names; the vectorised views import
Stable-Baselines3 (and so torch), so they are imported from :mod:`.vector` itself.
"""

from agents.compose.views.single import FollowerView, LeaderView, follower_view, leader_view

__all__ = ["FollowerView", "LeaderView", "follower_view", "leader_view"]
