"""Scripted followers.

Every follower here is *uncoupled*: it knows its own payoff ``f2`` (through the game's
follower-side functions) and sees the leader's action at the stage just played, nothing of the
leader's payoff or learning rule. In the simultaneous stage game of :class:`~hic_envs.GameEnv`
a follower's action at stage ``t`` is chosen before it sees the leader's action at stage ``t``:
it reacts to what it observed at stage ``t - 1``.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from agents.base import SeedLike
from agents.face import RuleAgent
from agents.rules import ascent_steps, checked_ascent_step, namespace
from agents.rules.protocol import (
    READ_CHECK,
    Capabilities,
    Draw,
    Spec,
    StepwiseRules,
    cache_field,
    fold_read,
    initial_strategy,
    stage_counts,
    table,
    uniform_init_draws,
)
from agents.schedules import Constant, PerRow, as_schedule
from hic_envs.games.base import Game
from hic_envs.stage import check_noise_scale

__all__ = [
    "BEST_RESPONSE_RULES",
    "MIRROR_RULES",
    "NOISY_STEP_RULES",
    "STEP_RULES",
    "BestResponseFollower",
    "BestResponseOptions",
    "EntropicMirrorFollower",
    "GradientAscentFollower",
    "StepOptions",
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


def _step_option(value: Any) -> Any:
    return as_schedule(value, "step_size")


@dataclasses.dataclass(frozen=True)
class StepOptions:
    """Options of the followers that take one step per stage (gradient, stochastic gradient,
    entropic mirror).

    Attributes:
        step_size: ``beta_t``, a schedule of the stage index ``t`` or a number; a per-row
            array (or :class:`~agents.schedules.PerRow`) gives each batch row its own.
        noise_std: standard deviation of the gradient noise ``w_t`` (stochastic gradient).
        simplex: play on the probability simplex (entropic mirror).
        init: the initial strategy ``y_0`` (uniform over ``Y`` when None).
    """

    step_size: Any
    noise_std: float = 0.0
    simplex: bool = False
    init: Any = None
    _cache: dict = cache_field()

    def __post_init__(self) -> None:
        object.__setattr__(self, "step_size", _step_option(self.step_size))
        object.__setattr__(self, "noise_std", _noise_scale(self.noise_std))
        if not isinstance(self.simplex, bool | np.bool_):
            raise TypeError(f"simplex must be a bool, got {self.simplex!r}")
        object.__setattr__(self, "simplex", bool(self.simplex))


def _beta(options: StepOptions, t: int, shape: tuple[int, int]) -> Any:
    """``beta_t`` for every row: a cached ``(S, d)`` array for a constant step (a ufunc on
    operands of one shape costs about half of one that broadcasts a scalar, and this runs at
    every stage; the same values, so the same bits), ``(S, 1)`` for a per-row schedule."""
    step = options.step_size
    if isinstance(step, Constant):
        key = ("beta_full", shape)
        full = options._cache.get(key)
        if full is None:
            full = options._cache[key] = np.full(shape, step.value)
        return full
    if isinstance(step, PerRow):
        return step(t)[:, None]
    if isinstance(t, (int, np.integer)):
        return table(options, "step_size").at(t)
    return step(t)  # a traced stage count (the JAX engine): the schedule in its namespace


class StepRules(StepwiseRules):
    """The rule set of :class:`GradientAscentFollower` and :class:`StochasticGradientFollower`:
    projected (stochastic) gradient ascent, Eq. (21) and Eq. (9).

    State: ``y`` ``(S, d2)`` strategies, ``t`` stages observed, ``read_check`` ``(S, d2)``
    (:data:`~agents.rules.protocol.READ_CHECK`: every gradient step read, folded).
    """

    capabilities = Capabilities(
        reward_free=True, repeat=True, needs_game=True, draws=("y0",), reads=("gradient",)
    )

    key, init_draw = "y", "y0"

    def gradient(self, options: StepOptions, spec: Spec, obs: Any, draws: dict) -> Any:
        """``y -> `` the gradient stepped along against the observed leader action ``obs``."""
        return spec.game.follower_grad_given(obs)

    def observe(
        self, options: StepOptions, spec: Spec, state: dict, reward: Any, obs: Any, draws: dict
    ) -> dict:
        y, t = state["y"], state["t"]
        low, high = spec.full(y.shape)
        grad = self.gradient(options, spec, obs, draws)(y)
        y, check = checked_ascent_step(
            y, _beta(options, t, y.shape), grad, low, high, state[READ_CHECK]
        )  # Eq. (21)
        return {"y": y, "t": t + 1, READ_CHECK: check}

    def observe_repeated(
        self, options: StepOptions, spec: Spec, state: dict, obs: Any, stages: int
    ) -> dict:
        """``stages`` steps against one observed leader action: the game's gradient for it
        is set up once and a constant step runs in place (:func:`agents.rules.ascent_steps`);
        the values of ``stages`` observe calls, bit for bit."""
        y, t, check = state["y"], state["t"], state[READ_CHECK]
        low, high = spec.full(y.shape)
        grad = spec.game.follower_grad_given(obs)
        if isinstance(options.step_size, Constant):
            y, check = ascent_steps(y, _beta(options, t, y.shape), grad, low, high, stages, check)
        else:  # a step-size schedule: one step at a time, each at its own beta_t
            for i in range(stages):
                beta = _beta(options, t + i, y.shape)
                y, check = checked_ascent_step(y, beta, grad(y), low, high, check)  # (21)
        return {"y": y, "t": t + stages, READ_CHECK: check}


class NoisyStepRules(StepRules):
    """:class:`StepRules` with Gaussian gradient noise (Eq. 9), drawn as ``"noise"``."""

    capabilities = Capabilities(
        reward_free=True, needs_game=True, draws=("y0", "noise"), reads=("gradient",)
    )

    def prepare(
        self, options: StepOptions, spec: Spec, state: dict, reward: Any, obs: Any
    ) -> tuple[dict, tuple]:
        if options.noise_std == 0.0:
            return state, ()
        return state, (Draw("noise", "normal", (spec.dim,), scale=options.noise_std),)

    def gradient(self, options: StepOptions, spec: Spec, obs: Any, draws: dict) -> Any:
        grad = spec.game.follower_grad_given(obs)
        if options.noise_std == 0.0:
            return grad
        noise = draws["noise"]
        return lambda y: grad(y) + noise  # w_t of Eq. (9)


class MirrorRules(StepRules):
    """The rule set of :class:`EntropicMirrorFollower` (exponentiated gradient / Hedge)."""

    capabilities = Capabilities(
        reward_free=True, needs_game=True, draws=("y0",), reads=("gradient",)
    )

    def init_draws(self, options: StepOptions, spec: Spec, num_rows: int) -> tuple[Draw, ...]:
        if options.simplex and options.init is None:
            return ()
        return uniform_init_draws(options.init, spec, "y0")

    def init(self, options: StepOptions, spec: Spec, num_rows: int, draws: dict) -> dict:
        if options.simplex and options.init is None:
            y = np.full((num_rows, spec.dim), 1.0 / spec.dim)
            return {"y": y, "t": 0, READ_CHECK: np.zeros(y.shape)}
        return super().init(options, spec, num_rows, draws)

    def observe(
        self, options: StepOptions, spec: Spec, state: dict, reward: Any, obs: Any, draws: dict
    ) -> dict:
        y, t = state["y"], state["t"]
        xp = namespace(y, obs)
        beta = _beta(options, t, y.shape)
        g = spec.game.follower_grad(obs, y)
        check = fold_read(state[READ_CHECK], g)
        if options.simplex:
            # Hedge: log-domain step, then KL projection onto the simplex (normalisation).
            z = xp.log(y) + beta * g
            z = z - xp.max(z, axis=1, keepdims=True)
            w = xp.exp(z)
            y = w / xp.sum(w, axis=1, keepdims=True)
        else:
            # OMD with psi(y) = sum y log y - y: grad psi = log y; Bregman projection on a box
            # is a clip.
            y = xp.clip(y * xp.exp(beta * g), spec.low, spec.high)
        return {"y": y, "t": t + 1, READ_CHECK: check}


@dataclasses.dataclass(frozen=True)
class BestResponseOptions:
    """Options of :class:`BestResponseFollower`.

    Attributes:
        init: the initial strategy ``y_0`` (uniform over ``Y`` when None).
    """

    init: Any = None
    _cache: dict = cache_field()


class BestResponseRules:
    """The rule set of :class:`BestResponseFollower`: ``r`` of the last observed action.

    State: ``y`` ``(S, d2)``, ``last_x`` ``(S, d1)`` the last observed leader action,
    ``seen`` (whether one was observed), ``t`` stages observed, ``read_check`` ``(S, d2)``
    (every best response read, folded before its clip onto the box).
    """

    capabilities = Capabilities(
        reward_free=True,
        needs_game=True,
        draws=("y0",),
        reads=("best response",),
        needs_best_response=True,
    )

    def init_draws(self, options: StepOptions, spec: Spec, num_rows: int) -> tuple[Draw, ...]:
        return uniform_init_draws(options.init, spec, "y0")

    def init(self, options: Any, spec: Spec, num_rows: int, draws: dict) -> dict:
        y = initial_strategy(options.init, spec, num_rows, draws, "y0")
        last = np.zeros((num_rows, spec.obs_dim))  # type: ignore[type-var]  # known by now
        return {"y": y, "last_x": last, "seen": False, "t": 0, READ_CHECK: np.zeros(y.shape)}

    def act(self, options: Any, spec: Spec, state: dict, obs: Any) -> Any:
        return state["y"]

    def strategy(self, options: Any, state: dict) -> Any:
        return state["y"]

    def update_counts(self, options: Any, state: dict) -> Any:
        return stage_counts(state["y"], state["t"])

    def updates(self, options: Any, state: dict) -> Any:
        return state["y"].shape[0] * state["t"]

    def prepare(
        self, options: Any, spec: Spec, state: dict, reward: Any, obs: Any
    ) -> tuple[dict, tuple]:
        return state, ()

    def observe(
        self, options: Any, spec: Spec, state: dict, reward: Any, obs: Any, draws: dict
    ) -> dict:
        y, last, check = state["y"], state["last_x"], state[READ_CHECK]
        xp = namespace(y, obs)
        seen = state["seen"]
        changed = xp.any(obs != last, axis=1) | (
            (not seen) if isinstance(seen, bool | np.bool_) else xp.logical_not(seen)
        )
        if xp is np:
            # Only rows whose observed action changed (a committing leader costs one call
            # per interval, which matters for games whose r is numeric); same values.
            rows = np.flatnonzero(changed)
            if rows.size:
                y, check = y.copy(), check.copy()
                r = spec.game.best_response(obs[rows])
                check[rows] = fold_read(check[rows], r)
                y[rows] = np.clip(r, spec.low, spec.high)
        else:
            r = spec.game.best_response(obs)
            check = fold_read(check, r)
            y = xp.where(changed[:, None], xp.clip(r, spec.low, spec.high), y)
        return {"y": y, "last_x": obs, "seen": True, "t": state["t"] + 1, READ_CHECK: check}


STEP_RULES = StepRules()
NOISY_STEP_RULES = NoisyStepRules()
MIRROR_RULES = MirrorRules()
BEST_RESPONSE_RULES = BestResponseRules()


class _StepFollower(RuleAgent):
    """The face of the followers that take one step per stage."""

    options_type = StepOptions
    settable = ("step_size",)

    def __init__(
        self, game: Game, options: StepOptions, *, seed: SeedLike, num_envs: int | None
    ) -> None:
        game = _check_game(game)
        super().__init__(
            game.follower_low, game.follower_high, num_envs=num_envs, seed=seed, obs_dim=game.d1
        )
        self._setup(options, game)

    @property
    def _init(self) -> Any:
        return self.options.init


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

    rules = STEP_RULES

    def __init__(
        self,
        game: Game,
        step_size: Any,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init: ArrayLike | None = None,
    ) -> None:
        super().__init__(game, StepOptions(step_size, init=init), seed=seed, num_envs=num_envs)


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

    rules = NOISY_STEP_RULES

    def __init__(
        self,
        game: Game,
        step_size: Any,
        noise_std: float,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init: ArrayLike | None = None,
    ) -> None:
        _StepFollower.__init__(
            self,
            game,
            StepOptions(step_size, noise_std=noise_std, init=init),
            seed=seed,
            num_envs=num_envs,
        )


class BestResponseFollower(RuleAgent):
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

    rules = BEST_RESPONSE_RULES
    options_type = BestResponseOptions

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
        self._setup(BestResponseOptions(init), game)

    @property
    def _init(self) -> Any:
        return self.options.init


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

    rules = MIRROR_RULES

    def __init__(
        self,
        game: Game,
        step_size: Any,
        *,
        simplex: bool = False,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init: ArrayLike | None = None,
    ) -> None:
        super().__init__(
            game,
            StepOptions(step_size, simplex=simplex, init=init),
            seed=seed,
            num_envs=num_envs,
        )
        if self.options.simplex:
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
        if init is not None and self.options.simplex:
            y0 = np.asarray(init, dtype=np.float64)
            if np.any(y0 <= 0) or not np.allclose(y0.sum(axis=-1), 1.0):
                raise ValueError(
                    f"init must be a probability vector with positive entries, got {y0.tolist()}"
                )
