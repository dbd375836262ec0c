"""Any n x m bimatrix game in mixed strategies, softmax-parametrised, with an entropy-regularised
follower."""

from __future__ import annotations

import numpy as np
import scipy
from numpy.typing import ArrayLike

from hic_envs.games import _checks
from hic_envs.games.array_api import logsumexp, namespace, softmax
from hic_envs.games.base import Equilibrium, Game
from hic_envs.games.matrix import StrongStackelberg, payoff_matrices, strong_stackelberg

__all__ = ["Bimatrix"]


def _pad(z: np.ndarray) -> np.ndarray:
    """Logits ``(..., k - 1)`` -> ``(..., k)`` with the last fixed at 0."""
    xp = namespace(z)
    return xp.concat([z, xp.zeros(z.shape[:-1] + (1,), dtype=z.dtype)], axis=-1)


def _jac(p: np.ndarray) -> np.ndarray:
    """``diag(p) - p p^T``: the Jacobian of the softmax, ``(..., k, k)``."""
    eye = namespace(p).eye(p.shape[-1], dtype=p.dtype)
    return p[..., :, None] * eye - p[..., :, None] * p[..., None, :]


def _neg_entropy_grad(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p * (z - (p * z).sum(axis=-1, keepdims=True))  # J z = grad_z (sum p log p)


class Bimatrix(Game):
    """An ``n x m`` bimatrix game in mixed strategies, in softmax (logit) coordinates.

    ## Description
    The leader mixes over ``n`` actions (the rows of ``A`` and ``B``), the follower over ``m``
    (the columns). Each strategy is a vector of logits with the **last fixed at 0**: the
    leader's ``x in R^(n-1)`` gives ``pi = softmax([x, 0])`` and the follower's
    ``y in R^(m-1)`` gives ``sigma = softmax([y, 0])``; every interior mixed strategy has
    exactly one such vector, so the parametrisation is a bijection onto the open simplex and
    the boxes below are boxes. Payoffs are expected payoffs plus entropy bonuses:

        ``f1 = pi^T A sigma + leader_tau H(pi)``,  ``f2 = pi^T B sigma + tau H(sigma)``.

    ## Strategy spaces
    | player   | dim     | low        | high      |
    |----------|---------|------------|-----------|
    | leader   | ``n-1`` | ``-L1``    | ``L1``    |
    | follower | ``m-1`` | ``-L2``    | ``L2``    |

    ``L1 = leader_bound`` (default 10: probabilities down to about ``e^-10`` relative to the
    last action) and ``L2 = 1.25 R / tau + 1`` with ``R = max B - min B``, so that
    ``r(X)`` (whose logits are at most ``R / tau`` in size) is interior.

    ## Payoffs
    With ``J(p) = diag(p) - p p^T`` (the softmax Jacobian) and ``z = [x, 0]``,
    ``w = [y, 0]``: ``grad_x f1 = [J(pi) (A sigma - leader_tau z)]_(:n-1)``,
    ``grad_y f2 = [J(sigma) (B^T pi - tau w)]_(:m-1)``, ``grad_y f1 = [J(sigma) A^T pi]``,
    ``grad_yx f2 = [J(sigma) B^T J(pi)]``, ``grad_yx f1 = [J(sigma) A^T J(pi)]`` (leading
    blocks), and with ``c = B^T pi - tau w``, ``c_bar = sigma . c``:
    ``(grad_yy f2)_ik = sigma_i delta_ik (c_i - c_bar - tau) - sigma_i sigma_k (c_i + c_k -
    2 c_bar - tau)``. At the best response this is ``-tau J(sigma)`` (negative definite on the
    reduced coordinates), but ``f2`` is **not** concave in the logits everywhere (it flattens
    towards ``pi^T B e_j`` far out), so ``mu`` and ``K2`` are unknown (None): Assumption 4.8
    holds only locally.

    ## Equilibria
    * Best response, in closed form: ``sigma(r(x)) = softmax(B^T pi / tau)``, i.e.
      ``r(x)_j = ((B^T pi)_j - (B^T pi)_m) / tau``.
    * DSE: numeric, maximising ``f1(x, r(x))`` with its exact gradient (L-BFGS-B on ``X``)
      from the base class's starting points and from the logits of every LP solution of
      :meth:`strong_stackelberg`'s multiple-LP method; the best is kept. It can lie on the
      boundary of ``X`` when the leader wants (nearly) a pure commitment.
    * Nash: the base class's numeric solver (with ``leader_tau = 0`` the leader's payoff is
      linear in ``pi``, so there is none in the differential sense at interior points where
      it is flat).
    * :meth:`strong_stackelberg`: the unregularised game's strong Stackelberg equilibrium; as
      ``tau -> 0`` the regularised DSE's ``pi`` approaches its ``leader_mixed`` where the SSE
      mixes (tested).

    ## Arguments
    * ``A``, ``B`` (``n x m`` matrices, ``n, m >= 2``; default the Conitzer-Sandholm example
      ``A = [[2, 4], [1, 3]]``, ``B = [[1, 0], [0, 1]]``, whose SSE mixes 1/2, 1/2 and earns
      the leader 3.5).
    * ``tau`` (float, default 0.2): the follower's entropy weight, > 0.
    * ``leader_tau`` (float, default 0): the leader's entropy weight, >= 0.
    * ``leader_bound`` (float, default 10): the leader's logit bound ``L1``, > 0.

    ## Version History
    * v0: initial version.
    """

    name = "Bimatrix"
    array_api_best_response = True

    def __init__(
        self,
        A: ArrayLike = ((2.0, 4.0), (1.0, 3.0)),
        B: ArrayLike = ((1.0, 0.0), (0.0, 1.0)),
        tau: float = 0.2,
        leader_tau: float = 0.0,
        leader_bound: float = 10.0,
    ) -> None:
        self.A, self.B = payoff_matrices(A, B)
        self.n, self.m = self.A.shape
        self.tau = _checks.positive("tau", tau)
        self.leader_tau = _checks.nonnegative("leader_tau", leader_tau)
        L1 = _checks.positive("leader_bound", leader_bound)
        R = float(self.B.max() - self.B.min())
        L2 = 1.25 * R / self.tau + 1.0
        if not np.isfinite(L2) or L2 > 700:
            raise ValueError(
                f"tau={tau!r} is too small for the payoffs (the follower's logits would reach "
                f"{L2:.3g}, beyond float64's exp); rescale the payoffs"
            )
        super().__init__(
            np.full(self.n - 1, -L1),
            np.full(self.n - 1, L1),
            np.full(self.m - 1, -L2),
            np.full(self.m - 1, L2),
        )

    # ------------------------------------------------------------------ helpers
    def leader_mixed(self, x: np.ndarray) -> np.ndarray:
        """``pi = softmax([x, 0])``, shape ``(..., n)``."""
        xp = namespace(x)
        z = _pad(xp.asarray(x, dtype=xp.float64))
        return scipy.special.softmax(z, axis=-1) if xp is np else softmax(z, axis=-1)

    def follower_mixed(self, y: np.ndarray) -> np.ndarray:
        """``sigma = softmax([y, 0])``, shape ``(..., m)``."""
        xp = namespace(y)
        z = _pad(xp.asarray(y, dtype=xp.float64))
        return scipy.special.softmax(z, axis=-1) if xp is np else softmax(z, axis=-1)

    def _parts(self, x, y):
        z, w = _pad(x), _pad(y)
        pi, sg = softmax(z, axis=-1), softmax(w, axis=-1)
        return z, w, pi, sg

    @staticmethod
    def _entropy(z: np.ndarray) -> np.ndarray:
        # H(softmax(z)) = lse(z) - p . z
        p = softmax(z, axis=-1)
        return logsumexp(z, axis=-1) - (p * z).sum(axis=-1)

    # ------------------------------------------------------------------ payoffs
    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z, w, pi, sg = self._parts(x, y)
        v = namespace(x, y).einsum("...i,ij,...j->...", pi, self.A, sg)
        return v + self.leader_tau * self._entropy(z) if self.leader_tau else v

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z, w, pi, sg = self._parts(x, y)
        v = namespace(x, y).einsum("...i,ij,...j->...", pi, self.B, sg)
        return v + self.tau * self._entropy(w)

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z, w, pi, sg = self._parts(x, y)
        a = sg @ self.A.T  # A sigma
        g = pi * (a - (pi * a).sum(axis=-1, keepdims=True))
        if self.leader_tau:
            g = g - self.leader_tau * _neg_entropy_grad(z, pi)
        return g[..., :-1]

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z, w, pi, sg = self._parts(x, y)
        c = pi @ self.B  # B^T pi
        g = sg * (c - (sg * c).sum(axis=-1, keepdims=True)) - self.tau * _neg_entropy_grad(w, sg)
        return g[..., :-1]

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z, w, pi, sg = self._parts(x, y)
        c = pi @ self.A  # A^T pi
        return (sg * (c - (sg * c).sum(axis=-1, keepdims=True)))[..., :-1]

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z, w, pi, sg = self._parts(x, y)
        c = pi @ self.B - self.tau * w
        cb = (sg * c).sum(axis=-1, keepdims=True)
        d = c - cb
        eye = namespace(x, y).eye(self.m, dtype=sg.dtype)
        h = eye * (sg * (d - self.tau))[..., None, :] - sg[..., :, None] * sg[..., None, :] * (
            d[..., :, None] + d[..., None, :] - self.tau
        )
        return h[..., :-1, :-1]

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z, w, pi, sg = self._parts(x, y)
        return (_jac(sg) @ self.B.T @ _jac(pi))[..., :-1, :-1]

    def leader_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z, w, pi, sg = self._parts(x, y)
        return (_jac(sg) @ self.A.T @ _jac(pi))[..., :-1, :-1]

    def best_response(self, x: np.ndarray) -> np.ndarray:
        c = self.leader_mixed(x) @ self.B  # B^T pi
        r = (c[..., :-1] - c[..., -1:]) / self.tau
        return namespace(c).clip(r, self.follower_low, self.follower_high)

    def hierarchical_grad(self, x: np.ndarray) -> np.ndarray:
        # d sigma(r(x)) / dx = J(sigma) B^T J(pi)_(:, :n-1) / tau (the softmax of B^T pi / tau),
        # so no Hessian needs inverting (it is singular in float64 once sigma saturates).
        x = np.asarray(x, dtype=np.float64)
        y = self.best_response(x)
        z, w, pi, sg = self._parts(x, y)
        jp, js = _jac(pi), _jac(sg)
        via_y = np.einsum("...ia,ij,...jk,...k->...a", jp, self.B, js, pi @ self.A) / self.tau
        return self.leader_grad(x, y) + via_y[..., :-1]

    # ------------------------------------------------------------------ equilibria
    def strong_stackelberg(self) -> StrongStackelberg:
        """The unregularised game's strong Stackelberg equilibrium (multiple LPs, HiGHS)."""
        return strong_stackelberg(self.A, self.B)

    def _stackelberg(self) -> Equilibrium:
        lo, hi = self.leader_low, self.leader_high

        def neg(x):
            return -float(self.hierarchical_payoff(x)), -self.hierarchical_grad(x)

        starts = list(self._starts(lo, hi))
        # The leader's LP commitments (clipped away from the simplex's faces), one per
        # follower action that some commitment makes a best response.
        sse = self.strong_stackelberg()
        for p in [sse.leader_mixed]:
            q = np.clip(p, 1e-6, None)
            starts.append(np.clip(np.log(q[:-1] / q[-1]), lo, hi))
        best_x, best_v = None, -np.inf
        progress = _checks.SolveProgress(
            f"Bimatrix(n={self.n}, m={self.m}): solving for the DSE numerically",
            len(starts),
            "optimiser start",
        )
        for i, x0 in enumerate(starts):

            def watched(x, i=i):
                progress.update(i)
                return neg(x)

            res = scipy.optimize.minimize(
                watched, x0, jac=True, method="L-BFGS-B", bounds=list(zip(lo, hi, strict=True)),
                options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10_000},
            )  # fmt: skip
            x = np.clip(res.x, lo, hi)
            v = float(self.hierarchical_payoff(x))
            if v > best_v + 1e-12:
                best_x, best_v = x, v
        assert best_x is not None, "the multistart found no finite maximum"
        return self.equilibrium_at(best_x, self.best_response(best_x))
