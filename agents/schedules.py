"""Schedules: callables ``n -> value`` of the update index ``n = 0, 1, 2, ...``.

A schedule accepts a Python int or an integer array (one index per batch row) and returns a
float, or a float array of the same shape. Anywhere a schedule is expected, a plain number means
a constant and any other callable is accepted as is (it is called once per distinct index).

Provided:
    * :class:`Constant`;
    * :class:`PowerLaw`, ``a / (n + 1 + A) ** gamma`` (Spall's usual exponents are 0.602 for the
      step size and 0.101 for the perturbation);
    * :class:`Logarithmic`, ``a / log(n + base)``;
    * :class:`CommitmentSchedule`, the commitment times of Corollary 4.11, Eq. (28);
    * :class:`LogLinear`, ``scale * ln(n + 1) + offset`` (optionally rounded up), the published
      Hi-C code's logarithmic commitment schedule;
    * :class:`PerRow`, one schedule (or number) per batch row: row ``i`` of a batch runs
      ``schedules[i]`` at its own index ``n[i]`` (a sweep grid over a hyperparameter as one
      batch). A 1-D NumPy array of numbers given where a schedule is expected becomes one.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from array_api_compat import array_namespace
from numpy.typing import ArrayLike

__all__ = [
    "CommitmentSchedule",
    "Constant",
    "LogLinear",
    "Logarithmic",
    "PerRow",
    "PowerLaw",
    "Schedule",
    "MAX_COMMITMENT",
    "MAX_INDEX",
    "ScheduleTable",
    "as_schedule",
    "check_spsa_schedules",
    "commitment_lengths",
    "evaluate",
]

#: Largest commitment ``k_n`` (stages) a schedule may give. Stage counters are int64; with
#: intervals up to ``2**62`` stages, ``start + k_n`` cannot wrap for any reachable ``start``.
MAX_COMMITMENT = 2**62

#: Largest update index ``n`` the schedules here are checked for when they are made: a
#: schedule that would overflow or underflow float64 before ``n = MAX_INDEX`` is refused then,
#: not found as ``0`` or ``inf`` mid-run.
MAX_INDEX = 2**62

#: ``log`` of the largest and of the smallest positive normal float64.
_LOG_MAX = math.log(np.finfo(np.float64).max)
_LOG_TINY = math.log(np.finfo(np.float64).tiny)


def _real(name: str, value: Any) -> float:
    """``value`` as a float; TypeError unless it is a real number (not a bool or a string)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        return float(value)
    except OverflowError:  # an int beyond float64
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None


def _positive(name: str, value: Any) -> float:
    v = _real(name, value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def _traced(n: Any) -> Any:
    """The array namespace of an index that is not a Python or NumPy value (a JAX array,
    traced by ``jax.jit`` in the JAX engine), else None: the library's schedules evaluate
    such indices with that namespace's functions (no host conversion, no checks that need
    the values), and NumPy indices as before, bit for bit."""
    if isinstance(n, (numbers.Number, np.generic, np.ndarray, list, tuple)):
        return None
    return array_namespace(n)


def _float(xp: Any, n: Any) -> Any:
    return xp.astype(xp.asarray(n), xp.float64)


class Schedule:
    """Base class of the vectorised schedules. Subclasses implement :meth:`__call__`.

    The library's schedules also accept an index array of another array-API namespace (a
    JAX array traced by the JAX engine) and compute their values with its functions."""

    def __call__(self, n):  # pragma: no cover - interface
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Constant(Schedule):
    """``value`` for every ``n``."""

    value: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _positive("value", self.value))

    def __call__(self, n):
        if np.ndim(n) == 0:
            return self.value
        return np.full(np.shape(n), self.value)


@dataclasses.dataclass(frozen=True)
class PowerLaw(Schedule):
    """``a / (n + 1 + A) ** gamma``.

    Attributes:
        a: scale (> 0).
        gamma: exponent (>= 0). Spall recommends 0.602 for steps and 0.101 for perturbations.
        A: stability offset (>= 0), Spall's "A" (often ~10% of the planned number of updates).
    """

    a: float
    gamma: float
    A: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", _positive("a", self.a))
        g, A = _real("gamma", self.gamma), _real("A", self.A)
        if not (math.isfinite(g) and g >= 0):
            raise ValueError(f"gamma must be a finite number >= 0, got {self.gamma!r}")
        if not (math.isfinite(A) and A >= 0):
            raise ValueError(f"A must be a finite number >= 0, got {self.A!r}")
        object.__setattr__(self, "gamma", g)
        object.__setattr__(self, "A", A)
        # The value decreases in n, so it suffices that (n + 1 + A)^gamma stays finite and
        # the quotient stays a normal positive float up to n = MAX_INDEX.
        log_pow = g * math.log(float(MAX_INDEX) + 1.0 + A)
        if log_pow >= _LOG_MAX or math.log(self.a) - log_pow < _LOG_TINY:
            raise ValueError(
                f"PowerLaw(a={self.a!r}, gamma={g!r}, A={A!r}) leaves float64 (to 0 or inf) "
                f"before n = 2**62 (at about n = {self._first_bad_index():.3g}); choose a "
                "smaller gamma or A, or a larger a"
            )

    def _first_bad_index(self) -> float:
        limit = min(_LOG_MAX, math.log(self.a) - _LOG_TINY)
        return max(math.exp(limit / self.gamma) - 1.0 - self.A, 0.0)

    def __call__(self, n):
        xp = _traced(n)
        if xp is not None:
            return self.a / (_float(xp, n) + 1.0 + self.A) ** self.gamma
        if np.ndim(n) == 0:
            return self.a / (float(n) + 1.0 + self.A) ** self.gamma
        return self.a / (np.asarray(n, dtype=np.float64) + 1.0 + self.A) ** self.gamma


@dataclasses.dataclass(frozen=True)
class Logarithmic(Schedule):
    """``a / log(n + base)``: decays slower than any power law (``base > 1``)."""

    a: float
    base: float = math.e

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", _positive("a", self.a))
        b = _real("base", self.base)
        if not (math.isfinite(b) and b > 1):
            raise ValueError(f"base must be a finite number > 1, got {self.base!r}")
        object.__setattr__(self, "base", b)
        first, last = self.a / math.log(b), self.a / math.log(float(MAX_INDEX) + b)
        if not (math.isfinite(first) and last >= np.finfo(np.float64).tiny):
            raise ValueError(
                f"Logarithmic(a={self.a!r}, base={b!r}) leaves float64 between n = 0 "
                f"({first!r}) and n = 2**62 ({last!r}); choose a moderate a and base"
            )

    def __call__(self, n):
        xp = _traced(n)
        if xp is not None:
            return self.a / xp.log(_float(xp, n) + self.base)
        if np.ndim(n) == 0:
            return self.a / math.log(float(n) + self.base)
        return self.a / np.log(np.asarray(n, dtype=np.float64) + self.base)


@dataclasses.dataclass(frozen=True)
class CommitmentSchedule(Schedule):
    """Commitment times of Corollary 4.11 for a gradient-ascent follower, Eq. (28).

    ``k_n = ceil(2 (ln delta_n - ln B - p ln n) / ln(1 - beta mu))``, at least 1.

    With this schedule ``||y~_n - r(x~_n)|| / delta_n <= 1 / n^p`` (Eq. 23-27), so Assumption
    4.5 holds. At ``n = 0`` the term ``p ln n`` is taken as 0 (``xi_0 = 1``), since ``1 / 0^p``
    is undefined.

    In a simultaneous stage game (as in :class:`~hic_envs.GameEnv`) the follower's action at the
    first stage of an interval was chosen before it saw ``x~_n``, so the last action ``y~_n``
    has had ``k_n - 1`` (not ``k_n``) updates against ``x~_n``. The guarantee then reads
    ``||y~_n - r(x~_n)|| / delta_n <= n^-p / sqrt(1 - beta mu)``: a constant factor, so
    Assumption 4.5 still holds.

    Attributes:
        beta: the follower's gradient step size, ``0 < beta <= 1 / K2`` (Proposition 4.9).
        mu: the follower payoff's strong-concavity constant (Assumption 4.8).
        B: bound on ``||y_t - r(x~_n)||`` (Assumption 4.10), e.g. the diameter of ``Y``.
        p: decay exponent of ``xi_n = n^-p`` (> 0).
        perturbation: the leader's perturbation schedule ``delta_n`` (a schedule or number).
        K2: the follower payoff's smoothness constant, or None. When given, ``beta <= 1 / K2``
            is checked (Proposition 4.9 needs it).
    """

    beta: float
    mu: float
    B: float
    p: float
    perturbation: Any
    K2: float | None = None

    def __post_init__(self) -> None:
        for nm in ("beta", "mu", "B", "p"):
            object.__setattr__(self, nm, _positive(nm, getattr(self, nm)))
        if not self.beta * self.mu < 1:
            raise ValueError(
                f"need 0 < beta * mu < 1 for Corollary 4.11, got beta={self.beta!r}, "
                f"mu={self.mu!r} (beta * mu = {self.beta * self.mu!r})"
            )
        if self.K2 is not None:
            object.__setattr__(self, "K2", _positive("K2", self.K2))
            if self.beta > 1.0 / self.K2 * (1 + 1e-12):
                raise ValueError(
                    f"need beta <= 1 / K2 for Proposition 4.9, got beta={self.beta!r} > "
                    f"1 / K2 = {1.0 / self.K2!r}"
                )
        object.__setattr__(self, "perturbation", as_schedule(self.perturbation, "perturbation"))

    @classmethod
    def for_game(
        cls, game: Any, beta: float, perturbation: Any, p: float = 1.0, B: float | None = None
    ) -> CommitmentSchedule:
        """Eq. (28) with ``mu`` and ``K2`` read from ``game`` and ``B`` its follower box's
        diameter (``||y - y'|| <= B`` for any two points of ``Y``, so Assumption 4.10's bound
        on ``||y_t - r(x~_n)||`` holds).

        This is configuration done before play (what the paper assumes the leader is told);
        the leader that uses the schedule still never sees the game.

        Raises:
            ValueError: if ``game.mu`` is unknown (None).
        """
        if getattr(game, "mu", None) is None:
            raise ValueError(
                f"{type(game).__name__} does not know its strong-concavity constant mu; "
                "pass mu explicitly to CommitmentSchedule(beta, mu, B, p, perturbation)"
            )
        if B is None:
            B = float(np.linalg.norm(game.follower_high - game.follower_low))
        return cls(beta, game.mu, B, p, perturbation, K2=game.K2)

    def ratio_bound(self, n: ArrayLike) -> np.ndarray:
        """The guaranteed ``||y~_n - r(x~_n)|| / delta_n`` in a simultaneous stage game:
        ``max(n, 1)^-p / sqrt(1 - beta mu)`` (see the class docstring)."""
        n_arr = np.maximum(np.asarray(n, dtype=np.float64), 1.0)
        return n_arr ** (-self.p) / math.sqrt(1.0 - self.beta * self.mu)

    def __call__(self, n):
        """``k_n`` as an int (or an int64 array for an array ``n``).

        Raises:
            ValueError: where ``k_n`` exceeds :data:`MAX_COMMITMENT` stages (a tiny
                ``beta mu`` or ``delta_n``): such an interval never ends, and an int64 cast
                would wrap it to a negative or 1-stage interval.
        """
        xp = _traced(n)
        if xp is not None:
            # Traced (the JAX engine): the same formula in the index's namespace, as floats;
            # lengths beyond MAX_COMMITMENT cannot raise here (see the JAX engine's notes).
            n_arr = _float(xp, n)
            log_d = xp.log(_float(xp, self.perturbation(n)))
            k = xp.ceil(
                2.0
                * (log_d - math.log(self.B) - self.p * xp.log(xp.maximum(n_arr, 1.0)))
                / math.log1p(-self.beta * self.mu)
            )
            return xp.maximum(k, 1.0)
        scalar = np.ndim(n) == 0
        n_int = np.atleast_1d(np.asarray(n, dtype=np.int64))
        n_arr = n_int.astype(np.float64)
        delta = np.asarray(evaluate(self.perturbation, n_int, "perturbation"), dtype=np.float64)
        log_n = np.log(np.maximum(n_arr, 1.0))
        # Eq. (28); log1p(-beta mu) is exact where log(1 - beta mu) loses beta mu to rounding
        # (it is 0 for beta mu < 1.1e-16, which made k_n infinite).
        with np.errstate(over="ignore"):
            k = np.ceil(
                2.0
                * (np.log(delta) - math.log(self.B) - self.p * log_n)
                / math.log1p(-self.beta * self.mu)
            )
        k = commitment_lengths(np.maximum(k, 1.0), n_int, "CommitmentSchedule")
        return int(k[0]) if scalar else k


@dataclasses.dataclass(frozen=True)
class LogLinear(Schedule):
    """``scale * ln(n + 1) + offset``, rounded up to a whole number when ``ceil`` is True.

    The published Hi-C code's ``logarithmic`` schedule is ``scale * ln(t) + offset`` with a
    1-based counter ``t = n + 1``; an interval whose commitment is the real number ``c`` ends
    at the first stage count ``>= c``, i.e. it lasts ``ceil(c)`` stages, which is
    ``LogLinear(scale, offset, ceil=True)``. Its Cournot run uses ``scale = 9.859124258994012``
    and ``offset = 41.27540463406469`` (``2 (0.1 + 1) / -ln(0.8)`` and ``2 ln(100) / -ln(0.8)``:
    Eq. (28) with ``beta mu = 0.2``, ``B = 100`` and the exponents summing to 1.1).

    Attributes:
        scale: the coefficient of ``ln(n + 1)`` (>= 0).
        offset: the value at ``n = 0`` (> 0).
        ceil: round up (commitment lengths must be whole numbers of stages).
    """

    scale: float
    offset: float
    ceil: bool = False

    def __post_init__(self) -> None:
        s = float(self.scale)
        if not (math.isfinite(s) and s >= 0):
            raise ValueError(f"scale must be a finite number >= 0, got {self.scale!r}")
        object.__setattr__(self, "scale", s)
        object.__setattr__(self, "offset", _positive("offset", self.offset))
        object.__setattr__(self, "ceil", bool(self.ceil))

    def __call__(self, n):
        xp = _traced(n)
        if xp is not None:
            v = self.scale * xp.log(_float(xp, n) + 1.0) + self.offset
            return xp.ceil(v) if self.ceil else v
        v = self.scale * np.log(np.asarray(n, dtype=np.float64) + 1.0) + self.offset
        if self.ceil:
            v = np.ceil(v)
        return float(v) if np.ndim(n) == 0 else v


@dataclasses.dataclass(frozen=True)
class PerRow(Schedule):
    """One schedule per batch row: ``PerRow((s_0, ..., s_{S-1}))(n)[i] = s_i(n[i])``.

    Each entry is a schedule or a positive number (a :class:`Constant`). Called with an
    index array of shape ``(S,)`` (one index per row) it gives ``(S,)`` values; with one index
    ``n`` it gives every row's value at ``n``. Only a batch of exactly ``S`` rows may use it.

    Attributes:
        schedules: the rows' schedules (a tuple; numbers become :class:`Constant`).
    """

    schedules: tuple

    def __post_init__(self) -> None:
        items = tuple(np.asarray(self.schedules, dtype=object).ravel().tolist())
        if not items:
            raise ValueError("PerRow needs at least one row")
        object.__setattr__(
            self, "schedules", tuple(as_schedule(v, f"row {i}") for i, v in enumerate(items))
        )
        # Vectorised: the rows that share a schedule are evaluated together, through one
        # table of that schedule (the values a run of that schedule alone reads, bit for bit).
        groups: dict[Any, list[int]] = {}
        first: dict[Any, Callable] = {}
        for i, sch in enumerate(self.schedules):
            try:
                key: Any = (True, sch)
                hash(key)
            except TypeError:
                key = (False, id(sch))
            groups.setdefault(key, []).append(i)
            first.setdefault(key, sch)
        object.__setattr__(
            self,
            "_groups",
            tuple(
                (ScheduleTable(first[k], f"row {rows[0]}"), np.asarray(rows, dtype=np.intp))
                for k, rows in groups.items()
            ),
        )

    @property
    def rows(self) -> int:
        """The number of rows ``S``."""
        return len(self.schedules)

    def __call__(self, n):
        S = len(self.schedules)
        xp = _traced(n)
        if xp is not None:
            # Traced: each distinct schedule once on every row's index, then each row's own.
            n = xp.broadcast_to(xp.asarray(n), (S,)) if xp.asarray(n).ndim == 0 else n
            if n.shape != (S,):
                raise ValueError(f"a PerRow schedule of {S} rows needs {S} indices, got {n.shape}")
            uniq: list = []
            which = np.empty(S, dtype=np.int64)
            for i, s in enumerate(self.schedules):
                hit = [j for j, u in enumerate(uniq) if u is s or u == s]
                if not hit:
                    uniq.append(s)
                which[i] = hit[0] if hit else len(uniq) - 1
            vals = xp.stack([xp.broadcast_to(_float(xp, s(n)), (S,)) for s in uniq])
            return vals[which, np.arange(S)]
        n_arr = np.asarray(n, dtype=np.int64)
        if n_arr.ndim == 0:
            n_arr = np.full(S, int(n_arr))
        if n_arr.shape != (S,):
            raise ValueError(f"a PerRow schedule of {S} rows needs {S} indices, got {n_arr.shape}")
        out = np.empty(S)
        for tab, rows in self._groups:  # set in __post_init__
            idx = n_arr[rows]
            if idx.size and int(_max(idx)) >= _PER_ROW_TABLE_LIMIT:
                # A table would hold every index below this one (8 bytes each: at a stage
                # count of 1e9, 8 GB); the schedule on these indices gives the table's values
                # (element-wise, the same computation as the table's).
                out[rows] = evaluate(tab.schedule, idx, tab.name)
            else:
                out[rows] = tab(idx)
        return out


def as_schedule(value: Any, name: str = "schedule") -> Callable:
    """A plain number becomes :class:`Constant`, a 1-D NumPy array of numbers (one per batch
    row) :class:`PerRow`; callables pass through.

    Raises:
        TypeError: for anything else (naming ``name`` and the value).
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number or a callable n -> value, got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            return Constant(value)  # type: ignore[arg-type]  # NumPy scalars are checked there
        except ValueError:
            raise ValueError(f"{name} must be a positive finite number, got {value!r}") from None
    if callable(value):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iuf":
        return PerRow(tuple(value.tolist()))
    raise TypeError(f"{name} must be a number or a callable n -> value, got {value!r}")


def evaluate(schedule: Callable, n: np.ndarray, name: str = "schedule") -> np.ndarray:
    """Evaluate ``schedule`` at the integer indices ``n`` (1-D array), as a float array.

    :class:`Schedule` objects are called once on the whole array; other callables once per
    distinct index. Every value must be a finite positive real number; strings and booleans
    are refused, not converted.

    Raises:
        TypeError: naming the first index whose value is not a real number.
        ValueError: naming the first index whose value is not a positive finite number.
    """
    if isinstance(schedule, Schedule):
        raw = np.asarray(schedule(n))
        if raw.dtype.kind not in "iuf":
            raise TypeError(
                f"{name} must give real numbers, got dtype {raw.dtype} ({raw.ravel()[:3]!r})"
            )
        out = raw.astype(np.float64, copy=False)
    else:
        uniq, inv = np.unique(n, return_inverse=True)
        vals = np.empty(uniq.shape[0])
        for j, u in enumerate(uniq.tolist()):
            v = schedule(u)
            if isinstance(v, bool | np.bool_) or not (
                isinstance(v, numbers.Real)
                or (isinstance(v, np.ndarray) and v.shape == () and v.dtype.kind in "iuf")
            ):
                raise TypeError(f"{name} must give real numbers, got {v!r} at n={u}")
            vals[j] = v
        out = vals[inv]
    bad = ~(np.isfinite(out) & (out > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{name} must give positive finite values, got {out[i]!r} at n={int(n[i])}"
        )
    return out


def _whole_lengths(k: np.ndarray) -> np.ndarray:
    """Where ``k`` is a whole number of stages from 1 to :data:`MAX_COMMITMENT`."""
    return (k >= 1) & (k <= MAX_COMMITMENT) & (k == np.floor(k))


def commitment_lengths(k: np.ndarray, n: np.ndarray, name: str = "commitment") -> np.ndarray:
    """Commitment lengths ``k`` (float array, from :func:`evaluate`) as int64, checked.

    Args:
        k: the schedule's values at the update indices ``n``.
        n: the update indices, for the message.
        name: what gave the values, for the message.

    Raises:
        ValueError: naming the first index where ``k`` is not a whole number from 1 to
            :data:`MAX_COMMITMENT` (beyond it the int64 cast would wrap).
    """
    k = np.asarray(k, dtype=np.float64)
    bad = ~_whole_lengths(k)
    if bad.any():
        i = int(np.argmax(bad))
        why = (
            "whole numbers of stages"
            if np.isfinite(k[i]) and 1 <= k[i] <= MAX_COMMITMENT
            else "between 1 and 2**62 stages (the largest interval that fits in int64 counters)"
        )
        raise ValueError(f"{name} must give {why}, got {float(k[i])!r} at n={int(n[i])}")
    return k.astype(np.int64)


_max, _min = np.maximum.reduce, np.minimum.reduce


#: The largest index (exclusive) a :class:`PerRow` group reads from its schedule's table (a
#: table of 2**20 float64 values is 8 MiB); larger indices are evaluated directly.
_PER_ROW_TABLE_LIMIT = 1 << 20


class ScheduleTable:
    """``evaluate(schedule, n, name)`` from a table of precomputed values (same values, bit
    for bit, at a fraction of the cost of calling the schedule at every interval end).

    Only library :class:`Schedule` objects are tabulated (their values at indices a run never
    reaches are harmless to compute); any other callable is evaluated as :func:`evaluate`
    does, so it is never called at an index the run does not reach. The table grows by
    doubling to cover the largest index asked for. An index at or beyond the first value that
    is not positive and finite goes through :func:`evaluate`, which raises its usual error.
    (Element-wise NumPy functions give the same value for an element whatever the array's
    length; ``tests/agents/test_schedules.py`` checks it for the library's schedules.)

    Args:
        schedule: the schedule.
        name: its name in error messages.
    """

    __slots__ = ("schedule", "name", "_table", "_valid", "_lengths", "_lengths_valid")

    def __init__(self, schedule: Callable, name: str = "schedule") -> None:
        self.schedule = schedule
        self.name = name
        self._table = np.empty(0)
        self._valid = 0  # table[:_valid] are all positive and finite
        self._lengths: np.ndarray | None = None  # the table as checked int64 lengths
        self._lengths_valid = 0  # _lengths[:_lengths_valid] are whole numbers in range

    def __call__(self, n: np.ndarray) -> np.ndarray:
        """The schedule's values at the integer indices ``n`` (1-D array), as floats."""
        if not isinstance(self.schedule, Schedule) or isinstance(self.schedule, PerRow):
            return evaluate(self.schedule, n, self.name)
        if n.size == 0:
            return evaluate(self.schedule, n, self.name)
        top = int(_max(n))  # the ufunc's reduce: ndarray.max's wrapper costs as much again
        if top >= self._table.shape[0] and self._valid == self._table.shape[0]:
            self._grow(top)
        if top < self._valid and int(_min(n)) >= 0:
            return self._table[n]
        return evaluate(self.schedule, n, self.name)

    def lengths(self, n: np.ndarray) -> np.ndarray:
        """``commitment_lengths(self(n), n, self.name)``: the values as int64 stage counts,
        from a table checked once (an index at or past the first value that is not a whole
        number of stages goes through :func:`commitment_lengths`, which raises there)."""
        if n.size and self._lengths is not None:
            top = int(_max(n))
            if top < self._lengths_valid and int(_min(n)) >= 0:
                return self._lengths[n]
        k = self(n)
        if self._lengths is None or self._lengths.shape[0] != self._valid:
            table = self._table[: max(self._valid, 0)]
            ok = _whole_lengths(table)
            self._lengths_valid = int(np.argmin(ok)) if not ok.all() else table.shape[0]
            # Only the checked prefix is ever read; the rest is cast as 0 (a value past int64's
            # range, or not finite, would make the cast warn about a value no one reads).
            self._lengths = np.where(ok, table, 0.0).astype(np.int64)
        return commitment_lengths(k, n, self.name)

    def at(self, i: int) -> float:
        """The value at one index ``i >= 0`` (a Python float)."""
        if isinstance(self.schedule, PerRow):
            raise TypeError(f"{self.name} is a PerRow schedule: it has one value per row")
        if i < self._valid:
            return float(self._table[i])
        return float(self(np.array([i], dtype=np.int64))[0])

    def _grow(self, top: int) -> None:
        size = max(1024, self._table.shape[0])
        while size <= top:
            size *= 2
        table = np.asarray(self.schedule(np.arange(size, dtype=np.int64)), dtype=np.float64)
        if table.shape != (size,):
            self._table, self._valid = np.empty(0), -1  # not element-wise: never tabulate
            return
        bad = ~(np.isfinite(table) & (table > 0))
        self._table = table
        self._valid = int(np.argmax(bad)) if bad.any() else size


def _tail_form(schedule: Callable) -> tuple[float, float] | None:
    """``(g, l)`` with ``schedule(n) ~ n^-g (ln n)^-l`` as ``n -> inf`` for the schedules
    defined here, or None for other callables."""
    if isinstance(schedule, Constant):
        return 0.0, 0.0
    if isinstance(schedule, PowerLaw):
        return schedule.gamma, 0.0
    if isinstance(schedule, Logarithmic):
        return 0.0, 1.0
    return None


def check_spsa_schedules(
    step_size: Callable, perturbation: Callable, horizon: int = 1_000_000
) -> list[str]:
    """Warn where ``(alpha_n, delta_n)`` break Assumption 4.4; returns the messages.

    Assumption 4.4 asks ``alpha_n -> 0``, ``delta_n -> 0``, ``sum alpha_n = inf`` and
    ``sum alpha_n^2 / delta_n^2 < inf``.

    For :class:`Constant`, :class:`PowerLaw` and :class:`Logarithmic` schedules the check is
    exact: each behaves as ``n^-g (ln n)^-l`` and the four conditions are statements about
    ``(g, l)`` (a series ``sum n^-e (ln n)^-q`` converges iff ``e > 1``, or ``e = 1`` and
    ``q > 1``). For any other callable the conditions are judged from the log-log slope of the
    schedules over the last decade before ``horizon``, which can only flag likely violations.
    """
    if isinstance(step_size, PerRow) or isinstance(perturbation, PerRow):
        S = max(s.rows for s in (step_size, perturbation) if isinstance(s, PerRow))
        row_msgs: list[str] = []
        for i in range(S):
            a, d = (
                s.schedules[i] if isinstance(s, PerRow) else s for s in (step_size, perturbation)
            )
            row_msgs += [m for m in check_spsa_schedules(a, d, horizon) if m not in row_msgs]
        return row_msgs
    msgs: list[str] = []
    fa, fd = _tail_form(step_size), _tail_form(perturbation)
    if fa is not None and fd is not None:
        (ga, la), (gd, ld) = fa, fd
        if ga <= 0 and la <= 0:
            msgs.append("step size does not decay to 0")
        if gd <= 0 and ld <= 0:
            msgs.append("perturbation does not decay to 0")
        if ga > 1 or (ga == 1 and la > 1):
            msgs.append(f"sum of step sizes is finite (alpha_n ~ n^-{ga:g})")
        e, q = 2 * (ga - gd), 2 * (la - ld)
        if not (e > 1 or (e == 1 and q > 1)):
            msgs.append(
                f"sum alpha^2/delta^2 diverges (alpha_n^2/delta_n^2 ~ n^-{e:.3g} (ln n)^-{q:.3g}, "
                "need an exponent > 1)"
            )
    else:
        n = np.array([horizon // 10, horizon], dtype=np.int64)
        av = evaluate(step_size, n, "step_size")
        dv = evaluate(perturbation, n, "perturbation")
        slope_a = math.log(av[1] / av[0]) / math.log(10.0)
        slope_d = math.log(dv[1] / dv[0]) / math.log(10.0)
        if slope_a > -0.01:
            msgs.append("step size does not appear to decay")
        if slope_d > -0.01:
            msgs.append("perturbation does not appear to decay")
        if slope_a < -1.0:
            msgs.append(f"step sizes appear summable (alpha_n ~ n^{slope_a:.3g})")
        if 2 * (slope_a - slope_d) > -1.0:
            msgs.append(
                f"alpha^2/delta^2 does not appear to fall faster than 1/n (tail slope "
                f"{2 * (slope_a - slope_d):.3g})"
            )
    for m in msgs:
        warnings.warn(f"Assumption 4.4 may not hold: {m}", UserWarning, stacklevel=3)
    return msgs
