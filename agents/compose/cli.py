"""The ``hic`` command: list games, run many-seed experiments, plot them, benchmark, train.

Examples::

    hic list
    hic run hic/Duopoly-v0 --leader hic --follower gradient --seeds 32 --stages 1e6 --out runs/duo
    hic run --resume --out runs/duo          # continue an interrupted run
    hic plot runs/duo                        # figures of one run
    hic plot runs/a runs/b runs/c            # runs overlaid, with a table of final statistics
    hic bench --quick
    hic run mylab/MyGame-v0 --import mylab.games --out runs/mine   # a game of your own

Every command's options are one dataclass here (:class:`RunCommand`, ...), parsed by
:mod:`agents.compose.config`; ``hic COMMAND --help`` prints them. ``--import MODULE``
(repeatable) imports users' modules that register games or learners before anything is
resolved, and ``hic run`` records them so ``hic plot`` and ``--resume`` import them again.
Bad arguments, unknown IDs and file faults print ``hic COMMAND: error: ...`` naming the value
or file, and exit with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hic_envs
from agents import catalog
from agents.compose import config as cfgparse
from agents.compose import plotting
from agents.compose.bench import format_report, run_benchmarks
from agents.compose.experiment import (
    ExperimentConfig,
    Interrupted,
    import_modules,
    read_config,
    run_experiment,
)
from agents.compose.results import RunDirError, load_results
from agents.specs import SCHEDULE_HELP

__all__ = [
    "BenchCommand",
    "ListCommand",
    "PlotCommand",
    "RunCommand",
    "main",
]

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
    out: Path = dataclasses.field(default=None, metadata={"required": True})  # type: ignore[assignment]
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


# ---------------------------------------------------------------------------------- actions
def _cmd_list(c: ListCommand) -> int:
    def fmt(a) -> str:
        a = list(a)
        s = ", ".join(f"{v:.4g}" for v in a[:3])
        return f"[{s}{', ...' if len(a) > 3 else ''}]"

    rows = []
    for env_id in hic_envs.list_envs():
        game = hic_envs.game_from_id(env_id)
        dse, ne = game.stackelberg(), game.nash()
        rows.append(
            (
                env_id,
                str(game.d1),
                str(game.d2),
                f"x*={fmt(dse.x)} y*={fmt(dse.y)}",
                "none" if ne is None else f"x={fmt(ne.x)} y={fmt(ne.y)}",
            )
        )
    head = ("ID", "d1", "d2", "DSE", "Nash")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print("\nleaders:   " + ", ".join(sorted(catalog.LEADERS)))
    print("followers: " + ", ".join(sorted(catalog.FOLLOWERS)))
    return 0


def _cmd_run(c: RunCommand) -> int:
    if c.resume and c.env_id is None:
        config = read_config(c.out)
    else:
        config = c.experiment()
        config.build()  # fail on bad options before any file is written
    try:
        summary = run_experiment(
            config,
            c.out,
            resume=c.resume,
            progress=c.progress,
            chunk=c.chunk,
            checkpoint_seconds=c.checkpoint_seconds,
        )
    except Interrupted as stop:
        print(
            f"\ninterrupted; checkpoint written at stage {stop.stage} of {config.stages} in "
            f"{c.out}. Continue with:\n  hic run --resume --out {c.out}",
            file=sys.stderr,
        )
        return 130
    except KeyboardInterrupt:
        print(
            f"\ninterrupted twice; the last checkpoint in {c.out} is kept. Continue with:\n"
            f"  hic run --resume --out {c.out}",
            file=sys.stderr,
        )
        return 130
    final = summary["final"]
    d = final["distance_to_dse"]
    print(
        f"{config.seeds} seeds x {final['stage']} stages: distance to the DSE median "
        f"{d['median']:.4g} (IQR {d['q25']:.4g} - {d['q75']:.4g}, max {d['max']:.4g})"
    )
    if len(final["leader_strategy"]["median"]) <= 4:
        ls = final["leader_strategy"]
        print(
            f"final leader strategy min {_vec(ls['min'])} median {_vec(ls['median'])} "
            f"max {_vec(ls['max'])}; DSE x* = {_vec(summary['game']['stackelberg']['x'])}"
        )
    print(f"results in {c.out}")
    if c.plot:
        return _cmd_plot(PlotCommand(run_dirs=(str(c.out),)))
    return 0


def _vec(v) -> str:
    return "[" + ", ".join(f"{x:.5g}" for x in v) + "]"


def _cmd_plot(c: PlotCommand) -> int:
    runs, games = [], []
    for d in c.run_dirs:
        run = load_results(d)
        if len(run.seed) == 0:
            raise ValueError(f"{d} holds no recorded updates yet")
        config = ExperimentConfig.from_dict(run.summary["config"])  # imports its modules
        game, _, _ = config.build()
        runs.append(run)
        games.append(game)
    if len(runs) == 1:
        paths = plotting.plot_run(runs[0], games[0], c.out or c.run_dirs[0])
    else:
        out = c.out or Path(c.run_dirs[0]).parent
        paths, table = plotting.compare_runs(runs, games, out)
        print(table)
    for path in paths:
        print(path)
    return 0


def _cmd_bench(c: BenchCommand) -> int:
    kwargs: dict[str, Any] = {"quick": c.quick, "memory_stages": c.memory_stages}
    if c.sizes:
        kwargs["sizes"] = tuple(c.sizes)
    if c.seconds is not None:
        if not c.seconds > 0:
            raise ValueError(f"--seconds must be positive, got {c.seconds!r}")
        kwargs["seconds"] = c.seconds
    print(format_report(run_benchmarks(**kwargs, log=lambda m: print(m, file=sys.stderr))))
    return 0


def _cmd_train_follower(c) -> int:
    # Lazy (the one function-level import): training imports Stable-Baselines3 and torch,
    # seconds that no other command should pay.
    from agents.compose import training

    print(training.format_report(training.train_follower(c)))
    return 0


def _train_config() -> type:
    from agents.compose import training  # lazy: see _cmd_train_follower

    return training.TrainConfig


#: command -> (config class or a function returning it, action, one-line help)
COMMANDS: dict[str, tuple[Any, Any, str]] = {
    "list": (ListCommand, _cmd_list, "registered IDs, dimensions, DSE and Nash; the learners"),
    "run": (RunCommand, _cmd_run, "run a many-seed experiment, writing results as it goes"),
    "plot": (PlotCommand, _cmd_plot, "PNG figures of a run, or of several runs overlaid"),
    "bench": (BenchCommand, _cmd_bench, "seed-stages per second of play and run_batch"),
    "train-follower": (
        _train_config,
        _cmd_train_follower,
        "train an SB3 follower (SAC/PPO) against Hi-C",
    ),
}


def _pre_import(argv: list[str]) -> None:
    """Import ``--import`` modules before the parser is built (their learners become choices
    and their games known IDs)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--import", dest="imports", action="append", default=[])
    ns, _ = pre.parse_known_args(argv)
    import_modules(ns.imports)


def _top_help() -> str:
    lines = [
        "usage: hic COMMAND [options]   (hic COMMAND --help for its options)",
        "",
        "Leader-follower (Stackelberg) learning in differentiable games.",
        "",
        "commands:",
    ]
    lines += [f"  {name:<15} {h}" for name, (_, _, h) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hic`` console script. Returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_top_help(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(_top_help(), file=sys.stderr)
        print(
            f"hic: error: unknown command {name!r}; choose from {list(COMMANDS)}", file=sys.stderr
        )
        return 2
    cls, action, _ = COMMANDS[name]
    prog = f"hic {name}"
    try:
        _pre_import(rest)
        if not dataclasses.is_dataclass(cls):
            cls = cls()
        command = cfgparse.parse(cls, rest, prog=prog, description=_description(name, cls))
        return action(command)
    except SystemExit as exc:  # argparse has printed its message (or the help)
        return int(exc.code or 0)
    except (ValueError, TypeError, FileExistsError, RunDirError, OSError) as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`, which has exited
        return 0


def _description(name: str, cls: type) -> str | None:
    if name != "run":
        return None
    doc = " ".join((cls.__doc__ or "").split())
    leaders = "; ".join(f"{k}: {v.summary}" for k, v in sorted(catalog.LEADERS.items()))
    followers = "; ".join(f"{k}: {v.summary}" for k, v in sorted(catalog.FOLLOWERS.items()))
    return f"{doc} Leaders - {leaders}. Followers - {followers}."


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
