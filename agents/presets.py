"""Tuned default Hi-C configurations, per library game and for any other game.

``hic_leader_kwargs(game)`` returns the keyword arguments of :class:`agents.HiCLeader` (step
size, perturbation and commitment schedules, and the variance-reduction option) and
``follower_step_size(game)`` the step ``beta`` of the :class:`agents.GradientAscentFollower`
those schedules were built for. ``recommended_stages(game)`` is the stage budget in which the
configuration was measured to converge.

The generic rule (used for every game, with per-game knobs in ``PRESET_RULES``):

* follower step ``beta = min(1 / K2, 0.5 / mu)``: the largest step Proposition 4.9 allows,
  capped so that ``beta mu <= 0.5`` (Corollary 4.11 needs ``beta mu < 1``). ``mu`` and ``K2``
  are the game's; where the game does not know them they are estimated from the eigenvalues of
  ``game.follower_hess_yy`` at a fixed set of points of ``X x Y``.
* perturbation ``delta_n = c / (n + 1)^0.101`` (Spall's exponent) with ``c = 0.02`` times the
  mean width of the leader's box.
* step size ``alpha_n = a / (n + 101)^0.602`` (Spall's exponent, stability offset ``A = 100``)
  with ``a = a_rule * 101^0.602 / H * min(1, 2 / sqrt(d1))``: ``H`` is the largest curvature
  of the leader's Stackelberg objective ``f1(x, r(x))`` (the spectral norm of
  ``game.hierarchical_hess``) over the centre of ``X`` and a fixed set of points, so the first
  step's contraction ``alpha_0 H`` is ``a_rule`` (0.1 by default). The ``2 / sqrt(d1)``
  factor tempers the step in high dimension, where every coordinate of the SPSA estimate
  carries the other coordinates' gradient as noise: on ``RandomQuadraticGame(d1=d2=16)``
  (16 seeds, 2e5 stages) the median / largest ``|x - x*|`` was 0.69 / 2.9 without it and
  2.8e-3 / 3.8e-3 with it (``scripts/preset_check.py --games RandomQuadratic --random-d 16
  --seeds 16 --stages 2e5 [--no-dim-factor]``); for ``d1 <= 4`` it changes nothing.
* commitment: Corollary 4.11, Eq. (28), for that follower (:meth:`CommitmentSchedule.for_game`:
  ``B`` the diameter of ``Y``) with ``p = 0.5``.
* ``baseline = 0.9`` (the published Hi-C code's moving-average baseline). Plain Hi-C
  (Algorithm 1 with no baseline) divides the payoff *level* by ``delta_n``, and on games whose
  payoff at the DSE is far from 0 its steps are dominated by that noise: on the duopoly
  (``f1 ~ 300``) plain Hi-C with the Duopoly preset's schedules ends anywhere in
  ``[0.8, 48.3]`` after 10^6 stages on 32 seeds, against 24.500 on every seed with the
  baseline (``scripts/cournot_table.py``).

These presets are configuration, made before play from the game's ground truth (as the paper
assumes the leader is told ``beta mu`` for Corollary 4.11); the leader built from them still
learns only from its own observed payoffs.

Measurement that justifies them: ``python scripts/preset_check.py`` runs every library game's
preset against a gradient-ascent follower with that ``beta`` for ``recommended_stages`` stages
on 32 seeds and prints the median and largest final ``|x - x*|`` (its table is on the
documentation site's page ``docs/results/agents.md``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import weakref
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from agents.schedules import CommitmentSchedule, PowerLaw
from hic_envs.games.base import Game

__all__ = [
    "DENSE_CURVATURE_MAX",
    "PRESET_RULES",
    "PresetRule",
    "follower_step_size",
    "gradient_leader_step",
    "hic_leader_kwargs",
    "hierarchical_curvature",
    "leader_grid",
    "preset_rule",
    "reactive_hic_kwargs",
    "recommended_stages",
]

_SPALL_ALPHA, _SPALL_DELTA, _A = 0.602, 0.101, 100.0


@dataclasses.dataclass(frozen=True)
class PresetRule:
    """The knobs of the generic rule for one game (see the module docstring).

    Attributes:
        a_rule: ``alpha_0 H``, the first step's contraction along the stiffest direction.
        c_frac: ``delta_0`` as a fraction of the mean width of ``X``.
        p: exponent of ``xi_n = n^-p`` in Eq. (28).
        beta: the follower's step; None for ``min(1 / K2, 0.5 / mu)``.
        baseline: the moving-average baseline weight, or None for plain Hi-C.
        dim_factor: multiply the step by ``min(1, 2 / sqrt(d1))``.
        stages: the stage budget in which the preset was measured to converge.
        why: the measurement behind any knob that differs from the default.
    """

    a_rule: float = 0.1
    c_frac: float = 0.02
    p: float = 0.5
    beta: float | None = None
    baseline: float | None = 0.9
    dim_factor: bool = True
    stages: int = 100_000
    why: str = ""


#: Per-game knobs, keyed by ``game.name``; any other game uses ``PresetRule()``.
PRESET_RULES: dict[str, PresetRule] = {
    "Duopoly": PresetRule(
        beta=0.1,
        why="beta = 0.1 is the published Hi-C Cournot experiment's follower step",
    ),
    "Quadratic": PresetRule(),
    "ZeroSum": PresetRule(),
    "Cooperative": PresetRule(),
    "DiracGAN": PresetRule(),
    "Nonlinear": PresetRule(),
    "RandomQuadratic": PresetRule(stages=200_000),
    "Security": PresetRule(
        a_rule=1.0,
        stages=300_000,
        why=(
            "f1(x, r(x)) is ill-conditioned (see game.hierarchical_hess) and the follower slow "
            "(beta mu = 0.14). Median / largest |x - x*| over "
            "32 seeds after 3e5 stages (scripts/preset_check.py --games Security --a-rule 0.1 "
            "0.5 1 2): a_rule = 0.1: 1.5e-1 / 4.2e-1; 0.5: 5.7e-3 / 3.4e-2; 1: 1.7e-3 / 1.7e-2; "
            "2: 2.5e-2 / 1.1 (unstable on some seeds)"
        ),
    ),
}


def preset_rule(game: Game) -> PresetRule:
    """The knobs used for ``game``: ``PRESET_RULES[game.name]`` or the default rule."""
    if not isinstance(game, Game):
        raise TypeError(f"game must be a hic_envs.games.Game, got {type(game).__name__}")
    return PRESET_RULES.get(game.name, PresetRule())


def _sample_points(game: Game, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The centre of ``X x Y`` and ``n`` fixed pseudo-random points (a private generator)."""
    rng = np.random.default_rng(20240531)
    xs = rng.uniform(game.leader_low, game.leader_high, size=(n, game.d1))
    ys = rng.uniform(game.follower_low, game.follower_high, size=(n, game.d2))
    xc = 0.5 * (game.leader_low + game.leader_high)
    yc = 0.5 * (game.follower_low + game.follower_high)
    return np.vstack([xc, xs]), np.vstack([yc, ys])


def _follower_constants(game: Game) -> tuple[float, float]:
    """``(mu, K2)``: the game's, or estimated from ``follower_hess_yy`` at sample points of
    ``X x Y``.

    Proposition 4.9's step ``beta <= 1 / K2`` needs ``K2`` to bound the curvature wherever the
    follower goes, not only on its best response, so the estimate samples all of ``Y`` (for an
    entropy-regularised follower this gives a stiff ``K2`` and a slow, safe step; see the
    iterated Prisoner's Dilemma in the README). A follower payoff that is not concave at a
    sample point is refused: Assumption 4.8 fails there.
    """
    mu, K2 = game.mu, game.K2
    if mu is None or K2 is None:
        xs, ys = _sample_points(game)
        h = np.asarray(game.follower_hess_yy(xs, ys), dtype=np.float64)
        eig = np.linalg.eigvalsh(0.5 * (h + np.swapaxes(h, -1, -2)))
        if np.any(eig >= 0):
            raise ValueError(
                f"{game.name}: the follower's payoff is not strongly concave in y at every "
                "sample point (grad_yy f2 has an eigenvalue >= 0); Hi-C's commitment schedule "
                "needs Assumption 4.8. Pass mu and K2 to the game if they are known, or give "
                "the leader's schedules and the follower's step yourself"
            )
        mu = float(-eig.max()) if mu is None else mu
        K2 = float(-eig.min()) if K2 is None else K2
    return float(mu), float(K2)


def follower_step_size(game: Game, rule: PresetRule | None = None) -> float:
    """The gradient-ascent follower's step ``beta`` the preset is built for.

    Args:
        game: the game.
        rule: knobs to use instead of :func:`preset_rule` (for experiments).
    """
    rule = preset_rule(game) if rule is None else rule
    if rule.beta is not None:
        return float(rule.beta)
    mu, K2 = _follower_constants(game)
    return min(1.0 / K2, 0.5 / mu)


#: ``_curvature`` per game instance (games are immutable, and cache their own equilibria the
#: same way): an experiment builds its leader once per budget probe and once to run, and on a
#: game without closed forms (an ``ArrayGame``: numeric best responses inside a finite-difference
#: Hessian) each computation took about 0.65 s (``hic run`` profiled, load about 8).
_CURVATURE: weakref.WeakKeyDictionary[Game, float] = weakref.WeakKeyDictionary()


def _curvature(game: Game) -> float:
    try:
        return _CURVATURE[game]
    except (KeyError, TypeError):  # TypeError: a game that cannot be weakly referenced
        pass
    H = _compute_curvature(game)
    with contextlib.suppress(TypeError):
        _CURVATURE[game] = H
    return H


def _compute_curvature(game: Game) -> float:
    xs, _ = _sample_points(game)
    h = np.asarray(game.hierarchical_hess(xs), dtype=np.float64)
    H = float(np.abs(np.linalg.eigvalsh(0.5 * (h + np.swapaxes(h, -1, -2)))).max())
    if math.isfinite(H) and H <= 1e-12 * max(1.0, _payoff_spread(game)):
        # f1(x, r(x)) is (numerically) linear: no curvature sets the scale. Use the box's:
        # H = spread of f1(x, r(x)) over X / width^2, so the first step moves about a_rule of
        # the box per unit of normalised slope. Not a tuned preset: measure before relying on it.
        width = float(np.min(game.leader_high - game.leader_low))
        H = max(_payoff_spread(game), 1e-12) / width**2
    if not (math.isfinite(H) and H > 0):
        raise ValueError(
            f"{game.name}: f1(x, r(x)) has no curvature at the sample points (H={H!r}); pass "
            "step_size and perturbation to HiCLeader yourself"
        )
    return H


def _payoff_spread(game: Game) -> float:
    return float(np.ptp(game.hierarchical_payoff(leader_grid(game, 65))))


def hic_leader_kwargs(
    game: Game,
    beta: float | None = None,
    rule: PresetRule | None = None,
    *,
    commitment: bool = True,
    perturbation: Any = None,
) -> dict[str, Any]:
    """Keyword arguments for :class:`agents.HiCLeader` on ``game`` (besides the action space).

    Args:
        game: the game.
        beta: the follower's gradient step the commitment schedule must suit; defaults to
            :func:`follower_step_size`.
        rule: knobs to use instead of :func:`preset_rule` (for experiments).
        commitment: False leaves the commitment out (and ``beta`` unread): the other three
            do not depend on it, and a follower's step that no Corollary 4.11 commitment
            suits is refused only when the commitment is asked for.
        perturbation: the perturbation schedule ``delta_n`` the leader will use, when it is not
            the preset's: Eq. (28) fits the commitment to it (the returned ``"perturbation"``
            stays the preset's).

    Returns:
        ``{"step_size", "perturbation", "commitment", "baseline"}`` (without ``"commitment"``
        when ``commitment`` is False).
    """
    rule = preset_rule(game) if rule is None else rule
    width = float(np.mean(game.leader_high - game.leader_low))
    delta = PowerLaw(rule.c_frac * width, _SPALL_DELTA)
    a = rule.a_rule * (1.0 + _A) ** _SPALL_ALPHA / _curvature(game)
    if rule.dim_factor:
        a *= min(1.0, 2.0 / math.sqrt(game.d1))
    out: dict[str, Any] = {"step_size": PowerLaw(a, _SPALL_ALPHA, _A), "perturbation": delta}
    if commitment:
        beta = follower_step_size(game, rule) if beta is None else float(beta)
        mu, K2 = _follower_constants(game)
        B = float(np.linalg.norm(game.follower_high - game.follower_low))
        fit_to = delta if perturbation is None else perturbation
        out["commitment"] = CommitmentSchedule(beta, mu, B, rule.p, fit_to, K2=K2)
    out["baseline"] = rule.baseline
    return out


def recommended_stages(game: Game) -> int:
    """Stages in which the preset was measured to converge on ``game`` (see the module
    docstring); a starting budget for other games."""
    return preset_rule(game).stages


def leader_grid(
    game: Game,
    points: int = 101,
    *,
    center: ArrayLike | None = None,
    radius: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Leader strategies at which to score a follower policy, shape ``(N, d1)``.

    For ``d1 = 1``, ``points`` evenly spaced strategies; for ``d1 > 1``, ``points`` uniform
    draws (from ``np.random.default_rng(seed)``). With ``center`` and ``radius`` the region
    is ``center +- radius * (high - low)``, cut to ``X``; otherwise all of ``X``.
    """
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
        raise ValueError(f"points must be an integer >= 2, got {points!r}")
    lo, hi = game.leader_low, game.leader_high
    if (center is None) != (radius is None):
        raise ValueError("pass both center and radius, or neither")
    if center is not None and radius is not None:  # both or neither (checked above)
        c = np.asarray(center, dtype=np.float64)
        if c.shape != (game.d1,):
            raise ValueError(f"center must have shape ({game.d1},), got shape {c.shape}")
        if not (math.isfinite(radius) and radius > 0):
            raise ValueError(f"radius must be a positive fraction of the box, got {radius!r}")
        lo, hi = np.maximum(lo, c - radius * (hi - lo)), np.minimum(hi, c + radius * (hi - lo))
    if game.d1 == 1:
        return np.linspace(lo, hi, int(points))
    return np.random.default_rng(seed).uniform(lo, hi, size=(int(points), game.d1))


def reactive_hic_kwargs(
    game: Game,
    step: float = 0.05,
    perturbation: float = 0.04,
    commitment: int = 2,
) -> dict[str, Any]:
    """Hi-C settings for a follower that reacts at once: a policy of the leader's strategy.

    A policy answers the leader's committed strategy at once (its tracking error is its
    approximation error, not a transient), so commitments are short and constant, where the
    game's preset (:func:`agents.presets.hic_leader_kwargs`) uses Corollary 4.11's schedule
    for a gradient follower that needs time to settle. Two stages, not one, so that the
    measured stage answers the committed strategy also in the PettingZoo loop, where the
    follower observes the leader's previous action. A learning policy *samples* its actions,
    which puts noise of order ``|grad_y f1| * std(y)`` on every payoff the leader measures,
    so the estimate is two-sided (antithetic: the payoff level cancels), the perturbation
    is twice the preset's and the steps decay from a smaller start:

    * ``alpha_n = step * w^2 / S / (n + 11)^0.602`` where ``w`` is the narrowest side of ``X``
      and ``S`` the spread of ``f1(x, r(x))`` over a grid of ``X`` (read once off the game to
      set the scale, as the presets do); for a quadratic ``f1(x, r(x))`` peaking mid-box the
      first steps contract the error by about ``8 * step``;
    * ``delta_n = perturbation * w / (n + 1)^0.101`` (Spall's exponents; Assumption 4.4);
    * ``k_n = commitment`` stages per side.
    """
    for nm, v in (("step", step), ("perturbation", perturbation)):
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or not (math.isfinite(v) and v > 0)
        ):
            raise ValueError(f"{nm} must be a positive number, got {v!r}")
    if isinstance(commitment, bool) or not isinstance(commitment, int) or commitment < 1:
        raise ValueError(f"commitment must be a positive integer, got {commitment!r}")
    width = float(np.min(game.leader_high - game.leader_low))
    spread = float(np.ptp(game.hierarchical_payoff(leader_grid(game, 65)))) or 1.0
    return {
        "step_size": PowerLaw(step * width**2 / spread, 0.602, A=10.0),
        "perturbation": PowerLaw(perturbation * width, 0.101),
        "commitment": commitment,
        "two_sided": True,
    }


#: Leader dimension above which :func:`gradient_leader_step` estimates the curvature
#: matrix-free by default (a dense ``hierarchical_hess`` of ``d1 = 1e4`` is 0.8 GB per point,
#: and its eigenvalues cost ``O(d1^3)``).
DENSE_CURVATURE_MAX = 1024


def hierarchical_curvature(
    game: Game, x: ArrayLike, *, tol: float = 1e-6, max_products: int = 2000
) -> np.ndarray:
    """The spectral radius of the hierarchical Hessian ``grad_xx f1(x, r(x))`` at each row
    of ``x`` ``(n, d1)``, matrix-free: Lanczos (``scipy.sparse.linalg.eigsh``, the largest
    magnitude eigenvalue) on Hessian-vector products by central differences of
    ``game.hierarchical_grad`` (the game's closed form where it has one), step ``1e-5`` times
    the mean width of ``X`` along a unit vector. Memory ``O(d1)`` per vector; deterministic
    (a fixed start vector).

    Args:
        game: the game.
        x: leader strategies ``(n, d1)``.
        tol: ARPACK's relative accuracy of the eigenvalue.
        max_products: at most this many Hessian-vector products per row.

    Returns:
        ``(n,)`` non-negative.

    Raises:
        ValueError: if the eigenvalue search does not converge within ``max_products``.
    """
    import scipy.sparse.linalg as sla

    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    d1 = game.d1
    h = 1e-5 * float(np.mean(game.leader_high - game.leader_low))
    v0 = np.random.default_rng(20240531).standard_normal(d1)
    out = np.empty(x.shape[0])
    for i, xi in enumerate(x):

        def hvp(v: np.ndarray, xi: np.ndarray = xi) -> np.ndarray:
            v = np.asarray(v, dtype=np.float64).reshape(-1)
            g = game.hierarchical_grad(np.stack([xi + h * v, xi - h * v]))
            return (g[0] - g[1]) / (2.0 * h)

        op = sla.LinearOperator((d1, d1), matvec=hvp, dtype=np.float64)
        try:
            lam = sla.eigsh(op, k=1, which="LM", tol=tol, v0=v0, maxiter=max_products)[0]
        except sla.ArpackNoConvergence as exc:
            raise ValueError(
                f"{game.name}: the hierarchical curvature at row {i} did not converge within "
                f"{max_products} Hessian-vector products; pass a step size"
            ) from exc
        out[i] = abs(float(lam[0]))
    return out


def gradient_leader_step(game: Game, *, matrix_free: bool | None = None) -> float:
    """The constant step of the gradient baselines (SGA, hierarchical): ``0.1 / H``.

    ``H`` is the largest curvature of the leader's Stackelberg objective ``f1(x, r(x))``
    (``game.hierarchical_hess``) at the centre of ``X`` and at the DSE, so a step contracts
    the stiffest direction by at most 10% (the same first-step rule as the Hi-C presets);
    with a gradient-ascent follower contracting by ``1 - beta mu`` per stage the leader is the
    slower timescale, as Eq. (8)-(9) ask.

    Args:
        game: the game.
        matrix_free: estimate ``H`` by :func:`hierarchical_curvature` (Hessian-vector
            products, never a ``d1 x d1`` matrix) instead of the dense ``hierarchical_hess``
            and its eigenvalues; None (default): matrix-free where ``d1 >
            DENSE_CURVATURE_MAX``, so every game of at most 1024 leader parameters keeps
            its dense value.

    Raises:
        ValueError: if ``f1(x, r(x))`` has no curvature at those points.
    """
    pts = np.stack([0.5 * (game.leader_low + game.leader_high), game.stackelberg().x])
    if matrix_free is None:
        matrix_free = game.d1 > DENSE_CURVATURE_MAX
    if matrix_free:
        H = float(hierarchical_curvature(game, pts).max())
    else:
        h = np.asarray(game.hierarchical_hess(pts), dtype=np.float64)
        H = float(np.abs(np.linalg.eigvalsh(0.5 * (h + np.swapaxes(h, -1, -2)))).max())
    if not (math.isfinite(H) and H > 0):
        raise ValueError(
            f"{game.name}: f1(x, r(x)) has no curvature at the centre and the DSE (H={H!r}); "
            "pass a step size"
        )
    return 0.1 / H
