"""A shared-interest team-production game in which the leader's commitment helps both."""

from __future__ import annotations

import numpy as np

from hic_envs.games import _checks

from .base import Equilibrium, Game

__all__ = ["CooperativeGame"]


class CooperativeGame(Game):
    """Team production with complementary efforts: commitment beats best-responding.

    ## Description
    A human-AI team shares the value of a joint product: the AI (leader) and the human
    (follower) choose efforts ``x, y >= 0`` and both receive the common payoff
    ``V(x, y) = v (x + y) + s x y``, where ``s > 0`` makes the efforts complements (each
    player's effort is worth more when the other works too). Each pays its own effort cost,
    ``alpha x^2 / 2`` and ``beta y^2 / 2``. Interests are aligned (both gain from ``V``), but each
    player bears its cost alone, so at the Nash equilibrium both free-ride and under-invest.
    A leader that best-responds to the follower's current effort ends at Nash; a leader that
    *shapes* the follower (commits to a higher effort, knowing the follower will raise its own
    in response, ``r'(x) = s / beta > 0``) reaches the Stackelberg equilibrium, where **both**
    players are better off. With the defaults: ``f1`` rises from 4 to 5 and ``f2`` from 4 to
    8.5.

    Why both gain: the leader never loses by committing (it could commit to its Nash effort),
    and the follower's payoff along its best response, ``f2(x, r(x))``, increases with ``x``
    (``d/dx f2(x, r(x)) = grad_x f2 = v + s r(x) > 0``) while ``x* > x_Nash``.

    ## Strategy spaces
    | player   | dim | low | high                       | meaning          |
    |----------|-----|-----|----------------------------|------------------|
    | leader   | 1   | 0   | ``2 x*``                   | leader effort    |
    | follower | 1   | 0   | ``2 r(2 x*)``              | follower effort  |

    Defaults: ``X = [0, 8]``, ``Y = [0, 10]``. The DSE sits at the centre of ``X`` and
    ``r(X) = [v / beta, r(2 x*)]`` is interior to ``Y``.

    ## Payoffs
    ``f1(x, y) = v (x + y) + s x y - alpha x^2 / 2`` and
    ``f2(x, y) = v (x + y) + s x y - beta y^2 / 2``.
    ``f2`` is ``beta``-strongly concave and ``beta``-smooth in ``y`` (``mu = K2 = beta``).

    ## Equilibria
    * Best response: ``r(x) = (v + s x) / beta``.
    * DSE: ``f1(x, r(x))`` has derivative ``v (beta + 2 s) / beta + (2 s^2 / beta - alpha) x``,
      strictly concave when ``alpha beta > 2 s^2``; ``x* = v (beta + 2 s) / (alpha beta - 2 s^2)``,
      ``y* = r(x*)``. Defaults: ``(4, 3)``, payoffs ``(5, 8.5)``.
    * Nash: solving ``v + s y = alpha x`` and ``v + s x = beta y`` gives
      ``x = v (beta + s) / (alpha beta - s^2)``, ``y = v (alpha + s) / (alpha beta - s^2)``; a DNE
      (``grad_xx f1 = -alpha``, ``grad_yy f2 = -beta``). Defaults: ``(2, 2)``, payoffs
      ``(4, 4)``. With ``s = 0`` the two equilibria coincide.

    ## Arguments
    * ``v`` (float, default 1): marginal value of effort in the shared product; positive.
    * ``s`` (float, default 0.5): complementarity of the efforts; ``0 <= s`` and
      ``2 s^2 < alpha beta``.
    * ``alpha`` (float, default 1): the leader's effort cost; positive.
    * ``beta`` (float, default 1): the follower's effort cost (``mu = K2 = beta``); positive.

    ## Version History
    * v0: initial version.
    """

    name = "Cooperative"

    def __init__(
        self, v: float = 1.0, s: float = 0.5, alpha: float = 1.0, beta: float = 1.0
    ) -> None:
        self.v = _checks.positive("v", v)
        self.s = _checks.nonnegative("s", s)
        self.alpha = _checks.positive("alpha", alpha)
        self.beta = _checks.positive("beta", beta)
        # s * s, not s**2: a Python float power raises OverflowError where a product is inf.
        if not 2 * (self.s * self.s) < self.alpha * self.beta:
            raise ValueError(
                f"need 2 s^2 < alpha beta for a strictly concave leader objective, got "
                f"s={s!r}, alpha={alpha!r}, beta={beta!r}"
            )
        params = {"v": v, "s": s, "alpha": alpha, "beta": beta}
        self._x_star = _checks.derived(
            "the DSE x*",
            self.v * (self.beta + 2 * self.s) / (self.alpha * self.beta - 2 * (self.s * self.s)),
            **params,
        )
        x_high = _checks.derived("the leader's box bound 2 x*", 2 * self._x_star, **params)
        y_high = _checks.derived(
            "the follower's box bound", 2 * (self.v + self.s * x_high) / self.beta, **params
        )
        super().__init__([0.0], [x_high], [0.0], [y_high], mu=self.beta, K2=self.beta)
        _checks.finite_on_boxes(self, **params)

    def _common(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.v * (x + y) + self.s * x * y

    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = x[..., 0], y[..., 0]
        return self._common(x, y) - 0.5 * self.alpha * x**2

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = x[..., 0], y[..., 0]
        return self._common(x, y) - 0.5 * self.beta * y**2

    def payoffs(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = x[..., 0], y[..., 0]
        common = self._common(x, y)
        return common - 0.5 * self.alpha * x**2, common - 0.5 * self.beta * y**2

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.v + self.s * y - self.alpha * x

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.v + self.s * x - self.beta * y

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        g = self.v + self.s * x
        return np.broadcast_to(g, np.broadcast_shapes(g.shape, y.shape)).copy()

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1]) + (1, 1)
        return np.full(shape, -self.beta)

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1]) + (1, 1)
        return np.full(shape, self.s)

    def best_response(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.clip((self.v + self.s * x) / self.beta, self.follower_low, self.follower_high)

    def _stackelberg(self) -> Equilibrium:
        x = np.array([self._x_star])
        return self.equilibrium_at(x, self.best_response(x))

    def _nash(self) -> Equilibrium | None:
        det = self.alpha * self.beta - self.s**2
        x = self.v * (self.beta + self.s) / det
        y = self.v * (self.alpha + self.s) / det
        return self.equilibrium_at([x], [y])
