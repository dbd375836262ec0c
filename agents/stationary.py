"""Stationary agents: partners that do not learn, for either role.

Useful as the fixed partner inside a Gymnasium view, for example to train a follower policy
against a leader that holds still (:class:`FixedAgent`) or that covers its whole strategy box
(:class:`UniformAgent`, so the policy learns the best response everywhere).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from agents.base import BatchAgent, SeedLike, box_of

__all__ = ["FixedAgent", "UniformAgent"]


class FixedAgent(BatchAgent):
    """Plays one strategy at every stage and never learns.

    Args:
        action_space: the agent's strategy box: a float64 Box (``GameEnv.action_space(agent)``)
            or a game, with ``role``.
        strategy: the point of the box to play, shape ``(d,)``.
        num_envs: ``None`` or the batch size ``S`` (every row plays ``strategy``).
        role: ``"leader"`` or ``"follower"`` when ``action_space`` is a game.
    """

    state_attrs = ("_x",)

    def __init__(
        self,
        action_space: Any,
        strategy: ArrayLike,
        *,
        num_envs: int | None = None,
        role: str | None = None,
    ):
        super().__init__(*box_of(action_space, role), num_envs=num_envs)
        self._point = self._check_point(strategy)

    def _check_point(self, strategy) -> np.ndarray:
        try:
            s = np.asarray(strategy, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"strategy must be an array of numbers, got {strategy!r}") from None
        if s.shape != (self.dim,):
            raise ValueError(f"strategy must have shape ({self.dim},), got shape {s.shape}")
        if not np.all(np.isfinite(s)) or np.any(s < self.low) or np.any(s > self.high):
            raise ValueError(
                f"strategy must lie in the box [{self.low.tolist()}, {self.high.tolist()}], "
                f"got {s.tolist()}"
            )
        return s

    def _reset(self) -> None:
        self._x = np.broadcast_to(self._point, (self._S, self.dim)).copy()

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self._x

    def _strategy(self) -> np.ndarray:
        return self._x


class UniformAgent(BatchAgent):
    """Plays a fresh uniform draw from its box every ``hold`` stages and never learns.

    Args:
        action_space: the agent's strategy box: a float64 Box or a game, with ``role``.
        hold: stages each draw is held for (>= 1).
        seed: seed of the draws (``reset(seed=...)`` overrides it).
        num_envs: ``None`` or the batch size ``S`` (independent draws per row).
        role: ``"leader"`` or ``"follower"`` when ``action_space`` is a game.
    """

    state_attrs = ("_x", "_t")

    def __init__(
        self,
        action_space: Any,
        hold: int = 1,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        role: str | None = None,
    ):
        super().__init__(*box_of(action_space, role), num_envs=num_envs, seed=seed)
        if isinstance(hold, bool) or not isinstance(hold, (int, np.integer)) or hold < 1:
            raise ValueError(f"hold must be a positive integer, got {hold!r}")
        self.hold = int(hold)

    def _reset(self) -> None:
        self._x = self._sample_uniform()
        self._t = 0

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self._x

    def _observe(self, reward: np.ndarray, obs: np.ndarray) -> None:
        self._t += 1
        if self._t % self.hold == 0:
            self._x = self._sample_uniform()

    def _strategy(self) -> np.ndarray:
        return self._x
