"""A game from payoff functions written as array code, with exact derivatives by JAX.

JAX is an optional extra (``pip install hic-envs[jax]``): it is imported when an
:class:`ArrayGame` is made, never when this module is, so ``import hic_envs`` works without it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from hic_envs.games import _jaxpr_numpy
from hic_envs.games.base import Game

__all__ = ["ArrayGame"]

_F64 = np.dtype(np.float64)
#: One sum finds any inf or NaN (the ufunc's reduce: about half the cost of ``ndarray.sum``).
_SUM = np.add.reduce
_VDOT = np.vdot
_NAME_RE = re.compile(r"^[A-Za-z][\w.]*$")
_PLAYERS = ("leader", "follower")
_BLOCKS = ("xx", "xy", "yx", "yy")


def _import_jax() -> tuple[Any, Any]:
    """``(jax, jax.numpy)``; ImportError saying how to install them where they are missing."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as err:
        raise ImportError(
            "ArrayGame differentiates its payoffs with JAX, which is not installed; install the "
            "extra with `pip install hic-envs[jax]` (or use CustomGame, which needs no JAX)"
        ) from err
    return jax, jnp


class ArrayGame(Game):
    """A game from your own payoff functions written as array code, with exact derivatives.

    ## Description
    Wraps two payoff functions ``f1(x, y)`` and ``f2(x, y)`` (both players maximise) written with
    ``jax.numpy`` or any array-API code that JAX can trace (``x[0] * y[1]``, ``xp.exp``, ``@``,
    ...), and the players' boxes, into a :class:`~hic_envs.games.Game`. Every derivative the
    library asks for is taken from the functions by JAX's automatic differentiation, exactly
    (to rounding), not by finite differences: gradients, the Hessian blocks and the
    matrix-free Hessian-vector products :meth:`payoff_hvp`. Each function is written for **one**
    strategy pair (``x`` of shape ``(d1,)``, ``y`` of shape ``(d2,)``, returning a scalar); the
    game batches it over any leading axes with ``jax.vmap``.

    Two engines run it:

    * the NumPy engine (and everything else that passes NumPy arrays): arrays are converted at
      the boundary, computed by the traced program written out as NumPy code once per batch
      shape, in float64 (``hic_envs.games._jaxpr_numpy``; a ``jax.jit``-compiled function where
      an operation has no NumPy form there) and returned as float64 NumPy arrays; a
      non-finite result raises ``ValueError``;
    * the JAX engine: given JAX arrays (or tracers) every method stays in JAX, so the engine
      traces the game into its compiled program (``jax_traceable`` is True).

    The best response, the DSE and the Nash equilibrium are the base class's numeric solvers
    (driven by the exact derivatives) unless ``best_response`` is given.

    ## Strategy spaces
    ``X = [leader_low, leader_high]`` and ``Y = [follower_low, follower_high]``, finite boxes.

    ## Payoffs
    Whatever the functions compute; ``f2`` should be strictly concave in ``y`` with an interior
    maximiser (Assumption 4.8) for the numeric best response and DSE to be the true ones.

    ## Arguments
    * ``leader_payoff``, ``follower_payoff`` (callable): ``f1(x, y)`` and ``f2(x, y)`` on one pair.
    * ``leader_low``, ``leader_high``, ``follower_low``, ``follower_high`` (sequence of float):
      the boxes; finite, with ``low < high``.
    * ``best_response`` (callable, optional): ``r(x)`` on one ``x`` (array code, traced like the
      payoffs), returning ``(d2,)``.
    * ``mu``, ``K2`` (float, optional): the constants of Assumption 4.8, if known.
    * ``name`` (str, default ``"ArrayGame"``): CamelCase name, used in environment IDs.

    The game pickles when its functions are module-level functions (the compiled functions
    are rebuilt on unpickling).

    Raises:
        ImportError: without JAX (``pip install hic-envs[jax]``).
        TypeError: if a function is not callable.
        ValueError: if the bounds are invalid, the name is not CamelCase-like, or a payoff does
            not return a finite real scalar at the centre of the boxes.

    ## Version History
    * v0: initial version.
    """

    #: Every method takes JAX arrays and stays in JAX (the JAX engine may trace the game).
    jax_traceable = True

    def __init__(
        self,
        leader_payoff: Callable,
        follower_payoff: Callable,
        leader_low: ArrayLike,
        leader_high: ArrayLike,
        follower_low: ArrayLike,
        follower_high: ArrayLike,
        *,
        best_response: Callable | None = None,
        mu: float | None = None,
        K2: float | None = None,
        name: str = "ArrayGame",
    ) -> None:
        for nm, fn in (("leader_payoff", leader_payoff), ("follower_payoff", follower_payoff)):
            if not callable(fn):
                raise TypeError(f"{nm} must be callable, got {type(fn).__name__}")
        if best_response is not None and not callable(best_response):
            raise TypeError(
                f"best_response must be callable or None, got {type(best_response).__name__}"
            )
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError(f"name must be a CamelCase identifier such as 'Bargain', got {name!r}")
        _import_jax()
        super().__init__(leader_low, leader_high, follower_low, follower_high, mu=mu, K2=K2)
        self.name = name
        self._f1 = leader_payoff
        self._f2 = follower_payoff
        self._br = best_response
        #: The given best response is traced like the payoffs; the default is a SciPy solve.
        self.array_api_best_response = self._br is not None
        self._build()
        xc = 0.5 * (self.leader_low + self.leader_high)
        yc = 0.5 * (self.follower_low + self.follower_high)
        for nm in ("leader_payoff", "follower_payoff"):
            try:
                getattr(self, nm)(xc, yc)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"{nm} failed at the centre of the boxes (x={xc.tolist()}, "
                    f"y={yc.tolist()}): {exc}"
                ) from exc

    def __repr__(self) -> str:
        return f"ArrayGame(name={self.name!r}, d1={self.d1}, d2={self.d2})"

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for key in ("_pair", "_jit", "_fast", "_jax", "_jnp"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._build()

    # ------------------------------------------------------------------ the traced functions
    def _build(self) -> None:
        jax, jnp = _import_jax()
        self._jax, self._jnp = jax, jnp
        f1, f2 = self._f1, self._f2

        def scalar(fn: Callable, nm: str) -> Callable:
            def out(x, y):
                v = jnp.asarray(fn(x, y))
                if v.shape != ():
                    raise ValueError(f"{nm} must return a scalar for one pair, got shape {v.shape}")
                if not jnp.issubdtype(v.dtype, jnp.floating) and not jnp.issubdtype(
                    v.dtype, jnp.integer
                ):
                    raise TypeError(f"{nm} must return real numbers, got dtype {v.dtype}")
                return v.astype(jnp.float64)

            return out

        p1, p2 = scalar(f1, "leader_payoff"), scalar(f2, "follower_payoff")
        payoff = {"leader": p1, "follower": p2}

        def hvp(player: str, block: str) -> Callable:
            a = 0 if block[0] == "x" else 1
            grad_a = jax.grad(payoff[player], argnums=a)
            if block[1] == "x":
                return lambda x, y, v: jax.jvp(lambda u: grad_a(u, y), (x,), (v,))[1]
            return lambda x, y, v: jax.jvp(lambda u: grad_a(x, u), (y,), (v,))[1]

        pair: dict[str, Callable] = {
            "leader_payoff": p1,
            "follower_payoff": p2,
            "payoffs": lambda x, y: (p1(x, y), p2(x, y)),
            "leader_grad": jax.grad(p1, argnums=0),
            "leader_grad_y": jax.grad(p1, argnums=1),
            "follower_grad": jax.grad(p2, argnums=1),
            "follower_grad_x": jax.grad(p2, argnums=0),
            "follower_hess_yy": jax.jacfwd(jax.grad(p2, argnums=1), argnums=1),
            "follower_hess_yx": jax.jacfwd(jax.grad(p2, argnums=1), argnums=0),
            "leader_hess_yx": jax.jacfwd(jax.grad(p1, argnums=1), argnums=0),
        }
        for player in _PLAYERS:
            for block in _BLOCKS:
                pair[f"hvp_{player}_{block}"] = hvp(player, block)
        if self._br is not None:
            br = self._br
            pair["best_response"] = lambda x: jnp.asarray(br(x), dtype=jnp.float64)
        self._pair = pair
        self._jit: dict[tuple, Callable] = {}
        #: the programs of (S, d) inputs, by (name, *shapes): the engines' calls look here first
        self._fast: dict[tuple, Callable] = {}

    def _is_jax(self, *arrays) -> bool:
        return any(isinstance(a, self._jax.Array) for a in arrays)

    def _apply(self, name: str, *args):
        """``self._pair[name]`` over the broadcast leading axes of ``args`` (each ``(..., n)``).

        JAX inputs stay in JAX (traceable); anything else is converted to float64 NumPy, run by
        the compiled vmapped function, and returned as float64 NumPy (ValueError if not finite).
        """
        if len(args) == 2:
            a, b = args
            # The engines' case, seen before: (S, d) float64 arrays of a compiled shape (written
            # out for the two arguments of a pair method: this runs once per stage).
            fast = (
                type(a) is np.ndarray
                and type(b) is np.ndarray
                and a.dtype is _F64
                and b.dtype is _F64
            )
            program = self._fast.get((name, a.shape, b.shape)) if fast else None
        else:
            program = self._fast.get((name, *[getattr(a, "shape", None) for a in args]))
            if not all(type(a) is np.ndarray and a.dtype is _F64 for a in args):
                program = None
        if program is not None:
            out = program(*args)
            for o in out:
                # One sum finds any inf or NaN; only a sum that overflowed is checked entry by
                # entry.
                if not math.isfinite(_SUM(o, axis=None)) and not np.isfinite(o).all():
                    self._not_finite(name, args)
            return out[0] if len(out) == 1 else out
        jax, jnp = self._jax, self._jnp
        if not all(type(a) is np.ndarray for a in args) and self._is_jax(*args):
            arrs = [jnp.asarray(a, dtype=jnp.float64) for a in args]
            batch = np.broadcast_shapes(*(a.shape[:-1] for a in arrs))
            flat = [
                jnp.broadcast_to(a, batch + a.shape[-1:]).reshape(-1, a.shape[-1]) for a in arrs
            ]
            out = jax.vmap(self._pair[name])(*flat)
            return jax.tree_util.tree_map(lambda o: o.reshape(batch + o.shape[1:]), out)
        arrs = [a if a.dtype == np.float64 else a.astype(np.float64) for a in map(np.asarray, args)]
        rows = arrs[0].shape[0] if arrs[0].ndim == 2 else -1
        if rows >= 0 and all(a.ndim == 2 and a.shape[0] == rows for a in arrs):
            # The engines' case, (S, d) arrays: no broadcasting or reshaping to do.
            batch, flat = (rows,), arrs
        else:
            batch = np.broadcast_shapes(*(a.shape[:-1] for a in arrs))
            flat = [np.broadcast_to(a, batch + a.shape[-1:]).reshape(-1, a.shape[-1]) for a in arrs]
        key = (name, *[a.shape for a in flat])
        program = self._jit.get(key)
        if program is None:
            program = self._jit[key] = self._compile(name, flat)
            if len(batch) == 1:
                self._fast[key] = program
        out = program(*flat)
        single = len(out) == 1
        res = []
        for o in out:
            if len(batch) != 1:
                o = o.reshape(batch + o.shape[1:])
            if not math.isfinite(_SUM(o, axis=None)) and not np.isfinite(o).all():
                self._not_finite(name, args)
            res.append(o)
        return res[0] if single else tuple(res)

    def _not_finite(self, name: str, args) -> None:
        raise ValueError(
            f"{self.name}: {name} is not finite at some of the points given "
            f"(first arguments {[np.asarray(a).tolist() for a in args[:2]]})"
        )

    def _compile(
        self, name: str, flat: list[np.ndarray], bound: tuple[int, ...] = (), single: bool = False
    ) -> Any:
        """The vmapped ``self._pair[name]`` for inputs shaped like ``flat``, made once per shape:
        its traced program written out as NumPy where every operation in it has a NumPy form
        (no dispatch cost per call), else the ``jax.jit``-compiled function. With ``bound``,
        the NumPy program split at those inputs (:func:`_jaxpr_numpy.to_numpy`; with
        ``single``, its one output not in a tuple), or None."""
        jax, jnp = self._jax, self._jnp
        fn = jax.vmap(self._pair[name])
        specs = [jax.ShapeDtypeStruct(a.shape, jnp.float64) for a in flat]
        with jax.enable_x64(True):
            closed = jax.make_jaxpr(fn)(*specs)
        program = _jaxpr_numpy.to_numpy(closed, bound, single)
        if program is not None or bound:
            return program
        compiled = jax.jit(fn)

        def run(*arrays):
            with jax.enable_x64(True):
                out = compiled(*arrays)
            return tuple(np.asarray(o, dtype=np.float64) for o in jax.tree_util.tree_leaves(out))

        return run

    # ------------------------------------------------------------------ payoffs
    def leader_payoff(self, x: Any, y: Any) -> Any:
        return self._apply("leader_payoff", x, y)

    def follower_payoff(self, x: Any, y: Any) -> Any:
        return self._apply("follower_payoff", x, y)

    def payoffs(self, x: Any, y: Any) -> tuple[Any, Any]:
        return self._apply("payoffs", x, y)

    # ------------------------------------------------------------------ derivatives (exact)
    def leader_grad(self, x: Any, y: Any) -> Any:
        return self._apply("leader_grad", x, y)

    def follower_grad(self, x: Any, y: Any) -> Any:
        return self._apply("follower_grad", x, y)

    def follower_grad_given(self, x: Any) -> Callable[[Any], Any]:
        """``y -> follower_grad(x, y)``, bit for bit, for one fixed leader action ``x``.

        On the engines' NumPy ``(S, d1)`` float64 ``x`` the traced program is split once per
        shape: the operations that depend on ``x`` alone run here, once per commitment
        interval, and the returned function runs only the rest at each stage (any other ``y``,
        and JAX arrays, go through :meth:`follower_grad`).
        """
        if not (type(x) is np.ndarray and x.dtype is _F64 and x.ndim == 2):
            return super().follower_grad_given(x)
        shape_y = (x.shape[0], self.d2)
        key = ("follower_grad_given", x.shape, shape_y)
        if key in self._jit:
            split = self._jit[key]
        else:
            split = self._jit[key] = self._compile(
                "follower_grad", [x, np.empty(shape_y)], bound=(0,), single=True
            )
        if split is None:  # no NumPy form of the program: the compiled whole
            return super().follower_grad_given(x)
        rest = split(x)
        fallback = self.follower_grad

        def grad(y: Any) -> Any:
            if type(y) is not np.ndarray or y.dtype is not _F64 or y.shape != shape_y:
                return fallback(x, y)
            out = rest(y)
            # |out|^2 is finite unless an entry is inf or NaN (or it overflowed: then every
            # entry is looked at); one BLAS call, cheaper than a sum on small batches.
            if not math.isfinite(_VDOT(out, out)) and not np.isfinite(out).all():
                self._not_finite("follower_grad", (x, y))
            return out

        # The program itself, without the finite check, for a caller that checks what it steps
        # with itself (agents.rules.ascent_steps: one sum per block of stages, not a vdot per
        # stage), on the (S, d2) float64 strategies only (see Game.follower_grad_given).
        grad.unchecked = rest  # type: ignore[attr-defined]
        return grad

    def leader_grad_y(self, x: Any, y: Any) -> Any:
        return self._apply("leader_grad_y", x, y)

    def follower_grad_x(self, x: Any, y: Any) -> Any:
        """``grad_x f2(x, y)``, shape ``(..., d1)``."""
        return self._apply("follower_grad_x", x, y)

    def follower_hess_yy(self, x: Any, y: Any) -> Any:
        h = self._apply("follower_hess_yy", x, y)
        return 0.5 * (h + (np.swapaxes(h, -1, -2) if isinstance(h, np.ndarray) else h.mT))

    def follower_hess_yx(self, x: Any, y: Any) -> Any:
        return self._apply("follower_hess_yx", x, y)

    def leader_hess_yx(self, x: Any, y: Any) -> Any:
        return self._apply("leader_hess_yx", x, y)

    def payoff_hvp(self, player: str, block: str, x: Any, y: Any, v: Any) -> Any:
        """``H v`` with ``H[i, j] = d^2 f_player / da_i db_j`` for ``block = "ab"``, by a
        forward-over-reverse product (no Hessian is formed).

        Args:
            player: ``"leader"`` or ``"follower"``.
            block: ``"xx"``, ``"xy"``, ``"yx"`` or ``"yy"``.
            x: leader strategies ``(..., d1)``.
            y: follower strategies ``(..., d2)``.
            v: directions ``(..., d_b)``.

        Returns:
            ``(..., d_a)``.

        Raises:
            ValueError: for an unknown player or block, or a ``v`` of the wrong last dimension.
        """
        if player not in _PLAYERS:
            raise ValueError(f"player must be one of {_PLAYERS}, got {player!r}")
        if block not in _BLOCKS:
            raise ValueError(f"block must be one of {_BLOCKS}, got {block!r}")
        n = self.d1 if block[1] == "x" else self.d2
        if np.ndim(v) < 1 or np.shape(v)[-1] != n:
            raise ValueError(f"v must have shape (..., {n}) for block {block!r}, got {np.shape(v)}")
        return self._apply(f"hvp_{player}_{block}", x, y, v)

    # ------------------------------------------------------------------ best response
    def best_response(self, x: Any) -> Any:
        if self._br is None:
            return super().best_response(x)
        if not self._is_jax(x) and not np.all(np.isfinite(np.asarray(x, dtype=np.float64))):
            raise ValueError(f"best_response needs a finite leader strategy, got {x!r}")
        out = self._apply("best_response", x)
        if isinstance(out, np.ndarray):
            return np.clip(out, self.follower_low, self.follower_high)
        return self._jnp.clip(out, self.follower_low, self.follower_high)

    def _best_response_is_numeric(self) -> bool:
        return self._br is None
