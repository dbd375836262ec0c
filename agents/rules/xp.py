"""The array namespace of a rule's arguments."""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import array_namespace

__all__ = ["namespace"]


def namespace(*arrays: Any) -> Any:
    """The array namespace of ``arrays`` (``array_api_compat.array_namespace``), with NumPy
    arrays and Python scalars answered without the lookup's per-call cost (the NumPy engine
    calls rules at every stage; ``array_api_compat.numpy``'s element-wise functions are
    NumPy's own)."""
    for a in arrays:  # a plain loop: this runs at every stage of the NumPy engine
        t = type(a)
        if t is not np.ndarray and t is not float and t is not int:
            break
    else:
        return np
    if all(type(a) is np.ndarray or isinstance(a, (int, float)) for a in arrays):
        return np  # NumPy subclasses of float or int, e.g. np.float64
    return array_namespace(*(a for a in arrays if not isinstance(a, (int, float))))
