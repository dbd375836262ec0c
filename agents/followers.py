"""Scripted followers."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Agent, SeedLike
from agents.schedules import as_schedule, evaluate
from hic_envs.games.base import Game

__all__ = ["GradientAscentFollower"]


class GradientAscentFollower(Agent):
    """Projected gradient ascent on the follower's own payoff, Eq. (21).

    ``y_{t+1} = proj_Y(y_t + beta_t grad_y f2(x_t, y_t))`` where ``x_t`` is the leader action it
    observed at the stage just played. It knows only its own payoff (``game.follower_grad``):
    uncoupled. With a constant ``beta <= 1 / K2`` and a ``mu``-strongly concave payoff it
    contracts to ``r(x)`` at rate ``(1 - beta mu)^{1/2}`` per stage (Proposition 4.9).

    Args:
        game: the game whose follower payoff it climbs.
        step_size: ``beta_t``, a schedule of the stage index or a number.
        seed: seed for ``y_0`` (uniform over ``Y`` unless ``init`` is given).
        num_envs: ``None`` or the batch size ``S``.
        init: initial strategy ``y_0``.
    """

    def __init__(
        self,
        game: Game,
        step_size: Any,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init=None,
    ) -> None:
        if not isinstance(game, Game):
            raise TypeError(f"game must be a hic_envs.games.Game, got {type(game).__name__}")
        super().__init__(game.follower_low, game.follower_high, num_envs=num_envs, seed=seed)
        self.game = game
        self.step_size = as_schedule(step_size, "step_size")
        self._const_beta = float(self.step_size(0)) if hasattr(self.step_size, "value") else None
        self._init = init

    def _reset(self) -> None:
        self._y = self._initial(self._init)
        self._t = 0

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self._y

    def _strategy(self) -> np.ndarray:
        return self._y

    def _gradient(self, x: np.ndarray) -> np.ndarray:
        return self.game.follower_grad(x, self._y)

    def _observe(self, reward: np.ndarray, obs: np.ndarray) -> None:
        beta = self._const_beta
        if beta is None:
            beta = float(evaluate(self.step_size, np.array([self._t]), "step_size")[0])
        # Eq. (21), projected onto Y.
        self._y = np.clip(self._y + beta * self._gradient(obs), self.low, self.high)
        self._t += 1
        self.updates += self._S
