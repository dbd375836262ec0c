"""Gradient steps of the followers (and gradient leaders)."""

from __future__ import annotations

from typing import Any

from agents.rules.xp import namespace

__all__ = ["ascent_step"]


def ascent_step(y: Any, beta: Any, grad: Any, low: Any, high: Any) -> Any:
    """One projected gradient-ascent step, Eq. (21): ``proj_Y(y + beta * grad)``.

    Args:
        y: the strategies ``(S, d)``.
        beta: the step size (a number or an array broadcasting against ``y``).
        grad: ``grad_y f2(x, y)`` ``(S, d)`` (with any gradient noise already added).
        low, high: the box ``Y`` ``(d,)``.
    """
    xp = namespace(y, grad)
    # The projection as two element-wise functions (np.clip's values without its wrapper's
    # per-call cost: this runs every stage).
    return xp.minimum(xp.maximum(y + beta * grad, low), high)
