"""A general-sum quadratic game whose Stackelberg and Nash equilibria differ."""

from __future__ import annotations

import numpy as np

from hic_envs.games import _checks

from .base import Equilibrium, Game

__all__ = ["QuadraticGame"]


class QuadraticGame(Game):
    """A one-dimensional general-sum quadratic game: the leader steers a follower that imitates.

    ## Description
    The follower wants to copy a scaled version ``k x`` of the leader's strategy. The leader has
    a preferred action ``s`` of its own but mostly wants the follower to reach a target ``t``.
    Played simultaneously (Nash) the leader ignores its influence on the follower and plays
    ``s``; committing first (Stackelberg) it moves towards the action that drags the follower
    to ``t``. With the defaults the two equilibria are ``2 sqrt(2)`` apart and the leader's
    payoff doubles under commitment. It is the smallest game in which the DSE and the DNE
    clearly differ, and everything about it is in closed form.

    ## Strategy spaces
    | player   | dim | low                     | high                 |
    |----------|-----|-------------------------|----------------------|
    | leader   | 1   | ``-bound``              | ``bound``            |
    | follower | 1   | ``-(abs(k) bound + 1)`` | ``abs(k) bound + 1`` |

    The follower's box contains ``r(X) = k X`` with a margin of 1, so its best response is
    interior for every leader strategy.

    ## Payoffs
    ``f1(x, y) = -(y - t)^2 / 2 - lam (x - s)^2 / 2`` and ``f2(x, y) = -m (y - k x)^2 / 2``.
    ``f2`` is ``m``-strongly concave and ``m``-smooth in ``y`` (``mu = K2 = m``).

    ## Equilibria
    * Best response: ``r(x) = k x``.
    * DSE: ``f1(x, r(x)) = -(k x - t)^2 / 2 - lam (x - s)^2 / 2`` has Hessian ``-(k^2 + lam) < 0``
      and maximiser ``x* = (k t + lam s) / (k^2 + lam)``, ``y* = k x*``.
      Defaults: ``(1, 1)``, ``f1 = -4``.
    * Nash: ``grad_x f1 = -lam (x - s) = 0`` and ``grad_y f2 = 0`` give ``x = s``, ``y = k s``;
      ``grad_xx f1 = -lam < 0`` and ``grad_yy f2 = -m < 0``, so it is a DNE whenever ``s`` lies
      inside the leader's box (else :meth:`nash` returns None). Defaults: ``(-1, -1)``,
      ``f1 = -8``.

    ## Arguments
    * ``k`` (float, default 1): the follower's responsiveness to the leader; non-zero.
    * ``lam`` (float, default 1): weight of the leader's own preference; positive.
    * ``t`` (float, default 3): the leader's target for the follower.
    * ``s`` (float, default -1): the leader's preferred action.
    * ``m`` (float, default 1): the follower's curvature (``mu = K2 = m``); positive.
    * ``bound`` (float, default 3): half-width of the leader's box; the DSE must lie inside it.

    ## Version History
    * v0: initial version.
    """

    name = "Quadratic"

    def __init__(
        self,
        k: float = 1.0,
        lam: float = 1.0,
        t: float = 3.0,
        s: float = -1.0,
        m: float = 1.0,
        bound: float = 3.0,
    ) -> None:
        self.k = _checks.finite("k", k)
        if self.k == 0:
            raise ValueError(f"k must be non-zero (the follower must respond), got {k!r}")
        self.lam = _checks.positive("lam", lam)
        self.t = _checks.finite("t", t)
        self.s = _checks.finite("s", s)
        self.m = _checks.positive("m", m)
        self.bound = _checks.positive("bound", bound)
        self._x_star = _checks.derived(
            "the DSE x*",
            (self.k * self.t + self.lam * self.s) / (self.k * self.k + self.lam),
            k=k,
            lam=lam,
            t=t,
            s=s,
        )
        if not abs(self._x_star) < self.bound:
            raise ValueError(
                f"bound={bound!r} does not contain the DSE x*={self._x_star:.6g}; increase bound"
            )
        y_half = _checks.derived(
            "the follower's box half-width", abs(self.k) * self.bound + 1.0, k=k, bound=bound
        )
        super().__init__([-self.bound], [self.bound], [-y_half], [y_half], mu=self.m, K2=self.m)
        _checks.finite_on_boxes(self, k=k, lam=lam, t=t, s=s, m=m, bound=bound)

    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -0.5 * (y[..., 0] - self.t) ** 2 - 0.5 * self.lam * (x[..., 0] - self.s) ** 2

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -0.5 * self.m * (y[..., 0] - self.k * x[..., 0]) ** 2

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        g = -self.lam * (x - self.s)
        return np.broadcast_to(g, np.broadcast_shapes(g.shape, y.shape)).copy()

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -self.m * (y - self.k * x)

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        g = -(y - self.t)
        return np.broadcast_to(g, np.broadcast_shapes(x.shape, g.shape)).copy()

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1]) + (1, 1)
        return np.full(shape, -self.m)

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1]) + (1, 1)
        return np.full(shape, self.m * self.k)

    def follower_grad_x(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.m * self.k * (y - self.k * x)

    def payoff_hvp(
        self, player: str, block: str, x: np.ndarray, y: np.ndarray, v: np.ndarray
    ) -> np.ndarray:
        """Constant second derivatives: ``f1`` has ``-lam`` (xx) and ``-1`` (yy), ``f2`` has
        ``-m k^2``, ``m k``, ``-m`` (xx, xy, yy)."""
        m, k = self.m, self.k
        table = {
            "leader xx": -self.lam,
            "leader xy": 0.0,
            "leader yx": 0.0,
            "leader yy": -1.0,
            "follower xx": -m * k * k,
            "follower xy": m * k,
            "follower yx": m * k,
            "follower yy": -m,
        }
        return self._constant_hvp(table, player, block, x, y, v)

    def best_response(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.clip(self.k * x, self.follower_low, self.follower_high)

    def _stackelberg(self) -> Equilibrium:
        x = np.array([self._x_star])
        return self.equilibrium_at(x, self.best_response(x))

    def _nash(self) -> Equilibrium | None:
        if not abs(self.s) < self.bound:
            return None
        return self.equilibrium_at([self.s], [self.k * self.s])
