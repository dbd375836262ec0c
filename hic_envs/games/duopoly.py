"""Stackelberg (Cournot) duopoly."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hic_envs.games import _checks
from hic_envs.games.array_api import batch_shape, full, namespace, spread
from hic_envs.games.base import Equilibrium, Game

__all__ = ["Duopoly"]


class Duopoly(Game):
    """Stackelberg (Cournot) quantity competition between two firms.

    ## Description
    The leader (firm 1) and the follower (firm 2) choose quantities ``q1 = x`` and ``q2 = y``.
    The market price is linear, ``P = a - b (q1 + q2)``, and firm ``i`` pays a unit cost ``ci``.
    In the Stackelberg model the leader commits to a quantity first and earns more than at the
    Cournot-Nash outcome. This is the game of the published Hi-C experiment.

    ## Strategy spaces
    | player   | dim | low | high      | meaning            |
    |----------|-----|-----|-----------|--------------------|
    | leader   | 1   | 0   | ``a / b`` | quantity ``q1``    |
    | follower | 1   | 0   | ``a / b`` | quantity ``q2``    |

    ## Payoffs
    ``f1 = q1 (a - b (q1 + q2) - c1)`` and ``f2 = q2 (a - b (q1 + q2) - c2)``.
    ``f2`` is ``2b``-strongly concave and ``2b``-smooth in ``q2`` (``mu = K2 = 2b``).

    ## Equilibria
    * Best response: ``r(q1) = clip((a - c2 - b q1) / (2b), 0, a/b)``.
    * DSE: ``q1* = (a - 2 c1 + c2) / (2b)``, ``q2* = r(q1*) = (a + 2 c1 - 3 c2) / (4b)``.
      Defaults: ``(24.5, 12.25)``.
    * Cournot-Nash: ``q1 = (a - 2 c1 + c2) / (3b)``, ``q2 = (a - 2 c2 + c1) / (3b)``.
      Defaults: ``(49/3, 49/3)``.

    ## Arguments
    * ``a`` (float, default 50): price intercept.
    * ``b`` (float, default 1): price slope.
    * ``c1``, ``c2`` (float, default 1): unit costs; need ``0 <= ci < a`` and an interior DSE
      (``0 < q2* < a/b``).

    ## Version History
    * v0: initial version (defaults of the published Hi-C experiment).
    """

    name = "Duopoly"
    array_api_best_response = True

    def __init__(self, a: float = 50.0, b: float = 1.0, c1: float = 1.0, c2: float = 1.0):
        self.a = _checks.positive("a", a)
        self.b = _checks.positive("b", b)
        self.c1 = _checks.nonnegative("c1", c1)
        self.c2 = _checks.nonnegative("c2", c2)
        for nm, v in (("c1", self.c1), ("c2", self.c2)):
            if not v < self.a:
                raise ValueError(f"{nm} must satisfy 0 <= {nm} < a={a!r}, got {v!r}")
        a, b, c1, c2 = self.a, self.b, self.c1, self.c2
        top = _checks.derived("the box bound a / b", a / b, a=a, b=b)
        q1 = (a - 2 * c1 + c2) / (2 * b)
        q2 = (a + 2 * c1 - 3 * c2) / (4 * b)
        if not (0 < q1 < top and 0 < q2 < top):
            raise ValueError(
                f"costs c1={c1!r}, c2={c2!r} give a DSE on the boundary (q1*={q1:.4g}, "
                f"q2*={q2:.4g}); choose costs with 0 < q* < a/b"
            )
        super().__init__([0.0], [top], [0.0], [top], mu=2 * self.b, K2=2 * self.b)
        _checks.finite_on_boxes(self, a=a, b=b, c1=c1, c2=c2)

    def payoffs(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Both profits q_i (P - c_i) at the inverse demand P = a - b (q1 + q2), from one price.
        q1, q2 = x[..., 0], y[..., 0]
        price = self.a - self.b * (q1 + q2)
        return q1 * (price - self.c1), q2 * (price - self.c2)

    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.payoffs(x, y)[0]

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.payoffs(x, y)[1]

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.a - self.c1 - 2 * self.b * x - self.b * y

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.follower_grad_given(x)(y)

    def follower_grad_given(self, x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        # a - c2 - b q1 - 2 b q2, its x part computed once (the same operations in the same
        # order as the expression written out, so the same bits)
        own, slope = self.a - self.c2 - self.b * x, 2 * self.b
        return lambda y: own - slope * y

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return spread(-self.b * x, np.broadcast_shapes(x.shape, y.shape))

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return full(batch_shape(x, y) + (1, 1), -2 * self.b, x, y)

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return full(batch_shape(x, y) + (1, 1), -self.b, x, y)

    def follower_grad_x(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return spread(-self.b * y, np.broadcast_shapes(x.shape, y.shape))

    def payoff_hvp(
        self, player: str, block: str, x: np.ndarray, y: np.ndarray, v: np.ndarray
    ) -> np.ndarray:
        """Constant second derivatives: each profit has ``-2b`` in its own quantity, ``-b``
        across and ``0`` in the other's."""
        b = self.b
        table = {
            "leader xx": -2 * b,
            "leader xy": -b,
            "leader yx": -b,
            "leader yy": 0.0,
            "follower xx": 0.0,
            "follower xy": -b,
            "follower yx": -b,
            "follower yy": -2 * b,
        }
        return self._constant_hvp(table, player, block, x, y, v)

    def best_response(self, x: np.ndarray) -> np.ndarray:
        xp = namespace(x)  # array-API: the JAX engine traces it (the best-response follower)
        if xp is np:
            x = np.asarray(x, dtype=np.float64)
        return xp.clip((self.a - self.c2 - self.b * x) / (2 * self.b), 0.0, self.a / self.b)

    def _stackelberg(self) -> Equilibrium:
        q1 = (self.a - 2 * self.c1 + self.c2) / (2 * self.b)
        return self.equilibrium_at([q1], self.best_response(np.array([q1])))

    def _nash(self) -> Equilibrium | None:
        q1 = (self.a - 2 * self.c1 + self.c2) / (3 * self.b)
        q2 = (self.a - 2 * self.c2 + self.c1) / (3 * self.b)
        if not (0 < q1 < self.a / self.b and 0 < q2 < self.a / self.b):
            return None
        return self.equilibrium_at([q1], [q2])
