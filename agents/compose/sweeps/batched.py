"""A sweep's configurations run as few engine runs: the configurations that share a game, its
shapes and the learners, and differ only in per-row values (seeds, the master seed, payoff
noise, numeric and schedule options: :func:`~agents.compose.sweeps.spec.batch_key`), are
played as one NumPy :class:`~agents.compose.engines.runner.BatchRunner` whose rows are
(configuration, seed) pairs.

Each configuration is one :class:`~agents.compose.engines.runner.Block` of the batch: its
rows draw from their own generators (:class:`~agents.rules.protocol.RowStreams`) what a run of
that configuration alone draws, and its differing options are per-row values
(:class:`~agents.schedules.PerRow` schedules, per-row arrays), so a configuration gives the
same bits alone (``hic run``) and inside any batch (``tests/experiments/test_sweep_batched.py``).
Its files are the ones ``hic run`` leaves at its end
(:func:`~agents.compose.experiments.experiment.write_batched_run`): the same ``updates.csv``,
``summary.json`` but for the timing, and ``checkpoint.npz`` holding the state of its run
alone (:meth:`~agents.compose.engines.runner.BatchRunner.block_state_dict`, the same arrays
bit for bit), so ``hic run --resume`` and ``hic sweep --resume`` take its directory.

On the JAX engine (``backend: jax``) a group is also split by the leader's resolved
commitment schedule (:func:`group_key`) and runs as one
:class:`~agents.compose.engines.jax_engine.JaxRunner` with per-row step sizes, perturbations
and payoff noise; each configuration starts where its JAX run alone starts, and the later
draws are the batch's (:func:`batch_seed`): the distribution of its run alone, not its bits.

A batch is all or nothing: an interrupted batch writes nothing (``--resume`` runs its
configurations again), and a batch that fails (a NaN in one configuration, a learner that
cannot take per-row options, one whose rows depend on each other) is run again one
configuration at a time, so a failure stays with its configuration. A configuration that
left a checkpoint without a summary (a partial run) resumes alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import numbers
import platform
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from agents import catalog
from agents.compose.engines.runner import BatchRunner, Block
from agents.compose.experiments.experiment import (
    ExperimentConfig,
    blas_limits,
    write_batched_run,
)
from agents.compose.experiments.results import CHECKPOINT_NAME, csv_rows
from agents.compose.sweeps.spec import batch_key, config_hash
from agents.compose.sweeps.store import RUN_FILES, summary_digest
from agents.rules.protocol import capabilities_of
from agents.schedules import PerRow

__all__ = [
    "batch_seed",
    "group_key",
    "group_tasks",
    "merged_options",
    "play_group",
    "run_group",
]


class NotBatchable(ValueError):
    """The configurations of a group cannot share one engine run (they run one by one)."""


def _same(a: Any, b: Any) -> bool:
    try:
        eq = a == b
        return bool(eq) if not isinstance(eq, np.ndarray) else bool(np.array_equal(a, b))
    except (TypeError, ValueError):
        return False


def merged_options(
    configs: Sequence[ExperimentConfig], role: str, built: Sequence[Any] | None = None
) -> dict[str, Any]:
    """One options dict for the rows of ``configs`` (``role``: ``"leader"`` or
    ``"follower"``): a value all configurations share is kept as it is, one that differs
    becomes a per-row value, each configuration's repeated over its seeds (numbers: a 1-D
    array; schedules: a :class:`~agents.schedules.PerRow`).

    Args:
        configs: the configurations.
        role: ``"leader"`` or ``"follower"``.
        built: each configuration's own learner of that role; an option it exposes as an
            attribute is taken from there, as the learner resolved it (a commitment schedule
            built from the configuration's own perturbation, say), not as written.

    Raises:
        NotBatchable: for options that differ in kind or that have no per-row form.
    """
    opts = [dict(getattr(c, f"{role}_options")) for c in configs]
    if built is not None:
        for o, agent in zip(opts, built, strict=True):
            for k in o:
                if hasattr(type(agent), k):
                    o[k] = getattr(agent, k)
    keys = set(opts[0])
    if any(set(o) != keys for o in opts):
        raise NotBatchable(f"the {role}s' options name different keys")
    seeds = [c.seeds for c in configs]
    out: dict[str, Any] = {}
    for k in sorted(keys):
        vals = [o[k] for o in opts]
        if all(_same(v, vals[0]) for v in vals[1:]):
            out[k] = vals[0]
        elif all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in vals):
            out[k] = np.repeat(np.asarray(vals), seeds)
        elif all(callable(v) or isinstance(v, numbers.Real) for v in vals):
            out[k] = PerRow(tuple(v for v, s in zip(vals, seeds, strict=True) for _ in range(s)))
        else:
            raise NotBatchable(f"{role} option {k!r} differs and has no per-row form: {vals}")
    return out


def play_group(
    configs: Sequence[ExperimentConfig],
    on_block: Callable[[int, bytes, Any, float], None],
) -> float:
    """Play ``configs`` as one batch (one :class:`Block` each) and hand each configuration's
    results to ``on_block(i, csv_body, final, wall_seconds)`` once the batch has finished.
    Returns the batch's wall seconds.

    Raises:
        NotBatchable: configurations that cannot share a run, or learners that do not take
            one generator per block of rows.
        NonFiniteError: a strategy or reward of some configuration became NaN or infinite.
    """
    # Everything that computes what the runs write (the games' ground truth, the learners, the
    # records and the summaries) runs with the BLAS threads of every run, as in run_experiment.
    with blas_limits():
        return _play_group(configs, on_block)


def _play_group(configs, on_block) -> float:
    c0 = configs[0]
    t0 = time.perf_counter()
    # The configurations' options were checked as each configuration's; the merged per-row
    # values go to the learners' factories (the typed options have no per-row form).
    alone = [c.build() for c in configs]
    if len({group_key(c, b) for c, b in zip(configs, alone, strict=True)}) != 1:
        raise NotBatchable("the configurations differ in more than per-row values")
    if len(configs) > 1:
        for agent in alone[0][1:]:
            caps = capabilities_of(agent)
            if caps is not None and not caps.rows_independent:
                raise NotBatchable(
                    f"{type(agent).__name__}'s rows depend on each other (its rule set "
                    "declares rows_independent=False)"
                )
    # The JAX engine compiles its program once per game object: the batches of a worker that
    # share a game share one.
    game = _shared_game(c0) if c0.backend == "jax" else c0.game()
    S = sum(c.seeds for c in configs)
    follower = catalog.FOLLOWERS[c0.follower].factory(
        game, S, merged_options(configs, "follower", [f for _, _, f in alone]), None
    )
    leader = catalog.LEADERS[c0.leader].factory(
        game, S, merged_options(configs, "leader", [ld for _, ld, _ in alone]), follower
    )
    if c0.backend == "jax":
        runner = _jax_runner(configs, game, leader, follower, alone)
    else:
        if not (leader.row_streams and follower.row_streams):
            raise NotBatchable("a learner draws from one generator (not a rule-set learner)")
        blocks = [Block(c.seed, c.seeds, c.noise_std) for c in configs]
        runner = BatchRunner(
            game, leader, follower, max_cycles=c0.max_cycles, record=c0.record, blocks=blocks
        )
    bounds = np.cumsum([0] + [c.seeds for c in configs]).tolist()
    bodies: list[list[bytes]] = [[] for _ in configs]
    chunk = max(100, min(c0.stages, 20_000_000 // S))
    while runner.stage < c0.stages:
        h = runner.run(min(chunk, c0.stages - runner.stage))
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            hb = h.rows(a, b)
            dist = game.distance_to_stackelberg(hb.leader_strategies)
            bodies[i].append(csv_rows(hb, dist).encode())
    wall = time.perf_counter() - t0
    x, y, n = runner.leader.strategies, runner.follower.strategies, runner.updates
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        final = SimpleNamespace(
            stage=runner.stage,
            updates=n[a:b],
            leader=SimpleNamespace(strategies=x[a:b]),
            follower=SimpleNamespace(strategies=y[a:b]),
            # What the configuration's run alone checkpoints at its end (hic run's last
            # checkpoint): its block's state, bit for bit on the NumPy engine; on the JAX
            # engine its rows' state (the batch's keys: JAX draws per batch, not per block).
            state=(
                runner.rows_state_dict(slice(a, b))
                if c0.backend == "jax"
                else runner.block_state_dict(i)
            ),
        )
        on_block(i, b"".join(bodies[i]), final, wall * (b - a) / S)
    return wall


def _jax_runner(configs, game, leader, follower, alone) -> Any:
    """The JAX engine for a batch (:func:`group_key`: one commitment schedule): the interval
    engine, with per-row payoff noise, or the generic loop (one payoff noise scale: a batch
    whose noise differs runs one configuration at a time). Each
    configuration's rows start where a JAX run of that configuration alone starts (its
    seed's initial strategies); the later draws (perturbation signs, payoff noise) come from
    JAX's generator keyed by the batch's members (:func:`batch_seed`), so a configuration has
    the distribution of its run alone but not its bits (the JAX engine's draws are per batch,
    not per block)."""
    from agents.compose.engines import jax_engine, jax_rules

    c0 = configs[0]
    seed = batch_seed(configs)
    if jax_engine.fast_path(leader, follower) is not None:
        if len({c.noise_std for c in configs}) > 1:
            raise NotBatchable("the generic JAX loop (RulesRunner) takes one payoff noise scale")
        return jax_rules.RulesRunner(
            game,
            leader,
            follower,
            seed,
            noise_std=c0.noise_std,
            max_cycles=c0.max_cycles,
            record=c0.record,
        )
    starts = [
        jax_engine.JaxRunner(g, ld, f, c.seed, noise_std=c.noise_std)
        for c, (g, ld, f) in zip(configs, alone, strict=True)
    ]
    return jax_engine.JaxRunner(
        game,
        leader,
        follower,
        seed,
        noise_std=np.repeat([c.noise_std for c in configs], [c.seeds for c in configs]),
        record=c0.record,
        x0=np.concatenate([r.leader.strategies for r in starts]),
        y0=np.concatenate([r.follower.strategies for r in starts]),
    )


def batch_seed(configs: Sequence[ExperimentConfig]) -> int:
    """The seed of a JAX batch's draws: a 63-bit number from its members' canonical
    configurations (:func:`~agents.compose.sweeps.spec.config_hash`) and their order, so the
    same batch draws the same numbers and two batches draw independent ones."""
    digest = hashlib.sha256(",".join(config_hash(c) for c in configs).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


_GAMES: dict[str, Any] = {}


def _shared_game(config: ExperimentConfig) -> Any:
    """The game of ``config``, one object per environment ID and arguments in this process."""
    key = json.dumps([config.env_id, config.game_kwargs], sort_keys=True, default=repr)
    if key not in _GAMES:
        _GAMES[key] = config.game()
    return _GAMES[key]


def group_key(config: ExperimentConfig, built: tuple | None = None) -> str:
    """What the configurations of one batch share: :func:`~agents.compose.sweeps.spec.batch_key`,
    and on the JAX engine also the commitment schedule as the leader resolved it (its interval
    engine ends every row's intervals at the same stages; a Corollary 4.11 schedule depends on
    the configuration's perturbation). ``built``: the configuration's ``(game, leader,
    follower)`` if already built. (JAX is not imported here: a driver need not load it.)"""
    key = batch_key(config)
    if config.backend == "jax":
        _, leader, _ = built if built is not None else config.build()
        key += json.dumps(["commitment", repr(getattr(leader, "commitment", None))])
    return key


def run_group(task: dict[str, Any], run_one: Callable[[dict], dict]) -> dict[str, Any]:
    """Run a group task (``members``: single-configuration tasks) as one batch; never raises
    for the configurations' own errors. Returns ``{"results": [one result per member]}``.

    A batch that cannot be built or that fails is run again member by member with
    ``run_one`` (the single-configuration task), so each failure is its configuration's.
    """
    members = task["members"]
    t0 = time.perf_counter()
    try:
        configs = [ExperimentConfig.from_dict(m["config"]) for m in members]
        outs = [Path(m["out_dir"]) for m in members]
        # Files of a batch that stopped before writing them are stale, and so are those of a
        # damaged finished run that runs again (a member never holds a partial run's files:
        # group_tasks leaves those alone).
        for out in outs:
            for name in RUN_FILES:
                with contextlib.suppress(FileNotFoundError):
                    (out / name).unlink()
        results: list[dict[str, Any]] = []

        def on_block(i: int, body: bytes, final: Any, wall: float) -> None:
            m, out = members[i], outs[i]
            summary = write_batched_run(configs[i], out, body, final, wall)
            r = {
                "index": m["index"],
                "host": platform.node(),
                "status": "finished",
                "summary": summary_digest(summary),
                "ran": True,
                "batched": len(members),
                "task_seconds": wall,
            }
            if m.get("return_files"):
                r["files"] = {n: (out / n).read_bytes() for n in RUN_FILES if (out / n).is_file()}
            results.append(r)

        play_group(configs, on_block)
        return {"results": results}
    except KeyboardInterrupt:
        return {
            "results": [
                {
                    "index": m["index"],
                    "status": "interrupted",
                    "error": "interrupted inside a batch (nothing written); --resume runs it",
                    "task_seconds": time.perf_counter() - t0,
                }
                for m in members
            ]
        }
    except Exception:  # noqa: BLE001 - the batch is run again one configuration at a time
        why = traceback.format_exc(limit=1).strip().splitlines()[-1]
        rerun = []
        for m in members:
            r = run_one(m)
            r["unbatched"] = why
            rerun.append(r)
            if r["status"] == "interrupted":
                break
        return {"results": rerun}


def group_tasks(
    tasks: Sequence[dict[str, Any]], configs: dict[int, ExperimentConfig], workers: int
) -> list[dict[str, Any]]:
    """The sweep's tasks as batches: tasks whose configurations share a
    :func:`~agents.compose.sweeps.spec.batch_key` form one group, split into chunks of
    consecutive configurations of at most about ``rows / (2 * workers)`` rows (at least one
    configuration each), so the executor's ``workers`` have work to share (``workers=0``: one
    batch per group). A task whose directory holds a checkpoint (a partial run) stays alone
    and resumes, unless it runs again from the start (``restart``: a damaged finished run).
    On the JAX engine the groups are by :func:`group_key`."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    alone: list[dict[str, Any]] = []
    for t in tasks:
        partial = not t.get("restart") and (Path(t["out_dir"]) / CHECKPOINT_NAME).exists()
        if partial:
            alone.append(t)
        else:
            by_key.setdefault(group_key(configs[t["index"]]), []).append(t)
    rows = sum(configs[t["index"]].seeds for g in by_key.values() for t in g)
    cap = max(1, math.ceil(rows / (2 * workers))) if workers > 0 else max(rows, 1)
    out: list[dict[str, Any]] = []
    for group in by_key.values():
        chunk: list[dict[str, Any]] = []
        n = 0
        for t in group:
            s = configs[t["index"]].seeds
            if chunk and n + s > cap:
                out.append(_as_task(chunk))
                chunk, n = [], 0
            chunk.append(t)
            n += s
        if chunk:
            out.append(_as_task(chunk))
    return out + alone


def _as_task(members: list[dict[str, Any]]) -> dict[str, Any]:
    # A chunk of one configuration is a batch too: every configuration of a batched sweep is
    # written alike, whatever the executor and the number of workers.
    return {"index": [m["index"] for m in members], "members": members}
