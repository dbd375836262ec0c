"""How the JAX engine's loops compile on XLA's CPU backend (issue 18): small matrix products
as element-wise code, and the small-loop threshold.

XLA's CPU compiler hands every ``dot_general`` to a library kernel (YNNPACK, or Eigen): a
call out of the compiled loop, with a fixed cost far above the arithmetic of a ``(32, 4) @
(4, 4)`` product, which also keeps the loop from compiling to one native function. A game's
gradient with a matrix in it (``RandomQuadraticGame``: ``-(y @ H) + x @ G.T + h``) then cost
12x more per seed-stage at ``d = 4`` than at ``d = 1``.

:func:`small_dots` traces a function to a jaxpr and evaluates it again with each product
whose contraction is short (at most :data:`MAX_CONTRACTION` terms) written as that many
multiply-adds of whole arrays, ``a[..., k, None] * B[k]`` summed over ``k`` in order: XLA
fuses them with the element-wise code around them. The game's own code is not touched; only
how its products are lowered changes (their rounding may differ from the library kernel's by
an ulp, as XLA's and OpenBLAS's already do). Products with batch dimensions, a contraction
not on the last axis of the left operand, or a long contraction are bound as they were.

XLA's CPU compiler runs a while loop as one native function only when it touches few bytes
(``xla_cpu_small_while_loop_byte_threshold``, 1 KB by default); otherwise each operation of
the loop body is a separate call into the runtime, which at a small batch costs more than the
arithmetic. :func:`start_backends` (called when either JAX loop's module is imported) raises
that threshold to :data:`SMALL_LOOP_BYTES` for the process's CPU backend, through
``XLA_FLAGS``, read once when JAX starts its backends; the variable is restored right after.
It also asks for vectors of :data:`VECTOR_BITS` bits (``xla_cpu_prefer_vector_width``; XLA's
default is 256): on a CPU with AVX-512 a stage over 32 float64 rows then takes half the
vector instructions (``docs/results/speed.md`` measures the generic loop with it); on a CPU
without it the compiler keeps the widths it has. If
JAX's backends were started before, or ``XLA_FLAGS`` already sets
``xla_backend_extra_options``, nothing is changed (a ``xla_cpu_prefer_vector_width`` of your
own is kept).

This module imports JAX; only the JAX engine imports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jax
from jax.extend import core as jcore

__all__ = ["MAX_CONTRACTION", "SMALL_LOOP_BYTES", "VECTOR_BITS", "small_dots", "start_backends"]

#: ``xla_cpu_small_while_loop_byte_threshold`` asked for (see the module docstring).
SMALL_LOOP_BYTES = 1_000_000


#: ``xla_cpu_prefer_vector_width`` asked for, in bits (see the module docstring).
VECTOR_BITS = 512

#: The JAX releases (major, minor), from and before, with which :data:`VECTOR_BITS` is asked
#: for: the series it was measured and tested with. An XLA that does not know a flag aborts
#: the process, so neither an older nor a newer XLA is given it (they keep XLA's default width).
VECTOR_BITS_SINCE = (0, 10)
VECTOR_BITS_BEFORE = (0, 11)


def start_backends() -> None:
    """Start JAX's backends with the small-loop threshold raised and the vector width
    preferred (once per process; see the module docstring)."""
    flags = os.environ.get("XLA_FLAGS")
    if flags is not None and "xla_backend_extra_options" in flags:
        return  # the user's own choice
    option = (
        f"--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold={SMALL_LOOP_BYTES}"
    )
    # An XLA_FLAGS entry the XLA of this jaxlib does not know aborts the process: the flag is
    # asked for only in the JAX series it was measured and tested with.
    version = tuple(getattr(jax, "__version_info__", (0, 0))[:2])
    if (
        flags is None or "xla_cpu_prefer_vector_width" not in flags
    ) and VECTOR_BITS_SINCE <= version < VECTOR_BITS_BEFORE:
        option += f" --xla_cpu_prefer_vector_width={VECTOR_BITS}"
    os.environ["XLA_FLAGS"] = f"{flags} {option}" if flags else option
    try:
        jax.devices()  # parses XLA_FLAGS; a no-op if the backends were started before
    finally:
        if flags is None:
            del os.environ["XLA_FLAGS"]
        else:
            os.environ["XLA_FLAGS"] = flags


#: The longest contraction written out as multiply-adds (longer ones keep the library kernel).
MAX_CONTRACTION = 16


def _unrolled(lhs: Any, rhs: Any, params: dict, out_dtype: Any) -> Any | None:
    """``dot_general(lhs, rhs)`` as multiply-adds, or None where that form does not apply."""
    (lc, rc), (lb, rb) = params["dimension_numbers"]
    if lb or rb or len(lc) != 1 or lc[0] != lhs.ndim - 1 or rhs.ndim not in (1, 2):
        return None
    K = lhs.shape[-1]
    if K > MAX_CONTRACTION or K == 0:
        return None
    if rhs.ndim == 2:
        Bk = rhs if rc[0] == 0 else rhs.T  # (K, N)
        out = lhs[..., 0:1] * Bk[0]
        for k in range(1, K):
            out = out + lhs[..., k : k + 1] * Bk[k]
    else:
        out = lhs[..., 0] * rhs[0]
        for k in range(1, K):
            out = out + lhs[..., k] * rhs[k]
    return out.astype(out_dtype)


def _eval(jaxpr: Any, consts: list, args: list) -> list:
    env: dict = {}

    def read(v: Any) -> Any:
        return v.val if isinstance(v, jcore.Literal) else env[v]

    for v, a in zip(jaxpr.constvars, consts, strict=True):
        env[v] = a
    for v, a in zip(jaxpr.invars, args, strict=True):
        env[v] = a
    for eqn in jaxpr.eqns:
        invals = [read(v) for v in eqn.invars]
        out = None
        if eqn.primitive is jax.lax.dot_general_p:
            r = _unrolled(*invals, eqn.params, eqn.outvars[0].aval.dtype)  # type: ignore[call-arg]
            out = None if r is None else [r]
        elif eqn.primitive.name in ("jit", "pjit"):  # a jitted helper (jnp.matmul is one)
            inner = eqn.params["jaxpr"]
            out = _eval(inner.jaxpr, inner.consts, invals)
        if out is None:
            # As jax's eval_jaxpr binds (older JAX returns the sub-functions apart).
            params = eqn.primitive.get_bind_params(eqn.params)
            subfuns, params = params if isinstance(params, tuple) else ((), params)
            out = eqn.primitive.bind(*subfuns, *invals, **params)
            if not eqn.primitive.multiple_results:
                out = [out]
        for v, o in zip(eqn.outvars, out, strict=True):
            env[v] = o
    return [read(v) for v in jaxpr.outvars]


def small_dots(fn: Callable) -> Callable:
    """``fn`` (a function of arrays returning a pytree of arrays) with its short matrix
    products written as multiply-adds; for use inside ``jax.jit``."""

    def wrapped(*args: Any) -> Any:
        closed, shape = jax.make_jaxpr(fn, return_shape=True)(*args)
        flat = _eval(closed.jaxpr, closed.consts, jax.tree.leaves(args))
        return jax.tree.unflatten(jax.tree.structure(shape), flat)

    return wrapped
