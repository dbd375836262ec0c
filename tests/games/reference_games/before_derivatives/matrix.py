"""2x2 bimatrix games with mixed strategies and entropy-regularised players, and the strong
Stackelberg equilibrium of any bimatrix game by the multiple-LP method."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy
from numpy.typing import ArrayLike

from hic_envs.games import _checks
from hic_envs.games.array_api import namespace, xlogy

from .base import Equilibrium, Game

__all__ = [
    "BattleOfSexes",
    "Chicken",
    "Coordination",
    "MatchingPennies",
    "MatrixGame",
    "PrisonersDilemma",
    "StagHunt",
    "StrongStackelberg",
    "payoff_matrices",
    "strong_stackelberg",
]


#: Largest payoff magnitude accepted in ``A`` and ``B``. HiGHS, which solves the commitment
#: LPs of the ground truth, treats values from 1e20 up as infinite (measured: a 2x2 Bimatrix
#: solves with entries of 1e19 and fails inside HiGHS with 1e20); 1e15 leaves room for the LPs'
#: sums and differences.
MAX_PAYOFF = 1e15


def payoff_matrices(A: ArrayLike, B: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``A`` and ``B`` as float64 ``(n, m)`` matrices, ``n, m >= 2``, entries at most
    :data:`MAX_PAYOFF` in magnitude; ValueError otherwise, naming the matrix."""
    out = []
    for nm, M in (("A", A), ("B", B)):
        try:
            arr = np.array(M, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{nm} must be a matrix of real numbers, got {M!r}") from None
        if arr.ndim != 2 or min(arr.shape) < 2 or not np.all(np.isfinite(arr)):
            raise ValueError(
                f"{nm} must be a finite matrix with at least 2 rows and 2 columns, got {M!r}"
            )
        big = float(np.max(np.abs(arr)))
        if big > MAX_PAYOFF:
            raise ValueError(
                f"{nm} has an entry of magnitude {big:g}; payoffs must be at most {MAX_PAYOFF:g} "
                "in magnitude (the ground truth's LP solver, HiGHS, takes values from 1e20 up "
                "as infinite): rescale the matrix"
            )
        arr.flags.writeable = False
        out.append(arr)
    if out[0].shape != out[1].shape:
        raise ValueError(f"A and B must have the same shape, got {out[0].shape} and {out[1].shape}")
    return out[0], out[1]


@dataclasses.dataclass(frozen=True)
class StrongStackelberg:
    """The strong Stackelberg equilibrium of an unregularised bimatrix game.

    Attributes:
        leader_mixed: the leader's mixed strategy, shape ``(n,)``.
        follower_action: the follower's pure best response (ties broken for the leader).
        leader_value: the leader's expected payoff.
        follower_value: the follower's expected payoff.
    """

    leader_mixed: np.ndarray
    follower_action: int
    leader_value: float
    follower_value: float


def strong_stackelberg(A: ArrayLike, B: ArrayLike) -> StrongStackelberg:
    """The strong Stackelberg equilibrium of the bimatrix game ``(A, B)`` by multiple LPs.

    Conitzer and Sandholm (2006): for each follower action ``j``, the LP
    ``max_p p^T A e_j`` s.t. ``p^T B e_j >= p^T B e_j'`` for every ``j'``, ``sum p = 1``,
    ``p >= 0`` finds the leader's best commitment that makes ``j`` a best response; the best
    feasible ``j`` is the SSE (ties among follower responses go the leader's way, which is
    what "strong" means). Solved with scipy's HiGHS; each solve's status is checked: optimal
    or infeasible are accepted, anything else raises.

    Raises:
        ValueError: for bad matrices.
        RuntimeError: if HiGHS reports anything but optimal or infeasible.
    """
    A, B = payoff_matrices(A, B)
    n, m = A.shape
    best: StrongStackelberg | None = None
    progress = _checks.SolveProgress(
        f"strong_stackelberg(n={n}, m={m}): the multiple-LP method", m, "LP"
    )
    for j in range(m):
        progress.update(j)
        # p^T (B e_j' - B e_j) <= 0 for every j' != j.
        others = [k for k in range(m) if k != j]
        a_ub = (B[:, others] - B[:, [j]]).T
        res = scipy.optimize.linprog(
            -A[:, j],
            A_ub=a_ub,
            b_ub=np.zeros(len(others)),
            A_eq=np.ones((1, n)),
            b_eq=[1.0],
            bounds=[(0.0, None)] * n,
            method="highs",
        )
        if res.status == 2:  # infeasible: no commitment makes j a best response
            continue
        if res.status != 0:
            raise RuntimeError(f"HiGHS failed on the LP of follower action {j}: {res.message}")
        p = np.clip(res.x, 0.0, None)
        p = p / p.sum()
        value = float(p @ A[:, j])
        if best is None or value > best.leader_value + 1e-12:
            p.flags.writeable = False
            best = StrongStackelberg(p, j, value, float(p @ B[:, j]))
    if best is None:  # pragma: no cover - some action is always a best response
        raise RuntimeError("no follower action is a best response to any commitment")
    return best


def _entropy(z: np.ndarray) -> np.ndarray:
    return -xlogy(z, z) - xlogy(1.0 - z, 1.0 - z)


def _expit(z: float) -> float:
    """``scipy.special.expit(z)`` of one float, ``1 / (1 + exp(-z))`` as SciPy computes it (the
    same bits: tests compare the two in one process), without importing ``scipy.special``
    (about 0.4 s): the constructors call it for the boxes, and ``hic list`` constructs every
    game."""
    try:
        return 1.0 / (1.0 + math.exp(-z))
    except OverflowError:  # exp(-z) beyond float64: expit underflows to 0
        return 0.0


def _bilinear(M: np.ndarray) -> tuple[float, float, float, float]:
    """``E(p, q) = [p, 1-p] M [q, 1-q]^T = c0 + cp p + cq q + cpq p q``."""
    c0 = M[1, 1]
    return c0, M[0, 1] - c0, M[1, 0] - c0, M[0, 0] - M[0, 1] - M[1, 0] + c0


class MatrixGame(Game):
    """A 2x2 bimatrix game in mixed strategies with an entropy-regularised follower.

    ## Description
    The leader plays its first action (row 0) with probability ``p`` and the follower its first
    action (column 0) with probability ``q``. Payoffs are the expected payoffs of the bimatrix
    ``(A, B)`` (rows: the leader's actions; columns: the follower's), and each player gains
    ``tau_i`` times the entropy ``H(z) = -z ln z - (1 - z) ln(1 - z)`` of its own mixture.
    The follower's bonus ``tau > 0`` makes its payoff strongly concave and its best response
    the smooth logit (quantal) response; the leader's ``leader_tau`` (default 0) does the same
    for the leader (and with it the game has a differential Nash equilibrium).

    ## Strategy spaces
    | player   | dim | low      | high          |
    |----------|-----|----------|---------------|
    | leader   | 1   | ``l1``   | ``1 - l1``    |
    | follower | 1   | ``l2``   | ``1 - l2``    |

    ``H'(z) = ln((1 - z) / z)`` is infinite at 0 and 1, so the boxes stop short of them, by
    margins that keep every equilibrium strictly inside: ``l2 = sigmoid(-U / tau) / 2`` with
    ``U = max(abs(cq_B), abs(cq_B + cpq_B))`` the largest follower payoff difference (so
    ``r([0, 1]) ⊂ [2 l2, 1 - 2 l2]``), and ``l1 = 0`` when ``leader_tau = 0``, else
    ``l1 = sigmoid(-G / leader_tau) / 2`` with ``G = max(abs(cp_A), abs(cp_A + cpq_A)) +
    max(abs(cq_A), abs(cq_A + cpq_A)) abs(cpq_B) / (4 tau)``, a bound on the non-entropy part
    of ``d f1(p, r(p)) / dp`` (below ``2 l1`` the entropy term dominates it, so no maximum or
    stationary point lies there).

    ## Payoffs
    Writing ``[p, 1-p] M [q, 1-q]^T = c0 + cp p + cq q + cpq p q`` for ``M = A, B``:
    ``f1 = E_A(p, q) + leader_tau H(p)`` and ``f2 = E_B(p, q) + tau H(q)``.
    ``grad_q f2 = cq_B + cpq_B p + tau ln((1 - q) / q)``, ``grad_qq f2 = -tau / (q (1 - q))``,
    so ``mu = 4 tau`` and ``K2 = tau / (l2 (1 - l2))``; ``grad_qp f2 = cpq_B``,
    ``grad_qp f1 = cpq_A``.

    ## Equilibria
    * Best response: ``r(p) = sigmoid((cq_B + cpq_B p) / tau)``, the logit response.
    * DSE: ``f1(p, r(p))`` is one-dimensional; :meth:`stackelberg` maximises it on a grid of
      4001 points and refines the best with a bounded scalar search. With ``leader_tau = 0``
      it is often a **pure commitment on the boundary** (the leader's payoff is linear in
      ``p`` at fixed ``q``; e.g. defect in the Prisoner's Dilemma, where ``r`` is constant),
      and then not a DSE in the sense of Definition 3.3; with ``leader_tau > 0`` it is
      interior. Exact ties (Coordination with ``A = B = I``) go to the smaller ``p``.
    * Nash: with ``leader_tau = 0``, ``grad_pp f1 = 0`` and no differential Nash equilibrium
      exists (None). With ``leader_tau > 0`` the DNE are the fixed points
      ``p = sigmoid((cp_A + cpq_A q) / leader_tau)``, ``q = r(p)`` (every one has both
      Hessians negative); :meth:`nash` returns the one with the highest leader payoff.
    * :meth:`strong_stackelberg`: the unregularised game's strong Stackelberg equilibrium.

    ## Arguments
    * ``A``, ``B`` (2x2 matrices): the leader's and the follower's payoffs; each library game
      has its own defaults.
    * ``tau`` (float, default 1): the follower's entropy weight, > 0. Default 1 keeps the
      follower's payoff well conditioned (``K2 / mu`` about 4 to 20 on the library games).
    * ``leader_tau`` (float, default 0): the leader's entropy weight, >= 0.

    ## Version History
    * v0: initial version.
    """

    name = "Matrix"
    DEFAULT_A: tuple = ((1.0, 0.0), (0.0, 1.0))
    DEFAULT_B: tuple = ((1.0, 0.0), (0.0, 1.0))

    def __init__(
        self,
        A: ArrayLike | None = None,
        B: ArrayLike | None = None,
        tau: float = 1.0,
        leader_tau: float = 0.0,
    ) -> None:
        A, B = payoff_matrices(
            self.DEFAULT_A if A is None else A, self.DEFAULT_B if B is None else B
        )
        if A.shape != (2, 2):
            raise ValueError(f"A and B must be 2x2 (use Bimatrix for n x m), got {A.shape}")
        self.A, self.B = A, B
        self.tau = _checks.positive("tau", tau)
        self.leader_tau = _checks.nonnegative("leader_tau", leader_tau)
        self._cA = _bilinear(A)
        self._cB = _bilinear(B)
        _, _, bq, bpq = self._cB
        U = max(abs(bq), abs(bq + bpq))
        l2 = 0.5 * _expit(-U / self.tau)
        if self.leader_tau > 0:
            _, ap, aq, apq = self._cA
            G = max(abs(ap), abs(ap + apq)) + max(abs(aq), abs(aq + apq)) * abs(bpq) / (
                4 * self.tau
            )
            l1 = 0.5 * _expit(-G / self.leader_tau)
        else:
            l1 = 0.0
        if not (l2 > 0 and (l1 > 0 or self.leader_tau == 0)):
            raise ValueError(
                f"tau={tau!r} or leader_tau={leader_tau!r} is too small for the payoffs: the "
                "equilibrium probabilities underflow float64; rescale the payoffs"
            )
        super().__init__([l1], [1.0 - l1], [l2], [1.0 - l2], mu=4.0 * self.tau,
                         K2=self.tau / (l2 * (1.0 - l2)))  # fmt: skip

    # ------------------------------------------------------------------ payoffs
    @staticmethod
    def _E(c, p, q):
        return c[0] + c[1] * p + c[2] * q + c[3] * p * q

    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        p, q = x[..., 0], y[..., 0]
        return self._E(self._cA, p, q) + self.leader_tau * _entropy(p)

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        p, q = x[..., 0], y[..., 0]
        return self._E(self._cB, p, q) + self.tau * _entropy(q)

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        xp = namespace(x, y)
        _, ap, _, apq = self._cA
        g = ap + apq * y
        if self.leader_tau > 0:
            g = g + self.leader_tau * xp.log((1.0 - x) / x)
        return xp.broadcast_to(g, np.broadcast_shapes(x.shape, y.shape)).copy()

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        xp = namespace(x, y)
        _, _, bq, bpq = self._cB
        return bq + bpq * x + self.tau * xp.log((1.0 - y) / y)

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        xp = namespace(x, y)
        _, _, aq, apq = self._cA
        g = aq + apq * x
        return xp.broadcast_to(g, np.broadcast_shapes(x.shape, y.shape)).copy()

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        h = -self.tau / (y * (1.0 - y))
        return np.broadcast_to(h, np.broadcast_shapes(x.shape, y.shape))[..., None].copy()

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1]) + (1, 1)
        return np.full(shape, self._cB[3])

    def leader_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1]) + (1, 1)
        return np.full(shape, self._cA[3])

    def best_response(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        _, _, bq, bpq = self._cB
        q = scipy.special.expit((bq + bpq * x) / self.tau)
        return np.clip(q, self.follower_low, self.follower_high)

    # ------------------------------------------------------------------ equilibria
    def strong_stackelberg(self) -> StrongStackelberg:
        """The unregularised game's strong Stackelberg equilibrium (:func:`strong_stackelberg`);
        the leader's ``p`` is ``leader_mixed[0]``."""
        return strong_stackelberg(self.A, self.B)

    def _stackelberg(self) -> Equilibrium:
        lo, hi = float(self.leader_low[0]), float(self.leader_high[0])
        grid = np.linspace(lo, hi, 4001)
        v = self.hierarchical_payoff(grid[:, None])
        i = int(np.argmax(v >= v.max() - 1e-12 * max(1.0, abs(v.max()))))  # ties: smaller p
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        res = scipy.optimize.minimize_scalar(
            lambda p: -float(self.hierarchical_payoff(np.array([p]))),
            bounds=(a, b),
            method="bounded",
            options={"xatol": 1e-13},
        )
        p = float(res.x) if -res.fun > v[i] else float(grid[i])
        x = np.array([p])
        return self.equilibrium_at(x, self.best_response(x))

    def _nash(self) -> Equilibrium | None:
        if self.leader_tau <= 0:
            return None  # grad_pp f1 = 0: condition II of Definition 3.1 fails
        _, ap, _, apq = self._cA
        lo, hi = float(self.leader_low[0]), float(self.leader_high[0])

        def gap(p):
            q = self.best_response(np.array([p]))[0]
            return p - float(scipy.special.expit((ap + apq * q) / self.leader_tau))

        grid = np.linspace(lo, hi, 2001)
        g = np.array([gap(p) for p in grid])
        best = None
        for i in np.flatnonzero(np.sign(g[:-1]) != np.sign(g[1:])):
            p = scipy.optimize.brentq(gap, grid[i], grid[i + 1], xtol=1e-15, rtol=1e-15)
            eq = self.equilibrium_at([p], self.best_response(np.array([p])))
            if best is None or eq.leader_payoff > best.leader_payoff:
                best = eq
        return best


class PrisonersDilemma(MatrixGame):
    __doc__ = (
        (MatrixGame.__doc__ or "")
        .replace(
            "A 2x2 bimatrix game in mixed strategies",
            "The Prisoner's Dilemma in mixed strategies (action 0: cooperate, 1: defect)",
        )
        .replace(
            "each library game\n      has its own defaults.",
            "defaults the published Hi-C code's ``A = [[-1, -3], [0, -2]]``,\n"
            "      ``B = A^T = [[-1, 0], [-3, -2]]``. Defecting dominates for both, so ``r``\n"
            "      is the constant ``sigmoid(-1 / tau)`` and with ``leader_tau = 0`` the\n"
            "      Stackelberg solution is the boundary ``p = 0`` (defect).",
        )
    )
    name = "PrisonersDilemma"
    DEFAULT_A = ((-1.0, -3.0), (0.0, -2.0))
    DEFAULT_B = ((-1.0, 0.0), (-3.0, -2.0))


class MatchingPennies(MatrixGame):
    __doc__ = (
        (MatrixGame.__doc__ or "")
        .replace(
            "A 2x2 bimatrix game in mixed strategies",
            "Matching Pennies in mixed strategies (zero-sum; the leader wants to match)",
        )
        .replace(
            "each library game\n      has its own defaults.",
            "defaults the published Hi-C code's ``A = [[1, -1], [-1, 1]]``,\n"
            "      ``B = -A``. With ``s = 2p - 1``, ``f1(p, r(p)) = -s tanh(s / tau)`` (for\n"
            "      ``leader_tau = 0``): the DSE is interior, ``p* = q* = 1/2``, with hierarchical\n"
            "      Hessian ``-8 / tau``; there is no DNE (``grad_pp f1 = 0``).",
        )
    )
    name = "MatchingPennies"
    DEFAULT_A = ((1.0, -1.0), (-1.0, 1.0))
    DEFAULT_B = ((-1.0, 1.0), (1.0, -1.0))


class Coordination(MatrixGame):
    __doc__ = (
        (MatrixGame.__doc__ or "")
        .replace(
            "A 2x2 bimatrix game in mixed strategies",
            "A pure coordination game in mixed strategies",
        )
        .replace(
            "each library game\n      has its own defaults.",
            "defaults the published Hi-C code's ``A = B = I``. Committing to either\n"
            "      action is equally good for the leader (``f1 = sigmoid(1 / tau)``): the tie\n"
            "      goes to ``p`` at the lower bound.",
        )
    )
    name = "Coordination"
    DEFAULT_A = ((1.0, 0.0), (0.0, 1.0))
    DEFAULT_B = ((1.0, 0.0), (0.0, 1.0))


class StagHunt(MatrixGame):
    __doc__ = (
        (MatrixGame.__doc__ or "")
        .replace(
            "A 2x2 bimatrix game in mixed strategies",
            "The Stag Hunt in mixed strategies (action 0: stag, 1: hare)",
        )
        .replace(
            "each library game\n      has its own defaults.",
            "defaults ``A = [[4, 0], [3, 3]]``, ``B = A^T = [[4, 3], [0, 3]]``\n"
            "      (stag together 4, hare 3 whatever the other does, stag alone 0).",
        )
    )
    name = "StagHunt"
    DEFAULT_A = ((4.0, 0.0), (3.0, 3.0))
    DEFAULT_B = ((4.0, 3.0), (0.0, 3.0))


class Chicken(MatrixGame):
    __doc__ = (
        (MatrixGame.__doc__ or "")
        .replace(
            "A 2x2 bimatrix game in mixed strategies",
            "Chicken (Hawk-Dove) in mixed strategies (action 0: swerve, 1: straight)",
        )
        .replace(
            "each library game\n      has its own defaults.",
            "defaults ``A = [[0, -1], [1, -3]]``, ``B = A^T = [[0, 1], [-1, -3]]``\n"
            "      (the leader gains by committing to go straight; the crash costs 3, mild enough\n"
            "      to keep ``K2 / mu`` near 4).",
        )
    )
    name = "Chicken"
    DEFAULT_A = ((0.0, -1.0), (1.0, -3.0))
    DEFAULT_B = ((0.0, 1.0), (-1.0, -3.0))


class BattleOfSexes(MatrixGame):
    __doc__ = (
        (MatrixGame.__doc__ or "")
        .replace(
            "A 2x2 bimatrix game in mixed strategies",
            "The Battle of the Sexes in mixed strategies",
        )
        .replace(
            "each library game\n      has its own defaults.",
            "defaults ``A = [[2, 0], [0, 1]]``, ``B = [[1, 0], [0, 2]]`` (both want\n"
            "      to meet; the leader prefers action 0, the follower action 1).",
        )
    )
    name = "BattleOfSexes"
    DEFAULT_A = ((2.0, 0.0), (0.0, 1.0))
    DEFAULT_B = ((1.0, 0.0), (0.0, 2.0))
