"""Regenerate every figure and table of the README from scratch, with one command.

Usage::

    python scripts/reproduce.py            # the README's numbers (about 20-30 min on 2 cores)
    python scripts/reproduce.py --quick    # smoke run: same steps, tiny budgets (~2 min)
    python scripts/reproduce.py --validate # the quick targets of docs/manifest.yaml: held or not

Writes figures to ``docs/figures/`` and the tables (each with the command that made it) to
``docs/results.md`` (``--quick`` writes to a fresh temporary directory instead); tables are
also printed as they are made. Steps:

1. Hi-C (per-game preset) vs a gradient-ascent follower on the duopoly, 32 seeds x 1e6
   stages: distance, payoff and trajectory figures.
2. Hi-C vs SGA vs the hierarchical gradient on the quadratic game whose DSE (x* = 1) differs
   from its Nash equilibrium (x = -1): figures and a table of final distances to both.
3. The scaling table (``scripts/scaling.py``).
4. The benchmark (``scripts/bench.py``).
5. Hooks for the other experiment scripts, run when present: the Cournot table
   (``scripts/cournot_table.py``), the preset check (``scripts/preset_check.py``), adaptive
   vs fixed commitment (``scripts/adaptive_commitment.py``), the matrix games' presets
   (``scripts/matrix_preset_check.py``), Hi-C on the iterated Prisoner's Dilemma
   (``scripts/ipd_hic.py``), the stable-opponent-shaping table
   (``scripts/sos_table.py``), Hi-C against coupled methods on the covariance GAN
   (``scripts/gan_study.py``, which also draws ``docs/figures/gan_study_*.png``), the sweep
   study (``scripts/sweep_study.py``, which also draws ``docs/figures/study_sweep_*.png``)
   and the learned-best-response experiment (``scripts/learned_best_response.py``, SB3
   followers).

``--validate`` reads the reproduction manifest (``docs/manifest.yaml``: every number the docs
quote, with its command, expected value and tolerance), runs the quick targets' commands (each
command once, however many targets read it; ``--slow`` adds the others) and reports each
target as held or not; it exits 1 if any is not held.

The run directories go to a temporary directory unless ``--runs DIR`` is given (it must not
exist yet). BLAS is pinned to one thread unless OPENBLAS_NUM_THREADS is set (see
``scripts/scaling.py``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from agents.compose.cli.config import parse  # noqa: E402
from agents.compose.engines.bench import (  # noqa: E402
    format_report,
    format_scaling,
    run_benchmarks,
    scaling_study,
)
from agents.compose.experiments.experiment import ExperimentConfig, run_experiment  # noqa: E402
from agents.compose.experiments.results import load_results  # noqa: E402
from agents.compose.plots.plotting import plot_comparison, plot_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class _Args:
    """The parsed config as a mutable namespace (defaults for the directories filled in)."""

    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)


#: Other helpers' experiment scripts: (title, path, full arguments, quick arguments); run
#: when present. ``{runs}`` becomes the run directory.
HOOKS = [
    (
        "Published Cournot set-up: final leader strategies",
        "scripts/cournot_table.py",
        [],
        ["--stages", "20000", "--seeds", "4"],
    ),
    (
        "Per-game Hi-C presets",
        "scripts/preset_check.py",
        [],
        ["--seeds", "2", "--games", "Duopoly"],
    ),
    (
        "Adaptive vs fixed commitment",
        "scripts/adaptive_commitment.py",
        [],
        ["--seeds", "2", "--stages", "5000"],
    ),
    (
        "Presets on the matrix games made interior by leader_tau",
        "scripts/matrix_preset_check.py",
        [],
        ["--seeds", "2"],
    ),
    (
        "Stable opponent shaping (Letcher et al. 2019) reproduced, with Hi-C added",
        "scripts/sos_table.py",
        [],
        ["--ipd-runs", "4", "--tandem-runs", "4", "--hic-factor", "2"],
    ),
    (
        "Hi-C vs coupled methods on the covariance GAN (the paper's open question)",
        "scripts/gan_study.py",
        [],
        [
            "--dims",
            "2",
            "3",
            "--seeds",
            "2",
            "--hic-stages",
            "2000",
            "--coupled-stages",
            "300",
            "--out",
            "{runs}/gan_study",
            "--figures",
            "{runs}/gan_study",
        ],
    ),
    (
        "Hi-C on the iterated Prisoner's Dilemma",
        "scripts/ipd_hic.py",
        [],
        ["--seeds", "2", "--stages", "2000"],
    ),
    (
        "Sweep study: exponents, commitment and noise (hic sweep)",
        "scripts/sweep_study.py",
        ["--out", "{runs}/sweep_study"],
        ["--out", "{runs}/sweep_study_quick", "--figures", "{runs}/sweep_figures"],
    ),
    (
        "Learned best response (SB3 follower)",
        "scripts/learned_best_response.py",
        ["--out", "{runs}/learned_best_response"],
        [
            "--seeds",
            "1",
            "--total-steps",
            "3000",
            "--reference-seeds",
            "2",
            "--out",
            "{runs}/learned_best_response",
        ],
    ),
]


def _say(msg: str) -> None:
    print(msg, flush=True)


def duopoly(runs: Path, figs: Path, quick: bool) -> str:
    seeds, stages = (8, 20_000) if quick else (32, 1_000_000)
    cfg = ExperimentConfig("hic/Duopoly-v0", seeds=seeds, stages=stages)
    summary = run_experiment(cfg, runs / "duopoly_hic")
    run = load_results(runs / "duopoly_hic")
    game = cfg.build()[0]
    paths = plot_run(run, game, figs, prefix="duopoly_hic_")
    f = summary["final"]
    ls, d = f["leader_strategy"], f["distance_to_dse"]
    cmd = f"hic run hic/Duopoly-v0 --seeds {seeds} --stages {stages} --out DIR && hic plot DIR"
    return (
        "## Hi-C on the duopoly\n\n"
        f"Hi-C (preset) vs gradient-ascent follower, {seeds} seeds x {stages:g} stages "
        f"(DSE q1* = 24.5, Cournot-Nash 16.33).\n\n"
        "| final leader strategy min | median | max | median distance to DSE | "
        "IQR of distance |\n|---:|---:|---:|---:|---|\n"
        f"| {ls['min'][0]:.7g} | {ls['median'][0]:.7g} | {ls['max'][0]:.7g} | "
        f"{d['median']:.3g} | {d['q25']:.3g} - {d['q75']:.3g} |\n\n"
        f"Figures: {', '.join(_rel(p) for p in paths)}\n\ncommand: `{cmd}`\n"
    )


def quadratic(runs: Path, figs: Path, quick: bool) -> str:
    seeds, stages = (8, 5_000) if quick else (32, 100_000)
    leaders = {"Hi-C": "hic", "SGA": "sga", "hierarchical": "hierarchical"}
    data, rows = {}, []
    game = None
    for label, leader in leaders.items():
        cfg = ExperimentConfig("hic/Quadratic-v0", leader=leader, seeds=seeds, stages=stages)
        summary = run_experiment(cfg, runs / f"quadratic_{leader}")
        data[label] = load_results(runs / f"quadratic_{leader}")
        game = game or cfg.build()[0]
        x = np.array([summary["final"]["leader_strategy"]["median"][0]])
        nash = game.nash()
        dn = "-" if nash is None else f"{abs(x[0] - nash.x[0]):.3g}"
        rows.append(
            f"| {label} | {summary['final']['distance_to_dse']['median']:.3g} | {dn} | "
            f"{x[0]:.4g} | {summary['final']['hierarchical_payoff']['median']:.4g} |"
        )
    paths = plot_comparison(data, game, figs, prefix="quadratic_")
    dse, ne = game.stackelberg(), game.nash()
    cmd = (
        f"hic run hic/Quadratic-v0 --leader {{hic,sga,hierarchical}} --seeds {seeds} "
        f"--stages {stages} --out DIR"
    )
    return (
        "## DSE vs Nash: Hi-C, SGA and the hierarchical gradient on the quadratic game\n\n"
        f"QuadraticGame defaults: DSE x* = {dse.x[0]:g} (f1 = {dse.leader_payoff:g}), Nash "
        f"x = {ne.x[0]:g} (f1 = {ne.leader_payoff:g}); gradient-ascent follower; {seeds} "
        f"seeds x {stages:g} stages; medians over seeds.\n\n"
        "| leader | distance to DSE | distance to Nash | final x | f1(x, r(x)) |\n"
        "|---|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n\n"
        f"Figures: {', '.join(_rel(p) for p in paths)}\n\ncommand: `{cmd}`\n"
    )


def scaling(quick: bool) -> str:
    dims, stages, seeds = ((1, 4), 5_000, 4) if quick else ((1, 4, 16, 64, 256), 200_000, 8)
    rows = scaling_study(dims, stages=stages, seeds=seeds, log=_say)
    dims_s = " ".join(map(str, dims))
    return (
        "## Scaling: Hi-C vs the coupled hierarchical gradient\n\n"
        f"RandomQuadraticGame(d1=d, d2=d, seed=0), gradient-ascent follower, {seeds} seeds, "
        f"{stages:g} stages; epsilon: ||x - x*|| <= 0.05 ||x_0 - x*|| held to the end.\n\n"
        + format_scaling(rows)
        + f"\n\ncommand: `python scripts/scaling.py --dims {dims_s} --stages {stages:g} "
        f"--seeds {seeds}`\n"
    )


def bench(quick: bool) -> str:
    report = run_benchmarks(quick=quick, log=_say)
    flag = " --quick" if quick else ""
    return f"## Benchmark\n\n{format_report(report)}\n\ncommand: `python scripts/bench.py{flag}`\n"


def hooks(runs: Path, quick: bool) -> list[str]:
    out = []
    for title, script, full, quick_args in HOOKS:
        path = ROOT / script
        if not path.exists():
            continue
        args = [a.replace("{runs}", str(runs)) for a in (quick_args if quick else full)]
        cmd = [sys.executable, str(path), *args]
        _say(f"running {script} {' '.join(args)} ...")
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        took = f"({time.perf_counter() - t:.0f} s)"
        shown = f"python {script} {' '.join(args)}".strip().replace(str(runs), "RUNS")
        if proc.returncode != 0:
            out.append(
                f"## {title}\n\nFAILED (exit {proc.returncode}): `{shown}`\n\n"
                f"```\n{proc.stderr[-2000:]}\n```\n"
            )
            continue
        text = proc.stdout.strip()
        if "--out" in args:  # scripts that write their tables into --out: take results.md
            md = Path(args[args.index("--out") + 1]) / "results.md"
            if md.exists():
                text = md.read_text().strip()
        out.append(f"## {title}\n\n{text}\n\ncommand: `{shown}`\n\n{took}\n")
    return out


def _rel(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


@dataclasses.dataclass(frozen=True)
class Config:
    """Regenerate every figure and table of the README from scratch."""

    quick: bool = False
    """Tiny budgets (a smoke run)."""
    figures: Path | None = None
    """Figure directory (default docs/figures; with --quick a new temporary directory, so a smoke run never overwrites the README's figures)."""  # noqa: E501
    tables: Path | None = None
    """Tables file (default docs/results.md; with --quick in that temporary directory)."""
    runs: Path | None = None
    """Keep the run directories here (must not exist)."""
    skip: tuple[str, ...] = ()
    """Steps to skip: duopoly, quadratic, scaling, bench, hooks."""
    validate: bool = False
    """Check the manifest's quick targets instead of regenerating (held or not, each)."""
    slow: bool = False
    """With --validate: run the slow targets too."""
    manifest: Path = ROOT / "docs" / "manifest.yaml"
    """The reproduction manifest --validate reads."""

    def __post_init__(self) -> None:
        bad = sorted(set(self.skip) - {"duopoly", "quadratic", "scaling", "bench", "hooks"})
        if bad:
            raise ValueError(f"--skip: unknown step(s) {bad}")
        if self.runs is not None and self.runs.exists():
            raise ValueError(f"--runs {self.runs} exists; choose a new directory")


_TARGET_KEYS = {
    "id",
    "page",
    "command",
    "pattern",
    "expected",
    "rel_tol",
    "abs_tol",
    "quick",
    "note",
}


def load_manifest(path: Path) -> list[dict[str, Any]]:
    """The manifest's targets, checked: unique ids, known keys, finite numbers, a tolerance.

    Raises:
        ValueError: naming the target and what is wrong with it.
    """
    targets = (yaml.safe_load(Path(path).read_text()) or {}).get("targets")
    if not isinstance(targets, list) or not targets:
        raise ValueError(f"{path}: expected a non-empty list under 'targets'")
    seen: set[str] = set()
    for t in targets:
        name = t.get("id") if isinstance(t, dict) else None
        if not isinstance(name, str) or name in seen:
            raise ValueError(f"{path}: every target needs a unique string id, got {name!r}")
        seen.add(name)
        unknown = set(t) - _TARGET_KEYS
        missing = {"page", "command", "pattern", "expected", "quick"} - set(t)
        if unknown or missing:
            raise ValueError(
                f"target {name!r}: unknown keys {sorted(unknown)}, missing {sorted(missing)}"
            )
        for key in ("expected", "rel_tol", "abs_tol"):
            v = t.get(key, 0.0)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"target {name!r}: {key} must be a finite number, got {v!r}")
            if key != "expected" and v < 0:
                raise ValueError(f"target {name!r}: {key} must be >= 0, got {v!r}")
        if "rel_tol" not in t and "abs_tol" not in t:
            raise ValueError(f"target {name!r}: give rel_tol or abs_tol")
        re.compile(t["pattern"])
    return targets


def judge(target: dict[str, Any], output: str) -> tuple[bool, str]:
    """Whether ``output`` (a command's stdout and stderr) holds the target, and what it read."""
    m = re.search(target["pattern"], output)
    if m is None:
        return False, f"pattern {target['pattern']!r} not found in the output"
    try:
        value = float(m.group(1))
    except ValueError:
        return False, f"read {m.group(1)!r}, not a number"
    want = float(target["expected"])
    tol = float(target.get("abs_tol", 0.0)) + float(target.get("rel_tol", 0.0)) * abs(want)
    ok = math.isfinite(value) and abs(value - want) <= tol
    return ok, f"{value:.6g} (expected {want:.6g} +- {tol:.3g})"


def validate(manifest: Path, slow: bool) -> int:
    """Run the manifest's (quick) targets and print each as held or not; 1 if any is not."""
    targets = [t for t in load_manifest(manifest) if slow or t["quick"]]
    outputs: dict[str, str] = {}
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for t in targets:
            cmd = t["command"].replace("{tmp}", tmp)
            if cmd not in outputs:
                _say(f"running: {cmd}")
                proc = subprocess.run(
                    shlex.split(cmd), capture_output=True, text=True, cwd=ROOT, check=False
                )
                outputs[cmd] = proc.stdout + proc.stderr
                if proc.returncode != 0:
                    outputs[cmd] += f"\n(exit {proc.returncode})"
            ok, said = judge(t, outputs[cmd])
            failed += not ok
            _say(f"{'held' if ok else 'NOT HELD'}  {t['id']}: {said}  [{t['page']}]")
    _say(f"{len(targets) - failed} of {len(targets)} targets held")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = _Args(**dataclasses.asdict(parse(Config, argv, prog="python scripts/reproduce.py")))
    if args.validate:
        return validate(args.manifest, args.slow)
    t0 = time.perf_counter()
    if args.quick and (args.figures is None or args.tables is None):
        scratch = Path(tempfile.mkdtemp(prefix="hic-reproduce-quick-"))
        args.figures = args.figures or scratch / "figures"
        args.tables = args.tables or scratch / "results.md"
    args.figures = args.figures or ROOT / "docs" / "figures"
    args.tables = args.tables or ROOT / "docs" / "results.md"
    args.figures.mkdir(parents=True, exist_ok=True)
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = args.runs or Path(tmp)
        steps = [
            ("duopoly", lambda: duopoly(runs, args.figures, args.quick)),
            ("quadratic", lambda: quadratic(runs, args.figures, args.quick)),
            ("scaling", lambda: scaling(args.quick)),
            ("bench", lambda: bench(args.quick)),
        ]
        for name, step in steps:
            if name in args.skip:
                continue
            _say(f"== {name}")
            t = time.perf_counter()
            text = step()
            _say(text)
            sections.append(text + f"\n({time.perf_counter() - t:.0f} s)\n")
        if "hooks" not in args.skip:
            for text in hooks(runs, args.quick):
                _say(text)
                sections.append(text)
    flag = " --quick" if args.quick else ""
    header = (
        "# Results\n\nMade by `python scripts/reproduce.py" + flag + "` in "
        f"{time.perf_counter() - t0:.0f} s. Every table names the command that made it.\n\n"
    )
    args.tables.parent.mkdir(parents=True, exist_ok=True)
    args.tables.write_text(header + "\n".join(sections))
    _say(f"tables: {_rel(args.tables)}; figures: {_rel(args.figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
