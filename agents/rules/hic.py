"""The Hi-C leader's rules (Algorithm 1), element-wise over a batch of rows.

Rows are independent: a function applied to some rows gives those rows' values of the
function applied to all (the NumPy leader applies them to the rows whose interval ends; the
JAX engine, where a fixed schedule ends every row's interval at once, to all rows, with masks
where rows differ).
"""

from __future__ import annotations

from typing import Any

from agents.rules.xp import namespace

__all__ = [
    "DIRECTIONS",
    "baseline_update",
    "commit",
    "direction_estimate",
    "estimate_step",
    "momentum_average",
    "on_sphere",
    "spsa_step",
]

#: The perturbation distributions of :func:`direction_estimate` (Hi-C's ``directions``).
DIRECTIONS = ("rademacher", "gaussian", "sphere")


def commit(x: Any, sign: Any, delta: Any, Delta: Any, low: Any, high: Any) -> Any:
    """Alg. 1, line 5: the committed strategy ``x~_n = proj_X(x_n + sign delta_n Delta_n)``.

    Args:
        x: mean strategies ``(S, d)``.
        sign: ``(S,)``, +1 (or -1 for the second half of a two-sided update).
        delta: ``(S,)`` perturbation sizes ``delta_n``.
        Delta: ``(S, d)`` perturbation directions in ``{-1, 1}^d``.
        low, high: the box ``X`` ``(d,)``.
    """
    xp = namespace(x, Delta)
    return xp.clip(x + (sign * delta)[:, None] * Delta, low, high)


def spsa_step(x: Any, alpha: Any, g_scale: Any, delta: Any, Delta: Any, low: Any, high: Any) -> Any:
    """Eq. (11): ``x_{n+1}^i = proj_X(x_n^i + alpha_n s_n / (delta_n Delta_n^i))``.

    Args:
        x: mean strategies ``(S, d)``.
        alpha: ``(S,)`` step sizes ``alpha_n``.
        g_scale: ``(S,)`` the measured payoff ``s_n`` (less the baseline, or the two-sided
            half difference).
        delta, Delta: the interval's perturbation, ``(S,)`` and ``(S, d)``.
        low, high: the box ``X``.
    """
    xp = namespace(x, Delta)
    coef = alpha * g_scale / delta
    return xp.clip(x + coef[:, None] / Delta, low, high)


def baseline_update(b: Any, ready: Any, s: Any, lam: float) -> tuple[Any, Any]:
    """The payoff baseline: ``(g_scale, b_new)`` with ``g_scale = s - b`` (meaningful where
    ``ready``) and ``b_new`` the moving average ``lam b + (1 - lam) s`` where ``ready``, else
    ``s`` (the first interval initialises it)."""
    xp = namespace(b, s)
    return s - b, xp.where(ready, lam * b + (1 - lam) * s, s)


def on_sphere(z: Any) -> Any:
    """Directions uniform on the sphere of radius ``sqrt(d)`` from standard normals ``z``
    ``(S, d)``: ``sqrt(d) z / |z|`` (so ``E[Delta Delta^T] = I``, as for Rademacher and
    Gaussian directions). A row of zeros (a row the NumPy face drew nothing for) stays 0."""
    xp = namespace(z)
    norm = xp.sqrt(xp.sum(z * z, axis=1))
    scale = xp.where(norm > 0, (z.shape[1] ** 0.5) / xp.where(norm > 0, norm, 1.0), 0.0)
    return z * scale[:, None]


def direction_estimate(g_scale: Any, delta: Any, Delta: Any, directions: str) -> Any:
    """The one-measurement gradient estimate ``(S, d)`` of an interval.

    * ``"rademacher"``: SPSA, Eq. (11)'s ``s_n / (delta_n Delta_n^i)`` (``1 / Delta^i`` is
      bounded because ``Delta^i = +-1``);
    * ``"gaussian"`` and ``"sphere"``: the smoothing (random-direction) estimator
      ``s_n Delta_n^i / delta_n``. ``1 / Delta^i`` has no finite moments for these
      distributions, so SPSA's form does not apply; with ``E[Delta Delta^T] = I`` this one is
      unbiased for the gradient of the ``delta``-smoothed payoff.

    Args:
        g_scale: ``(S,)`` the measured payoff ``s_n`` (less the baseline, or the two-sided
            half difference).
        delta: ``(S,)`` perturbation sizes.
        Delta: ``(S, d)`` the interval's directions.
        directions: one of :data:`DIRECTIONS`.
    """
    coef = (g_scale / delta)[:, None]
    if directions == "rademacher":
        return coef / Delta
    return coef * Delta


def momentum_average(g: Any, estimate: Any, beta: Any) -> Any:
    """The estimate's exponential moving average ``beta g + (1 - beta) estimate`` ``(S, d)``."""
    return beta * g + (1 - beta) * estimate


def estimate_step(x: Any, alpha: Any, g: Any, low: Any, high: Any) -> Any:
    """``proj_X(x + alpha_n g)`` for a gradient estimate ``g`` ``(S, d)`` (the step of the
    options beyond Eq. 11: other directions, momentum)."""
    xp = namespace(x, g)
    return xp.clip(x + alpha[:, None] * g, low, high)
