"""The ``hic`` commands' configurations: one typed dataclass each, a docstring per field.

:mod:`agents.compose.config` parses them into the CLI (``hic COMMAND --help`` prints the
fields' docs); sweeps (:mod:`agents.compose.sweep`) build :class:`RunCommand` from a sweep
file's options, so a sweep configuration and the same flags on the command line give equal
experiments. Defaults that are part of an experiment live once, in
:class:`~agents.compose.experiment.ExperimentConfig`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Literal

from agents.compose.experiment import ExperimentConfig
from agents.specs import SCHEDULE_HELP

__all__ = ["BenchCommand", "ListCommand", "PlotCommand", "RunCommand", "SweepCommand"]

_EXP = {f.name: f for f in dataclasses.fields(ExperimentConfig)}


def _default(name: str) -> Any:
    """An :class:`ExperimentConfig` default: defaults live once, in the config."""
    return _EXP[name].default


def _import_field() -> Any:
    return dataclasses.field(
        default=(), metadata={"flag": "--import", "append": True, "metavar": "MODULE"}
    )


# ---------------------------------------------------------------------------------- commands
@dataclasses.dataclass(frozen=True)
class ListCommand:
    """Registered environment IDs with their dimensions, DSE and Nash equilibrium."""

    imports: tuple[str, ...] = _import_field()
    """Module to import first (registers users' games; repeatable)."""


@dataclasses.dataclass(frozen=True)
class RunCommand:
    """Run S seeds of a leader against a follower in lockstep, writing results as it goes.

    Results are written as the run goes (updates.csv, summary.json, checkpoint.npz in --out),
    so an interrupted run keeps what it computed; --resume continues it and gives the same
    files as an uninterrupted run. Schedules left unset use the per-game presets.
    """

    env_id: str | None = dataclasses.field(
        default=None, metadata={"positional": True, "metavar": "ID"}
    )
    """Environment ID, e.g. hic/Duopoly-v0 (may be omitted with --resume)."""
    out: str = dataclasses.field(default="", metadata={"required": True})
    """Output directory."""
    resume: bool = False
    """Continue the run in --out from its last checkpoint (ID and options may be omitted)."""
    imports: tuple[str, ...] = _import_field()
    """Module to import before resolving the ID (registers users' games or learners)."""
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
    game_kwarg: tuple[str, ...] = dataclasses.field(
        default=(), metadata={"append": True, "metavar": "KEY=VALUE"}
    )
    """Game constructor argument (repeatable), e.g. --game-kwarg a=60."""
    noise_std: float = _default("noise_std")
    """Payoff noise scale."""
    max_cycles: int = _default("max_cycles")
    """Episode length (observations restart at the box centres)."""
    step_size: str | None = dataclasses.field(default=None, metadata={"metavar": "SPEC"})
    """alpha_n (also the gradient baselines' step): """ + SCHEDULE_HELP
    perturbation: str | None = dataclasses.field(default=None, metadata={"metavar": "SPEC"})
    """delta_n: """ + SCHEDULE_HELP
    commitment: str | None = dataclasses.field(default=None, metadata={"metavar": "SPEC"})
    """k_n: an integer, 'power:...'/'log:...' (rounded up), or 'corollary:p=P[,beta=..,mu=..,B=..]' for Corollary 4.11."""  # noqa: E501
    baseline: float | None = dataclasses.field(default=None, metadata={"metavar": "LAM"})
    """Subtract a moving-average baseline with weight LAM in [0, 1)."""
    no_baseline: bool = False
    """Turn off a default baseline."""
    two_sided: bool = False
    """Antithetic two-interval estimate."""
    average_last: int | None = dataclasses.field(default=None, metadata={"metavar": "M"})
    """Average the payoff over the last M stages of each interval."""
    adaptive: bool = False
    """Adaptive commitment: end intervals once the follower has settled."""
    adaptive_tol: float = 0.01
    """Settling tolerance relative to delta_n."""
    adaptive_min: int = 2
    """Shortest adaptive interval."""
    adaptive_max: int = 10_000
    """Longest adaptive interval."""
    follower_step_size: str | None = dataclasses.field(default=None, metadata={"metavar": "SPEC"})
    """beta: """ + SCHEDULE_HELP
    follower_noise: float | None = None
    """Gradient-noise scale of the stochastic follower."""
    record: str = _default("record")
    """Updates written to the CSV: 'log' (all below 100, then 90 per decade), 'all', 'none', 'log:P' or an integer K (every K-th)."""  # noqa: E501
    chunk: int | None = dataclasses.field(default=None, metadata={"metavar": "STAGES"})
    """Stages between CSV appends and progress updates (default about stages/200; never changes the results)."""  # noqa: E501
    checkpoint_seconds: float = 10.0
    """Wall time between checkpoints (0: after every chunk)."""
    progress: bool = True
    """Show a progress bar."""
    plot: bool = False
    """Also make the figures at the end."""
    backend: str = _default("backend")
    """Engine: 'numpy' or 'jax' (needs pip install -e ".[jax]"; same distribution of results, other random numbers)."""  # noqa: E501

    def __post_init__(self) -> None:
        if not self.out.strip():
            raise ValueError(f"--out must be a directory path, got {self.out!r}")

    def experiment(self) -> ExperimentConfig:
        """The :class:`ExperimentConfig` these options describe.

        Raises:
            ValueError: for contradictory or bad options, naming them.
        """
        if self.env_id is None:
            raise ValueError("the environment ID is required (e.g. hic run hic/Duopoly-v0 ...)")
        if self.adaptive and self.commitment is not None:
            raise ValueError("--adaptive and --commitment exclude each other; pass one")
        if self.baseline is not None and self.no_baseline:
            raise ValueError("--baseline and --no-baseline exclude each other")
        commitment = self.commitment
        if self.adaptive:
            commitment = (
                f"adaptive:tol={self.adaptive_tol},min_length={self.adaptive_min},"
                f"max_length={self.adaptive_max}"
            )
        leader_options: dict[str, Any] = {
            "step_size": self.step_size,
            "perturbation": self.perturbation,
            "commitment": commitment,
            "baseline": self.baseline,
            "average_last": self.average_last,
        }
        if self.two_sided:
            leader_options["two_sided"] = True
        if self.no_baseline:
            leader_options["no_baseline"] = True
        leader_options = {k: v for k, v in leader_options.items() if v is not None}
        follower_options = {
            k: v
            for k, v in (("step_size", self.follower_step_size), ("noise", self.follower_noise))
            if v is not None
        }
        return ExperimentConfig(
            env_id=self.env_id,
            game_kwargs=dict(_kwarg(t) for t in self.game_kwarg),
            leader=self.leader,
            leader_options=leader_options,
            follower=self.follower,
            follower_options=follower_options,
            seeds=self.seeds,
            stages=self.stages,
            seed=self.seed,
            noise_std=self.noise_std,
            max_cycles=self.max_cycles,
            record=self.record,
            imports=self.imports,
            backend=self.backend,
        )


@dataclasses.dataclass(frozen=True)
class PlotCommand:
    """PNG figures of one run directory, or of several overlaid (with a table of final
    statistics)."""

    run_dirs: tuple[str, ...] = dataclasses.field(
        default=(), metadata={"positional": True, "nargs": "+", "metavar": "DIR"}
    )
    """Run directories (one: its figures; several: a comparison)."""
    out: Path | None = None
    """Figure directory (default: the run directory, or the first one's parent for several)."""
    imports: tuple[str, ...] = _import_field()
    """Module to import first (the runs' own recorded imports are imported too)."""


@dataclasses.dataclass(frozen=True)
class BenchCommand:
    """Seed-stages per second of the play loop and the batched engine, side by side."""

    quick: bool = False
    """Short measurements (a smoke run)."""
    sizes: tuple[int, ...] | None = None
    """Batch sizes (default 1 32 1000 100000; the JAX engine's: 32 1000 100000 when installed)."""
    seconds: float | None = None
    """Target seconds per measurement."""
    memory_stages: int | None = dataclasses.field(default=None, metadata={"metavar": "N"})
    """Stages of the memory check at S=1000 (default 1e5; 2e3 with --quick)."""
    pair_seeds: int = 32
    """Seeds of the rows per catalog leader x follower pair and backend (0 leaves them out)."""


def _kwarg(text: str) -> tuple[str, Any]:
    key, eq, val = text.partition("=")
    if not eq or not key.strip():
        raise ValueError(f"--game-kwarg: expected KEY=VALUE, got {text!r}")
    val = val.strip()
    for conv in (int, float, json.loads):
        try:
            return key.strip(), conv(val)
        except ValueError:
            continue
    return key.strip(), val


@dataclasses.dataclass(frozen=True)
class SweepCommand:
    """Run a grid of hic run configurations (a YAML sweep file) on a local process pool or a
    Ray cluster. Each configuration is written in hic run's layout under --out/<name>-<hash>/;
    the sweep's table is --out/sweep.csv."""

    file: str | None = dataclasses.field(
        default=None, metadata={"positional": True, "metavar": "FILE"}
    )
    """The sweep file (may be omitted with --resume)."""
    out: str = dataclasses.field(default="", metadata={"required": True})
    """Sweep directory."""
    executor: Literal["serial", "process", "ray"] = "process"
    """serial, process (a pool of spawned processes) or ray."""
    workers: int | None = dataclasses.field(default=None, metadata={"metavar": "N"})
    """Worker processes (process) or Ray tasks in flight (ray)."""
    address: str | None = None
    """ray: 'auto' (a cluster started with ray start) or ray://HOST:PORT; none starts a local cluster."""  # noqa: E501
    resume: bool = False
    """Continue the sweep in --out: skip finished configurations, resume partial ones, rerun failed ones."""  # noqa: E501
    checkpoint_seconds: float = 10.0
    """Each run's checkpoint interval."""
    dry_run: bool = False
    """List the configurations and their directories; run nothing."""
    progress: bool = True
    """Show a progress bar over configurations."""
    plot: bool = False
    """Also make the sweep's figures."""
    imports: tuple[str, ...] = _import_field()
    """Module to import first (the sweep file's own imports are imported in every worker)."""

    def __post_init__(self) -> None:
        if not self.out.strip():
            raise ValueError(f"--out must be a directory path, got {self.out!r}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"--workers must be a positive integer, got {self.workers}")
        if self.checkpoint_seconds < 0:
            raise ValueError(f"--checkpoint-seconds must be >= 0, got {self.checkpoint_seconds}")
