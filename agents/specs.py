"""Typed option values and their text forms, in one place.

A learner declares its options as a frozen dataclass with a docstring under each field (see
:mod:`agents.catalog`). A field's type says what it takes; the schedule options are annotated
with their parser (:data:`ScheduleValue`, :data:`CommitmentValue`), so every form the options
arrive in (a ``hic run`` flag, a sweep file's YAML value, a Python value) goes through
:func:`coerce` and ends up as the same typed value, and :func:`to_text` writes it back in the
one text form (results files, run-directory names).

Text forms: ``"0.01"`` is a constant; ``"power:a=0.001,gamma=0.1[,A=0]"`` a
:class:`~agents.schedules.PowerLaw`; ``"log:a=1[,base=2.718]"`` a
:class:`~agents.schedules.Logarithmic`; commitments also take a whole number of stages,
``"corollary:p=1[,beta=..,mu=..,B=..]"`` (:class:`Corollary`, Corollary 4.11's Eq. 28 fitted to
the game when the learner is built) and ``"adaptive:tol=0.01,min_length=2,max_length=10000"``
(:class:`~agents.hic.AdaptiveCommitment`).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import json
import math
import numbers
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import numpy as np

from agents import schedules
from agents.hic import AdaptiveCommitment
from hic_envs.games.base import Game
from hic_envs.suggest import did_you_mean

__all__ = [
    "SCHEDULE_HELP",
    "Ceil",
    "CommitmentValue",
    "Corollary",
    "Parser",
    "ScheduleValue",
    "build_options",
    "coerce",
    "field_docs",
    "option_fields",
    "options_to_text",
    "parse_commitment",
    "parse_schedule",
    "resolve_commitment",
    "to_text",
]

#: One line of help for a schedule option.
SCHEDULE_HELP = (
    "a number (constant) or 'power:a=A,gamma=G[,A=OFFSET]' for a/(n+1+OFFSET)^G, "
    "'log:a=A[,base=B]' for a/log(n+B)"
)

_SCHEDULES: dict[str, type] = {
    "constant": schedules.Constant,
    "power": schedules.PowerLaw,
    "log": schedules.Logarithmic,
}


@dataclasses.dataclass(frozen=True)
class Ceil(schedules.Schedule):
    """A schedule rounded up to whole stages (a commitment given as a power or log law)."""

    inner: Any

    def __call__(self, n):
        return np.ceil(self.inner(n))


@dataclasses.dataclass(frozen=True)
class Corollary:
    """Corollary 4.11's commitment (Eq. 28), fitted to the game when the learner is built.

    Attributes:
        p: the exponent ``p`` of Eq. (28).
        beta: the follower's constant step (default: the follower's, when it is constant).
        mu: the follower's strong concavity (default: the game's).
        B: the diameter of the follower's box (default: the game's).
    """

    p: float = 1.0
    beta: float | None = None
    mu: float | None = None
    B: float | None = None


def _fields(spec: str, option: str) -> tuple[str, dict[str, float]]:
    kind, _, rest = spec.partition(":")
    fields: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, val = item.partition("=")
        if not eq:
            raise ValueError(f"{option} {spec!r}: expected key=value, got {item!r}")
        try:
            fields[key.strip()] = float(val)
        except ValueError:
            msg = f"{option} {spec!r}: {key.strip()} must be a number, got {val!r}"
            raise ValueError(msg) from None
    return kind.strip().lower(), fields


def _make(cls: Callable, fields: dict[str, Any], option: str, spec: Any) -> Any:
    """``cls(**fields)``; a field the class does not have, or one it needs and the spec lacks,
    is named with the class's fields (and the nearest one to a misspelling)."""
    if dataclasses.is_dataclass(cls):
        known = [f.name for f in dataclasses.fields(cls) if f.init]
        unknown = [k for k in fields if k not in known]
        if unknown:
            raise ValueError(
                f"{option} {spec!r}: unknown field(s) {unknown}; expected {', '.join(known)}"
                + did_you_mean(unknown[0], known)
            )
        needed = [
            f.name
            for f in dataclasses.fields(cls)
            if f.init and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING and f.name not in fields
        ]  # fmt: skip
        if needed:
            raise ValueError(
                f"{option} {spec!r}: missing field(s) {needed}; give them as NAME=VALUE"
            )
    try:
        return cls(**fields)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{option} {spec!r}: {err}") from None


def parse_schedule(spec: Any, option: str = "schedule") -> Any:
    """A schedule from a number, a spec string or a schedule (returned as it is).

    ``"0.01"`` or ``0.01`` is a constant (a float); ``"power:a=0.001,gamma=0.1[,A=0]"`` is
    :class:`~agents.schedules.PowerLaw`; ``"log:a=1[,base=2.718]"`` is
    :class:`~agents.schedules.Logarithmic`; ``"constant:value=0.1"`` a constant.

    Raises:
        ValueError: naming ``option`` and the bad spec.
    """
    if isinstance(spec, schedules.Schedule) or (callable(spec) and not isinstance(spec, type)):
        return spec
    if isinstance(spec, numbers.Real) and not isinstance(spec, bool):
        value = float(spec)
    elif isinstance(spec, str) and ":" not in spec:
        try:
            value = float(spec)
        except ValueError:
            raise ValueError(
                f"{option} must be a number or a schedule like 'power:a=0.01,gamma=0.6', "
                f"got {spec!r}"
            ) from None
    elif isinstance(spec, str):
        kind, fields = _fields(spec, option)
        if kind not in _SCHEDULES:
            raise ValueError(
                f"{option} {spec!r}: unknown schedule {kind!r}; expected one of "
                f"{sorted(_SCHEDULES)}"
            )
        return _make(_SCHEDULES[kind], fields, option, spec)
    else:
        raise ValueError(f"{option} must be a number or a schedule spec string, got {spec!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{option} must be a positive number, got {spec!r}")
    return value


def parse_commitment(spec: Any, option: str = "commitment") -> Any:
    """A commitment from a whole number, a spec string or a typed value (returned as it is).

    A positive integer is a fixed commitment; ``"power:..."``/``"log:..."`` as in
    :func:`parse_schedule`, rounded up to whole stages (:class:`Ceil`);
    ``"corollary:p=1[,beta=..,mu=..,B=..]"`` is :class:`Corollary`;
    ``"adaptive:tol=0.01,min_length=2,max_length=10000"`` is
    :class:`~agents.hic.AdaptiveCommitment`.

    Raises:
        ValueError: naming ``option`` and the bad spec.
    """
    if isinstance(spec, (Ceil, Corollary, AdaptiveCommitment)):
        return spec
    if isinstance(spec, str) and ":" in spec:
        kind, fields = _fields(spec, option)
        if kind == "adaptive":
            kw = {k: (v if k == "tol" else _whole(v, option, spec)) for k, v in fields.items()}
            return _make(AdaptiveCommitment, kw, option, spec)
        if kind == "corollary":
            return _make(Corollary, fields, option, spec)
        return Ceil(parse_schedule(spec, option))
    if isinstance(spec, schedules.Schedule) or (callable(spec) and not isinstance(spec, type)):
        return spec
    return _whole(parse_schedule(spec, option), option, spec)


def resolve_commitment(value: Any, game: Game, perturbation: Any, follower_step: Any) -> Any:
    """The commitment a leader uses: a :class:`Corollary` fitted to ``game`` (with ``beta`` the
    follower's constant step unless given), anything else as it is.

    Raises:
        ValueError: when ``beta`` or ``mu`` is unknown, or the fit fails.
    """
    if not isinstance(value, Corollary):
        return value
    beta = value.beta if value.beta is not None else follower_step
    beta = beta if isinstance(beta, float) else None
    mu = value.mu if value.mu is not None else game.mu
    if beta is None or mu is None:
        raise ValueError(
            f"commitment {to_text(value)!r}: needs beta (the follower's constant step) and mu "
            "(the game's); give them as fields"
        )
    B = value.B
    if B is None:
        B = float(np.linalg.norm(game.follower_high - game.follower_low))
    try:
        return schedules.CommitmentSchedule(beta, mu, B, value.p, perturbation)
    except (TypeError, ValueError) as err:
        raise ValueError(f"commitment {to_text(value)!r}: {err}") from None


def _whole(v: float, option: str, spec: Any) -> int:
    if not float(v).is_integer() or v < 1:
        raise ValueError(f"{option} {spec!r}: expected a positive whole number of stages, got {v}")
    return int(v)


@dataclasses.dataclass(frozen=True)
class Parser:
    """The parser in an option's ``Annotated[T, Parser(fn)]`` type (:func:`coerce` calls it as
    ``fn(value, where)``), shown by its function's name: a type prints as
    ``Annotated[Any, parse_schedule]``, in ``--help``, errors and the API pages, not with the
    function's memory address."""

    fn: Callable[[Any, str], Any]

    def __call__(self, value: Any, where: str) -> Any:
        return self.fn(value, where)

    def __repr__(self) -> str:
        return self.fn.__name__


#: A schedule option: a number or a spec string in, a float or a schedule out.
ScheduleValue = Annotated[Any, Parser(parse_schedule)]
#: A commitment option: a whole number, a spec string or a typed commitment.
CommitmentValue = Annotated[Any, Parser(parse_commitment)]


# ---------------------------------------------------------------------------------- text
def _num(v: float | int) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e16 else repr(v)


#: :class:`AdaptiveCommitment`'s default ``tol`` (a schedule), which its text form leaves out.
_ADAPTIVE_TOL = next(f.default for f in dataclasses.fields(AdaptiveCommitment) if f.name == "tol")


def to_text(value: Any) -> str:
    """The one text form of a typed option value (inverse of the parsers here).

    Raises:
        TypeError: for a value that has no text form (a user's callable, say).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _num(value)  # type: ignore[arg-type]  # a Real is an int or a float here
    if isinstance(value, Ceil):
        return to_text(value.inner)
    if isinstance(value, schedules.Constant):
        return _num(value.value)
    if isinstance(value, schedules.PowerLaw):
        a = f"power:a={_num(value.a)},gamma={_num(value.gamma)}"
        return a + (f",A={_num(value.A)}" if value.A else "")
    if isinstance(value, schedules.Logarithmic):
        return f"log:a={_num(value.a)}" + (
            f",base={_num(value.base)}" if value.base != math.e else ""
        )
    if isinstance(value, Corollary):
        parts = [f"p={_num(value.p)}"] + [
            f"{k}={_num(getattr(value, k))}"
            for k in ("beta", "mu", "B")
            if getattr(value, k) is not None
        ]
        return "corollary:" + ",".join(parts)
    if isinstance(value, AdaptiveCommitment):
        lengths = f"min_length={value.min_length},max_length={value.max_length}"
        if isinstance(value.tol, schedules.Constant):
            return f"adaptive:tol={_num(value.tol.value)},{lengths}"
        if value.tol == _ADAPTIVE_TOL:  # the class's decaying default: the text omits it
            return f"adaptive:{lengths}"
    raise TypeError(f"{value!r} has no text form (write it in Python, not in a results file)")


# ---------------------------------------------------------------------------------- coerce
def _where(where: str, msg: str) -> ValueError:
    return ValueError(f"{where}: {msg}")


def _unwrap(tp: Any) -> tuple[Any, bool]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == len(typing.get_args(tp)):
            return tp, False
        return (args[0] if len(args) == 1 else typing.Union[tuple(args)]), True  # noqa: UP007
    return tp, False


def _number(value: Any, where: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise _where(where, f"expected a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _where(where, f"expected a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise _where(where, f"expected a finite number, got {value!r}")
    return v


def _json_value(text: str) -> Any:
    for conv in (int, float, json.loads):
        try:
            return conv(text.strip())
        except ValueError:
            continue
    return text.strip()


def coerce(tp: Any, value: Any, where: str) -> Any:
    """``value`` (text from a command line, a YAML value or a Python value) as the type ``tp``.

    Types: ``int`` (also ``1e6`` or ``100000.0``), ``float`` (finite), ``bool``, ``str``,
    ``X | None`` (``None`` or ``"none"``), ``tuple[X, ...]``, ``typing.Literal[...]``,
    ``dict[str, Any]`` (a mapping, or ``KEY=VALUE`` strings whose values are read as numbers or
    JSON where they are one), and ``Annotated[T, parser]`` (``parser(value, where)``, e.g.
    :data:`ScheduleValue`).

    Raises:
        ValueError: naming ``where`` and the bad value.
    """
    tp, optional = _unwrap(tp)
    if value is None or (
        optional and isinstance(value, str) and value.strip().lower() in ("none", "null")
    ):
        if optional:
            return None
        raise _where(where, "expected a value, got none")
    origin = typing.get_origin(tp)
    if origin is Annotated:
        parser = next(m for m in typing.get_args(tp)[1:] if callable(m))
        try:
            return parser(value.strip() if isinstance(value, str) else value, where)
        except (TypeError, ValueError) as err:
            msg = str(err)
            raise ValueError(msg if msg.startswith(where) else f"{where}: {msg}") from None
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _where(where, f"expected true or false, got {value!r}")
    if tp is int:
        v = _number(value, where)
        if not v.is_integer():
            raise _where(where, f"expected an integer, got {value!r}")
        return int(v)
    if tp is float:
        return _number(value, where)
    if tp is str:
        if not isinstance(value, str):
            raise _where(where, f"expected a string, got {value!r}")
        return value.strip()
    if origin is typing.Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise _where(where, f"expected one of {list(choices)}, got {value!r}")
        return value
    if origin is tuple:
        if isinstance(value, (str, Mapping)) or not isinstance(value, (list, tuple)):
            value = [value]
        elem = typing.get_args(tp)[0]
        return tuple(coerce(elem, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict or tp is dict:
        return _mapping(value, where)
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise _where(where, f"expected {getattr(tp, '__name__', tp)}, got {value!r}")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)):  # KEY=VALUE items (--game-kwarg)
        out = {}
        for i, item in enumerate(value):
            key, eq, val = item.partition("=") if isinstance(item, str) else ("", "", "")
            if not eq or not key.strip():
                raise _where(f"{where}[{i}]", f"expected KEY=VALUE, got {item!r}")
            out[key.strip()] = _json_value(val)
        value = out
    if not isinstance(value, Mapping):
        raise _where(where, f"expected a mapping, got {value!r}")
    out = {}
    for k, v in value.items():
        if not isinstance(k, str) or not k:
            raise _where(where, f"names must be non-empty strings, got {k!r}")
        v = _json_value(v) if isinstance(v, str) else v
        try:
            json.dumps(v, allow_nan=False)
        except (TypeError, ValueError):
            raise _where(f"{where}.{k}", f"expected a finite JSON-like value, got {v!r}") from None
        out[k] = v
    return out


# ---------------------------------------------------------------------------------- classes
@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each field of a dataclass (its whole class hierarchy).

    A docstring is a string literal, or literals and module-level string constants joined with
    ``+`` (``\"\"\"beta: \"\"\" + SCHEDULE_HELP``)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass) or klass is object:
            continue
        cdef = _class_node(klass)
        if cdef is None:  # no source (e.g. built dynamically)
            continue
        body = cdef.body
        names = vars(inspect.getmodule(klass) or object)
        for node, nxt in zip(body, body[1:], strict=False):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                text = _doc_text(nxt.value, names) if isinstance(nxt, ast.Expr) else None
                if text is not None:
                    docs[node.target.id] = " ".join(text.split())
    return docs


def _class_node(klass: type) -> ast.ClassDef | None:
    """The class statement of ``klass``: from its module's syntax tree, parsed once per module
    (``hic list`` reads the options classes of every learner, a dozen per module, and
    ``inspect.getsource`` parses the whole module again for each), else from its own source."""
    path = klass.__qualname__.split(".")
    tree = _module_tree(klass.__module__)
    if tree is not None and "<locals>" not in path:
        body: list[ast.stmt] = tree.body
        found = None
        for name in path:
            found = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == name), None)
            if found is None:
                break
            body = found.body
        if found is not None:
            return found
    try:
        node = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0]
    except (OSError, TypeError):
        return None
    return node if isinstance(node, ast.ClassDef) else None


@functools.cache
def _module_tree(module: str) -> ast.Module | None:
    """The syntax tree of a module's source file (None without one)."""
    mod = sys.modules.get(module)
    try:
        source = inspect.getsource(mod) if mod is not None else None
    except (OSError, TypeError):
        return None
    return None if source is None else ast.parse(source)


def _doc_text(node: ast.expr, names: Mapping[str, Any]) -> str | None:
    """A docstring expression's text: a string literal, a module's string constant, or a sum
    of them; None for anything else."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        v = names.get(node.id)
        return v if isinstance(v, str) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = _doc_text(node.left, names), _doc_text(node.right, names)
        return None if a is None or b is None else a + b
    return None


def option_fields(cls: type) -> dict[str, tuple[Any, Any]]:
    """``{name: (type, default)}`` of an options dataclass (types with their annotations)."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"an options class must be a dataclass, got {cls!r}")
    hints = typing.get_type_hints(cls, include_extras=True)
    out = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name} needs a default (options are optional)")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[operator]  # noqa: E501
        out[f.name] = (hints[f.name], default)
    return out


def build_options(cls: type, values: Mapping[str, Any], where: str = "options") -> Any:
    """An instance of the options dataclass ``cls`` from values in any of their forms.

    Raises:
        ValueError: for an option ``cls`` does not have, or a bad value, naming it.
    """
    fields = option_fields(cls)
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{where}: unknown option(s) {unknown}; expected some of {list(fields)}")
    kw = {k: coerce(fields[k][0], v, f"{where}.{k}") for k, v in values.items()}
    try:
        return cls(**kw)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None


def options_to_text(options: Any) -> dict[str, Any]:
    """An options instance as a JSON-friendly dict of the fields that differ from their
    defaults: annotated (schedule) values in their text form, others as they are."""
    out = {}
    for name, (tp, default) in option_fields(type(options)).items():
        v = getattr(options, name)
        if v is None or v == default:
            continue
        inner, _ = _unwrap(tp)
        out[name] = to_text(v) if typing.get_origin(inner) is Annotated else v
    return out
