"""Constructor-argument validation shared by the games (not part of the public API).

Every library game validates its arguments with these helpers, so a bad value raises a
``ValueError`` that names the argument, and a value derived from the arguments (a box, a
payoff) that does not fit in float64 is refused where it is made, naming the arguments it
came from.
"""

from __future__ import annotations

import numbers
import time
import warnings

import numpy as np

__all__ = [
    "SolveProgress",
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


class SolveProgress:
    """Warns once, when a ground-truth solve has run ``after`` seconds, how far it is and about
    how long it will take at that rate (large games, e.g. SecurityGame(n=2000) or a 300 x 300
    Bimatrix, took minutes with no sign of life).

    Args:
        what: the solve, e.g. ``"Bimatrix(n=300, m=300): the strong Stackelberg LPs"``.
        total: the number of parts (LPs, optimiser starts).
        unit: their name.
        after: seconds before the warning (class attribute :attr:`AFTER` by default).
    """

    #: Seconds a solve runs before it says so.
    AFTER = 10.0

    def __init__(self, what: str, total: int, unit: str, after: float | None = None) -> None:
        self.what, self.total, self.unit = what, total, unit
        self.after = self.AFTER if after is None else after
        self.t0 = time.perf_counter()
        self.warned = False

    def update(self, done: float) -> None:
        """Report ``done`` parts finished (fractions allowed); warns once past ``after``."""
        elapsed = time.perf_counter() - self.t0
        if self.warned or elapsed < self.after:
            return
        self.warned = True
        eta = (
            f"about {elapsed * self.total / done:.0f} s in all at this rate"
            if done > 0
            else f"at least {elapsed * self.total:.0f} s in all if every {self.unit} takes "
            "as long as the first"
        )
        warnings.warn(
            f"{self.what}: {elapsed:.0f} s so far, {done:g} of {self.total} {self.unit}s done; "
            f"{eta}",
            UserWarning,
            stacklevel=3,
        )
