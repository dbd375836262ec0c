"""The regularised Dirac-GAN of Mescheder et al. (2018), as a Stackelberg game."""

from __future__ import annotations

import numpy as np

from hic_envs.games import _checks
from hic_envs.games.array_api import batch_shape, full, namespace, spread
from hic_envs.games.base import Equilibrium, Game

__all__ = ["DiracGAN"]


class DiracGAN(Game):
    """A Dirac-GAN: a one-point generator against a linear, weight-decayed discriminator.

    ## Description
    The data distribution is a point mass at ``c``. The generator (leader) produces a point mass
    at ``theta``; the discriminator (follower) is linear, ``D(u) = psi u``, and scores how much
    higher it rates data than samples, ``D(c) - D(theta) = psi (c - theta)`` (the Wasserstein-GAN
    form of the Dirac-GAN of Mescheder et al., 2018), minus a weight-decay regulariser
    ``gamma psi^2 / 2`` that makes its objective strongly concave. The game is zero-sum: the
    generator minimises what the discriminator maximises.

    Without the regulariser (``gamma = 0``) the game is bilinear, the discriminator's best
    response is not unique, and simultaneous gradient ascent cycles around ``(c, 0)``. With
    ``gamma > 0``:

    * the follower's best response ``r(theta) = (c - theta) / gamma`` is unique, so the
      generator's hierarchical objective ``-(c - theta)^2 / (2 gamma)`` is strictly concave and
      ``(c, 0)`` is a differential Stackelberg equilibrium;
    * ``(c, 0)`` is the unique stationary point of the players' gradients and a (saddle-point)
      Nash equilibrium, but **not** a differential Nash equilibrium: the generator's payoff is
      linear in ``theta`` (``grad_thetatheta f1 = 0``), so condition II of Definition 3.1 fails
      and :meth:`nash` returns None;
    * simultaneous gradient ascent is a damped oscillator (``theta' = psi``,
      ``psi' = c - theta - gamma psi``) and converges to ``(c, 0)`` for small enough steps.

    ## Strategy spaces
    | player                   | dim | low    | high  | meaning                            |
    |--------------------------|-----|--------|-------|------------------------------------|
    | leader (generator)       | 1   | ``-L`` | ``L`` | ``theta``, the generated point     |
    | follower (discriminator) | 1   | ``-M`` | ``M`` | ``psi``, the discriminator's slope |

    with ``L = 2 max(1, abs(c))`` and ``M = (abs(c) + L) / gamma + 1``, so that ``c`` is
    interior and ``r(X)`` is interior to ``Y``. Defaults: ``X = [-2, 2]``, ``Y = [-4, 4]``.

    ## Payoffs
    ``f2(theta, psi) = psi (c - theta) - gamma psi^2 / 2`` and ``f1 = -f2``.
    ``f2`` is ``gamma``-strongly concave and ``gamma``-smooth in ``psi`` (``mu = K2 = gamma``).

    ## Equilibria
    * Best response: ``r(theta) = (c - theta) / gamma``.
    * DSE: ``theta* = c``, ``psi* = 0``, payoffs ``(0, 0)``; hierarchical Hessian
      ``-1 / gamma``. Defaults: ``(1, 0)``.
    * Nash: none in the differential sense (see above).

    ## Arguments
    * ``c`` (float, default 1): location of the data (the DSE's ``theta*``); any finite value.
    * ``gamma`` (float, default 1): the discriminator's weight decay; positive.

    ## Version History
    * v0: initial version.
    """

    name = "DiracGAN"
    array_api_best_response = True

    def __init__(self, c: float = 1.0, gamma: float = 1.0) -> None:
        self.c = _checks.finite("c", c)
        self.gamma = _checks.positive("gamma", gamma)
        x_half = _checks.derived("the leader's box half-width", 2.0 * max(1.0, abs(self.c)), c=c)
        y_half = _checks.derived(
            "the follower's box half-width",
            (abs(self.c) + x_half) / self.gamma + 1.0,
            c=c,
            gamma=gamma,
        )
        super().__init__([-x_half], [x_half], [-y_half], [y_half], mu=self.gamma, K2=self.gamma)
        _checks.finite_on_boxes(self, c=c, gamma=gamma)

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        psi = y[..., 0]
        return psi * (self.c - x[..., 0]) - 0.5 * self.gamma * psi**2

    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -self.follower_payoff(x, y)

    def payoffs(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f2 = self.follower_payoff(x, y)
        return -f2, f2

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return spread(y, np.broadcast_shapes(x.shape, y.shape))

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.c - x - self.gamma * y

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x - self.c + self.gamma * y

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return full(batch_shape(x, y) + (1, 1), -self.gamma, x, y)

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return full(batch_shape(x, y) + (1, 1), -1.0, x, y)

    def follower_grad_x(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return spread(-y, np.broadcast_shapes(x.shape, y.shape))

    def payoff_hvp(
        self, player: str, block: str, x: np.ndarray, y: np.ndarray, v: np.ndarray
    ) -> np.ndarray:
        """Constant second derivatives of ``f2`` (``0``, ``-1``, ``-gamma``), negated for
        ``f1``."""
        table = {"xx": 0.0, "xy": -1.0, "yx": -1.0, "yy": -self.gamma}
        both = {f"follower {k}": h for k, h in table.items()}
        both.update({f"leader {k}": -h for k, h in table.items()})
        return self._constant_hvp(both, player, block, x, y, v)

    def best_response(self, x: np.ndarray) -> np.ndarray:
        xp = namespace(x)
        x = xp.asarray(x, dtype=xp.float64)
        return xp.clip((self.c - x) / self.gamma, self.follower_low, self.follower_high)

    def _stackelberg(self) -> Equilibrium:
        return self.equilibrium_at([self.c], [0.0])

    def _nash(self) -> Equilibrium | None:
        return None
