"""Baseline leaders Hi-C is judged against.

* :class:`SGALeader`: simultaneous gradient ascent, Eq. (1). Uncoupled; converges (where it
  converges) to a differential *Nash* equilibrium, not to the DSE.
* :class:`HierarchicalGradientLeader`: the two-timescale hierarchical gradient of Fiez et al.,
  Eq. (8). Coupled: it reads the follower's Hessians from the game.
* :class:`OracleSPSALeader`: SPSA on ``f1(x, r(x))`` with the true best response, Eq. (10).
  A coupled oracle, to separate Hi-C's tracking error from its SPSA noise.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from agents.base import SeedLike
from agents.face import RuleAgent
from agents.followers import _check_game, _noise_scale
from agents.hic import HiCLeader, HiCRules
from agents.rules import checked_ascent_step, namespace
from agents.rules.protocol import (
    READ_CHECK,
    Capabilities,
    Draw,
    Spec,
    StepwiseRules,
    cache_field,
    schedule_at,
)
from agents.schedules import as_schedule
from hic_envs.games.base import Game

__all__ = [
    "HIERARCHICAL_RULES",
    "ORACLE_RULES",
    "SGA_RULES",
    "GradientLeader",
    "GradientLeaderOptions",
    "GradientLeaderRules",
    "HierarchicalGradientLeader",
    "OracleSPSALeader",
    "SGALeader",
]


@dataclasses.dataclass(frozen=True)
class GradientLeaderOptions:
    """Options of the gradient leaders (SGA, hierarchical, LOLA).

    Attributes:
        step_size: ``alpha_t``, a schedule of the stage index or a number (a per-row array
            or :class:`~agents.schedules.PerRow` gives each row its own).
        noise_std: standard deviation of Gaussian noise added to each gradient coordinate.
        init: the initial strategy ``x_0`` (uniform over ``X`` when None).
        lookahead: LOLA's ``eta`` (unused by the others).
        correction: LOLA's corrected form (unused by the others).
    """

    step_size: Any
    noise_std: float = 0.0
    init: Any = None
    lookahead: float = 1.0
    correction: bool = True
    _cache: dict = cache_field()

    def __post_init__(self) -> None:
        object.__setattr__(self, "step_size", as_schedule(self.step_size, "step_size"))
        object.__setattr__(self, "noise_std", _noise_scale(self.noise_std))
        la = self.lookahead
        if isinstance(la, bool) or not isinstance(la, (int, float, np.integer, np.floating)):
            raise TypeError(f"lookahead must be a positive number, got {la!r}")
        if not (math.isfinite(la) and la > 0):
            raise ValueError(f"lookahead must be a positive finite number, got {la!r}")
        if not isinstance(self.correction, (bool, np.bool_)):
            raise TypeError(f"correction must be True or False, got {self.correction!r}")
        object.__setattr__(self, "lookahead", float(la))
        object.__setattr__(self, "correction", bool(self.correction))


class GradientLeaderRules(StepwiseRules):
    """The rule set of a leader that takes one projected gradient step per stage along a
    direction ``direction(options, game, x, y)`` of its strategies ``x`` and the observed
    follower actions ``y`` (SGA, hierarchical gradient, LOLA).

    State: ``x`` ``(S, d1)`` strategies, ``t`` stages observed, ``read_check`` ``(S, d1)``
    (:data:`~agents.rules.protocol.READ_CHECK`: every direction step read, folded).

    Args:
        direction: the ascent direction, ``(S, d1)``.
        coupled: whether the direction reads the follower's payoff.
    """

    def __init__(self, direction: Callable[..., Any], coupled: bool) -> None:
        self.direction = direction
        self.capabilities = Capabilities(
            reward_free=True,
            needs_game=True,
            coupled=coupled,
            draws=("x0", "noise"),
            reads=("gradient",),
        )

    key, init_draw = "x", "x0"

    def prepare(
        self, options: Any, spec: Spec, state: dict, reward: Any, obs: Any
    ) -> tuple[dict, tuple]:
        if options.noise_std > 0.0:
            return state, (Draw("noise", "normal", (spec.dim,), scale=options.noise_std),)
        return state, ()

    def observe(
        self, options: Any, spec: Spec, state: dict, reward: Any, obs: Any, draws: dict
    ) -> dict:
        x, t = state["x"], state["t"]
        alpha = schedule_at(options, "step_size", t)
        g = self.direction(options, spec.game, x, obs)
        if options.noise_std > 0.0:
            g = g + draws["noise"]  # w_{1,t}
        x, check = checked_ascent_step(x, alpha, g, spec.low, spec.high, state[READ_CHECK])
        return {"x": x, "t": t + 1, READ_CHECK: check}


def _sga_direction(options: Any, game: Game, x: Any, y: Any) -> Any:
    return game.leader_grad(x, y)  # Eq. (1)


def _hierarchical_direction(options: Any, game: Game, x: Any, y: Any) -> Any:
    return game.total_leader_grad(x, y)  # D(x_t, y_t), Eq. (7)-(8)


SGA_RULES = GradientLeaderRules(_sga_direction, coupled=False)
HIERARCHICAL_RULES = GradientLeaderRules(_hierarchical_direction, coupled=True)


class GradientLeader(RuleAgent):
    """The face of a gradient leader (a rule set of :class:`GradientLeaderRules`).

    Args:
        game: the game.
        step_size: ``alpha_t``, a schedule of the stage index or a number.
        noise_std: standard deviation of the gradient noise ``w_{1,t}`` (0 for exact).
        seed: seed for ``x_0`` and the noise.
        num_envs: ``None`` or the batch size ``S``.
        init: initial strategy ``x_0`` (uniform over ``X`` when None).
        **options: further fields of :class:`GradientLeaderOptions`.
    """

    options_type = GradientLeaderOptions
    settable = ("step_size",)

    def __init__(
        self,
        game: Game,
        step_size: Any,
        *,
        noise_std: float = 0.0,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init: ArrayLike | None = None,
        **options: Any,
    ) -> None:
        game = _check_game(game)
        super().__init__(
            game.leader_low, game.leader_high, num_envs=num_envs, seed=seed, obs_dim=game.d2
        )
        opts = GradientLeaderOptions(step_size, noise_std=noise_std, init=init, **options)
        self._setup(opts, game)

    @property
    def _init(self) -> Any:
        return self.options.init


class SGALeader(GradientLeader):
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

    rules = SGA_RULES


class HierarchicalGradientLeader(GradientLeader):
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

    rules = HIERARCHICAL_RULES


class OracleRules(HiCRules):
    """Hi-C's rule set with the oracle measurement of Eq. (10) (reads the game: coupled)."""

    capabilities = dataclasses.replace(
        HiCRules.capabilities, needs_game=True, coupled=True, needs_best_response=True
    )

    def measurement(self, options: Any, spec: Spec, state: dict, s: Any, y: Any, done: Any) -> Any:
        """Eq. (10): ``f1(x~, r(x~)) + w``, keeping the observed noise ``w = s - f1(x~, y~)``."""
        game, xt = spec.game, state["xt"]
        xp = namespace(s, y)
        if done is True:
            return s - game.leader_payoff(xt, y) + game.hierarchical_payoff(xt)
        if xp is np:  # only the rows whose interval ended (r may be numeric); same values
            rows = np.flatnonzero(done)
            out = s.copy()
            if rows.size:
                xr = xt[rows]
                out[rows] = s[rows] - game.leader_payoff(xr, y[rows]) + game.hierarchical_payoff(xr)
            return out
        return xp.where(done, s - game.leader_payoff(xt, y) + game.hierarchical_payoff(xt), s)


ORACLE_RULES = OracleRules()


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

    rules = ORACLE_RULES

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
        self._setup(self.options, game)
