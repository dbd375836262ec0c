"""Gradient steps of the followers (and gradient leaders)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from agents.rules.xp import namespace

__all__ = ["ascent_step", "ascent_steps"]


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


def _spread(v: Any, y: np.ndarray) -> np.ndarray:
    """``v`` as an array of ``y``'s shape and dtype (itself if it is one already)."""
    if type(v) is np.ndarray and v.shape == y.shape and v.dtype == y.dtype:
        return v
    return np.broadcast_to(np.asarray(v, y.dtype), y.shape).copy()


def ascent_steps(
    y: np.ndarray,
    beta: float | np.ndarray,
    grad: Callable[[np.ndarray], np.ndarray],
    low: np.ndarray,
    high: np.ndarray,
    stages: int,
) -> np.ndarray:
    """``stages`` steps of :func:`ascent_step` with one step size and one gradient function
    ``grad(y)`` (the follower's gradient against one observed leader action), in NumPy.

    The same operations as ``stages`` calls of :func:`ascent_step`, so the same bits, done
    in place on two fresh buffers (neither ``y`` nor any array ``grad`` returns is written):
    the NumPy engine's fast-forward runs this loop for every quiet stage. The step size and
    the box are spread to ``y``'s shape first: a ufunc on operands of one shape costs about
    half of one that broadcasts a ``(d,)`` bound or converts a Python float, on small batches.
    """
    bufs = (np.empty_like(y), np.empty_like(y))
    beta, low, high = (_spread(v, y) for v in (beta, low, high))
    mul, add, lo, hi = np.multiply, np.add, np.maximum, np.minimum
    for i in range(stages):
        out = bufs[i & 1]
        mul(beta, grad(y), out=out)
        add(y, out, out=out)
        lo(out, low, out=out)
        y = hi(out, high, out=out)
    return y
