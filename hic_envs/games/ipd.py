"""The infinitely iterated, discounted Prisoner's Dilemma in exact form (LOLA's IPD), with an
entropy-regularised follower."""

from __future__ import annotations

import numpy as np
import scipy  # submodules load on first use (import hic_envs stays light)

from hic_envs.games import _checks
from hic_envs.games.array_api import namespace
from hic_envs.games.base import Equilibrium, Game
from hic_envs.games.matrix import PrisonersDilemma, _entropy, _expit

__all__ = ["IteratedPrisonersDilemma", "OWN_TO_LEADER"]

#: A player's five probabilities are ordered (first move, CC, CD, DC, DD) *from its own
#: perspective* (its own last action first). The Markov chain's states are named from the
#: leader's perspective, so the follower's vector read in the leader's state order is
#: ``y[OWN_TO_LEADER]``: the follower's own "CD" (it cooperated, the leader defected) is the
#: leader's state DC. The permutation is its own inverse.
OWN_TO_LEADER = np.array([0, 1, 3, 2, 4])

#: ``e . V`` with ``e = d^2 [a b, a(1-b), (1-a) b, (1-a)(1-b)] / da db``.
_CROSS = np.array([1.0, -1.0, -1.0, 1.0])


def _joint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Outcome distributions ``[CC, CD, DC, DD]`` (leader's action first) of independent
    cooperation probabilities ``a`` (leader) and ``b`` (follower): ``(..., k) -> (..., k, 4)``."""
    xp = namespace(a, b)
    return xp.stack([a * b, a * (1.0 - b), (1.0 - a) * b, (1.0 - a) * (1.0 - b)], axis=-1)


def _leader_dirs(b: np.ndarray) -> np.ndarray:
    """``d _joint(a, b) / da``, shape ``(..., k, 4)``."""
    return namespace(b).stack([b, 1.0 - b, -b, -(1.0 - b)], axis=-1)


def _follower_dirs(a: np.ndarray) -> np.ndarray:
    """``d _joint(a, b) / db``, shape ``(..., k, 4)``."""
    return namespace(a).stack([a, -a, 1.0 - a, -(1.0 - a)], axis=-1)


class IteratedPrisonersDilemma(Game):
    """The infinitely iterated, discounted Prisoner's Dilemma with memory-one strategies, in the
    exact (linear-solve) form of LOLA (Foerster et al., 2018).

    ## Description
    Every stage both players play the Prisoner's Dilemma of :class:`PrisonersDilemma` (the
    published Hi-C code's and LOLA's payoffs: mutual cooperation -1 each, mutual defection -2
    each, a lone defector 0 and the exploited cooperator -3). A strategy is five cooperation
    probabilities: the first move, then the move after each outcome of the previous stage,
    **from the player's own perspective** (its own last action first):
    ``(first, after CC, after CD, after DC, after DD)``. So "CD" is "I cooperated, the other
    defected" for either player, and tit-for-tat is ``(1, 1, 0, 1, 0)`` for both; the
    follower's vector in the leader's state order is ``y[OWN_TO_LEADER]``
    (``OWN_TO_LEADER = [0, 1, 3, 2, 4]`` swaps CD and DC).

    The outcomes form a Markov chain on ``s in (CC, CD, DC, DD)`` (named from the leader's
    side): first-stage distribution ``d0 = [x0 y0, x0 (1 - y0), (1 - x0) y0,
    (1 - x0)(1 - y0)]`` and transitions ``P[s] = [p q, p (1 - q), (1 - p) q,
    (1 - p)(1 - q)]`` with ``p = x[1 + s]``, ``q = y[OWN_TO_LEADER][1 + s]``. A player's value
    is solved exactly, ``V = (I - gamma P)^-1 r`` (batched ``np.linalg.solve``), and
    **normalised by (1 - gamma)** so that it is a per-stage average in the stage game's units:
    ``f = (1 - gamma) d0 . V`` (LOLA's ``p0^T (I - gamma P)^-1 r`` times ``1 - gamma``):
    mutual defection is worth -2, tit-for-tat against tit-for-tat -1, always-cooperate against
    always-defect -3 / 0. The follower gains ``tau`` times the entropy of each of its five
    probabilities, ``tau sum_i H(y_i)`` with ``H(z) = -z ln z - (1 - z) ln(1 - z)``; the
    leader ``leader_tau sum_i H(x_i)`` (default 0).

    ## Strategy spaces
    | player   | dim | low      | high          |
    |----------|-----|----------|---------------|
    | leader   | 5   | ``l1``   | ``1 - l1``    |
    | follower | 5   | ``l2``   | ``1 - l2``    |

    ``H'(z) = ln((1 - z) / z)`` is infinite at 0 and 1, so the follower's box stops short of
    them (as in :class:`MatrixGame`): ``l2 = max(sigmoid(-U / tau) / 2, 1e-12)`` with
    ``U = 3 max(1, gamma / (1 - gamma))`` a bound on ``abs(d V2 / d y_i)`` over the whole box
    (a first-move probability moves the average by at most the payoff range 3; a state's
    probability by at most ``gamma w_s 3 / (1 - gamma)``, ``w_s <= 1`` the state's
    normalised discounted occupancy). At a stationary point ``tau logit(y_i) = -dV2 / dy_i``,
    so where the first term of the max is the larger (``tau >= U / 26.9``, i.e.
    ``tau >= 2.67`` at ``gamma = 0.96``; the default) every stationary point of ``f2(x, .)``,
    hence every best response, lies in ``[2 l2, 1 - 2 l2]^5``, and below ``2 l2`` the
    entropy's gradient dominates. The bound is not known to be tight: on the 4000 sampled
    points of ``python scripts/ipd_conditions.py --table`` the largest ``abs(d V2 / d y_i)``
    is 30.6 against ``U = 72`` at ``gamma = 0.96``. For a smaller
    ``tau`` the exact margin would round ``1 - l2`` to 1: the floor ``1e-12`` is used and a
    best response may then sit on the bound of ``Y`` (handled as a held coordinate). With
    ``leader_tau = 0`` the leader's box is ``[0, 1]^5`` (``l1 = 0``; deterministic
    strategies are allowed); with ``leader_tau > 0``,
    ``l1 = max(sigmoid(-U / leader_tau) / 2, 1e-12)`` (``U`` also bounds
    ``abs(d V1 / d x_i)``): that keeps every stationary point of ``f1(., y)`` (a Nash point)
    inside, but not necessarily those of ``f1(x, r(x))``, whose gradient adds the follower's
    response.

    ## Payoffs
    ``f1 = (1 - gamma) d0 . (I - gamma P)^-1 r1 + leader_tau sum_i H(x_i)``,
    ``f2 = (1 - gamma) d0 . (I - gamma P)^-1 r2 + tau sum_i H(y_i)``,
    ``r1 = (-1, -3, 0, -2)``, ``r2 = (-1, 0, -3, -2)`` on (CC, CD, DC, DD).
    Derivatives are exact: with ``M = I - gamma P``, ``dV = M^-1 (gamma dP V)`` (``r`` is
    fixed) and ``u = M^-T d0`` (the discounted occupancy),
    ``df = (1 - gamma)(dd0 . V + gamma u . dP V)``: a first-move probability moves ``d0``
    only, a state's probability the row ``P[s]`` only, so
    ``df / dx_0 = (1 - gamma) c . V`` and ``df / dx_{1+s} = (1 - gamma) gamma u_s c . V``
    with ``c = d P[s] / dp`` (likewise for ``y``). Second derivatives differentiate this once
    more (``du = M^-T (dd0 + gamma dP^T u)``; the only second derivatives of ``d0`` and ``P``
    are the mixed ones of a row's two probabilities), so the Hessian blocks are exact too.

    ## Equilibria
    * Best response: numeric. ``f2(x, .)`` is **not concave on all of** ``X x Y``: the value is
      a ratio of multilinear functions of ``y``, and near deterministic strategies its
      curvature beats the entropy's (``grad_yy f2`` is not negative definite at 2.43% of
      sampled points at ``tau = 3``, none of them best responses; ``python
      scripts/ipd_conditions.py``). :meth:`best_response`
      maximises ``f2(x, sigmoid(z))`` in logits by damped Newton ascent (the Hessian shifted
      to be negative definite where it is not, Armijo backtracking) from six fixed starts (the
      centre of ``Y``, one logit response from it, and the base class's four other points)
      and keeps the best. It is a deterministic function of ``x``, batched over ``x``; it is
      as smooth as ``r`` itself, which is unique and smooth wherever the global maximiser is
      unique and non-degenerate. At the default ``tau = 3`` the starts agree on all 3125
      points of a grid of ``X``; at ``tau = 1`` two local maxima coexist at 0.77% of them
      (``r`` jumps), and ``stackelberg()`` stops at such a jump, where not even the KKT
      conditions hold (the leader's payoff falls off a cliff as the follower switches).
    * DSE: numeric. :meth:`stackelberg` maximises ``f1(x, r(x))`` with L-BFGS-B on the
      hierarchical gradient of Eq. (7) from the base class's five starts and from tit-for-tat,
      always-cooperate, always-defect and win-stay-lose-shift, keeping the best. At the
      defaults it is **always defect**, ``x* = 0`` on the leader's bound, with ``y*`` near
      1/2 (the entropy dominates the follower's incentives) and ``f1 = -1.0778``. It is not
      unique: a leader that never cooperates never reaches CC, so ``x_CC`` is free (every
      ``(0, t, 0, 0, 0)`` ties; ties go to the least cooperative ``x``). The KKT conditions
      hold there, Definition 3.3 does not (not interior, not strict). With
      ``leader_tau = 0.5`` it is an interior DSE
      (``x* = (0.480, 0.427, 0.392, 0.379, 0.321)``, hierarchical Hessian eigenvalues in
      ``[-2.52, -1.58]``). With a weaker follower entropy the leader exploits: at
      ``tau = 0.2``, ``f1 = -0.674`` with the follower cooperating after mutual cooperation
      (``y_CC`` on its bound). Which of the paper's conditions hold is measured by
      ``python scripts/ipd_conditions.py`` (its results are on the documentation site's
      page ``docs/results/agents.md``).
    * Nash: the base class's numeric root-finder on ``grad_x f1 = grad_y f2 = 0`` with both
      Hessians negative definite: none at the defaults (the leader defects, on its bound);
      with ``leader_tau = 0.5`` one near the DSE.
    * ``mu`` and ``K2``: None (``f2`` is not concave on the whole box).

    ## Arguments
    * ``discount`` (float, default 0.96, LOLA's): ``gamma``, in ``(0, 1)``.
    * ``tau`` (float, default 3): the follower's entropy weight, >= 0. ``tau = 0`` is the
      unregularised IPD of LOLA and SOS (Letcher et al., 2019) with ``Y = [0, 1]^5``: payoffs
      and every derivative work, the ground truth (best response, DSE, Nash) needs ``tau > 0``
      and raises a ``ValueError``. The default is the
      smallest round value with the exact margin (``tau >= 2.67``, see the strategy spaces):
      best responses strictly interior, and unique on every point measured.
    * ``leader_tau`` (float, default 0): the leader's entropy weight, >= 0.

    ## Version History
    * v0: initial version.
    """

    name = "IteratedPrisonersDilemma"
    #: floor of the boxes' margins: ``1 - EPS`` is still resolved to 1e-4 relative in float64.
    EPS = 1e-12

    def __init__(self, discount: float = 0.96, tau: float = 3.0, leader_tau: float = 0.0) -> None:
        gamma = _checks.finite("discount", discount)
        if not 0.0 < gamma < 1.0:
            raise ValueError(f"discount must lie strictly between 0 and 1, got {discount!r}")
        self.discount = gamma
        self.tau = _checks.nonnegative("tau", tau)
        self.leader_tau = _checks.nonnegative("leader_tau", leader_tau)
        A = np.asarray(PrisonersDilemma.DEFAULT_A)  # leader's payoffs, rows: its action
        B = np.asarray(PrisonersDilemma.DEFAULT_B)
        self.r1 = A.reshape(4)  # (CC, CD, DC, DD) from the leader's side
        self.r2 = B.reshape(4)
        self.r1.flags.writeable = False
        self.r2.flags.writeable = False
        self._R = np.stack([self.r1, self.r2], axis=-1)  # (4, 2): both players' rewards
        self._R.flags.writeable = False
        spread = float(max(np.ptp(self.r1), np.ptp(self.r2)))
        self.gradient_bound = spread * max(1.0, gamma / (1.0 - gamma))
        U = self.gradient_bound
        l2 = 0.0
        if self.tau > 0:
            l2 = max(0.5 * _expit(-U / self.tau), self.EPS)
        l1 = 0.0
        if self.leader_tau > 0:
            l1 = max(0.5 * _expit(-U / self.leader_tau), self.EPS)
        super().__init__([l1] * 5, [1.0 - l1] * 5, [l2] * 5, [1.0 - l2] * 5)

    # ------------------------------------------------------------------ the chain
    def _chain(self, x: np.ndarray, y: np.ndarray):
        """``a, b`` (the rows' cooperation probabilities, leader's state order), ``M`` and
        ``V`` (``(..., 4, 2)``: unnormalised values of both players from each state)."""
        x, y = self._broadcast(x, y)
        xp = namespace(x, y)
        a, b = x, y[..., OWN_TO_LEADER]
        J = _joint(a, b)
        M = xp.eye(4, dtype=J.dtype) - self.discount * J[..., 1:, :]
        R = xp.broadcast_to(xp.asarray(self._R, dtype=M.dtype), M.shape[:-2] + (4, 2))
        V = xp.linalg.solve(M, R)
        return a, b, J[..., 0, :], M, V

    def _values(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``(..., 2)``: both normalised values (no entropy)."""
        _, _, d0, _, V = self._chain(x, y)
        return (1.0 - self.discount) * namespace(d0, V).einsum("...s,...sk->...k", d0, V)

    def _first_order(self, x, y):
        """Both values' gradients: ``gx (..., 5, 2)`` w.r.t. ``x`` and ``gy (..., 5, 2)``
        w.r.t. ``y`` in the leader's state order, with the pieces the Hessians reuse."""
        g = self.discount
        a, b, d0, M, V = self._chain(x, y)
        xp = namespace(M, V)
        u = xp.linalg.solve(xp.matrix_transpose(M), d0[..., None])[..., 0]  # M^-T d0
        ones = xp.ones(u.shape[:-1] + (1,), dtype=u.dtype)
        omega = xp.concat([ones, g * u], axis=-1)  # (..., 5)
        cx, cy = _leader_dirs(b), _follower_dirs(a)  # (..., 5, 4)
        ax = xp.einsum("...ks,...sj->...kj", cx, V)  # c . V per row and player
        ay = xp.einsum("...ks,...sj->...kj", cy, V)
        gx = (1.0 - g) * omega[..., None] * ax
        gy = (1.0 - g) * omega[..., None] * ay
        return gx, gy, (M, V, omega, cx, cy, ax, ay)

    def _hessian_block(self, parts, row: str, col: str, k: int) -> np.ndarray:
        """``d^2 V_k / d row d col`` (``k`` 0 leader, 1 follower), ``(..., 5, 5)``, rows and
        columns in the leader's state order (see the class docstring)."""
        M, V, omega, cx, cy, ax, ay = parts
        g = self.discount
        xp = namespace(M, V)
        Minv = xp.linalg.solve(M, xp.broadcast_to(xp.eye(4, dtype=xp.float64), M.shape))
        c = {"x": cx, "y": cy}
        a = {"x": ax[..., k], "y": ay[..., k]}

        def T(p: str, q: str) -> np.ndarray:
            # T[i, l] = omega_i (c_pi . Minv[:, s_l]) a_ql for the state rows l >= 1.
            if xp is np:
                Bfull = np.zeros(Minv.shape[:-2] + (5, 5))
                Bfull[..., 1:] = c[p] @ Minv
            else:  # no item assignment: the same values by a concatenation
                cm = c[p] @ Minv
                zero = xp.zeros(cm.shape[:-1] + (1,), dtype=xp.float64)
                Bfull = xp.concat([zero, cm], axis=-1)
            return omega[..., :, None] * Bfull * a[q][..., None, :]

        H = (1.0 - g) * g * (T(row, col) + xp.matrix_transpose(T(col, row)))
        if row != col:
            cross = xp.einsum("s,...sj->...j", _CROSS, V)[..., k]  # scalar per batch
            diag = (1.0 - g) * omega * cross[..., None]
            H = H + diag[..., :, None] * xp.eye(5, dtype=xp.float64)
        return H

    # ------------------------------------------------------------------ payoffs
    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = self._broadcast(x, y)
        f = self._values(x, y)[..., 0]
        if self.leader_tau > 0:
            f = f + self.leader_tau * _entropy(x).sum(-1)
        return f

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = self._broadcast(x, y)
        f = self._values(x, y)[..., 1]
        if self.tau > 0:
            f = f + self.tau * _entropy(y).sum(-1)
        return f

    def payoffs(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._broadcast(x, y)
        v = self._values(x, y)
        f1 = v[..., 0]
        if self.leader_tau > 0:
            f1 = f1 + self.leader_tau * _entropy(x).sum(-1)
        f2 = v[..., 1]
        if self.tau > 0:
            f2 = f2 + self.tau * _entropy(y).sum(-1)
        return f1, f2

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = self._broadcast(x, y)
        gx, _, _ = self._first_order(x, y)
        out = gx[..., 0]
        if self.leader_tau > 0:
            out = out + self.leader_tau * namespace(x).log((1.0 - x) / x)
        return out

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = self._broadcast(x, y)
        _, gy, _ = self._first_order(x, y)
        out = gy[..., OWN_TO_LEADER, 1]
        if self.tau > 0:
            out = out + self.tau * namespace(y).log((1.0 - y) / y)
        return out

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        _, gy, _ = self._first_order(x, y)
        return gy[..., OWN_TO_LEADER, 0]

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        _, _, parts = self._first_order(x, y)
        H = self._hessian_block(parts, "y", "y", 1)[..., OWN_TO_LEADER, :][..., OWN_TO_LEADER]
        if self.tau == 0:
            return H
        xp = namespace(x, y)
        yb = xp.broadcast_to(xp.asarray(y, dtype=xp.float64), H.shape[:-1])
        return H - (self.tau / (yb * (1.0 - yb)))[..., None] * xp.eye(5, dtype=xp.float64)

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        _, _, parts = self._first_order(x, y)
        return self._hessian_block(parts, "y", "x", 1)[..., OWN_TO_LEADER, :]

    def leader_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        _, _, parts = self._first_order(x, y)
        return self._hessian_block(parts, "y", "x", 0)[..., OWN_TO_LEADER, :]

    def follower_grad_x(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        gx, _, _ = self._first_order(x, y)
        return gx[..., 1]

    def payoff_hvp(
        self, player: str, block: str, x: np.ndarray, y: np.ndarray, v: np.ndarray
    ) -> np.ndarray:
        """``H v`` from the exact ``5 x 5`` block (see the class docstring), entropy included."""
        x, y, v = self._hvp_args(player, block, x, y, v)
        k = 0 if player == "leader" else 1
        _, _, parts = self._first_order(x, y)
        H = self._hessian_block(parts, block[0], block[1], k)
        if block[0] == "y":
            H = H[..., OWN_TO_LEADER, :]
        if block[1] == "y":
            H = H[..., OWN_TO_LEADER]
        out = namespace(H, v).einsum("...ij,...j->...i", H, v)
        own, tau = ("xx", self.leader_tau) if k == 0 else ("yy", self.tau)
        if block == own and tau > 0:
            z = x if k == 0 else y
            out = out - tau / (z * (1.0 - z)) * v
        return out

    # ------------------------------------------------------------------ best response
    def best_response(self, x: np.ndarray) -> np.ndarray:
        """``r(x)``: the best of six damped-Newton ascents (see the class docstring), shape
        ``(..., 5)``.

        Raises:
            ValueError: for a non-finite ``x``.
        """
        x = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            raise ValueError(f"best_response needs a finite leader strategy, got {x.tolist()}")
        if self.tau == 0:
            raise ValueError(
                "with tau=0 (LOLA's and SOS's unregularised IPD) the follower's payoff is "
                "multilinear in y and its best response is neither unique nor smooth; "
                "best_response, stackelberg and nash need tau > 0"
            )
        batch = x.shape[:-1]
        ys, f = self.local_best_responses(x.reshape(-1, self.d1))
        best = np.argmax(f, axis=0)  # the first of equal maxima: deterministic
        y = ys[best, np.arange(ys.shape[1])]
        return y.reshape(batch + (self.d2,))

    def local_best_responses(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each of the six ascents of :meth:`best_response` ends, and ``f2`` there.

        Args:
            x: leader strategies, shape ``(n, 5)``.

        Returns:
            ``(y, f2)`` of shapes ``(6, n, 5)`` and ``(6, n)``: distinct rows for one ``x``
            are distinct local maxima (``r`` is not unique there, or jumps nearby).
        """
        xs = np.asarray(x, dtype=np.float64)
        n = xs.shape[0]
        starts = self._response_starts(xs)  # (k, n, 5) logits
        k = starts.shape[0]
        z, f = self._ascend(np.tile(xs, (k, 1)), starts.reshape(k * n, self.d2))
        y = np.clip(scipy.special.expit(z), self.follower_low, self.follower_high).reshape(
            k, n, self.d2
        )
        return y, f.reshape(k, n)

    def _response_starts(self, xs: np.ndarray) -> np.ndarray:
        """Starting logits ``(6, n, 5)``: the centre of ``Y``, one logit response from it
        (``z = grad_y V2(x, 1/2) / tau``, the maximiser when the value is linear in ``y``) and
        the base class's four other fixed points of ``Y``."""
        centre = np.full(xs.shape, 0.5)
        _, gy, _ = self._first_order(xs, centre)
        logit_response = np.clip(gy[..., OWN_TO_LEADER, 1] / self.tau, -self._zmax, self._zmax)
        fixed = [np.broadcast_to(np.log(s / (1.0 - s)), xs.shape)
                 for s in self._starts(self.follower_low, self.follower_high)[1:]]  # fmt: skip
        return np.stack([np.zeros(xs.shape), logit_response, *fixed])

    @property
    def _zmax(self) -> float:
        lo = float(self.follower_low[0])
        return float(np.log((1.0 - lo) / lo))

    def _f2_parts(self, x: np.ndarray, y: np.ndarray):
        """``f2``, ``grad_y f2`` and ``grad_yy f2`` at once (one chain solve)."""
        _, gy, parts = self._first_order(x, y)
        V = parts[1]
        d0 = _joint(x[..., 0], y[..., 0])
        f = (1.0 - self.discount) * np.einsum("...s,...s->...", d0, V[..., 1])
        f = f + self.tau * _entropy(y).sum(-1)
        g = gy[..., OWN_TO_LEADER, 1] + self.tau * np.log((1.0 - y) / y)
        H = self._hessian_block(parts, "y", "y", 1)[..., OWN_TO_LEADER, :][..., OWN_TO_LEADER]
        H = H - (self.tau / (y * (1.0 - y)))[..., None] * np.eye(5)
        return f, g, H

    def _ascend(self, x: np.ndarray, z: np.ndarray, maxiter: int = 200):
        """Maximise ``f2(x, sigmoid(z))`` for each row, in logits: Newton steps
        ``dz = -S^-1 (H - lam I)^-1 g`` (``S = diag(y (1 - y))``, ``H = grad_yy f2``,
        ``lam`` the shift that makes ``H - lam I`` negative definite, 0 where ``H`` already
        is) with Armijo backtracking. ``grad_y f2 = grad_y V2 - tau z``, so the entropy part
        is solved in one step. A row stops when ``abs(grad_y f2) <= tol`` or no step raises
        ``f2``; each row's iterates depend on that row only. Returns ``(z, f2)``."""
        zmax = self._zmax
        tol = 1e-12 * (self.gradient_bound + self.tau * zmax)
        z = np.clip(z, -zmax, zmax)
        active = np.ones(z.shape[0], dtype=bool)
        f = np.empty(z.shape[0])
        for _ in range(maxiter):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            xa, za = x[idx], z[idx]
            ya = scipy.special.expit(za)
            fa, ga, Ha = self._f2_parts(xa, ya)
            f[idx] = fa
            # Coordinates held at a bound of Y (the gradient pushes out) take no step.
            held = ((za >= zmax) & (ga > 0)) | ((za <= -zmax) & (ga < 0))
            ga = np.where(held, 0.0, ga)
            Ha = np.where(held[:, :, None] | held[:, None, :], 0.0, Ha)
            Ha = Ha - (held[:, :, None] * np.eye(5))
            done = np.abs(ga).max(-1) <= tol
            lam = np.maximum(np.linalg.eigvalsh(Ha)[..., -1], 0.0)
            shift = np.where(lam > 0, lam + 1e-6 * np.abs(Ha).max((-1, -2)), 0.0)
            try:
                dy = -np.linalg.solve(Ha - shift[:, None, None] * np.eye(5), ga[..., None])[..., 0]
            except np.linalg.LinAlgError:
                raise ValueError(
                    f"IteratedPrisonersDilemma(tau={self.tau!r}): the follower's best response "
                    "is degenerate (its entropy weight tau is too small for f2 to be strictly "
                    "concave in float64, so the Newton step's matrix is singular); use a larger "
                    "tau"
                ) from None
            dz = dy / (ya * (1.0 - ya))
            dz = dz * np.minimum(1.0, 2.0 * zmax / np.maximum(np.abs(dz).max(-1), 1e-300))[:, None]
            slope = np.einsum("ij,ij->i", ga * ya * (1.0 - ya), dz)  # d f2 / dt > 0
            newton_ok = (shift == 0) & (slope <= 1e-10 * (1.0 + np.abs(fa)))
            t = np.ones(idx.size)
            moved = np.zeros(idx.size, dtype=bool)
            pending = ~done
            for _ in range(40):
                if not pending.any():
                    break
                zt = np.clip(za[pending] + t[pending, None] * dz[pending], -zmax, zmax)
                ft = self.follower_payoff(xa[pending], scipy.special.expit(zt))
                # Armijo; or, once the predicted gain is below f2's rounding, the plain Newton
                # step of a concave point (judged by the gradient's decrease next iteration).
                ok = (ft >= fa[pending] + 1e-4 * t[pending] * slope[pending]) | (
                    newton_ok[pending] & (t[pending] == 1.0)
                )
                rows = np.flatnonzero(pending)
                za[rows[ok]] = zt[ok]
                f[idx[rows[ok]]] = ft[ok]
                moved[rows[ok]] = True
                t[rows[~ok]] *= 0.5
                pending[rows[ok]] = False
            z[idx] = za
            active[idx[done | ~moved]] = False
        return z, f

    # ------------------------------------------------------------------ equilibria
    def named_strategies(self) -> dict[str, np.ndarray]:
        """Classic memory-one strategies (own perspective), pulled into the leader's box."""
        raw = {
            "tit_for_tat": [1.0, 1.0, 0.0, 1.0, 0.0],
            "always_cooperate": [1.0] * 5,
            "always_defect": [0.0] * 5,
            "win_stay_lose_shift": [1.0, 1.0, 0.0, 0.0, 1.0],
        }
        return {k: self.project_leader(np.array(v)) for k, v in raw.items()}

    def _stackelberg(self) -> Equilibrium:
        lo, hi = self.leader_low, self.leader_high
        starts = self._starts(lo, hi) + list(self.named_strategies().values())
        found = self._hierarchical_maxima(starts)
        # Ties (within 1e-12) go to the least cooperative leader: where a state is never
        # reached its probability is free, and the tie-break picks 0 for it.
        top = max(v for v, _ in found)
        best_x = min((x for v, x in found if v >= top - 1e-12), key=lambda x: float(x.sum()))
        eq = self.equilibrium_at(best_x, self.best_response(best_x))
        self._warn_if_follower_not_concave(eq)
        return eq
