"""The Hi-C leader's rules (Algorithm 1), element-wise over a batch of rows.

Rows are independent: a function applied to some rows gives those rows' values of the
function applied to all (the NumPy leader applies them to the rows whose interval ends; the
JAX engine, where a fixed schedule ends every row's interval at once, to all rows, with masks
where rows differ).
"""

from __future__ import annotations

from typing import Any

from agents.rules.xp import namespace

__all__ = ["baseline_update", "commit", "spsa_step"]


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
