"""Array-API helpers for the games' payoffs and gradients (issue 18).

A game's ``payoffs``, ``follower_grad`` and the functions they call take their array namespace
from their arguments, so the same code runs on NumPy arrays and, traced under ``jax.jit``, on
JAX arrays (the JAX engine). This module never imports JAX: the namespace comes from
``array_api_compat``, which answers a JAX array with ``jax.numpy`` only when JAX is already
loaded by whoever made the array.

SciPy's special functions have no array-API form without ``SCIPY_ARRAY_API=1``; the helpers
here call them on NumPy arrays (so NumPy results keep their bits) and use the standard formula
in any other namespace.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy
from array_api_compat import array_namespace

__all__ = [
    "batch_shape",
    "diag_embed",
    "expit",
    "full",
    "logsumexp",
    "namespace",
    "softmax",
    "spread",
    "xlogy",
]


def namespace(*arrays: Any) -> Any:
    """The array namespace of ``arrays``: NumPy for NumPy arrays, Python or NumPy scalars and
    lists or tuples (a user's NumPy input), answered without ``array_namespace``'s per-call
    cost; otherwise ``array_namespace``'s (``jax.numpy`` for JAX arrays)."""
    for a in arrays:  # a plain loop: the NumPy engine calls payoffs at every interval
        t = type(a)
        if t is not np.ndarray and t is not float and t is not int:
            break
    else:
        return np
    host = (int, float, list, tuple, np.ndarray, np.generic)
    others = [a for a in arrays if not isinstance(a, host)]
    return array_namespace(*others) if others else np


def softmax(z: Any, axis: int = -1) -> Any:
    """``exp(z) / sum(exp(z))`` along ``axis``, as ``scipy.special.softmax`` computes it (the
    maximum subtracted first)."""
    xp = namespace(z)
    e = xp.exp(z - xp.max(z, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def logsumexp(z: Any, axis: int = -1) -> Any:
    """``log(sum(exp(z)))`` along ``axis``: ``scipy.special.logsumexp`` on NumPy arrays, the
    maximum-shifted formula elsewhere."""
    xp = namespace(z)
    if xp is np:
        return scipy.special.logsumexp(z, axis=axis)
    m = xp.max(z, axis=axis, keepdims=True)
    return xp.squeeze(m, axis=axis) + xp.log(xp.sum(xp.exp(z - m), axis=axis))


def xlogy(x: Any, y: Any) -> Any:
    """``x log(y)``, 0 where ``x == 0``: ``scipy.special.xlogy`` on NumPy arrays, a masked
    product elsewhere."""
    xp = namespace(x, y)
    if xp is np:
        return scipy.special.xlogy(x, y)
    safe = xp.where(x == 0, xp.ones_like(y), y)  # log(0) never computed where x == 0
    return xp.where(x == 0, xp.zeros_like(x), x * xp.log(safe))


def batch_shape(x: Any, y: Any) -> tuple[int, ...]:
    """The leading (batch) shape that ``x (..., d1)`` and ``y (..., d2)`` broadcast to."""
    return np.broadcast_shapes(x.shape[:-1], y.shape[:-1])


def spread(g: Any, shape: tuple[int, ...]) -> Any:
    """``g`` broadcast to ``shape`` as a new array (NumPy: a writable copy, as
    ``np.broadcast_to(g, shape).copy()``; other namespaces' arrays are immutable)."""
    xp = namespace(g)
    if xp is np:
        return np.broadcast_to(g, shape).copy()
    return xp.broadcast_to(g, shape)


def full(shape: tuple[int, ...], value: float, *like: Any) -> Any:
    """A float64 array of ``shape`` filled with ``value``, in the namespace of ``like``."""
    xp = namespace(*like)
    if xp is np:
        return np.full(shape, value)
    return xp.full(shape, value, dtype=xp.float64)


def diag_embed(values: Any) -> Any:
    """Diagonal matrices ``(..., n, n)`` with ``values (..., n)`` on their diagonals, zeros
    elsewhere (NumPy: a zero array written on its diagonal)."""
    xp = namespace(values)
    n = values.shape[-1]
    if xp is np:
        out = np.zeros(values.shape + (n,))
        idx = np.arange(n)
        out[..., idx, idx] = values
        return out
    eye = xp.eye(n, dtype=xp.bool)
    return xp.where(eye, values[..., :, None], 0.0)


def expit(z: Any) -> Any:
    """The logistic function ``1 / (1 + exp(-z))``: ``scipy.special.expit`` on NumPy arrays,
    the formula elsewhere."""
    xp = namespace(z)
    if xp is np:
        return scipy.special.expit(z)
    return 1.0 / (1.0 + xp.exp(-z))
