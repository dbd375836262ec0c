"""Time the default job on the built-in duopoly and on the same duopoly written as an ArrayGame.

    python scripts/own_game_timing.py [--stages 1e6] [--repeats 3]

The ArrayGame is the bring-your-own-game tutorial's (docs/tutorials/own_game.md), written to a
temporary module and registered as ``mylab/MyDuopoly-v0``. Each repeat runs, back to back as
whole processes (start-up, JAX's import and the results files included):

* ``built-in``: ``hic run hic/Duopoly-v0 --out DIR --no-progress``;
* ``ArrayGame, same job``: ``hic run --import my_array_game mylab/MyDuopoly-v0
  --follower-step-size 0.1 ...``: the built-in's preset has a per-game knob (the published
  experiment's follower step 0.1, ``agents.presets.PRESET_RULES``) that a user's game does not
  get, and with it the two runs use the same schedules, so they differ only in the game's code;
* ``ArrayGame, default``: the same without the flag (the generic preset: follower step
  0.25, shorter commitments, about 2.8x more commitment intervals);
* ``built-in, step 0.25``: the built-in with the generic preset's follower step, so the same
  schedules as ``ArrayGame, default``: what the default's extra intervals cost a built-in game.

It prints the wall times side by side, the ratios to the built-in's median, the load average
before and after, each run's CPU time (user + system, of the process: less disturbed than the
wall time by other jobs on a loaded machine, so its ratios are the ones to compare there) and
each run's final median distance (the same job must land where the built-in does).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GAME = """
import hic_envs
from hic_envs.games import ArrayGame


def f1(x, y):  # the leader's payoff, on one strategy pair
    return x[0] * (50 - x[0] - y[0] - 1)


def f2(x, y):  # the follower's payoff
    return y[0] * (50 - x[0] - y[0] - 1)


def my_game(**kwargs):
    return ArrayGame(f1, f2, [0.0], [50.0], [0.0], [50.0], name="MyDuopoly", **kwargs)


hic_envs.register_game("mylab/MyDuopoly-v0", my_game)
"""

ROWS = {
    "built-in": ["hic/Duopoly-v0"],
    "ArrayGame, same job": [
        "--import",
        "my_array_game",
        "mylab/MyDuopoly-v0",
        "--follower-step-size",
        "0.1",
    ],
    "ArrayGame, default": ["--import", "my_array_game", "mylab/MyDuopoly-v0"],
    "built-in, step 0.25": ["hic/Duopoly-v0", "--follower-step-size", "0.25"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stages", type=float, default=1e6)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    hic = [sys.executable, "-m", "agents.compose.cli"]
    times: dict[str, list[float]] = {k: [] for k in ROWS}
    cpu: dict[str, list[float]] = {k: [] for k in ROWS}
    dist: dict[str, str] = {}
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "my_array_game.py").write_text(GAME)
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        for rep in range(args.repeats):
            for row, (name, argv) in enumerate(ROWS.items()):
                out = Path(tmp, f"run{rep}-{row}")
                cmd = [*hic, "run", *argv, "--stages", str(int(args.stages))]
                cmd += ["--out", str(out), "--no-progress"]
                t, c = time.perf_counter(), _children_cpu()
                done = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
                if done.returncode != 0:
                    sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
                times[name].append(time.perf_counter() - t)
                cpu[name].append(_children_cpu() - c)
                summary = json.loads((out / "summary.json").read_text())
                dist[name] = f"{summary['final']['distance_to_dse']['median']:.3g}"
    load1 = os.getloadavg()
    base = statistics.median(times["built-in"])
    base_cpu = statistics.median(cpu["built-in"])
    print(f"default job, {int(args.stages):,} stages, 32 seeds; {args.repeats} repeats in turn")
    print(f"load average before {load0[0]:.2f}, after {load1[0]:.2f} ({os.cpu_count()} cores)")
    print(
        f"{'game':22s} {'wall times (s)':24s} {'median':>7s} {'ratio':>6s}  "
        f"{'CPU times (s)':24s} {'median':>7s} {'ratio':>6s}  final distance"
    )
    for name, ts in times.items():
        med, med_cpu = statistics.median(ts), statistics.median(cpu[name])
        walls = ", ".join(f"{t:.1f}" for t in ts)
        cpus = ", ".join(f"{t:.1f}" for t in cpu[name])
        print(
            f"{name:22s} {walls:24s} {med:7.1f} {med / base:6.2f}  "
            f"{cpus:24s} {med_cpu:7.1f} {med_cpu / base_cpu:6.2f}  {dist[name]}"
        )


def _children_cpu() -> float:
    """User + system seconds of the child processes waited for so far."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


if __name__ == "__main__":
    main()
