"""The coupled methods of the differentiable-games literature, as pure functions.

Each function takes the game (its derivative methods: ``leader_grad``, ``follower_grad``,
``leader_grad_y``, ``follower_grad_x`` and the matrix-free ``payoff_hvp``) and a batch of
joint strategies ``x (S, d1)``, ``y (S, d2)``, and returns **both** players' ascent
directions ``(dx, dy)`` at that point (the hierarchical gradient: the leader's only). A
learner for one player (:mod:`agents.coupled`) steps along its own half; two learners of
the same method, updating simultaneously from the same ``(x, y)``, are then exactly the
joint algorithm of the literature (the quantities some methods share between the players,
SOS's ``p`` and the symplectic adjustment's ``lambda``, are computed from both halves).

Conventions. Both players *maximise* (payoff ``f = -L`` for the literature's losses ``L``);
``g = (grad_x f1, grad_y f2)`` is the simultaneous ascent field and
``J = [[f1_xx, f1_xy], [f2_yx, f2_yy]]`` its Jacobian, ``f_ab`` the block
``d^2 f / da db`` (``payoff_hvp(player, "ab", ...)``). Every product with a block is a
Hessian-vector product: no method forms a matrix, so each costs a few gradient evaluations
where the game's ``payoff_hvp`` is matrix-free. Every function is deterministic and
stateless (the hierarchical gradient's conjugate-gradient warm start is an explicit
argument and result).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from agents.rules.xp import namespace, while_loop

__all__ = [
    "conjugate_gradient",
    "consensus",
    "extragradient",
    "hierarchical_cg",
    "lola",
    "lookahead",
    "naive",
    "sos",
    "symplectic",
]


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
    operations; under NumPy the last allowed iteration updates ``u`` alone (its residual and
    next direction would never be read).

    The loop is :func:`agents.rules.xp.while_loop`: a Python loop under NumPy, JAX's
    ``while_loop`` in JAX's namespace (the JAX engine), with the same stopping test; the
    count is then a traced integer.
    """
    xp = namespace(b, x0)
    tiny = 1e-300

    def step(u: Any, r: Any, p: Any, rs: Any) -> tuple[Any, Any, Any, Any]:
        ap = matvec(p)
        alpha = rs / (_dot(p, ap) + tiny)
        u = u + alpha * p
        r = r - alpha * ap
        rs_new = _dot(r, r)
        return u, r, r + (rs_new / (rs + tiny)) * p, rs_new

    u = x0
    r = b - matvec(u)
    p = r
    rs = _dot(r, r)
    stop = (tol * tol) * _dot(b, b)
    if xp is np:  # step's operations inline (this runs at every stage of the NumPy engine)
        reduce = np.add.reduce  # what ndarray.sum calls: the same pairwise sums
        k = 0
        while k < iters and (rs > stop).any():
            ap = matvec(p)
            alpha = rs / (reduce(p * ap, axis=-1, keepdims=True) + tiny)
            if k + 1 == iters:  # the last allowed step: its residual and direction are never read
                return u + alpha * p, iters
            u = u + alpha * p
            r = r - alpha * ap
            rs_new = reduce(r * r, axis=-1, keepdims=True)
            p = r + (rs_new / (rs + tiny)) * p
            rs = rs_new
            k += 1
        return u, k

    def cond(c: tuple) -> Any:
        return (c[4] < iters) & xp.any(c[3] > stop)

    def body(c: tuple) -> tuple:
        return (*step(*c[:4]), c[4] + 1)

    zero = xp.asarray(0, dtype=xp.int64)
    u, r, p, rs, k = while_loop(xp, cond, body, (xp.asarray(u), r, p, rs, zero))
    return u, k


def hierarchical_cg(
    game: Any, x: Any, y: Any, w0: Any, iters: int = 50, tol: float = 1e-6, damping: float = 0.0
) -> tuple[Any, Any]:
    """The hierarchical gradient ``D = grad_x f1 - f2_xy (f2_yy)^{-1} grad_y f1`` (Fiez et
    al., Eq. 7-8) matrix-free: ``w = (f2_yy)^{-1} grad_y f1`` by conjugate gradient on
    ``(-f2_yy) w = -grad_y f1`` (``-f2_yy`` positive definite where the follower's payoff is
    strictly concave) from the warm start ``w0``, then one product ``f2_xy w``, as Fiez et
    al. and Stackelberg actor-critic do. Returns ``(D, w)``; ``w`` is the next warm start.
    Interior formula: unlike ``Game.total_leader_grad`` it does not hold coordinates of ``y``
    at a bound of ``Y``.

    ``damping`` ``lambda >= 0`` regularises the follower's Hessian as Fiez et al. do
    (Levenberg/Tikhonov): ``w = (f2_yy - lambda I)^{-1} grad_y f1``, i.e. conjugate gradient
    on ``(lambda I - f2_yy) w = -grad_y f1``, positive definite once ``lambda`` exceeds the
    largest eigenvalue of ``f2_yy`` (where the follower's payoff is not concave), so the solve
    is well posed and ``grad_y f1 . w < 0``. ``damping = 0`` (the default) is the undamped
    update, the same operations and bits. A column ``(S, 1)`` gives each row its own.
    """
    hvp = game.payoff_hvp
    g1y = game.leader_grad_y(x, y)
    if not (isinstance(damping, (int, float)) and damping == 0):
        lam = damping

        def matvec(u: Any) -> Any:
            return lam * u - hvp("follower", "yy", x, y, u)

    else:

        def matvec(u: Any) -> Any:
            return -hvp("follower", "yy", x, y, u)

    w, _ = conjugate_gradient(matvec, -g1y, w0, iters, tol)
    return game.leader_grad(x, y) - hvp("follower", "xy", x, y, w), w
