"""The ``hic`` command: list games, run many-seed experiments, plot them, benchmark, train.

Examples::

    hic list
    hic run hic/Duopoly-v0 --leader hic --follower gradient --seeds 32 --stages 1e6 --out runs/duo
    hic run --resume --out runs/duo          # continue an interrupted run
    hic run hic/Duopoly-v0 --out runs/duo --restart   # died before its first checkpoint
    hic plot runs/duo                        # figures of one run
    hic plot runs/a runs/b runs/c            # runs overlaid, with a table of final statistics
    hic bench --quick
    hic run mylab/MyGame-v0 --import mylab.games --out runs/mine   # a game of your own

Every command's options are one dataclass here (:class:`RunCommand`, ...), parsed by
:mod:`agents.compose.cli.config`; ``hic COMMAND --help`` prints them. ``--import MODULE``
(repeatable) imports users' modules that register games or learners before anything is
resolved, and ``hic run`` records them; ``hic plot`` and ``--resume`` of such a run import
them only when the user names them again (``--import``): a results file never decides what
code runs, and nothing is imported from a results directory.
Bad arguments, unknown IDs and file faults print ``hic COMMAND: error: ...`` naming the value
or file, and exit with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import sys
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hic_envs
from agents import catalog
from agents.compose import sweeps as sweep
from agents.compose.cli import config as cfgparse
from agents.compose.cli.commands import (
    BenchCommand,
    ListCommand,
    PlotCommand,
    RunCommand,
    SweepCommand,
)
from agents.compose.engines.bench import format_report, run_benchmarks
from agents.compose.experiments.experiment import (
    Interrupted,
    blas_limits,
    config_from_results,
    import_modules,
    learner_options,
    read_config,
    run_experiment,
)
from agents.compose.experiments.results import RunDirError, load_results
from agents.compose.plots import plotting, sweep_plots
from agents.compose.sweeps.batched import group_key

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

    # Only what is printed is computed: the equilibria (numeric for some games, about a
    # second in all) only with --equilibria.
    rows = []
    for env_id in hic_envs.list_envs():
        game = hic_envs.game_from_id(env_id)
        row: tuple[str, ...] = (env_id, game.name, str(game.d1), str(game.d2))
        if c.equilibria and not game.has_equilibria:
            row += ("unknown", "unknown")
        elif c.equilibria:
            dse, ne = game.stackelberg(), game.nash()
            row += (
                f"x*={fmt(dse.x)} y*={fmt(dse.y)}",
                "none" if ne is None else f"x={fmt(ne.x)} y={fmt(ne.y)}",
            )
        rows.append(row)
    head: tuple[str, ...] = ("ID", "game", "d1", "d2")
    head += ("DSE", "Nash") if c.equilibria else ()
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(_learners_text())
    return 0


_OPTS = "options: "


def _learners_text() -> str:
    """The learners and their options, made from the catalog's options classes (a user's
    registered learner is listed with its own options): two columns, filled to the terminal's
    width (:func:`~agents.compose.cli.config.help_width`) as ``--help`` is."""
    options = learner_options()
    tables = (("leader", catalog.LEADERS), ("follower", catalog.FOLLOWERS))
    width = cfgparse.help_width()

    def rows(pairs: list[tuple[str, str]], col: int) -> list[str]:
        out = []
        for a, b in pairs:
            wrapper = textwrap.TextWrapper(
                width=max(width, col + 30),
                initial_indent=f"  {a:<{col}}",
                # an options list's further lines under its first option
                subsequent_indent=" " * (col + 2 + (len(_OPTS) if b.startswith(_OPTS) else 0)),
                break_on_hyphens=False,
            )
            out += wrapper.wrap(b.replace("``", ""))
        return out

    lines: list[str] = []
    col = max(len(name) for _, table in tables for name in table) + 2  # both tables alike
    for role, table in tables:
        lines += ["", f"{role}s:"]
        pairs = []
        for name, spec in sorted(table.items()):
            # The options of this role's learner of that name (a method with a leader and a
            # follower, such as consensus, lists each role's under its own table).
            flags = [o.flag for o in options.values() if o.role == role and name in o.learners]
            pairs += [(name, spec.summary), ("", f"{_OPTS}{', '.join(flags) or 'none'}")]
        lines += rows(pairs, col)
    lines += ["", "options (hic run flags; in sweep files the same names without '--'):"]
    lines += rows(
        [(o.flag, o.help) for o in options.values()],
        max((len(o.flag) for o in options.values()), default=0) + 2,
    )
    return "\n".join(lines)


def _cmd_run(c: RunCommand) -> int:
    with blas_limits():  # the game's ground truth too is computed as in any executor
        return _run(c)


def _run(c: RunCommand) -> int:
    if c.resume and c.env_id is None:
        config = read_config(c.out, c.imports)
    else:
        config = c.experiment()  # checked once, in ExperimentConfig; built once, by the run
    # Memory and output are estimated by run_experiment, before it allocates or writes anything.
    try:
        with warnings.catch_warnings():
            # A damaged summary found by --resume is said as the other messages are.
            warnings.showwarning = _say_warnings("hic run")
            summary = run_experiment(
                config,
                c.out,
                resume=c.resume,
                progress=c.progress,
                chunk=c.chunk,
                checkpoint_seconds=c.checkpoint_seconds,
                restart=c.restart,
                allow_large_output=c.allow_large_output,
                force=c.force,
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
        return _cmd_plot(PlotCommand(run_dirs=(str(c.out),), imports=c.imports))
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
        cfg = run.summary["config"]
        _check_named_imports(cfg, Path(d) / "summary.json", c.imports)
        config = config_from_results(cfg, d)  # its modules: imported already, as the user named
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


def _check_named_imports(cfg: Any, source: Path, named: Sequence[str]) -> None:
    """Refuse a stored config whose recorded imports the user did not name with ``--import``
    (as ``hic run --resume`` does): a results file never decides what code runs.

    Raises:
        RunDirError: if the config or its ``imports`` field is malformed.
        ValueError: naming the modules and the flags to add.
    """
    if not isinstance(cfg, dict):
        raise RunDirError(f"{source}: holds no config")
    stored = cfg.get("imports") or []
    if not isinstance(stored, list) or not all(isinstance(m, str) for m in stored):
        raise RunDirError(f"{source}: field 'imports' must be a list of module names")
    unnamed = [m for m in stored if m not in named]
    if unnamed:
        flags = " ".join(f"--import {m}" for m in unnamed)
        raise ValueError(
            f"{source} names module(s) {unnamed} to import; a results file never decides what "
            f"code runs, so name them yourself to confirm: add {flags}"
        )


def _say_warnings(prog: str) -> Any:
    """A ``warnings.showwarning`` that prints ``PROG: warning: MESSAGE``, as errors are."""

    def say(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        print(f"{prog}: warning: {message}", file=sys.stderr)

    return say


def _cmd_sweep(c: SweepCommand) -> int:
    out = Path(c.out)
    if c.file is not None:
        spec = sweep.SweepSpec.from_file(c.file)
    elif c.resume:
        stored = sweep.load_sweep_summary(out)["spec"]
        unnamed = [m for m in (stored.get("imports") or []) if m not in c.imports]
        if unnamed:  # as for hic run --resume: a results file never decides what code runs
            flags = " ".join(f"--import {m}" for m in unnamed)
            raise ValueError(
                f"{out / sweep.SWEEP_JSON} names module(s) {unnamed} to import; a results file "
                f"never decides what code runs, so name them yourself to confirm: add {flags}"
            )
        spec = sweep.SweepSpec.from_dict(stored, source=str(out / sweep.SWEEP_JSON))
    else:
        raise ValueError("the sweep file is required (e.g. hic sweep study.yaml --out DIR)")
    # The size is known before anything is expanded (a cap refuses a runaway grid).
    print(f"sweep {spec.name}: {spec.describe_size()}", file=sys.stderr)
    if c.dry_run:
        points = spec.points(c.max_configurations)
        for p in points:
            print(f"{p.index:4d}  {out / p.name}")
        groups = sweep.batch_groups(points, group_key)
        rows = ", ".join(str(sum(p.config.seeds for p in g)) for g in groups)
        print(
            f"{len(groups)} group(s) of configurations that differ only in per-row values "
            f"(seeds, noise, numeric and schedule options): {rows} (configuration, seed) rows",
            file=sys.stderr,
        )
        return 0
    try:
        with warnings.catch_warnings():
            # A damaged run directory found by --resume is said as the other messages are.
            warnings.showwarning = _say_warnings("hic sweep")
            summary = sweep.run_sweep(
                spec,
                out,
                executor=c.executor,
                workers=c.workers,
                address=c.address,
                resume=c.resume,
                progress=c.progress,
                checkpoint_seconds=c.checkpoint_seconds,
                max_configurations=c.max_configurations,
                batch=c.batch,
            )
    except KeyboardInterrupt as err:
        n = getattr(err, "summary", {}).get("counts")
        what = (
            f"{n['finished']} finished ({n['skipped']} already done), {n['interrupted']} "
            f"interrupted with a checkpoint, {n['failed']} failed, {n['pending']} not started "
            f"(the table: {out / sweep.SWEEP_CSV}); "
            if n
            else ""
        )
        print(
            f"\ninterrupted; {what}finished configurations are kept in {out}. Continue with:\n"
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
    from agents.compose.experiments import training

    print(training.format_report(training.train_follower(c)))
    return 0


def _train_config() -> type:
    from agents.compose.experiments import training  # lazy: see _cmd_train_follower

    return training.TrainConfig


#: command -> (config class or a function returning it, action, one-line help)
COMMANDS: dict[str, tuple[Any, Any, str]] = {
    "list": (ListCommand, _cmd_list, "registered IDs and dimensions (--equilibria: DSE, Nash)"),
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
    and flags, their games known IDs).

    A module named here that is not found on ``sys.path`` but sits in the working directory
    (``NAME.py`` or a package ``NAME/``) is imported from there, as ``python -m`` finds it.
    Only the modules the user names on the command line get this: a run's recorded imports
    (``--resume``, ``hic plot``) are imported only when the user names them too, and nothing
    is imported from ``--out`` or from a directory named as an argument (``hic plot DIR``).
    """
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--import", dest="imports", action="append", default=[])
    pre.add_argument("--out", default=None)
    ns, rest = pre.parse_known_args(argv)
    if not ns.imports:
        return
    cwd = Path.cwd()
    for name in ns.imports:
        top = name.split(".")[0]
        in_cwd = (cwd / f"{top}.py").is_file() or (cwd / top / "__init__.py").is_file()
        if in_cwd and importlib.util.find_spec(top) is None and str(cwd) not in sys.path:
            sys.path.insert(0, str(cwd))
    # Nothing is imported from a results directory (python -m puts the working directory
    # first on sys.path): its files never decide what code runs.
    dirs = [a for a in rest if not a.startswith("-") and Path(a).is_dir()]
    import_modules(ns.imports, exclude=tuple(dirs) + ((ns.out,) if ns.out else ()))


def _top_help() -> str:
    lines = [
        "usage: hic COMMAND [options]   (hic COMMAND --help for its options; hic --version)",
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
    if argv and argv[0] in ("-V", "--version"):
        print(f"hic {hic_envs.__version__}")
        return 0
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
    width = max(len(k) for k in (*catalog.LEADERS, *catalog.FOLLOWERS)) + 2
    columns = max(cfgparse.help_width(), width + 22)  # a summary keeps 20 columns at least

    def table(specs: dict) -> str:  # a row per learner: its name, its summary wrapped beside it
        return "\n".join(
            textwrap.fill(
                v.summary,
                columns,
                initial_indent=f"  {k:<{width}}",
                subsequent_indent=" " * (width + 2),
                break_on_hyphens=False,  # "look-ahead", "Hessian-vector" whole
            )
            or f"  {k}"  # a learner registered without a summary is listed all the same
            for k, v in sorted(specs.items())
        )

    leaders, followers = table(catalog.LEADERS), table(catalog.FOLLOWERS)
    return f"{doc}\n\nleaders (--leader):\n\n{leaders}\n\nfollowers (--follower):\n\n{followers}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
