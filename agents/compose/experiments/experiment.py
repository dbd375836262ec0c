"""Many-seed experiments that stream their results to disk and resume after an interruption.

:func:`run_experiment` plays ``seeds`` independent copies of a (leader, follower) pair on a
registered game with :class:`~agents.compose.engines.runner.BatchRunner`, in chunks of stages. After
each chunk it appends the chunk's (thinned) update records to ``updates.csv``; every
``checkpoint_seconds`` (at the start, at the end, and when interrupted) it writes the
runner's state as data to ``checkpoint.npz`` together with the CSV's length, and rewrites
``summary.json``. An interrupted run therefore keeps every completed chunk, and
``resume=True`` truncates the CSV to the last checkpoint and carries on: since ``run(a)``
then ``run(b)`` equals ``run(a + b)``, the resumed run writes exactly what an uninterrupted
one writes. The files are described in :mod:`agents.compose.experiments.results`.

Guarantees: every file is replaced atomically (a crash leaves the old or the new one); a
directory is written by one process at a time (an exclusive lock); resuming reads only data
(``.npz`` without pickle, and JSON) and checks that the stored config equals the one given;
SIGINT and SIGTERM finish the current chunk, write a checkpoint and stop (a second signal
stops at once, losing at most the chunks since the last checkpoint); a NaN or infinite
strategy stops the run with an error naming the seed row and stage, the summary recording it;
so does a NaN or infinite reward (checked once per chunk). A checkpoint is checked against the
run before it is used (:mod:`.checkpoint`), and ``--resume`` imports only the
modules the user names, never from the results directory. Every run plays with
:func:`blas_threads` BLAS threads, so where it runs (``hic run``, any sweep executor) does not
change its bits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import json
import math
import numbers
import os
import platform
import signal
import sys
import threading
import time
import typing
import warnings
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np
import threadpoolctl

import hic_envs
from agents import catalog
from agents.base import BatchAgent
from agents.compose.engines.runner import BatchRunner, NonFiniteError, as_thinning, make_runner
from agents.compose.experiments import budget
from agents.compose.experiments.checkpoint import read_and_check
from agents.compose.experiments.results import (
    CHECKPOINT_NAME,
    CSV_NAME,
    LOCK_NAME,
    SUMMARY_NAME,
    RunDirError,
    atomic_write,
    csv_header,
    csv_rows,
    dump_json,
    lock_dir,
    open_regular,
    read_checkpoint,
    read_json,
    write_checkpoint,
)
from agents.specs import Parser, field_docs, option_fields, options_to_text
from hic_envs.games.base import Game
from hic_envs.registration import game_from_id
from hic_envs.stage import check_noise_scale

__all__ = [
    "BLAS_THREAD_VARS",
    "ExperimentConfig",
    "Interrupted",
    "LearnerOption",
    "blas_limits",
    "blas_threads",
    "config_fields",
    "config_from_results",
    "default_chunk",
    "import_field",
    "import_modules",
    "learner_options",
    "read_config",
    "run_experiment",
    "write_batched_run",
]


#: Environment variables that set the BLAS thread count (the first one set and valid wins).
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blas_threads() -> int:
    """BLAS threads every run plays with: the first of :data:`BLAS_THREAD_VARS` that holds a
    positive integer, else 1.

    Multi-threaded BLAS splits a product into other partial sums, so the thread count changes
    the last bits of results on large games (RandomQuadratic with d = 128); fixing it per run,
    in ``hic run`` and in every sweep executor alike, makes a run's bits independent of where
    it runs (same machine, same versions).
    """
    for var in BLAS_THREAD_VARS:
        v = os.environ.get(var, "").strip()
        if v.isdigit() and int(v) > 0:
            return int(v)
    return 1


def blas_limits() -> threadpoolctl.threadpool_limits:
    """A context in which BLAS runs :func:`blas_threads` threads (every run, and everything
    that computes what a run writes, such as a game's ground truth, runs inside one)."""
    return threadpoolctl.threadpool_limits(blas_threads(), "blas")


class Interrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM after writing a checkpoint.

    Attributes:
        stage: the stage the checkpoint holds (``--resume`` continues from it).
    """

    def __init__(self, stage: int) -> None:
        super().__init__(f"interrupted; checkpoint at stage {stage}")
        self.stage = stage


@contextlib.contextmanager
def _path_without(dirs: tuple[str | os.PathLike, ...]) -> Iterator[None]:
    """``sys.path`` without the entries that name one of ``dirs`` ('' and '.' name the working
    directory), for the duration."""
    if not dirs:
        yield
        return
    banned = {os.path.realpath(d) for d in dirs}
    saved = list(sys.path)
    sys.path[:] = [p for p in saved if os.path.realpath(p or os.curdir) not in banned]
    try:
        yield
    finally:
        kept = [p for p in sys.path if p not in saved]  # entries an import added on purpose
        sys.path[:] = saved + kept


def import_modules(
    names: tuple[str, ...] | list[str], *, exclude: tuple[str | os.PathLike, ...] = ()
) -> None:
    """Import users' modules (that register games or learners) by name.

    Args:
        names: module names.
        exclude: directories nothing is imported from (a results directory: its files never
            decide what code runs); they are taken off ``sys.path`` for these imports.

    Raises:
        ValueError: naming a module that cannot be imported, and why.
    """
    with _path_without(tuple(exclude)):
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError as err:
                raise ValueError(
                    f"cannot import module {name!r} ({err}); is it on PYTHONPATH (or installed)? "
                    "(hic ... --import NAME also finds NAME.py in the working directory)"
                ) from None


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
    """Every registered learner's options, by sweep key: a leader's field ``step_size`` is
    ``--step-size`` (sweep key ``step_size``), a follower's is ``--follower-step-size``
    (``follower_step_size``), and a leader's field whose name another option already has is
    ``--leader-NAME`` (LOLA's ``noise_std``: ``--leader-noise-std``)."""
    taken = {f.name for f in dataclasses.fields(ExperimentConfig)}
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


def _learner_flags(role: str) -> list[LearnerOption]:
    return [o for o in learner_options().values() if o.role == role]


def _record_text(value: Any, where: str) -> str:
    """``record`` as the command line gives it: a whole number K (a sweep file's ``record:
    10``) is its text ``"10"``, so ``--record 10`` and the sweep file give one config."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{where}: expected 'log', 'all', 'none', 'log:P' or an integer K, got {value!r}"
        )
    return str(int(value))  # a NumPy integer too (np.int64(10) is "10")


#: "The config's own" (:meth:`ExperimentConfig.make_runner`'s defaults).
_CONFIG: Any = object()

#: The ``record`` option: text, or a whole number (its text).
RecordText = Annotated[str, Parser(_record_text)]


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Everything that determines an experiment's results (JSON-serialisable): the game, the
    learners and their options, seeds and stages.

    Each field is declared here once, with its docstring: ``hic run``'s flags and help
    (:class:`agents.compose.cli.commands.RunCommand` adds how the run is written), a sweep
    file's keys (:func:`agents.compose.sweeps.spec.sweep_keys`) and their validation (here, in
    ``__post_init__``) are made from these fields; the learners' own options from their
    options classes (:func:`learner_options`). Schedules left unset use the per-game presets.
    How often results are written (chunks, checkpoints) is not part of the config: it does not
    change the results.
    """

    env_id: str = dataclasses.field(metadata={"positional": True, "metavar": "ID"})
    """Environment ID, a registered one such as hic/Duopoly-v0."""
    game_kwargs: dict[str, Any] = dataclasses.field(
        default_factory=dict,
        metadata={"flag": "--game-kwarg", "append": True, "metavar": "KEY=VALUE"},
    )
    """Game constructor argument (repeatable), e.g. --game-kwarg a=60 (the value is read as a number or JSON where it is one)."""  # noqa: E501
    leader: str = "hic"
    """Leader, by catalog name (agents.catalog.LEADERS; hic list shows them)."""
    leader_options: dict[str, Any] = dataclasses.field(
        default_factory=dict, metadata={"flags": lambda: _learner_flags("leader")}
    )
    """The leader's own options (its options class's fields, in any of their forms: text, YAML or Python values; None means the default), held as the typed values."""  # noqa: E501
    follower: str = "gradient"
    """Follower, by catalog name (agents.catalog.FOLLOWERS; hic list shows them)."""
    follower_options: dict[str, Any] = dataclasses.field(
        default_factory=dict, metadata={"flags": lambda: _learner_flags("follower")}
    )
    """The follower's own options, likewise."""
    seeds: int = 32
    """Number of seeds S (batch rows)."""
    stages: int = 1_000_000
    """Stages to play (1e6 style accepted)."""
    seed: int = 0
    """Master seed."""
    noise_std: float = 0.0
    """Payoff noise scale."""
    max_cycles: int = 1000
    """Episode length (observations restart at the box centres)."""
    record: RecordText = "log"
    """Updates written to the CSV: 'log' (all below 100, then 90 per decade), 'all', 'none', 'log:P' or an integer K (every K-th)."""  # noqa: E501
    imports: tuple[str, ...] = import_field()
    """Module to import before resolving the ID (registers users' games or learners); one in the working directory is found, as python -m finds it. Recorded, so that hic plot and --resume import it again."""  # noqa: E501
    backend: str = "numpy"
    """Engine: 'numpy' or 'jax' (needs pip install -e ".[jax]"; same distribution of results, other random numbers)."""  # noqa: E501

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

    def __post_init__(self) -> None:
        if self.env_id is None:
            raise ValueError("the environment ID is required (e.g. hic run hic/Duopoly-v0 ...)")
        if not isinstance(self.env_id, str) or not self.env_id.strip():
            raise ValueError(
                f"env_id must be a registered ID such as 'hic/Duopoly-v0', got {self.env_id!r}"
            )
        if isinstance(self.imports, str) or not all(isinstance(m, str) for m in self.imports):
            raise ValueError(f"imports must be a list of module names, got {self.imports!r}")
        object.__setattr__(self, "imports", tuple(self.imports))
        import_modules(self.imports)
        for nm in ("seeds", "stages", "max_cycles"):
            v = getattr(self, nm)
            if isinstance(v, float) and v.is_integer():
                v = int(v)
                object.__setattr__(self, nm, v)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{nm} must be a positive integer, got {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not (
            isinstance(self.noise_std, (int, float))
            and math.isfinite(self.noise_std)
            and self.noise_std >= 0
        ):
            raise ValueError(f"noise_std must be a finite number >= 0, got {self.noise_std!r}")
        check_noise_scale("noise_std", self.noise_std)
        specs = {r: catalog.learner_spec(r, getattr(self, r)) for r in ("leader", "follower")}
        for role, spec in specs.items():
            opts = getattr(self, f"{role}_options")
            if not isinstance(opts, dict):
                raise ValueError(f"{role}_options must be a mapping, got {opts!r}")
            object.__setattr__(self, f"{role}_options", spec.check_options(opts, f"{role}_options"))
        # The field's own parser (an integer K is its text), so that record=10 here, --record
        # 10 and a sweep file's record: 10 are one config, with one hash.
        object.__setattr__(self, "record", _record_text(self.record, "record"))
        as_thinning(self.record)
        if self.backend not in ("numpy", "jax"):
            raise ValueError(f"backend must be 'numpy' or 'jax', got {self.backend!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (round-trips through :meth:`from_dict`)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for role, table in (("leader", catalog.LEADERS), ("follower", catalog.FOLLOWERS)):
            cls = table[getattr(self, role)].options
            d[f"{role}_options"] = options_to_text(cls(**getattr(self, f"{role}_options")))
        d = json.loads(json.dumps(d))
        if not d["imports"]:
            del d["imports"]  # runs without user modules keep the layout they always had
        if d["backend"] == "numpy":
            del d["backend"]  # and NumPy runs too
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExperimentConfig:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(d, dict):
            raise ValueError(f"a config must be a JSON object, got {type(d).__name__}")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - fields
        if unknown:
            raise ValueError(f"unknown config field(s) {sorted(unknown)}")
        d = dict(d)
        if "imports" in d and isinstance(d["imports"], list):
            d["imports"] = tuple(d["imports"])
        try:
            return cls(**d)
        except TypeError as err:
            raise ValueError(f"bad config: {err}") from None

    def game(self) -> Game:
        """The config's game (made once per config object: some games solve for their
        equilibria when they are made)."""
        game = self.__dict__.get("_game")
        if game is None:
            game = game_from_id(self.env_id, self.game_kwargs)
            object.__setattr__(self, "_game", game)
        return game

    def check_budget(
        self,
        out_dir: str | Path | None = None,
        chunk: int | None = None,
        *,
        allow_large_output: bool = False,
        resume: bool = False,
    ) -> budget.Estimate:
        """Refuse a run that cannot fit in memory or on disk before anything is allocated
        (:func:`agents.compose.experiments.budget.check`, a few thousand stages of one seed)."""
        chunk = default_chunk(self) if chunk is None else chunk
        return budget.check(
            self,
            self.game(),
            out_dir,
            chunk,
            allow_large_output=allow_large_output,
            resume=resume,
        )

    def build(
        self, game: Game | None = None, seeds: int | None = None
    ) -> tuple[Game, BatchAgent, BatchAgent]:
        """``(game, leader, follower)`` built from the config (agents not yet reset).

        Args:
            game: the config's game, already built (default: a new one, :meth:`game`).
            seeds: batch rows of the agents (default: the config's ``seeds``); the memory
                estimate and the checkpoint schema build the config at 1 and 2 rows.
        """
        game = self.game() if game is None else game
        S = self.seeds if seeds is None else seeds
        follower = catalog.make_follower(self.follower, game, S, dict(self.follower_options))
        leader = catalog.make_leader(
            self.leader, game, S, dict(self.leader_options), partner=follower
        )
        return game, leader, follower

    def make_runner(
        self,
        built: tuple[Game, BatchAgent, BatchAgent],
        *,
        record: Any = _CONFIG,
        backend: Any = _CONFIG,
    ) -> Any:
        """The engine's runner of ``built`` (:meth:`build`'s agents) with the config's seed,
        noise and episode length, recording as ``record`` and on ``backend`` (default: the
        config's own)."""
        game, leader, follower = built
        return make_runner(
            game,
            leader,
            follower,
            self.seed,
            noise_std=self.noise_std,
            max_cycles=self.max_cycles,
            record=self.record if record is _CONFIG else record,
            backend=self.backend if backend is _CONFIG else backend,
        )


def config_fields() -> dict[str, tuple[Any, Any]]:
    """``{name: (type, default)}`` of :class:`ExperimentConfig`'s fields that a sweep file may
    set by name (the learners' options are set by their keys, :func:`learner_options`)."""
    hints = typing.get_type_hints(ExperimentConfig, include_extras=True)
    out = {}
    for f in dataclasses.fields(ExperimentConfig):
        if f.name in ("imports", "leader_options", "follower_options"):
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None  # env_id: required, no default
        out[f.name] = (hints[f.name], default)
    return out


# ---------------------------------------------------------------------------------- running
def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("hic-envs", "numpy", "scipy", "gymnasium", "pettingzoo"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    if out["hic-envs"] == "not installed":
        out["hic-envs"] = hic_envs.__version__ + " (source tree)"
    return out


def _resolved(leader: Any, follower: Any) -> dict[str, str]:
    out = {"leader": type(leader).__name__, "follower": type(follower).__name__}
    for role, agent in (("leader", leader), ("follower", follower)):
        for key in (
            "step_size",
            "perturbation",
            "commitment",
            "baseline",
            "average_last",
            "two_sided",
            "noise_std",
        ):
            if hasattr(agent, key):
                out[f"{role}.{key}"] = repr(getattr(agent, key))
    return out


def _final_stats(game, runner: BatchRunner, payoff: bool) -> dict[str, Any]:
    x = runner.leader.strategies
    y = runner.follower.strategies
    dist = game.distance_to_stackelberg(x)
    q = lambda a: {  # noqa: E731
        "min": float(np.min(a)),
        "q25": float(np.quantile(a, 0.25)),
        "median": float(np.median(a)),
        "q75": float(np.quantile(a, 0.75)),
        "max": float(np.max(a)),
        "mean": float(np.mean(a)),
    }
    out: dict[str, Any] = {
        "stage": runner.stage,
        "distance_to_dse": q(dist),
        "leader_strategy": {
            k: np.quantile(x, p, axis=0).tolist()
            for k, p in (("min", 0.0), ("median", 0.5), ("max", 1.0))
        },
        "follower_strategy_median": np.median(y, axis=0).tolist(),
        "leader_updates_median": float(np.median(runner.updates)),
    }
    if payoff:  # f1(x, r(x)): one best-response solve per seed for numeric games
        out["hierarchical_payoff"] = q(game.hierarchical_payoff(x))
    return out


def default_chunk(config: ExperimentConfig) -> int:
    """Stages per chunk: about 200 chunks per run, at most ``2e7`` seed-stages each."""
    cap = max(100, 20_000_000 // config.seeds)
    return max(1, min(config.stages, max(100, min(config.stages // 200, cap))))


def config_from_results(cfg: dict[str, Any], run_dir: str | os.PathLike) -> ExperimentConfig:
    """:meth:`ExperimentConfig.from_dict` of a config read from ``run_dir``'s files, importing
    its recorded modules from anywhere but ``run_dir`` (a results directory never supplies
    code, even when it is the working directory of ``python -m``)."""
    with _path_without((run_dir,)):
        return ExperimentConfig.from_dict(cfg)


def read_config(
    out_dir: str | os.PathLike, named_imports: tuple[str, ...] | list[str] = ()
) -> ExperimentConfig:
    """The config of the run in ``out_dir``: from its checkpoint, else its summary.

    A results file never decides what code runs: the modules the stored config imports must
    all be among ``named_imports`` (the user's ``--import``), and nothing is imported from
    ``out_dir`` itself.

    Raises:
        RunDirError: if neither file holds a config, naming the files.
        ValueError: if the stored config imports a module the user did not name.
    """
    out = Path(out_dir)
    ckpt, summary = out / CHECKPOINT_NAME, out / SUMMARY_NAME
    if ckpt.exists():
        _, meta = read_checkpoint(ckpt, arrays=False)
        cfg, source = meta.get("config"), ckpt
    elif summary.exists():
        cfg, source = read_json(summary).get("config"), summary
    else:
        raise RunDirError(
            f"{out} holds no run ({CHECKPOINT_NAME} and {SUMMARY_NAME} are missing); if a run "
            "crashed there before its first checkpoint, start it again with --restart"
        )
    if not isinstance(cfg, dict):
        raise RunDirError(f"{out}: its checkpoint and summary hold no config")
    stored = cfg.get("imports", [])
    if not isinstance(stored, list) or not all(isinstance(m, str) for m in stored):
        raise RunDirError(f"{source}: field 'imports' must be a list of module names")
    unnamed = [m for m in stored if m not in named_imports]
    if unnamed:
        flags = " ".join(f"--import {m}" for m in unnamed)
        raise ValueError(
            f"{source} names module(s) {unnamed} to import; a results file never decides what "
            f"code runs, so name them yourself to confirm: add {flags}"
        )
    return config_from_results(cfg, out)


@contextlib.contextmanager
def _deferred_signals() -> Iterator[dict[str, bool]]:
    """SIGINT/SIGTERM set a flag (checked after each chunk); a second one interrupts at once."""
    flag = {"stop": False}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag["stop"]:
            raise KeyboardInterrupt
        flag["stop"] = True

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run_experiment(
    config: ExperimentConfig,
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    progress: bool = True,
    chunk: int | None = None,
    checkpoint_seconds: float = 10.0,
    on_chunk: Callable[[dict[str, Any]], None] | None = None,
    restart: bool = False,
    allow_large_output: bool = False,
    force: bool = False,
) -> dict[str, Any]:
    """Run (or resume) an experiment, writing ``updates.csv``, ``summary.json`` and
    ``checkpoint.npz`` into ``out_dir`` as it goes. Returns the final summary.

    Args:
        config: the experiment.
        out_dir: output directory (created if needed).
        force: replace a run already in ``out_dir`` (its files are removed once the
            directory's lock is held; a run still being written is refused, not removed).
        resume: continue the run in ``out_dir`` from its last checkpoint, dropping CSV rows
            written after it. Its stored config must equal ``config``. Without ``resume``,
            ``out_dir`` must not hold a run.
        progress: show a tqdm progress bar (stages, ETA, median distance to the DSE).
        chunk: stages per chunk (default :func:`default_chunk`).
        checkpoint_seconds: minimum wall time between checkpoints (0: after every chunk).
        on_chunk: called with ``{"stage": ..., "checkpointed": bool}`` after each chunk.
        restart: start again in a directory left by a run that crashed before its first
            checkpoint (it holds ``updates.csv`` but no checkpoint and no summary): its files
            are removed first. A directory holding a checkpoint or a summary is refused (resume
            it, or choose another directory).
        allow_large_output: accept a CSV estimated above
            :data:`agents.compose.experiments.budget.LARGE_OUTPUT` bytes.

    Raises:
        FileExistsError: ``out_dir`` already holds a run and neither ``resume`` nor ``force``.
        RunDirError: a file of ``out_dir`` is missing, unreadable or inconsistent, or another
            process is writing it.
        ValueError: ``resume`` with a different config, or a bad ``chunk``.
        Interrupted: after SIGINT/SIGTERM, once the checkpoint is written.
        NonFiniteError: a strategy became NaN or infinite.
    """
    with blas_limits():
        return _run_experiment(
            config, out_dir, resume, progress, chunk, checkpoint_seconds, on_chunk, restart,
            allow_large_output, force,
        )  # fmt: skip


def _run_experiment(
    config, out_dir, resume, progress, chunk, checkpoint_seconds, on_chunk, restart,
    allow_large_output, force,
):  # fmt: skip
    if str(out_dir) == "":
        raise ValueError("out_dir must be a directory path, got ''")
    out = Path(out_dir)
    csv_path, summary_path, ckpt_path = out / CSV_NAME, out / SUMMARY_NAME, out / CHECKPOINT_NAME
    chunk = default_chunk(config) if chunk is None else chunk
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    if not (isinstance(checkpoint_seconds, (int, float)) and checkpoint_seconds >= 0):
        raise ValueError(f"checkpoint_seconds must be >= 0, got {checkpoint_seconds!r}")
    cfg = config.to_dict()
    if resume and restart:
        raise ValueError("--resume and --restart exclude each other; pass one")
    config.check_budget(out, chunk, allow_large_output=allow_large_output, resume=resume)
    # Built once, here: bad options fail before any file or directory is written.
    built = config.build()
    if resume:
        if not out.is_dir():
            raise RunDirError(f"--resume: {out} is not a directory holding a run")
    else:
        if force and restart:
            raise ValueError("--force and --restart exclude each other; pass one")
        if not (restart or force) and any(p.exists() for p in (summary_path, csv_path, ckpt_path)):
            crashed = csv_path.exists() and not (summary_path.exists() or ckpt_path.exists())
            raise FileExistsError(
                f"{out} holds a run that stopped before its first checkpoint; start it again "
                "with --restart (restart=True), or choose another output directory"
                if crashed
                else f"{out} already holds a run; pass resume=True (--resume) to continue it, "
                "force=True (--force) to replace it, or choose another output directory"
            )
        out.mkdir(parents=True, exist_ok=True)
    with lock_dir(out) as lock:
        if restart:
            _clear_unstarted(out)
        if force and not resume:  # under the lock: a live run's files are never removed
            for path in (ckpt_path, summary_path, csv_path):
                path.unlink(missing_ok=True)
        return _run_locked(
            config, built, cfg, out, resume, progress, chunk, checkpoint_seconds, on_chunk, lock
        )


def _clear_unstarted(out: Path) -> None:
    """Remove what a run that crashed before its first checkpoint left (under the lock)."""
    for name in (CHECKPOINT_NAME, SUMMARY_NAME):
        if (out / name).exists() or (out / name).is_symlink():
            raise FileExistsError(
                f"--restart: {out} holds {name}, so its run got past its first checkpoint; "
                "continue it with --resume, or choose another output directory"
            )
    for p in [out / CSV_NAME, out / LOCK_NAME, *out.glob(f".{CSV_NAME}.*.tmp")]:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _no_checkpoint_message(out: Path, ckpt_path: Path, summary_path: Path) -> str:
    """Why ``--resume`` cannot go on without a checkpoint: a finished run written without one
    (by a batched sweep of an earlier version, which kept none) has nothing to resume; any
    other run stopped before its first checkpoint and starts again with ``--restart``."""
    try:
        summary = read_json(summary_path)
    except RunDirError:
        summary = {}
    files, progress = summary.get("files"), summary.get("progress")
    if (
        isinstance(files, dict)
        and "checkpoint" not in files
        and isinstance(progress, dict)
        and progress.get("complete") is True
    ):
        return (
            f"--resume: {out} holds a finished run written without a checkpoint (by a "
            "batched sweep of an earlier version, which kept none): there is nothing to "
            "resume; to play more stages, run it again with more --stages"
        )
    return (
        f"--resume: {ckpt_path} is missing, so {out} cannot be resumed; if its run "
        "stopped before its first checkpoint, start it again with --restart"
    )


def _run_locked(
    config, built, cfg, out, resume, progress, chunk, checkpoint_seconds, on_chunk, lock
):  # fmt: skip
    csv_path, summary_path, ckpt_path = out / CSV_NAME, out / SUMMARY_NAME, out / CHECKPOINT_NAME
    game, leader, follower = built
    runner = config.make_runner(built)
    if resume:
        if not ckpt_path.exists() and not ckpt_path.is_symlink():
            raise RunDirError(_no_checkpoint_message(out, ckpt_path, summary_path))
        # Everything is checked before anything is written (read_and_check loads the runner).
        meta, csv_hash = read_and_check(ckpt_path, csv_path, config, cfg, game, runner)
        if summary_path.exists() or summary_path.is_symlink():
            # summary.json is derived (from the checkpoint and updates.csv) and rewritten at
            # once; say so where it was damaged rather than replace it silently.
            try:
                read_json(summary_path)
            except RunDirError as err:
                warnings.warn(
                    f"{err}; it is rewritten from the checkpoint", RuntimeWarning, stacklevel=2
                )
        csv_bytes, elapsed = meta["csv_bytes"], float(meta["elapsed"])
        with lock.writing(), open_regular(csv_path, "r+b") as f:  # drop rows after the checkpoint
            f.truncate(csv_bytes)
            f.flush()
            os.fsync(f.fileno())
    else:
        header = csv_header(game.d1, game.d2).encode()
        with lock.writing():
            atomic_write(csv_path, header)
        csv_bytes = len(header)
        csv_hash = hashlib.sha256(header)
        elapsed = 0.0

    summary: dict[str, Any] = {
        "config": cfg,
        # The learners as built (the JAX engine's runner holds views of them).
        "resolved": _resolved(leader, follower),
        "game": game.info(),
        "record": runner.thinning.describe(),
        "files": {"updates": CSV_NAME, "checkpoint": CHECKPOINT_NAME},
        "versions": _versions(),
    }
    t_start = time.perf_counter()

    def write_summary(error: str | None = None) -> None:
        if error is not None:  # keep the statistics of the last good chunk, add the error
            summary["error"] = error
            with lock.writing():
                atomic_write(summary_path, dump_json(summary))
            return
        complete = runner.stage >= config.stages
        summary["progress"] = {
            "stage": runner.stage,
            "stages": config.stages,
            "complete": complete,
            "csv_bytes": csv_bytes,
        }
        summary.pop("current", None)
        summary["final" if complete else "current"] = _final_stats(game, runner, complete)
        total = elapsed + (time.perf_counter() - t_start)
        summary["timing"] = {
            "wall_seconds": total,
            "seed_stages_per_second": runner.stage * config.seeds / total if total else None,
        }
        with lock.writing():
            atomic_write(summary_path, dump_json(summary))

    def checkpoint() -> None:
        total = elapsed + (time.perf_counter() - t_start)
        meta = {
            "config": cfg,
            "csv_bytes": csv_bytes,
            "csv_sha256": csv_hash.hexdigest(),
            "elapsed": total,
            "stage": runner.stage,
        }
        with lock.writing():
            write_checkpoint(ckpt_path, runner.state_dict(), meta)
        write_summary()

    bar = None
    if progress:
        from tqdm.auto import tqdm  # progress bars only when shown

        bar = tqdm(
            total=config.stages,
            initial=runner.stage,
            unit="stage",
            unit_scale=True,
            desc=f"{config.leader} on {config.env_id}",
            dynamic_ncols=True,
        )
    try:
        with _deferred_signals() as flag:
            checkpoint()  # at the start, and (resumed) the summary of a finished run again
            last = time.perf_counter()
            while runner.stage < config.stages:
                n = min(chunk, config.stages - runner.stage)
                try:
                    h = runner.run(n)
                except NonFiniteError as err:
                    write_summary(error=str(err))
                    raise
                dist = game.distance_to_stackelberg(h.leader_strategies)
                rows = csv_rows(h, dist).encode()
                with lock.writing(), open(csv_path, "ab") as f:
                    f.write(rows)
                    f.flush()
                csv_bytes += len(rows)
                csv_hash.update(rows)
                now = time.perf_counter()
                saved = (
                    runner.stage >= config.stages
                    or now - last >= checkpoint_seconds
                    or flag["stop"]
                )
                if saved:
                    checkpoint()
                    last = time.perf_counter()
                if bar is not None:
                    bar.update(n)
                    med = float(np.median(game.distance_to_stackelberg(h.final_leader)))
                    bar.set_postfix_str(f"median dist to DSE {med:.3g}", refresh=False)
                if on_chunk is not None:
                    on_chunk({"stage": runner.stage, "checkpointed": saved})
                if flag["stop"] and runner.stage < config.stages:
                    raise Interrupted(runner.stage)
    finally:
        if bar is not None:
            bar.close()
    return summary


def write_batched_run(
    config: ExperimentConfig,
    out_dir: str | os.PathLike,
    csv_body: bytes,
    final: Any,
    wall_seconds: float,
) -> dict[str, Any]:
    """Write a finished run that was played as one block of a batch of several
    (:class:`~agents.compose.engines.runner.Block`): the files :func:`run_experiment` writes
    for ``config`` at its end, ``updates.csv``, ``checkpoint.npz`` and ``summary.json``, bit
    for bit but for the timing (the checkpoint's ``elapsed`` and the summary's ``timing``),
    so ``hic run --resume`` and ``hic sweep --resume`` take the directory as they take one of
    ``hic run``.

    Args:
        config: the run's configuration.
        out_dir: its directory (created if needed; it must hold no run).
        csv_body: the CSV's rows after the header (:func:`~.results.csv_rows` of its block).
        final: the block at the end: ``stage``, ``updates`` ``(S,)``, ``leader`` /
            ``follower`` with ``strategies`` (what the summary's statistics read) and
            ``state``, the runner state of the block's run alone
            (:meth:`~agents.compose.engines.runner.BatchRunner.block_state_dict`), or None
            for a run written without a checkpoint (``files`` then names only the CSV).
        wall_seconds: its share of the batch's wall time.

    Returns:
        The summary written.

    Raises:
        FileExistsError: ``out_dir`` already holds a run's files.
    """
    out = Path(out_dir)
    cfg = config.to_dict()
    game, leader, follower = config.build()
    data = csv_header(game.d1, game.d2).encode() + csv_body
    state = getattr(final, "state", None)
    files = {"updates": CSV_NAME}
    if state is not None:
        files["checkpoint"] = CHECKPOINT_NAME
    summary: dict[str, Any] = {
        "config": cfg,
        "resolved": _resolved(leader, follower),
        "game": game.info(),
        "record": as_thinning(config.record).describe(),
        "files": files,
        "versions": _versions(),
        "progress": {
            "stage": final.stage,
            "stages": config.stages,
            "complete": final.stage >= config.stages,
            "csv_bytes": len(data),
        },
        "final": _final_stats(game, final, True),
        "timing": {
            "wall_seconds": wall_seconds,
            "seed_stages_per_second": (
                final.stage * config.seeds / wall_seconds if wall_seconds else None
            ),
        },
    }
    out.mkdir(parents=True, exist_ok=True)
    with lock_dir(out) as lock:
        taken = [
            p for p in (out / SUMMARY_NAME, out / CSV_NAME, out / CHECKPOINT_NAME) if p.exists()
        ]
        if taken:
            raise FileExistsError(f"{out} already holds a run ({taken[0].name})")
        with lock.writing():
            atomic_write(out / CSV_NAME, data)
        if state is not None:  # as run_experiment's last checkpoint, before the summary
            meta = {
                "config": cfg,
                "csv_bytes": len(data),
                "csv_sha256": hashlib.sha256(data).hexdigest(),
                "elapsed": wall_seconds,
                "stage": final.stage,
            }
            with lock.writing():
                write_checkpoint(out / CHECKPOINT_NAME, state, meta)
        with lock.writing():
            atomic_write(out / SUMMARY_NAME, dump_json(summary))
    return summary
