"""Where a stage's time goes: the parts of the play loop and of the NumPy engine at S = 32.

The workload is the benchmark's (``agents.compose.engines.bench``: the Hi-C preset against a
gradient-ascent follower on the duopoly). Each part is timed on its own, best of
``--repeats`` timings of ``--number`` calls (microseconds per call):

* the play loop's parts: ``env.step``, the follower's single-face ``observe`` (its gradient
  and projected step), both agents' ``act`` and the Hi-C leader's ``observe`` on a quiet
  stage, and the whole ``play`` stage for comparison;
* the NumPy engine at S = 32: the follower's repeated step per stage (``observe_repeated``
  over 72 stages, as within a commitment interval), and the rest of an interval (a whole run
  less that many follower steps, per interval);
* one ufunc call at S = 32 (``np.maximum`` into a preallocated output) on operands of one
  shape, against a ``(1,)`` bound it broadcasts and a Python float it converts: why the
  followers spread their box and step to the strategies' shape once.

Nothing is asserted: these are measurements, for the README's Speed section.

    python scripts/profile_stages.py [--number 100000] [--repeats 5]
"""

from __future__ import annotations

import dataclasses
import time
import timeit

import numpy as np

from agents.compose.cli.config import parse
from agents.compose.engines.bench import _time_play, _workload
from agents.compose.engines.runner import run_batch
from hic_envs.env import FOLLOWER, LEADER, GameEnv


@dataclasses.dataclass(frozen=True)
class Config:
    """Command-line configuration (one flag per field, :mod:`agents.compose.cli.config`)."""

    number: int = 100_000
    """calls per timing of a play-loop part."""
    repeats: int = 5
    """timings per part (the best is printed)."""
    stages: int = 300_000
    """stages of each NumPy-engine run at S = 32."""


def _best_us(fn, number: int, repeats: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeats)) / number * 1e6


def play_parts(cfg: Config) -> list[tuple[str, float]]:
    """Microseconds per call of each part of a ``play`` stage."""
    game, leader, follower = _workload(None)
    env = GameEnv(game)
    env.reset(seed=0)
    leader.reset(seed=1)
    follower.reset(seed=2)
    x, y = np.array([20.0]), np.array([10.0])
    actions = {LEADER: x, FOLLOWER: y}

    def step():
        if not env.agents:
            env.reset()
        env.step(actions)

    def quiet_observes() -> float:  # best of many timings of a fresh interval's quiet stages
        leader.reset(seed=1)
        q = leader.quiet_stages()
        t = timeit.repeat(
            lambda: leader.observe(1.0, y),
            setup=lambda: leader.reset(seed=1),
            number=q,
            repeat=2000,
        )
        return min(t) / q * 1e6

    n, r = cfg.number, cfg.repeats
    rows = [
        ("env.step", _best_us(step, n, r)),
        ("follower.observe (single face)", _best_us(lambda: follower.observe(1.0, x), n, r)),
        ("leader.act + follower.act", _best_us(lambda: (leader.act(y), follower.act(x)), n, r)),
        ("leader.observe (quiet stage)", quiet_observes()),
    ]
    stages = max(n // 5, 1000)
    whole = min(_time_play(stages)[0] for _ in range(r)) / stages * 1e6
    rows.append(("whole play stage", whole))
    return rows


def engine_parts(cfg: Config) -> list[tuple[str, float]]:
    """The NumPy engine at S = 32: microseconds per stage of the follower's repeated steps,
    and per interval of everything else."""
    S, stages = 32, cfg.stages

    def run() -> tuple[float, int]:
        game, leader, follower = _workload(S)
        t = time.perf_counter()
        run_batch(game, leader, follower, stages, seed=0, record="log")
        return time.perf_counter() - t, int(leader.update_counts()[0])

    full, intervals = min(run() for _ in range(cfg.repeats))
    _, _, follower = _workload(S)
    follower.reset(seed=0)
    x = np.full((S, 1), 20.0)
    per_step = _best_us(lambda: follower.observe_repeated(x, 72), 2000, cfg.repeats) / 72
    return [
        ("whole stage", full / stages * 1e6),
        ("follower's repeated steps, per stage", per_step),
        (
            f"the rest, per interval ({intervals} intervals)",
            (full * 1e6 - per_step * stages) / intervals,
        ),
    ]


def ufunc_parts(cfg: Config) -> list[tuple[str, float]]:
    """Microseconds per ``np.maximum`` call at S = 32 by the kind of second operand."""
    y, out = np.linspace(0.0, 1.0, 32)[:, None], np.empty((32, 1))
    same, bound = np.full((32, 1), 0.5), np.array([0.5])
    n, r = cfg.number, cfg.repeats
    return [
        ("operands of one shape (32, 1)", _best_us(lambda: np.maximum(y, same, out=out), n, r)),
        ("a (1,) bound, broadcast", _best_us(lambda: np.maximum(y, bound, out=out), n, r)),
        ("a Python float", _best_us(lambda: np.maximum(y, 0.5, out=out), n, r)),
    ]


def main(cfg: Config) -> None:
    print("| play loop (1 seed) | us per call |")
    print("|---|---:|")
    for name, us in play_parts(cfg):
        print(f"| {name} | {us:.2f} |")
    print("\n| NumPy engine, S = 32 | us |")
    print("|---|---:|")
    for name, us in engine_parts(cfg):
        print(f"| {name} | {us:.2f} |")
    print("\n| np.maximum at S = 32, second operand | us per call |")
    print("|---|---:|")
    for name, us in ufunc_parts(cfg):
        print(f"| {name} | {us:.2f} |")


if __name__ == "__main__":
    main(
        parse(Config, prog="python scripts/profile_stages.py", description=__doc__.splitlines()[0])
    )
