"""The ``hic`` commands' configurations: one typed dataclass each, a docstring per field.

:mod:`agents.compose.cli.config` parses them into the CLI (``hic COMMAND --help`` prints the
fields' docs). :class:`RunCommand` is the run's config
(:class:`~agents.compose.experiments.experiment.ExperimentConfig`, which sweeps build from a
sweep file, so a sweep configuration and the same flags on the command line give equal
experiments) plus how ``hic run`` writes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path
from typing import Literal

from agents.compose.cli.config import meta_flag
from agents.compose.experiments.experiment import ExperimentConfig, config_fields, import_field
from agents.compose.sweeps.spec import MAX_CONFIGURATIONS

__all__ = ["BenchCommand", "ListCommand", "PlotCommand", "RunCommand", "SweepCommand"]


# ---------------------------------------------------------------------------------- commands
@dataclasses.dataclass(frozen=True)
class ListCommand:
    """Registered environment IDs with their games and dimensions, and the learners; with
    --equilibria also each game's DSE and Nash equilibrium (computed, numerically for some
    games: about a second more)."""

    equilibria: bool = False
    """Also compute and print each game's DSE and Nash equilibrium."""
    imports: tuple[str, ...] = import_field()
    """Module to import first (registers users' games; repeatable)."""


@dataclasses.dataclass(frozen=True)
class RunCommand(ExperimentConfig):
    """Run S seeds of a leader against a follower in lockstep, writing results as it goes.

    Results are written as the run goes (updates.csv, summary.json, checkpoint.npz in --out),
    so an interrupted run keeps what it computed; --resume continues it and gives the same
    files as an uninterrupted run. Schedules left unset use the per-game presets.
    """

    # Optional here alone: hic run --resume --out DIR reads the ID from DIR.
    env_id: str | None = dataclasses.field(  # type: ignore[assignment]
        default=None, metadata={"positional": True, "metavar": "ID"}
    )
    """Environment ID, e.g. hic/Duopoly-v0 (may be omitted with --resume: the run in --out names it)."""  # noqa: E501
    out: str = dataclasses.field(default="", metadata={"required": True})
    """Output directory."""
    resume: bool = False
    """Continue the run in --out from its last checkpoint (ID and options may be omitted: then none may be given, since the run's are read from --out)."""  # noqa: E501
    restart: bool = False
    """Start again in an --out left by a run that stopped before its first checkpoint (only such a directory is cleared)."""  # noqa: E501
    force: bool = False
    """Replace a run already in --out (its updates.csv, summary.json and checkpoint.npz are removed first; a run still being written is refused)."""  # noqa: E501
    chunk: int | None = dataclasses.field(default=None, metadata={"metavar": "STAGES"})
    """Stages between CSV appends and progress updates (default about stages/200; never changes the results)."""  # noqa: E501
    checkpoint_seconds: float = 10.0
    """Wall time between checkpoints (0: after every chunk)."""
    allow_large_output: bool = False
    """Accept an updates.csv estimated above 1 GiB (the run says its estimate otherwise)."""
    progress: bool = True
    """Show a progress bar."""
    plot: bool = False
    """Also make the figures at the end."""

    def __post_init__(self) -> None:
        if not self.out.strip():
            raise ValueError(f"--out must be a directory path, got {self.out!r}")
        if self.force and self.resume:
            raise ValueError(
                "--force and --resume exclude each other: replace the run or continue it"
            )
        if not (self.resume and self.env_id is None):
            super().__post_init__()
            return
        # --resume without an ID: the config is read from --out, so an option given here would
        # be ignored; refuse it rather than run without it. Made in Python, an option is told
        # by a value other than its default; on the command line, by being given at all
        # (refuse_given, which parse calls).
        defaults = config_fields()
        self._refuse(
            self.out,
            [
                f.name
                for f in dataclasses.fields(ExperimentConfig)
                if f.name in defaults and getattr(self, f.name) != defaults[f.name][1]
            ]
            + [
                f"{role}_options.{k}"
                for role in ("leader", "follower")
                for k in getattr(self, f"{role}_options")
            ],
        )

    @classmethod
    def refuse_given(cls, values: dict, given: frozenset[str]) -> None:
        """Refuse the run's options given on the command line with ``--resume`` and no ID, at
        any value (:func:`agents.compose.cli.config.parse` calls this with the options'
        destinations, :func:`~agents.compose.cli.config.given_dests`).

        Raises:
            ValueError: naming the options given.
        """
        if values.get("resume") and values.get("env_id") is None:
            cls._refuse(values.get("out", ""), given)

    @staticmethod
    def _refuse(out: str, names: Collection[str]) -> None:
        """Refuse the config options (field names, ``ROLE_options.FIELD``) among ``names``
        (``imports``, needed to read a user's run, is not one)."""
        defaults = config_fields()
        flags: list[str] = []
        for f in dataclasses.fields(ExperimentConfig):
            if "flags" in f.metadata:  # a learner's options, by their flags
                flags += [o.flag for o in f.metadata["flags"]() if f"{f.name}.{o.field}" in names]
            elif f.name in defaults and f.name in names:
                flags.append(meta_flag(f))
        if flags:
            raise ValueError(
                f"--resume without an ID reads the run's options from {out}; the options "
                f"given ({', '.join(flags)}) would be ignored: give the ID and every option of "
                "the run (they are checked against it), or leave them out"
            )

    def experiment(self) -> ExperimentConfig:
        """The run's :class:`ExperimentConfig`: this command's config fields (checked when the
        command was made), without how the run is written."""
        names = [f.name for f in dataclasses.fields(ExperimentConfig)]
        return ExperimentConfig(**{n: getattr(self, n) for n in names})


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
    imports: tuple[str, ...] = import_field()
    """Module to import first: each module a run recorded (its game's, its learners') must be named here again."""  # noqa: E501


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
    max_configurations: int | None = dataclasses.field(
        default=MAX_CONFIGURATIONS, metadata={"metavar": "N"}
    )
    """Refuse a sweep file that expands to more configurations than N ('none': no cap); the count is known before expanding."""  # noqa: E501
    progress: bool = True
    """Show a progress bar over configurations."""
    plot: bool = False
    """Also make the sweep's figures."""
    batch: bool = True
    """Run the configurations that differ only in seeds, noise and numeric or schedule options as one engine run per group (the same files bit for bit, checkpoint included, but for the timing); --no-batch runs each configuration alone, checkpointed as it runs."""  # noqa: E501
    imports: tuple[str, ...] = import_field()
    """Module to import first (the sweep file's own imports are imported in every worker)."""

    def __post_init__(self) -> None:
        if not self.out.strip():
            raise ValueError(f"--out must be a directory path, got {self.out!r}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"--workers must be a positive integer, got {self.workers}")
        if self.max_configurations is not None and self.max_configurations < 1:
            raise ValueError(
                f"--max-configurations must be a positive integer or none, got "
                f"{self.max_configurations}"
            )
        if self.checkpoint_seconds < 0:
            raise ValueError(f"--checkpoint-seconds must be >= 0, got {self.checkpoint_seconds}")
