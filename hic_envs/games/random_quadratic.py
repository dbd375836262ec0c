"""Seeded random quadratic games of any dimension, with closed-form ground truth."""

from __future__ import annotations

import numbers
from typing import cast

import numpy as np

from hic_envs.games import _checks
from hic_envs.games.array_api import namespace, spread
from hic_envs.games.base import Equilibrium, Game

__all__ = ["RandomQuadraticGame"]


#: Largest ``K2 / mu`` accepted: the eigenvalues of ``H`` as computed are within about
#: ``d2 * 2.2e-16 * K2`` of the designed ones, which must stay well below ``mu``.
_MAX_CONDITION = 1e8


def _orthogonal(rng: np.random.Generator, d: int) -> np.ndarray:
    """A Haar-random orthogonal matrix (QR of a Gaussian matrix with the signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _spd(rng: np.random.Generator, d: int, low: float, high: float) -> np.ndarray:
    """A random symmetric matrix with eigenvalues drawn uniformly from ``[low, high]``."""
    q = _orthogonal(rng, d)
    return (q * rng.uniform(low, high, d)) @ q.T


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.flags.writeable = False
    return a


#: ``payoff_hvp``'s operand per ``(player, block)``: the attribute holding ``H^T`` of the block
#: (None: the zero block).
_HVP_OPERANDS = {
    ("leader", "xx"): "_neg_A",
    ("leader", "xy"): "_Bt",
    ("leader", "yx"): "B",
    ("leader", "yy"): "_neg_C",
    ("follower", "xx"): None,
    ("follower", "xy"): "G",
    ("follower", "yx"): "_Gt",
    ("follower", "yy"): "_neg_H",
}
_UNKNOWN = object()


class RandomQuadraticGame(Game):
    """A random general-sum quadratic game with a strongly concave follower, for any ``d1, d2``.

    ## Description
    A reproducible family of test problems for scaling studies (tested up to ``d = 1000``:
    construction is ``O(d^3)`` once, every per-stage method ``O(d^2)`` per row, the
    Hessian-vector products of :meth:`payoff_hvp` one product with a coefficient matrix):
    every draw has a unique, interior DSE and a best response known in closed form, the
    follower's curvature lies in ``[mu, K2]`` exactly, and the leader's hierarchical objective
    is strictly concave by construction. All randomness comes from
    ``np.random.default_rng(seed)``; the same arguments always give the same game.

    ## Strategy spaces
    | player   | dim  | low                    | high                   |
    |----------|------|------------------------|------------------------|
    | leader   | d1   | ``-leader_bound``      | ``leader_bound``       |
    | follower | d2   | ``r0 - w``             | ``r0 + w``             |

    where ``r0 = H^{-1} h`` is the best response to ``x = 0`` and
    ``w_i = leader_bound * sum_j |R_ij| + 1`` with ``R = H^{-1} G``: the follower's box contains
    ``r(X)`` (the image of every corner of ``X``) with a margin of 1, so the best response is
    interior for every leader strategy.

    ## Payoffs
    ``f1(x, y) = -x^T A x / 2 + x^T B y + a^T x - y^T C y / 2 + c^T y`` and
    ``f2(x, y) = -y^T H y / 2 + y^T G x + h^T y``, with ``H`` symmetric and eigenvalues in
    ``[mu, K2]`` (both ends attained when ``d2 >= 2``; for ``d2 = 1`` the eigenvalue is
    ``mu``), so ``f2`` is ``mu``-strongly concave and ``K2``-smooth in ``y``.

    The draw (in this order from the generator): ``H = Q diag(lambda) Q^T`` with ``Q`` Haar
    orthogonal, ``G ~ N(0, 1/d1)``, ``h ~ N(0, 1/4)``, ``B ~ coupling * N(0, 1/d2)``, ``C``
    symmetric with eigenvalues in ``[0, 1]``, ``c ~ N(0, 1/4)``, ``P`` symmetric with eigenvalues
    in ``[1, 2]``, ``x* ~ U[-leader_bound / 2, leader_bound / 2]^d1``. Then
    ``A = P + B R + R^T B^T + s I``, with the smallest shift ``s >= 0`` that makes the smallest
    eigenvalue of ``A`` at least ``1/2``, and ``a`` is set so that the DSE is at ``x*``.

    ## Equilibria
    * Best response: ``r(x) = H^{-1} (G x + h) = R x + r0``.
    * DSE: substituting ``r`` gives a quadratic with Hessian
      ``-M = -(A - B R - R^T B^T + R^T C R) = -(P + s I + R^T C R)``, negative definite by the
      choice of ``A``; its maximiser solves ``M x* = a + B r0 + R^T (c - C r0)``,
      ``y* = r(x*)``. ``x*`` lies in ``[-leader_bound / 2, leader_bound / 2]^d1``.
    * Nash: ``grad_x f1 = 0`` and ``grad_y f2 = 0`` give ``y = r(x)`` and
      ``(A - B R) x = a + B r0``. Since ``grad_xx f1 = -A`` and ``grad_yy f2 = -H`` are negative
      definite by construction, the solution is a DNE; :meth:`nash` returns it when it lies
      inside ``X`` and None otherwise. With the defaults it lies inside for 18 of the seeds
      0-19 at ``d1 = d2 = 2`` and 13 of them at ``d1 = d2 = 256``; the mean distance between the
      leader's DSE and Nash strategies grows from about 0.25 (``d = 2``) to 3 (``d = 256``).

    ## Arguments
    * ``d1``, ``d2`` (int, default 2): the players' dimensions.
    * ``seed`` (int, default 0): seed of the generator that draws the game; non-negative.
    * ``mu``, ``K2`` (float, default 1 and 4): extreme eigenvalues of ``H``; ``0 < mu <= K2``.
    * ``coupling`` (float, default 0.5): scale of ``B``, how much the leader's payoff depends on
      the follower's strategy through the cross term; non-negative.
    * ``leader_bound`` (float, default 1): half-width of the leader's box; positive.

    ## Notes
    The Hessian methods return the constant matrices through ``np.broadcast_to``: the arrays
    are **read-only views** (no memory is spent on the batch axis, which matters at
    ``d2 = 256``); copy them before writing. The coefficient matrices ``A, B, C, H, G`` and
    vectors ``a, c, h`` are read-only attributes.

    ## Version History
    * v0: initial version.
    """

    name = "RandomQuadratic"
    array_api_best_response = True

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    H: np.ndarray
    G: np.ndarray
    a: np.ndarray
    c: np.ndarray
    h: np.ndarray
    _Bt: np.ndarray
    _Gt: np.ndarray
    _R: np.ndarray
    _Rt: np.ndarray
    _r0: np.ndarray
    _M: np.ndarray
    _neg_H: np.ndarray
    seed: int

    def __init__(
        self,
        d1: int = 2,
        d2: int = 2,
        seed: int = 0,
        mu: float = 1.0,
        K2: float = 4.0,
        coupling: float = 0.5,
        leader_bound: float = 1.0,
    ) -> None:
        d1 = _checks.positive_int("d1", d1)
        d2 = _checks.positive_int("d2", d2)
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        mu = _checks.positive("mu", mu)
        K2 = _checks.positive("K2", K2)
        if K2 < mu:
            raise ValueError(f"need K2 >= mu, got mu={mu!r}, K2={K2!r}")
        self.seed = int(seed)
        self.coupling = _checks.nonnegative("coupling", coupling)
        self.leader_bound = L = _checks.positive("leader_bound", leader_bound)

        # H = Q diag(eig) Q^T carries rounding errors of about d2 * eps * K2 in its eigenvalues;
        # below this ratio they could exceed mu and leave f2 not strongly concave.
        if K2 / mu > _MAX_CONDITION:
            raise ValueError(
                f"need K2 / mu <= {_MAX_CONDITION:g} (float64 cannot make H's smallest "
                f"eigenvalue mu reliably below that), got mu={mu!r}, K2={K2!r}"
            )
        rng = np.random.default_rng(self.seed)
        eig = rng.uniform(mu, K2, d2)
        eig[0] = mu
        if d2 >= 2:
            eig[1] = K2
        q = _orthogonal(rng, d2)
        H = (q * eig) @ q.T
        H = 0.5 * (H + H.T)
        G = rng.standard_normal((d2, d1)) / np.sqrt(d1)
        h = 0.5 * rng.standard_normal(d2)
        with np.errstate(over="ignore"):  # an overflow is refused below, where A is made
            B = self.coupling * rng.standard_normal((d1, d2)) / np.sqrt(d2)
        C = _spd(rng, d2, 0.0, 1.0)
        C = 0.5 * (C + C.T)
        c = 0.5 * rng.standard_normal(d2)
        P = _spd(rng, d1, 1.0, 2.0)
        x_star = rng.uniform(-0.5 * L, 0.5 * L, d1)

        params = {"mu": mu, "K2": K2, "coupling": coupling, "leader_bound": leader_bound}
        R = np.linalg.solve(H, G)
        r0 = np.linalg.solve(H, h)
        with np.errstate(over="ignore", invalid="ignore"):
            BR = B @ R
            A = P + BR + BR.T
            A = 0.5 * (A + A.T)
        if not np.all(np.isfinite(A)):
            raise ValueError(
                f"{', '.join(f'{k}={v!r}' for k, v in params.items())} give a leader Hessian A "
                "that overflows float64; choose a smaller coupling"
            )
        # Shift A (not the hierarchical curvature, which only gains) so that the leader's own
        # payoff is strictly concave in x and a Nash equilibrium, when in X, is a DNE.
        A += max(0.0, 0.5 - float(np.linalg.eigvalsh(A)[0])) * np.eye(d1)
        M = A - BR - BR.T + R.T @ C @ R
        M = 0.5 * (M + M.T)
        a = M @ x_star - (B @ r0 + R.T @ (c - C @ r0))

        # Assumption 4.8 and the strict concavity of f1(x, r(x)) hold for the matrices as
        # computed, not only as designed.
        for what, mat, floor in (("-grad_yy f2 = H", H, mu), ("-grad_xx f1(x, r(x)) = M", M, 0.5)):
            lowest = float(np.linalg.eigvalsh(mat)[0])
            if not lowest >= floor * (1.0 - 1e-6):
                raise ValueError(
                    f"{', '.join(f'{k}={v!r}' for k, v in params.items())} give {what} with "
                    f"smallest eigenvalue {lowest!r} < {floor!r}: the drawn game is not as "
                    "concave as designed in float64; choose a smaller K2 / mu or coupling"
                )
        self.A, self.B, self.C, self.H, self.G = map(_frozen, (A, B, C, H, G))
        self.a, self.c, self.h = map(_frozen, (a, c, h))
        self._Bt, self._Gt, self._R, self._Rt, self._r0 = map(_frozen, (B.T, G.T, R, R.T, r0))
        self._M = _frozen(M)
        self._neg_H = _frozen(-H)
        self._neg_A: np.ndarray = _frozen(-A)
        self._neg_C: np.ndarray = _frozen(-C)
        half = L * np.abs(R).sum(axis=1) + 1.0
        super().__init__(np.full(d1, -L), np.full(d1, L), r0 - half, r0 + half, mu=mu, K2=K2)
        _checks.finite_on_boxes(self, **params)

    def __repr__(self) -> str:
        return f"RandomQuadraticGame(d1={self.d1}, d2={self.d2}, seed={self.seed})"

    # ------------------------------------------------------------------ payoffs
    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        own = (x * (-0.5 * (x @ self.A) + y @ self._Bt + self.a)).sum(axis=-1)
        return own + (y * (-0.5 * (y @ self.C) + self.c)).sum(axis=-1)

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (y * (-0.5 * (y @ self.H) + x @ self._Gt + self.h)).sum(axis=-1)

    # ------------------------------------------------------------------ derivatives
    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # y B^T - x A: (-p) + q is q - p in IEEE arithmetic (the same bits, one operation less).
        return y @ self._Bt - x @ self.A + self.a

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x @ self._Gt - y @ self.H + self.h  # as leader_grad: the same bits

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x @ self.B - y @ self.C + self.c

    def follower_grad_x(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``grad_x f2 = G^T y``, shape ``(..., d1)``."""
        xp = namespace(x, y)
        x, y = xp.asarray(x, dtype=xp.float64), xp.asarray(y, dtype=xp.float64)
        batch = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        return spread(y @ self.G, batch + (self.d1,))

    def payoff_hvp(
        self, player: str, block: str, x: np.ndarray, y: np.ndarray, v: np.ndarray
    ) -> np.ndarray:
        """``H v`` with ``H[i, j] = d^2 f_player / da_i db_j`` for ``block = "ab"``: one product
        with a coefficient matrix, ``O(d^2)`` per row (leader: ``-A``, ``B``, ``B^T``, ``-C``
        for ``xx, xy, yx, yy``; follower: ``0``, ``G^T``, ``G``, ``-H``).

        Args:
            player: ``"leader"`` or ``"follower"``.
            block: ``"xx"``, ``"xy"``, ``"yx"`` or ``"yy"``.
            x: leader strategies ``(..., d1)`` (the Hessians are constant: only the batch shape
                is used).
            y: follower strategies ``(..., d2)``.
            v: directions ``(..., d_b)``.

        Returns:
            ``(..., d_a)``.

        Raises:
            ValueError: for an unknown player or block, or a ``v`` of the wrong last dimension.
        """
        found = _HVP_OPERANDS.get((player, block), _UNKNOWN)
        if found is _UNKNOWN:
            raise ValueError(
                f"player must be 'leader' or 'follower' and block one of 'xx', 'xy', 'yx', "
                f"'yy', got player={player!r}, block={block!r}"
            )
        name = cast("str | None", found)
        n_b = self.d1 if block[1] == "x" else self.d2
        n_a = self.d1 if block[0] == "x" else self.d2
        if type(v) is np.ndarray and type(x) is np.ndarray and type(y) is np.ndarray:
            # The per-stage case (NumPy arrays), without the namespace lookup.
            if v.dtype != np.float64:
                v = v.astype(np.float64)
            lead = v.shape[:-1]
            if v.ndim < 1 or v.shape[-1] != n_b:
                raise ValueError(
                    f"v must have shape (..., {n_b}) for block {block!r}, got {v.shape}"
                )
            # Row vectors: (H v)^T = v^T H^T, and each operand above is stored as H^T's.
            out = np.zeros(lead + (n_a,)) if name is None else v @ getattr(self, name)
            if x.shape[:-1] == lead and y.shape[:-1] == lead:
                return out  # a fresh array of the batch's shape already
            batch = np.broadcast_shapes(x.shape[:-1], y.shape[:-1], lead)
            return np.broadcast_to(out, batch + (n_a,)).copy()
        xp = namespace(x, y, v)
        v = xp.asarray(v, dtype=xp.float64)
        if v.ndim < 1 or v.shape[-1] != n_b:
            raise ValueError(f"v must have shape (..., {n_b}) for block {block!r}, got {v.shape}")
        batch = np.broadcast_shapes(np.shape(x)[:-1], np.shape(y)[:-1], v.shape[:-1])
        # Python or NumPy scalars and lists here; traced arrays (the JAX engine): the same
        # product in their namespace.
        out = xp.zeros(v.shape[:-1] + (n_a,), dtype=xp.float64)
        return spread(out if name is None else v @ getattr(self, name), batch + (n_a,))

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``-H`` broadcast to ``(..., d2, d2)``: a read-only view."""
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        return namespace(x, y).broadcast_to(self._neg_H, shape + self._neg_H.shape)

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``G`` broadcast to ``(..., d2, d1)``: a read-only view."""
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        return namespace(x, y).broadcast_to(self.G, shape + self.G.shape)

    def leader_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``B^T`` broadcast to ``(..., d2, d1)``: a read-only view (exact: ``grad_y f1 =
        B^T x - C y + c`` is linear in ``x``; the base class's default is a difference, whose
        error amplifies the last bits of the gradient by about ``1 / step``)."""
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        return namespace(x, y).broadcast_to(self._Bt, shape + self._Bt.shape)

    def total_leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # -(grad_yx f2)^T (grad_yy f2)^{-T} = G^T H^{-1} = R^T: no solve per call.
        return self.leader_grad(x, y) + self.leader_grad_y(x, y) @ self._R

    def hierarchical_hess(self, x: np.ndarray) -> np.ndarray:
        """``-M`` broadcast to ``(..., d1, d1)`` (exact; a read-only view)."""
        x = np.asarray(x, dtype=np.float64)
        return np.broadcast_to(-self._M, x.shape[:-1] + self._M.shape)

    # ------------------------------------------------------------------ ground truth
    def best_response(self, x: np.ndarray) -> np.ndarray:
        xp = namespace(x)
        x = xp.asarray(x, dtype=xp.float64)
        return x @ self._Rt + self._r0

    def _stackelberg(self) -> Equilibrium:
        rhs = self.a + self.B @ self._r0 + self._Rt @ (self.c - self.C @ self._r0)
        x = np.linalg.solve(self._M, rhs)
        return self.equilibrium_at(x, self.best_response(x))

    def _nash(self) -> Equilibrium | None:
        # A's smallest eigenvalue is at least 1/2 by construction (the shift in __init__), so
        # grad_xx f1 = -A is negative definite: no eigen-decomposition here (O(d^3) at d = 1e3).
        schur = self.A - self.B @ self._R
        try:
            x = np.linalg.solve(schur, self.a + self.B @ self._r0)
        except np.linalg.LinAlgError:
            return None
        if np.any(x <= self.leader_low) or np.any(x >= self.leader_high):
            return None
        return self.equilibrium_at(x, self.best_response(x))
