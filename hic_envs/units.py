"""Normalised units: the affine map between a strategy box ``[low, high]`` and ``[-1, 1]``.

The Gymnasium views act and observe in these units (SB3's convention for Box actions), and the
SB3 agents use the same two functions to talk to a policy trained in a view, so the rescaling
exists once.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["from_unit", "to_unit"]


def to_unit(value: ArrayLike, low: ArrayLike, high: ArrayLike) -> np.ndarray:
    """Map points of the box ``[low, high]`` affinely onto ``[-1, 1]`` (float64).

    ``low`` goes to ``-1`` and ``high`` to ``+1``, element-wise; works on any leading batch axis.
    Points outside the box map outside ``[-1, 1]``: callers pass projected strategies.
    """
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    return 2.0 * (np.asarray(value, dtype=np.float64) - low) / (high - low) - 1.0


def from_unit(unit: ArrayLike, low: ArrayLike, high: ArrayLike) -> np.ndarray:
    """Inverse of :func:`to_unit`: map ``[-1, 1]`` onto ``[low, high]`` (float64).

    The result is clipped to the box, which only removes rounding (``low + 1.0 * (high - low)``
    can exceed ``high`` by one ulp); callers clip the unit value itself and say so.
    """
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    u = np.asarray(unit, dtype=np.float64)
    return np.clip(low + 0.5 * (u + 1.0) * (high - low), low, high)
