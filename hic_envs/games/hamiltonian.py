"""The Hamiltonian (bilinear zero-sum) game, with a regularised follower."""

from __future__ import annotations

import numpy as np

from hic_envs.games import _checks
from hic_envs.games.array_api import batch_shape, full, namespace, spread
from hic_envs.games.base import Equilibrium, Game

__all__ = ["HamiltonianGame"]


class HamiltonianGame(Game):
    """The Hamiltonian game ``f1 = xy``, with a quadratic regulariser on the follower.

    ## Description
    The bilinear game ``f1 = xy = -f2`` (Letcher et al., 2019; Fiez et al., 2020) is the
    simplest game on which simultaneous gradient ascent cycles: its dynamics are a pure
    rotation (a Hamiltonian flow). The published Hi-C code plays it with ``reg = 0``
    (``hi_c/games/polynomial.py``). With ``reg = 0`` the follower's payoff ``-xy`` is linear
    in ``y``: it has **no** best response inside ``Y`` (it jumps between the bounds of ``Y``
    with the sign of ``x``) and no smooth ``r(x)``, so the Stackelberg analysis of the paper
    does not apply. Here the follower pays ``reg y^2 / 2`` on top, which makes its payoff
    strongly concave and its best response smooth; ``reg = 0`` is accepted for the published
    game's payoffs and derivatives, and everything that needs ``r(x)`` (best response,
    hierarchical payoff and gradient, the DSE) raises ``ValueError`` for it.

    ## Strategy spaces
    | player   | dim | low | high |
    |----------|-----|-----|------|
    | leader   | 1   | -4  | 4    |
    | follower | 1   | -4  | 4    |

    ## Payoffs
    ``f1(x, y) = xy`` and ``f2(x, y) = -xy - reg y^2 / 2``. ``grad_yy f2 = -reg``
    (``mu = K2 = reg`` for ``reg > 0``), ``grad_yx f2 = -1``, ``grad_yx f1 = 1``.

    ## Equilibria
    * Best response (``reg > 0``): ``r(x) = -x / reg``, projected onto ``Y``; interior for
      ``abs(x) < 4 reg`` (with the default ``reg = 1``, everywhere but at the corners of
      ``X``, where it touches the bound).
    * DSE: ``f1(x, r(x)) = -x^2 / reg`` (where ``r`` is interior), maximal at ``x* = 0``, so
      ``(0, 0)`` with payoffs ``(0, 0)`` and hierarchical Hessian ``-2 / reg``.
    * Nash: ``(0, 0)`` is the only stationary point of both gradients, but ``grad_xx f1 = 0``:
      not a differential Nash equilibrium (Definition 3.1, condition II), so :meth:`nash`
      returns None (for every ``reg``).

    ## Arguments
    * ``reg`` (float, default 1): the follower's quadratic regulariser; ``>= 0``, and ``> 0``
      for anything that needs the best response.

    ## Version History
    * v0: initial version.
    """

    name = "Hamiltonian"
    array_api_best_response = True

    def __init__(self, reg: float = 1.0) -> None:
        self.reg = _checks.nonnegative("reg", reg)
        mu = self.reg if self.reg > 0 else None
        super().__init__([-4.0], [4.0], [-4.0], [4.0], mu=mu, K2=mu)

    def _require_reg(self, what: str) -> None:
        if self.reg <= 0:
            raise ValueError(
                f"{what} needs reg > 0: with reg=0 (the published game) the follower's payoff "
                "-xy is linear in y and has no best response r(x) inside Y"
            )

    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x[..., 0] * y[..., 0]

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -x[..., 0] * y[..., 0] - 0.5 * self.reg * y[..., 0] ** 2

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return spread(y, np.broadcast_shapes(x.shape, y.shape))

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -x - self.reg * y

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return spread(x, np.broadcast_shapes(x.shape, y.shape))

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return full(batch_shape(x, y) + (1, 1), -self.reg, x, y)

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return full(batch_shape(x, y) + (1, 1), -1.0, x, y)

    def leader_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return full(batch_shape(x, y) + (1, 1), 1.0, x, y)

    def follower_grad_x(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return spread(-y, np.broadcast_shapes(x.shape, y.shape))

    def payoff_hvp(
        self, player: str, block: str, x: np.ndarray, y: np.ndarray, v: np.ndarray
    ) -> np.ndarray:
        """Constant second derivatives: ``f1`` has ``1`` across, ``f2`` has ``-1`` across and
        ``-reg`` in ``y``; the rest are 0."""
        table = {
            "leader xx": 0.0,
            "leader xy": 1.0,
            "leader yx": 1.0,
            "leader yy": 0.0,
            "follower xx": 0.0,
            "follower xy": -1.0,
            "follower yx": -1.0,
            "follower yy": -self.reg,
        }
        return self._constant_hvp(table, player, block, x, y, v)

    def total_leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self._require_reg("total_leader_grad")
        return super().total_leader_grad(x, y)

    def best_response(self, x: np.ndarray) -> np.ndarray:
        self._require_reg("best_response")
        xp = namespace(x)
        x = xp.asarray(x, dtype=xp.float64)
        return xp.clip(-x / self.reg, self.follower_low, self.follower_high)

    def hierarchical_grad(self, x: np.ndarray) -> np.ndarray:
        # -2x / reg where r is interior; where r sits on a bound it does not move with x, and
        # the total derivative is grad_x f1 = y.
        x = np.asarray(x, dtype=np.float64)
        y = self.best_response(x)
        interior = np.abs(x) < 4.0 * self.reg
        return np.where(interior, -2.0 * x / self.reg, y)

    def _stackelberg(self) -> Equilibrium:
        self._require_reg("stackelberg")
        return self.equilibrium_at([0.0], [0.0])

    def _nash(self) -> Equilibrium | None:
        return None
