"""Gradient steps of the followers (and gradient leaders)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from agents.rules.xp import namespace

__all__ = ["ascent_step", "ascent_steps", "checked_ascent_step", "poisoned_ascent_step"]


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


def checked_ascent_step(
    y: Any, beta: Any, grad: Any, low: Any, high: Any, check: Any
) -> tuple[Any, Any]:
    """:func:`ascent_step` (the same operations, so the same bits) that also folds the
    unprojected point ``y + beta * grad`` into the read check ``check``
    (:func:`agents.rules.protocol.fold_read`): NaN where the gradient was NaN or infinite, or
    the step overflowed, which the projection would otherwise hide on the box's edge.

    Returns:
        ``(proj_Y(y + beta * grad), check * (y + beta * grad))``.
    """
    xp = namespace(y, grad)
    u = y + beta * grad
    return xp.minimum(xp.maximum(u, low), high), check * u


def poisoned_ascent_step(y: Any, beta: Any, grad: Any, low: Any, high: Any) -> Any:
    """:func:`ascent_step` whose read check is carried in the strategy itself:
    ``proj_Y(u + 0 * u)`` for the unprojected point ``u = y + beta * grad``.

    For a finite ``u``, ``0 * u`` is a zero of ``u``'s sign and ``u + 0 * u`` is ``u``, so the
    step is :func:`ascent_step`'s, bit for bit. Where the gradient was NaN or infinite, or the
    step overflowed, ``0 * u`` is NaN and so is the new strategy (the projection keeps a NaN),
    and every later step from it: the strategy itself records what
    :func:`checked_ascent_step` folds into its check, which the projection would otherwise
    hide on the box's edge. A loop of these steps carries one array instead of two (the JAX
    interval engine's follower steps); its caller folds the strategies into its read check
    afterwards (``fold_read(check, y)``: NaN exactly where a step was poisoned).
    """
    xp = namespace(y, grad)
    u = y + beta * grad
    return xp.minimum(xp.maximum(u + 0.0 * u, low), high)


def _spread(v: Any, y: np.ndarray) -> np.ndarray:
    """``v`` as an array of ``y``'s shape and dtype (itself if it is one already)."""
    if type(v) is np.ndarray and v.shape == y.shape and v.dtype == y.dtype:
        return v
    return np.broadcast_to(np.asarray(v, y.dtype), y.shape).copy()


#: Values (``stages x S x d``) of the unprojected points :func:`ascent_steps` keeps before it
#: checks them (256 KiB: a block stays in cache while it is summed).
_BLOCK_VALUES = 1 << 15

#: Per thread, per shape of ``y``: the block buffer of :func:`ascent_steps` and its views, made
#: once (scratch: written before it is read in every call, never returned).
_SCRATCH = threading.local()


def _block_buffer(shape: tuple[int, ...]) -> tuple[np.ndarray, list[np.ndarray]]:
    cache = getattr(_SCRATCH, "blocks", None)
    if cache is None:
        cache = _SCRATCH.blocks = {}
    hit = cache.get(shape)
    if hit is None:
        size = int(np.prod(shape))
        points = np.empty((max(1, _BLOCK_VALUES // max(1, size)), *shape))
        hit = cache[shape] = (points, list(points))
    return hit


def ascent_steps(
    y: np.ndarray,
    beta: float | np.ndarray,
    grad: Callable[[np.ndarray], np.ndarray],
    low: np.ndarray,
    high: np.ndarray,
    stages: int,
    check: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``stages`` steps of :func:`checked_ascent_step` with one step size and one gradient
    function ``grad(y)`` (the follower's gradient against one observed leader action), in
    NumPy.

    The same operations as ``stages`` calls of :func:`checked_ascent_step`, so the same
    strategies bit for bit and the same read check (which rows and coordinates are NaN), done
    in place on fresh buffers (neither ``y``, ``check`` nor any array ``grad`` returns is
    written; ``check`` is returned as it is while nothing non-finite was read): the NumPy
    engine's fast-forward runs this loop for every quiet stage. The unprojected points
    ``y + beta * grad`` of a block of stages are written side by side into a scratch buffer
    and summed once per block (a NaN or infinite point makes the sum so; only then, or when a
    sum of finite points overflowed, is each point looked at), so the check adds no call per
    stage. The step size and the box are spread to ``y``'s shape first: a ufunc on operands
    of one shape costs about half of one that broadcasts a ``(d,)`` bound or converts a
    Python float, on small batches.

    A ``grad`` with an ``unchecked`` attribute (a game's gradient that refuses non-finite
    values, :meth:`hic_envs.games.Game.follower_grad_given`, made for the rows of ``y``) is
    called through it on float64 strategies: the block's check sees every value it returns
    anyway. Where that check finds a non-finite point, the block's steps are taken again from
    its first strategies through ``grad`` itself, so a gradient the game refuses raises the
    game's error at the same stage as before (the values are the same either way; numerical
    warnings of the block's later stages may come first).

    Returns:
        ``(y, check)`` after the steps.
    """
    points, slots = _block_buffer(y.shape)
    block = len(slots)
    out = np.empty_like(y)  # the strategies after the first step (y itself is not written)
    beta, low, high = (_spread(v, y) for v in (beta, low, high))
    mul, add, lo, hi, isfinite = np.multiply, np.add, np.maximum, np.minimum, math.isfinite
    fast = getattr(grad, "unchecked", grad) if y.dtype == np.float64 else grad
    for start in range(0, stages, block):
        n = min(block, stages - start)
        # where fast is not grad: the block's first strategies, to take its steps again
        first = y if fast is grad or start == 0 else y.copy()
        for u in slots if n == block else slots[:n]:
            mul(beta, fast(y), out=u)
            add(y, u, out=u)  # the unprojected point, kept for the check
            lo(u, low, out=out)
            y = hi(out, high, out=out)
        done = points[:n]
        if not isfinite(done.sum()):  # a point is NaN or infinite (or the sum overflowed)
            if fast is not grad:
                # The block's steps again, through the checked gradient (a callable without
                # `unchecked`), for the error it raises where the game refuses a value. The
                # values are the same (so is the scratch block it refills).
                ascent_steps(first, beta, lambda v: grad(v), low, high, n, check)
            check = check * np.where(np.isfinite(done).all(axis=0), 0.0, np.nan)
    return y, check
