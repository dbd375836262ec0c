"""Constructor-argument validation shared by the games (not part of the public API).

Every library game validates its arguments with these helpers, so a bad value raises a
``ValueError`` that names the argument, and a value derived from the arguments (a box, a
payoff) that does not fit in float64 is refused where it is made, naming the arguments it
came from.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "derived",
    "finite",
    "finite_on_boxes",
    "nonnegative",
    "positive",
    "positive_int",
    "vector",
]


def finite(name: str, value) -> float:
    """``value`` as a float; ValueError naming it unless it is a finite real number.

    Booleans, strings and ``None`` are refused (``True`` is not a number here).
    """
    if (
        isinstance(value, bool | np.bool_)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(float(value))
    ):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def positive(name: str, value) -> float:
    """``value`` as a float; ValueError naming it unless it is finite and ``> 0``."""
    v = finite(name, value)
    if v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def nonnegative(name: str, value) -> float:
    """``value`` as a float; ValueError naming it unless it is finite and ``>= 0``."""
    v = finite(name, value)
    if v < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return v


def positive_int(name: str, value) -> int:
    """``value`` as an int; ValueError naming it unless it is an integer ``>= 1``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def vector(name: str, value, n: int) -> np.ndarray:
    """``value`` as a float64 array of shape ``(n,)`` (a scalar is repeated); ValueError naming
    it if it has another shape, a non-numeric or boolean entry, or a non-finite entry."""
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):
        raw = None
    if (
        raw is None
        or raw.dtype.kind not in "iuf"
        or (isinstance(value, list | tuple) and any(isinstance(v, bool | np.bool_) for v in value))
    ):
        raise ValueError(f"{name} must be a real number or a sequence of {n}, got {value!r}")
    arr = raw.astype(np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite scalar or have shape ({n},), got {value!r}")
    return arr


def derived(what: str, value, **params) -> float:
    """``value`` (a quantity computed from the arguments ``params``) as a float; ValueError
    naming ``params`` if it overflowed float64 (or is otherwise not finite).

    Args:
        what: what ``value`` is, for the message (e.g. ``"the follower's box half-width"``).
        value: the computed quantity.
        **params: the arguments it was computed from, named as the user passed them.
    """
    v = float(value)
    if not np.isfinite(v):
        args = ", ".join(f"{k}={p!r}" for k, p in params.items())
        raise ValueError(
            f"{args} give {what} = {v!r}, which does not fit in float64; choose values of a "
            "more moderate scale"
        )
    return v


def finite_on_boxes(game, **params) -> None:
    """ValueError naming ``params`` unless both payoffs and both players' own gradients are
    finite at the corners ``low``/``high`` (all coordinates together) and the centre of the
    boxes.

    Payoffs of the library games grow fastest towards the corners of the boxes, so an
    argument scale whose payoffs overflow float64 there (``Duopoly(a=1e300)``, payoffs of
    ``a^2 / b``) is refused when the game is made, not found as ``inf`` mid-run.
    """
    xs = np.stack([game.leader_low, game.leader_high, 0.5 * (game.leader_low + game.leader_high)])
    ys = np.stack(
        [game.follower_low, game.follower_high, 0.5 * (game.follower_low + game.follower_high)]
    )
    x = np.repeat(xs, 3, axis=0)
    y = np.tile(ys, (3, 1))
    with np.errstate(all="ignore"):
        f1, f2 = game.payoffs(x, y)
        g1 = game.leader_grad(x, y)
        g2 = game.follower_grad(x, y)
    for what, v in (
        ("leader payoffs", f1),
        ("follower payoffs", f2),
        ("leader gradients", g1),
        ("follower gradients", g2),
    ):
        if not np.all(np.isfinite(v)):
            args = ", ".join(f"{k}={p!r}" for k, p in params.items())
            raise ValueError(
                f"{args} give {what} that overflow float64 on the strategy boxes (largest "
                f"magnitude {float(np.nanmax(np.abs(v)))!r}); choose values of a more "
                "moderate scale"
            )
