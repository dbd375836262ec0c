"""A game whose follower best response is nonlinear and has no closed form."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from hic_envs.games import _checks
from hic_envs.games.array_api import diag_embed, namespace
from hic_envs.games.base import Equilibrium, Game

__all__ = ["NonlinearGame"]


def _log_cosh(z):
    # log cosh z = logaddexp(z, -z) - log 2, without overflow for large |z|.
    return namespace(z).logaddexp(z, -z) - np.log(2.0)


#: Newton steps of :meth:`NonlinearGame.best_response` on traced arrays: from the
#: linearisation's root the safeguarded iteration has converged to rounding well before
#: (``tests/games/test_array_api_games.py`` checks the traced values against NumPy's to 1e-12).
_TRACED_NEWTON_STEPS = 40


class NonlinearGame(Game):
    """A follower with a saturating, implicitly defined response; the leader targets it.

    ## Description
    Each coordinate of the follower's strategy is pulled towards the leader's by a smooth,
    saturating force (``log cosh``, a smoothed absolute value) and towards 0 by a quadratic
    cost. Its best response solves ``y + k tanh(y - x) = 0`` coordinate-wise, a transcendental
    equation with no closed-form solution: ``r`` is smooth, increasing (``r'`` in
    ``(0, k / (1 + k)]``) and saturates at ``+-k``. The leader wants the follower at a target
    ``t`` and pays a quadratic effort cost, so it has to learn how far to push a follower whose
    response flattens out. :meth:`best_response` is a vectorised safeguarded Newton iteration
    over the whole batch (converged to machine precision in a handful of steps); the DSE is
    the unique root of the exact hierarchical gradient, found by bisection.

    ## Strategy spaces
    | player   | dim   | low         | high       |
    |----------|-------|-------------|------------|
    | leader   | dim   | ``-bound``  | ``bound``  |
    | follower | dim   | ``-(k+1)``  | ``k + 1``  |

    ``r(x)`` lies in ``(-k, k)``, so it is interior to the follower's box for every ``x``.

    ## Payoffs
    ``f1(x, y) = -||y - t||^2 / 2 - lam ||x||^2 / 2`` and
    ``f2(x, y) = -||y||^2 / 2 - k sum_i log cosh(y_i - x_i)``.
    ``grad_yy f2 = -diag(1 + k sech^2(y - x))``, so ``f2`` is 1-strongly concave and
    ``(1 + k)``-smooth in ``y`` everywhere (``mu = 1``, ``K2 = 1 + k``).

    ## Equilibria
    * Best response: the unique root of ``y + k tanh(y - x) = 0`` (coordinate-wise), by Newton.
    * DSE: numeric. Coordinates decouple and each solves ``(t - r(x)) r'(x) = lam x`` with
      ``r'(x) = k s / (1 + k s)``, ``s = sech^2(r(x) - x)``; the left side decreases and the
      right side increases, so the root is unique and the hierarchical objective is strictly
      concave there (its second derivative is at most ``-lam``). :meth:`_stackelberg` finds it
      by bisection of the exact hierarchical gradient to ``1e-14``.
      Defaults: ``x* ~ 0.711121``, ``y* ~ 0.347979``.
    * Nash: ``grad_x f1 = -lam x = 0`` gives ``x = 0`` and ``y = r(0) = 0``, a DNE
      (``grad_xx f1 = -lam``, ``grad_yy f2 <= -1``). The leader's payoff there ignores that it can
      move the follower.

    ## Arguments
    * ``k`` (float, default 1): strength of the follower's pull towards the leader; positive.
    * ``t`` (float or sequence of ``dim`` floats, default 0.5): the leader's target for the
      follower; needs ``|t| < k`` (reachable).
    * ``lam`` (float, default 0.1): the leader's effort cost; positive.
    * ``dim`` (int, default 1): dimension of both players.
    * ``bound`` (float, default 3): half-width of the leader's box; the DSE must lie inside.

    ## Version History
    * v0: initial version.
    """

    name = "Nonlinear"
    array_api_best_response = True

    def __init__(
        self, k: float = 1.0, t: ArrayLike = 0.5, lam: float = 0.1, dim: int = 1, bound: float = 3.0
    ) -> None:
        self.k = _checks.positive("k", k)
        self.dim = _checks.positive_int("dim", dim)
        self.t = _checks.vector("t", t, self.dim)
        if np.any(np.abs(self.t) >= self.k):
            raise ValueError(f"need |t| < k={k!r} (a target the follower can reach), got t={t!r}")
        self.lam = _checks.positive("lam", lam)
        self.bound = _checks.positive("bound", bound)
        n = self.dim
        y_half = self.k + 1.0
        super().__init__(
            np.full(n, -self.bound),
            np.full(n, self.bound),
            np.full(n, -y_half),
            np.full(n, y_half),
            mu=1.0,
            K2=_checks.derived("K2 = 1 + k", 1.0 + self.k, k=k),
        )
        _checks.finite_on_boxes(self, k=k, t=t, lam=lam, bound=bound)
        # Refuse a box without the DSE now (the sign test that brackets it); the bisection
        # for its value waits for the first stackelberg() call (hic list constructs every game).
        self._dse_bracket()

    # ------------------------------------------------------------------ payoffs
    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -0.5 * ((y - self.t) ** 2).sum(axis=-1) - 0.5 * self.lam * (x * x).sum(axis=-1)

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -0.5 * (y * y).sum(axis=-1) - self.k * _log_cosh(y - x).sum(axis=-1)

    # ------------------------------------------------------------------ derivatives
    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        xp = namespace(x, y)
        g = -self.lam * x
        return xp.broadcast_to(g, np.broadcast_shapes(g.shape, y.shape)).copy()

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -y - self.k * namespace(x, y).tanh(y - x)

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        xp = namespace(x, y)
        g = self.t - y
        return xp.broadcast_to(g, np.broadcast_shapes(x.shape, g.shape)).copy()

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        sech2 = 1.0 - namespace(x, y).tanh(y - x) ** 2
        return diag_embed(-1.0 - self.k * sech2)

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        sech2 = 1.0 - namespace(x, y).tanh(y - x) ** 2
        return diag_embed(self.k * sech2)

    # ------------------------------------------------------------------ best response
    def best_response(
        self, x: np.ndarray, *, tol: float = 1e-14, max_iter: int = 100
    ) -> np.ndarray:
        """``r(x)``: the root of ``y + k tanh(y - x) = 0``, shape ``(..., dim)``.

        Newton's method on the whole batch at once, safeguarded by the bracket ``[-k, k]``
        (``phi(-k) < 0 < phi(k)`` for ``phi(y) = y + k tanh(y - x)``, and ``phi' >= 1``): a step
        leaving the bracket is replaced by bisection. Stops when every step is below ``tol``.
        Array-API code: on traced arrays (the JAX engine) it takes a fixed
        ``_TRACED_NEWTON_STEPS`` steps instead (a traced loop cannot stop on its values).
        """
        xp = namespace(x)
        x = xp.asarray(x, dtype=xp.float64)
        k = self.k
        lo = xp.full(x.shape, -k, dtype=xp.float64)
        hi = xp.full(x.shape, k, dtype=xp.float64)
        y = xp.clip(k * x / (1.0 + k), lo, hi)  # the root of the linearisation at y = x
        for _ in range(max_iter if xp is np else _TRACED_NEWTON_STEPS):
            th = xp.tanh(y - x)
            phi = y + k * th
            lo = xp.where(phi < 0, y, lo)
            hi = xp.where(phi > 0, y, hi)
            y_new = y - phi / (1.0 + k * (1.0 - th * th))
            outside = (y_new < lo) | (y_new > hi)
            y_new = xp.where(outside, 0.5 * (lo + hi), y_new)
            if xp is np:
                done = np.max(np.abs(y_new - y), initial=0.0) <= tol
            y = y_new
            if xp is np and done:
                break
        return y

    # ------------------------------------------------------------------ equilibria
    def _stackelberg(self) -> Equilibrium:
        x = self._solve_dse()
        return self.equilibrium_at(x, self.best_response(x))

    def _solve_dse(self, tol: float = 1e-14) -> np.ndarray:
        # The coordinates decouple and, per coordinate, the hierarchical gradient
        # h(x) = (t - r(x)) r'(x) - lam x is strictly decreasing wherever it vanishes (it is
        # positive left of the root and negative right of it), so the DSE is the unique root,
        # found by bisection of the exact gradient on the leader's box.
        lo, hi = self._dse_bracket()
        while np.max(hi - lo) > tol:
            mid = 0.5 * (lo + hi)
            positive = self.hierarchical_grad(mid) > 0
            lo = np.where(positive, mid, lo)
            hi = np.where(positive, hi, mid)
        return 0.5 * (lo + hi)

    def _dse_bracket(self) -> tuple[np.ndarray, np.ndarray]:
        """The leader's box as the DSE's bracket: ``h`` is positive at its low corner and
        negative at its high corner, else the box does not contain the DSE.

        Raises:
            ValueError: if the box does not contain the DSE.
        """
        lo, hi = self.leader_low.copy(), self.leader_high.copy()
        if np.any(self.hierarchical_grad(lo) <= 0) or np.any(self.hierarchical_grad(hi) >= 0):
            raise ValueError(f"bound={self.bound!r} does not contain the DSE; increase bound")
        return lo, hi

    def _nash(self) -> Equilibrium | None:
        x = np.zeros(self.dim)
        return self.equilibrium_at(x, self.best_response(x))
