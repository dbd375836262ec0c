"""The options of one run: what a ``hic run`` command line or one configuration of a sweep
file describes, as one typed value with a docstring per field.

:class:`RunOptions` is shared by the CLI (:class:`agents.compose.cli.commands.RunCommand` adds
how the run is written: output directory, resume, chunk, checkpoints, progress, plot) and by
sweeps (:mod:`agents.compose.sweeps.spec` builds it from a sweep file's options), so a sweep
configuration and the same flags on the command line give equal experiments. Defaults that are
part of an experiment live once, in
:class:`~agents.compose.experiments.experiment.ExperimentConfig`.

The learners' own options are declared once, in their options classes (:mod:`agents.catalog`);
:func:`learner_options` names them for the command line and sweep files: a leader's field
``step_size`` is ``--step-size`` (sweep key ``step_size``), a follower's is
``--follower-step-size`` (``follower_step_size``), and a leader's field whose name another
option already has is ``--leader-NAME`` (LOLA's ``noise_std``: ``--leader-noise-std``).
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any, ClassVar

from agents import catalog
from agents.compose.experiments.experiment import ExperimentConfig
from agents.specs import field_docs, option_fields

__all__ = ["LearnerOption", "RunOptions", "import_field", "learner_options"]

_EXP = {f.name: f for f in dataclasses.fields(ExperimentConfig)}


def _default(name: str) -> Any:
    """An :class:`ExperimentConfig` default: defaults live once, in the config."""
    return _EXP[name].default


def import_field() -> Any:
    """The ``--import MODULE`` field (repeatable) of every command that resolves IDs."""
    return dataclasses.field(
        default=(), metadata={"flag": "--import", "append": True, "metavar": "MODULE"}
    )


@dataclasses.dataclass(frozen=True)
class LearnerOption:
    """One learner option as the command line and sweep files name it.

    Attributes:
        key: the sweep key (``"follower_step_size"``); the flag is ``--`` + key with dashes.
        role: ``"leader"`` or ``"follower"``.
        field: the field of the learners' options classes (``"step_size"``).
        type: the field's type (of the first learner that declares it).
        default: its default there.
        help: its docstring, with the learners that take it.
        learners: the catalog names of the learners that take it.
    """

    key: str
    role: str
    field: str
    type: Any
    default: Any
    help: str
    learners: tuple[str, ...]

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


def learner_options() -> dict[str, LearnerOption]:
    """Every registered learner's options, by sweep key (see the module docstring)."""
    taken = {f.name for f in dataclasses.fields(RunOptions)}
    found: dict[str, dict[str, list]] = {"leader": {}, "follower": {}}
    for role, table in (("follower", catalog.FOLLOWERS), ("leader", catalog.LEADERS)):
        for name, spec in sorted(table.items()):
            docs = field_docs(spec.options)
            for fname, (tp, default) in option_fields(spec.options).items():
                row = found[role].setdefault(fname, [tp, default, docs.get(fname, ""), []])
                row[3].append(name)
    out: dict[str, LearnerOption] = {}
    for fname, (tp, default, doc, names) in found["follower"].items():
        out[f"follower_{fname}"] = LearnerOption(
            f"follower_{fname}", "follower", fname, tp, default, doc, tuple(names)
        )
    for fname, (tp, default, doc, names) in found["leader"].items():
        key = fname if fname not in taken and fname not in out else f"leader_{fname}"
        out[key] = LearnerOption(key, "leader", fname, tp, default, doc, tuple(names))
    for opt in out.values():
        who = ", ".join(opt.learners)
        object.__setattr__(opt, "help", f"{opt.help} [{opt.role}s: {who}]".strip())
    return out


def _record_text(value: Any, where: str) -> str:
    """``record`` as the command line gives it: a whole number K (a sweep file's ``record:
    10``) is its text ``"10"``, so ``--record 10`` and the sweep file give one config."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected 'log', 'all', 'none', 'log:P' or an integer K, got {value!r}")
    return str(value)


#: The ``record`` option: text, or a whole number (its text).
RecordText = Annotated[str, _record_text]


def _learner_flags(role: str) -> list[LearnerOption]:
    return [o for o in learner_options().values() if o.role == role]


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What one run is: the game, the learners and their options, seeds and stages.

    Schedules left unset use the per-game presets.
    """

    env_id: str | None = dataclasses.field(
        default=None, metadata={"positional": True, "metavar": "ID"}
    )
    """Environment ID, e.g. hic/Duopoly-v0 (may be omitted with --resume)."""
    imports: tuple[str, ...] = import_field()
    """Module to import before resolving the ID (registers users' games or learners); one in the working directory is found, as python -m finds it."""  # noqa: E501
    leader: str = _default("leader")
    """Leader, by catalog name (listed above)."""
    follower: str = _default("follower")
    """Follower, by catalog name (listed above)."""
    seeds: int = _default("seeds")
    """Number of seeds S (batch rows)."""
    stages: int = _default("stages")
    """Stages to play (1e6 style accepted)."""
    seed: int = _default("seed")
    """Master seed."""
    game_kwargs: dict[str, Any] = dataclasses.field(
        default_factory=dict,
        metadata={"flag": "--game-kwarg", "append": True, "metavar": "KEY=VALUE"},
    )
    """Game constructor argument (repeatable), e.g. --game-kwarg a=60 (the value is read as a number or JSON where it is one)."""  # noqa: E501
    noise_std: float = _default("noise_std")
    """Payoff noise scale."""
    max_cycles: int = _default("max_cycles")
    """Episode length (observations restart at the box centres)."""
    record: RecordText = _default("record")
    """Updates written to the CSV: 'log' (all below 100, then 90 per decade), 'all', 'none', 'log:P' or an integer K (every K-th)."""  # noqa: E501
    backend: str = _default("backend")
    """Engine: 'numpy' or 'jax' (needs pip install -e ".[jax]"; same distribution of results, other random numbers)."""  # noqa: E501
    leader_options: dict[str, Any] = dataclasses.field(
        default_factory=dict, metadata={"flags": lambda: _learner_flags("leader")}
    )
    """The leader's own options (its options class's fields)."""
    follower_options: dict[str, Any] = dataclasses.field(
        default_factory=dict, metadata={"flags": lambda: _learner_flags("follower")}
    )
    """The follower's own options (its options class's fields)."""

    #: Options that were removed, by name, with the value of the option that replaces them:
    #: ``{old: (option, value)}``. ``hic run --OLD`` and a sweep file's ``OLD:`` are refused
    #: with a message naming the replacement (:func:`agents.compose.cli.config.parser_for`,
    #: the sweep reader); nothing converts them.
    REMOVED: ClassVar[dict[str, tuple[str, str]]] = dict.fromkeys(
        ("adaptive", "adaptive_tol", "adaptive_min", "adaptive_max"),
        (
            "commitment",
            "adaptive:tol=T,min_length=M,max_length=N (the removed options' defaults were "
            "adaptive:tol=0.01,min_length=2,max_length=10000)",
        ),
    )

    def experiment(self) -> ExperimentConfig:
        """The :class:`ExperimentConfig` these options describe (checked there, once): every
        field the config has, taken as it is.

        Raises:
            ValueError: for contradictory or bad options, naming them.
        """
        if self.env_id is None:
            raise ValueError("the environment ID is required (e.g. hic run hic/Duopoly-v0 ...)")
        kw: dict[str, Any] = {
            n: dict(v) if isinstance(v, dict) else v for n in _EXP for v in [getattr(self, n)]
        }
        return ExperimentConfig(**kw)

    @classmethod
    def from_flat(cls, values: dict[str, Any], **extra: Any) -> RunOptions:
        """Options from one flat mapping of run fields and learner keys (a sweep file's
        configuration: ``step_size``, ``follower_noise``, ...)."""
        learners = learner_options()
        kw: dict[str, Any] = {"leader_options": {}, "follower_options": {}, **extra}
        for k, v in values.items():
            if k in learners:
                opt = learners[k]
                if v is not None and not _same(v, opt.default):  # unset: the learner's default
                    kw[f"{opt.role}_options"][opt.field] = v
            else:
                kw[k] = v
        return cls(**kw)


def _same(value: Any, default: Any) -> bool:
    try:
        return type(value) is type(default) and bool(value == default)
    except (TypeError, ValueError):  # an array, say
        return False


def run_fields() -> dict[str, tuple[Any, Any]]:
    """``{name: (type, default)}`` of :class:`RunOptions`' own fields a sweep file may set."""
    hints = typing.get_type_hints(RunOptions, include_extras=True)
    out = {}
    for f in dataclasses.fields(RunOptions):
        if f.name in ("imports", "leader_options", "follower_options"):
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[operator]  # noqa: E501
        out[f.name] = (hints[f.name], default)
    return out
