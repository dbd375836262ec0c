"""How much memory and disk a run needs, estimated before it allocates or writes anything.

:func:`estimate` plays the run's configuration with one seed for a few thousand stages (no
files), and scales what it saw:

* memory: the runner's state per seed (the arrays of its checkpoint) times
  :data:`WORK_FACTOR` for the stage's temporaries, plus one chunk's records and their CSV
  text;
* output: the CSV rows a seed records over the whole run (updates per stage measured, the
  ``record`` thinning applied) times the bytes of a row.

:func:`check` refuses a run whose memory exceeds what the machine has available, or whose CSV
would not fit on the disk, saying how much it needs; a CSV above :data:`LARGE_OUTPUT` bytes
is refused unless the caller accepts it (``hic run --allow-large-output``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from agents.compose.engines.runner import as_thinning
from agents.compose.experiments.results import csv_rows

__all__ = [
    "LARGE_OUTPUT",
    "WORK_FACTOR",
    "Estimate",
    "available_memory",
    "check",
    "estimate",
    "free_disk",
]

#: Peak memory over the runner's state, per seed (a safety margin: the traced peak of Hi-C and
#: SGA on the duopoly at S = 1e5 is 3.3 and 4.2 times the state; tests/experiments/
#: test_budget.py checks that the estimate bounds the traced peak, within a factor of 20).
WORK_FACTOR = 8
#: CSV size above which a run must be accepted knowingly (1 GiB).
LARGE_OUTPUT = 1 << 30
#: Stages the one-seed probe plays.
PROBE_STAGES = 2000
#: Bytes a record row holds while a chunk is formatted (arrays, Python floats, text), per value.
_ROW_BYTES_PER_VALUE = 120


@dataclasses.dataclass(frozen=True)
class Estimate:
    """What a run needs.

    Attributes:
        memory_bytes: peak memory of the run's process (about).
        csv_bytes: size of ``updates.csv`` at the end (about; an upper bound for schedules
            whose intervals grow).
        state_bytes_per_seed: the runner's state per seed (exact).
    """

    memory_bytes: int
    csv_bytes: int
    state_bytes_per_seed: float


def _probe(config: Any, game: Any, seeds: int, stages: int, record: Any):
    runner = config.make_runner(config.build(game, seeds), record=record, backend="numpy")
    state = sum(v.nbytes for v in runner.state_dict().values())
    return runner, state, runner.run(stages) if stages else None


def _recorded_per_seed(thin, updates: float) -> float:
    """Update indices ``1..updates`` that the thinning keeps (plus the initial one)."""
    if thin.none:
        return 1.0
    if thin.log_digits is None:
        return 1.0 + updates / thin.every
    p = thin.log_digits
    if updates < 10**p:
        return 1.0 + updates
    return 1.0 + 10**p + 9 * 10 ** (p - 1) * math.log10(updates / 10**p)


def estimate(config: Any, game: Any, chunk: int) -> Estimate:
    """Estimate the memory and the CSV size of running ``config`` on ``game``.

    Args:
        config: an :class:`~agents.compose.experiments.experiment.ExperimentConfig`.
        game: its game (already built).
        chunk: stages per chunk.
    """
    S = config.seeds
    _, state1, _ = _probe(config, game, 1, 0, "none")
    _, state2, _ = _probe(config, game, 2, 0, "none")
    per_seed = max(state2 - state1, 1)
    fixed = max(state1 - per_seed, 0)
    T = min(config.stages, PROBE_STAGES)
    runner, _, h = _probe(config, game, 1, T, "all")
    updates_rate = int(np.max(runner.leader.update_counts())) / T
    thin = as_thinning(config.record)
    values = 3 + game.d1 + game.d2 + 1
    dist = game.distance_to_stackelberg(h.leader_strategies)
    text = csv_rows(h, dist)
    row_bytes = len(text.encode()) / max(len(h), 1) if len(h) else 20.0 * values
    total_rows = S * _recorded_per_seed(thin, updates_rate * config.stages)
    csv_bytes = int(total_rows * row_bytes) + 256
    chunk_rows = min(
        total_rows, S * _recorded_per_seed(thin, updates_rate * min(chunk, config.stages))
    )
    memory = fixed + WORK_FACTOR * per_seed * S + chunk_rows * values * _ROW_BYTES_PER_VALUE
    return Estimate(int(memory), csv_bytes, float(per_seed))


def available_memory() -> int | None:
    """Memory available to a new allocation (``MemAvailable`` on Linux), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def free_disk(path: Path) -> int:
    """Bytes free on the disk holding the existing directory ``path``."""
    return shutil.disk_usage(path).free


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**20 else f"{n / 2**10:.3g} KiB"


def check(
    config: Any,
    game: Any,
    out_dir: str | os.PathLike | None,
    chunk: int,
    *,
    allow_large_output: bool = False,
    resume: bool = False,
) -> Estimate:
    """Refuse a run that cannot fit, saying how much it needs.

    Raises:
        ValueError: if the memory estimate exceeds the available memory, if the CSV would not
            fit on the disk of ``out_dir``, or if it exceeds :data:`LARGE_OUTPUT` and
            ``allow_large_output`` is False (not checked when resuming: it was accepted when
            the run started).
    """
    S = config.seeds
    est = estimate(config, game, chunk)
    S = f"{S:.4g}" if S >= 10**6 else S  # for the messages
    avail = available_memory()
    if avail is not None and est.memory_bytes > avail:
        raise ValueError(
            f"seeds={S} needs about {_gib(est.memory_bytes)} of memory "
            f"({est.state_bytes_per_seed:.0f} bytes of state per seed, times {WORK_FACTOR} for "
            f"a stage's work, plus a chunk's records), but {_gib(avail)} is available; use "
            "fewer seeds (split them over runs or a sweep), or a smaller --chunk"
        )
    if resume:
        return est
    if out_dir is not None:
        probe = Path(out_dir).resolve()
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        free = free_disk(probe)
        if est.csv_bytes > free:
            raise ValueError(
                f"the run writes about {_gib(est.csv_bytes)} of updates.csv "
                f"(record={config.record!r}, seeds={S}, stages={config.stages}), but "
                f"{_gib(free)} is free on the disk of {out_dir}; record fewer updates "
                "(--record log, or --record K for every K-th)"
            )
    if est.csv_bytes > LARGE_OUTPUT and not allow_large_output:
        raise ValueError(
            f"the run writes about {_gib(est.csv_bytes)} of updates.csv (record="
            f"{config.record!r}, seeds={S}, stages={config.stages}); pass --allow-large-output "
            "(allow_large_output=True) to accept that, or record fewer updates (--record log)"
        )
    return est
