"""Regenerate the site's figures and tables, and check the numbers the docs quote.

Usage::

    python scripts/reproduce.py            # the figures, and every table printed (20-30 min)
    python scripts/reproduce.py --quick    # smoke run: same steps, tiny budgets (~2 min)
    python scripts/reproduce.py --validate # the quick targets of docs/manifest.yaml: held or not
    python scripts/reproduce.py --check    # runs nothing: pages vs recordings, and coverage
    python scripts/reproduce.py --record ID [ID ...]   # rerun tables' commands (or quick, all)
    python scripts/reproduce.py --pages    # rewrite the pages' tables from the recordings

The plain run writes figures to ``docs/figures/`` and the tables it prints (each with the
command that made it) to ``--tables`` (default: a scratch file it names; ``--quick`` writes
figures there too). Steps:

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

The site's tables are not this run's: they are written from the reproduction manifest
(``docs/manifest.yaml``). Its targets are single numbers (command, a regular expression that
reads the value, the value the docs quote, a tolerance) and tables (a command's printed
Markdown tables, recorded in ``docs/outputs/``; every number in them is a target). The results
pages show the recorded tables between ``<!-- reproduce: NAME -->`` and ``<!-- /reproduce -->``
lines, and ``--pages`` writes those blocks, so a page and its recording cannot disagree.
``--validate`` runs the quick targets' commands (each command once, however many targets read
it; ``--slow`` adds the others) and reports each number and each table row as held or not
(exit 1 if any is not); ``--record`` reruns tables' commands and keeps their outputs as the
new recordings; ``--check`` runs nothing and fails if a page differs from what ``--pages``
writes or if the README or a page of the site quotes a number that is neither a target nor
marked as none (a timing with its command and load, a bound a test asserts, an observation of
code before a change, a parameter; docs/tutorials/reproduce.md has the marks).

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
    """Regenerate the site's figures and tables, and check the numbers the docs quote."""

    quick: bool = False
    """Tiny budgets (a smoke run)."""
    figures: Path | None = None
    """Figure directory (default docs/figures; with --quick a new temporary directory, so a smoke run never overwrites the README's figures)."""  # noqa: E501
    tables: Path | None = None
    """Tables file (default: a new temporary directory's results.md; the site's tables are written from docs/manifest.yaml's recordings by --record and --pages)."""  # noqa: E501
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
    record: tuple[str, ...] = ()
    """Rerun these manifest tables' commands (ids, or quick, or all), keep their outputs as the recorded ones and rewrite the pages that show them."""  # noqa: E501
    pages: bool = False
    """Rewrite the pages' table blocks from the recorded outputs (runs no command)."""
    check: bool = False
    """Run nothing; exit 1 unless the pages equal what --pages writes and every result number the docs quote is a target or marked as no target."""  # noqa: E501

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
    tables = [t for t in load_tables(manifest) if slow or t["quick"]]
    outputs: dict[str, str] = {}
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for t in targets:
            cmd = t["command"].replace("{tmp}", tmp)
            if cmd not in outputs:
                outputs[cmd] = _run(t["command"], tmp)
            ok, said = judge(t, outputs[cmd])
            failed += not ok
            _say(f"{'held' if ok else 'NOT HELD'}  {t['id']}: {said}  [{t['page']}]")
        rows, failed_targets = 0, failed
        for t in tables:
            cmd = t["command"].replace("{tmp}", tmp) + f" > {t.get('output')}"
            if cmd not in outputs:
                outputs[cmd] = _run(t["command"], tmp, output=t.get("output"))
            for ok, said in judge_table(t, outputs[cmd]):
                rows += 1
                failed += not ok
                _say(f"{'held' if ok else 'NOT HELD'}  {t['id']} {said}")
    failed_rows = failed - failed_targets
    _say(
        f"{len(targets) - failed_targets} of {len(targets)} targets and "
        f"{rows - failed_rows} of {rows} table rows held"
    )
    return 1 if failed else 0


# ---- tables: recorded outputs and the results pages written from them -----------------------

_TABLE_KEYS = {
    "id",
    "command",
    "output",
    "tolerances",
    "recorded",
    "key",
    "measured",
    "rel_tol",
    "abs_tol",
    "quick",
    "views",
    "note",
}
_VIEW_KEYS = {"page", "name", "table", "columns", "rows", "command_line"}
_BEGIN = re.compile(r"^<!-- reproduce: (\S+) -->$", flags=re.M)
_END = "<!-- /reproduce -->"
_NUMBER = re.compile(
    r"(?<![\w.^/#-])[-−]?(?:\d+\.\d+(?:e[+\-−]?\d+)?|\d+e[+\-−]?\d+)(?![\w.]*\d)(?!\.\w)",
    flags=re.I,
)


def load_tables(path: Path) -> list[dict[str, Any]]:
    """The manifest's table targets, checked (see docs/manifest.yaml's header).

    Raises:
        ValueError: naming the table and what is wrong with it.
    """
    tables = (yaml.safe_load(Path(path).read_text()) or {}).get("tables") or []
    if not isinstance(tables, list):
        raise ValueError(f"{path}: 'tables' must be a list")
    seen: set[str] = set()
    for t in tables:
        name = t.get("id") if isinstance(t, dict) else None
        if not isinstance(name, str) or name in seen:
            raise ValueError(f"{path}: every table needs a unique string id, got {name!r}")
        seen.add(name)
        unknown = set(t) - _TABLE_KEYS
        missing = {"command", "recorded", "key", "quick", "views"} - set(t)
        if unknown or missing:
            raise ValueError(
                f"table {name!r}: unknown keys {sorted(unknown)}, missing {sorted(missing)}"
            )
        for key in ("rel_tol", "abs_tol"):
            v = t.get(key, 0.0)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"table {name!r}: {key} must be a finite number, got {v!r}")
            if v < 0:
                raise ValueError(f"table {name!r}: {key} must be >= 0, got {v!r}")
        if "rel_tol" not in t and "abs_tol" not in t:
            raise ValueError(f"table {name!r}: give rel_tol or abs_tol")
        if not (ROOT / t["recorded"]).is_file():
            raise ValueError(f"table {name!r}: recorded output {t['recorded']} does not exist")
        headers = [h for h, _ in markdown_tables(recorded_text(t))]
        if not headers:
            raise ValueError(f"table {name!r}: {t['recorded']} holds no Markdown table")
        header = headers[0]
        for col in [*t["key"], *t.get("measured", [])]:
            if not any(col in h for h in headers):
                raise ValueError(f"table {name!r}: column {col!r} is in none of {headers}")
        for view in t["views"]:
            bad = set(view) - _VIEW_KEYS
            if bad or "page" not in view:
                raise ValueError(f"table {name!r}: a view needs 'page', got keys {sorted(view)}")
            for col in view.get("columns", {}):
                if col not in header:
                    raise ValueError(f"table {name!r}: view column {col!r} is not in {header}")
    return tables


def recorded_text(table: dict[str, Any]) -> str:
    """The table's recorded output: what its command printed when it was last run."""
    return (ROOT / table["recorded"]).read_text()


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def markdown_tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every Markdown table in ``text``: (header cells, rows of cells)."""
    out, lines = [], text.splitlines()
    i = 0
    while i < len(lines) - 1:
        if lines[i].startswith("|") and re.fullmatch(r"\|[\s:|-]+\|", lines[i + 1].strip()):
            header, rows, i = _cells(lines[i]), [], i + 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            out.append((header, rows))
        else:
            i += 1
    return out


def markdown_table(text: str, name: str) -> tuple[list[str], list[list[str]]]:
    """The first Markdown table in ``text``.

    Raises:
        ValueError: if there is none (naming ``name``).
    """
    tables = markdown_tables(text)
    if not tables:
        raise ValueError(f"{name}: no Markdown table found")
    return tables[0]


def numbers(text: str) -> list[float]:
    """The numbers written in ``text`` (a table cell, a line of prose), in order."""
    return [
        float(m.replace("−", "-"))
        for m in re.findall(r"[-−]?\d+(?:\.\d+)?(?:e[+\-−]?\d+)?", text, flags=re.I)
    ]


def render_view(table: dict[str, Any], view: dict[str, Any]) -> str:
    """The block a page shows for one view of a table, as ``--pages`` writes it.

    A view without ``table`` or ``columns`` shows the recorded output whole. Otherwise it
    shows one Markdown table of it (``table``: which, from 1; default the first), its columns
    chosen and renamed by ``columns`` (recorded header -> the page's; default all, as they are)
    and its rows chosen by ``rows`` (key values, in order; default all), followed by the
    command that made it (``command_line: false`` leaves that out).

    Raises:
        ValueError: for a table, column or row the recorded output does not have.
    """
    text = recorded_text(table).strip()
    if "columns" not in view and "table" not in view:
        return text
    found = markdown_tables(text)
    n = view.get("table", 1)
    if not 1 <= n <= len(found):
        raise ValueError(f"table {table['id']!r}: the recorded output has {len(found)} tables")
    header, rows = found[n - 1]
    columns = view.get("columns") or {c: c for c in header}
    index = {c: header.index(c) for c in columns}
    if "rows" in view:
        by_key = dict(_keyed(table, header, rows))
        wanted = [tuple(k) if isinstance(k, list) else (k,) for k in view["rows"]]
        missing = [k for k in wanted if k not in by_key]
        if missing:
            raise ValueError(f"table {table['id']!r}: rows {missing} are not recorded")
        rows = [by_key[k] for k in wanted]
    body = "\n".join(
        [
            "| " + " | ".join(columns.values()) + " |",
            "|" + "---|" * len(index),
            *("| " + " | ".join(r[i] for i in index.values()) + " |" for r in rows),
        ]
    )
    if view.get("command_line", True):
        body += f"\n\ncommand: `{table['command']}` (output recorded in `{table['recorded']}`)"
    return body


def render_page(text: str, page: str, tables: list[dict[str, Any]]) -> str:
    """``text`` with every ``<!-- reproduce: ID -->`` block rewritten from its recorded output.

    Raises:
        ValueError: for a block naming no table with a view of this page, or left open.
    """
    views = {
        v.get("name", t["id"]): (t, v) for t in tables for v in t["views"] if v["page"] == page
    }
    out, pos = [], 0
    for m in _BEGIN.finditer(text):
        if m.start() < pos:
            continue
        end = text.find(_END, m.end())
        if end < 0:
            raise ValueError(f"{page}: <!-- reproduce: {m.group(1)} --> is never closed")
        if m.group(1) not in views:
            raise ValueError(f"{page}: no manifest table {m.group(1)!r} with a view of this page")
        out += [text[pos : m.end()], "\n", render_view(*views[m.group(1)]), "\n"]
        pos = end
    return "".join(out) + text[pos:]


def pages(manifest: Path) -> dict[str, tuple[str, str]]:
    """Each page a table view names: (its text now, its text as ``--pages`` writes it)."""
    tables = load_tables(manifest)
    out = {}
    for page in sorted({v["page"] for t in tables for v in t["views"]}):
        now = (ROOT / page).read_text()
        out[page] = (now, render_page(now, page, tables))
        shown = {m.group(1) for m in _BEGIN.finditer(now)}
        for t in tables:
            for v in t["views"]:
                name = v.get("name", t["id"])
                if v["page"] == page and name not in shown and t["recorded"] != page:
                    raise ValueError(f"{page}: has no <!-- reproduce: {name} --> block")
    return out


def stale_pages(manifest: Path) -> list[str]:
    """The pages whose tables differ from what their recorded outputs write."""
    return [page for page, (now, new) in pages(manifest).items() if now != new]


def write_pages(manifest: Path) -> list[str]:
    """Rewrite every page's table blocks from the recorded outputs; the pages changed."""
    changed = []
    for page, (now, new) in pages(manifest).items():
        if now != new:
            (ROOT / page).write_text(new)
            changed.append(page)
    return changed


def judge_table(table: dict[str, Any], output: str) -> list[tuple[bool, str]]:
    """Each recorded row's numbers against a fresh ``output`` of the table's command.

    Every Markdown table of the recorded output is matched with the table of ``output`` that
    has the same header and comes at the same place among those (a script may print several
    tables with one header); rows are matched by the key columns, and every number of every
    column not listed as ``measured`` must hold within the table's tolerance. Returns (held,
    what was read) per recorded row.
    """
    fresh, out, seen = markdown_tables(output), [], {}
    for header, rows in markdown_tables(recorded_text(table)):
        nth = seen[tuple(header)] = seen.get(tuple(header), -1) + 1
        same = [t for t in fresh if t[0] == header]
        if len(same) <= nth:
            out.append((False, f"no table {nth + 1} with header {header} in the output"))
            continue
        new = dict(_keyed(table, header, same[nth][1]))
        skip = {i for i, c in enumerate(header) if c in [*table["key"], *table.get("measured", [])]}
        for key, row in _keyed(table, header, rows):
            if key not in new or len(new[key]) != len(row):
                out.append((False, f"row {key} missing from the output"))
                continue
            bad = []
            for i, (old_cell, new_cell) in enumerate(zip(row, new[key], strict=True)):
                if i in skip:
                    continue
                tol = {**table, **table.get("tolerances", {}).get(header[i], {})}
                abs_tol, rel_tol = float(tol.get("abs_tol", 0.0)), float(tol.get("rel_tol", 0.0))
                want, got = numbers(old_cell), numbers(new_cell)
                if len(want) != len(got) or not all(
                    math.isfinite(g) and abs(g - w) <= abs_tol + rel_tol * abs(w)
                    for w, g in zip(want, got, strict=True)
                ):
                    bad.append(f"{header[i]}: {new_cell!r} (recorded {old_cell!r})")
            out.append((not bad, f"row {key}" + (": " + "; ".join(bad) if bad else "")))
    return out


def _keyed(
    table: dict[str, Any], header: list[str], rows: list[list[str]]
) -> list[tuple[tuple[str, ...], list[str]]]:
    """Rows with their keys: the key columns this header has, else the row's place."""
    keys = [header.index(k) for k in table["key"] if k in header]
    return [
        (tuple(r[k] for k in keys) if keys else (f"row {i + 1}",), r) for i, r in enumerate(rows)
    ]


def _run(command: str, tmp: str, stdout_only: bool = False, output: str | None = None) -> str:
    """A manifest command's stdout and stderr (``{tmp}`` filled in), with a failure's status.

    ``command`` may chain commands with `` && `` (run in turn, stopping at a failure). With
    ``output`` (a path, ``{tmp}`` filled in), the text of that file the command wrote is what
    counts; with ``stdout_only``, only what a command that succeeded printed to stdout (its
    tables; progress bars go to stderr).
    """
    _say(f"running: {command}")
    stdout, text = "", ""
    for part in command.split(" && "):
        proc = subprocess.run(
            shlex.split(part.replace("{tmp}", tmp)),
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        stdout += proc.stdout
        text += proc.stdout + proc.stderr
        if proc.returncode:
            return text + f"\n(exit {proc.returncode})"
    if output is not None:
        path = Path(output.replace("{tmp}", tmp))
        return path.read_text() if path.is_file() else f"{output} was not written\n(exit 1)"
    return stdout if stdout_only else text


def record(manifest: Path, which: tuple[str, ...]) -> int:
    """Rerun tables' commands, store their outputs as the recorded ones, rewrite the pages.

    ``which`` names tables by id, or is ``("quick",)`` or ``("all",)``. A command that fails
    or prints no table like the recorded one records nothing (exit 1).
    """
    tables = load_tables(manifest)
    ids = {t["id"] for t in tables}
    if which in (("quick",), ("all",)):
        chosen = [t for t in tables if which == ("all",) or t["quick"]]
    else:
        unknown = sorted(set(which) - ids)
        if unknown:
            raise ValueError(
                f"--record: unknown table(s) {unknown}; the manifest has {sorted(ids)}"
            )
        chosen = [t for t in tables if t["id"] in which]
    failed = 0
    for t in chosen:
        if t["recorded"] in {v["page"] for v in t["views"]}:
            _say(f"{t['id']}: its command writes {t['recorded']} itself; run it: {t['command']}")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            output = _run(t["command"], tmp, stdout_only=True, output=t.get("output"))
            text = output.replace(tmp, "{tmp}")
        old_headers = [h for h, _ in markdown_tables(recorded_text(t))]
        if "(exit " in output or [h for h, _ in markdown_tables(text)] != old_headers:
            _say(
                f"NOT RECORDED  {t['id']}: the output has other tables or failed:\n{output[-2000:]}"
            )
            failed += 1
            continue
        (ROOT / t["recorded"]).write_text(text.strip() + "\n")
        _say(f"recorded  {t['id']} -> {t['recorded']}")
    for page in write_pages(manifest):
        _say(f"wrote {page}")
    return 1 if failed else 0


# ---- coverage: every quoted result number is a target, or marked as not one -----------------

#: The files scanned for quoted results (the generated game, learner and API pages quote the
#: games' ground truth, which their tests check; they are written at build time).
_SKIPPED_DIRS = ("_build", "pending", "games", "learners", "api")
_REFERENCE = re.compile(
    r"(?:Eqs?\.|Equation|Assumptions?|Propositions?|Corollary|Cor\.|Definition|Theorem|Lemma|"
    r"Section|Algorithm|Remark|Figure|Table|issue|Prop\.)\s*\(?$"
)
_MARK = re.compile(r"^<!-- (measured|inputs|tested|observed): (.+?) -->$")
_RESTATES = re.compile(r"^<!-- restates: (.+?) -->$", flags=re.M)
_NOT_RESULTS = re.compile(r"^<!-- not results: (.+?) -->$", flags=re.M)


def scanned_pages() -> list[str]:
    """README.md and every Markdown source of the site (not its build or generated pages)."""
    pages = ["README.md"]
    for p in sorted((ROOT / "docs").rglob("*.md")):
        if p.relative_to(ROOT / "docs").parts[0] not in _SKIPPED_DIRS:
            pages.append(p.relative_to(ROOT).as_posix())
    return pages


def _covers(value: float, token: str) -> bool:
    """Whether ``token`` (a number as the docs write it) is ``value`` at its written precision."""
    token = token.replace("−", "-")
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    unit = 10.0 ** ((int(exponent) if exponent else 0) - decimals)
    return abs(value - float(token)) <= unit / 2 * (1 + 1e-9)


def uncovered(manifest: Path, page: str) -> list[tuple[int, str, str]]:
    """The result numbers ``page`` quotes that no target covers: (line, number, the line).

    A number is covered when it is inside a ``<!-- reproduce: ID -->`` block (written from a
    table's recorded output), or it is, at the precision it is written with, the expected value
    of a target quoted on this page or a number of a table this page shows or names in a
    ``<!-- restates: ID ... -->`` line (targets' or tables' ids). A number is not a result when
    it is in code (commands, programs), names a section of the paper (``Eq. (28)``,
    ``Corollary 4.11``), is listed by one of the page's ``<!-- not results: ... -->`` lines
    (versions, parameters, with a word saying which), or is in a block (the lines up to the
    next blank line) right below one of these marks:

    * ``<!-- measured: `command`; load ... -->``: a timing, a measurement with its command and
      load, never a target;
    * ``<!-- tested: tests/FILE ... -->``: bounds a test asserts (the suite is their check);
    * ``<!-- observed: why -->``: what code before a change did (not reproducible here);
    * ``<!-- inputs: why -->``: parameters.

    A ``<!-- /KIND -->`` line after a mark extends it to every line up to that line. Results
    are numbers written with a decimal point or an exponent; integers (counts, seeds, stages)
    are not scanned.

    Raises:
        ValueError: for a ``measured`` mark without a command in backticks and the load, or a
            ``tested`` mark naming no test file.
    """
    tables = load_tables(manifest)
    targets = load_manifest(manifest)
    text = (ROOT / page).read_text()
    restated = {i for m in _RESTATES.finditer(text) for i in m.group(1).split()}
    unknown = restated - {t["id"] for t in [*targets, *tables]}
    if unknown:
        raise ValueError(f"{page}: <!-- restates: ... --> names no target {sorted(unknown)}")
    known = [float(t["expected"]) for t in targets if t["page"] == page or t["id"] in restated]
    for t in tables:
        if t["recorded"] == page:
            return []  # the page is a recorded output itself
        if t["id"] in restated or any(v["page"] == page for v in t["views"]):
            known += numbers(recorded_text(t))
    inputs = set()
    for m in _NOT_RESULTS.finditer(text):
        inputs |= set(m.group(1).split())
    out, inside, exempt, fence, region = [], False, False, False, ""
    lines = text.splitlines()
    for no, line in enumerate(lines, start=1):
        if region:
            if line.strip() == f"<!-- /{region} -->":
                region, exempt = "", False
            continue
        if line.startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        if _BEGIN.match(line):
            inside = True
        elif line.startswith(_END):
            inside = False
        if inside:
            continue
        mark = _MARK.match(line.strip())
        if mark:
            if mark.group(1) == "measured" and not (
                "`" in mark.group(2) and "load" in mark.group(2)
            ):
                raise ValueError(f"{page}:{no}: a measured mark names its `command` and the load")
            if mark.group(1) == "tested" and "tests/" not in mark.group(2):
                raise ValueError(
                    f"{page}:{no}: a tested mark names the tests/ file that asserts it"
                )
            rest = [ln.strip() for ln in lines[no:]]
            closing = f"<!-- /{mark.group(1)} -->"
            nxt = next((i for i, ln in enumerate(rest) if _MARK.match(ln)), len(rest))
            if closing in rest[:nxt]:
                region = mark.group(1)
            exempt = True
            continue
        if not line.strip():
            exempt = False
            continue
        if exempt:
            continue
        prose = re.sub(r"<!--.*?-->|`[^`]*`|\]\([^)]*\)|https?://\S+", " ", line)
        for m in _NUMBER.finditer(prose):
            token = m.group()
            before = (lines[no - 2] + " " if no > 1 else "") + prose[: m.start()]
            if token in inputs or _REFERENCE.search(before):
                continue
            if not any(_covers(v, token) for v in known):
                out.append((no, token, line.strip()))
    return out


def pending(manifest: Path) -> dict[str, str]:
    """The manifest's ``pending`` pages: not all their numbers are targets yet, and why."""
    found = (yaml.safe_load(Path(manifest).read_text()) or {}).get("pending") or {}
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        raise ValueError(f"{manifest}: 'pending' maps pages to what is missing on them")
    return found


def coverage(manifest: Path) -> dict[str, list[tuple[int, str, str]]]:
    """Each scanned page's uncovered result numbers (pages with none left out).

    A ``pending`` page (see :func:`pending`) is left out while it has uncovered numbers; once
    it has none it is reported (with no numbers), so that the pending list only shrinks.
    """
    out, later = {}, pending(manifest)
    for page in scanned_pages():
        missing = uncovered(manifest, page)
        if page in later:
            if not missing:
                out[page] = []
        elif missing:
            out[page] = missing
    return out


def check(manifest: Path) -> int:
    """Print the stale pages and the uncovered result numbers; 1 if there are any."""
    stale = stale_pages(manifest)
    for page in stale:
        _say(f"STALE  {page}: its tables differ from the recorded outputs (--pages rewrites it)")
    missing = coverage(manifest)
    for page, found in missing.items():
        if not found:
            _say(f"NO LONGER PENDING  {page}: every number is covered; remove it from 'pending'")
        for no, token, line in found:
            _say(f"NO TARGET  {page}:{no}: {token}  in: {line[:100]}")
    for page, why in pending(manifest).items():
        if page not in missing:
            _say(f"pending  {page}: {why}")
    n = sum(map(len, missing.values()))
    _say(f"{len(stale)} stale page(s); {n} quoted number(s) neither a target nor marked")
    return 1 if stale or missing else 0


def main(argv: list[str] | None = None) -> int:
    args = _Args(**dataclasses.asdict(parse(Config, argv, prog="python scripts/reproduce.py")))
    if args.validate:
        return validate(args.manifest, args.slow)
    if args.record:
        return record(args.manifest, tuple(args.record))
    if args.pages:
        for page in write_pages(args.manifest):
            _say(f"wrote {page}")
        return 0
    if args.check:
        return check(args.manifest)
    t0 = time.perf_counter()
    if args.quick and (args.figures is None or args.tables is None):
        scratch = Path(tempfile.mkdtemp(prefix="hic-reproduce-quick-"))
        args.figures = args.figures or scratch / "figures"
        args.tables = args.tables or scratch / "results.md"
    args.figures = args.figures or ROOT / "docs" / "figures"
    args.tables = args.tables or Path(tempfile.mkdtemp(prefix="hic-reproduce-")) / "results.md"
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
    _say("the site's tables: python scripts/reproduce.py --record all (or an id), then --check")
    return 0


if __name__ == "__main__":
    sys.exit(main())
