"""Coupled learners of the differentiable-games literature, for either player.

Thin stateful faces over :mod:`agents.rules.coupled`: each learner holds its own strategy
and, every stage, steps along its half of the method's joint direction at the joint action
just played, ``(own, observed)``, projected onto its box::

    z_{t+1} = proj(z_t + alpha_t d(x_t, y_t))

Every one is **coupled** (``coupled = True``): it reads the game's derivatives of *both*
payoffs, the other player's included, at the other's observed action. Two learners of the
same method (a leader and a follower) update simultaneously from the same ``(x_t, y_t)``, so
together they run the joint algorithm of the literature.

* :class:`LookAheadLearner` (Zhang & Lesser 2010; Letcher et al. 2019's LA);
* :class:`LOLALearner` (Foerster et al. 2018), either player;
* :class:`SOSLearner`, stable opponent shaping (Letcher et al. 2019);
* :class:`SymplecticLearner`, symplectic gradient adjustment (Balduzzi et al. 2018; the
  catalog's ``symplectic``: the project's ``sga`` is simultaneous gradient ascent);
* :class:`ConsensusLearner`, consensus optimization (Mescheder et al. 2017);
* :class:`ExtragradientLearner` (Korpelevich 1976);
* :class:`HierarchicalCGLeader`, the hierarchical gradient with conjugate gradient on
  Hessian-vector products (Fiez et al. 2020), leader only.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from agents.base import BatchAgent, SeedLike
from agents.rules import ascent_step
from agents.rules import coupled as rules
from agents.schedules import Constant, ScheduleTable, as_schedule
from hic_envs.games.base import Game

__all__ = [
    "ConsensusLearner",
    "CoupledLearner",
    "ExtragradientLearner",
    "HierarchicalCGLeader",
    "LOLALearner",
    "LookAheadLearner",
    "SOSLearner",
    "SymplecticLearner",
]


def _positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return v


class CoupledLearner(BatchAgent):
    """One player of a coupled method: the shared plumbing (template for the learners here).

    Args:
        game: the game (both payoffs' derivatives and ``payoff_hvp``).
        role: ``"leader"`` (strategy ``x``) or ``"follower"`` (strategy ``y``).
        step_size: ``alpha_t``, a schedule of the stage index or a number.
        seed: seed for the initial strategy.
        num_envs: ``None`` or the batch size ``S``.
        init: initial strategy (uniform over the box when None), ``(d,)`` or ``(S, d)``.
    """

    coupled = True
    state_attrs: tuple[str, ...] = ("_z", "_t")
    updates_all_rows = True

    def __init__(
        self,
        game: Game,
        role: str,
        step_size: Any,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init: Any = None,
    ) -> None:
        if not isinstance(game, Game):
            raise TypeError(f"game must be a hic_envs.games.Game, got {type(game).__name__}")
        if role not in ("leader", "follower"):
            raise ValueError(f"role must be 'leader' or 'follower', got {role!r}")
        low, high, other = (
            (game.leader_low, game.leader_high, game.d2)
            if role == "leader"
            else (game.follower_low, game.follower_high, game.d1)
        )
        super().__init__(low, high, num_envs=num_envs, seed=seed, obs_dim=other)
        self.game = game
        self.role = role
        self.step_size = as_schedule(step_size, "step_size")
        self._table: ScheduleTable | None = None
        self._init = init

    def _reset(self) -> None:
        self._z = self._initial(self._init)
        self._t = 0

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self._z

    def _strategy(self) -> np.ndarray:
        return self._z

    def reward_free_stages(self) -> int:
        """Always: the step reads the game's derivatives at the observed action."""
        return self.ALWAYS

    def _alpha(self) -> float | np.ndarray:
        if isinstance(self.step_size, Constant):
            return self.step_size.value
        table = self._table
        if table is None or table.schedule is not self.step_size:
            table = self._table = ScheduleTable(self.step_size, "step_size")
        return table.at(self._t)

    def joint(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The joint action ``(x, y)`` of this stage: own strategy and the observed one."""
        return (self._z, obs) if self.role == "leader" else (obs, self._z)

    def directions(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both players' directions of the method at ``(x, y)`` (subclasses)."""
        raise NotImplementedError

    def _direction(self, obs: np.ndarray) -> np.ndarray:
        dx, dy = self.directions(*self.joint(obs))
        return dx if self.role == "leader" else dy

    def _observe(self, reward: np.ndarray, obs: np.ndarray) -> None:
        alpha = self._alpha()
        d = self._direction(obs)
        if not np.all(np.isfinite(d)):
            raise ValueError(
                f"{type(self).__name__} ({self.role}): the direction is not finite at stage "
                f"{self._t}; the game's derivatives overflow there (step size too large?)"
            )
        self._z = ascent_step(self._z, alpha, d, self.low, self.high)
        self._t += 1
        self.updates += self._S


def _lookahead_eta(lookahead: Any, step_size: Any) -> float:
    """``eta``: the given look-ahead, or the constant step size (the published default)."""
    if lookahead is not None:
        return _positive("lookahead", lookahead)
    step = as_schedule(step_size, "step_size")
    if not isinstance(step, Constant):
        raise ValueError(
            "lookahead=None takes the step size as the opponent's assumed step, which needs a "
            f"constant step size; got {step!r}: give lookahead"
        )
    return float(step.value)


class LookAheadLearner(CoupledLearner):
    """LookAhead (Zhang & Lesser 2010; LA in Letcher et al. 2019). **Coupled.**

    Ascends its payoff after the other player's naive step of size ``eta`` to first order,
    treating that step as fixed: ``dx = grad_x f1 + eta f1_xy grad_y f2``. See
    :func:`agents.rules.coupled.lookahead`.

    Args:
        lookahead: ``eta`` (> 0); None (default): the step size, as the published code does.
        **kwargs: :class:`CoupledLearner`'s.
    """

    def __init__(
        self, game: Game, role: str, step_size: Any, *, lookahead: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(game, role, step_size, **kwargs)
        self.lookahead = _lookahead_eta(lookahead, step_size)

    def directions(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return rules.lookahead(self.game, x, y, self.lookahead)


class LOLALearner(CoupledLearner):
    """LOLA (Foerster et al. 2018) for either player. **Coupled.**

    LookAhead plus the shaping term (how one's own move changes the other's step):
    ``dx = grad_x f1 + eta (f1_xy grad_y f2 + f2_xy grad_y f1)``; ``correction=False`` keeps
    the shaping term only (the original LOLA rule). See :func:`agents.rules.coupled.lola`
    and, for the leader in the published Hi-C code's form, :class:`agents.LOLALeader`.

    Args:
        lookahead: ``eta`` (> 0); None (default): the step size, as the published code does.
        correction: keep LookAhead's term (default True).
        **kwargs: :class:`CoupledLearner`'s.
    """

    def __init__(
        self,
        game: Game,
        role: str,
        step_size: Any,
        *,
        lookahead: Any = None,
        correction: bool = True,
        **kw: Any,
    ) -> None:
        super().__init__(game, role, step_size, **kw)
        if not isinstance(correction, (bool, np.bool_)):
            raise TypeError(f"correction must be True or False, got {correction!r}")
        self.lookahead = _lookahead_eta(lookahead, step_size)
        self.correction = bool(correction)

    def directions(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return rules.lola(self.game, x, y, self.lookahead, correction=self.correction)


class SOSLearner(CoupledLearner):
    """Stable Opponent Shaping (Letcher et al. 2019) for either player. **Coupled.**

    LookAhead plus ``p`` times LOLA's shaping term, ``p`` chosen per joint point so that the
    shaping never opposes LookAhead by more than ``a`` of its size and vanishes near fixed
    points (``|g| < b``). ``p`` needs both players' terms: this learner computes them from
    the game at the observed action. See :func:`agents.rules.coupled.sos`.

    Args:
        lookahead: ``eta`` (> 0); None (default): the step size, as the published code does.
        a: in ``(0, 1)``, default 0.5. b: > 0, default 0.1 (the published values).
        **kwargs: :class:`CoupledLearner`'s.
    """

    def __init__(
        self,
        game: Game,
        role: str,
        step_size: Any,
        *,
        lookahead: Any = None,
        a: float = 0.5,
        b: float = 0.1,
        **kw: Any,
    ) -> None:
        super().__init__(game, role, step_size, **kw)
        self.lookahead = _lookahead_eta(lookahead, step_size)
        self.a = _positive("a", a)
        if self.a >= 1:
            raise ValueError(f"a must lie in (0, 1), got {a!r}")
        self.b = _positive("b", b)

    def directions(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return rules.sos(self.game, x, y, self.lookahead, self.a, self.b)


class SymplecticLearner(CoupledLearner):
    """Symplectic gradient adjustment (Balduzzi et al. 2018) for either player. **Coupled.**

    ``d = g - lambda A^T g`` with ``A`` the antisymmetric part of the game's Jacobian; with
    ``align`` (default) the sign of ``lambda`` is chosen per joint point as in their
    Algorithm 1 (``eps`` 0.1). Not the project's ``sga`` leader (simultaneous gradient
    ascent). See :func:`agents.rules.coupled.symplectic`.

    Args:
        lam: ``lambda``'s size (> 0, default 1).
        align: choose its sign (default True).
        eps: the alignment's offset (>= 0, default 0.1).
        **kwargs: :class:`CoupledLearner`'s.
    """

    def __init__(
        self,
        game: Game,
        role: str,
        step_size: Any,
        *,
        lam: float = 1.0,
        align: bool = True,
        eps: float = 0.1,
        **kw: Any,
    ) -> None:
        super().__init__(game, role, step_size, **kw)
        if not isinstance(align, (bool, np.bool_)):
            raise TypeError(f"align must be True or False, got {align!r}")
        self.lam = _positive("lam", lam)
        self.align = bool(align)
        self.eps = _positive("eps", eps, allow_zero=True)

    def directions(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return rules.symplectic(self.game, x, y, self.lam, align=self.align, eps=self.eps)


class ConsensusLearner(CoupledLearner):
    """Consensus optimization (Mescheder et al. 2017) for either player. **Coupled.**

    ``d = g - gamma J^T g``: the ascent field less ``gamma`` times the gradient of
    ``|g|^2 / 2`` (which needs the other player's gradient). See
    :func:`agents.rules.coupled.consensus`.

    Args:
        gamma: > 0, default 1 (the published notebook's).
        **kwargs: :class:`CoupledLearner`'s.
    """

    def __init__(
        self, game: Game, role: str, step_size: Any, *, gamma: float = 1.0, **kw: Any
    ) -> None:
        super().__init__(game, role, step_size, **kw)
        self.gamma = _positive("gamma", gamma)

    def directions(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return rules.consensus(self.game, x, y, self.gamma)


class ExtragradientLearner(CoupledLearner):
    """Extragradient (Korpelevich 1976) for either player. **Coupled.**

    Extrapolates both players by a naive step (own ``extrapolation``, the other's
    ``other_extrapolation``, each projected onto its box), then steps from its own strategy
    along its gradient there. Two such learners with equal steps are the joint method. See
    :func:`agents.rules.coupled.extragradient`.

    Args:
        extrapolation: own extrapolation step (> 0); None: the (constant) step size.
        other_extrapolation: the step assumed for the other player; None: the same.
        **kwargs: :class:`CoupledLearner`'s.
    """

    def __init__(
        self,
        game: Game,
        role: str,
        step_size: Any,
        *,
        extrapolation: Any = None,
        other_extrapolation: Any = None,
        **kw: Any,
    ) -> None:
        super().__init__(game, role, step_size, **kw)
        own = _lookahead_eta(extrapolation, step_size)
        other = own if other_extrapolation is None else _positive("other", other_extrapolation)
        self.extrapolation, self.other_extrapolation = own, other

    def _project(self, xh, yh):
        return self.game.project_leader(xh), self.game.project_follower(yh)

    def directions(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        own, other = self.extrapolation, self.other_extrapolation
        ex, ey = (own, other) if self.role == "leader" else (other, own)
        return rules.extragradient(self.game, x, y, ex, ey, self._project)


class HierarchicalCGLeader(CoupledLearner):
    """The hierarchical gradient leader (Fiez et al. 2020, Eq. 8) matrix-free. **Coupled.**

    ``D = grad_x f1 - f2_xy (f2_yy)^{-1} grad_y f1`` with the solve done by conjugate
    gradient on Hessian-vector products (``payoff_hvp``), warm-started from the previous
    stage's solution (kept as state ``_w``), as Fiez et al. and Stackelberg actor-critic do;
    :class:`agents.HierarchicalGradientLeader` is the dense form. At most ``cg_iters``
    iterations per stage, stopping at relative residual ``cg_tol``. Interior formula (no
    held coordinates at the follower's bounds). See
    :func:`agents.rules.coupled.hierarchical_cg`.

    Args:
        cg_iters: >= 1 (default 50). cg_tol: > 0 (default 1e-6: the direction to about
            1e-6 relative, far below what a step of the leader resolves).
        damping: ``lambda >= 0`` (default 0): solve with ``f2_yy - lambda I`` (Fiez et al.'s
            regularisation; well posed where the follower's payoff is not concave once
            ``lambda`` exceeds ``f2_yy``'s largest eigenvalue).
        **kwargs: :class:`CoupledLearner`'s (``role`` is ``"leader"``).
    """

    state_attrs = ("_z", "_t", "_w")

    def __init__(
        self,
        game: Game,
        step_size: Any,
        *,
        cg_iters: int = 50,
        cg_tol: float = 1e-6,
        damping: float = 0.0,
        **kw: Any,
    ) -> None:
        super().__init__(game, "leader", step_size, **kw)
        if isinstance(cg_iters, bool) or not isinstance(cg_iters, (int, np.integer)):
            raise TypeError(f"cg_iters must be a positive integer, got {cg_iters!r}")
        if cg_iters < 1:
            raise ValueError(f"cg_iters must be a positive integer, got {cg_iters!r}")
        self.cg_iters = int(cg_iters)
        self.cg_tol = _positive("cg_tol", cg_tol)
        self.damping = _positive("damping", damping, allow_zero=True)

    def _reset(self) -> None:
        super()._reset()
        self._w = np.zeros((self._S, self.game.d2))

    def _direction(self, obs: np.ndarray) -> np.ndarray:
        d, self._w = rules.hierarchical_cg(
            self.game, self._z, obs, self._w, self.cg_iters, self.cg_tol, self.damping
        )
        return d
