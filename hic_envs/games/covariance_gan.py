"""The covariance-estimation GAN of Fiez, Chasnov and Ratliff (ICML 2020), as a Stackelberg game."""

from __future__ import annotations

import numbers

import numpy as np

from hic_envs.games import _checks
from hic_envs.games.array_api import namespace, spread
from hic_envs.games.base import Equilibrium, Game

__all__ = ["CovarianceGAN"]

_PLAYERS = ("leader", "follower")
_BLOCKS = ("xx", "xy", "yx", "yy")


def _sym_sqrt(s: np.ndarray) -> np.ndarray:
    """The symmetric positive semi-definite square root of a symmetric matrix."""
    eig, q = np.linalg.eigh(s)
    return (q * np.sqrt(np.clip(eig, 0.0, None))) @ q.T


class CovarianceGAN(Game):
    """Covariance estimation: a linear generator against a regularised quadratic discriminator.

    ## Description
    The generator (leader) maps Gaussian noise ``z ~ N(0, I_d)`` to ``V z``, so it generates
    data of covariance ``V V^T``; the data have covariance ``S``. The discriminator (follower)
    is quadratic, ``D(u) = u^T W u``, and scores how much higher it rates data than samples,
    ``E_data[D] - E_gen[D] = <W, S - V V^T>`` (``<A, B> = sum_ij A_ij B_ij``), minus a weight
    decay ``lambda_ ||W||_F^2 / 2``. The generator wants the opposite. This is the experiment
    of Fiez, Chasnov and Ratliff, "Implicit learning dynamics in Stackelberg games" (ICML 2020),
    section 6, from their notebook ``experiments/covariance-estimation.ipynb``
    (github.com/fiezt/ICML-2020-Implicit-Stackelberg-Learning): ``S = U U^T`` with ``U`` a
    ``d x d`` standard normal matrix drawn by NumPy's legacy generator seeded with ``seed``
    (``numpy.random.RandomState(seed).randn(d, d)``, the notebook's ``onp.random.seed(0)``,
    so ``seed=0`` reproduces their ``S``), and the regulariser ``lambda_ = lam * d`` (their
    ``lam = lam * d``, with ``lam = 0.2`` in their runs at ``d = 3, 9, 25``; learning rate 0.015,
    1e4 iterations there).

    Strategies are the matrices flattened row-major: ``x = vec(V)``, ``y = vec(W)``, both of
    dimension ``d^2`` (4 at ``d = 2``, 625 at ``d = 25``; any ``d >= 1`` is accepted).

    ## Strategy spaces
    | player                   | dim   | low    | high  | meaning                         |
    |--------------------------|-------|--------|-------|---------------------------------|
    | leader (generator)       | d^2   | ``-b`` | ``b`` | ``vec(V)``, the generator       |
    | follower (discriminator) | d^2   | ``-m`` | ``m`` | ``vec(W)``, the discriminator   |

    with ``b = 2 sqrt(max_i S_ii)`` (every solution has ``|V_ij| <= sqrt(S_ii)``, so every
    solution is interior) and ``m = (max_ij |S_ij| + d b^2) / lambda_ + 1`` (``r(X)`` lies
    inside ``Y`` with a margin of 1).

    ## Payoffs
    Both players maximise:

    * ``f1(V, W) = <W, V V^T - S>`` (the generator),
    * ``f2(V, W) = <W, S - V V^T> - lambda_ ||W||_F^2 / 2`` (the discriminator),

    so ``f1 + f2 = -lambda_ ||W||_F^2 / 2``. ``f2`` is ``lambda_``-strongly concave and
    ``lambda_``-smooth in ``W`` (``mu = K2 = lambda_``). Derivatives, in matrix form:
    ``grad_V f1 = (W + W^T) V``, ``grad_W f1 = V V^T - S``, ``grad_W f2 = S - V V^T - lambda_ W``,
    ``grad_V f2 = -(W + W^T) V``; the Hessian-vector products of :meth:`payoff_hvp` are the
    directional derivatives of these, e.g. ``grad_WV f2 . Delta = -(Delta V^T + V Delta^T)``.

    ## Equilibria
    * Best response: ``r(V) = (S - V V^T) / lambda_``.
    * Hierarchical objective: ``f1(V, r(V)) = -||S - V V^T||_F^2 / lambda_``, with gradient
      ``(4 / lambda_) (S - V V^T) V``.
    * DSE: every ``V`` with ``V V^T = S``, ``W = 0``: the set ``{S^{1/2} Q : Q orthogonal}``, a
      manifold of dimension ``d (d - 1) / 2`` along which the hierarchical Hessian is zero (so
      the strict condition II of Definition 3.3 holds only across it). :meth:`stackelberg`
      returns the member ``V = S^{1/2}`` (the symmetric square root); payoffs ``(0, 0)``.
      :meth:`distance_to_stackelberg` is the distance to the whole set,
      ``min_Q ||V - S^{1/2} Q||_F`` (orthogonal Procrustes: ``Q = U P^T`` from the SVD
      ``S^{1/2} V = U Sigma P^T``), so a
      learner is scored by how far it is from *a* solution; :meth:`covariance_error` is the
      paper's ``||V V^T - S||_F``.
    * Nash: none in the differential sense. Stationary points have ``W = (S - V V^T) /
      lambda_`` and ``(S - V V^T) V = 0``; the leader's Hessian there is ``Delta -> (W + W^T)
      Delta``, which is zero where ``V V^T = S``, positive definite at ``V = 0`` and has
      ``u^T W u = u^T S u / lambda_ > 0`` on the null space of ``V^T`` otherwise, never negative
      definite. :meth:`nash` returns None.

    ## Arguments
    * ``d`` (int, default 2): the data dimension; ``V`` and ``W`` are ``d x d``.
    * ``seed`` (int, default 0): seed of the draw of ``S``; non-negative.
    * ``lam`` (float, default 0.2): regulariser per dimension, ``lambda_ = lam * d``; positive.

    ## Version History
    * v0: initial version.
    """

    name = "CovarianceGAN"
    array_api_best_response = True

    def __init__(self, d: int = 2, seed: int = 0, lam: float = 0.2) -> None:
        d = _checks.positive_int("d", d)
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.d: int = d
        self.seed: int = int(seed)
        self.lam: float = _checks.positive("lam", lam)
        self.reg: float = _checks.derived("the regulariser lam * d", self.lam * d, lam=lam, d=d)
        # The notebook's draw, with a generator of its own rather than the global one.
        u = np.random.RandomState(self.seed).randn(d, d)
        s = u @ u.T
        s = 0.5 * (s + s.T)
        if float(np.linalg.eigvalsh(s)[0]) <= 0.0:
            raise ValueError(
                f"seed={seed!r}, d={d!r} draw a singular S = U U^T; choose another seed"
            )
        self.S: np.ndarray = s
        self.S_sqrt: np.ndarray = _sym_sqrt(s)
        for a in (self.S, self.S_sqrt):
            a.flags.writeable = False
        b = 2.0 * float(np.sqrt(np.max(np.diag(s))))
        m = (float(np.abs(s).max()) + d * b * b) / self.reg + 1.0
        n = d * d
        super().__init__(
            np.full(n, -b), np.full(n, b), np.full(n, -m), np.full(n, m), mu=self.reg, K2=self.reg
        )
        _checks.finite_on_boxes(self, d=d, seed=seed, lam=lam)

    @property
    def dse_set_dimension(self) -> int:
        """Dimension ``d (d - 1) / 2`` of the set of DSE leader strategies (the orthogonal
        group's), along which the hierarchical Hessian vanishes."""
        return self.d * (self.d - 1) // 2

    def __repr__(self) -> str:
        return f"CovarianceGAN(d={self.d}, seed={self.seed}, lam={self.lam!r})"

    # ------------------------------------------------------------------ reshaping
    def _mat(self, z) -> np.ndarray:
        xp = namespace(z)
        z = xp.asarray(z, dtype=xp.float64)
        return z.reshape(z.shape[:-1] + (self.d, self.d))

    @staticmethod
    def _vec(m: np.ndarray) -> np.ndarray:
        return m.reshape(m.shape[:-2] + (-1,))

    @staticmethod
    def _t(m: np.ndarray) -> np.ndarray:
        return m.mT  # the transpose of the last two axes, in any array namespace

    def _gap(self, v: np.ndarray) -> np.ndarray:
        """``S - V V^T``, shape ``(..., d, d)``."""
        return self.S - v @ self._t(v)

    # ------------------------------------------------------------------ payoffs
    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        v, w = self._mat(x), self._mat(y)
        return -(w * self._gap(v)).sum(axis=(-2, -1))

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        v, w = self._mat(x), self._mat(y)
        return (w * self._gap(v)).sum(axis=(-2, -1)) - 0.5 * self.reg * (w * w).sum(axis=(-2, -1))

    def payoffs(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v, w = self._mat(x), self._mat(y)
        inner = (w * self._gap(v)).sum(axis=(-2, -1))
        return -inner, inner - 0.5 * self.reg * (w * w).sum(axis=(-2, -1))

    # ------------------------------------------------------------------ derivatives
    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        v, w = self._mat(x), self._mat(y)
        return self._vec((w + self._t(w)) @ v)

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        v, w = self._mat(x), self._mat(y)
        return self._vec(self._gap(v) - self.reg * w)

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        v, w = self._mat(x), self._mat(y)
        g = -self._gap(v)
        return self._vec(namespace(x, y).broadcast_to(g, np.broadcast_shapes(g.shape, w.shape)))

    def follower_grad_x(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``grad_x f2 = vec(-(W + W^T) V)``, shape ``(..., d1)``."""
        return -self.leader_grad(x, y)

    def _batch(self, x: np.ndarray, y: np.ndarray) -> tuple[int, ...]:
        return np.broadcast_shapes(np.shape(x)[:-1], np.shape(y)[:-1])

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``-lambda_ I`` broadcast to ``(..., d^2, d^2)``: a read-only view."""
        n = self.d * self.d
        xp = namespace(x, y)
        return xp.broadcast_to(-self.reg * xp.eye(n, dtype=xp.float64), self._batch(x, y) + (n, n))

    def _d_vvt(self, v: np.ndarray) -> np.ndarray:
        """The Jacobian of ``vec(V V^T)`` w.r.t. ``vec(V)``, shape ``(..., d^2, d^2)``:
        ``d(V V^T)_ij / dV_kl = delta_ik V_jl + V_il delta_jk``."""
        d = self.d
        xp = namespace(v)
        eye = xp.eye(d, dtype=xp.float64)
        j = xp.einsum("ik,...jl->...ijkl", eye, v) + xp.einsum("...il,jk->...ijkl", v, eye)
        return j.reshape(v.shape[:-2] + (d * d, d * d))

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        v = self._mat(x)
        jac = -self._d_vvt(v)
        n = self.d * self.d
        return spread(jac, self._batch(x, y) + (n, n))

    def leader_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        v = self._mat(x)
        jac = self._d_vvt(v)
        n = self.d * self.d
        return spread(jac, self._batch(x, y) + (n, n))

    def payoff_hvp(
        self, player: str, block: str, x: np.ndarray, y: np.ndarray, v: np.ndarray
    ) -> np.ndarray:
        """``H v`` with ``H[i, j] = d^2 f_player / da_i db_j`` for ``block = "ab"``.

        Args:
            player: ``"leader"`` or ``"follower"``.
            block: ``"xx"``, ``"xy"``, ``"yx"`` or ``"yy"``.
            x: leader strategies ``(..., d^2)``.
            y: follower strategies ``(..., d^2)``.
            v: directions ``(..., d^2)`` in the space of ``b``.

        Returns:
            ``(..., d^2)``, in the space of ``a``; closed forms, ``O(d^3)`` per row.

        Raises:
            ValueError: for an unknown player or block, or a ``v`` of the wrong last dimension.
        """
        if player not in _PLAYERS:
            raise ValueError(f"player must be one of {_PLAYERS}, got {player!r}")
        if block not in _BLOCKS:
            raise ValueError(f"block must be one of {_BLOCKS}, got {block!r}")
        xp = namespace(x, y, v)
        vv = xp.asarray(v, dtype=xp.float64)
        if vv.ndim < 1 or vv.shape[-1] != self.d * self.d:
            raise ValueError(f"v must have shape (..., {self.d * self.d}), got shape {np.shape(v)}")
        mv, mw, dm = self._mat(x), self._mat(y), self._mat(vv)
        sign = 1.0 if player == "leader" else -1.0
        if block == "xx":  # d/dV of sign (W + W^T) V along Delta
            out = sign * ((mw + self._t(mw)) @ dm)
        elif block == "xy":  # d/dW of sign (W + W^T) V along Omega
            out = sign * ((dm + self._t(dm)) @ mv)
        elif block == "yx":  # d/dV of sign (V V^T - S) along Delta
            out = sign * (dm @ self._t(mv) + mv @ self._t(dm))
        else:
            reg = 0.0 if player == "leader" else self.reg
            out = -reg * dm
        batch = np.broadcast_shapes(mv.shape[:-2], mw.shape[:-2], dm.shape[:-2])
        return spread(self._vec(out), batch + (self.d * self.d,))

    def total_leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Eq. (7)'s ``D(x, y) = (W + W^T) V - (2 / lambda_) (V V^T - S) V`` (closed form:
        ``grad_yy f2 = -lambda_ I``); where ``y`` is held at a bound of ``Y``, the base class's
        boundary-aware solve."""
        xp = namespace(x, y)
        x, y = self._broadcast(x, y)
        held = self._held_at_bound(x, y)
        if xp is np and held is not None:
            return super().total_leader_grad(x, y)
        v, w = self._mat(x), self._mat(y)
        out = self._vec((w + self._t(w)) @ v + (2.0 / self.reg) * (self._gap(v) @ v))
        if xp is np:
            return out
        # traced: the mask is always made; rows with a held coordinate take the solve
        return xp.where(xp.any(held, axis=-1, keepdims=True), super().total_leader_grad(x, y), out)

    def hierarchical_hess(self, x: np.ndarray) -> np.ndarray:
        """``grad_xx [-||S - V V^T||_F^2 / lambda_]``, exact, shape ``(..., d^2, d^2)``."""
        v = self._mat(x)
        d = self.d
        jac = self._d_vvt(v)  # (..., d^2, d^2): d vec(VV^T) / d vec(V)
        gap = self._vec(self._gap(v))
        # f = -(1/lam) g^T g with g = vec(S - VV^T) = s - vec(VV^T); Hessian =
        # -(2/lam) (J^T J - sum_ij g_ij d^2(VV^T)_ij / dV^2), where the second derivative of
        # (VV^T)_ij w.r.t. V_kl, V_mn is delta_ik delta_jm delta_ln + delta_im delta_jk delta_ln.
        eye = np.eye(d)
        g = gap.reshape(gap.shape[:-1] + (d, d))
        second = np.einsum("...km,ln->...klmn", g + self._t(g), eye).reshape(
            v.shape[:-2] + (d * d, d * d)
        )
        return -(2.0 / self.reg) * (self._t(jac) @ jac - second)

    # ------------------------------------------------------------------ ground truth
    def best_response(self, x: np.ndarray) -> np.ndarray:
        v = self._mat(x)
        xp = namespace(v)
        return xp.clip(self._vec(self._gap(v) / self.reg), self.follower_low, self.follower_high)

    def _stackelberg(self) -> Equilibrium:
        x = self.S_sqrt.reshape(-1)
        return self.equilibrium_at(x, np.zeros(self.d * self.d))

    def _nash(self) -> Equilibrium | None:
        return None

    def distance_to_stackelberg(self, x: np.ndarray) -> np.ndarray:
        """Distance to the set of DSE leader strategies, ``min_Q ||V - S^{1/2} Q||_F`` over
        orthogonal ``Q`` (orthogonal Procrustes), shape ``(...)``. Zero exactly where
        ``V V^T = S``."""
        v = self._mat(x)
        # The nearest member is S^{1/2} R with R = U P^T from the SVD S^{1/2} V = U Sigma P^T;
        # the difference is formed explicitly (not ||V||^2 + tr S - 2 ||S^{1/2} V||_*, which
        # loses half the digits near the set).
        u, _, pt = np.linalg.svd(self.S_sqrt @ v)
        return np.linalg.norm(v - self.S_sqrt @ (u @ pt), axis=(-2, -1))

    def covariance_error(self, x: np.ndarray) -> np.ndarray:
        """``||V V^T - S||_F``, the paper's measure, shape ``(...)``."""
        return np.linalg.norm(self._gap(self._mat(x)), axis=(-2, -1))
