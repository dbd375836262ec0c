"""Scripted followers.

Every follower here is *uncoupled*: it knows its own payoff ``f2`` (through the game's
follower-side functions) and sees the leader's action at the stage just played, nothing of the
leader's payoff or learning rule. In the simultaneous stage game of :class:`~hic_envs.GameEnv`
a follower's action at stage ``t`` is chosen before it sees the leader's action at stage ``t``:
it reacts to what it observed at stage ``t - 1``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from agents.base import BatchAgent, SeedLike
from agents.rules import ascent_step, ascent_steps
from agents.schedules import Constant, ScheduleLike, ScheduleTable, as_schedule
from hic_envs.games.base import Game
from hic_envs.stage import check_noise_scale

__all__ = [
    "BestResponseFollower",
    "EntropicMirrorFollower",
    "GradientAscentFollower",
    "StochasticGradientFollower",
]


def _check_game(game: Any) -> Game:
    if not isinstance(game, Game):
        raise TypeError(f"game must be a hic_envs.games.Game, got {type(game).__name__}")
    return game


def _noise_scale(noise_std: Any) -> float:
    if isinstance(noise_std, bool | np.bool_) or not isinstance(noise_std, numbers.Real):
        raise TypeError(f"noise_std must be a number, got {noise_std!r}")
    v = float(noise_std)
    if not (np.isfinite(v) and v >= 0):
        raise ValueError(f"noise_std must be a finite number >= 0, got {noise_std!r}")
    check_noise_scale("noise_std", v)
    return v


def _repeat_reward_free(agent: BatchAgent, obs: Any, stages: int) -> None:
    """``observe_repeated`` of an agent that never reads its rewards: the observation is
    checked once and ``_observe`` called ``stages`` times (its rewards are NaN, unread)."""
    stages = agent._stage_count(stages)
    agent._require_reset()
    o = np.asarray(obs, dtype=np.float64)
    if o.shape != (agent._S, agent.obs_dim):
        agent._obs_shape_error(o, batched=True)
    r = np.full(agent._S, np.nan)
    observe = agent._observe
    for _ in range(stages):
        observe(r, o)


class _StepFollower(BatchAgent):
    """Shared plumbing of the followers that take one step per stage with a ``beta_t``
    schedule of the stage index ``t``."""

    state_attrs = ("_y", "_t")
    updates_all_rows = True

    def __init__(
        self,
        game: Game,
        step_size: ScheduleLike,
        *,
        seed: SeedLike,
        num_envs: int | None,
        init: ArrayLike | None,
    ) -> None:
        game = _check_game(game)
        super().__init__(
            game.follower_low, game.follower_high, num_envs=num_envs, seed=seed, obs_dim=game.d1
        )
        self.game = game
        self._init = init
        # The box (and a constant step) spread to the strategies' shape (S, d): a ufunc on
        # operands of one shape costs about half of one that broadcasts them, and this step
        # runs at every stage. The same values, so the same bits.
        shape = (self._S, self.dim)
        self._low_full = np.broadcast_to(self.low, shape).copy()
        self._high_full = np.broadcast_to(self.high, shape).copy()
        self.step_size = step_size

    @property
    def step_size(self):
        """``beta_t``: a schedule of the stage index (a number is a :class:`Constant`)."""
        return self._step_size

    @step_size.setter
    def step_size(self, value: Any) -> None:
        # What is derived from the schedule is derived again when it is replaced.
        self._step_size = as_schedule(value, "step_size")
        self._const_beta = self._step_size.value if isinstance(self._step_size, Constant) else None
        self._beta_full = (
            None if self._const_beta is None else np.full(self._low_full.shape, self._const_beta)
        )
        self._table: ScheduleTable | None = None  # the step sizes, tabulated (not state)

    def _reset(self) -> None:
        self._y = self._initial(self._init)
        self._t = 0

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self._y

    def _strategy(self) -> np.ndarray:
        return self._y

    def reward_free_stages(self) -> int:
        """Always: the step reads the follower's own gradient, never its reward."""
        return self.ALWAYS

    def observe_repeated(self, obs: ArrayLike, stages: int) -> None:
        """``stages`` steps against the same observed leader action ``obs``."""
        _repeat_reward_free(self, obs, stages)

    def _beta(self) -> float | np.ndarray:
        if self._beta_full is not None:
            return self._beta_full
        table = self._table
        if table is None:
            table = self._table = ScheduleTable(self._step_size, "step_size")
        return table.at(self._t)


class GradientAscentFollower(_StepFollower):
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
        step_size: ScheduleLike,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init: ArrayLike | None = None,
    ) -> None:
        super().__init__(game, step_size, seed=seed, num_envs=num_envs, init=init)

    def _gradient_given(self, x: np.ndarray):
        """``y -> `` the gradient this follower steps along, against observed action ``x``."""
        return self.game.follower_grad_given(x)

    def _gradient(self, x: np.ndarray) -> np.ndarray:
        return self._gradient_given(x)(self._y)

    def _observe(self, reward: np.ndarray, obs: np.ndarray) -> None:
        beta, low, high = self._beta(), self._low_full, self._high_full
        self._y = ascent_step(self._y, beta, self._gradient(obs), low, high)  # (21)
        self._t += 1
        self.updates += self._S

    def observe_repeated(self, obs: ArrayLike, stages: int) -> None:
        """``stages`` steps against the same observed leader action ``obs``: the game's
        gradient for that action is set up once (:meth:`~hic_envs.games.Game.follower_grad_given`)
        and a constant step runs in place (:func:`agents.rules.ascent_steps`); the values are
        those of ``stages`` calls of :meth:`observe_batch`, bit for bit."""
        cls = type(self)
        if cls._observe is not GradientAscentFollower._observe or (
            cls._gradient is not GradientAscentFollower._gradient
        ):
            _repeat_reward_free(self, obs, stages)  # a subclass changed the step: its own
            return
        stages = self._stage_count(stages)
        self._require_reset()
        o = np.asarray(obs, dtype=np.float64)
        if o.shape != (self._S, self.obs_dim):
            self._obs_shape_error(o, batched=True)
        if stages == 0:
            return
        grad = self._gradient_given(o)
        low, high = self._low_full, self._high_full
        if self._beta_full is not None:  # a constant step size
            self._y = ascent_steps(self._y, self._beta_full, grad, low, high, stages)
            self._t += stages
        else:  # a step-size schedule: one step at a time, each at its own beta_t
            y = self._y
            for _ in range(stages):
                y = ascent_step(y, self._beta(), grad(y), low, high)  # (21)
                self._t += 1
            self._y = y
        self.updates += self._S * stages


class StochasticGradientFollower(GradientAscentFollower):
    """Projected stochastic gradient ascent: Eq. (21) with a noisy gradient, as in Eq. (9).

    ``y_{t+1} = proj_Y(y_t + beta_t (grad_y f2(x_t, y_t) + w_t))`` with ``w_t ~ N(0,
    noise_std^2 I)`` drawn from the follower's own generator (seeded by :meth:`reset`). It
    models a follower that only has an unbiased estimate of its gradient (a policy-gradient
    learner, say). Uncoupled. With a constant step it does not converge to ``r(x)`` but
    fluctuates around it, with a spread of order ``noise_std sqrt(beta / (2 mu))`` per
    coordinate; a decaying ``beta_t`` removes the spread but slows tracking.

    Args:
        game: the game whose follower payoff it climbs.
        step_size: ``beta_t``, a schedule of the stage index or a number.
        noise_std: standard deviation of each gradient coordinate's noise (>= 0).
        seed: seed for ``y_0`` and the gradient noise.
        num_envs: ``None`` or the batch size ``S``.
        init: initial strategy ``y_0``.
    """

    def __init__(
        self,
        game: Game,
        step_size: ScheduleLike,
        noise_std: float,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init: ArrayLike | None = None,
    ) -> None:
        super().__init__(game, step_size, seed=seed, num_envs=num_envs, init=init)
        self.noise_std = _noise_scale(noise_std)

    def _gradient_given(self, x: np.ndarray):
        grad = self.game.follower_grad_given(x)
        if self.noise_std == 0.0:
            return grad
        assert self.np_random is not None  # reset() made it
        normal, scale = self.np_random.normal, self.noise_std

        def noisy(y: np.ndarray) -> np.ndarray:
            g = grad(y)
            return g + normal(0.0, scale, size=g.shape)  # w_t of Eq. (9)

        return noisy


class BestResponseFollower(BatchAgent):
    """An oracle follower: plays ``r(x)`` for the last leader action it observed.

    At every stage it plays ``game.best_response(x_{t-1})``, the exact best response to the
    leader action observed at the previous stage (``y_0``, before anything was observed, is
    ``init`` or uniform over ``Y``). It is an *oracle*: it computes ``r`` exactly instead of
    learning it, so it isolates the leader's learning from the follower's (zero tracking error
    once it has seen the leader's action). It still knows only its own payoff (``r`` is the
    argmax of ``f2``), so it is uncoupled.

    Which action it responds to: in a simultaneous stage game it can only respond to the
    leader action it last observed. Under Hi-C that is the committed action ``x~_n`` from the
    *second* stage of each interval on; at an interval's first stage it still plays
    ``r(x~_{n-1})``. So Hi-C against this follower needs ``k_n >= 2`` for ``y~_n = r(x~_n)``;
    with ``k_n = 1`` the leader measures ``f1(x~_n, r(x~_{n-1}))`` and learns the Nash
    direction instead.

    ``best_response`` is recomputed only for batch rows whose observed leader action changed,
    so a committing leader costs one best-response call per interval (which matters for games
    whose ``r`` is numeric).

    Args:
        game: the game whose best response it plays.
        seed: seed for ``y_0`` (uniform over ``Y`` unless ``init`` is given).
        num_envs: ``None`` or the batch size ``S``.
        init: initial strategy ``y_0``.
    """

    def __init__(
        self,
        game: Game,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init: ArrayLike | None = None,
    ) -> None:
        game = _check_game(game)
        super().__init__(
            game.follower_low, game.follower_high, num_envs=num_envs, seed=seed, obs_dim=game.d1
        )
        self.game = game
        self._init = init

    state_attrs = ("_y", "_last_x")
    updates_all_rows = True

    def _reset(self) -> None:
        self._y = self._initial(self._init)
        self._last_x: np.ndarray | None = None

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self._y

    def _strategy(self) -> np.ndarray:
        return self._y

    def reward_free_stages(self) -> int:
        """Always: it plays ``r`` of what it observed, never reading its reward."""
        return self.ALWAYS

    def observe_repeated(self, obs: ArrayLike, stages: int) -> None:
        """``stages`` stages against the same observed leader action ``obs``."""
        _repeat_reward_free(self, obs, stages)

    def _observe(self, reward: np.ndarray, obs: np.ndarray) -> None:
        if self._last_x is None:
            rows = np.arange(self._S)
        else:
            rows = np.flatnonzero(np.any(obs != self._last_x, axis=1))
        if rows.size:
            self._y = self._y.copy()
            self._y[rows] = np.clip(self.game.best_response(obs[rows]), self.low, self.high)
        self._last_x = obs.copy()
        self.updates += self._S


class EntropicMirrorFollower(_StepFollower):
    """Online mirror ascent with the entropic mirror map (exponentiated gradient).

    The follower's strategy ``y`` lives in its box ``Y``. Two settings:

    * ``simplex=False`` (default): ``Y`` must lie in the positive orthant (``low > 0``), and the
      mirror map is the unnormalised negative entropy ``psi(y) = sum_i (y_i log y_i - y_i)``,
      whose Bregman divergence is the generalised KL divergence. The OMD step is
      ``log y_{t+1} = log y_t + beta_t grad_y f2(x_t, y_t)`` followed by the Bregman
      projection onto ``Y``, which for a box is a clip (the divergence is separable and each
      coordinate's term is convex with its minimum at the unprojected point). This is the
      setting of the security game's attacker, whose strategy is a vector of positive attack
      weights: with ``f2 = sum_i y_i U_i - tau sum_i (y_i log y_i - y_i)`` the step reads
      ``log y_{t+1} = (1 - beta tau) log y_t + beta U``, a contraction to ``log r(x) = U /
      tau`` at rate ``1 - beta tau`` per stage whatever the scale of ``y``.
    * ``simplex=True``: the strategy is a probability vector (``Y`` must contain the simplex,
      i.e. ``low <= 0`` and ``high >= 1``) and the step is Hedge, ``y_{t+1} proportional to
      y_t exp(beta_t grad_y f2(x_t, y_t))`` (the Bregman projection onto the simplex under
      KL is the normalisation). ``y_0`` is the uniform distribution unless ``init`` is given.
      Use it for games whose follower payoff is meant for mixed strategies; note that the
      game's ``best_response`` is the argmax over the box ``Y``, not over the simplex.

    It uses only ``game.follower_grad`` (its own payoff): uncoupled. The paper names no-regret
    followers as the next case beyond gradient ascent; this is the standard no-regret learner
    for simplex strategies.

    Args:
        game: the game whose follower payoff it climbs.
        step_size: ``beta_t``, a schedule of the stage index or a number.
        simplex: play on the probability simplex (Hedge) instead of the positive box.
        seed: seed for ``y_0`` (uniform over ``Y`` unless ``init`` is given; the centre of the
            simplex when ``simplex=True``).
        num_envs: ``None`` or the batch size ``S``.
        init: initial strategy ``y_0``.

    Raises:
        ValueError: if ``Y`` does not fit the chosen setting.
    """

    def __init__(
        self,
        game: Game,
        step_size: ScheduleLike,
        *,
        simplex: bool = False,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init: ArrayLike | None = None,
    ) -> None:
        super().__init__(game, step_size, seed=seed, num_envs=num_envs, init=init)
        if not isinstance(simplex, bool | np.bool_):
            raise TypeError(f"simplex must be a bool, got {simplex!r}")
        self.simplex = bool(simplex)
        if self.simplex:
            if np.any(self.low > 0) or np.any(self.high < 1):
                raise ValueError(
                    "simplex=True needs a follower box containing the probability simplex "
                    f"(low <= 0, high >= 1), got low={self.low.tolist()}, high={self.high.tolist()}"
                )
        elif np.any(self.low <= 0):
            raise ValueError(
                "the entropic mirror map needs a follower box in the positive orthant "
                f"(low > 0), got low={self.low.tolist()}; use simplex=True for probability "
                "vectors"
            )
        if init is not None and self.simplex:
            y0 = np.asarray(init, dtype=np.float64)
            if np.any(y0 <= 0) or not np.allclose(y0.sum(axis=-1), 1.0):
                raise ValueError(
                    f"init must be a probability vector with positive entries, got {y0.tolist()}"
                )

    def _reset(self) -> None:
        if self.simplex and self._init is None:
            self._y = np.full((self._S, self.dim), 1.0 / self.dim)
        else:
            self._y = self._initial(self._init)
        self._t = 0

    def _observe(self, reward: np.ndarray, obs: np.ndarray) -> None:
        beta = self._beta()
        g = self.game.follower_grad(obs, self._y)
        if self.simplex:
            # Hedge: log-domain step, then KL projection onto the simplex (normalisation).
            z = np.log(self._y) + beta * g
            z -= z.max(axis=1, keepdims=True)
            w = np.exp(z)
            self._y = w / w.sum(axis=1, keepdims=True)
        else:
            # OMD with psi(y) = sum y log y - y: grad psi = log y; Bregman projection on a box
            # is a clip.
            self._y = np.clip(self._y * np.exp(beta * g), self.low, self.high)
        self._t += 1
        self.updates += self._S
