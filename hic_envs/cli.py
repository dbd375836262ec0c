"""The ``hic`` command: list games, run many-seed experiments, plot them, benchmark.

Examples::

    hic list
    hic run hic/Duopoly-v0 --leader hic --follower gradient --seeds 32 --stages 1e6 --out runs/duo
    hic run --resume --out runs/duo          # continue an interrupted run
    hic plot runs/duo
    hic bench --quick

Bad arguments print ``hic: error: ...`` naming the bad value and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]

_SCHEDULE_HELP = (
    "a number (constant) or 'power:a=A,gamma=G[,A=OFFSET]' for a/(n+1+OFFSET)^G, "
    "'log:a=A[,base=B]' for a/log(n+B)"
)


class _UsageError(ValueError):
    """A bad command-line value (reported without a traceback, exit status 2)."""


def _count(text: str) -> int:
    """A positive integer, also written as a float (``1e6``)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if not (v.is_integer() and v >= 1):
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(v)


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return v


def _nonneg_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (v >= 0 and v != float("inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return v


def _kwarg(text: str) -> tuple[str, Any]:
    key, eq, val = text.partition("=")
    if not eq or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    val = val.strip()
    for conv in (int, float, json.loads):
        try:
            return key.strip(), conv(val)
        except ValueError:
            continue
    return key.strip(), val


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hic",
        description="Leader-follower (Stackelberg) learning in differentiable games.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("list", help="registered environment IDs, dimensions, DSE and Nash")

    r = sub.add_parser(
        "run",
        help="run a many-seed experiment, writing updates.csv and summary.json as it goes",
        description="Run S seeds of a leader against a follower in lockstep. Results are "
        "written as the run goes (updates.csv, summary.json, checkpoint.pkl in --out), so an "
        "interrupted run keeps what it computed; --resume continues it and gives the same "
        "files as an uninterrupted run. Schedules left unset use the per-game defaults.",
    )
    r.add_argument("env_id", nargs="?", metavar="ID", help="environment ID, e.g. hic/Duopoly-v0")
    r.add_argument("--out", required=True, type=Path, help="output directory")
    r.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out (ID and options may then be omitted)",
    )
    r.add_argument("--leader", default="hic", help="hic, sga, hierarchical or oracle-spsa")
    r.add_argument("--follower", default="gradient", help="gradient, stochastic, best-response")
    r.add_argument("--seeds", type=_count, default=32, help="number of seeds S (default 32)")
    r.add_argument("--stages", type=_count, default=1_000_000, help="stages (default 1e6)")
    r.add_argument("--seed", type=_nonneg_int, default=0, help="master seed (default 0)")
    r.add_argument(
        "--game-kwarg",
        type=_kwarg,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="game constructor argument (repeatable), e.g. --game-kwarg a=60",
    )
    r.add_argument("--noise-std", type=_nonneg_float, default=0.0, help="payoff noise scale")
    r.add_argument("--max-cycles", type=_count, default=1000, help="episode length")
    g = r.add_argument_group("leader schedules (Hi-C; --step-size also for the baselines)")
    g.add_argument("--step-size", metavar="SPEC", help="alpha_n: " + _SCHEDULE_HELP)
    g.add_argument("--perturbation", metavar="SPEC", help="delta_n: " + _SCHEDULE_HELP)
    g.add_argument(
        "--commitment",
        metavar="SPEC",
        help="k_n: an integer, 'power:...'/'log:...' (rounded up), or "
        "'corollary:p=P[,beta=..,mu=..,B=..]' for Corollary 4.11",
    )
    g.add_argument(
        "--baseline",
        type=float,
        metavar="LAM",
        help="subtract a moving-average baseline with weight LAM in [0, 1)",
    )
    g.add_argument("--no-baseline", action="store_true", help="turn off a default baseline")
    g.add_argument("--two-sided", action="store_true", help="antithetic two-interval estimate")
    g.add_argument(
        "--average-last",
        type=_count,
        metavar="M",
        help="average the payoff over the last M stages of each interval",
    )
    g.add_argument(
        "--adaptive",
        action="store_true",
        help="adaptive commitment: end intervals once the follower has settled",
    )
    g.add_argument("--adaptive-tol", type=float, default=0.01, help="settling tolerance / delta")
    g.add_argument("--adaptive-min", type=_count, default=2, help="shortest interval")
    g.add_argument("--adaptive-max", type=_count, default=10_000, help="longest interval")
    f = r.add_argument_group("follower")
    f.add_argument("--follower-step-size", metavar="SPEC", help="beta: " + _SCHEDULE_HELP)
    f.add_argument(
        "--follower-noise",
        type=_nonneg_float,
        help="gradient-noise scale of the stochastic follower",
    )
    o = r.add_argument_group("output")
    o.add_argument(
        "--record",
        default="log",
        help="updates written to the CSV: 'log' (default: all below 100, then 90 "
        "per decade), 'all', 'none', 'log:P' or an integer K (every K-th)",
    )
    o.add_argument(
        "--chunk",
        type=_count,
        metavar="STAGES",
        help="stages between CSV appends and progress updates (default: about "
        "stages/200; never changes the results)",
    )
    o.add_argument(
        "--checkpoint-seconds",
        type=_nonneg_float,
        default=10.0,
        metavar="SEC",
        help="wall time between checkpoints (default 10; 0: after every chunk)",
    )
    o.add_argument("--no-progress", action="store_true", help="no progress bar")
    o.add_argument("--plot", action="store_true", help="also make the figures at the end")

    pl = sub.add_parser("plot", help="PNG figures of a run directory")
    pl.add_argument("run_dir", type=Path, metavar="DIR")
    pl.add_argument("--out", type=Path, help="figure directory (default: DIR)")

    sub.add_parser(
        "train-follower",
        help="train an SB3 follower (SAC/PPO) against Hi-C (--help: its options)",
        add_help=False,
    )

    b = sub.add_parser("bench", help="seed-stages per second of play and run_batch")
    b.add_argument("--quick", action="store_true", help="short measurements (a smoke run)")
    b.add_argument(
        "--sizes",
        type=_count,
        nargs="+",
        metavar="S",
        help="batch sizes (default 1 100 1000 10000 100000)",
    )
    b.add_argument("--seconds", type=float, default=None, help="target seconds per measurement")
    b.add_argument(
        "--memory-stages",
        type=_count,
        metavar="N",
        help="stages of the memory check at S=1000 (default 1e5; 2e3 with --quick)",
    )
    return p


# ---------------------------------------------------------------------------------- commands
def _cmd_list(args: argparse.Namespace) -> int:
    import hic_envs
    from agents.experiment import game_from_id

    def fmt(a) -> str:
        a = list(a)
        s = ", ".join(f"{v:.4g}" for v in a[:3])
        return f"[{s}{', ...' if len(a) > 3 else ''}]"

    rows = []
    for env_id in hic_envs.list_envs():
        game = game_from_id(env_id)
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
    return 0


def _config_from_args(args: argparse.Namespace):
    from agents.experiment import ExperimentConfig

    if args.adaptive and args.commitment is not None:
        raise _UsageError("--adaptive and --commitment exclude each other; pass one")
    if args.baseline is not None and args.no_baseline:
        raise _UsageError("--baseline and --no-baseline exclude each other")
    commitment = args.commitment
    if args.adaptive:
        commitment = (
            f"adaptive:tol={args.adaptive_tol},min_length={args.adaptive_min},"
            f"max_length={args.adaptive_max}"
        )
    leader_options: dict[str, Any] = {
        "step_size": args.step_size,
        "perturbation": args.perturbation,
        "commitment": commitment,
        "baseline": args.baseline,
        "average_last": args.average_last,
    }
    if args.two_sided:
        leader_options["two_sided"] = True
    if args.no_baseline:
        leader_options["baseline"] = None
        leader_options["no_baseline"] = True
    leader_options = {k: v for k, v in leader_options.items() if v is not None}
    follower_options = {
        k: v
        for k, v in (("step_size", args.follower_step_size), ("noise", args.follower_noise))
        if v is not None
    }
    return ExperimentConfig(
        env_id=args.env_id,
        game_kwargs=dict(args.game_kwarg),
        leader=args.leader,
        leader_options=leader_options,
        follower=args.follower,
        follower_options=follower_options,
        seeds=args.seeds,
        stages=args.stages,
        seed=args.seed,
        noise_std=args.noise_std,
        max_cycles=args.max_cycles,
        record=args.record,
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from agents.experiment import SUMMARY_NAME, ExperimentConfig, run_experiment

    if args.env_id is None:
        if not args.resume:
            raise _UsageError("the environment ID is required (e.g. hic run hic/Duopoly-v0 ...)")
        summary_path = args.out / SUMMARY_NAME
        if not summary_path.exists():
            raise _UsageError(f"--resume: {args.out} holds no run ({SUMMARY_NAME} is missing)")
        config = ExperimentConfig.from_dict(json.loads(summary_path.read_text())["config"])
    else:
        config = _config_from_args(args)
        config.build()  # fail on bad options before any file is written
    try:
        summary = run_experiment(
            config,
            args.out,
            resume=args.resume,
            progress=not args.no_progress,
            chunk=args.chunk,
            checkpoint_seconds=args.checkpoint_seconds,
        )
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; completed chunks are saved in {args.out}. Continue with:\n"
            f"  hic run --resume --out {args.out}",
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
    print(f"results in {args.out}")
    if args.plot:
        return _cmd_plot(argparse.Namespace(run_dir=args.out, out=None))
    return 0


def _vec(v) -> str:
    return "[" + ", ".join(f"{x:.5g}" for x in v) + "]"


def _cmd_plot(args: argparse.Namespace) -> int:
    from agents.experiment import ExperimentConfig, load_results
    from hic_envs.plotting import plot_run

    try:
        run = load_results(args.run_dir)
    except FileNotFoundError as err:
        raise _UsageError(str(err)) from None
    if len(run.seed) == 0:
        raise _UsageError(f"{args.run_dir} holds no recorded updates yet")
    config = ExperimentConfig.from_dict(run.summary["config"])
    game, _, _ = config.build()
    for path in plot_run(run, game, args.out or args.run_dir):
        print(path)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from agents.benchmark import format_report, run_benchmarks

    kwargs: dict[str, Any] = {"quick": args.quick, "memory_stages": args.memory_stages}
    if args.sizes:
        kwargs["sizes"] = tuple(args.sizes)
    if args.seconds is not None:
        if not args.seconds > 0:
            raise _UsageError(f"--seconds must be positive, got {args.seconds!r}")
        kwargs["seconds"] = args.seconds
    print(format_report(run_benchmarks(**kwargs, log=lambda m: print(m, file=sys.stderr))))
    return 0


_COMMANDS = {"list": _cmd_list, "run": _cmd_run, "plot": _cmd_plot, "bench": _cmd_bench}


def _train_follower(argv: list[str]) -> int:
    """``hic train-follower``: the same flags and report as scripts/train_sb3_follower.py."""
    from agents.sb3 import TrainConfig, format_report, parse_config, train_follower

    try:
        config = parse_config(TrainConfig, argv, description="train an SB3 follower against Hi-C")
        result = train_follower(config)
    except SystemExit as exc:  # argparse has printed its message (or the help)
        return int(exc.code or 0)
    except (ValueError, TypeError) as err:
        print(f"hic train-follower: error: {err}", file=sys.stderr)
        return 2
    print(format_report(result))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hic`` console script. Returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train-follower"]:
        return _train_follower(argv[1:])
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its message (or the help)
        return int(exc.code or 0)
    try:
        return _COMMANDS[args.command](args)
    except (ValueError, FileExistsError) as err:
        print(f"hic {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`, which has exited
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
