"""The tandem game of Letcher et al. (2019), as the published Hi-C code plays it."""

from __future__ import annotations

import numpy as np

from hic_envs.games.array_api import batch_shape, full, namespace
from hic_envs.games.base import Equilibrium, Game

__all__ = ["TandemGame"]

#: Both payoffs' second derivatives (every one is -2).
_HESSIAN = {f"{p} {b}": -2.0 for p in ("leader", "follower") for b in ("xx", "xy", "yx", "yy")}


class TandemGame(Game):
    """The tandem (bicycle) game: two riders who must pedal together.

    ## Description
    Letcher et al. (2019, "Stable Opponent Shaping") built the tandem game to show LOLA
    overshooting: both players pay the squared total ``(x + y)^2`` and each gains twice its own
    strategy. The published Hi-C code (rtloftin/Hi-C, aamas2024, ``hi_c/games/polynomial.py``)
    plays it on ``[-4, 4]^2`` with the payoffs below; this is that game.

    ## Strategy spaces
    | player   | dim | low | high |
    |----------|-----|-----|------|
    | leader   | 1   | -4  | 4    |
    | follower | 1   | -4  | 4    |

    ## Payoffs
    ``f1(x, y) = 2x - (x + y)^2`` and ``f2(x, y) = 2y - (x + y)^2``. ``grad_yy f2 = -2``, so the
    follower's payoff is 2-strongly concave and 2-smooth (``mu = K2 = 2``);
    ``grad_yx f2 = grad_yx f1 = -2``.

    ## Equilibria
    * Best response: ``grad_y f2 = 2 - 2(x + y) = 0`` gives ``r(x) = 1 - x``, projected onto
      ``Y``: ``r(x) = 4`` for ``x < -3`` (there the follower sits on its bound).
    * Stackelberg solution, **on the boundary**: along ``r``, ``f1(x, r(x)) = 2x - 1`` for
      ``x >= -3`` (and ``2x - (x + 4)^2 < -7`` below), strictly increasing, so the leader's
      best commitment is the bound ``x* = 4`` with ``y* = r(4) = -3`` and payoffs
      ``(7, -7)``. It is not a DSE in the sense of Definition 3.3 (the total leader gradient is
      2 there, the hierarchical Hessian 0): the paper's interior analysis does not apply, and
      :meth:`stackelberg` returns this boundary point.
    * Nash: ``grad_x f1 = grad_y f2 = 2 - 2(x + y)``, so every point of the line
      ``x + y = 1`` inside the box is a differential Nash equilibrium (``grad_xx f1 =
      grad_yy f2 = -2``); they are not isolated. :meth:`nash` returns the symmetric one,
      ``(0.5, 0.5)``, with payoffs ``(0, 0)``.

    ## Arguments
    None.

    ## Version History
    * v0: initial version.
    """

    name = "Tandem"
    array_api_best_response = True

    def __init__(self) -> None:
        super().__init__([-4.0], [4.0], [-4.0], [4.0], mu=2.0, K2=2.0)

    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 2.0 * x[..., 0] - (x[..., 0] + y[..., 0]) ** 2

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 2.0 * y[..., 0] - (x[..., 0] + y[..., 0]) ** 2

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 2.0 - 2.0 * (x + y)

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 2.0 - 2.0 * (x + y)

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -2.0 * (x + y)

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return full(batch_shape(x, y) + (1, 1), -2.0, x, y)

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return full(batch_shape(x, y) + (1, 1), -2.0, x, y)

    def leader_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return full(batch_shape(x, y) + (1, 1), -2.0, x, y)

    def follower_grad_x(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -2.0 * (x + y)

    def payoff_hvp(
        self, player: str, block: str, x: np.ndarray, y: np.ndarray, v: np.ndarray
    ) -> np.ndarray:
        """Every second derivative of both payoffs is -2."""
        return self._constant_hvp(_HESSIAN, player, block, x, y, v)

    def best_response(self, x: np.ndarray) -> np.ndarray:
        xp = namespace(x)
        x = xp.asarray(x, dtype=xp.float64)
        return xp.clip(1.0 - x, self.follower_low, self.follower_high)

    def hierarchical_grad(self, x: np.ndarray) -> np.ndarray:
        # d/dx [2x - 1] = 2 where r is interior; where r sits on its bound (x < -3) it does not
        # move with x, and the total derivative is grad_x f1(x, 4).
        x = np.asarray(x, dtype=np.float64)
        y = self.best_response(x)
        return np.where(1.0 - x > self.follower_high, self.leader_grad(x, y), 2.0)

    def _stackelberg(self) -> Equilibrium:
        return self.equilibrium_at([4.0], [-3.0])

    def _nash(self) -> Equilibrium | None:
        return self.equilibrium_at([0.5], [0.5])
