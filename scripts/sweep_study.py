"""Run the sweep study (scripts/sweep_study.yaml) and summarise it.

Runs the 108 configurations with the process executor, draws the sweep's figures into
``docs/figures/`` (``study_sweep_final.png``, ``study_sweep_curves.png``) and prints
Markdown tables of the final distance to the DSE (median and max over 32 seeds): per game and noise
level, the step-size exponent against the perturbation exponent for each commitment.

    python scripts/sweep_study.py [--out runs/sweep_study] [--workers 2] [--resume]
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from agents.compose.cli.config import parse
from agents.compose.plots.sweep_plots import plot_sweep
from agents.compose.sweeps import run_sweep

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "scripts" / "sweep_study.yaml"


def tables(summary: dict) -> str:
    """Markdown: one table per (game, noise); rows gamma_alpha, columns commitment x
    gamma_delta, cells the median and largest final distance (and whether Eq. 14 holds)."""
    confs = [c for c in summary["configurations"] if c["status"] == "finished"]
    ga = sorted({c["values"]["step_size.gamma"] for c in confs})
    gd = sorted({c["values"]["perturbation.gamma"] for c in confs})
    ks = []
    for c in confs:
        if c["values"]["commitment"] not in ks:
            ks.append(c["values"]["commitment"])
    out = []
    for env in dict.fromkeys(c["values"]["env_id"] for c in confs):
        for noise in sorted({c["values"]["noise_std"] for c in confs}):
            at = {
                (c["values"]["step_size.gamma"], c["values"]["perturbation.gamma"],
                 c["values"]["commitment"]): c["final"]["distance_to_dse"]
                for c in confs
                if c["values"]["env_id"] == env and c["values"]["noise_std"] == noise
            }  # fmt: skip
            head = ["γα \\ k, γδ"] + [f"k={k}, γδ={d:g}" for k in ks for d in gd]
            out.append(f"**{env}, noise_std = {noise:g}** (final ‖x − x*‖ over seeds, "
                       "median / max; † marks γα − γδ ≤ 1/2, where Eq. (14) fails)\n")  # fmt: skip
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "---|" * len(head))
            for a in ga:
                cells = []
                for k in ks:
                    for d in gd:
                        v = at.get((a, d, k))
                        mark = "†" if a - d <= 0.5 else ""
                        cells.append(
                            "–" if v is None else f"{v['median']:.2g} / {v['max']:.2g}{mark}"
                        )
                out.append(f"| {a:g} | " + " | ".join(cells) + " |")
            out.append("")
    return "\n".join(out)


@dataclasses.dataclass(frozen=True)
class Config:
    """Command-line configuration (one flag per field, :mod:`agents.compose.cli.config`)."""

    out: Path = ROOT / "runs" / "sweep_study"
    """Sweep directory."""
    workers: int = 2
    """Worker processes."""
    resume: bool = False
    """Continue the sweep in --out."""
    figures: Path = ROOT / "docs" / "figures"
    """Figure directory (study_sweep_*.png)."""


def main(argv: list[str] | None = None) -> None:
    args = parse(Config, argv, prog="python scripts/sweep_study.py")
    t0 = time.perf_counter()
    summary = run_sweep(SPEC, args.out, executor="process", workers=args.workers,
                        resume=args.resume)  # fmt: skip
    wall = time.perf_counter() - t0
    for path in plot_sweep(args.out, args.figures, prefix="study_"):
        print(path)
    c = summary["counts"]
    print(f"{c['finished']} finished, {c['failed']} failed in {wall:.0f} s "
          f"({args.workers} workers); table {args.out / 'sweep.csv'}\n")  # fmt: skip
    print(tables(summary))


if __name__ == "__main__":
    main()
