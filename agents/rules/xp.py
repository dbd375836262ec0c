"""The array namespace of a rule's arguments, and a loop that JAX can trace."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from array_api_compat import array_namespace

__all__ = ["namespace", "while_loop"]


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


def while_loop(xp: Any, cond: Callable[[Any], Any], body: Callable[[Any], Any], carry: Any) -> Any:
    """``while cond(carry): carry = body(carry)``, in the namespace ``xp`` of the carry's
    arrays: a Python loop (``cond`` returns a boolean scalar), except in JAX's namespace, where
    it is ``jax.lax.while_loop`` (traced values have no truth value; ``carry`` is then a tuple
    of arrays whose shapes and dtypes ``body`` keeps). JAX is not imported here: its namespace
    only occurs when its arrays do, so the module is already loaded."""
    if xp is not np and getattr(xp, "__name__", "").startswith("jax"):
        return sys.modules["jax"].lax.while_loop(cond, body, carry)
    while bool(cond(carry)):
        carry = body(carry)
    return carry
