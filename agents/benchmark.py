"""Throughput benchmark of the play loop and the batched engine (``hic bench``,
``scripts/bench.py``).

Everything is measured on one workload: the Hi-C leader with its per-game defaults against a
gradient-ascent follower on the Stackelberg duopoly (``hic/Duopoly-v0``, defaults). Figures
are seed-stages per second (stages x seeds / wall seconds), best and median of ``repeats``
timed runs, each long enough to take about ``seconds`` seconds. Nothing here is asserted:
speed is reported, never tested.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable

import numpy as np

__all__ = ["BenchResult", "format_report", "machine_info", "run_benchmarks"]


@dataclasses.dataclass
class BenchResult:
    """One measurement.

    Attributes:
        name: what was run.
        seeds: batch size ``S`` (1 for the play loop).
        stages: stages per timed run.
        best, median: seed-stages per second over the repeats.
        note: extra information (e.g. recorded updates and their memory).
    """

    name: str
    seeds: int
    stages: int
    best: float
    median: float
    note: str = ""


def _blas_threads() -> str:
    try:
        maps = [line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line]
    except OSError:
        maps = []
    for path in sorted(set(maps)):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for fn in (
            "scipy_openblas_get_num_threads64_",
            "openblas_get_num_threads64_",
            "openblas_get_num_threads",
        ):
            if hasattr(lib, fn):
                return str(getattr(lib, fn)())
    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS") if k in os.environ}
    return ", ".join(f"{k}={v}" for k, v in env.items()) or "unknown"


def machine_info() -> dict[str, str]:
    """Cores, Python, NumPy and BLAS of this machine."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas_name = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy without mode="dicts"
        blas_name = "unknown"
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "nproc": f"{usable} usable of {os.cpu_count()}",
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_name,
        "blas_threads": _blas_threads(),
    }


def _workload(num_envs: int | None):
    from gymnasium import spaces

    from agents.experiment import default_follower_step_size, default_hic_kwargs
    from agents.followers import GradientAscentFollower
    from agents.hic import HiCLeader
    from hic_envs.games import Duopoly

    game = Duopoly()
    space = spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)
    leader = HiCLeader(
        space, num_envs=num_envs, check_assumptions=False, **default_hic_kwargs(game)
    )
    follower = GradientAscentFollower(game, default_follower_step_size(game), num_envs=num_envs)
    return game, leader, follower


def _time_play(stages: int) -> float:
    from agents.runner import play
    from hic_envs.env import GameEnv

    game, leader, follower = _workload(None)
    env = GameEnv(game)
    t = time.perf_counter()
    play(env, leader, follower, stages, seed=0)
    return time.perf_counter() - t


def _time_batch(S: int, stages: int, record="all") -> tuple[float, int, int]:
    from agents.runner import run_batch

    game, leader, follower = _workload(S)
    t = time.perf_counter()
    h = run_batch(game, leader, follower, stages, seed=0, record=record)
    dt = time.perf_counter() - t
    nbytes = sum(
        getattr(h, f).nbytes
        for f in ("row", "update", "stage", "leader_strategies", "follower_strategies")
    )
    return dt, len(h), nbytes


def _measure(
    name: str, S: int, timer: Callable[[int], float], seconds: float, repeats: int, min_stages: int
) -> BenchResult:
    # Calibrate on a short run, then size the timed runs to about `seconds` each.
    probe = max(min_stages, 200)
    rate = probe / timer(probe)
    stages = max(min_stages, int(rate * seconds))
    rates = [stages * S / timer(stages) for _ in range(repeats)]
    return BenchResult(name, S, stages, max(rates), statistics.median(rates))


def run_benchmarks(
    sizes: tuple[int, ...] = (1, 100, 1000, 10_000, 100_000),
    *,
    seconds: float = 2.0,
    repeats: int = 3,
    quick: bool = False,
    memory_stages: int | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Measure the play loop and ``run_batch`` at each batch size, side by side.

    Args:
        sizes: batch sizes ``S`` for ``run_batch``.
        seconds: target wall time of each timed run.
        repeats: timed runs per measurement (best and median reported).
        quick: a smoke run (0.2 s per run, 1 repeat, sizes up to 1000, short memory check).
        memory_stages: stages of the memory check (``S = 1000``, record ``"all"`` vs
            ``"log"``); default ``100_000`` (``2_000`` when quick).
        log: called with a line of progress before each measurement.

    Returns:
        ``{"machine": ..., "workload": ..., "results": [BenchResult, ...], "memory": [...]}``.
    """
    if quick:
        seconds, repeats = 0.2, 1
        sizes = tuple(s for s in sizes if s <= 1000)
    if memory_stages is None:
        memory_stages = 2_000 if quick else 100_000
    say = log or (lambda m: None)
    results = []
    say("play loop (PettingZoo GameEnv, 1 seed) ...")
    results.append(_measure("agents.play + GameEnv", 1, _time_play, seconds, repeats, 1000))
    for S in sizes:
        say(f"run_batch S={S} ...")
        results.append(
            _measure(
                "agents.run_batch", S, lambda n, S=S: _time_batch(S, n)[0], seconds, repeats, 50
            )
        )
    memory = []
    S = 1000
    for record in ("all", "log"):
        say(f"memory: run_batch S={S}, {memory_stages} stages, record={record!r} ...")
        dt, n_rec, nbytes = _time_batch(S, memory_stages, record)
        memory.append(
            {
                "seeds": S,
                "stages": memory_stages,
                "record": record,
                "records": n_rec,
                "MB": nbytes / 1e6,
                "seed_stages_per_s": S * memory_stages / dt,
            }
        )
    _, leader, _ = _workload(None)
    workload = (
        "Hi-C (defaults: "
        + ", ".join(
            f"{k}={getattr(leader, k)!r}"
            for k in ("step_size", "perturbation", "commitment", "baseline")
        )
        + ") vs gradient-ascent follower on Duopoly(a=50, b=1, c1=c2=1)"
    )
    return {
        "machine": machine_info(),
        "workload": workload,
        "results": results,
        "memory": memory,
        "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def format_report(report: dict) -> str:
    """The benchmark report as Markdown-ish text."""
    m = report["machine"]
    lines = [
        "machine: " + ", ".join(f"{k}={v}" for k, v in m.items()),
        "workload: " + report["workload"],
        "",
        "| loop | seeds S | stages per run | seed-stages/s (best) | seed-stages/s (median) |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        lines.append(f"| {r.name} | {r.seeds} | {r.stages} | {r.best:.3g} | {r.median:.3g} |")
    lines += [
        "",
        "| recording (S=1000) | stages | records kept | memory of records | seed-stages/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for mm in report["memory"]:
        lines.append(
            f"| record={mm['record']!r} | {mm['stages']} | {mm['records']} | "
            f"{mm['MB']:.2f} MB | {mm['seed_stages_per_s']:.3g} |"
        )
    lines.append(f"\npeak resident memory of the process: {report['peak_rss_MB']:.0f} MB")
    return "\n".join(lines)
