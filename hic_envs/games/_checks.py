"""Constructor-argument validation shared by the games (not part of the public API)."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["finite", "positive", "nonnegative", "positive_int", "vector"]


def finite(name: str, value) -> float:
    """``value`` as a float; ValueError naming it unless it is a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def positive(name: str, value) -> float:
    """``value`` as a float; ValueError naming it unless it is finite and ``> 0``."""
    v = finite(name, value)
    if v <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return v


def nonnegative(name: str, value) -> float:
    """``value`` as a float; ValueError naming it unless it is finite and ``>= 0``."""
    v = finite(name, value)
    if v < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return v


def positive_int(name: str, value) -> int:
    """``value`` as an int; ValueError naming it unless it is an integer ``>= 1``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def vector(name: str, value, n: int) -> np.ndarray:
    """``value`` as a float64 array of shape ``(n,)`` (a scalar is repeated); ValueError naming
    it if it has another shape or a non-finite entry."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a real number or a sequence of {n}, got {value!r}"
        ) from None
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite scalar or have shape ({n},), got {value!r}")
    return arr
