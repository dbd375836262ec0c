"""A game whose strategies are the logits of another game's probabilities."""

from __future__ import annotations

import numpy as np
import scipy

from hic_envs.games import _checks
from hic_envs.games.base import Equilibrium, Game

__all__ = ["LogitGame"]


class LogitGame(Game):
    """``inner`` played in logits: ``f(x, y) = scale inner.f(sigmoid(x), sigmoid(y))``.

    LOLA (Foerster et al., 2018) and SOS (Letcher et al., 2019) parameterise the IPD's five
    cooperation probabilities by their logits, ``p = sigmoid(theta)``, and take gradient steps
    in ``theta``; this wrapper turns any game whose strategies are probabilities (the IPD, the
    matrix games) into that form, with exact derivatives by the chain rule: with
    ``s = sigmoid(z)``, ``s' = s (1 - s)`` and ``s'' = s' (1 - 2 s)``,
    ``grad_z f = s' grad_p f`` and ``d^2 f / da_i db_j = s'_a,i H_ij s'_b,j`` plus
    ``s''_a,i grad_a,i f`` on the diagonal of a same-variable block (``"xx"``, ``"yy"``).
    :meth:`payoff_hvp` is the inner game's, scaled the same way (matrix-free when the inner
    game's is).

    Strategy spaces: the box ``[-bound, bound]`` in every logit (the published learners are
    unconstrained; ``sigmoid(+-50)`` is within ``2e-22`` of 0 or 1, so the default bound only
    stops a run that has already decided). Ground truth: the inner game's best response and
    equilibria mapped to logits (clipped to the box), where the inner game has them.

    ``scale`` (> 0, default 1) multiplies both payoffs and so every derivative: LOLA's and
    SOS's IPD losses are the discounted sums ``d0 (I - gamma P)^-1 r``, ``1 / (1 - gamma)``
    times this project's per-stage averages, and a step size means the same thing only in the
    same units (SOS's ``|g| < b`` test is not scale-free either).

    Args:
        inner: a game whose strategies are probabilities (boxes inside ``[0, 1]``).
        bound: the logit box's half-width, > 0 (default 50).
        scale: the payoffs' unit, > 0 (default 1).

    Raises:
        TypeError: if ``inner`` is not a :class:`Game`.
        ValueError: if its boxes are not inside ``[0, 1]`` or ``bound`` is not positive.
    """

    def __init__(self, inner: Game, bound: float = 50.0, scale: float = 1.0) -> None:
        if not isinstance(inner, Game):
            raise TypeError(f"inner must be a Game, got {type(inner).__name__}")
        for lo, hi, who in (
            (inner.leader_low, inner.leader_high, "leader"),
            (inner.follower_low, inner.follower_high, "follower"),
        ):
            if np.any(lo < 0.0) or np.any(hi > 1.0):
                raise ValueError(
                    f"the inner game's {who} box must lie in [0, 1] (probabilities), got "
                    f"[{lo.tolist()}, {hi.tolist()}]"
                )
        self.bound = _checks.positive("bound", bound)
        self.scale = _checks.positive("scale", scale)
        self.inner = inner
        self.name = f"Logit{inner.name}"
        b = self.bound
        super().__init__([-b] * inner.d1, [b] * inner.d1, [-b] * inner.d2, [b] * inner.d2)

    def __repr__(self) -> str:
        return f"LogitGame({self.inner!r}, bound={self.bound!r}, scale={self.scale!r})"

    # ------------------------------------------------------------------ the change of variable
    @staticmethod
    def _s(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = scipy.special.expit(np.asarray(z, dtype=np.float64))
        ds = s * (1.0 - s)
        return s, ds, ds * (1.0 - 2.0 * s)

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """``sigmoid(z)``: the inner game's strategy."""
        return self._s(z)[0]

    def _grad(self, player: str, a: str, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        g = self.inner
        table = {
            ("leader", "x"): g.leader_grad,
            ("leader", "y"): g.leader_grad_y,
            ("follower", "x"): g.follower_grad_x,
            ("follower", "y"): g.follower_grad,
        }
        return self.scale * table[(player, a)](p, q)

    # ------------------------------------------------------------------ payoffs and derivatives
    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.scale * self.inner.leader_payoff(self._s(x)[0], self._s(y)[0])

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.scale * self.inner.follower_payoff(self._s(x)[0], self._s(y)[0])

    def payoffs(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f1, f2 = self.inner.payoffs(self._s(x)[0], self._s(y)[0])
        return self.scale * f1, self.scale * f2

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        (p, dp, _), q = self._s(x), self._s(y)[0]
        return self.scale * dp * self.inner.leader_grad(p, q)

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        p, (q, dq, _) = self._s(x)[0], self._s(y)
        return self.scale * dq * self.inner.follower_grad(p, q)

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        p, (q, dq, _) = self._s(x)[0], self._s(y)
        return self.scale * dq * self.inner.leader_grad_y(p, q)

    def follower_grad_x(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        (p, dp, _), q = self._s(x), self._s(y)[0]
        return self.scale * dp * self.inner.follower_grad_x(p, q)

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        p, (q, dq, ddq) = self._s(x)[0], self._s(y)
        H = dq[..., :, None] * self.inner.follower_hess_yy(p, q) * dq[..., None, :]
        diag = ddq * self.inner.follower_grad(p, q)
        return self.scale * (H + diag[..., None] * np.eye(self.d2))

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        (p, dp, _), (q, dq, _) = self._s(x), self._s(y)
        H = dq[..., :, None] * self.inner.follower_hess_yx(p, q) * dp[..., None, :]
        return self.scale * H

    def leader_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        (p, dp, _), (q, dq, _) = self._s(x), self._s(y)
        H = dq[..., :, None] * self.inner.leader_hess_yx(p, q) * dp[..., None, :]
        return self.scale * H

    def payoff_hvp(self, player: str, block: str, x, y, v) -> np.ndarray:
        """The inner game's ``payoff_hvp`` scaled by the chain rule (class docstring)."""
        x, y, v = self._hvp_args(player, block, x, y, v)
        sx, sy = self._s(x), self._s(y)
        s = {"x": sx, "y": sy}
        p, q = sx[0], sy[0]
        a, b = block
        out = self.scale * s[a][1] * self.inner.payoff_hvp(player, block, p, q, s[b][1] * v)
        if a == b:
            out = out + s[a][2] * self._grad(player, a, p, q) * v
        return out

    # ------------------------------------------------------------------ ground truth
    def _logit(self, p: np.ndarray) -> np.ndarray:
        return np.clip(scipy.special.logit(p), -self.bound, self.bound)

    def best_response(self, x: np.ndarray) -> np.ndarray:
        return self._logit(self.inner.best_response(self._s(x)[0]))

    def _stackelberg(self) -> Equilibrium:
        eq = self.inner.stackelberg()
        return self.equilibrium_at(self._logit(eq.x), self._logit(eq.y))

    def _nash(self) -> Equilibrium | None:
        eq = self.inner.nash()
        return None if eq is None else self.equilibrium_at(self._logit(eq.x), self._logit(eq.y))
