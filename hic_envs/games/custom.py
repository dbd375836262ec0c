"""A game built from user-supplied payoff functions."""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from hic_envs.games.base import Game

__all__ = ["CustomGame"]

_NAME_RE = re.compile(r"^[A-Za-z][\w.]*$")


class CustomGame(Game):
    """A game from your own payoff functions, with numeric ground truth.

    ## Description
    Wraps two payoff callables ``f1(x, y)`` and ``f2(x, y)`` (both players maximise) and the
    players' boxes into a :class:`~hic_envs.games.Game`, so a new game needs no subclass. Every
    quantity the library needs has a numeric default: derivatives by central finite
    differences, the best response by bounded L-BFGS-B, the DSE by maximising
    ``f1(x, r(x))`` from several starts, and the Nash equilibrium by a root solve of the
    players' gradients. Pass any derivative or the best response you know in closed form and
    it is used instead. The numeric defaults are accurate to roughly ``1e-6`` (derivatives) and
    slower than closed forms; the best response and DSE assume the follower's payoff is
    strictly concave in ``y`` with an interior maximiser (Assumption 4.8).

    ## Strategy spaces
    ``X = [leader_low, leader_high]`` and ``Y = [follower_low, follower_high]``, finite boxes
    given as sequences (or scalars for one dimension).

    ## Payoffs
    Whatever the callables compute. By default (``vectorized=False``) each callable receives
    one strategy pair as 1-D float64 arrays ``x`` of shape ``(d1,)`` and ``y`` of shape ``(d2,)``
    and returns a real number; batched calls loop over the leading axes. With
    ``vectorized=True`` the callables must accept ``x`` of shape ``(..., d1)`` and ``y`` of shape
    ``(..., d2)`` with broadcasting leading axes and return shape ``(...)``, and are called once
    per batch. Optional derivative callables follow the same convention and return the shapes
    documented on :class:`~hic_envs.games.Game` (for one pair: ``(d1,)``, ``(d2,)``,
    ``(d2, d2)``, ``(d2, d1)``); ``best_response(x)`` returns ``(d2,)`` (or ``(..., d2)``).

    ## Equilibria
    Numeric (base class) unless given: :meth:`stackelberg` and :meth:`nash` are computed on
    first use and cached.

    ## Arguments
    * ``leader_payoff``, ``follower_payoff`` (callable): ``f1(x, y)`` and ``f2(x, y)``.
    * ``leader_low``, ``leader_high``, ``follower_low``, ``follower_high`` (sequence of float):
      the boxes; finite, with ``low < high``.
    * ``leader_grad``, ``follower_grad``, ``leader_grad_y``, ``follower_hess_yy``,
      ``follower_hess_yx`` (callable, optional): ``grad_x f1``, ``grad_y f2``, ``grad_y f1``,
      ``grad_yy f2``, ``grad_yx f2``.
    * ``best_response`` (callable, optional): ``r(x)``.
    * ``mu``, ``K2`` (float, optional): the constants of Assumption 4.8, if known.
    * ``name`` (str, default ``"Custom"``): CamelCase name, used in environment IDs.
    * ``vectorized`` (bool, default False): whether the callables already broadcast over
      leading axes.

    The game pickles (for subprocess vector envs, multiprocessing) when every callable is a
    module-level function; lambdas and closures do not pickle.

    Raises:
        TypeError: if a payoff or derivative is not callable.
        ValueError: if the bounds are invalid, the name is not CamelCase-like, or a payoff does
            not return a finite real scalar at the centre of the boxes.

    ## Version History
    * v0: initial version.
    """

    #: The callables are NumPy code called on NumPy arrays (every value is checked on the
    #: host), so nothing here traces under JAX: the JAX engine refuses the game by this flag.
    array_api = False

    def __init__(
        self,
        leader_payoff: Callable,
        follower_payoff: Callable,
        leader_low: ArrayLike,
        leader_high: ArrayLike,
        follower_low: ArrayLike,
        follower_high: ArrayLike,
        *,
        leader_grad: Callable | None = None,
        follower_grad: Callable | None = None,
        leader_grad_y: Callable | None = None,
        follower_hess_yy: Callable | None = None,
        follower_hess_yx: Callable | None = None,
        best_response: Callable | None = None,
        mu: float | None = None,
        K2: float | None = None,
        name: str = "Custom",
        vectorized: bool = False,
    ) -> None:
        for nm, fn in (("leader_payoff", leader_payoff), ("follower_payoff", follower_payoff)):
            if not callable(fn):
                raise TypeError(f"{nm} must be callable, got {type(fn).__name__}")
        optional: dict[str, Callable | None] = {
            "leader_grad": leader_grad,
            "follower_grad": follower_grad,
            "leader_grad_y": leader_grad_y,
            "follower_hess_yy": follower_hess_yy,
            "follower_hess_yx": follower_hess_yx,
            "best_response": best_response,
        }
        for nm, opt in optional.items():
            if opt is not None and not callable(opt):
                raise TypeError(f"{nm} must be callable or None, got {type(opt).__name__}")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError(f"name must be a CamelCase identifier such as 'Bargain', got {name!r}")
        if not isinstance(vectorized, bool):
            raise TypeError(f"vectorized must be a bool, got {type(vectorized).__name__}")
        super().__init__(leader_low, leader_high, follower_low, follower_high, mu=mu, K2=K2)
        self.name = name
        self.vectorized = vectorized
        self._f1 = leader_payoff
        self._f2 = follower_payoff
        self._fns = optional
        xc = 0.5 * (self.leader_low + self.leader_high)
        yc = 0.5 * (self.follower_low + self.follower_high)
        for nm, fn in (("leader_payoff", leader_payoff), ("follower_payoff", follower_payoff)):
            try:
                value = fn(xc, yc)
            except Exception as exc:
                raise ValueError(
                    f"{nm} failed at the centre of the boxes (x={xc.tolist()}, "
                    f"y={yc.tolist()}): {exc!r}"
                ) from exc
            if not _is_finite_real_scalar(value):
                raise ValueError(
                    f"{nm} must return a finite real scalar, got {value!r} at the centre of the "
                    f"boxes (x={xc.tolist()}, y={yc.tolist()})"
                )

    def __repr__(self) -> str:
        return f"CustomGame(name={self.name!r}, d1={self.d1}, d2={self.d2})"

    # ------------------------------------------------------------------ evaluation helpers
    def _map(self, name: str, fn: Callable, x, y, tail: tuple[int, ...]) -> np.ndarray:
        """Evaluate the user callable ``name`` on broadcast ``(x, y)``, looping over the batch
        unless the callable is vectorised; the result has shape ``batch + tail``.

        Raises:
            TypeError: if the callable returns something that is not real numbers (a string,
                a boolean, an object).
            ValueError: if it returns the wrong shape (a vectorised callable must return
                ``batch + tail`` exactly: one scalar for a batch is refused, not broadcast) or
                a non-finite value.
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        batch = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        if self.vectorized:
            out = _real_array(name, fn(x, y))
            if out.shape != batch + tail:
                raise ValueError(
                    f"{name} (vectorized=True) must return shape {batch + tail} for x of shape "
                    f"{x.shape} and y of shape {y.shape}, got shape {out.shape}"
                )
        else:
            x = np.broadcast_to(x, batch + x.shape[-1:])
            y = np.broadcast_to(y, batch + y.shape[-1:])
            out = np.empty(batch + tail)
            for idx in np.ndindex(*batch):
                value = _real_array(name, fn(x[idx], y[idx]))
                if value.shape != tail:
                    raise ValueError(
                        f"{name} must return shape {tail} for one pair, got shape "
                        f"{value.shape} at x={x[idx].tolist()}, y={y[idx].tolist()}"
                    )
                out[idx] = value
        if not np.all(np.isfinite(out)):
            idx = np.unravel_index(int(np.argmax(~np.isfinite(out))), out.shape)
            b = idx[: len(batch)]
            xb = np.broadcast_to(x, batch + x.shape[-1:])[b]
            yb = np.broadcast_to(y, batch + y.shape[-1:])[b]
            raise ValueError(
                f"{name} returned {float(out[idx])!r} at x={xb.tolist()}, y={yb.tolist()}; "
                "it must be finite"
            )
        return out

    # ------------------------------------------------------------------ payoffs
    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self._map("leader_payoff", self._f1, x, y, ())

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self._map("follower_payoff", self._f2, x, y, ())

    # ------------------------------------------------------------------ derivatives
    def _given(self, name: str, x, y, tail: tuple[int, ...]) -> np.ndarray:
        fn = self._fns[name]
        assert fn is not None, f"{name} was not given"  # callers check first
        return self._map(name, fn, x, y, tail)

    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self._fns["leader_grad"] is None:
            return super().leader_grad(x, y)
        return self._given("leader_grad", x, y, (self.d1,))

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self._fns["follower_grad"] is None:
            return super().follower_grad(x, y)
        return self._given("follower_grad", x, y, (self.d2,))

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self._fns["leader_grad_y"] is None:
            return super().leader_grad_y(x, y)
        return self._given("leader_grad_y", x, y, (self.d2,))

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self._fns["follower_hess_yy"] is None:
            return super().follower_hess_yy(x, y)
        return self._given("follower_hess_yy", x, y, (self.d2, self.d2))

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self._fns["follower_hess_yx"] is None:
            return super().follower_hess_yx(x, y)
        return self._given("follower_hess_yx", x, y, (self.d2, self.d1))

    def _follower_grad_is_numeric(self) -> bool:
        return self._fns["follower_grad"] is None

    def _leader_grad_is_numeric(self) -> bool:
        return self._fns["leader_grad"] is None

    def _best_response_is_numeric(self) -> bool:
        return self._fns["best_response"] is None

    # ------------------------------------------------------------------ best response
    def best_response(self, x: np.ndarray) -> np.ndarray:
        """``r(x)``: the given callable's answer, checked, or the numeric default.

        Raises:
            ValueError: for a non-finite ``x``; if the callable returns the wrong shape, a
                non-finite value, or a point outside ``Y`` (beyond a rounding tolerance of
                ``1e-9`` of the box's width, within which it is clipped onto ``Y``).
            TypeError: if it returns something that is not real numbers.
        """
        fn = self._fns["best_response"]
        if fn is None:
            return super().best_response(x)
        x = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            raise ValueError(f"best_response needs a finite leader strategy, got {x.tolist()}")
        shape = x.shape[:-1] + (self.d2,)
        if self.vectorized:
            out = _real_array("best_response", fn(x))
            if out.shape != shape:
                raise ValueError(
                    f"best_response (vectorized=True) must return shape {shape} for x of shape "
                    f"{x.shape}, got shape {out.shape}"
                )
        else:
            out = np.empty(shape)
            for idx in np.ndindex(*x.shape[:-1]):
                value = _real_array("best_response", fn(x[idx]))
                if value.shape != (self.d2,):
                    raise ValueError(
                        f"best_response must return shape ({self.d2},) for one x, got shape "
                        f"{value.shape} at x={x[idx].tolist()}"
                    )
                out[idx] = value
        lo, hi = self.follower_low, self.follower_high
        tol = 1e-9 * (hi - lo)
        bad = ~(np.isfinite(out) & (out >= lo - tol) & (out <= hi + tol))
        if bad.any():
            i = np.unravel_index(int(np.argmax(bad)), bad.shape)
            raise ValueError(
                f"best_response returned {out[i[:-1]].tolist()} at x={x[i[:-1]].tolist()}; it "
                f"must be finite and inside Y = [{lo.tolist()}, {hi.tolist()}]"
            )
        return np.clip(out, lo, hi)


def _real_array(name: str, value) -> np.ndarray:
    """``value`` as a float64 array; TypeError naming ``name`` unless it holds real numbers
    (booleans, strings, complex numbers and objects are refused, not converted)."""
    if isinstance(value, bool | np.bool_ | str | bytes):
        raise TypeError(f"{name} must return real numbers, got {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must return real numbers, got {value!r}") from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must return real numbers, got {value!r} (dtype {arr.dtype})")
    return arr.astype(np.float64, copy=False)


def _is_finite_real_scalar(value) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, numbers.Real):
        return bool(np.isfinite(float(value)))
    if isinstance(value, np.ndarray) and value.shape == () and np.isrealobj(value):
        return value.dtype.kind in "iuf" and bool(np.isfinite(value))
    return False
