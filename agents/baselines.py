"""Baseline leaders Hi-C is judged against.

* :class:`SGALeader`: simultaneous gradient ascent, Eq. (1). Uncoupled; converges (where it
  converges) to a differential *Nash* equilibrium, not to the DSE.
* :class:`HierarchicalGradientLeader`: the two-timescale hierarchical gradient of Fiez et al.,
  Eq. (8). Coupled: it reads the follower's Hessians from the game.
* :class:`OracleSPSALeader`: SPSA on ``f1(x, r(x))`` with the true best response, Eq. (10).
  A coupled oracle, to separate Hi-C's tracking error from its SPSA noise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import BatchAgent, SeedLike
from agents.followers import _check_game, _noise_scale, _repeat_reward_free
from agents.hic import HiCLeader
from agents.rules import ascent_step
from agents.schedules import Constant, ScheduleLike, ScheduleTable, as_schedule
from hic_envs.games.base import Game

__all__ = ["HierarchicalGradientLeader", "OracleSPSALeader", "SGALeader"]


class _GradientLeader(BatchAgent):
    """A leader that takes one projected gradient step per stage along ``_direction``."""

    state_attrs: tuple[str, ...] = ("_x", "_t")
    updates_all_rows = True

    def __init__(
        self,
        game: Game,
        step_size: ScheduleLike,
        *,
        noise_std: float = 0.0,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init=None,
    ) -> None:
        game = _check_game(game)
        super().__init__(
            game.leader_low, game.leader_high, num_envs=num_envs, seed=seed, obs_dim=game.d2
        )
        self.game = game
        self.step_size = as_schedule(step_size, "step_size")
        self._const_alpha = self.step_size.value if isinstance(self.step_size, Constant) else None
        self._table: ScheduleTable | None = None  # the step sizes, tabulated (not state)
        self.noise_std = _noise_scale(noise_std)
        self._init = init

    def _reset(self) -> None:
        self._x = self._initial(self._init)
        self._t = 0

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self._x

    def _strategy(self) -> np.ndarray:
        return self._x

    def _direction(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def reward_free_stages(self) -> int:
        """Always: the step reads the game's gradient at the observed action, not rewards."""
        return self.ALWAYS

    def observe_repeated(self, obs, stages: int) -> None:
        """``stages`` steps against the same observed follower action ``obs``."""
        _repeat_reward_free(self, obs, stages)

    def _observe(self, reward: np.ndarray, obs: np.ndarray) -> None:
        alpha = self._const_alpha
        if alpha is None:
            table = self._table
            if table is None or table.schedule is not self.step_size:
                table = self._table = ScheduleTable(self.step_size, "step_size")
            alpha = table.at(self._t)
        g = self._direction(obs)
        if self.noise_std > 0.0:
            assert self.np_random is not None  # reset() made it
            g = g + self.np_random.normal(0.0, self.noise_std, size=g.shape)  # w_{1,t}
        self._x = ascent_step(self._x, alpha, g, self.low, self.high)
        self._t += 1
        self.updates += self._S


class SGALeader(_GradientLeader):
    """Simultaneous gradient ascent for the leader, Eq. (1). **Uncoupled.**

    ``x_{t+1} = proj_X(x_t + alpha_t (grad_x f1(x_t, y_t) + w_t))`` where ``y_t`` is the follower
    action it observed at the stage just played. It uses only the gradient of its own payoff
    and treats the follower's action as fixed, so it ignores its influence on the follower:
    with a gradient-ascent follower the pair can converge only to a point where
    ``grad_x f1 = 0`` and ``grad_y f2 = 0``, a differential Nash equilibrium, which differs
    from the DSE whenever ``grad_y f1 . grad_x r != 0`` there (and does not exist at all in
    some games).

    Args:
        game: the game (only ``game.leader_grad`` is used: the leader's own payoff).
        step_size: ``alpha_t``, a schedule of the stage index or a number.
        noise_std: standard deviation of Gaussian noise added to each gradient coordinate
            (the ``w_{1,t}`` of Eq. 8; 0 for exact gradients).
        seed: seed for ``x_0`` and the noise.
        num_envs: ``None`` or the batch size ``S``.
        init: initial strategy ``x_0`` (uniform over ``X`` when None).
    """

    coupled = False

    def _direction(self, y: np.ndarray) -> np.ndarray:
        return self.game.leader_grad(self._x, y)  # Eq. (1)


class HierarchicalGradientLeader(_GradientLeader):
    """The two-timescale hierarchical gradient leader of Fiez et al., Eq. (8). **Coupled.**

    ``x_{t+1} = proj_X(x_t + alpha_t (D(x_t, y_t) + w_t))`` with ``D`` the hierarchical gradient
    (``game.total_leader_grad``, the chain rule corrected as in the games issue)::

        D(x, y) = grad_x f1 - (grad_yx f2)^T (grad_yy f2)^{-T} grad_y f1

    evaluated at the follower action ``y_t`` it observed. At ``y = r(x)`` this is the gradient
    of ``f1(x, r(x))``; with a follower that tracks ``r`` on a faster timescale (Eq. 9 with
    ``alpha_t << beta_t``) the leader converges to a differential Stackelberg equilibrium.
    It reads ``grad_yy f2`` and ``grad_yx f2``, the *follower's* second derivatives, from the
    game: coupled by design (``coupled = True``).

    Args:
        game: the game (``game.total_leader_grad``).
        step_size: ``alpha_t``, a schedule of the stage index or a number; keep it well below
            the follower's step.
        noise_std: standard deviation of the gradient noise ``w_{1,t}`` (0 for exact).
        seed: seed for ``x_0`` and the noise.
        num_envs: ``None`` or the batch size ``S``.
        init: initial strategy ``x_0`` (uniform over ``X`` when None).
    """

    coupled = True

    def _direction(self, y: np.ndarray) -> np.ndarray:
        return self.game.total_leader_grad(self._x, y)  # D(x_t, y_t), Eq. (7)-(8)


class OracleSPSALeader(HiCLeader):
    """Single-measurement SPSA on ``f1(x, r(x))`` with the true best response, Eq. (10).
    **Coupled** (an oracle).

    It is :class:`HiCLeader` with one change: at the end of each interval it measures
    ``f1(x~_n, r(x~_n)) + w`` instead of ``f1(x~_n, y~_n) + w``. It computes it from what it
    observed, replacing the follower's last action by the true best response::

        s_oracle = s_observed - f1(x~_n, y~_n) + f1(x~_n, r(x~_n))

    so the payoff noise ``w`` of the env is kept and only the tracking error (the ``eta_n`` of
    Eq. 16-17) is removed. Comparing it with Hi-C on the same schedules separates the error
    due to the follower's tracking from the SPSA noise. Everything else (the schedules, the
    baseline / two-sided options, the SPSA step of Eq. 11) is HiCLeader's own code. It needs
    no commitment (``commitment=1``, one measurement per stage, by default). It reads ``r``
    from the game: coupled (``coupled = True``).

    Args:
        game: the game (``game.best_response`` and ``game.leader_payoff``).
        step_size, perturbation: ``alpha_n``, ``delta_n``, as for :class:`HiCLeader`.
        commitment: stages per measurement (default 1).
        **kwargs: any other :class:`HiCLeader` argument except ``average_last``.
    """

    coupled = True

    def __init__(
        self,
        game: Game,
        step_size: ScheduleLike,
        perturbation: ScheduleLike,
        commitment: ScheduleLike = 1,
        **kwargs: Any,
    ) -> None:
        game = _check_game(game)
        if kwargs.get("average_last") is not None:
            raise ValueError(
                "average_last has no meaning for the oracle: its measurement does not depend "
                "on the follower's recent actions"
            )
        super().__init__(game, step_size, perturbation, commitment, **kwargs)
        self.game = game

    def _measurement(self, rows: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
        xt = self._xt[rows]
        # Eq. (10): f1(x~, r(x~)) + w, keeping the observed noise w = s - f1(x~, y~).
        return s - self.game.leader_payoff(xt, y) + self.game.hierarchical_payoff(xt)
