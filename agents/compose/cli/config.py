"""One configuration idiom for every command and script: a typed, frozen dataclass.

A command's whole configuration is one dataclass with a docstring under each field (the
CleanRL convention); :func:`parser_for` turns it into an ``argparse`` parser and
:func:`parse` into an instance, so defaults and help live once, in the dataclass::

    @dataclasses.dataclass(frozen=True)
    class Config:
        stages: int = 100_000
        \"\"\"Stages to play.\"\"\"
        games: tuple[str, ...] = ("Duopoly",)
        \"\"\"Games to run.\"\"\"

    config = parse(Config, prog="python scripts/mine.py")

Field types and what the command line takes:

* ``int``: an integer, also written as a float that is one (``1e6``);
* ``float``, ``str``, ``pathlib.Path``;
* ``bool``: ``--flag`` (off by default) or ``--flag`` / ``--no-flag`` (on by default);
* ``X | None``: ``X``, or ``none``;
* ``tuple[X, ...]``: one or more values (``--games Duopoly Quadratic``), or, with
  ``metadata={"append": True}``, a repeatable flag (``--import a --import b``);
* ``typing.Literal[...]``: one of the choices;
* ``dict[str, Any]`` with ``metadata={"append": True}``: a repeatable ``KEY=VALUE`` flag
  (``--game-kwarg a=60 --game-kwarg b=1``; values read as numbers or JSON where they are one);
* any other type (``Annotated[T, parser]``, say): the text is converted by
  :func:`agents.specs.coerce` after parsing.

Field metadata (``dataclasses.field(metadata=...)``): ``"positional": True`` makes the field a
positional argument (``"nargs"`` as argparse's: ``"?"``, ``"*"``, ``"+"``), ``"flag"`` renames
the option, ``"metavar"`` names its value, ``"choices"`` lists (or a callable returns) the
allowed values, ``"help"`` replaces the docstring, ``"required": True`` makes an option with a
placeholder default required. A ``dict`` field with ``"flags"`` (a callable returning
:class:`~agents.compose.experiments.experiment.LearnerOption`-like rows: ``flag``, ``field``,
``type``, ``default``, ``help``) becomes one flag per row, collected into the dict as
``{field: value}`` (the values that were given, as text, converted later by their owner).
A class attribute ``REMOVED = {old_name: (option, value)}`` names options that were removed:
``--old-name`` is refused with ``--old-name was removed; write --option VALUE``. A classmethod
``refuse_given(values, given)`` is called before the instance is made, with the parsed values
and the destinations of the options the command line gave (:func:`given_dests`: given at any
value, the default's too), and may refuse them with a ``ValueError`` (``hic run --resume``
without an ID refuses every run option, since the run's are read from ``--out``).

Bad values exit with ``PROG: error: ...`` naming the value (status 2), including the
``ValueError`` / ``TypeError`` of the dataclass's own ``__post_init__`` checks.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import shutil
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from agents.specs import coerce, field_docs
from hic_envs.suggest import nearest

__all__ = ["field_docs", "given_dests", "help_width", "parse", "parser_for", "to_int"]

T = TypeVar("T")


def to_int(text: str) -> int:
    """An integer from the command line, also written as a float that is one (``1e6``)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not (math.isfinite(v) and v.is_integer()):
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    return int(v)


def _finite_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


_CONVERTERS: dict[Any, Callable[[str], Any]] = {
    int: to_int,
    float: _finite_float,
    str: str,
    Path: Path,
}


def _converter(tp: Any, optional: bool) -> Callable[[str], Any]:
    try:
        base = _CONVERTERS[tp]
    except KeyError:
        raise TypeError(f"unsupported config field type {tp!r}") from None
    if not optional:
        return base

    def convert(text: str):
        return None if text.strip().lower() == "none" else base(text)

    convert.__name__ = f"{getattr(tp, '__name__', tp)} or none"
    return convert


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported union type {tp!r} (only X | None)")
        return args[0], True
    return tp, False


def _help_order(cls: type) -> list[dataclasses.Field]:
    """``cls``'s fields in the order ``--help`` lists them: by the class that first declares
    each (a base class's before a subclass's), and within one class its plain fields before
    its ``"flags"`` groups (``hic run``: the config's own options, then the learners', then
    how the run is written)."""
    fields = dataclasses.fields(cls)
    bases = [b for b in reversed(cls.__mro__) if dataclasses.is_dataclass(b)]

    def home(f: dataclasses.Field) -> int:
        return next(i for i, b in enumerate(bases) if f.name in b.__dataclass_fields__)

    return sorted(fields, key=lambda f: (home(f), "flags" in f.metadata))


#: The default of every option in :func:`given_dests`' parser: left so, the option was not
#: given.
_NOT_GIVEN = object()


def _plain(text: str) -> str:
    """A docstring's text for the terminal: its reST literals (double backticks) plain."""
    return text.replace("``", "")


def help_width() -> int:
    """Columns that ``--help`` text is filled to: the terminal's width less two, as argparse
    fills its own (``COLUMNS`` where set), and at least 40."""
    return max(shutil.get_terminal_size().columns - 2, 40)


def _wrapped(text: str) -> str:
    """A description for :class:`argparse.RawDescriptionHelpFormatter`: each paragraph
    (separated by a blank line) filled to :func:`help_width` as argparse fills one, and a
    paragraph of indented lines (a table, filled by its maker) kept as it is."""
    width = help_width()
    return "\n\n".join(
        p if p.startswith("  ") else textwrap.fill(" ".join(p.split()), width)
        for p in _plain(text).split("\n\n")
    )


def _show_default(action: argparse.Action) -> None:
    """Append ``(default: ...)`` to an option's help, as
    :class:`argparse.ArgumentDefaultsHelpFormatter` does, but not for a default of None (an
    option left unset takes the learner's or the game's default, or none)."""
    default = action.default
    if action.help and "%(default)" not in action.help and default is not None:
        if default is not argparse.SUPPRESS and default is not _NOT_GIVEN:
            action.help += " (default: %(default)s)"


def parser_for(
    cls: type,
    *,
    prog: str | None = None,
    description: str | None = None,
    unset: bool = False,
) -> argparse.ArgumentParser:
    """An ``argparse`` parser with one argument per field of the dataclass ``cls``.

    Args:
        cls: a dataclass whose fields all have defaults (positionals may have none).
        prog: the command's name in usage and error lines (e.g. ``"hic run"``).
        description: the help's text; the class docstring's first paragraph by default.
        unset: every option's default is a marker of "not given" (:func:`given_dests`).
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    parser = _Parser(
        prog=prog,
        description=_wrapped(description or doc),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for f in _help_order(cls):
        if not f.init:
            continue
        meta = f.metadata
        tp, optional = _unwrap_optional(hints[f.name])
        has_default = f.default is not dataclasses.MISSING or (
            f.default_factory is not dataclasses.MISSING
        )
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        )
        if unset:
            default = _NOT_GIVEN
        if "flags" in meta:
            _add_sub_flags(parser, f.name, meta["flags"](), _NOT_GIVEN if unset else None)
            continue
        kw: dict[str, Any] = {"help": _plain(meta.get("help", docs.get(f.name, "")))}
        if "metavar" in meta:
            kw["metavar"] = meta["metavar"]
        origin = typing.get_origin(tp)
        if tp is bool:
            # A flag that is off by default is a plain switch; one that is on has --no-x.
            off = default is False or (unset and f.default is False)
            kw["action"] = "store_true" if off else argparse.BooleanOptionalAction
        elif origin is tuple:
            elem = typing.get_args(tp)[0]
            kw["type"] = _converter(elem, False)
            if meta.get("append"):
                kw["action"] = "append"
            else:
                kw["nargs"] = meta.get("nargs", "+")
        elif origin is dict or tp is dict:
            kw["type"] = str
            kw["action"] = "append"
            if "deprecated_json" in meta:
                parser.add_argument(
                    meta["deprecated_json"],
                    dest=f"{f.name}.json",
                    metavar="JSON",
                    help=f"deprecated: the same as a JSON object; use {meta_flag(f)} KEY=VALUE",
                )
        elif origin is typing.Literal:
            kw["choices"] = list(typing.get_args(tp))
            kw["type"] = _converter(type(kw["choices"][0]), optional)
        else:
            kw["type"] = _converter(tp, optional)
        choices = meta.get("choices")
        if choices is not None:
            kw["choices"] = list(choices() if callable(choices) else choices)
        if meta.get("positional"):
            if "nargs" in meta:
                kw["nargs"] = meta["nargs"]
            elif has_default:
                kw["nargs"] = "?"
            if has_default:
                kw["default"] = default
            _show_default(parser.add_argument(f.name, **kw))
            continue
        flag = meta_flag(f)
        if not has_default or meta.get("required"):
            kw["required"] = True
        else:
            # append actions extend a given default list; start from none and fill in below
            kw["default"] = None if kw.get("action") == "append" else default
        _show_default(parser.add_argument(flag, dest=f.name, **kw))
    for old, replacement in getattr(cls, "REMOVED", {}).items():
        parser.add_argument(
            "--" + old.replace("_", "-"),
            action=_Removed,
            replacement=replacement,
            dest=f"removed.{old}",
        )
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse's parser whose "unrecognized arguments" error names the nearest option to a
    misspelt one (``--step-sise``: did you mean ``--step-size``?), as Python 3.14's
    ``suggest_on_error`` does for choices. Options whose help is suppressed (removed ones)
    are never suggested."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        self.long_options: list[str] = []
        super().__init__(*args, **kw)

    def add_argument(self, *args: Any, **kw: Any) -> argparse.Action:
        action = super().add_argument(*args, **kw)
        if action.help is not argparse.SUPPRESS:
            self.long_options += [o for o in action.option_strings if o.startswith("--")]
        return action

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            guesses = (
                nearest(a.split("=", 1)[0], self.long_options) for a in extras if a[:2] == "--"
            )
            near = [g for g in guesses if g]
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            self.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return ns


class _Removed(argparse.Action):
    """A removed option (``REMOVED`` of the config class): refused, naming its replacement."""

    def __init__(self, option_strings: Sequence[str], dest: str, replacement: tuple[str, str]):
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
        self.replacement = replacement

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kw: Any) -> None:
        option, value = self.replacement
        parser.error(
            f"{self.option_strings[0]} was removed; write --{option.replace('_', '-')} {value}"
        )


def _legacy_json(text: str, f: dataclasses.Field, parser: argparse.ArgumentParser) -> dict:
    old, new = f.metadata["deprecated_json"], meta_flag(f)
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        parser.error(f"{old}: expected a JSON object, got {text!r}")
    pairs = " ".join(f"{new} {k}={json.dumps(v)}" for k, v in value.items())
    print(
        f"{parser.prog}: warning: {old} JSON is deprecated; write {pairs or new + ' KEY=VALUE'}",
        file=sys.stderr,
    )
    return coerce(dict, value, old)


def meta_flag(f: dataclasses.Field) -> str:
    """The command-line flag of a dataclass field."""
    return f.metadata.get("flag", "--" + f.name.replace("_", "-"))


def _add_sub_flags(
    parser: argparse.ArgumentParser, name: str, rows: Sequence[Any], default: Any = None
) -> None:
    for row in rows:
        tp, _ = _unwrap_optional(row.type)
        kw: dict[str, Any] = {"help": _plain(row.help), "dest": f"{name}.{row.field}"}
        kw["default"] = default
        if tp is bool:
            kw["action"] = "store_true" if row.default is False else argparse.BooleanOptionalAction
        else:
            kw["metavar"] = "SPEC" if typing.get_origin(tp) is typing.Annotated else "VALUE"
        _show_default(parser.add_argument(row.flag, **kw))


def given_dests(cls: type, argv: Sequence[str] | None) -> frozenset[str]:
    """The destinations (field names, ``ROLE_options.FIELD`` for a learner's flags) of the
    options that ``argv`` gives, whatever their values (a flag given with its default value
    too): ``argv`` parsed again with every default a "not given" marker."""
    parser = parser_for(cls, unset=True)
    return frozenset(
        k for k, v in vars(parser.parse_args(argv)).items() if v is not _NOT_GIVEN and v is not None
    )


def parse(
    cls: type[T],
    argv: Sequence[str] | None = None,
    *,
    prog: str | None = None,
    description: str | None = None,
) -> T:
    """Parse command-line arguments into an instance of the dataclass ``cls``.

    Exits with status 2 and ``PROG: error: ...`` on a bad value, including a ``ValueError`` or
    ``TypeError`` raised by the dataclass's own checks or its ``refuse_given`` (see the module
    docstring); ``--help`` prints the fields' docs.
    """
    parser = parser_for(cls, prog=prog, description=description)
    ns = parser.parse_args(argv)
    values = vars(ns)
    hints = typing.get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]  # cls is a dataclass
        if not f.init:
            continue
        if "flags" in f.metadata:
            prefix = f.name + "."
            sub = {k: values.pop(k) for k in list(values) if k.startswith(prefix)}
            values[f.name] = {k[len(prefix) :]: v for k, v in sub.items() if v is not None}
            continue
        v = values.get(f.name)
        tp, _ = _unwrap_optional(hints[f.name])
        if typing.get_origin(tp) is dict or tp is dict:
            legacy = values.pop(f"{f.name}.json", None)
            try:
                values[f.name] = coerce(tp, v or [], meta_flag(f))
                if legacy is not None:
                    values[f.name] = {**_legacy_json(legacy, f, parser), **values[f.name]}
            except ValueError as err:
                parser.error(str(err))
        elif v is None and f.metadata.get("append"):
            values[f.name] = tuple(f.default) if f.default is not dataclasses.MISSING else ()
        elif isinstance(v, list):
            values[f.name] = tuple(v)
    try:
        # A command that refuses options by whether they were given, not by their values
        # (hic run --resume without an ID: every option of the run is read from --out).
        refuse = getattr(cls, "refuse_given", None)
        if refuse is not None:
            refuse(values, given_dests(cls, argv))
        return cls(**values)
    except (TypeError, ValueError) as err:
        # A bad value, not a bad command line: the message names it (no usage block).
        parser.exit(2, f"{parser.prog}: error: {err}\n")
        raise  # unreachable: parser.exit exits
