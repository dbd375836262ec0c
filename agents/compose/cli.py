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
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hic_envs
from agents import catalog
from agents.compose import config as cfgparse
from agents.compose import plotting, sweep, sweep_plots
from agents.compose.bench import format_report, run_benchmarks
from agents.compose.commands import (
    BenchCommand,
    ListCommand,
    PlotCommand,
    RunCommand,
    SweepCommand,
)
from agents.compose.experiment import (
    ExperimentConfig,
    Interrupted,
    import_modules,
    read_config,
    run_experiment,
)
from agents.compose.results import RunDirError, load_results

__all__ = [
    "BenchCommand",
    "ListCommand",
    "PlotCommand",
    "RunCommand",
    "main",
]


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
    if len(c.run_dirs) == 1 and (Path(c.run_dirs[0]) / sweep.SWEEP_JSON).exists():
        for path in sweep_plots.plot_sweep(c.run_dirs[0], c.out):
            print(path)
        return 0
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


def _cmd_sweep(c: SweepCommand) -> int:
    out = Path(c.out)
    if c.file is not None:
        spec = sweep.SweepSpec.from_file(c.file)
    elif c.resume:
        spec = sweep.SweepSpec.from_dict(
            sweep.load_sweep_summary(out)["spec"], source=str(out / sweep.SWEEP_JSON)
        )
    else:
        raise ValueError("the sweep file is required (e.g. hic sweep study.yaml --out DIR)")
    if c.dry_run:
        for p in spec.points():
            print(f"{p.index:4d}  {out / p.name}")
        return 0
    try:
        summary = sweep.run_sweep(
            spec,
            out,
            executor=c.executor,
            workers=c.workers,
            address=c.address,
            resume=c.resume,
            progress=c.progress,
            checkpoint_seconds=c.checkpoint_seconds,
        )
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; finished configurations are kept in {out}. Continue with:\n"
            f"  hic sweep --resume --out {out}",
            file=sys.stderr,
        )
        return 130
    print(sweep.format_table(summary))
    if c.plot:
        for path in sweep_plots.plot_sweep(out):
            print(path)
    n = summary["counts"]
    print(
        f"{n['finished']} finished ({n['skipped']} already done), {n['failed']} failed; "
        f"table in {out / sweep.SWEEP_CSV}"
    )
    return 1 if n["failed"] else 0


def _cmd_bench(c: BenchCommand) -> int:
    if c.pair_seeds < 0:
        raise ValueError(f"--pair-seeds must be 0 or more, got {c.pair_seeds!r}")
    kwargs: dict[str, Any] = {
        "quick": c.quick,
        "memory_stages": c.memory_stages,
        "pair_seeds": c.pair_seeds or None,
    }
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
    "sweep": (SweepCommand, _cmd_sweep, "run a grid of configurations (serial, processes, Ray)"),
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
    except (
        ValueError,
        TypeError,
        FileExistsError,
        RunDirError,
        OSError,
        RuntimeError,
        ImportError,
    ) as err:
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
