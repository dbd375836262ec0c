"""The game interface: two-player differentiable games with their ground truth.

A game has a leader with strategy ``x`` in a box ``X`` in R^d1 and a follower with strategy
``y`` in a box ``Y`` in R^d2. Both players *maximise* their payoffs ``f1(x, y)`` and
``f2(x, y)``.

Every method works on a leading batch axis: ``x`` has shape ``(..., d1)`` and ``y`` has shape
``(..., d2)``; the leading axes broadcast against each other. Payoffs have shape ``(...)``,
gradients ``(..., d)``, Hessian blocks ``(..., d_a, d_b)``. Arrays are float64.

Subclasses implement the two payoffs and, where they know them, the analytic derivatives, the
closed-form best response and equilibria. Everything else has a numeric default here
(central finite differences, scipy's bounded optimiser), so a game given only its payoffs is
still complete. This module imports NumPy and SciPy only.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable

import numpy as np
import scipy
from numpy.typing import ArrayLike

from hic_envs.games import _checks
from hic_envs.games.array_api import namespace

__all__ = ["Equilibrium", "Game", "as_bounds"]

Array = np.ndarray

#: Step multiplier of the differences used for second derivatives of payoff-only games: for a
#: difference of a difference, a relative step of ``1e-4`` balances rounding (``eps / h^2``)
#: and truncation (``h^2``) errors at about ``1e-8``, where the first-derivative step ``1e-6``
#: would leave rounding errors of ``1e-4``.
_SECOND_ORDER_SCALE = 100.0


@dataclasses.dataclass(frozen=True, eq=False)
class Equilibrium:
    """A joint strategy ``(x, y)`` with both payoffs there.

    It unpacks as the strategy pair, ``x, y = game.stackelberg()``. Two equilibria are equal
    when their strategies are equal entry by entry (same shapes) and their payoffs are equal;
    equal equilibria hash alike, so they can be dict keys and set members.

    Attributes:
        x: leader strategy, shape ``(d1,)``.
        y: follower strategy, shape ``(d2,)``.
        leader_payoff: ``f1(x, y)``.
        follower_payoff: ``f2(x, y)``.
    """

    x: Array
    y: Array
    leader_payoff: float
    follower_payoff: float

    def __iter__(self):
        """``x, y = equilibrium``: the strategies, not the payoffs."""
        return iter((self.x, self.y))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Equilibrium):
            return NotImplemented
        return (
            np.array_equal(self.x, other.x)
            and np.array_equal(self.y, other.y)
            and self.leader_payoff == other.leader_payoff
            and self.follower_payoff == other.follower_payoff
        )

    def __hash__(self) -> int:
        # +0.0 so that -0.0 and 0.0 (equal under ==) hash alike.
        x = np.asarray(self.x, dtype=np.float64) + 0.0
        y = np.asarray(self.y, dtype=np.float64) + 0.0
        return hash(
            (x.shape, x.tobytes(), y.shape, y.tobytes(), self.leader_payoff, self.follower_payoff)
        )

    def __repr__(self) -> str:
        fmt = lambda a: np.array2string(np.asarray(a), precision=6, separator=", ")  # noqa: E731
        return (
            f"Equilibrium(x={fmt(self.x)}, y={fmt(self.y)}, "
            f"leader_payoff={self.leader_payoff:.6g}, follower_payoff={self.follower_payoff:.6g})"
        )


def as_bounds(low: ArrayLike, high: ArrayLike, name: str) -> tuple[Array, Array]:
    """Validate a box ``[low, high]`` and return it as two float64 1-D arrays.

    Raises:
        ValueError: if the bounds are not finite, not 1-D, of unequal length, or ``low >= high``.
    """
    lo = np.atleast_1d(np.asarray(low, dtype=np.float64))
    hi = np.atleast_1d(np.asarray(high, dtype=np.float64))
    if lo.ndim != 1 or hi.ndim != 1 or lo.shape != hi.shape or lo.size == 0:
        raise ValueError(
            f"{name} bounds must be two non-empty 1-D sequences of equal length, "
            f"got low shape {lo.shape} and high shape {hi.shape}"
        )
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError(f"{name} bounds must be finite, got low={lo.tolist()}, high={hi.tolist()}")
    if np.any(lo >= hi):
        raise ValueError(
            f"{name} bounds need low < high everywhere, got low={lo.tolist()}, high={hi.tolist()}"
        )
    return lo, hi


def _fd_jacobian(fn: Callable[[Array], Array], z: Array, scale: Array) -> Array:
    """Central-difference Jacobian of ``fn`` w.r.t. the last axis of ``z``.

    ``fn`` maps ``(..., n)`` to ``(..., *out)``; the result has shape ``(..., *out, n)``.
    Array-API code: the namespace is ``z``'s (NumPy arrays take NumPy's own operations, so
    their bits are unchanged).
    """
    xp = namespace(z)
    n = z.shape[-1]
    h = 1e-6 * xp.maximum(1.0, xp.abs(z)) * scale  # relative step, robust for large strategies
    cols = []
    for i in range(n):
        if xp is np:
            e = np.zeros(z.shape)
            e[..., i] = h[..., i]
        else:  # no item assignment: the same values by a mask
            e = xp.where(xp.arange(n) == i, h, 0.0)
        diff = fn(z + e) - fn(z - e)
        out_ndim = diff.ndim - (z.ndim - 1)
        step = xp.reshape(h[..., i], h.shape[:-1] + (1,) * out_ndim)
        cols.append(diff / (2.0 * step))
    return xp.stack(cols, axis=-1)


def _matvec(h: Array, v: Array) -> Array:
    """``h @ v`` over the batch: ``(..., m, n), (..., n) -> (..., m)`` (a BLAS call per row,
    about half of ``einsum``'s time on a broadcast block)."""
    return namespace(h, v).matmul(h, v[..., None])[..., 0]


def _vecmat(v: Array, h: Array) -> Array:
    """``v @ h`` over the batch: ``(..., m), (..., m, n) -> (..., n)``."""
    return namespace(h, v).matmul(v[..., None, :], h)[..., 0, :]


def _directional_difference(
    grad: Callable[[Array], Array], z: Array, v: Array, step: float
) -> Array:
    """``(grad(z + h v) - grad(z - h v)) / 2h`` per row, the derivative of ``grad`` along
    ``v``; ``h = step max(1, |z|) / |v|`` (max norms), and zero where ``v`` is zero."""
    xp = namespace(z, v)
    vmax = xp.max(xp.abs(v), axis=-1, keepdims=True)
    zmax = xp.maximum(1.0, xp.max(xp.abs(z), axis=-1, keepdims=True))
    safe = xp.where(vmax > 0, vmax, 1.0)
    h = step * zmax / safe
    out = (grad(z + h * v) - grad(z - h * v)) / (2.0 * h)
    return xp.where(vmax > 0, out, 0.0)


class Game:
    """Base class of every game. Subclasses set the bounds and implement the payoffs.

    Subclass contract:
        * call ``super().__init__(leader_low, leader_high, follower_low, follower_high, ...)``;
        * implement :meth:`leader_payoff` and :meth:`follower_payoff`;
        * override any derivative, :meth:`best_response`, :meth:`stackelberg` or :meth:`nash`
          they know in closed form (the numeric defaults are slower and approximate).

    Attributes:
        name: CamelCase name used in environment IDs (``hic/<name>-v0``).
        leader_low, leader_high: the leader's box ``X``, shape ``(d1,)``.
        follower_low, follower_high: the follower's box ``Y``, shape ``(d2,)``.
        mu: strong-concavity constant of ``f2`` in ``y`` (Assumption 4.8) where known, else None.
        K2: smoothness constant of ``f2`` in ``y`` (Assumption 4.8) where known, else None.
        array_api: a declared capability (class attribute): whether :meth:`payoffs` and
            :meth:`follower_grad_given` (by default :meth:`follower_grad`) are array-API code
            that takes its namespace from its arguments (:mod:`hic_envs.games.array_api`), so
            that the JAX engine can trace them. Every library game is; a subclass whose
            payoffs call NumPy or SciPy on their arguments sets it to False (as
            :class:`~hic_envs.games.CustomGame` does) and runs on the NumPy engine only.
        array_api_best_response: a declared capability (class attribute): whether
            :meth:`best_response` (and so :meth:`hierarchical_payoff`) is array-API code the
            JAX engine can trace, as the derivatives are wherever :attr:`array_api` is (their
            difference defaults included). False for the default, a numerical solve with
            SciPy's L-BFGS-B (a game given only its payoffs); every library game but
            :class:`~hic_envs.games.MogGAN` (whose best response is that solve) sets it True.
            The best-response follower and the oracle SPSA leader need it on the JAX engine.
        has_equilibria: a declared capability (class attribute): whether :meth:`stackelberg`
            and :meth:`nash` give an answer. True for every game but those whose equilibria
            are unknown and not computable (:class:`~hic_envs.games.MogGAN`, a neural GAN
            whose follower breaks Assumption 4.8): there both raise ``ValueError``, and
            whoever draws or scores against the equilibria (rendering, the docs pages, ``hic
            list --equilibria``) leaves them out.
    """

    name: str = "Game"
    array_api: bool = True
    array_api_best_response: bool = False
    has_equilibria: bool = True

    def __init__(
        self,
        leader_low: ArrayLike,
        leader_high: ArrayLike,
        follower_low: ArrayLike,
        follower_high: ArrayLike,
        *,
        mu: float | None = None,
        K2: float | None = None,
    ) -> None:
        self.leader_low, self.leader_high = as_bounds(leader_low, leader_high, "leader")
        self.follower_low, self.follower_high = as_bounds(follower_low, follower_high, "follower")
        self.mu = None if mu is None else _checks.positive("mu", mu)
        self.K2 = None if K2 is None else _checks.positive("K2", K2)
        self._stackelberg_cache: Equilibrium | None = None
        self._nash_cache: tuple[Equilibrium | None] | None = None

    # ------------------------------------------------------------------ dimensions
    @property
    def d1(self) -> int:
        """Leader dimension."""
        return self.leader_low.shape[0]

    @property
    def d2(self) -> int:
        """Follower dimension."""
        return self.follower_low.shape[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(d1={self.d1}, d2={self.d2})"

    # ------------------------------------------------------------------ payoffs
    def leader_payoff(self, x: Array, y: Array) -> Array:
        """``f1(x, y)``, shape ``(...)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement leader_payoff")

    def follower_payoff(self, x: Array, y: Array) -> Array:
        """``f2(x, y)``, shape ``(...)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement follower_payoff")

    def payoffs(self, x: Array, y: Array) -> tuple[Array, Array]:
        """Both payoffs at once; games may override to share work."""
        return self.leader_payoff(x, y), self.follower_payoff(x, y)

    # ------------------------------------------------------------------ first derivatives
    def leader_grad(self, x: Array, y: Array) -> Array:
        """``grad_x f1(x, y)``, shape ``(..., d1)``. Default: central differences."""
        x, y = self._broadcast(x, y)
        return _fd_jacobian(lambda z: self.leader_payoff(z, y), x, self._x_scale)

    def follower_grad(self, x: Array, y: Array) -> Array:
        """``grad_y f2(x, y)``, shape ``(..., d2)``. Default: central differences."""
        x, y = self._broadcast(x, y)
        return _fd_jacobian(lambda z: self.follower_payoff(x, z), y, self._y_scale)

    def follower_grad_given(self, x: Array) -> Callable[[Array], Array]:
        """``y -> follower_grad(x, y)`` for one fixed leader action ``x``.

        A follower that takes many steps against the same observed action (a gradient
        follower within a Hi-C commitment interval) calls this once and the result at every
        step. Games whose gradient has a part that depends on ``x`` alone may override it to
        compute that part once; the values must equal ``follower_grad(x, y)`` bit for bit (a
        ground-truth test checks every library game). Default: ``follower_grad`` itself.

        A game whose function refuses non-finite values (raises, as
        :class:`~hic_envs.games.ArrayGame`'s does) may give it an attribute ``unchecked``: a
        function with the same values that need not refuse them, and need only accept the
        engines' strategies (float64 arrays of shape ``(S, d2)``, ``S`` the rows of ``x``),
        for callers that check every value they step with themselves
        (:func:`agents.rules.ascent_steps`, which calls the checked function again where its
        own check finds a non-finite value, so the game's error is raised as before).
        """
        grad = self.follower_grad
        return lambda y: grad(x, y)

    def leader_grad_y(self, x: Array, y: Array) -> Array:
        """``grad_y f1(x, y)``, shape ``(..., d2)``: what the leader's payoff does when the
        follower moves. Default: central differences."""
        x, y = self._broadcast(x, y)
        return _fd_jacobian(lambda z: self.leader_payoff(x, z), y, self._y_scale)

    # ------------------------------------------------------------------ second derivatives
    def follower_hess_yy(self, x: Array, y: Array) -> Array:
        """``grad_yy f2(x, y)``, shape ``(..., d2, d2)``, symmetrised. Default: differences of
        :meth:`follower_grad`; where that is itself a difference (a payoff-only game), both
        differences take the second-derivative step (accurate to about ``1e-8`` relative)."""
        x, y = self._broadcast(x, y)
        scale = self._y_scale * self._outer_step(self._follower_grad_is_numeric())
        h = _fd_jacobian(lambda z: self._coarse_follower_grad(x, z), y, scale)
        return 0.5 * (h + namespace(h).matrix_transpose(h))

    def follower_hess_yx(self, x: Array, y: Array) -> Array:
        """``grad_yx f2(x, y)``: the Jacobian of ``grad_y f2`` w.r.t. ``x``, shape
        ``(..., d2, d1)``. Default: differences of :meth:`follower_grad`, with the
        second-derivative step where that is itself a difference."""
        x, y = self._broadcast(x, y)
        scale = self._x_scale * self._outer_step(self._follower_grad_is_numeric())
        return _fd_jacobian(lambda z: self._coarse_follower_grad(z, y), x, scale)

    def _follower_grad_is_numeric(self) -> bool:
        """Whether :meth:`follower_grad` is the difference default (not a closed form)."""
        return type(self).follower_grad is Game.follower_grad

    def _leader_grad_is_numeric(self) -> bool:
        """Whether :meth:`leader_grad` is the difference default (not a closed form)."""
        return type(self).leader_grad is Game.leader_grad

    @staticmethod
    def _outer_step(inner_is_numeric: bool) -> float:
        """Step multiplier of the outer difference of a second derivative."""
        return _SECOND_ORDER_SCALE if inner_is_numeric else 1.0

    def _coarse_follower_grad(self, x: Array, y: Array) -> Array:
        """``grad_y f2`` with the second-derivative step when it is itself a difference."""
        if not self._follower_grad_is_numeric():
            return self.follower_grad(x, y)
        return _fd_jacobian(
            lambda z: self.follower_payoff(x, z), y, self._y_scale * _SECOND_ORDER_SCALE
        )

    def _coarse_leader_grad(self, x: Array, y: Array) -> Array:
        """``grad_x f1`` with the second-derivative step when it is itself a difference."""
        if not self._leader_grad_is_numeric():
            return self.leader_grad(x, y)
        return _fd_jacobian(
            lambda z: self.leader_payoff(z, y), x, self._x_scale * _SECOND_ORDER_SCALE
        )

    def leader_hess_yx(self, x: Array, y: Array) -> Array:
        """``grad_yx f1(x, y)``: the Jacobian of ``grad_y f1`` w.r.t. ``x``, shape
        ``(..., d2, d1)`` (what LOLA's corrected first-order term needs). Default: differences
        of :meth:`leader_grad_y`."""
        x, y = self._broadcast(x, y)
        return _fd_jacobian(lambda z: self.leader_grad_y(z, y), x, self._x_scale)

    # ------------------------------------------------------------------ matrix-free derivatives
    def follower_grad_x(self, x: Array, y: Array) -> Array:
        """``grad_x f2(x, y)``, shape ``(..., d1)``: what the follower's payoff does when the
        leader moves (the symmetric counterpart of :meth:`leader_grad_y`). Default: central
        differences."""
        x, y = self._broadcast(x, y)
        return _fd_jacobian(lambda z: self.follower_payoff(z, y), x, self._x_scale)

    def payoff_hvp(self, player: str, block: str, x: Array, y: Array, v: Array) -> Array:
        """A Hessian-vector product of one player's payoff: ``H v`` for one block of its
        Hessian, without forming ``H`` where a game knows better.

        Contract (every override keeps it):
            * ``player`` is ``"leader"`` (``f = f1``) or ``"follower"`` (``f = f2``);
            * ``block`` is ``"ab"`` with ``a, b`` in ``{"x", "y"}``; the block is
              ``H[i, j] = d^2 f / da_i db_j``, of shape ``(d_a, d_b)``; so ``"xy"`` is the
              transpose of ``"yx"`` (``follower_hess_yx`` is the follower's ``"yx"`` block,
              ``leader_hess_yx`` the leader's, ``follower_hess_yy`` the follower's ``"yy"``);
            * ``x`` ``(..., d1)``, ``y`` ``(..., d2)`` and ``v`` ``(..., d_b)`` broadcast
              against each other on their leading axes; the result is ``(..., d_a)``, float64,
              ``result[..., i] = sum_j H[..., i, j] v[..., j]``;
            * it is linear in ``v`` (exactly, for closed forms; to rounding, for the
              difference default) and reads nothing but its arguments and the game.

        Default: where the game overrides the dense block (``follower_hess_yy``,
        ``follower_hess_yx``, ``leader_hess_yx``, or their transposes for ``"xy"``), that
        block times ``v``; otherwise a central difference of the matching gradient
        (``leader_grad``, ``leader_grad_y``, :meth:`follower_grad_x`, ``follower_grad``)
        along ``v``, ``(g(z + h v) - g(z - h v)) / 2h`` with ``h = 6e-6 max(1, |z|) / |v|``
        per row (max norms; ``6e-6`` about the cube root of float64's epsilon balances
        rounding and truncation for an analytic gradient, to about ``1e-10`` relative); where
        the gradient is itself a difference, both take the second-derivative step
        (``1e-4``, to about ``1e-8`` relative). Rows where
        ``v`` is zero give zero. Games with a cheap closed form override this (quadratic
        games, the IPD, the tandem game, ...); games of many parameters must, since the
        dense default costs ``d_a d_b``.

        Raises:
            ValueError: for an unknown ``player`` or ``block``, or a ``v`` whose last axis is
                not ``d_b``.
        """
        x, y, v = self._hvp_args(player, block, x, y, v)
        dense = self._dense_block(player, block)
        if dense is not None:
            return dense(x, y, v)
        grad, numeric = self._block_grad(player, block[0])
        step = 1e-4 if numeric else 6e-6
        if block[1] == "x":
            return _directional_difference(lambda z: grad(z, y), x, v, step)
        return _directional_difference(lambda z: grad(x, z), y, v, step)

    def _hvp_args(
        self, player: str, block: str, x: Array, y: Array, v: Array
    ) -> tuple[Array, Array, Array]:
        """``x, y, v`` of :meth:`payoff_hvp` as float64 arrays broadcast to one batch shape,
        ``player``, ``block`` and ``v``'s last axis checked (overrides call this first).

        Raises:
            ValueError: for an unknown ``player`` or ``block`` or a ``v`` of the wrong length.
        """
        if player not in ("leader", "follower"):
            raise ValueError(f"player must be 'leader' or 'follower', got {player!r}")
        if block not in ("xx", "xy", "yx", "yy"):
            raise ValueError(f"block must be one of 'xx', 'xy', 'yx', 'yy', got {block!r}")
        xp = namespace(x, y, v)
        x = xp.asarray(x, dtype=xp.float64)
        y = xp.asarray(y, dtype=xp.float64)
        v = xp.asarray(v, dtype=xp.float64)
        d_b = self.d1 if block[1] == "x" else self.d2
        if v.ndim == 0 or v.shape[-1] != d_b:
            raise ValueError(
                f"v must have shape (..., {d_b}) for block {block!r}, got shape {v.shape}"
            )
        batch = np.broadcast_shapes(x.shape[:-1], y.shape[:-1], v.shape[:-1])
        return (
            xp.broadcast_to(x, batch + x.shape[-1:]),
            xp.broadcast_to(y, batch + y.shape[-1:]),
            xp.broadcast_to(v, batch + v.shape[-1:]),
        )

    def _constant_hvp(
        self, table: dict[str, float], player: str, block: str, x: Array, y: Array, v: Array
    ) -> Array:
        """:meth:`payoff_hvp` of a game with one leader and one follower coordinate and
        constant second derivatives: ``table["leader xy"]`` etc. (all eight) times ``v``."""
        x, y, v = self._hvp_args(player, block, x, y, v)
        return table[f"{player} {block}"] * v

    def _dense_block(self, player: str, block: str) -> Callable | None:
        """``(x, y, v) -> H v`` from a dense Hessian block the game overrides, else None."""
        own = type(self)
        if (
            player == "follower"
            and block == "yy"
            and own.follower_hess_yy is not Game.follower_hess_yy
        ):
            return lambda x, y, v: _matvec(self.follower_hess_yy(x, y), v)
        pairs = {
            "follower": ("follower_hess_yx", Game.follower_hess_yx),
            "leader": ("leader_hess_yx", Game.leader_hess_yx),
        }
        name, default = pairs[player]
        if block in ("yx", "xy") and getattr(own, name) is not default:
            hess = getattr(self, name)
            if block == "yx":
                return lambda x, y, v: _matvec(hess(x, y), v)
            return lambda x, y, v: _vecmat(v, hess(x, y))
        return None

    def _block_grad(self, player: str, a: str) -> tuple[Callable[[Array, Array], Array], bool]:
        """The gradient of ``player``'s payoff w.r.t. ``a`` (``"x"`` or ``"y"``), with the
        second-derivative step where it is itself a difference, and whether it is one."""
        own = type(self)
        if player == "leader" and a == "x":
            return self._coarse_leader_grad, self._leader_grad_is_numeric()
        if player == "follower" and a == "y":
            return self._coarse_follower_grad, self._follower_grad_is_numeric()
        if player == "leader" and own.leader_grad_y is not Game.leader_grad_y:
            return self.leader_grad_y, False
        if player == "follower" and own.follower_grad_x is not Game.follower_grad_x:
            return self.follower_grad_x, False
        pay = self.leader_payoff if player == "leader" else self.follower_payoff
        if a == "y":
            scale = self._y_scale * _SECOND_ORDER_SCALE
            return lambda x, y: _fd_jacobian(lambda z: pay(x, z), y, scale), True
        scale = self._x_scale * _SECOND_ORDER_SCALE
        return lambda x, y: _fd_jacobian(lambda z: pay(z, y), x, scale), True

    # ------------------------------------------------------------------ hierarchical quantities
    def total_leader_grad(self, x: Array, y: Array) -> Array:
        """The hierarchical gradient ``D(x, y)`` of Eq. (7), with the chain rule corrected.

        ``D(x, y) = grad_x f1 - (grad_yx f2)^T (grad_yy f2)^{-T} grad_y f1``. At ``y = r(x)``
        this is the total derivative ``grad_x [f1(x, r(x))]`` because, by the implicit function
        theorem, ``grad_x r = -(grad_yy f2)^{-1} grad_yx f2``. (The paper's Eq. (6) prints
        ``grad_y f2`` where the chain rule gives ``grad_y f1``; at a best response ``grad_y f2`` is
        zero, so the printed form would reduce to ``grad_x f1``.) Shape ``(..., d1)``.

        On the boundary of ``Y``: a coordinate ``y_i`` at a bound of ``Y`` where
        ``grad_y f2`` points out of the box is held there by the projection, so nearby
        ``r_i(x)`` stays at the bound and its row of ``grad_x r`` is zero; the implicit
        function theorem then applies to the free coordinates ``F`` only,
        ``grad_x r_F = -(grad_FF f2)^{-1} grad_Fx f2``. This is what is computed, so at
        ``y = r(x)`` the result is the derivative of ``f1(x, r(x))`` also where ``r`` is
        clipped. (Where ``grad_y f2`` is exactly zero at a bound, ``r`` has a kink and no
        derivative; the interior formula, the one-sided derivative from inside, is used.)

        Raises:
            ValueError: where ``grad_yy f2`` (on the free coordinates) is singular: the
                follower's payoff is not strictly concave in ``y`` there (Assumption 4.8).
        """
        xp = namespace(x, y)
        x, y = self._broadcast(x, y)
        g1x = self.leader_grad(x, y)
        g1y = self.leader_grad_y(x, y)
        hyy = self.follower_hess_yy(x, y)
        hyx = self.follower_hess_yx(x, y)
        active = self._held_at_bound(x, y)
        if active is not None:
            # Rows of held coordinates become e_i^T (H) and 0 (H_yx): the solve then gives
            # grad_x r_i = 0 there and the implicit-function rows on the free coordinates.
            rows = active[..., :, None]
            hyy = xp.where(rows, xp.eye(self.d2, dtype=xp.float64), hyy)
            hyx = xp.where(rows, 0.0, hyx)
        if xp is not np:  # traced: no error can be raised (a singular H_yy gives inf or NaN)
            if self.d2 == 1:  # v = g1y / H_yy, the solve's closed form
                return g1x - hyx[..., 0, :] * (g1y / hyy[..., 0, :])
            v = xp.linalg.solve(xp.matrix_transpose(hyy), g1y[..., None])[..., 0]
            return g1x - xp.sum(hyx * v[..., :, None], axis=-2)
        # v = (H_yy)^{-T} grad_y f1 solves H_yy^T v = grad_y f1.
        try:
            v = np.linalg.solve(np.swapaxes(hyy, -1, -2), g1y[..., None])[..., 0]
        except np.linalg.LinAlgError:
            raise ValueError(
                f"grad_yy f2 is singular at some of x={np.asarray(x).tolist()}, "
                f"y={np.asarray(y).tolist()}: the follower's payoff is not strictly concave "
                "in y there (Assumption 4.8), so r(x) and the hierarchical gradient are not "
                "defined"
            ) from None
        return g1x - np.einsum("...ij,...i->...j", hyx, v)

    def _held_at_bound(self, x: Array, y: Array) -> Array | None:
        """Mask ``(..., d2)`` of the coordinates of ``y`` at a bound of ``Y`` that
        ``grad_y f2`` pushes outwards, or None where there is none (the common case, which
        costs one comparison; traced, the mask is always made)."""
        xp = namespace(x, y)
        lo, hi = self.follower_low, self.follower_high
        at_low, at_high = y <= lo, y >= hi
        if xp is np and not (at_low.any() or at_high.any()):
            return None
        g2 = self.follower_grad(x, y)
        active = (at_low & (g2 < 0)) | (at_high & (g2 > 0))
        return active if xp is not np or active.any() else None

    def hierarchical_payoff(self, x: Array) -> Array:
        """The leader's Stackelberg objective ``f1(x, r(x))``, shape ``(...)`` (array-API code
        where :meth:`best_response` is: see :attr:`array_api_best_response`)."""
        xp = namespace(x)
        x = xp.asarray(x, dtype=xp.float64)
        return self.leader_payoff(x, self.best_response(x))

    def hierarchical_grad(self, x: Array) -> Array:
        """``grad_x [f1(x, r(x))] = D(x, r(x))``, shape ``(..., d1)``."""
        xp = namespace(x)
        x = xp.asarray(x, dtype=xp.float64)
        return self.total_leader_grad(x, self.best_response(x))

    def hierarchical_hess(self, x: Array) -> Array:
        """``grad_xx [f1(x, r(x))]`` by central differences of :meth:`hierarchical_grad`,
        symmetrised. Shape ``(..., d1, d1)``."""
        x = np.asarray(x, dtype=np.float64)
        h = _fd_jacobian(self.hierarchical_grad, x, self._x_scale * 100.0)
        return 0.5 * (h + np.swapaxes(h, -1, -2))

    # ------------------------------------------------------------------ best response
    def best_response(self, x: Array) -> Array:
        """``r(x) = argmax_y f2(x, y)`` over the box ``Y``, shape ``(..., d2)``.

        Default: L-BFGS-B on ``-f2`` from the centre of ``Y``, one problem per batch element.
        It finds a local maximiser: the global one where ``f2`` is concave in ``y``
        (Assumption 4.8), which :meth:`stackelberg` checks at the equilibrium it finds.

        Raises:
            ValueError: for a non-finite ``x``, or where the optimiser ends at a non-finite
                point (the payoff is not finite there).
        """
        x = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            raise ValueError(f"best_response needs a finite leader strategy, got {x.tolist()}")
        batch = x.shape[:-1]
        out = np.empty(batch + (self.d2,))
        for idx in np.ndindex(*batch):
            out[idx] = self._numeric_best_response(x[idx])
        return out

    def _numeric_best_response(self, x: Array, y0: Array | None = None) -> Array:
        bounds = list(zip(self.follower_low, self.follower_high, strict=True))
        y0 = 0.5 * (self.follower_low + self.follower_high) if y0 is None else y0
        res = scipy.optimize.minimize(
            lambda y: -float(self.follower_payoff(x, y)),
            y0,
            jac=lambda y: -np.asarray(self.follower_grad(x, y), dtype=np.float64),
            method="L-BFGS-B",
            bounds=bounds,
            options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 10_000},
        )
        if not np.all(np.isfinite(res.x)):
            raise ValueError(
                f"the numeric best response to x={x.tolist()} ended at {res.x.tolist()}: "
                "f2 or its gradient is not finite on the way; check the follower's payoff"
            )
        return np.clip(res.x, self.follower_low, self.follower_high)

    # ------------------------------------------------------------------ equilibria
    def stackelberg(self) -> Equilibrium:
        """The differential Stackelberg equilibrium ``(x*, r(x*))`` (Definition 3.3).

        Default: maximise ``f1(x, r(x))`` over ``X`` with L-BFGS-B from a deterministic set of
        starting points (the centre and a grid of interior points), keeping the best. The result
        is cached. Games that know it in closed form override :meth:`_stackelberg`.
        """
        if self._stackelberg_cache is None:
            self._stackelberg_cache = self._stackelberg()
        return self._stackelberg_cache

    def nash(self) -> Equilibrium | None:
        """A differential Nash equilibrium (Definition 3.1), or None where none exists.

        Default: solve ``grad_x f1 = 0, grad_y f2 = 0`` from several starting points and keep a
        solution inside the boxes where both ``grad_xx f1`` and ``grad_yy f2`` are negative
        definite. Cached. Games that know the answer override :meth:`_nash`.
        """
        if self._nash_cache is None:
            self._nash_cache = (self._nash(),)
        return self._nash_cache[0]

    def _stackelberg(self) -> Equilibrium:
        best_x, best_v = None, -np.inf
        for v, x in self._hierarchical_maxima(self._starts(self.leader_low, self.leader_high)):
            if v > best_v + 1e-12:
                best_x, best_v = x, v
        assert best_x is not None, "the multistart found no finite maximum"
        eq = self.equilibrium_at(best_x, self.best_response(best_x))
        self._warn_if_follower_not_concave(eq)
        return eq

    def _hierarchical_maxima(self, starts: list[Array]) -> list[tuple[float, Array]]:
        """Local maxima of ``f1(x, r(x))`` over ``X`` found by L-BFGS-B on Eq. (7)'s total
        gradient from each start, as ``(f1(x, r(x)), x)`` in the order of ``starts``."""
        lo, hi = self.leader_low, self.leader_high

        def neg_value_and_grad(x: Array) -> tuple[float, Array]:
            # One best response serves both the value and the gradient: with a numeric best
            # response it is the expensive part.
            y = self.best_response(x)
            g = np.asarray(self.total_leader_grad(x, y), dtype=np.float64)
            return -float(self.leader_payoff(x, y)), -g

        found: list[tuple[float, Array]] = []
        progress = _checks.SolveProgress(
            f"{self.name}(d1={self.d1}, d2={self.d2}): solving for the DSE numerically",
            len(starts),
            "optimiser start",
        )

        def watched(x: Array) -> tuple[float, Array]:
            progress.update(len(found))
            return neg_value_and_grad(x)

        for x0 in starts:
            res = scipy.optimize.minimize(
                watched,
                x0,
                jac=True,
                method="L-BFGS-B",
                bounds=list(zip(lo, hi, strict=True)),
                options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10_000},
            )
            x = np.clip(res.x, lo, hi)
            found.append((float(self.hierarchical_payoff(x)), x))
        return found

    def _best_response_is_numeric(self) -> bool:
        """Whether :meth:`best_response` is the optimiser default (not a closed form)."""
        return type(self).best_response is Game.best_response

    def _warn_if_follower_not_concave(self, eq: Equilibrium) -> None:
        """Warn (UserWarning) where Assumption 4.8 visibly fails at a numeric DSE.

        Two checks at ``(x*, y*)``: ``grad_yy f2`` is negative definite on the coordinates of
        ``y*`` inside ``Y``; and, for a numeric best response, no point of a deterministic set
        in ``Y`` (the centre and interior points) beats ``f2(x*, y*)``. Either failure means
        the follower's payoff is not concave in ``y``: ``y*`` may be a local maximum (or a
        saddle) and ``x*`` only a local "DSE".
        """
        x, y = eq.x, eq.y
        problems = []
        free = (y > self.follower_low) & (y < self.follower_high)
        if free.any():
            h = np.asarray(self.follower_hess_yy(x, y), dtype=np.float64)[np.ix_(free, free)]
            if not (np.all(np.isfinite(h)) and _is_negative_definite(h)):
                eig = np.linalg.eigvalsh(0.5 * (h + h.T)) if np.all(np.isfinite(h)) else h
                problems.append(
                    f"grad_yy f2 is not negative definite there (eigenvalues {np.ravel(eig)})"
                )
        if self._best_response_is_numeric():
            ys = np.stack(self._starts(self.follower_low, self.follower_high))
            f2s = np.asarray(self.follower_payoff(np.broadcast_to(x, (len(ys), self.d1)), ys))
            best = int(np.argmax(f2s))
            tol = 1e-9 * max(1.0, abs(eq.follower_payoff))
            if f2s[best] > eq.follower_payoff + tol:
                problems.append(
                    f"f2(x*, {ys[best].tolist()}) = {f2s[best]:.6g} exceeds f2(x*, y*) = "
                    f"{eq.follower_payoff:.6g}, so the numeric best response is only a local "
                    "maximum"
                )
        if problems:
            warnings.warn(
                f"{self!r}: Assumption 4.8 (f2 strongly concave in y) fails at the numeric DSE "
                f"x*={x.tolist()}, y*={y.tolist()}: "
                + "; ".join(problems)
                + ". The equilibrium found may be only local.",
                UserWarning,
                stacklevel=3,
            )

    def _nash(self) -> Equilibrium | None:
        lo = np.concatenate([self.leader_low, self.follower_low])
        hi = np.concatenate([self.leader_high, self.follower_high])
        d1 = self.d1

        def omega(z: Array) -> Array:
            return np.concatenate(
                [self.leader_grad(z[:d1], z[d1:]), self.follower_grad(z[:d1], z[d1:])]
            )

        def omega_boxed(z: Array) -> Array:
            # The solver may step outside the boxes, where a payoff can be undefined (a log, a
            # square root). Evaluate at the projection and extend linearly: inside the boxes
            # this is omega itself, and roots outside them are rejected below anyway.
            zc = np.clip(z, lo, hi)
            return omega(zc) - (z - zc)

        for z0 in self._starts(lo, hi):
            with np.errstate(all="ignore"):
                sol = scipy.optimize.root(omega_boxed, z0, method="hybr", options={"xtol": 1e-13})
            z = sol.x
            # hybr reports failure when xtol is too tight to make progress even at an exact
            # root, so judge the solution by its residual, not by ``sol.success``.
            if not np.all(np.isfinite(z)) or np.any(z < lo) or np.any(z > hi):
                continue
            if np.linalg.norm(omega(z)) > 1e-7 * max(1.0, np.abs(z).max()):
                continue
            x, y = z[:d1], z[d1:]
            hxx = _fd_jacobian(
                lambda u, y=y: self._coarse_leader_grad(u, y),  # type: ignore[misc]
                x,
                self._x_scale * self._outer_step(self._leader_grad_is_numeric()),
            )
            hyy = self.follower_hess_yy(x, y)
            if _is_negative_definite(hxx) and _is_negative_definite(hyy):
                return self.equilibrium_at(x, y)
        return None

    @staticmethod
    def _starts(lo: Array, hi: Array, n: int = 5) -> list[Array]:
        """Deterministic starting points: the centre, then points of a low-discrepancy set."""
        starts = [0.5 * (lo + hi)]
        fracs = np.array([0.25, 0.75, 0.1, 0.9, 0.4, 0.6])[: n - 1]
        d = lo.shape[0]
        for k, f in enumerate(fracs):
            shift = (f + np.arange(d) * 0.61803398875 * (k + 1)) % 1.0
            starts.append(lo + (hi - lo) * (0.05 + 0.9 * shift))
        return starts

    def equilibrium_at(self, x: ArrayLike, y: ArrayLike) -> Equilibrium:
        """Package ``(x, y)`` as an :class:`Equilibrium` with both payoffs."""
        xa = np.asarray(x, dtype=np.float64).copy()
        ya = np.asarray(y, dtype=np.float64).copy()
        xa.flags.writeable = False
        ya.flags.writeable = False
        return Equilibrium(
            x=xa,
            y=ya,
            leader_payoff=float(self.leader_payoff(xa, ya)),
            follower_payoff=float(self.follower_payoff(xa, ya)),
        )

    # ------------------------------------------------------------------ projections and helpers
    def project_leader(self, x: Array) -> Array:
        """Euclidean projection onto ``X`` (a clip, since ``X`` is a box)."""
        return np.clip(x, self.leader_low, self.leader_high)

    def project_follower(self, y: Array) -> Array:
        """Euclidean projection onto ``Y``."""
        return np.clip(y, self.follower_low, self.follower_high)

    def distance_to_stackelberg(self, x: Array) -> Array:
        """``||x - x*||`` for leader strategies of shape ``(..., d1)``."""
        return np.linalg.norm(np.asarray(x) - self.stackelberg().x, axis=-1)

    def info(self) -> dict:
        """A JSON-friendly summary: name, dimensions, bounds, constants and equilibria."""
        dse = self.stackelberg()
        ne = self.nash()
        return {
            "name": self.name,
            "d1": self.d1,
            "d2": self.d2,
            "leader_bounds": [self.leader_low.tolist(), self.leader_high.tolist()],
            "follower_bounds": [self.follower_low.tolist(), self.follower_high.tolist()],
            "mu": self.mu,
            "K2": self.K2,
            "stackelberg": {
                "x": dse.x.tolist(),
                "y": dse.y.tolist(),
                "f1": dse.leader_payoff,
                "f2": dse.follower_payoff,
            },
            "nash": None
            if ne is None
            else {
                "x": ne.x.tolist(),
                "y": ne.y.tolist(),
                "f1": ne.leader_payoff,
                "f2": ne.follower_payoff,
            },
        }

    @property
    def _x_scale(self) -> Array:
        return np.ones(self.d1)

    @property
    def _y_scale(self) -> Array:
        return np.ones(self.d2)

    @staticmethod
    def _broadcast(x: Array, y: Array) -> tuple[Array, Array]:
        xp = namespace(x, y)
        x = xp.asarray(x, dtype=xp.float64)
        y = xp.asarray(y, dtype=xp.float64)
        batch = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        return (xp.broadcast_to(x, batch + x.shape[-1:]), xp.broadcast_to(y, batch + y.shape[-1:]))


def _is_negative_definite(h: Array) -> bool:
    h = 0.5 * (h + h.T)
    return bool(np.all(np.linalg.eigvalsh(h) < 0))
