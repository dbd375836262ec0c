"""The sweep file: its format, its parsing and validation, and the grid's expansion.

A *sweep file* (YAML) names a base configuration, with exactly the options of ``hic run``
(flag names without the dashes, ``-`` or ``_`` alike), and a grid over any of them::

    name: exponents
    imports: [mylab.games]          # modules that register games (imported in every worker)
    base:
      env_id: hic/Duopoly-v0
      seeds: 8
      stages: 1e5
      step_size: power:a=1.07,gamma=0.602,A=100
      perturbation: power:a=1,gamma=0.101
      baseline: 0.9
    grid:
      step_size.gamma: [0.602, 0.8, 1.0]     # one field of a schedule
      game_kwargs.a: [40, 50]                # one game keyword argument
      noise_std: [0, 1]                      # any option
    cases:                                   # optional: alternatives crossed with the grid
      - {}
      - {follower: best-response}

Grid keys are option names (``seeds``, ``commitment``, ``env_id``, ...), ``game_kwargs.KEY``
for one game keyword argument, and ``OPTION.FIELD`` for one field of a schedule option's
value such as ``power:a=1,gamma=0.602,A=100`` (``step_size.gamma``: the value is a
:class:`~agents.schedules.PowerLaw` and the key replaces its field). The keys are made from
:class:`~agents.compose.experiments.experiment.ExperimentConfig` and the registered learners'
options classes (:func:`sweep_keys`): a user's learner registered by a module in ``imports`` has its
options here too. The published Hi-C code's form, a field whose value is
``{grid_search: [...]}`` (Ray Tune's), is accepted anywhere in ``base`` (including inside
``game_kwargs``), and a file without a ``base`` section is read as one flat base. Values
are applied base, then case, then grid; the configurations are the cases in file order, each
crossed with the grid in file order (the last key varying fastest), so expanding a file is
deterministic.

A sweep file is read safely and within bounds: YAML's safe loader (no Python objects), a file of
at most :data:`MAX_FILE_BYTES`, and at most :data:`MAX_YAML_NODES` values once YAML aliases are
expanded (counted on the parsed node graph, before anything is built, so an alias bomb is
refused at once). The grid's size (:attr:`SweepSpec.size`) is the product of the cases and the
grid's value lists, known before any configuration is built; :meth:`SweepSpec.points` refuses
more than ``max_configurations`` (:data:`MAX_CONFIGURATIONS` unless the caller lifts it).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import math
import numbers
import os
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from agents.compose.experiments.experiment import (
    ExperimentConfig,
    LearnerOption,
    config_fields,
    learner_options,
)
from agents.specs import Ceil, coerce, to_text
from hic_envs.suggest import did_you_mean

__all__ = [
    "MAX_CONFIGURATIONS",
    "MAX_FILE_BYTES",
    "MAX_YAML_NODES",
    "SweepFileError",
    "SweepPoint",
    "SweepSpec",
    "batch_groups",
    "batch_key",
    "config_hash",
    "independent_keys",
    "load_sweep",
    "load_yaml",
    "sweep_keys",
]

_SECTIONS = ("name", "imports", "base", "grid", "cases")
#: Largest sweep file read (bytes).
MAX_FILE_BYTES = 1 << 20
#: Most YAML values (scalars, lists, mappings) a sweep file may hold once aliases are expanded.
MAX_YAML_NODES = 100_000
#: Most configurations a sweep expands to unless the caller lifts the cap
#: (``hic sweep --max-configurations N``, ``run_sweep(..., max_configurations=N)``).
MAX_CONFIGURATIONS = 10_000
_NAME_MAX = 120


class SweepFileError(ValueError):
    """A bad sweep file or spec: the message names the key and the bad value."""


# ---------------------------------------------------------------------------------- options
def _where(where: str, msg: str) -> SweepFileError:
    return SweepFileError(f"{where}: {msg}")


def sweep_keys() -> dict[str, tuple[Any, Any]]:
    """``{key: (type, default)}``: every option a sweep file may set, made from
    :class:`~agents.compose.experiments.experiment.ExperimentConfig`'s fields and the
    registered learners' options classes
    (:func:`~agents.compose.experiments.experiment.learner_options`), so a user's registered
    learner gets its keys here for free."""
    out = dict(config_fields())
    out.update({k: (o.type, o.default) for k, o in learner_options().items()})
    return out


_ALIASES = {"game_kwarg": "game_kwargs", "id": "env_id"}
#: ``hic run`` options that are not part of a configuration (how it runs, not what).
_RUN_FLAGS = ("out", "resume", "chunk", "checkpoint_seconds", "no_progress", "plot", "force")


def _option_name(key: Any, where: str) -> str:
    if not isinstance(key, str):
        raise _where(where, f"option names must be strings, got {key!r}")
    name = key.strip().lstrip("-").replace("-", "_")
    name = _ALIASES.get(name, name)
    if name in _RUN_FLAGS:
        raise _where(
            where,
            f"{key!r} is how hic sweep runs, not part of a configuration; pass it to "
            "hic sweep / run_sweep",
        )
    if name in ExperimentConfig.REMOVED:
        option, value = ExperimentConfig.REMOVED[name]
        raise _where(where, f"{key!r} was removed; write {option}: {value}")
    if name not in sweep_keys():
        hint = did_you_mean(name, sweep_keys())
        raise _where(where, f"unknown option {key!r}{hint}; expected one of {sorted(sweep_keys())}")
    return name


def _convert(name: str, value: Any, where: str) -> Any:
    tp, default = sweep_keys()[name]
    if value is None and default is not None and name != "game_kwargs":
        raise _where(where, f"{name} cannot be null")
    try:
        return coerce(tp, value, where) if value is not None else copy.deepcopy(default)
    except ValueError as err:
        raise SweepFileError(str(err)) from None


def _plain(v: Any) -> Any:
    """A typed value as JSON: schedules in their text form."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return to_text(v)


def config_hash(config: ExperimentConfig) -> str:
    """The first 12 hex digits of the SHA-256 of the config's canonical JSON (stable across
    runs, machines and Python versions: sorted keys, no whitespace, repr-exact floats)."""
    text = json.dumps(config.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------- keys
def _num_text(v: float | int) -> str:
    return repr(v) if isinstance(v, float) and not v.is_integer() else str(int(v))


def _structured(option: str) -> bool:
    """Whether an option holds a structured value (a schedule) whose fields a key may set: its
    type is parsed (``Annotated``) into something other than a plain scalar."""
    tp = sweep_keys()[option][0]
    args = [a for a in typing.get_args(tp) if a is not type(None)] or [tp]
    return any(
        typing.get_origin(a) is typing.Annotated
        and typing.get_args(a)[0] not in (str, int, float, bool)
        for a in args
    )


@dataclasses.dataclass(frozen=True)
class _Key:
    """A settable key: an option, ``game_kwargs.KEY`` or ``OPTION.FIELD`` of a schedule."""

    option: str
    field: str | None = None
    #: The learner's option the key names (:func:`learner_options`, the one table), None for
    #: the config's own field; looked up once, when the key is parsed.
    learner: LearnerOption | None = dataclasses.field(default=None, compare=False)

    def slot(self, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The mapping and name that hold the option among a config's keyword arguments
        (``step_size`` is ``leader_options["step_size"]``)."""
        if self.learner is None:
            return options, self.option
        return options[f"{self.learner.role}_options"], self.learner.field

    @property
    def text(self) -> str:
        return self.option if self.field is None else f"{self.option}.{self.field}"

    @classmethod
    def parse(cls, key: Any, where: str) -> _Key:
        if not isinstance(key, str):
            raise _where(where, f"keys must be strings, got {key!r}")
        head, dot, field = key.partition(".")
        option = _option_name(head, where)
        learner = learner_options().get(option)
        if not dot:
            return cls(option, None, learner)
        field = field.strip()
        if not field:
            raise _where(where, f"empty field in key {key!r}")
        if option != "game_kwargs" and not _structured(option):
            raise _where(
                where,
                f"{key!r}: only game_kwargs.KEY and OPTION.FIELD for the schedule options "
                f"{[k for k in sweep_keys() if _structured(k)]} take a field",
            )
        return cls(option, field, learner)

    def convert(self, value: Any, where: str) -> Any:
        if self.field is None:
            return _convert(self.option, value, where)
        if self.option == "game_kwargs":
            return _convert("game_kwargs", {self.field: value}, where)[self.field]
        try:
            return coerce(float, value, where)
        except ValueError as err:
            raise SweepFileError(str(err)) from None

    def apply(self, options: dict[str, Any], value: Any, where: str) -> None:
        slot, name = self.slot(options)
        if self.field is None:
            if value is None and self.learner is not None:  # unset: the learner's default
                slot.pop(name, None)
            else:
                slot[name] = copy.deepcopy(value)
        elif self.option == "game_kwargs":
            options["game_kwargs"] = {**options["game_kwargs"], self.field: value}
        else:
            current: Any = slot.get(name)
            inner = current.inner if isinstance(current, Ceil) else current
            names = [f.name for f in dataclasses.fields(inner)] if _is_value(inner) else []
            if names and self.field not in names:  # a schedule without that field
                raise _where(
                    where,
                    f"{self.text}: {self.option} {_plain(current)!r} has no field "
                    f"{self.field!r}; its fields are {', '.join(names)}"
                    + did_you_mean(self.field, names, lambda n: f"{self.option}.{n}"),
                )
            if self.field not in names:
                raise _where(
                    where,
                    f"{self.text} sets one field of a schedule, but {self.option} is "
                    f"{_plain(current)!r}; give {self.option} a schedule such as "
                    "'power:a=1,gamma=0.602,A=100' in base or the case",
                )
            # The field's own type, through the one coerce (an integer field such as an
            # adaptive commitment's min_length takes 3; the key read it as a number).
            tp = typing.get_type_hints(type(inner))[self.field]
            try:
                typed = coerce(tp, value, self.text)
            except ValueError as err:
                raise _where(where, str(err)) from None
            try:
                new = dataclasses.replace(inner, **{self.field: typed})
            except (TypeError, ValueError) as err:
                raise _where(where, f"{self.text}={value!r}: {err}") from None
            slot[name] = Ceil(new) if isinstance(current, Ceil) else new

    def read(self, options: dict[str, Any]) -> Any:
        slot, name = self.slot(options)
        if self.field is None:
            return _plain(slot.get(name, None if self.learner is None else self.learner.default))
        if self.option == "game_kwargs":
            return options["game_kwargs"].get(self.field)
        current = slot.get(name)
        inner = current.inner if isinstance(current, Ceil) else current
        return getattr(inner, self.field, None) if _is_value(inner) else None


def _is_value(v: Any) -> bool:
    return dataclasses.is_dataclass(v) and not isinstance(v, type)


def _is_grid_search(v: Any) -> bool:
    return isinstance(v, Mapping) and list(v) == ["grid_search"]


def _grid_values(v: Any, where: str) -> list[Any]:
    if _is_grid_search(v):
        v, where = v["grid_search"], f"{where}.grid_search"
    if not isinstance(v, list) or not v:
        raise _where(where, f"expected a non-empty list of values, got {v!r}")
    return v


# ---------------------------------------------------------------------------------- spec
@dataclasses.dataclass(frozen=True)
class SweepPoint:
    """One configuration of a sweep.

    Attributes:
        index: its position in the expansion order.
        name: the run directory's name, ``<readable>-<hash>``.
        hash: :func:`config_hash` of the config.
        values: swept key -> this configuration's value.
        config: the configuration.
    """

    index: int
    name: str
    hash: str
    values: dict[str, Any]
    config: ExperimentConfig


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep file (see the module docstring for the format).

    Attributes:
        name: the sweep's name (default ``"sweep"``).
        imports: modules imported (in the driver and every worker) before IDs are resolved.
        base: option -> converted value.
        grid: ``(key, values)`` pairs, in file order (inline ``grid_search`` first).
        cases: each an ordered tuple of ``(key, value)`` overrides.
        source: where it was read from (``"sweep file study.yaml"``), which the errors of
            :meth:`points` name; not part of the spec (not compared, not written).
    """

    name: str = "sweep"
    imports: tuple[str, ...] = ()
    base: dict[str, Any] = dataclasses.field(default_factory=dict)
    grid: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    cases: tuple[tuple[tuple[str, Any], ...], ...] = ()
    source: str = dataclasses.field(default="sweep spec", compare=False, repr=False)

    @classmethod
    def from_dict(cls, d: Any, source: str = "sweep spec") -> SweepSpec:
        """Parse a sweep file's contents.

        Raises:
            SweepFileError: naming ``source``, the key and the bad value.
        """
        if not isinstance(d, Mapping):
            raise SweepFileError(f"{source}: expected a mapping at the top level, got {d!r}")
        d = dict(d)
        flat = "base" not in d
        if flat:  # the whole file (but its sections) is the base, as a Ray Tune config
            base_raw = {k: v for k, v in d.items() if k not in _SECTIONS}
        else:
            extra = sorted(str(k) for k in d if k not in _SECTIONS)
            if extra:
                raise SweepFileError(
                    f"{source}: unknown top-level key(s) {extra}; expected {list(_SECTIONS)} "
                    "(options go under base:)"
                )
            base_raw = d["base"]
            if base_raw is None:
                base_raw = {}
            if not isinstance(base_raw, Mapping):
                raise SweepFileError(f"{source}: base: expected a mapping, got {base_raw!r}")
        name = d.get("name", "sweep")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._-]+", name):
            raise SweepFileError(
                f"{source}: name: expected letters, digits, '.', '_' or '-', got {name!r}"
            )
        imports = d.get("imports") or []
        if isinstance(imports, str):
            imports = [imports]
        if not isinstance(imports, list) or not all(
            isinstance(m, str) and re.fullmatch(r"[A-Za-z_][\w.]*", m) for m in imports
        ):
            raise SweepFileError(
                f"{source}: imports: expected a list of module names, got {imports!r}"
            )

        base: dict[str, Any] = {}
        grid: list[tuple[_Key, list[Any]]] = []
        prefix = f"{source}: " if flat else f"{source}: base."
        for raw_key, raw in base_raw.items():
            where = f"{prefix}{raw_key}"
            opt = _option_name(raw_key, where)
            if opt in base:
                raise _where(where, f"{opt} is given twice")
            if _is_grid_search(raw):
                key = _Key.parse(opt, where)
                grid.append(
                    (
                        key,
                        [
                            key.convert(v, f"{where}[{i}]")
                            for i, v in enumerate(_grid_values(raw, where))
                        ],
                    )
                )
                base[opt] = copy.deepcopy(sweep_keys()[opt][1])
            elif opt == "game_kwargs" and isinstance(raw, Mapping):
                fixed = {}
                for k, v in raw.items():
                    if _is_grid_search(v):
                        key = _Key("game_kwargs", str(k))
                        vals = _grid_values(v, f"{where}.{k}")
                        grid.append(
                            (key, [key.convert(x, f"{where}.{k}[{i}]") for i, x in enumerate(vals)])
                        )
                    else:
                        fixed[k] = v
                base[opt] = _convert(opt, fixed, where)
            else:
                base[opt] = _convert(opt, raw, where)

        grid_raw = d.get("grid") or {}
        if not isinstance(grid_raw, Mapping):
            raise SweepFileError(f"{source}: grid: expected a mapping, got {grid_raw!r}")
        for raw_key, raw in grid_raw.items():
            where = f"{source}: grid.{raw_key}"
            key = _Key.parse(raw_key, where)
            grid.append(
                (
                    key,
                    [
                        key.convert(v, f"{where}[{i}]")
                        for i, v in enumerate(_grid_values(raw, where))
                    ],
                )
            )
        seen: set[str] = set()
        for key, _ in grid:
            if key.text in seen:
                raise SweepFileError(f"{source}: grid key {key.text!r} is given twice")
            seen.add(key.text)

        cases_raw = d.get("cases")
        cases: list[tuple[tuple[str, Any], ...]] = []
        if cases_raw is not None:
            if not isinstance(cases_raw, list) or not cases_raw:
                raise SweepFileError(
                    f"{source}: cases: expected a non-empty list of mappings, got {cases_raw!r}"
                )
            for i, case in enumerate(cases_raw):
                where = f"{source}: cases[{i}]"
                if case is None:
                    case = {}
                if not isinstance(case, Mapping):
                    raise SweepFileError(f"{where}: expected a mapping, got {case!r}")
                items = []
                for raw_key, raw in case.items():
                    key = _Key.parse(raw_key, f"{where}.{raw_key}")
                    if key.text in seen:
                        raise SweepFileError(
                            f"{where}.{raw_key}: {key.text!r} is also a grid key; set it in one"
                        )
                    items.append((key.text, key.convert(raw, f"{where}.{raw_key}")))
                cases.append(tuple(items))
        return cls(
            name=name,
            imports=tuple(imports),
            base=base,
            grid=tuple((k.text, tuple(v)) for k, v in grid),
            cases=tuple(cases),
            source=source,
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> SweepSpec:
        """Read a YAML sweep file.

        Raises:
            FileNotFoundError: no such file.
            SweepFileError: bad YAML or a bad spec, naming the file and the key.
        """
        p = Path(path)
        with open(p, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise SweepFileError(
                f"sweep file {p}: larger than {MAX_FILE_BYTES} bytes; a sweep file lists options "
                "and value lists, not data"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SweepFileError(f"sweep file {p}: not UTF-8 text ({err})") from None
        return cls.from_dict(load_yaml(text, f"sweep file {p}"), source=f"sweep file {p}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict that :meth:`from_dict` reads back to an equal spec."""
        out: dict[str, Any] = {"name": self.name, "imports": list(self.imports)}
        out["base"] = {k: _plain(v) for k, v in self.base.items()}
        out["grid"] = {k: _plain(list(v)) for k, v in self.grid}
        if self.cases:
            out["cases"] = [{k: _plain(v) for k, v in c} for c in self.cases]
        return json.loads(json.dumps(out))

    @property
    def swept(self) -> list[str]:
        """The keys that vary: the grid's, then any a case sets, in file order."""
        keys = [k for k, _ in self.grid]
        for case in self.cases:
            for k, _ in case:
                if k not in keys:
                    keys.append(k)
        return keys

    @property
    def size(self) -> int:
        """The number of configurations (cases times the grid's value lists), computed
        without expanding them."""
        return max(len(self.cases), 1) * math.prod(len(v) for _, v in self.grid)

    def describe_size(self) -> str:
        """``"24 configurations (2 cases x 3 step_size.gamma x 4 seeds)"``."""
        factors = [f"{len(self.cases)} cases"] if self.cases else []
        factors += [f"{len(v)} {k}" for k, v in self.grid]
        noun = "configuration" if self.size == 1 else "configurations"
        return f"{self.size} {noun}" + (f" ({' x '.join(factors)})" if factors else "")

    def points(self, max_configurations: int | None = MAX_CONFIGURATIONS) -> list[SweepPoint]:
        """Every configuration, in the deterministic expansion order.

        Args:
            max_configurations: refuse a sweep of more configurations than this (None: no
                cap); checked on :attr:`size`, before any configuration is built.

        Raises:
            SweepFileError: for more configurations than ``max_configurations``, a configuration
                that does not validate (naming it), or two configurations that are the same.
        """
        if max_configurations is not None:
            if isinstance(max_configurations, bool) or not isinstance(max_configurations, int):
                raise TypeError(
                    f"max_configurations must be an int or None, got {max_configurations!r}"
                )
            if self.size > max_configurations:
                raise SweepFileError(
                    f"{self.source}: sweep {self.name!r} has {self.describe_size()}, more than "
                    f"the cap of {max_configurations}; pass --max-configurations {self.size} "
                    f"(run_sweep(..., max_configurations={self.size})) to run it anyway"
                )
        keys = {k: _Key.parse(k, k) for k in self.swept}
        base = [(_Key.parse(k, k), v) for k, v in self.base.items()]
        defaults = config_fields()
        grid_keys = [keys[k] for k, _ in self.grid]
        swept = [keys[k] for k in self.swept]
        out: list[SweepPoint] = []
        seen: dict[str, int] = {}
        for ci, case in enumerate(self.cases or ((),)):
            for combo in itertools.product(*(v for _, v in self.grid)):
                i = len(out)
                where = f"{self.source}: configuration {i}" + (
                    f" (cases[{ci}])" if self.cases else ""
                )
                # The config's keyword arguments: its defaults, the learners' options unset.
                opts = {k: copy.deepcopy(v) for k, (_, v) in defaults.items()}
                opts.update(leader_options={}, follower_options={})
                # Whole options first, then fields of them, within each layer.
                layers = [[(keys[k], v) for k, v in case], list(zip(grid_keys, combo, strict=True))]
                for key, value in base:
                    key.apply(opts, value, where)
                for layer in layers:
                    for key, value in sorted(layer, key=lambda kv: kv[0].field is not None):
                        key.apply(opts, value, where)
                # A field's value as given; an option's as it ended up (a case's step_size
                # after the grid's step_size.gamma, say).
                given = {key.text: _plain(value) for layer in layers for key, value in layer}
                values = {
                    key.text: given[key.text]
                    if key.field is not None and key.text in given
                    else key.read(opts)
                    for key in swept
                }
                desc = ", ".join(f"{k}={v!r}" for k, v in values.items())
                try:
                    config = ExperimentConfig(**opts, imports=self.imports)
                except (TypeError, ValueError) as err:
                    raise _where(f"{where} ({desc})" if desc else where, str(err)) from None
                h = config_hash(config)
                if h in seen:
                    raise SweepFileError(
                        f"{where} ({desc}) is the same configuration as configuration "
                        f"{seen[h]}; remove the duplicate from the grid or cases"
                    )
                seen[h] = i
                out.append(SweepPoint(i, h, h, values, config))
        named = independent_keys(self.swept, [p.values for p in out])
        return [
            dataclasses.replace(p, name=f"{self._readable(p.values, named, p.config)}-{p.hash}")
            for p in out
        ]

    def _readable(
        self, values: Mapping[str, Any], named: Sequence[str], config: ExperimentConfig
    ) -> str:
        parts = []
        for k in named:
            v = values[k]
            if k == "env_id":
                parts.append(str(v).rsplit("/", 1)[-1])
                continue
            if isinstance(v, Mapping):
                v = "-".join(f"{a}={b}" for a, b in v.items())
            elif isinstance(v, float):
                v = _num_text(v)
            k = k.removeprefix("game_kwargs.")
            parts.append(f"{k}={v}")
        if not parts:
            parts = [self.name, config.env_id.rsplit("/", 1)[-1]]
        text = re.sub(r"[^A-Za-z0-9._=+-]+", "-", "_".join(map(str, parts))).strip("-")
        return text[:_NAME_MAX].rstrip("-_") or self.name


# ---------------------------------------------------------------------------------- groups
def _kind(value: Any) -> Any:
    """What a per-row hyperparameter must share with the rows it is batched with: its kind
    (a number, or a schedule's class), not its values."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, Ceil):
        return ("ceil", _kind(value.inner))
    return type(value).__qualname__


def batch_key(config: ExperimentConfig) -> str:
    """What the configurations of one batched engine run share: the game and its arguments,
    the learners and the kinds of their options, the stages, the episode length, what is
    recorded, the engine and the imports. Seeds, the master seed, the payoff noise and the
    values of numeric and schedule options may differ (they are per-row values)."""
    d = config.to_dict()
    for role in ("leader", "follower"):
        opts = getattr(config, f"{role}_options")
        d[f"{role}_options"] = {
            k: (
                _kind(v) if isinstance(v, numbers.Real) or _is_value(v) else d[f"{role}_options"][k]
            )
            for k, v in sorted(opts.items())
        }
    for k in ("seeds", "seed", "noise_std"):
        d.pop(k, None)
    return json.dumps(d, sort_keys=True, default=str)


def batch_groups(
    points: Sequence[SweepPoint], key: Callable[[ExperimentConfig], str] | None = None
) -> list[list[SweepPoint]]:
    """The sweep's configurations grouped by ``key`` (default :func:`batch_key`; the sweep
    itself groups by :func:`agents.compose.sweeps.batched.group_key`, which also splits a JAX
    sweep by commitment), in expansion order (a group is ordered by its first
    configuration): each group is what one batched engine run over (configuration, seed) rows
    would hold."""
    key = key or batch_key
    groups: dict[str, list[SweepPoint]] = {}
    for p in points:
        groups.setdefault(key(p.config), []).append(p)
    return list(groups.values())


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, with YAML 1.2 floats (``1e5`` is a number, not a string) and an
    error for a key given twice in one mapping (PyYAML keeps the last silently)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
        r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice in one mapping", key_node.start_mark
            )
        keys.add(key)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML text with the sweep file's safe loader, refusing a document of more than
    :data:`MAX_YAML_NODES` values once aliases are expanded (or a recursive alias) before
    anything is built from it.

    Raises:
        SweepFileError: naming ``source``, for bad YAML or a document over the limit.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expanded_size(node, source)
        return loader.construct_document(node)
    except yaml.YAMLError as err:
        raise SweepFileError(f"{source}: not valid YAML: {err}") from None
    finally:
        loader.dispose()


def _check_expanded_size(root: yaml.Node, source: str) -> None:
    """Count the values of the node graph with every alias expanded, in time linear in the
    graph (each node's expanded size is computed once and shared by the aliases to it)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            on_path.discard(id(node))
            sizes[id(node)] = min(MAX_YAML_NODES + 1, 1 + sum(sizes[id(k)] for k in _kids(node)))
            continue
        if id(node) in sizes:
            continue
        if id(node) in on_path:
            raise SweepFileError(f"{source}: a YAML alias refers to itself (a recursive value)")
        on_path.add(id(node))
        stack.append((node, True))
        stack.extend((k, False) for k in _kids(node) if id(k) not in sizes)
    if sizes[id(root)] > MAX_YAML_NODES:
        raise SweepFileError(
            f"{source}: more than {MAX_YAML_NODES} values once YAML aliases (*name) are "
            "expanded; a sweep file this large is refused"
        )


def _kids(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _canonical(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def independent_keys(swept: Sequence[str], values: Sequence[Mapping[str, Any]]) -> list[str]:
    """The swept keys that name configurations: ``env_id`` first, then the others in order,
    leaving out any key whose value is determined by the keys already kept (a case's
    step-size spec, which follows from its game and the grid's ``step_size.gamma``, say) or
    that never changes: it tells nothing more."""
    kept: list[str] = []
    for k in sorted(swept, key=lambda k: k != "env_id"):
        seen: dict[tuple[str, ...], set[str]] = {}
        for v in values:
            seen.setdefault(tuple(_canonical(v.get(j)) for j in kept), set()).add(
                _canonical(v.get(k))
            )
        if any(len(s) > 1 for s in seen.values()):
            kept.append(k)
    return kept


def load_sweep(spec_or_path: SweepSpec | Mapping[str, Any] | str | os.PathLike) -> SweepSpec:
    """A :class:`SweepSpec` from a spec, a dict (a parsed sweep file) or a YAML file's path."""
    if isinstance(spec_or_path, SweepSpec):
        return spec_or_path
    if isinstance(spec_or_path, Mapping):
        return SweepSpec.from_dict(spec_or_path)
    if isinstance(spec_or_path, (str, os.PathLike)):
        return SweepSpec.from_file(spec_or_path)
    raise TypeError(
        f"expected a SweepSpec, a mapping or a path to a sweep file, got "
        f"{type(spec_or_path).__name__}"
    )
