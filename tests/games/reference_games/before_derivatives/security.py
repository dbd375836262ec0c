"""A Stackelberg security game with continuous coverage and a quantal-response attacker."""

from __future__ import annotations

import numpy as np
import scipy
from numpy.typing import ArrayLike

from hic_envs.games import _checks
from hic_envs.games.array_api import namespace

from .base import Equilibrium, Game

__all__ = ["SecurityGame"]

_DEFAULTS = {
    # target:                    0      1      2     (further targets interpolate, see below)
    "defender_reward": (0.5, 0.5, 0.5),
    "defender_penalty": (-1.0, -0.75, -0.5),
    "attacker_reward": (1.0, 0.75, 0.5),
    "attacker_penalty": (-0.5, -0.5, -0.5),
}


def _default(key: str, n: int) -> np.ndarray:
    base = np.asarray(_DEFAULTS[key])
    if n == base.size:
        return base.copy()
    return np.interp(np.linspace(0.0, 1.0, n), np.linspace(0.0, 1.0, base.size), base)


class SecurityGame(Game):
    """A Stackelberg security game: a defender covers targets, an attacker responds smoothly.

    ## Description
    A defender (leader) protects ``n`` targets with continuous coverage probabilities
    ``x in [0, 1]^n``; an attacker (follower) then chooses where to attack. If target ``i`` is
    attacked, the defender expects ``U_d_i(x) = x_i R_d_i + (1 - x_i) P_d_i`` (reward if
    covered, penalty if not) and the attacker ``U_a_i(x) = x_i P_a_i + (1 - x_i) R_a_i``.

    The attacker is entropy-regularised (bounded rational). Its strategy ``y in Y`` (a box of
    positive reals) is a vector of unnormalised attack weights; it attacks target ``i`` with
    probability ``p_i(y) = y_i / sum_j y_j`` (:meth:`attack_distribution`). Its payoff is the
    weighted attacker utility plus ``tau`` times the (unnormalised) entropy of the weights,

        ``f2(x, y) = sum_i y_i U_a_i(x) - tau sum_i (y_i log y_i - y_i)``,

    whose maximiser is ``r_i(x) = exp(U_a_i(x) / tau)``: unique, smooth, in closed form, and
    normalising it gives exactly the logit quantal response ``p(r(x)) = softmax(U_a(x) / tau)``
    (:meth:`quantal_response`). Working with weights rather than probabilities keeps ``Y`` a
    box and ``f2`` strongly concave in ``y``, which a softmax parameterisation would not be.

    The defender's payoff is its expected utility under the attack distribution minus the cost
    of coverage. The budget constraint ``sum_i x_i <= budget`` of classic security games is
    made soft so that ``X`` stays a box: coverage beyond the budget costs
    ``budget_penalty / 3 * max(0, sum_i x_i - budget)^3``, a penalty that is twice continuously
    differentiable (the paper assumes ``f in C^2``; a squared hinge would not be). A small
    quadratic cost ``coverage_cost / 2 * ||x||^2`` makes the defender's own payoff strictly
    concave in ``x``.

    ## Strategy spaces
    | player              | dim | low                          | high                          |
    |---------------------|-----|------------------------------|-------------------------------|
    | leader (defender)   | n   | 0                            | 1                             |
    | follower (attacker) | n   | ``exp(P_a_i / tau) / 1.25``  | ``1.25 exp(R_a_i / tau)``     |

    Since ``U_a_i`` ranges over ``[P_a_i, R_a_i]`` as ``x_i`` ranges over ``[0, 1]``, ``r(X)`` is
    interior to ``Y``.

    ## Payoffs
    ``f1(x, y) = sum_i p_i(y) U_d_i(x) - coverage_cost / 2 ||x||^2
    - budget_penalty / 3 max(0, sum_i x_i - budget)^3`` and ``f2`` as above.
    ``grad_yy f2 = -tau diag(1 / y)``, so on ``Y`` the follower's payoff is ``mu``-strongly
    concave and ``K2``-smooth with ``mu = tau / max_i high_i`` and ``K2 = tau / min_i low_i``.

    ## Equilibria
    * Best response: ``r_i(x) = exp(U_a_i(x) / tau)``, in closed form.
    * DSE: no closed form; computed numerically by the base class (bounded L-BFGS-B on
      ``f1(x, r(x))`` with its exact gradient, from several starts). With the defaults it is
      interior, ``x* ~ (0.5693, 0.4253, 0.1973)``, over budget by about 0.19. Other payoffs can
      put it on the boundary of ``X`` (a target not worth covering), outside Definition 3.3.
    * Nash: no closed form; :meth:`_nash` solves the defender's first-order condition along the
      attacker's best response, ``grad_x f1(x, r(x)) = 0``, and returns the solution if it is
      interior; ``grad_xx f1 = -coverage_cost I - 2 budget_penalty max(0, sum x - budget) 11^T``
      is negative definite iff ``coverage_cost > 0`` (as ``n >= 2``), so with
      ``coverage_cost = 0`` there is no DNE. With the defaults it is
      ``x ~ (0.6190, 0.4324, 0.1407)``: at Nash the defender ignores that coverage deters
      attacks, over-covers the most valuable target and under-covers the least valuable one.

    ## Arguments
    * ``n`` (int, default 3): number of targets, at least 2.
    * ``defender_reward``, ``defender_penalty``, ``attacker_reward``, ``attacker_penalty``
      (float or sequence of ``n`` floats, default None): the payoffs ``R_d``, ``P_d``, ``R_a``,
      ``P_a``; None gives the defaults ``R_d = (0.5, 0.5, 0.5)``,
      ``P_d = (-1, -0.75, -0.5)``, ``R_a = (1, 0.75, 0.5)``, ``P_a = (-0.5, -0.5, -0.5)`` (for
      ``n != 3`` interpolated over the targets). Need ``R_d > P_d`` and ``R_a > P_a``
      (coverage helps the defender and hurts the attacker).
    * ``tau`` (float, default 1): the attacker's temperature; positive.
    * ``coverage_cost`` (float, default 0.1): the quadratic coverage cost; non-negative.
    * ``budget`` (float, default 1): the soft budget on total coverage; positive.
    * ``budget_penalty`` (float, default 10): weight of the cubic over-budget penalty;
      non-negative.

    ## Version History
    * v0: initial version.
    """

    name = "Security"

    def __init__(
        self,
        n: int = 3,
        defender_reward: ArrayLike | None = None,
        defender_penalty: ArrayLike | None = None,
        attacker_reward: ArrayLike | None = None,
        attacker_penalty: ArrayLike | None = None,
        tau: float = 1.0,
        coverage_cost: float = 0.1,
        budget: float = 1.0,
        budget_penalty: float = 10.0,
    ) -> None:
        self.n = n = _checks.positive_int("n", n)
        if n < 2:
            raise ValueError(
                f"n must be at least 2 (one target leaves the attacker no choice), got {n!r}"
            )
        given = {
            "defender_reward": defender_reward,
            "defender_penalty": defender_penalty,
            "attacker_reward": attacker_reward,
            "attacker_penalty": attacker_penalty,
        }
        vals = {
            k: _default(k, n) if v is None else _checks.vector(k, v, n) for k, v in given.items()
        }
        self.defender_reward = vals["defender_reward"]
        self.defender_penalty = vals["defender_penalty"]
        self.attacker_reward = vals["attacker_reward"]
        self.attacker_penalty = vals["attacker_penalty"]
        if np.any(self.defender_reward <= self.defender_penalty):
            raise ValueError(
                "need defender_reward > defender_penalty on every target, got "
                f"{self.defender_reward.tolist()} and {self.defender_penalty.tolist()}"
            )
        if np.any(self.attacker_reward <= self.attacker_penalty):
            raise ValueError(
                "need attacker_reward > attacker_penalty on every target, got "
                f"{self.attacker_reward.tolist()} and {self.attacker_penalty.tolist()}"
            )
        self.tau = _checks.positive("tau", tau)
        self.coverage_cost = _checks.nonnegative("coverage_cost", coverage_cost)
        self.budget = _checks.positive("budget", budget)
        self.budget_penalty = _checks.nonnegative("budget_penalty", budget_penalty)
        # U_d = P_d + x * dD and U_a = R_a - x * dA, with dD, dA > 0.
        self._dD = self.defender_reward - self.defender_penalty
        self._dA = self.attacker_reward - self.attacker_penalty
        with np.errstate(over="raise", under="ignore"):
            try:
                y_low = np.exp(self.attacker_penalty / self.tau) / 1.25
                y_high = 1.25 * np.exp(self.attacker_reward / self.tau)
            except FloatingPointError:
                raise ValueError(
                    f"attacker payoffs / tau overflow exp (tau={tau!r}); rescale the payoffs"
                ) from None
        if not (np.all(y_low > 0) and np.all(np.isfinite(y_high))):
            raise ValueError(
                f"attacker payoffs / tau are too extreme for tau={tau!r}; rescale the payoffs"
            )
        super().__init__(
            np.zeros(n),
            np.ones(n),
            y_low,
            y_high,
            mu=self.tau / y_high.max(),
            K2=_checks.derived("K2 = tau / min(follower low)", self.tau / y_low.min(), tau=tau),
        )
        _checks.finite_on_boxes(
            self,
            **given,
            tau=tau,
            coverage_cost=coverage_cost,
            budget=budget,
            budget_penalty=budget_penalty,
        )

    # ------------------------------------------------------------------ game-specific helpers
    def defender_utility(self, x: np.ndarray) -> np.ndarray:
        """``U_d(x)``: the defender's utility if each target is attacked, shape ``(..., n)``."""
        return self.defender_penalty + x * self._dD

    def attacker_utility(self, x: np.ndarray) -> np.ndarray:
        """``U_a(x)``: the attacker's utility for attacking each target, shape ``(..., n)``."""
        return self.attacker_reward - x * self._dA

    def attack_distribution(self, y: np.ndarray) -> np.ndarray:
        """``p(y) = y / sum(y)``: the attack probabilities of weights ``y``, shape ``(..., n)``."""
        y = np.asarray(y, dtype=np.float64)
        return y / y.sum(axis=-1, keepdims=True)

    def quantal_response(self, x: np.ndarray) -> np.ndarray:
        """``softmax(U_a(x) / tau)``: the attack distribution at the best response,
        shape ``(..., n)``."""
        z = self.attacker_utility(np.asarray(x, dtype=np.float64)) / self.tau
        return np.exp(z - scipy.special.logsumexp(z, axis=-1, keepdims=True))

    def _over_budget(self, x: np.ndarray) -> np.ndarray:
        xp = namespace(x)
        return xp.maximum(xp.sum(x, axis=-1) - self.budget, 0.0)

    # ------------------------------------------------------------------ payoffs
    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        p = y / y.sum(axis=-1, keepdims=True)
        value = (p * self.defender_utility(x)).sum(axis=-1)
        cost = 0.5 * self.coverage_cost * (x * x).sum(axis=-1)
        return value - cost - self.budget_penalty / 3.0 * self._over_budget(x) ** 3

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        xp = namespace(x, y)
        return xp.sum(y * self.attacker_utility(x) - self.tau * (y * xp.log(y) - y), axis=-1)

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        p = y / y.sum(axis=-1, keepdims=True)
        over = self._over_budget(x)[..., None]
        return p * self._dD - self.coverage_cost * x - self.budget_penalty * over**2

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.attacker_utility(x) - self.tau * namespace(x, y).log(y)

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        total = y.sum(axis=-1, keepdims=True)
        ud = self.defender_utility(x)
        mean = (y * ud).sum(axis=-1, keepdims=True) / total
        return (ud - mean) / total

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        diag = np.broadcast_to(-self.tau / y, shape + (self.n,))
        out = np.zeros(shape + (self.n, self.n))
        idx = np.arange(self.n)
        out[..., idx, idx] = diag
        return out

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        out = np.zeros(shape + (self.n, self.n))
        idx = np.arange(self.n)
        out[..., idx, idx] = -self._dA
        return out

    def best_response(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.exp(self.attacker_utility(x) / self.tau)

    def _nash(self) -> Equilibrium | None:
        # grad_xx f1 = -coverage_cost I - 2 budget_penalty max(0, sum x - budget) 11^T is
        # negative definite iff coverage_cost > 0 (11^T is singular for n >= 2).
        if self.coverage_cost <= 0:
            return None

        # At a Nash equilibrium the attacker plays its best response, so it suffices to solve the
        # defender's first-order condition along y = r(x): n equations instead of 2n, and y stays
        # in its box (the log in f2 is undefined outside it).
        def foc(x):
            return self.leader_grad(x, self.best_response(x))

        lo, hi = self.leader_low, self.leader_high
        for x0 in [self.stackelberg().x, *self._starts(lo, hi)]:
            with np.errstate(all="ignore"):
                x = scipy.optimize.root(foc, x0, method="hybr", options={"xtol": 1e-13}).x
            if not np.all(np.isfinite(x)) or np.any(x <= lo) or np.any(x >= hi):
                continue
            if np.linalg.norm(foc(x)) <= 1e-9:
                return self.equilibrium_at(x, self.best_response(x))
        return None
