"""A zero-sum quadratic game with a differential Stackelberg but no differential Nash
equilibrium."""

from __future__ import annotations

import numpy as np

from hic_envs.games import _checks

from .base import Equilibrium, Game

__all__ = ["ZeroSumNoNash"]


class ZeroSumNoNash(Game):
    """A zero-sum game in which the Stackelberg equilibrium exists and the Nash one does not.

    ## Description
    The leader minimises and the follower maximises
    ``L(x, y) = -a x^2 / 2 + b x y - c y^2 / 2``. For ``a > 0`` the leader's own objective
    ``-L`` is *convex* in ``x`` at every fixed ``y``, so no strategy profile is a differential
    Nash equilibrium (Definition 3.1, condition II fails). Yet because the follower's reaction
    ``r(x) = b x / c`` is strong (``b^2 > a c``), the leader's hierarchical objective
    ``-L(x, r(x))`` is strictly concave and the origin is a differential Stackelberg
    equilibrium. This is the example of Jin et al. (2020) and Fiez et al. (2020) showing that
    DSE exist where DNE do not. Simultaneous gradient ascent does not find it with the
    defaults: the SGA Jacobian ``[[a, -b], [b, -c]]`` has trace ``a - c = 0`` and determinant
    ``b^2 - a c = 3``, so the SGA flow circles the origin and discrete SGA spirals outwards.

    ## Strategy spaces
    | player   | dim | low                         | high                     |
    |----------|-----|-----------------------------|--------------------------|
    | leader   | 1   | ``-bound``                  | ``bound``                |
    | follower | 1   | ``-(abs(b) bound / c + 1)`` | ``abs(b) bound / c + 1`` |

    The follower's box contains ``r(X)`` with a margin of 1, so the best response is interior
    for every leader strategy (no clipping ever happens).

    ## Payoffs
    ``f1(x, y) = -L(x, y) = a x^2 / 2 - b x y + c y^2 / 2`` and ``f2(x, y) = L(x, y)``.
    ``f2`` is ``c``-strongly concave and ``c``-smooth in ``y`` (``mu = K2 = c``).

    ## Equilibria
    * Best response: ``r(x) = b x / c``.
    * DSE: ``f1(x, r(x)) = (a - b^2 / c) x^2 / 2``, strictly concave when ``b^2 > a c``, so
      ``(x*, y*) = (0, 0)`` with hierarchical Hessian ``a - b^2 / c`` (``-3`` by default) and
      payoffs ``(0, 0)``.
    * Nash: the only stationary point of ``(grad_x f1, grad_y f2)`` is ``(0, 0)``; there
      ``grad_xx f1 = a``. For ``a > 0`` (the default ``a = 1``) it is not a DNE and
      :meth:`nash` returns None. For ``a < 0`` the origin is also a DNE.

    ## Arguments
    * ``a`` (float, default 1): the leader's own curvature; ``a > 0`` removes the DNE.
    * ``b`` (float, default 2): the coupling; needs ``b^2 > a c``.
    * ``c`` (float, default 1): the follower's curvature (``mu = K2 = c``); positive.
    * ``bound`` (float, default 1): half-width of the leader's box.

    ## Version History
    * v0: initial version.
    """

    name = "ZeroSum"

    def __init__(self, a: float = 1.0, b: float = 2.0, c: float = 1.0, bound: float = 1.0) -> None:
        self.a = _checks.finite("a", a)
        self.b = _checks.finite("b", b)
        self.c = _checks.positive("c", c)
        self.bound = _checks.positive("bound", bound)
        if not self.b * self.b > self.a * self.c:  # b * b: b**2 raises OverflowError
            raise ValueError(
                f"need b^2 > a c for a strict DSE (hierarchical Hessian a - b^2/c < 0), got "
                f"a={a!r}, b={b!r}, c={c!r}"
            )
        y_half = _checks.derived(
            "the follower's box half-width",
            abs(self.b) * self.bound / self.c + 1.0,
            b=b,
            c=c,
            bound=bound,
        )
        super().__init__([-self.bound], [self.bound], [-y_half], [y_half], mu=self.c, K2=self.c)
        _checks.finite_on_boxes(self, a=a, b=b, c=c, bound=bound)

    def _L(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = x[..., 0], y[..., 0]
        return -0.5 * self.a * x**2 + self.b * x * y - 0.5 * self.c * y**2

    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -self._L(x, y)

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self._L(x, y)

    def payoffs(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        L = self._L(x, y)
        return -L, L

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.a * x - self.b * y

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.b * x - self.c * y

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -self.b * x + self.c * y

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1]) + (1, 1)
        return np.full(shape, -self.c)

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1]) + (1, 1)
        return np.full(shape, self.b)

    def follower_grad_x(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -self.a * x + self.b * y

    def payoff_hvp(
        self, player: str, block: str, x: np.ndarray, y: np.ndarray, v: np.ndarray
    ) -> np.ndarray:
        """Constant second derivatives of ``L`` (``-a``, ``b``, ``-c``), negated for ``f1``."""
        table = {"xx": -self.a, "xy": self.b, "yx": self.b, "yy": -self.c}
        both = {f"follower {k}": h for k, h in table.items()}
        both.update({f"leader {k}": -h for k, h in table.items()})
        return self._constant_hvp(both, player, block, x, y, v)

    def best_response(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.clip(self.b * x / self.c, self.follower_low, self.follower_high)

    def _stackelberg(self) -> Equilibrium:
        return self.equilibrium_at([0.0], [0.0])

    def _nash(self) -> Equilibrium | None:
        return self.equilibrium_at([0.0], [0.0]) if self.a < 0 else None
