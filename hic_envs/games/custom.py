"""A game built from user-supplied payoff functions."""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable

import numpy as np

from hic_envs.games.base import Game, _fd_jacobian

__all__ = ["CustomGame"]

_NAME_RE = re.compile(r"^[A-Za-z][\w.]*$")

#: Relative step of the differences used for second derivatives of payoff-only games: for a
#: difference of a difference, ``1e-4`` balances rounding (``eps / h^2``) and truncation
#: (``h^2``) errors at about ``1e-8``, where the first-derivative step ``1e-6`` would leave
#: rounding errors of ``1e-4``.
_SECOND_ORDER_SCALE = 100.0


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

    def __init__(
        self,
        leader_payoff: Callable,
        follower_payoff: Callable,
        leader_low,
        leader_high,
        follower_low,
        follower_high,
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
        optional = {
            "leader_grad": leader_grad,
            "follower_grad": follower_grad,
            "leader_grad_y": leader_grad_y,
            "follower_hess_yy": follower_hess_yy,
            "follower_hess_yx": follower_hess_yx,
            "best_response": best_response,
        }
        for nm, fn in optional.items():
            if fn is not None and not callable(fn):
                raise TypeError(f"{nm} must be callable or None, got {type(fn).__name__}")
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
    def _map(self, fn: Callable, x, y, tail: tuple[int, ...]) -> np.ndarray:
        """Evaluate a user callable on broadcast ``(x, y)``, looping over the batch unless the
        callable is vectorised; the result has shape ``batch + tail``."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        batch = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        if self.vectorized:
            out = np.asarray(fn(x, y), dtype=np.float64)
            return out if out.shape == batch + tail else np.broadcast_to(out, batch + tail).copy()
        x = np.broadcast_to(x, batch + x.shape[-1:])
        y = np.broadcast_to(y, batch + y.shape[-1:])
        out = np.empty(batch + tail)
        for idx in np.ndindex(*batch):
            out[idx] = fn(x[idx], y[idx])
        return out

    # ------------------------------------------------------------------ payoffs
    def leader_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self._map(self._f1, x, y, ())

    def follower_payoff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self._map(self._f2, x, y, ())

    # ------------------------------------------------------------------ derivatives
    def leader_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        fn = self._fns["leader_grad"]
        return super().leader_grad(x, y) if fn is None else self._map(fn, x, y, (self.d1,))

    def follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        fn = self._fns["follower_grad"]
        return super().follower_grad(x, y) if fn is None else self._map(fn, x, y, (self.d2,))

    def leader_grad_y(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        fn = self._fns["leader_grad_y"]
        return super().leader_grad_y(x, y) if fn is None else self._map(fn, x, y, (self.d2,))

    @property
    def _outer_step(self) -> float:
        """Step multiplier of the outer difference of a second derivative."""
        return 1.0 if self._fns["follower_grad"] is not None else _SECOND_ORDER_SCALE

    def _coarse_follower_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``grad_y f2`` with the second-order step when it is itself a difference."""
        if self._fns["follower_grad"] is not None:
            return self.follower_grad(x, y)
        return _fd_jacobian(
            lambda z: self.follower_payoff(x, z), y, self._y_scale * _SECOND_ORDER_SCALE
        )

    def follower_hess_yy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        fn = self._fns["follower_hess_yy"]
        if fn is not None:
            return self._map(fn, x, y, (self.d2, self.d2))
        x, y = self._broadcast(x, y)
        scale = self._y_scale * self._outer_step
        h = _fd_jacobian(lambda z: self._coarse_follower_grad(x, z), y, scale)
        return 0.5 * (h + np.swapaxes(h, -1, -2))

    def follower_hess_yx(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        fn = self._fns["follower_hess_yx"]
        if fn is not None:
            return self._map(fn, x, y, (self.d2, self.d1))
        x, y = self._broadcast(x, y)
        scale = self._x_scale * self._outer_step
        return _fd_jacobian(lambda z: self._coarse_follower_grad(z, y), x, scale)

    # ------------------------------------------------------------------ best response
    def best_response(self, x: np.ndarray) -> np.ndarray:
        fn = self._fns["best_response"]
        if fn is None:
            return super().best_response(x)
        x = np.asarray(x, dtype=np.float64)
        if self.vectorized:
            out = np.asarray(fn(x), dtype=np.float64)
            shape = x.shape[:-1] + (self.d2,)
            return out if out.shape == shape else np.broadcast_to(out, shape).copy()
        out = np.empty(x.shape[:-1] + (self.d2,))
        for idx in np.ndindex(*x.shape[:-1]):
            out[idx] = fn(x[idx])
        return out


def _is_finite_real_scalar(value) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, numbers.Real):
        return bool(np.isfinite(value))
    if isinstance(value, np.ndarray) and value.shape == () and np.isrealobj(value):
        return value.dtype.kind in "iuf" and bool(np.isfinite(value))
    return False
