"""Time the sweep study (scripts/sweep_study.yaml) on the NumPy and the JAX engine, and compare
their results (issue 19's goal: the whole process in <= 20 s NumPy, <= 15 s JAX, with the
same distribution of results).

Runs ``hic sweep FILE --out DIR --workers 2 --no-progress`` as a fresh process, ``--runs``
times per engine (default 3), alternating the engines so that a change in the machine's load
falls on both alike; the JAX runs use a copy of the study with ``backend: jax`` in its base.
Prints, per run, the wall seconds, the CPU seconds of the process and its workers (user +
system: what the sweep costs, without the time it waited for a core on a shared machine) and
the load average at its start; then, from the last run of each engine, per configuration, a
two-sample Kolmogorov-Smirnov test of the 32 seeds' final distances to the DSE, and the
log10 ratio of the two medians::

    python scripts/sweep_study_timing.py [--runs 3] [--out /tmp/sweep_timing] [--study FILE]

State the machine's load next to any figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from scipy import stats

from agents.compose.experiments.results import load_results

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "scripts" / "sweep_study.yaml"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(spec: Path, out: Path) -> tuple[float, float, float]:
    shutil.rmtree(out, ignore_errors=True)
    load = os.getloadavg()[0]
    cpu0, t0 = _children_cpu(), time.perf_counter()
    cmd = [sys.executable, "-m", "agents.compose.cli", "sweep", str(spec), "--out", str(out)]
    subprocess.run([*cmd, "--workers", "2", "--no-progress"], check=True, capture_output=True)
    return time.perf_counter() - t0, _children_cpu() - cpu0, load


def final_distances(sweep_dir: Path) -> dict[str, np.ndarray]:
    """Each configuration's last recorded distance per seed, by its swept values."""
    summary = json.loads((sweep_dir / "sweep.json").read_text())
    out = {}
    for c in summary["configurations"]:
        r = load_results(sweep_dir / c["dir"])
        last = {int(s): d for s, d in zip(r.seed, r.distance, strict=True)}
        out[json.dumps(c["values"], sort_keys=True)] = np.array([last[s] for s in sorted(last)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default="/tmp/sweep_timing")
    parser.add_argument("--study", default=str(STUDY), help="the sweep file (default: the study)")
    args = parser.parse_args()
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    study = Path(args.study)
    spec = yaml.safe_load(study.read_text())
    spec["base"]["backend"] = "jax"
    jax_spec = root / "sweep_study_jax.yaml"
    jax_spec.write_text(yaml.safe_dump(spec, sort_keys=False))
    files = {"numpy": study, "jax": jax_spec}
    print("| engine | run | wall s | CPU s | load |\n|---|---|---|---|---|")
    for i in range(1, args.runs + 1):
        for engine, path in files.items():
            wall, cpu, load = _run(path, root / engine)
            print(f"| {engine} | {i} | {wall:.1f} | {cpu:.1f} | {load:.1f} |", flush=True)
    a, b = final_distances(root / "numpy"), final_distances(root / "jax")
    p = np.array([stats.ks_2samp(a[k], b[k]).pvalue for k in a])
    ratio = np.array([abs(np.log10(np.median(a[k]) / np.median(b[k]))) for k in a])
    print(
        f"{len(p)} configurations: KS p < 0.05 in {int((p < 0.05).sum())} (about "
        f"{0.05 * len(p):.1f} expected by chance), p < 0.01 in {int((p < 0.01).sum())}, "
        f"smallest p {p.min():.3g}; |log10(median NumPy / median JAX)|: median "
        f"{np.median(ratio):.3f}, 90th percentile {np.quantile(ratio, 0.9):.3f}"
    )


if __name__ == "__main__":
    main()
