"""A traced JAX program (a jaxpr) as straight-line NumPy code (not part of the public API).

:class:`~hic_envs.games.ArrayGame` traces its payoffs and their derivatives with JAX once per
batch shape. A call into a compiled JAX function costs tens of microseconds of dispatch, more
than the whole stage of a small game in the NumPy engine; the same program written out as
NumPy statements (one per equation of the jaxpr, dead equations dropped) costs about a
microsecond per operation. :func:`to_numpy` writes that program when every primitive in it has
a NumPy form below, and returns None otherwise (the caller then keeps the JAX function).

``vmap`` moves each pair's arrays between ``(S, d)`` and ``(S,)`` shapes with reshapes (a
NumPy call each, as many as the arithmetic in a small game's gradient); the writer holds a
pure reshape's output as its operand and runs element-wise operations on the arrays as held
(the same entries in C order, so the same values), reshaping only where an operation reads
a shape (a contraction, a reduction, an output).

This module does not import JAX: it reads the jaxpr's public attributes (``eqns``,
``primitive.name``, ``params``, ``invars``, ``outvars``, ``aval``, a literal's ``val``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["to_numpy"]

_BINARY = {
    "add": "({0} + {1})",
    "add_any": "({0} + {1})",
    "sub": "({0} - {1})",
    "mul": "({0} * {1})",
    "div": "({0} / {1})",
    "max": "np.maximum({0}, {1})",
    "min": "np.minimum({0}, {1})",
    "pow": "np.power({0}, {1})",
    "atan2": "np.arctan2({0}, {1})",
    "lt": "({0} < {1})",
    "le": "({0} <= {1})",
    "gt": "({0} > {1})",
    "ge": "({0} >= {1})",
    "eq": "({0} == {1})",
    "ne": "({0} != {1})",
    "and": "({0} & {1})",
    "or": "({0} | {1})",
}
_UNARY = {
    "neg": "(-{0})",
    "exp": "np.exp({0})",
    "log": "np.log({0})",
    "log1p": "np.log1p({0})",
    "expm1": "np.expm1({0})",
    "tanh": "np.tanh({0})",
    "sin": "np.sin({0})",
    "cos": "np.cos({0})",
    "tan": "np.tan({0})",
    "sqrt": "np.sqrt({0})",
    "rsqrt": "(1.0 / np.sqrt({0}))",
    "abs": "np.abs({0})",
    "sign": "np.sign({0})",
    "square": "({0} * {0})",
    "logistic": "(1.0 / (1.0 + np.exp(-{0})))",
    "not": "np.logical_not({0})",
    "copy": "{0}",
    "copy_p": "{0}",
    "stop_gradient": "{0}",
    "floor": "np.floor({0})",
    "ceil": "np.ceil({0})",
}
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: Write ``a + (-b)`` as ``a - b`` (:func:`to_numpy`; off only to test that it changes no bit).
FUSE_NEGATED_SUMS = True
#: Write no statement for a pure reshape: element-wise operations run on the array as it is
#: held, and it is reshaped only where an operation reads its shape (:func:`to_numpy`; off only
#: to test that it changes no bit).
ELIDE_RESHAPES = True
#: Element-wise primitives besides ``_BINARY`` and ``_UNARY`` (their values do not depend on the
#: operands' shapes, only on the entries in C order).
_ELEMENTWISE = {"integer_pow", "convert_element_type", "select_n"}
#: Unary primitives that return their operand (no new array).
_PASS = {"copy", "copy_p", "stop_gradient"}
#: Primitives that compute a new array.
_COMPUTED = {
    "integer_pow",
    "pad",
    "reduce_sum",
    "reduce_max",
    "reduce_min",
    "reduce_prod",
    "dot_general",
    "concatenate",
    "select_n",
}
#: Primitives that return a view of their operand (fresh when the operand is).
_VIEWS = {"squeeze", "reshape", "expand_dims", "transpose", "slice", "split"}


def _dot_general(params: dict, lhs_nd: int, rhs_nd: int) -> str:
    """An ``np.einsum`` subscript string for ``dot_general``'s dimension numbers."""
    (lc, rc), (lb, rb) = params["dimension_numbers"]
    letters = iter(_LETTERS)
    lhs = [""] * lhs_nd
    rhs = [""] * rhs_nd
    batch, contract = [], []
    for i, j in zip(lb, rb, strict=True):
        c = next(letters)
        lhs[i] = rhs[j] = c
        batch.append(c)
    for i, j in zip(lc, rc, strict=True):
        c = next(letters)
        lhs[i] = rhs[j] = c
        contract.append(c)
    free_l = [i for i in range(lhs_nd) if not lhs[i]]
    free_r = [j for j in range(rhs_nd) if not rhs[j]]
    for i in free_l:
        lhs[i] = next(letters)
    for j in free_r:
        rhs[j] = next(letters)
    out = batch + [lhs[i] for i in free_l] + [rhs[j] for j in free_r]
    return f"{''.join(lhs)},{''.join(rhs)}->{''.join(out)}"


def _pad(x, value, shape: tuple, where: tuple) -> np.ndarray:
    """``lax.pad`` without interior padding: ``x`` placed at ``where`` in a ``shape`` array of
    ``value``."""
    out = np.full(shape, value, dtype=np.result_type(x, value))
    out[where] = x
    return out


def _reshape(name: str, shape) -> str:
    if name.isidentifier():  # an array variable: its method is the cheapest call
        return f"{name}.reshape({tuple(shape)!r})"
    return f"np.reshape({name}, {tuple(shape)!r})"


def _statement(prim: str, params: dict, ins: list[str], in_shapes: list, out_shape) -> str | None:
    """The NumPy expression of one equation, or None where the primitive has none here."""
    if prim in _BINARY:
        return _BINARY[prim].format(*ins)
    if prim in _UNARY:
        return _UNARY[prim].format(*ins)
    if prim == "integer_pow":
        return f"({ins[0]} ** {int(params['y'])})"
    if prim in ("squeeze", "reshape", "expand_dims"):
        return _reshape(ins[0], out_shape)
    if prim == "broadcast_in_dim":
        dims = params["broadcast_dimensions"]
        tmp = [1] * len(out_shape)
        for k, dim in enumerate(dims):
            tmp[dim] = in_shapes[0][k]
        if tuple(tmp) == tuple(out_shape):  # only new unit axes: a reshape
            return _reshape(ins[0], out_shape)
        return f"np.broadcast_to(np.reshape({ins[0]}, {tuple(tmp)!r}), {tuple(out_shape)!r})"
    if prim == "convert_element_type":
        return f"np.asarray({ins[0]}, dtype=np.{np.dtype(params['new_dtype']).name})"
    if prim == "slice":
        strides = params.get("strides") or (1,) * len(params["start_indices"])
        idx = ", ".join(
            f"{a}:{b}:{s}"
            for a, b, s in zip(
                params["start_indices"], params["limit_indices"], strides, strict=True
            )
        )
        return f"{ins[0]}[{idx}]"
    if prim in ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod"):
        fn = {"reduce_sum": "sum", "reduce_max": "max", "reduce_min": "min", "reduce_prod": "prod"}
        return f"np.{fn[prim]}({ins[0]}, axis={tuple(params['axes'])!r})"
    if prim == "dot_general":
        if params.get("preferred_element_type") not in (None, np.dtype("float64")):
            return None
        spec = _dot_general(params, len(in_shapes[0]), len(in_shapes[1]))
        return f"np.einsum({spec!r}, {ins[0]}, {ins[1]})"
    if prim == "transpose":
        return f"np.transpose({ins[0]}, {tuple(params['permutation'])!r})"
    if prim == "concatenate":
        return f"np.concatenate([{', '.join(ins)}], axis={int(params['dimension'])})"
    if prim == "pad":
        config = params["padding_config"]
        if any(lo < 0 or hi < 0 or interior != 0 for lo, hi, interior in config):
            return None
        where = tuple(slice(lo, lo + n) for (lo, _, _), n in zip(config, in_shapes[0], strict=True))
        return f"_pad({ins[0]}, {ins[1]}, {tuple(out_shape)!r}, {where!r})"
    if prim == "select_n" and len(ins) == 3:
        return f"np.where({ins[0]}, {ins[2]}, {ins[1]})"
    if prim == "iota":  # autodiff's identity seeds (jacfwd): a constant of the trace
        dtype = np.dtype(params["dtype"])
        if dtype.kind not in "iuf":
            return None
        dim, shape = int(params["dimension"]), tuple(out_shape)
        axis = tuple(n if k == dim else 1 for k, n in enumerate(shape))
        return (
            f"np.broadcast_to(np.arange({shape[dim]}, dtype=np.{dtype.name}).reshape({axis!r}), "
            f"{shape!r})"
        )
    if prim == "split" and len(params["sizes"]) == 1:  # one piece: the operand itself
        return ins[0]
    return None


def _shape_of(v) -> tuple:
    return tuple(getattr(v.aval, "shape", ()))


def _is_reshape(eqn: Any, in_shape: tuple) -> bool:
    """Whether ``eqn`` only reshapes its one operand (the statement ``_reshape`` writes)."""
    prim, out_shape = eqn.primitive.name, tuple(eqn.outvars[0].aval.shape)
    if prim in ("squeeze", "reshape", "expand_dims"):
        return len(eqn.invars) == 1 or prim != "reshape"
    if prim == "broadcast_in_dim" and len(eqn.invars) == 1:
        tmp = [1] * len(out_shape)
        for k, dim in enumerate(eqn.params["broadcast_dimensions"]):
            tmp[dim] = in_shape[k]
        return tuple(tmp) == out_shape
    return False


def to_numpy(
    closed_jaxpr: Any, bound: tuple[int, ...] = (), single: bool = False
) -> Callable | None:
    """The program of ``closed_jaxpr`` as a NumPy function of its inputs, or None.

    The function takes NumPy arrays of the jaxpr's input shapes and returns a tuple of float64
    NumPy arrays of its output shapes (fresh, writeable). None where an equation has no NumPy
    form here (a nested call, a gather, a loop, a custom rule), or its dtypes are not float64,
    bool or integer.

    With ``bound`` (input positions), the result is a function of those inputs that returns
    the program of the others: the equations that depend on the bound inputs alone run once,
    when it is called, and the returned program runs only the rest. The values are those of
    the whole program bit for bit (the same operations on the same operands, split in two).

    With ``single`` (for a program of one output), the function returns that array itself, not
    a tuple of it.
    """
    jaxpr = closed_jaxpr.jaxpr
    names: dict[int, str] = {}
    env: dict[str, Any] = {"np": np, "_pad": _pad}

    def is_literal(v) -> bool:
        return type(v).__name__ == "Literal"

    literals: dict[tuple, str] = {}

    def ref(v) -> str:
        if is_literal(v):
            val = np.asarray(v.val)
            if val.ndim == 0 and np.isfinite(val) and val.dtype != np.float64:
                return repr(val.item())
            # A float64 number as a 0-d float64 array: the same operation on the same float64
            # operands (so the same bits), and about half the cost of a Python float, which
            # NumPy converts at every call (0.86 against 1.65 us for ``a - c`` on 32 entries,
            # NumPy 2.4). Other dtypes keep Python numbers (their weak promotion).
            # One name per value (dtype, shape and bits), so that the same operation on the same
            # number is written once (``seen`` below): autodiff repeats a payoff's constants.
            same = (val.dtype.str, val.shape, val.tobytes())
            key = literals.get(same)
            if key is None:
                key = literals[same] = f"lit{len(env)}"
                env[key] = val.astype(np.float64) if val.dtype == np.float64 else val
            return key
        return names[id(v)]

    #: the shape of the array each name holds (a pure reshape's output is held as its operand)
    held: dict[str, tuple] = {}

    def ref_as(v, shape: tuple | None = None) -> str:
        """``v``'s array in ``shape`` (default: its own): a reshape where it is held in
        another."""
        name = ref(v)
        shape = _shape_of(v) if shape is None else shape
        if is_literal(v) or held.get(name, shape) == shape:
            return name
        return _reshape(name, shape)

    def is_one(v) -> bool:
        return is_literal(v) and np.ndim(v.val) == 0 and float(np.asarray(v.val)) == 1.0

    for k, v in enumerate(jaxpr.invars):
        names[id(v)] = f"in{k}"
        held[f"in{k}"] = _shape_of(v)
    for k, (v, c) in enumerate(zip(jaxpr.constvars, closed_jaxpr.consts, strict=True)):
        names[id(v)] = f"const{k}"
        env[f"const{k}"] = np.asarray(c)
        held[f"const{k}"] = np.shape(env[f"const{k}"])
    # Dead-code elimination: keep the equations some output depends on.
    needed = {id(v) for v in jaxpr.outvars if not is_literal(v)}
    keep = []
    for eqn in reversed(jaxpr.eqns):
        if any(id(o) in needed for o in eqn.outvars):
            keep.append(eqn)
            needed.update(id(v) for v in eqn.invars if not is_literal(v))
    keep.reverse()
    # a + (-b) and (-b) + a are a - b exactly (IEEE negation is exact, and addition of the
    # negation is how subtraction is defined): autodiff's sums of negated terms (through
    # reshapes that only move unit axes) become one subtraction, and a negation (or reshape
    # of one) read only there is not computed.
    negated: dict[int, tuple[Any, tuple | None]] = {}  # var -> (b, shape to reshape b to)
    for e in keep if FUSE_NEGATED_SUMS else ():
        out = e.outvars[0] if len(e.outvars) == 1 else None
        if out is None or np.dtype(out.aval.dtype).kind != "f" or is_literal(e.invars[0]):
            continue
        if e.primitive.name == "neg":
            negated[id(out)] = (e.invars[0], None)
        elif id(e.invars[0]) in negated and _is_reshape(e, _shape_of(e.invars[0])):
            negated[id(out)] = (negated[id(e.invars[0])][0], tuple(out.aval.shape))
    fused: dict[int, tuple[Any, Any]] = {}  # add's output -> (kept operand, negated operand)
    uses: dict[int, int] = {id(v): 1 for v in jaxpr.outvars if not is_literal(v)}
    for e in keep:
        for v in e.invars:
            if not is_literal(v):
                uses[id(v)] = uses.get(id(v), 0) + 1
        if e.primitive.name in ("add", "add_any") and len(e.invars) == 2:
            a, b = e.invars
            same = all(
                not is_literal(v) and _shape_of(v) == _shape_of(e.outvars[0]) for v in (a, b)
            )
            if same and id(b) in negated:
                fused[id(e.outvars[0])] = (a, b)
            elif same and id(a) in negated:
                fused[id(e.outvars[0])] = (b, a)
    unread: dict[int, int] = {}  # var -> its reads that fused additions or skips replace
    for _, neg in fused.values():
        unread[id(neg)] = unread.get(id(neg), 0) + 1
    skipped: set[int] = set()
    for e in reversed(keep):  # a chain's last link first
        out = e.outvars[0]
        if id(out) in negated and unread.get(id(out), 0) == uses.get(id(out), 0):
            skipped.add(id(out))
            src = e.invars[0]
            unread[id(src)] = unread.get(id(src), 0) + 1
    # The variables computable from the bound inputs alone (with constants and literals).
    early = {id(jaxpr.invars[k]) for k in bound}
    early.update(id(v) for v in jaxpr.constvars)
    head: list[str] = []
    seen: dict[str, str] = {}  # statement -> the variable that holds it
    lines = []
    fresh: set[int] = set()  # variables holding arrays the program made itself
    for n, eqn in enumerate(keep):
        if len(eqn.outvars) != 1:
            return None
        out = eqn.outvars[0]
        if np.dtype(out.aval.dtype).kind not in "fbiu":
            return None
        if id(out) in skipped:  # a negation (or its reshape) read only by fused additions
            if id(eqn.invars[0]) in early:
                early.add(id(out))
            continue
        if eqn.primitive.name == "mul" and len(eqn.invars) == 2:
            a, b = eqn.invars
            # x * 1.0 is x exactly (autodiff's seed of ones): no operation.
            src_var = b if is_one(a) else a if is_one(b) else None
            if (
                src_var is not None
                and not is_literal(src_var)
                and _shape_of(src_var) == _shape_of(out)
                and np.dtype(src_var.aval.dtype) == np.dtype(out.aval.dtype)
            ):
                names[id(out)] = names[id(src_var)]
                if id(src_var) in early:
                    early.add(id(out))
                continue
        in_shapes = [tuple(getattr(v.aval, "shape", ())) for v in eqn.invars]
        prim, out_shape = eqn.primitive.name, _shape_of(out)
        if (
            ELIDE_RESHAPES
            and len(eqn.invars) == 1
            and not is_literal(eqn.invars[0])
            and _is_reshape(eqn, in_shapes[0])
        ):
            # A pure reshape (the same entries in C order): its operand's array, reshaped only
            # where an operation reads the shape (ref_as).
            src_var = eqn.invars[0]
            names[id(out)] = names[id(src_var)]
            if id(src_var) in early:
                early.add(id(out))
            if id(src_var) in fresh:
                fresh.add(id(out))
            continue
        expr: str | None
        # An element-wise operation whose operands are held in one shape (and literals are
        # numbers) runs on them as held: the same entries in the same order, so the same bits.
        operands: list = []
        if id(out) in fused:
            operands = [fused[id(out)][0], negated[id(fused[id(out)][1])][0]]
        elif prim in _BINARY or prim in _UNARY or prim in _ELEMENTWISE:
            operands = list(eqn.invars)
        arrays = [v for v in operands if not is_literal(v)]
        shapes = {held[names[id(v)]] for v in arrays}
        as_held = (
            ELIDE_RESHAPES
            and bool(arrays)
            and len(shapes) == 1
            and all(np.ndim(v.val) == 0 for v in operands if is_literal(v))
            and all(math.prod(_shape_of(v)) == math.prod(out_shape) for v in arrays)
        )
        shape_out = next(iter(shapes)) if as_held else out_shape
        if id(out) in fused:
            kept, neg = fused[id(out)]
            src, _ = negated[id(neg)]
            if as_held:
                expr = f"({ref(kept)} - {ref(src)})"
            else:
                expr = f"({ref_as(kept)} - {ref_as(src, out_shape)})"
        else:
            ins = [ref(v) if as_held else ref_as(v) for v in eqn.invars]
            expr = _statement(prim, eqn.params, ins, in_shapes, out.aval.shape)
        if expr is None:
            return None
        if expr in seen:
            # The same expression of the same variables (every statement here is pure): its
            # value again, no operation (autodiff repeats reshapes of an input, for one).
            names[id(out)] = seen[expr]
            continue
        seen[expr] = f"v{n}"
        names[id(out)] = f"v{n}"
        held[f"v{n}"] = tuple(shape_out)
        if bound and all(is_literal(v) or id(v) in early for v in eqn.invars):
            early.add(id(out))
            head.append(f"    v{n} = {expr}")
        else:
            lines.append(f"    v{n} = {expr}")
        if prim in _BINARY or (prim in _UNARY and prim not in _PASS) or prim in _COMPUTED:
            fresh.add(id(out))
        elif prim in _VIEWS and all(id(v) in fresh for v in eqn.invars if not is_literal(v)):
            fresh.add(id(out))
    outs = []
    returned: set[str] = set()
    for v in jaxpr.outvars:
        shape = tuple(v.aval.shape)
        if (
            id(v) in fresh
            and id(v) not in early  # computed once and shared by every call: copied
            and ref(v) not in returned  # one array is never two outputs
            and _shape_of(v) == shape
            and np.dtype(v.aval.dtype) == np.float64
        ):
            # An array this program made (not a view of an input or a constant): no copy (a
            # reshape of it where it is held in another shape).
            outs.append(ref_as(v))
            returned.add(ref(v))
            continue
        same = not is_literal(v) and _shape_of(v) == shape
        value = ref_as(v) if same else f"np.broadcast_to({ref(v)}, {shape!r})"
        outs.append(f"np.array({value}, dtype=np.float64)")
    free = [k for k in range(len(jaxpr.invars)) if k not in bound]
    args = ", ".join(f"in{k}" for k in free)
    if single and len(outs) == 1:
        body = "\n".join(lines) + f"\n    return {outs[0]}\n"
    else:
        body = "\n".join(lines) + f"\n    return ({', '.join(outs)},)\n"
    if bound:
        inner = "\n".join("    " + line for line in body.rstrip("\n").split("\n"))
        src = (
            f"def program({', '.join(f'in{k}' for k in bound)}):\n"
            + "".join(line + "\n" for line in head)
            + f"    def rest({args}):\n{inner}\n    return rest\n"
        )
    else:
        src = f"def program({args}):\n" + body
    exec(compile(src, "<ArrayGame NumPy program>", "exec"), env)  # noqa: S102
    program = env["program"]
    program.source = src
    return program
