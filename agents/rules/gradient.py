"""Gradient steps of the followers (and gradient leaders)."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.rules.xp import namespace

__all__ = ["ascent_step"]


def ascent_step(y: Any, beta: Any, grad: Any, low: Any, high: Any, out: Any = None) -> Any:
    """One projected gradient-ascent step, Eq. (21): ``proj_Y(y + beta * grad)``.

    Args:
        y: the strategies ``(S, d)``.
        beta: the step size (a number or an array broadcasting against ``y``).
        grad: ``grad_y f2(x, y)`` ``(S, d)`` (with any gradient noise already added).
        low, high: the box ``Y`` ``(d,)``.
        out: NumPy only: an array of ``y``'s shape and dtype, distinct from ``y`` and
            ``grad``, that receives the result (the same operations on preallocated memory,
            so the same bits: the NumPy engine's repeated steps use it).
    """
    if out is not None:
        np.multiply(beta, grad, out=out)
        np.add(y, out, out=out)
        np.maximum(out, low, out=out)
        return np.minimum(out, high, out=out)
    xp = namespace(y, grad)
    # The projection as two element-wise functions (np.clip's values without its wrapper's
    # per-call cost: this runs every stage).
    return xp.minimum(xp.maximum(y + beta * grad, low), high)
