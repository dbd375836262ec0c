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
import importlib.util
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from agents import AdaptiveCommitment, catalog
from agents.compose.engines.runner import BatchRunner, make_runner, play, run_batch
from agents.followers import GradientAscentFollower
from agents.hic import HiCLeader
from agents.presets import follower_step_size
from hic_envs.env import GameEnv
from hic_envs.games import Duopoly, RandomQuadraticGame
from hic_envs.games.base import Game

__all__ = ["BenchResult", "format_report", "machine_info", "run_benchmarks", "scaling_study"]


@dataclasses.dataclass
class BenchResult:
    """One measurement.

    Attributes:
        name: what was run.
        seeds: batch size ``S`` (1 for the play loop).
        stages: stages per timed run.
        best, median: seed-stages per second of wall-clock time over the repeats.
        cpu_best: seed-stages per second of this process's CPU time (best repeat): on a
            shared machine it discounts the time the process waited for a core.
    """

    name: str
    seeds: int
    stages: int
    best: float
    median: float
    cpu_best: float


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
    usable: int | None
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
        "load_average_1min": f"{os.getloadavg()[0]:.2f}",
    }


def _workload(num_envs: int | None):
    game = Duopoly()
    leader = HiCLeader.for_game(game, num_envs=num_envs, check_assumptions=False)
    follower = GradientAscentFollower(game, follower_step_size(game), num_envs=num_envs)
    return game, leader, follower


def _time_play(stages: int) -> tuple[float, float]:
    game, leader, follower = _workload(None)
    env = GameEnv(game)
    t, c = time.perf_counter(), time.process_time()
    play(env, leader, follower, stages, seed=0)
    return time.perf_counter() - t, time.process_time() - c


def _time_batch(S: int, stages: int, record="all") -> tuple[float, float, int, int]:
    game, leader, follower = _workload(S)
    t, c = time.perf_counter(), time.process_time()
    h = run_batch(game, leader, follower, stages, seed=0, record=record)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    nbytes = sum(
        getattr(h, f).nbytes
        for f in ("row", "update", "stage", "leader_strategies", "follower_strategies")
    )
    return dt, dc, len(h), nbytes


def _measure(
    name: str,
    S: int,
    timer: Callable[[int], tuple[float, float]],
    seconds: float,
    repeats: int,
    min_stages: int,
    max_stages: int = 1 << 62,
) -> BenchResult:
    # Calibrate on runs doubled until one takes a tenth of `seconds` (a short probe would
    # mostly time a call's fixed cost), then size the timed runs to about `seconds` each.
    probe = max(min_stages, 1000 // S, 200)
    while True:
        wall = timer(probe)[0]
        if wall >= 0.1 * seconds or probe >= max_stages:
            break
        probe = min(2 * probe, max_stages)
    rate = probe / wall
    stages = min(max(min_stages, int(rate * seconds)), max_stages)
    times = [timer(stages) for _ in range(repeats)]
    rates = [stages * S / w for w, _ in times]
    cpu = max(stages * S / max(c, 1e-9) for _, c in times)
    return BenchResult(name, S, stages, max(rates), statistics.median(rates), cpu)


def _jax_available() -> bool:
    return importlib.util.find_spec("jax") is not None


def numba_available() -> bool:
    """Whether numba is installed (the bench's limit rows need it; nothing else does)."""
    return importlib.util.find_spec("numba") is not None


#: Leader variants measured besides the catalog's defaults: ``(label, catalog leader,
#: options)`` (Hi-C's adaptive commitment ends each row's intervals at its own stage, which
#: the JAX engine runs in its generic loop; issue 18's goals table has a row for it).
PAIR_VARIANTS: tuple[tuple[str, str, dict], ...] = (
    ("hic (adaptive)", "hic", {"commitment": AdaptiveCommitment()}),
)


def pair_benchmarks(
    S: int = 32,
    *,
    seconds: float = 2.0,
    repeats: int = 3,
    log: Callable[[str], None] | None = None,
) -> list[dict]:
    """Seed-stages per second of every catalog leader against every catalog follower on the
    duopoly (per-game defaults, ``S`` seeds, ``record=None``), per backend, and of the
    variants of :data:`PAIR_VARIANTS` against every follower.

    A pair a backend refuses is a row with its message instead of a rate.

    Returns:
        A list of dicts with keys ``leader`` (the catalog name, or a variant's label),
        ``follower``, ``backend``, ``result`` (a ``BenchResult``, or ``None`` when refused)
        and ``refused`` (the message, or ``None``).
    """
    say = log or (lambda m: None)
    game = Duopoly()
    rows = []
    backends = ("numpy", "jax") if _jax_available() else ("numpy",)
    leaders = [(name, name, {}) for name in catalog.LEADERS] + list(PAIR_VARIANTS)
    for label, lname, opts in leaders:
        for fname in catalog.FOLLOWERS:
            for backend in backends:
                row: dict[str, Any] = {"leader": label, "follower": fname, "backend": backend}
                say(f"pair {label} x {fname}, backend={backend} ...")
                follower = catalog.make_follower(fname, game, S, {})
                leader = catalog.make_leader(lname, game, S, dict(opts), partner=follower)
                try:
                    runner = make_runner(game, leader, follower, 0, record=None, backend=backend)
                except ValueError as err:
                    rows.append({**row, "result": None, "refused": str(err).splitlines()[0]})
                    continue
                runner.run(1000)  # compiles (JAX) and warms up

                def timer(n, runner=runner):
                    t, c = time.perf_counter(), time.process_time()
                    runner.run(n)
                    _ = runner.leader.strategies  # waits for the device
                    return time.perf_counter() - t, time.process_time() - c

                name = f"{label} x {fname} ({backend})"
                res = _measure(name, S, timer, seconds, repeats, 100, max_stages=10_000_000)
                rows.append({**row, "result": res, "refused": None})
    return rows


def _time_jax(S: int, stages: int) -> tuple[float, float]:
    """A JAX run on a runner already compiled for this shape (the compile is timed apart)."""
    runner = _JAX_RUNNERS[S]
    t, c = time.perf_counter(), time.process_time()
    runner.run(stages)
    _ = runner.leader.strategies  # wait for the device
    return time.perf_counter() - t, time.process_time() - c


_JAX_RUNNERS: dict[int, Any] = {}  # JaxRunner (the module imports JAX)


def _jax_compile(S: int) -> float:
    """Build the JAX runner for ``S`` seeds and compile it (seconds)."""
    game, leader, follower = _workload(S)
    t = time.perf_counter()
    runner = make_runner(game, leader, follower, 0, record=None, backend="jax")
    runner.run(1000)
    _ = runner.leader.strategies
    _JAX_RUNNERS[S] = runner
    return time.perf_counter() - t


def time_default_job(backend: str) -> float:
    """Wall seconds of the whole ``hic run hic/Duopoly-v0`` default job (a subprocess: start-up,
    imports, compile, run and files included)."""
    with tempfile.TemporaryDirectory() as d:
        cmd = [
            sys.executable,
            "-m",
            "agents.compose.cli",
            "run",
            "hic/Duopoly-v0",
            "--out",
            os.path.join(d, "run"),
            "--no-progress",
            "--backend",
            backend,
        ]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return time.perf_counter() - t


def run_benchmarks(
    sizes: tuple[int, ...] = (1, 32, 1000, 100_000),
    jax_sizes: tuple[int, ...] = (32, 1000, 100_000),
    jobs: bool = True,
    *,
    pair_seeds: int | None = 32,
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
        jax_sizes: batch sizes of the JAX engine (skipped when JAX is not installed); its
            compile time is reported apart.
        jobs: also time the whole ``hic run hic/Duopoly-v0`` default job per backend.
        pair_seeds: batch size of the rows per catalog leader x follower pair and backend
            (:func:`pair_benchmarks`); None leaves them out. When numba is installed the
            single-thread numba limit of the Hi-C loop (:mod:`agents.compose.engines.bench_numba`)
            is measured at each of ``jax_sizes`` too, both ways of checking the reads (the
            faster is the limit the report divides by).
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
    results.append(_measure("agents.compose.play + GameEnv", 1, _time_play, seconds, repeats, 1000))
    for S in sizes:
        say(f"run_batch S={S} ...")
        results.append(
            _measure(
                "agents.compose.run_batch",
                S,
                lambda n, S=S: _time_batch(S, n)[:2],  # type: ignore[misc]
                seconds,
                repeats,
                50,
            )
        )
    compile_s = {}
    if _jax_available():
        # Building a runner imports JAX and starts its backends (about 1 s): done once here,
        # so that the compile times below are compile times.
        game, leader, follower = _workload(1)
        make_runner(game, leader, follower, 0, record=None, backend="jax")
        for S in jax_sizes if not quick else tuple(s for s in jax_sizes if s <= 1000):
            say(f"JAX engine S={S}: compile ...")
            compile_s[S] = _jax_compile(S)
            say(f"JAX engine S={S} ...")
            # At most 1e7 stages a run: the runner carries on across runs, and its schedule
            # tables (1M updates; k_n >= 36 here) must not grow, which would recompile.
            results.append(
                _measure(
                    "JAX engine",
                    S,
                    lambda n, S=S: _time_jax(S, n),  # type: ignore[misc]
                    seconds,
                    repeats,
                    1000,
                    max_stages=10_000_000,
                )
            )
        _JAX_RUNNERS.clear()
    if numba_available():
        from agents.compose.engines.bench_numba import NumbaHiC  # numba is imported here only

        limit_sizes = jax_sizes if not quick else tuple(s for s in jax_sizes if s <= 1000)
        if pair_seeds and pair_seeds not in limit_sizes:  # the pairs' table shows it too
            limit_sizes = (*limit_sizes, pair_seeds)
        for S in limit_sizes:
            # Both ways of checking the reads (bench_numba); the limit is the faster.
            for in_strategy, how in ((False, "check folded"), (True, "check in y")):
                say(f"numba limit S={S}, {how}: compile ...")
                kernel = NumbaHiC(*_workload(S), in_strategy=in_strategy)
                say(f"numba limit S={S}, {how} ...")
                results.append(
                    _measure(
                        f"numba limit (1 thread, {how})",
                        S,
                        kernel.timed,
                        seconds,
                        repeats,
                        1000,
                        max_stages=10_000_000,
                    )
                )
    dims = []
    if _jax_available() and not quick:
        for d in (1, 4, 16):
            say(f"JAX engine, RandomQuadratic d1=d2={d}, S=32 ...")
            game = RandomQuadraticGame(d1=d, d2=d, seed=0)
            leader = HiCLeader.for_game(game, num_envs=32, check_assumptions=False)
            follower = GradientAscentFollower(game, follower_step_size(game), num_envs=32)
            runner = make_runner(game, leader, follower, 0, record=None, backend="jax")
            runner.run(1000)

            def timer(n, runner=runner):
                t, c = time.perf_counter(), time.process_time()
                runner.run(n)
                _ = runner.leader.strategies
                return time.perf_counter() - t, time.process_time() - c

            res = _measure(f"JAX RandomQuadratic d={d}", 32, timer, seconds, repeats, 1000,
                           max_stages=10_000_000)  # fmt: skip
            dims.append({"d": d, "ns_per_seed_stage": 1e9 / res.best})
    pairs = (
        pair_benchmarks(pair_seeds, seconds=seconds, repeats=repeats, log=say) if pair_seeds else []
    )
    job_s = {}
    if jobs and not quick:
        for backend in ("numpy", "jax") if _jax_available() else ("numpy",):
            say(f"default job, backend={backend} ...")
            job_s[backend] = time_default_job(backend)
    memory = []
    S = 1000
    for record in ("all", "log"):
        say(f"memory: run_batch S={S}, {memory_stages} stages, record={record!r} ...")
        dt, _, n_rec, nbytes = _time_batch(S, memory_stages, record)
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
        "pairs": pairs,
        "dimensions": dims,
        "jax_compile_s": compile_s,
        "default_job_s": job_s,
        "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def format_report(report: dict) -> str:
    """The benchmark report as Markdown-ish text."""
    m = report["machine"]
    lines = [
        "machine: " + ", ".join(f"{k}={v}" for k, v in m.items()),
        "workload: " + report["workload"],
        "",
        "| loop | seeds S | stages per run | seed-stages/s (best) | seed-stages/s (median) | "
        "seed-stages per CPU-second (best) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r.name} | {r.seeds} | {r.stages} | {r.best:.3g} | {r.median:.3g} | "
            f"{r.cpu_best:.3g} |"
        )
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
    limit: dict[Any, float] = {}  # the faster of the numba kernels at each S
    for r in report["results"]:
        if r.name.startswith("numba limit"):
            limit[r.seeds] = max(limit.get(r.seeds, 0.0), r.best)
    jax = {r.seeds: r.best for r in report["results"] if r.name == "JAX engine"}
    if limit and jax:
        lines.append(
            "\nJAX engine / single-thread numba limit (best rates): "
            + ", ".join(f"S={S}: {jax[S] / limit[S]:.2f}x" for S in jax if S in limit)
        )
    if report.get("dimensions"):
        base = report["dimensions"][0]["ns_per_seed_stage"]
        lines.append(
            "\nJAX engine, RandomQuadratic d1=d2=d, S=32, ns per seed-stage (best): "
            + ", ".join(
                f"d={r['d']}: {r['ns_per_seed_stage']:.2f} ({r['ns_per_seed_stage'] / base:.1f}x)"
                for r in report["dimensions"]
            )
        )
    if report.get("pairs"):
        S = next((p["result"].seeds for p in report["pairs"] if p["result"]), "")
        lim = limit.get(S)  # the single-thread numba Hi-C loop at this S, when measured
        head = "" if lim is None else f" / numba limit ({lim:.3g})"
        lines += [
            "",
            f"| leader x follower (Duopoly, S={S}) | backend | seed-stages/s (best) | "
            f"(median) | per CPU-second (best) |{head and f' best{head} |'}",
            "|---|---|---:|---:|---:|" + ("---:|" if head else ""),
        ]
        for p in report["pairs"]:
            r = p["result"]
            if r:
                cells = f"{r.best:.3g} | {r.median:.3g} | {r.cpu_best:.3g}"
                if head:
                    cells += f" | {r.best / lim:.2g}x"
            else:
                cells = f"refused: {p['refused'][:140]} | | " + ("| " if head else "")
            lines.append(f"| {p['leader']} x {p['follower']} | {p['backend']} | {cells} |")
    if report.get("jax_compile_s"):
        lines.append(
            "\nJAX compile (seconds, apart from the rates above): "
            + ", ".join(f"S={S}: {v:.2f}" for S, v in report["jax_compile_s"].items())
        )
    if report.get("default_job_s"):
        lines.append(
            "\n`hic run hic/Duopoly-v0` default job (32 seeds x 1e6 stages), whole process: "
            + ", ".join(f"{b}: {v:.2f} s" for b, v in report["default_job_s"].items())
        )
    lines.append(f"\npeak resident memory of the process: {report['peak_rss_MB']:.0f} MB")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- scaling
class _TimedBatchAgent:
    """A batched agent's public batch face, forwarded, with the wall time of its act and
    observe calls accumulated in ``seconds`` (composition, not monkeypatching)."""

    def __init__(self, agent) -> None:
        self.agent, self.seconds = agent, 0.0
        self.num_envs, self.dim = agent.num_envs, agent.dim

    @property
    def updates(self) -> int:
        return self.agent.updates

    @property
    def strategies(self) -> np.ndarray:
        return self.agent.strategies

    def reset(self, seed=None) -> None:
        self.agent.reset(seed)

    def update_counts(self) -> np.ndarray:
        return self.agent.update_counts()

    def act_batch(self, obs) -> np.ndarray:
        t = time.perf_counter()
        out = self.agent.act_batch(obs)
        self.seconds += time.perf_counter() - t
        return out

    def observe_batch(self, reward, obs) -> None:
        t = time.perf_counter()
        self.agent.observe_batch(reward, obs)
        self.seconds += time.perf_counter() - t


@dataclasses.dataclass
class ScalingRow:
    """One (dimension, method) cell of the scaling study.

    Attributes:
        d: ``d1 = d2``.
        method: ``"hic"`` or ``"hierarchical"``.
        seeds: batch size.
        budget: stages played.
        updates: median leader updates per seed.
        leader_us_per_stage: the leader's own wall time (its act and observe hooks, run
            batched) per seed and per stage, in microseconds.
        leader_us_per_update: the same per leader update (``x per stage * stages/update``).
        loop_us_per_stage: wall time per seed and stage of the whole batched loop (game,
            both agents).
        settled: seeds that reached ``epsilon`` and stayed there to the end of the budget.
        stages_to_eps: median over seeds of the first checked stage from which the relative
            distance stayed <= ``epsilon``; None when fewer than half the seeds settled.
        final_rel_distance: median over seeds of ``||x - x*|| / ||x_0 - x*||`` at the end.
        generic_us_per_update: for ``hierarchical``, the cost per seed of the generic
            hierarchical gradient (Eq. 7 through the follower's Hessians and a linear solve,
            ``Game.total_leader_grad``), what a coupled update costs without a closed-form
            ``r``; None for Hi-C.
    """

    d: int
    method: str
    seeds: int
    budget: int
    updates: float
    leader_us_per_stage: float
    leader_us_per_update: float
    loop_us_per_stage: float
    settled: int
    stages_to_eps: float | None
    final_rel_distance: float
    generic_us_per_update: float | None = None

    @property
    def leader_ms_to_eps(self) -> float | None:
        """The leader's own compute until it settled, per seed (ms)."""
        if self.stages_to_eps is None:
            return None
        return self.leader_us_per_stage * self.stages_to_eps / 1e3


def _generic_hierarchical_us(game, S: int, rng: np.random.Generator) -> float:
    x = rng.uniform(game.leader_low, game.leader_high, size=(S, game.d1))
    y = rng.uniform(game.follower_low, game.follower_high, size=(S, game.d2))
    reps, t = 0, time.perf_counter()
    while True:
        Game.total_leader_grad(game, x, y)  # the base class's generic Eq. (7)
        reps += 1
        el = time.perf_counter() - t
        if el > 0.5 or reps >= 200:
            return el / reps / S * 1e6


def scaling_study(
    dims: tuple[int, ...] = (1, 4, 16, 64, 256),
    *,
    stages: int = 200_000,
    seeds: int = 8,
    epsilon: float = 0.05,
    seed: int = 0,
    game_seed: int = 0,
    methods: tuple[str, ...] = ("hic", "hierarchical"),
    points_per_decade: int = 40,
    log: Callable[[str], None] | None = None,
) -> list[ScalingRow]:
    """Hi-C against the coupled hierarchical gradient on ``RandomQuadraticGame(d, d)``.

    Both leaders play a gradient-ascent follower with its per-game default step, from the
    same seeds, with their per-game default schedules (:func:`agents.catalog.make_leader`), for
    the same stage budget. A seed *settles* at the first checked stage from which
    ``||x_n - x*|| <= epsilon ||x_0 - x*||`` holds at every later check up to the budget
    (checks at ``points_per_decade`` log-spaced stages per decade).

    Args:
        dims: dimensions ``d = d1 = d2``.
        stages: stage budget per run.
        seeds: seeds per run (one batch).
        epsilon: relative distance to reach.
        seed: master seed of the runs.
        game_seed: seed of the random game draw.
        methods: leaders to compare (``"hic"``, ``"hierarchical"``).
        points_per_decade: density of the checks.
        log: progress callback.

    Returns:
        one :class:`ScalingRow` per (d, method).
    """
    say = log or (lambda m: None)
    checks = np.unique(
        np.geomspace(1, stages, max(2, int(points_per_decade * np.log10(max(stages, 10)))))
        .round()
        .astype(np.int64)
    )
    rows = []
    for d in dims:
        game = RandomQuadraticGame(d1=d, d2=d, seed=game_seed)
        x_star = game.stackelberg().x
        for method in methods:
            say(f"d={d} {method} ...")
            follower = catalog.make_follower("gradient", game, seeds, {})
            leader = _TimedBatchAgent(
                catalog.make_leader(method, game, seeds, {}, partner=follower)
            )
            runner = BatchRunner(
                game,
                leader,  # type: ignore[arg-type]  # BatchAgent's batch face, forwarded
                follower,
                seed,
                record=None,
            )
            d0 = np.linalg.norm(leader.strategies - x_star, axis=1)
            rel = np.empty((checks.size, seeds))
            t0 = time.perf_counter()
            for j, c in enumerate(checks):
                runner.run(int(c) - runner.stage)
                rel[j] = np.linalg.norm(leader.strategies - x_star, axis=1) / d0
            wall = time.perf_counter() - t0
            inside = rel <= epsilon
            # settled at check j: inside at j and at every later check
            stays = np.flip(np.logical_and.accumulate(np.flip(inside, 0), 0), 0)
            first = np.where(stays.any(0), np.argmax(stays, 0), -1)
            settled = first >= 0
            t_eps = np.where(settled, checks[np.maximum(first, 0)], np.inf)
            med = float(np.median(t_eps))
            updates = runner.updates
            leader_s = leader.seconds
            rows.append(
                ScalingRow(
                    d=d,
                    method=method,
                    seeds=seeds,
                    budget=stages,
                    updates=float(np.median(updates)),
                    leader_us_per_stage=leader_s / (stages * seeds) * 1e6,
                    leader_us_per_update=leader_s / max(int(updates.sum()), 1) * 1e6,
                    loop_us_per_stage=wall / (stages * seeds) * 1e6,
                    settled=int(settled.sum()),
                    stages_to_eps=None if not np.isfinite(med) else med,
                    final_rel_distance=float(np.median(rel[-1])),
                    generic_us_per_update=(
                        _generic_hierarchical_us(game, seeds, np.random.default_rng(0))
                        if method == "hierarchical"
                        else None
                    ),
                )
            )
    return rows


def format_scaling(rows: list[ScalingRow], epsilon: float = 0.05) -> str:
    """The scaling study as a Markdown table, one row per (dimension, leader)."""
    names = {"hic": "Hi-C", "hierarchical": "hierarchical (coupled)"}

    def reach(r: ScalingRow) -> str:
        if r.stages_to_eps is None:
            return f"not reached within {r.budget:.0e} ({r.settled}/{r.seeds} settled)"
        return f"{r.stages_to_eps:.3g} ({r.settled}/{r.seeds} settled)"

    lines = [
        "| d | leader | leader µs per update | stages per update | stages to ε | "
        "leader ms to ε | rel. distance at budget | loop µs per stage | "
        "generic coupled µs per update |",
        "|---:|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in sorted(rows, key=lambda r: (r.d, r.method != "hic")):
        ms = r.leader_ms_to_eps
        lines.append(
            "| "
            + " | ".join(
                [
                    str(r.d),
                    names.get(r.method, r.method),
                    f"{r.leader_us_per_update:.3g}",
                    f"{r.budget / max(r.updates, 1):.3g}",
                    reach(r),
                    "-" if ms is None else f"{ms:.3g}",
                    f"{r.final_rel_distance:.2g}",
                    f"{r.loop_us_per_stage:.3g}",
                    "-" if r.generic_us_per_update is None else f"{r.generic_us_per_update:.3g}",
                ]
            )
            + " |"
        )
    return "\n".join(lines)
