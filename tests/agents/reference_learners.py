"""The learners as they were before the rule-set refactor (issue 18): a FROZEN REFERENCE.

Verbatim copies of ``agents/followers.py``, ``agents/hic.py``, ``agents/baselines.py``,
``agents/lola.py`` and the rules they called (``agents/rules/hic.py``, ``agents/rules/gradient.py``)
at commit eb3f88f, joined into one module (cross-module imports replaced by the names defined
here). Do not edit: ``tests/agents/test_rule_sets.py`` checks that the rule-set learners of the
library reproduce these classes bit for bit, in the same process. Only ``agents.base``
(``BatchAgent``, ``box_of``), ``agents.schedules`` and ``agents.presets`` are shared with the
library.
"""

# ruff: noqa
from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from agents.base import BatchAgent, SeedLike, box_of
from agents.presets import gradient_leader_step, hic_leader_kwargs
from agents.schedules import (
    MAX_COMMITMENT,
    Constant,
    PowerLaw,
    ScheduleTable,
    as_schedule,
    check_spsa_schedules,
)
from hic_envs.games.base import Game


def namespace(*arrays):
    return np


def commit(x: Any, sign: Any, delta: Any, Delta: Any, low: Any, high: Any) -> Any:
    """Alg. 1, line 5: the committed strategy ``x~_n = proj_X(x_n + sign delta_n Delta_n)``.

    Args:
        x: mean strategies ``(S, d)``.
        sign: ``(S,)``, +1 (or -1 for the second half of a two-sided update).
        delta: ``(S,)`` perturbation sizes ``delta_n``.
        Delta: ``(S, d)`` perturbation directions in ``{-1, 1}^d``.
        low, high: the box ``X`` ``(d,)``.
    """
    xp = namespace(x, Delta)
    return xp.clip(x + (sign * delta)[:, None] * Delta, low, high)


def spsa_step(x: Any, alpha: Any, g_scale: Any, delta: Any, Delta: Any, low: Any, high: Any) -> Any:
    """Eq. (11): ``x_{n+1}^i = proj_X(x_n^i + alpha_n s_n / (delta_n Delta_n^i))``.

    Args:
        x: mean strategies ``(S, d)``.
        alpha: ``(S,)`` step sizes ``alpha_n``.
        g_scale: ``(S,)`` the measured payoff ``s_n`` (less the baseline, or the two-sided
            half difference).
        delta, Delta: the interval's perturbation, ``(S,)`` and ``(S, d)``.
        low, high: the box ``X``.
    """
    xp = namespace(x, Delta)
    coef = alpha * g_scale / delta
    return xp.clip(x + coef[:, None] / Delta, low, high)


def baseline_update(b: Any, ready: Any, s: Any, lam: float) -> tuple[Any, Any]:
    """The payoff baseline: ``(g_scale, b_new)`` with ``g_scale = s - b`` (meaningful where
    ``ready``) and ``b_new`` the moving average ``lam b + (1 - lam) s`` where ``ready``, else
    ``s`` (the first interval initialises it)."""
    xp = namespace(b, s)
    return s - b, xp.where(ready, lam * b + (1 - lam) * s, s)


def ascent_step(y: Any, beta: Any, grad: Any, low: Any, high: Any) -> Any:
    """One projected gradient-ascent step, Eq. (21): ``proj_Y(y + beta * grad)``.

    Args:
        y: the strategies ``(S, d)``.
        beta: the step size (a number or an array broadcasting against ``y``).
        grad: ``grad_y f2(x, y)`` ``(S, d)`` (with any gradient noise already added).
        low, high: the box ``Y`` ``(d,)``.
    """
    xp = namespace(y, grad)
    # The projection as two element-wise functions (np.clip's values without its wrapper's
    # per-call cost: this runs every stage).
    return xp.minimum(xp.maximum(y + beta * grad, low), high)


def _spread(v: Any, y: np.ndarray) -> np.ndarray:
    """``v`` as an array of ``y``'s shape and dtype (itself if it is one already)."""
    if type(v) is np.ndarray and v.shape == y.shape and v.dtype == y.dtype:
        return v
    return np.broadcast_to(np.asarray(v, y.dtype), y.shape).copy()


def ascent_steps(
    y: np.ndarray,
    beta: float | np.ndarray,
    grad: Callable[[np.ndarray], np.ndarray],
    low: np.ndarray,
    high: np.ndarray,
    stages: int,
) -> np.ndarray:
    """``stages`` steps of :func:`ascent_step` with one step size and one gradient function
    ``grad(y)`` (the follower's gradient against one observed leader action), in NumPy.

    The same operations as ``stages`` calls of :func:`ascent_step`, so the same bits, done
    in place on two fresh buffers (neither ``y`` nor any array ``grad`` returns is written):
    the NumPy engine's fast-forward runs this loop for every quiet stage. The step size and
    the box are spread to ``y``'s shape first: a ufunc on operands of one shape costs about
    half of one that broadcasts a ``(d,)`` bound or converts a Python float, on small batches.
    """
    bufs = (np.empty_like(y), np.empty_like(y))
    beta, low, high = (_spread(v, y) for v in (beta, low, high))
    mul, add, lo, hi = np.multiply, np.add, np.maximum, np.minimum
    for i in range(stages):
        out = bufs[i & 1]
        mul(beta, grad(y), out=out)
        add(y, out, out=out)
        lo(out, low, out=out)
        y = hi(out, high, out=out)
    return y


# -------------------- agents/followers.py


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
        self, game: Game, step_size: Any, *, seed: SeedLike, num_envs: int | None, init
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

    def observe_repeated(self, obs, stages: int) -> None:
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
        step_size: Any,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init=None,
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

    def observe_repeated(self, obs, stages: int) -> None:
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
        if self._const_beta is not None:
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
        step_size: Any,
        noise_std: float,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init=None,
    ) -> None:
        super().__init__(game, step_size, seed=seed, num_envs=num_envs, init=init)
        self.noise_std = _noise_scale(noise_std)

    def _gradient_given(self, x: np.ndarray):
        grad = self.game.follower_grad_given(x)
        if self.noise_std == 0.0:
            return grad
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
        self, game: Game, *, seed: SeedLike = None, num_envs: int | None = None, init=None
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

    def observe_repeated(self, obs, stages: int) -> None:
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
        step_size: Any,
        *,
        simplex: bool = False,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init=None,
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


# -------------------- agents/hic.py


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclasses.dataclass(frozen=True)
class AdaptiveCommitment:
    """End a commitment interval once the follower has settled (beyond the paper).

    The interval of update ``n`` ends at the first stage ``j >= min_length`` of the interval at
    which the follower's observed action moved by less than ``tol_n * delta_n`` (max-norm)
    since the interval's previous stage, and at stage ``max_length`` at the latest. It uses
    only what the leader observes, so the leader stays uncoupled and needs neither ``beta``
    nor ``mu``.

    Movement is only ever measured between two stages of the *same* interval, and the earliest
    end is the interval's second stage: in a simultaneous stage game the follower's action at
    an interval's first stage was chosen before it saw ``x~_n``, so only from the second stage
    on has it reacted to the new commitment. (Comparing the first stage with the previous
    interval's last one would end the interval before the follower reacted at all, which
    drives the leader towards the Nash equilibrium.)

    What it guarantees: for a follower whose distance to ``r(x~_n)`` contracts by ``rho``
    per stage, a move below ``tol_n delta_n`` means a remaining distance of about
    ``tol_n delta_n rho / (1 - rho)``, so ``epsilon_n / delta_n ~ tol_n / (1 - rho)``. With a
    constant ``tol`` that ratio is bounded but does not vanish: the bias term ``eta_n`` of
    Eq. (16-19) stays ``O(tol / (1 - rho))`` and the leader settles off the DSE, towards the
    Nash equilibrium. A decaying ``tol_n`` (the default, ``0.01 / (n + 1)``) makes the ratio
    vanish as Assumption 4.5 asks, for any contraction rate: the interval then grows like
    ``ln(n) / (1 - rho)``, as Corollary 4.11's ``k_n`` does with ``p = 1``, without the leader
    knowing ``rho = 1 - beta mu``. A noisy follower (whose steps are not a contraction) can
    look settled at a random dip of its noise; see ``scripts/adaptive_commitment.py`` for
    measurements of both.

    Attributes:
        tol: settling tolerance relative to ``delta_n``: a number or a schedule of the
            update index ``n`` (> 0). Default ``PowerLaw(0.01, 1.0)``, i.e. ``0.01 / (n + 1)``.
        min_length: fewest stages per interval (>= 2, see above).
        max_length: most stages per interval (>= min_length).
    """

    tol: Any = PowerLaw(0.01, 1.0)
    min_length: int = 2
    max_length: int = 10_000

    def __post_init__(self) -> None:
        object.__setattr__(self, "tol", as_schedule(self.tol, "tol"))
        object.__setattr__(self, "min_length", _positive_int("min_length", self.min_length))
        object.__setattr__(self, "max_length", _positive_int("max_length", self.max_length))
        if self.min_length < 2:
            raise ValueError(
                f"min_length must be >= 2, got {self.min_length}: the follower's action at an "
                "interval's first stage was chosen before it saw the new commitment, so "
                "settling can only be judged from the second stage on"
            )
        if self.max_length > MAX_COMMITMENT:
            raise ValueError(
                f"max_length={self.max_length} exceeds 2**62 stages, the largest interval "
                "that fits in int64 stage counters"
            )
        if self.max_length < self.min_length:
            raise ValueError(
                f"max_length={self.max_length} must be >= min_length={self.min_length}"
            )


class HiCLeader(BatchAgent):
    """Hi-C: the uncoupled leader of Algorithm 1 (Loftin et al.).

    For update ``n = 0, 1, ...`` the leader samples ``Delta_n`` uniformly from ``{-1, 1}^d1``,
    commits to ``x~_n = x_n + delta_n Delta_n`` for ``k_n`` stages while the follower adapts,
    and then takes the one-measurement SPSA step of Eq. (11)::

        x_{n+1}^i = proj_X( x_n^i + alpha_n * s_n / (delta_n * Delta_n^i) )

    where ``s_n`` is the payoff observed at the last stage of the interval (so ``y~_n`` is the
    follower's last action). It uses nothing but its own observed payoffs: it never sees a game
    object. The schedules are indexed by the update index ``n``.

    Options beyond the paper (all off by default, so the default is Algorithm 1 exactly). Each
    keeps the gradient estimate unbiased:

    * ``baseline=lam``: subtract ``b_n``, an exponential moving average (weight ``lam``) of past
      interval payoffs, from ``s_n``. ``b_n`` is fixed before ``Delta_n`` is drawn and
      ``E[1 / Delta_n^i] = 0``, so ``E[b_n / (delta_n Delta_n^i)] = 0``: the mean of the update
      is unchanged and only its variance falls (the payoff *level* ``f1(x_n, r(x_n))``, which
      the plain estimate divides by ``delta_n``, is removed). The first interval only
      initialises ``b`` and is not an update (no step; ``n`` stays 0). The published Hi-C code
      uses ``lam = 0.9``.
    * ``average_last=m``: use the mean payoff of the last ``m`` stages of the interval instead
      of the last one. Every stage of the window plays ``x~_n``, so the mean is an estimate of
      ``f1(x~_n, .)`` against the follower's recent actions; its bias is the tracking error of
      those stages (Eq. 17, slightly larger than at the last stage), and with payoff noise its
      variance falls by up to ``m``. Works with adaptive commitment too (the last ``m`` stages
      before the adaptive end).
    * ``two_sided=True``: antithetic SPSA. Two intervals per update, at ``x_n + delta_n
      Delta_n`` and ``x_n - delta_n Delta_n``, and the step ``alpha_n (s+ - s-) / (2 delta_n
      Delta_n^i)``. The ``f1(x_n, r(x_n))`` term cancels exactly, so the estimate is unbiased
      up to ``O(delta_n^2)`` and its variance no longer scales with the payoff's magnitude.
      Each update costs two intervals.
    * ``commitment=AdaptiveCommitment(...)``: end each interval once the follower's observed
      action has settled (see :class:`AdaptiveCommitment`).
    * ``burn_in=m``: the first ``m`` intervals make no step. They play ``x_0 + delta Delta``
      with a fresh ``Delta`` each, feed the baseline (when on) and advance the interval count,
      but leave ``x`` and ``n`` alone. Nothing depends on their ``Delta``, so the estimate stays
      unbiased. The published Hi-C code burns in this way (``burn_in=50`` there, which makes 49
      intervals without an update: its counter is tested after it is advanced).
    * ``baseline_init=b0``: start the baseline at ``b0`` instead of at the first interval's
      payoff; the first interval is then an update (unless burnt in). ``b0`` is fixed before
      any ``Delta`` is drawn, so the estimate stays unbiased. The published code starts at 0.
    * ``interval_schedules=True``: index ``delta`` and ``k`` (and an adaptive commitment's
      ``tol``) by the number of intervals completed, burn-in and baseline warm-up intervals
      included, instead of by the update index ``n``; ``alpha`` stays indexed by ``n``. This
      is how the published code counts (its perturbation and commitment schedules advance
      every interval, its step size only on updates). Its 1-based counters need no option:
      :class:`~agents.schedules.PowerLaw` and :class:`~agents.schedules.LogLinear` are written
      in ``n + 1``.

    Args:
        action_space: the leader's strategy box: a float64 ``gymnasium.spaces.Box`` (the
            env's ``action_space("leader_0")``) or a game, of which only the leader's box is
            read (the leader never sees the game's payoffs). :meth:`for_game` adds the
            game's preset schedules.
        step_size: ``alpha_n``, a schedule or a number.
        perturbation: ``delta_n``, a schedule or a number.
        commitment: ``k_n``, a schedule or a positive integer, or an
            :class:`AdaptiveCommitment` (beyond the paper).
        seed: seed of the leader's generator (``Delta_n`` and ``x_0``).
        num_envs: ``None`` for one leader, or ``S`` to run ``S`` leaders in lockstep.
        init: the initial mean strategy ``x_0``; sampled uniformly from ``X`` when None
            (Algorithm 1, line 2).
        baseline: moving-average weight ``lam`` in ``[0, 1)``, or None (off).
        average_last: ``m >= 1`` stages to average over, or None (off: last stage only).
        two_sided: use the antithetic two-interval estimate.
        burn_in: number of initial intervals that make no step (>= 0; default 0).
        baseline_init: the baseline's initial value, or None (the first interval's payoff).
            Needs ``baseline``.
        interval_schedules: index ``delta`` and ``k`` by intervals completed, not updates.
        check_assumptions: warn when ``(alpha_n, delta_n)`` break Assumption 4.4.

    The perturbed strategy is clipped to ``X`` (the env would project it anyway); near the
    boundary the clipped perturbation makes the estimate biased, so choose ``X`` with the
    solution at least ``delta_n`` inside. The mean strategy is projected onto ``X`` after each
    step.

    Cost: the leader does array work only at *interval events* (the last stage of an
    interval, the stages of an ``average_last`` window, and, with adaptive commitment, the
    stages from ``min_length - 1`` on); on every other stage :meth:`observe` only counts.
    """

    def __init__(
        self,
        action_space: Any,
        step_size: Any,
        perturbation: Any,
        commitment: Any,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init=None,
        baseline: float | None = None,
        average_last: int | None = None,
        two_sided: bool = False,
        burn_in: int = 0,
        baseline_init: float | None = None,
        interval_schedules: bool = False,
        check_assumptions: bool = True,
    ) -> None:
        super().__init__(*box_of(action_space, "leader"), num_envs=num_envs, seed=seed)
        self.step_size = as_schedule(step_size, "step_size")
        self.perturbation = as_schedule(perturbation, "perturbation")
        if isinstance(commitment, AdaptiveCommitment):
            self.commitment = commitment
        else:
            if isinstance(commitment, (float, np.floating)) and not float(commitment).is_integer():
                raise ValueError(f"commitment must be a whole number of stages, got {commitment!r}")
            self.commitment = as_schedule(commitment, "commitment")
        if baseline is not None:
            if isinstance(baseline, bool) or not isinstance(
                baseline, (int, float, np.integer, np.floating)
            ):
                raise TypeError(f"baseline must be None or a number in [0, 1), got {baseline!r}")
            if not (0.0 <= float(baseline) < 1.0):
                raise ValueError(f"baseline must be None or a weight in [0, 1), got {baseline!r}")
        if average_last is not None:
            average_last = _positive_int("average_last", average_last)
        self.baseline = None if baseline is None else float(baseline)
        self.average_last = average_last
        if not isinstance(two_sided, bool | np.bool_):
            raise TypeError(f"two_sided must be a bool, got {two_sided!r}")
        self.two_sided = bool(two_sided)
        if self.two_sided and self.baseline is not None:
            raise ValueError(
                "baseline has no effect with two_sided=True (the payoff level cancels in "
                "s+ - s-); pass one or the other"
            )
        if isinstance(burn_in, bool) or not isinstance(burn_in, (int, np.integer)) or burn_in < 0:
            raise ValueError(f"burn_in must be a non-negative integer, got {burn_in!r}")
        self.burn_in = int(burn_in)
        if baseline_init is not None:
            if self.baseline is None:
                raise ValueError("baseline_init needs a baseline weight (baseline=lam)")
            if isinstance(baseline_init, bool) or not isinstance(
                baseline_init, (int, float, np.integer, np.floating)
            ):
                raise TypeError(f"baseline_init must be None or a number, got {baseline_init!r}")
            if not np.isfinite(baseline_init):
                raise ValueError(f"baseline_init must be finite, got {baseline_init!r}")
        self.baseline_init = None if baseline_init is None else float(baseline_init)
        self.interval_schedules = bool(interval_schedules)
        if self.two_sided and (self.burn_in or self.interval_schedules):
            raise ValueError(
                "burn_in and interval_schedules are not defined with two_sided=True (an "
                "antithetic pair must share delta_n); pass one or the other"
            )
        self._init = init
        if check_assumptions:
            check_spsa_schedules(self.step_size, self.perturbation)
        self._adaptive = isinstance(self.commitment, AdaptiveCommitment)
        self._tables: dict[str, ScheduleTable] = {}
        attrs = ["_x", "_n", "_t", "_start", "_k", "_delta", "_Delta", "_xt", "_sign"]
        attrs += ["_s_plus", "_b", "_b_ready", "_next_event", "_j"]
        if self.average_last is not None:
            attrs += ["_ring", "_watch_from"]
        if self._adaptive:
            attrs += ["_threshold", "_prev_obs", "_prev_t"]
        #: The learning state (see :meth:`BatchAgent.state_dict`).
        self.state_attrs = tuple(attrs)

    @classmethod
    def for_game(cls, game: Any, **overrides: Any) -> HiCLeader:
        """Hi-C on ``game``'s leader box with the game's preset schedules
        (:func:`agents.presets.hic_leader_kwargs`); ``overrides`` replace or add arguments
        (e.g. ``num_envs=32, seed=0``)."""
        kwargs = dict(hic_leader_kwargs(game))
        if overrides.get("two_sided"):
            kwargs.pop("baseline", None)  # the payoff level cancels in a two-sided estimate
        kwargs.update(overrides)
        return cls(game, **kwargs)

    # ------------------------------------------------------------------ state
    def _reset(self) -> None:
        S, d = self._S, self.dim
        self._x = self._initial(self._init)  # mean strategies x_n, (S, d)
        self._n = np.zeros(S, dtype=np.int64)  # updates made per row
        self._t = 0  # stages observed
        self._start = np.zeros(S, dtype=np.int64)  # stage at which each interval began
        self._k = np.zeros(S, dtype=np.int64)  # length (or max length) of each interval
        self._delta = np.zeros(S)
        self._Delta = np.zeros((S, d))
        self._xt = np.zeros((S, d))  # the strategy committed to, x~_n
        self._sign = np.ones(S)  # +1 / -1: which half of a two-sided update
        self._s_plus = np.zeros(S)
        self._b = np.zeros(S)
        self._b_ready = np.zeros(S, dtype=bool)
        if self.baseline_init is not None:
            self._b[:] = self.baseline_init
            self._b_ready[:] = True
        self._j = np.zeros(S, dtype=np.int64)  # intervals completed per row
        m = self.average_last
        if m is not None:
            self._ring = np.zeros((S, m))  # payoffs of the window, slot = stage-in-interval % m
            self._watch_from = np.zeros(S, dtype=np.int64)  # first stage-in-interval recorded
        if self._adaptive:
            self._threshold = np.zeros(S)  # tol_n * delta_n
            self._prev_obs: np.ndarray | None = None  # follower's action at stage _prev_t
            self._prev_t = -1
        self._begin(np.arange(S), new_direction=True)
        self._schedule_next_event()

    def _begin(self, rows: np.ndarray, new_direction: bool) -> None:
        """Start a commitment interval for ``rows`` at the current stage."""
        # The index of delta and k: updates made, or intervals completed (interval_schedules).
        n = self._j[rows] if self.interval_schedules else self._n[rows]
        if new_direction:
            # Alg. 1, line 4: Delta_n uniform on {-1, 1}^d1.
            self._Delta[rows] = (
                2.0 * self.np_random.integers(0, 2, size=(rows.size, self.dim)) - 1.0
            )
            self._sign[rows] = 1.0
        self._delta[rows] = self._values("perturbation", self.perturbation, n)
        if self._adaptive:
            ac = self.commitment
            self._k[rows] = ac.max_length
            self._threshold[rows] = self._values("tol", ac.tol, n) * self._delta[rows]
            first_end = ac.min_length
        else:
            # Whole numbers of stages below 2**62 (refused otherwise, naming the index).
            self._k[rows] = self._table("commitment", self.commitment).lengths(n)
            first_end = self._k[rows]
        if self.average_last is not None:
            self._ring[rows] = 0.0
            self._watch_from[rows] = np.maximum(first_end - self.average_last + 1, 1)
        self._start[rows] = self._t
        self._xt[rows] = commit(  # Alg. 1, line 5
            self._x[rows],
            self._sign[rows],
            self._delta[rows],
            self._Delta[rows],
            self.low,
            self.high,
        )

    def _values(self, name: str, schedule: Any, n: np.ndarray) -> np.ndarray:
        """``evaluate(schedule, n, name)`` through a table kept per schedule (not state: it
        holds only the schedule's values)."""
        return self._table(name, schedule)(n)

    def _table(self, name: str, schedule: Any) -> ScheduleTable:
        table = self._tables.get(name)
        if table is None or table.schedule is not schedule:
            table = self._tables[name] = ScheduleTable(schedule, name)
        return table

    def _schedule_next_event(self) -> None:
        # Stage count at which _observe must do array work; before it, nothing happens.
        due = self._start + self._k
        if self.average_last is not None:
            due = np.minimum(due, self._start + self._watch_from)
        if self._adaptive:
            # Watch from one stage before the earliest allowed end, to have a previous action.
            due = np.minimum(due, self._start + self.commitment.min_length - 1)
        self._next_event = max(int(due.min()), self._t + 1)

    # ------------------------------------------------------------------ fast-forward face
    def quiet_stages(self) -> int:
        """Stages before the next interval event (Alg. 1, lines 6-9: the leader plays
        ``x~_n`` and records nothing until the interval's last stage or its
        ``average_last`` window or adaptive watch)."""
        self._require_reset()
        return max(self._next_event - self._t - 1, 0)

    def skip_quiet(self, stages: int) -> None:
        """Advance the stage count over ``stages <= quiet_stages()`` quiet stages."""
        stages = self._stage_count(stages)
        if stages > self.quiet_stages():
            raise ValueError(
                f"HiCLeader: cannot skip {stages} stages, only {self.quiet_stages()} are quiet"
            )
        self._t += stages

    def reward_free_stages(self) -> int:
        """The quiet stages: every event stage reads its reward."""
        return self.quiet_stages()

    # ------------------------------------------------------------------ play
    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self._xt  # Alg. 1, line 7: play x~_n for the whole interval

    def _strategy(self) -> np.ndarray:
        return self._x

    def _observe(self, reward: np.ndarray, obs: np.ndarray) -> None:
        self._t += 1
        if self._t < self._next_event:
            return  # mid-interval: nothing to record (Alg. 1, lines 6-9)
        played = self._t - self._start  # stages played in each row's interval
        m = self.average_last
        if m is not None:
            rec = np.flatnonzero(played >= self._watch_from)
            self._ring[rec, played[rec] % m] = reward[rec]
        done = played >= self._k
        if self._adaptive:
            if self._prev_t == self._t - 1:
                moved = np.abs(obs - self._prev_obs).max(axis=1)
                # min_length >= 2: both stages compared lie in this interval.
                done |= (played >= self.commitment.min_length) & (moved < self._threshold)
            self._prev_obs = obs.copy()
            self._prev_t = self._t
        if done.any():
            rows = np.flatnonzero(done)
            if m is not None:
                count = np.minimum(played[rows], m)
                with np.errstate(over="ignore"):  # an overflowed sum is redone below
                    s = self._ring[rows].sum(axis=1) / count
                if not np.isfinite(s).all():
                    # The sum overflowed (finite payoffs near 1.8e308): the mean of the scaled
                    # terms is finite. Only then, so other results stay bit for bit the same.
                    s = (self._ring[rows] / count[:, None]).sum(axis=1)
            else:
                s = reward[rows]  # Alg. 1, line 8: the payoff at the interval's last stage
            self._finish(rows, self._measurement(rows, s, obs[rows]))
        self._schedule_next_event()

    def _measurement(self, rows: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The measured payoff ``s_n`` of the intervals of ``rows`` that just ended.

        ``s`` is what the leader observed (last stage, or the window mean) and ``y`` the
        follower's action at the last stage. Hi-C uses ``s`` as is; the oracle variant
        (:class:`agents.OracleSPSALeader`) replaces the follower's action by ``r(x~_n)``.
        """
        return s

    def _finish(self, rows: np.ndarray, s: np.ndarray) -> None:
        """Close the intervals of ``rows`` whose measured payoffs are ``s``."""
        burn = self._j[rows] < self.burn_in  # burn-in intervals: no step
        self._j[rows] += 1
        if self.two_sided:
            first = self._sign[rows] > 0
            if first.any():
                r1 = rows[first]
                self._s_plus[r1] = s[first]
                self._sign[r1] = -1.0
                self._begin(r1, new_direction=False)  # same Delta_n, at x_n - delta_n Delta_n
            rows, s = rows[~first], s[~first]
            if rows.size == 0:
                return
            # Halves first: (s+ - s-) / 2 overflows for payoffs near 1.8e308 of opposite
            # signs; halving is exact, so the result is otherwise the same bit for bit.
            step, g_scale = rows, self._s_plus[rows] / 2.0 - s / 2.0
        elif self.baseline is not None:
            ready = self._b_ready[rows]
            # b_n: made from intervals before Delta_n was drawn
            g_scale, self._b[rows] = baseline_update(self._b[rows], ready, s, self.baseline)
            self._b_ready[rows] = True
            go = ready & ~burn
            warm = rows[~go]
            if warm.size:
                self._begin(warm, new_direction=True)  # warm-up or burn-in: not an update
            step, g_scale = rows[go], g_scale[go]
        else:
            if burn.any():
                self._begin(rows[burn], new_direction=True)  # burn-in: not an update
            step, g_scale = rows[~burn], s[~burn]
        if step.size == 0:
            return
        alpha = self._values("step_size", self.step_size, self._n[step])
        # Eq. (11): x_{n+1}^i = x_n^i + alpha_n s / (delta_n Delta_n^i), then project onto X.
        self._x[step] = spsa_step(
            self._x[step], alpha, g_scale, self._delta[step], self._Delta[step], self.low, self.high
        )
        self._n[step] += 1
        self.updates += int(step.size)
        self._begin(step, new_direction=True)

    # ------------------------------------------------------------------ introspection
    @property
    def update_index(self) -> np.ndarray | int:
        """``n``: updates completed (per row when batched)."""
        self._require_reset()
        return int(self._n[0]) if self.num_envs is None else self._n.copy()

    @property
    def intervals(self) -> np.ndarray | int:
        """Commitment intervals completed (per row when batched), burn-in included."""
        self._require_reset()
        return int(self._j[0]) if self.num_envs is None else self._j.copy()

    @property
    def committed(self) -> np.ndarray:
        """``x~_n``: the strategy committed to in the current interval."""
        self._require_reset()
        return self._xt[0].copy() if self.num_envs is None else self._xt.copy()

    @property
    def perturbation_now(self) -> np.ndarray | float:
        """``delta_n`` of the current interval (per row when batched)."""
        self._require_reset()
        return float(self._delta[0]) if self.num_envs is None else self._delta.copy()


# -------------------- agents/baselines.py


class _GradientLeader(BatchAgent):
    """A leader that takes one projected gradient step per stage along ``_direction``."""

    state_attrs = ("_x", "_t")
    updates_all_rows = True

    def __init__(
        self,
        game: Game,
        step_size: Any,
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
        self, game: Game, step_size: Any, perturbation: Any, commitment: Any = 1, **kwargs: Any
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


# -------------------- agents/lola.py


class LOLALeader(_GradientLeader):
    """First-order LOLA for the leader (Foerster et al., 2018). **Coupled.**

    LOLA assumes the follower takes one naive gradient step of size ``eta`` (``lookahead``),
    ``y -> y + eta grad_y f2(x, y)``, and ascends its own payoff *after* that step. To first
    order in ``eta`` (Taylor expansion in the follower's step)::

        f1(x, y + eta grad_y f2) ~ f1(x, y) + eta (grad_y f1)^T grad_y f2        (LOLA, Eq. 4.1)

    and the leader ascends the gradient in ``x`` of the right-hand side, projected onto ``X``::

        x_{t+1} = proj_X(x_t + alpha_t g(x_t, y_t)), with
        g = grad_x f1 + eta [ (grad_yx f2)^T grad_y f1 + (grad_yx f1)^T grad_y f2 ]   (correction)
        g = grad_x f1 + eta (grad_yx f2)^T grad_y f1                                   (original)

    where ``grad_yx f`` is the ``(d2, d1)`` Jacobian of ``grad_y f`` w.r.t. ``x``. Kept: the
    zeroth-order term and the first-order term in ``eta``; dropped: every term of order
    ``eta^2`` and higher (LOLA's Taylor expansion is first order). The *original* LOLA rule
    (Foerster et al., 2018, Eq. 4.2; ``correction=False``) further drops the first-order term
    ``(grad_yx f1)^T grad_y f2`` (how the leader's own sensitivity to ``y`` changes with ``x``)
    and keeps only the *shaping* term ``(grad_yx f2)^T grad_y f1`` (how moving ``x`` changes the
    follower's step, weighted by what that step is worth to the leader). The published code's
    default, ``correction=True``, keeps both: it differentiates ``grad_y f1 . grad_y f2`` in
    ``x`` through both factors (its ``corrected_lola``); ``correction=False`` is its
    ``original_lola``.

    One difference from the published learner: it does not project; this leader clips to
    ``X`` after every step, as the project's other gradient baselines do.

    Each stage it evaluates ``g`` at its own ``x_t`` and the follower action ``y_t`` it observed
    at the stage just played, reading ``grad_y f2``, ``grad_yx f2`` (the follower's derivatives)
    from the game: coupled by design (``coupled = True``).

    Where it goes. Against a follower at ``y = r(x)`` (``grad_y f2 = 0``) both forms reduce to
    ``grad_x f1 + eta (grad_yx f2)^T grad_y f1``, while the DSE's hierarchical gradient is
    ``grad_x f1 - (grad_yx f2)^T (grad_yy f2)^{-T} grad_y f1``: LOLA's fixed points are the
    DSE's exactly where ``eta I`` stands in for ``-(grad_yy f2)^{-1}``, e.g. in a quadratic game
    with ``grad_yy f2 = -m I`` and ``eta = 1 / m`` (a Newton step); elsewhere they differ.

    Args:
        game: the game (``leader_grad``, ``leader_grad_y``, ``follower_grad``,
            ``follower_hess_yx`` and, with ``correction``, ``leader_hess_yx``).
        step_size: ``alpha_t``, a schedule of the stage index or a number.
        lookahead: ``eta``, the follower's step LOLA assumes (> 0; the published default 1).
        correction: keep the ``(grad_yx f1)^T grad_y f2`` term (the published default True).
        noise_std: standard deviation of Gaussian noise added to each coordinate of ``g``.
        seed: seed for ``x_0`` and the noise.
        num_envs: ``None`` or the batch size ``S``.
        init: initial strategy ``x_0`` (uniform over ``X`` when None).
    """

    coupled = True
    state_attrs: tuple[str, ...] = ("_x", "_t")

    def __init__(
        self,
        game: Game,
        step_size: Any,
        *,
        lookahead: float = 1.0,
        correction: bool = True,
        noise_std: float = 0.0,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init=None,
    ) -> None:
        super().__init__(
            game, step_size, noise_std=noise_std, seed=seed, num_envs=num_envs, init=init
        )
        if isinstance(lookahead, bool) or not isinstance(
            lookahead, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"lookahead must be a positive number, got {lookahead!r}")
        if not (math.isfinite(lookahead) and lookahead > 0):
            raise ValueError(f"lookahead must be a positive finite number, got {lookahead!r}")
        if not isinstance(correction, (bool, np.bool_)):
            raise TypeError(f"correction must be True or False, got {correction!r}")
        self.lookahead = float(lookahead)
        self.correction = bool(correction)

    def direction(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``g(x, y)``, the LOLA ascent direction (see the class docstring), shape ``(S, d1)``."""
        game = self.game
        g1y = game.leader_grad_y(x, y)
        # (grad_yx f2)^T grad_y f1: the shaping term (Foerster et al., 2018, Eq. 4.2).
        shaping = np.einsum("...ij,...i->...j", game.follower_hess_yx(x, y), g1y)
        if self.correction:
            # (grad_yx f1)^T grad_y f2: the other half of grad_x (grad_y f1 . grad_y f2).
            shaping = shaping + np.einsum(
                "...ij,...i->...j", game.leader_hess_yx(x, y), game.follower_grad(x, y)
            )
        return game.leader_grad(x, y) + self.lookahead * shaping

    def _direction(self, y: np.ndarray) -> np.ndarray:
        return self.direction(self._x, y)


def lola_leader(game: Game, num_envs: int | None, options: dict[str, Any]) -> LOLALeader:
    """The catalog's factory: a :class:`LOLALeader` for ``game`` from an options dict.

    Options (every key optional): ``step_size`` (a number or schedule; default ``0.1 / H`` with
    ``H`` the largest curvature of ``f1(x, r(x))`` at the centre of ``X`` and the DSE, the
    gradient baselines' rule), ``lookahead`` (default 1.0), ``correction`` (default True),
    ``noise_std`` (default 0), ``init``, ``seed``.

    Raises:
        ValueError: for an unknown option or a bad value (naming it).
    """
    allowed = {"step_size", "lookahead", "correction", "noise_std", "init", "seed"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(
            f"option(s) {unknown} do not apply to leader 'lola'; known: {sorted(allowed)}"
        )
    kw = dict(options)
    step = kw.pop("step_size", None)
    step = gradient_leader_step(game) if step is None else as_schedule(step, "step_size")
    return LOLALeader(game, step, num_envs=num_envs, **kw)
