"""The coupled learners as they were before they became rule sets (issue 18): a FROZEN REFERENCE.

Verbatim copies of ``agents/coupled.py`` and the rules it called (``agents/rules/coupled.py``,
``ascent_step`` of ``agents/rules/gradient.py``) at commit 80afa71, joined into one module
(cross-module imports replaced by the names defined here; ``rules.f`` reads ``_rules_ns.f``).
Do not edit: ``tests/agents/test_coupled_rules.py`` checks that the rule-set coupled learners
of the library reproduce these classes bit for bit, in the same process. Only
``agents.base`` (``BatchAgent``), ``agents.schedules`` and the games are shared with the
library.
"""

# ruff: noqa
from __future__ import annotations

import math
import numbers
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from agents.base import BatchAgent, SeedLike
from agents.schedules import Constant, ScheduleTable, as_schedule
from hic_envs.games.base import Game


def namespace(*arrays):
    return np


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


def _dot(a: Any, b: Any) -> Any:
    """Row-wise inner product ``(S, d), (S, d) -> (S, 1)``."""
    return (a * b).sum(axis=-1, keepdims=True)


def naive(game: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """Naive learning / simultaneous gradient ascent: ``g = (grad_x f1, grad_y f2)``."""
    return game.leader_grad(x, y), game.follower_grad(x, y)


def lookahead(game: Any, x: Any, y: Any, eta: Any) -> tuple[Any, Any]:
    """LookAhead (Zhang & Lesser 2010; Letcher et al. 2019's LA): each player ascends its
    payoff after the other's naive step of size ``eta``, to first order, *without* shaping
    that step: ``dx = g_x + eta f1_xy g_y``, ``dy = g_y + eta f2_yx g_x``."""
    gx, gy = naive(game, x, y)
    hvp = game.payoff_hvp
    return gx + eta * hvp("leader", "xy", x, y, gy), gy + eta * hvp("follower", "yx", x, y, gx)


def _shaping(game: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """The opponent-shaping terms ``(f2_xy grad_y f1, f1_yx grad_x f2)``: how moving one's
    own strategy changes the other's step, weighted by what that step is worth to oneself."""
    hvp = game.payoff_hvp
    return (
        hvp("follower", "xy", x, y, game.leader_grad_y(x, y)),
        hvp("leader", "yx", x, y, game.follower_grad_x(x, y)),
    )


def lola(game: Any, x: Any, y: Any, eta: Any, *, correction: bool = True) -> tuple[Any, Any]:
    """LOLA (Foerster et al. 2018), first order in the opponent's step ``eta``:
    ``dx = g_x + eta (f1_xy g_y + f2_xy grad_y f1)`` (and symmetrically for ``y``): LookAhead
    plus the shaping term. ``correction=False`` is the original rule (Foerster et al., Eq.
    4.2), the shaping term alone: ``dx = g_x + eta f2_xy grad_y f1``."""
    sx, sy = _shaping(game, x, y)
    if correction:
        lx, ly = lookahead(game, x, y, eta)
        return lx + eta * sx, ly + eta * sy
    gx, gy = naive(game, x, y)
    return gx + eta * sx, gy + eta * sy


def sos(game: Any, x: Any, y: Any, eta: Any, a: float = 0.5, b: float = 0.1) -> tuple[Any, Any]:
    """Stable Opponent Shaping (Letcher et al. 2019, Algorithm 1): LookAhead plus ``p``
    times the shaping term, ``d = d_LA + p eta chi`` with ``chi`` the shaping term and
    ``p = min(p1, p2)`` per row of the batch: ``p1 = 1`` where ``eta chi . d_LA >= 0``, else
    ``min(1, -a |d_LA|^2 / (eta chi . d_LA))``; ``p2 = |g|^2`` where ``|g| < b``, else 1
    (norms and products over both players' coordinates). ``a`` in ``(0, 1)`` and ``b > 0``
    are the published hyperparameters (0.5 and 0.1)."""
    lx, ly = lookahead(game, x, y, eta)
    cx, cy = _shaping(game, x, y)
    gx, gy = naive(game, x, y)
    xp = namespace(lx, cx)
    dot = eta * (_dot(cx, lx) + _dot(cy, ly))
    la2 = _dot(lx, lx) + _dot(ly, ly)
    neg = dot < 0
    p1 = xp.where(neg, xp.minimum(1.0, -a * la2 / xp.where(neg, dot, -1.0)), 1.0)
    g2 = _dot(gx, gx) + _dot(gy, gy)
    p2 = xp.where(g2 < b * b, g2, 1.0)
    p = xp.minimum(p1, p2)
    return lx + p * eta * cx, ly + p * eta * cy


def _jacobian_products(game: Any, x: Any, y: Any, gx: Any, gy: Any):
    """``J^T g`` and ``A^T g = (J^T g - J g) / 2`` (``A`` the antisymmetric part of ``J``)."""
    hvp = game.payoff_hvp
    f1xx_gx = hvp("leader", "xx", x, y, gx)
    f2yy_gy = hvp("follower", "yy", x, y, gy)
    f2xy_gy = hvp("follower", "xy", x, y, gy)
    f1yx_gx = hvp("leader", "yx", x, y, gx)
    jt = (f1xx_gx + f2xy_gy, f1yx_gx + f2yy_gy)
    at = (
        0.5 * (f2xy_gy - hvp("leader", "xy", x, y, gy)),
        0.5 * (f1yx_gx - hvp("follower", "yx", x, y, gx)),
    )
    return jt, at


def symplectic(
    game: Any, x: Any, y: Any, lam: float = 1.0, *, align: bool = True, eps: float = 0.1
) -> tuple[Any, Any]:
    """Symplectic gradient adjustment (Balduzzi et al. 2018): ``d = g - lambda A^T g`` with
    ``A = (J - J^T) / 2``. With ``align`` (their Algorithm 1, the published notebook's
    default) ``lambda = lam sign((g . J^T g)(A^T g . J^T g) / d + eps)`` per row, ``d = d1 +
    d2`` (the sign of the loss-form product ``-(g . J^T g)``: it picks the sign that
    attracts to stable fixed points and repels from unstable ones); without, ``lambda =
    lam``."""
    gx, gy = naive(game, x, y)
    (jx, jy), (ax, ay) = _jacobian_products(game, x, y, gx, gy)
    if align:
        xp = namespace(gx, ax)
        d = gx.shape[-1] + gy.shape[-1]
        dot_xi = -(_dot(gx, jx) + _dot(gy, jy))  # xi . H^T xi in the losses' signs
        dot_a = _dot(ax, jx) + _dot(ay, jy)
        lam = lam * xp.sign(dot_xi * dot_a / d + eps)
    return gx - lam * ax, gy - lam * ay


def consensus(game: Any, x: Any, y: Any, gamma: float) -> tuple[Any, Any]:
    """Consensus optimization (Mescheder et al. 2017): ``d = g - gamma J^T g``, the ascent
    field less ``gamma`` times the gradient of ``|g|^2 / 2``."""
    gx, gy = naive(game, x, y)
    (jx, jy), _ = _jacobian_products(game, x, y, gx, gy)
    return gx - gamma * jx, gy - gamma * jy


def extragradient(
    game: Any, x: Any, y: Any, eta_x: Any, eta_y: Any, project: Callable | None = None
) -> tuple[Any, Any]:
    """Extragradient (Korpelevich 1976): the ascent field at the extrapolated point
    ``(x + eta_x g_x, y + eta_y g_y)`` (projected by ``project(xh, yh)`` when given); the
    learner then steps from ``(x, y)`` along it."""
    gx, gy = naive(game, x, y)
    xh, yh = x + eta_x * gx, y + eta_y * gy
    if project is not None:
        xh, yh = project(xh, yh)
    return naive(game, xh, yh)


def conjugate_gradient(
    matvec: Callable[[Any], Any], b: Any, x0: Any, iters: int, tol: float
) -> tuple[Any, Any]:
    """Solve ``A u = b`` for a symmetric positive definite ``A`` (given as ``matvec``), row by
    row over a batch ``(S, d)``, from ``x0``: at most ``iters`` iterations, stopping when
    every row has ``|r| <= tol |b|``. Returns ``(u, iterations used)`` (an int).

    All rows iterate together until the last converges (a converged row keeps shrinking its
    residual; a row whose residual is exactly zero takes zero steps: the divisions carry a
    ``1e-300`` guard), which keeps an iteration to one product and a dozen element-wise
    operations.
    """
    xp = namespace(b, x0)
    tiny = 1e-300
    u = x0
    r = b - matvec(u)
    p = r
    rs = _dot(r, r)
    stop = (tol * tol) * _dot(b, b)
    k = 0
    while k < iters and bool(xp.any(rs > stop)):
        ap = matvec(p)
        alpha = rs / (_dot(p, ap) + tiny)
        u = u + alpha * p
        r = r - alpha * ap
        rs_new = _dot(r, r)
        p = r + (rs_new / (rs + tiny)) * p
        rs = rs_new
        k += 1
    return u, k


def hierarchical_cg(
    game: Any, x: Any, y: Any, w0: Any, iters: int = 50, tol: float = 1e-6
) -> tuple[Any, Any]:
    """The hierarchical gradient ``D = grad_x f1 - f2_xy (f2_yy)^{-1} grad_y f1`` (Fiez et
    al., Eq. 7-8) matrix-free: ``w = (f2_yy)^{-1} grad_y f1`` by conjugate gradient on
    ``(-f2_yy) w = -grad_y f1`` (``-f2_yy`` positive definite where the follower's payoff is
    strictly concave) from the warm start ``w0``, then one product ``f2_xy w``, as Fiez et
    al. and Stackelberg actor-critic do. Returns ``(D, w)``; ``w`` is the next warm start.
    Interior formula: unlike ``Game.total_leader_grad`` it does not hold coordinates of ``y``
    at a bound of ``Y``."""
    hvp = game.payoff_hvp
    g1y = game.leader_grad_y(x, y)
    w, _ = conjugate_gradient(lambda u: -hvp("follower", "yy", x, y, u), -g1y, w0, iters, tol)
    return game.leader_grad(x, y) - hvp("follower", "xy", x, y, w), w


_rules_ns = types.SimpleNamespace(
    lookahead=lookahead,
    lola=lola,
    sos=sos,
    symplectic=symplectic,
    consensus=consensus,
    extragradient=extragradient,
    hierarchical_cg=hierarchical_cg,
)


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
    :func:`agents._rules_ns.coupled.lookahead`.

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
        return _rules_ns.lookahead(self.game, x, y, self.lookahead)


class LOLALearner(CoupledLearner):
    """LOLA (Foerster et al. 2018) for either player. **Coupled.**

    LookAhead plus the shaping term (how one's own move changes the other's step):
    ``dx = grad_x f1 + eta (f1_xy grad_y f2 + f2_xy grad_y f1)``; ``correction=False`` keeps
    the shaping term only (the original LOLA rule). See :func:`agents._rules_ns.coupled.lola`
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
        return _rules_ns.lola(self.game, x, y, self.lookahead, correction=self.correction)


class SOSLearner(CoupledLearner):
    """Stable Opponent Shaping (Letcher et al. 2019) for either player. **Coupled.**

    LookAhead plus ``p`` times LOLA's shaping term, ``p`` chosen per joint point so that the
    shaping never opposes LookAhead by more than ``a`` of its size and vanishes near fixed
    points (``|g| < b``). ``p`` needs both players' terms: this learner computes them from
    the game at the observed action. See :func:`agents._rules_ns.coupled.sos`.

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
        return _rules_ns.sos(self.game, x, y, self.lookahead, self.a, self.b)


class SymplecticLearner(CoupledLearner):
    """Symplectic gradient adjustment (Balduzzi et al. 2018) for either player. **Coupled.**

    ``d = g - lambda A^T g`` with ``A`` the antisymmetric part of the game's Jacobian; with
    ``align`` (default) the sign of ``lambda`` is chosen per joint point as in their
    Algorithm 1 (``eps`` 0.1). Not the project's ``sga`` leader (simultaneous gradient
    ascent). See :func:`agents._rules_ns.coupled.symplectic`.

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
        return _rules_ns.symplectic(self.game, x, y, self.lam, align=self.align, eps=self.eps)


class ConsensusLearner(CoupledLearner):
    """Consensus optimization (Mescheder et al. 2017) for either player. **Coupled.**

    ``d = g - gamma J^T g``: the ascent field less ``gamma`` times the gradient of
    ``|g|^2 / 2`` (which needs the other player's gradient). See
    :func:`agents._rules_ns.coupled.consensus`.

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
        return _rules_ns.consensus(self.game, x, y, self.gamma)


class ExtragradientLearner(CoupledLearner):
    """Extragradient (Korpelevich 1976) for either player. **Coupled.**

    Extrapolates both players by a naive step (own ``extrapolation``, the other's
    ``other_extrapolation``, each projected onto its box), then steps from its own strategy
    along its gradient there. Two such learners with equal steps are the joint method. See
    :func:`agents._rules_ns.coupled.extragradient`.

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
        return _rules_ns.extragradient(self.game, x, y, ex, ey, self._project)


class HierarchicalCGLeader(CoupledLearner):
    """The hierarchical gradient leader (Fiez et al. 2020, Eq. 8) matrix-free. **Coupled.**

    ``D = grad_x f1 - f2_xy (f2_yy)^{-1} grad_y f1`` with the solve done by conjugate
    gradient on Hessian-vector products (``payoff_hvp``), warm-started from the previous
    stage's solution (kept as state ``_w``), as Fiez et al. and Stackelberg actor-critic do;
    :class:`agents.HierarchicalGradientLeader` is the dense form. At most ``cg_iters``
    iterations per stage, stopping at relative residual ``cg_tol``. Interior formula (no
    held coordinates at the follower's bounds). See
    :func:`agents._rules_ns.coupled.hierarchical_cg`.

    Args:
        cg_iters: >= 1 (default 50). cg_tol: > 0 (default 1e-6: the direction to about
            1e-6 relative, far below what a step of the leader resolves).
        **kwargs: :class:`CoupledLearner`'s (``role`` is ``"leader"``).
    """

    state_attrs = ("_z", "_t", "_w")

    def __init__(
        self, game: Game, step_size: Any, *, cg_iters: int = 50, cg_tol: float = 1e-6, **kw: Any
    ) -> None:
        super().__init__(game, "leader", step_size, **kw)
        if isinstance(cg_iters, bool) or not isinstance(cg_iters, (int, np.integer)):
            raise TypeError(f"cg_iters must be a positive integer, got {cg_iters!r}")
        if cg_iters < 1:
            raise ValueError(f"cg_iters must be a positive integer, got {cg_iters!r}")
        self.cg_iters = int(cg_iters)
        self.cg_tol = _positive("cg_tol", cg_tol)

    def _reset(self) -> None:
        super()._reset()
        self._w = np.zeros((self._S, self.game.d2))

    def _direction(self, obs: np.ndarray) -> np.ndarray:
        d, self._w = _rules_ns.hierarchical_cg(
            self.game, self._z, obs, self._w, self.cg_iters, self.cg_tol
        )
        return d
