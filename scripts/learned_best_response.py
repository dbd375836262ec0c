"""The learned-best-response experiment: does Hi-C still find the DSE when the follower is an
RL learner?

For each game and seed, a SAC follower learns on ``hic/<Name>-Follower-v0`` while the Hi-C
leader inside the env learns too
(:func:`agents.compose.experiments.training.train_follower` with its
defaults: the
reactive Hi-C settings of :func:`agents.presets.reactive_hic_kwargs`, a myopic follower with
``gamma = 0``). Reported per run: the leader's final strategy and its distance to the DSE,
the policy's best-response error ``|pi(x) - r(x)|`` over all of ``X`` and near the DSE, and
the policy's exploration noise. Two references use the same Hi-C settings and stage budget,
each on ``--reference-seeds`` seeds at once (:func:`agents.compose.run_batch`):

* *frozen*: Hi-C restarted (from uniform ``x_0``, Algorithm 1's default) against the trained
  policy, frozen (an :class:`agents.SB3Follower` playing its mean action): with nothing left
  to move or explore, Hi-C goes to a Stackelberg point of the *learned* game
  ``f1(x, pi(x))``; the nearest of them (the smallest distance over the restarts) shows
  where the co-learning run was headed, and the largest shows what a policy that is only
  accurate where it was trained does to a leader that starts elsewhere;
* *oracle*: Hi-C against the exact best response (:class:`agents.BestResponseFollower`):
  what these leader settings reach in this budget with a perfect follower.

Usage::

    python scripts/learned_best_response.py                  # 2 games x 4 seeds x 3e4 stages
    python scripts/learned_best_response.py --seeds 2 --total-steps 5000 --out runs/lbr_quick

Writes ``results.md`` and ``results.json`` into ``--out``, and one sub-directory per run with
its model, summary and tensorboard log.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from agents import BestResponseFollower, HiCLeader, SB3Follower
from agents.compose import run_batch
from agents.compose.cli.config import parse
from agents.compose.experiments.training import TrainConfig, train_follower
from agents.presets import reactive_hic_kwargs


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """The learned-best-response experiment."""

    games: tuple[str, ...] = ("Duopoly", "Cooperative")
    """Library games, trained on hic/<Name>-Follower-v0."""
    seeds: int = 4
    """Training runs per game (seeds 0, 1, ...)."""
    total_steps: int = 30_000
    """Stages per training run (one SAC step each); also the references' budget."""
    reference_seeds: int = 16
    """Seeds of each reference run (frozen policy, oracle)."""
    jobs: int = 2
    """Training runs in parallel (processes)."""
    out: str = "runs/learned_best_response"
    """Output directory."""

    def __post_init__(self) -> None:
        if not self.games:
            raise ValueError("games must name at least one library game")
        for nm in ("seeds", "total_steps", "reference_seeds", "jobs"):
            v = getattr(self, nm)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{nm} must be a positive integer, got {v!r}")


def _game(name: str):
    return gymnasium.make(f"hic/{name}-Follower-v0").unwrapped.game


def _box(game) -> spaces.Box:
    return spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)


def _reference(game, hic_kwargs, follower, stages: int, seeds: int, seed: int) -> np.ndarray:
    """Final leader strategies of Hi-C against ``follower`` (built for ``seeds`` rows)."""
    leader = HiCLeader(_box(game), num_envs=seeds, **hic_kwargs)
    return run_batch(game, leader, follower, stages, seed=seed, record=None).final_leader


def _train(game_name: str, seed: int, cfg: ExperimentConfig) -> dict[str, Any]:
    """One training run and its frozen-policy reference (runs in a worker process)."""
    train = TrainConfig(
        env_id=f"hic/{game_name}-Follower-v0",
        seed=seed,
        total_steps=cfg.total_steps,
        out=str(Path(cfg.out) / game_name / f"seed{seed}"),
        progress_bar=False,
    )
    res = train_follower(train)
    game = res.game
    follower = SB3Follower(res.model, game, num_envs=cfg.reference_seeds)
    frozen = _reference(game, res.hic_kwargs, follower, cfg.total_steps, cfg.reference_seeds, seed)
    return {
        "game": game_name,
        "seed": seed,
        "leader": res.final_leader[0].tolist(),
        "distance": float(res.final_distance[0]),
        "br_error": dataclasses.asdict(res.br_error),
        "br_error_local": dataclasses.asdict(res.br_error_local),
        "action_std": res.action_std[0].tolist(),
        "frozen_leader": frozen.tolist(),
        "frozen_distance": game.distance_to_stackelberg(frozen).tolist(),
        "seconds": res.seconds,
    }


def _table(
    cfg: ExperimentConfig, runs: list[dict], oracle: dict[str, list[float]], command: str
) -> str:
    lines = [
        f"SAC follower vs Hi-C, {cfg.total_steps} stages per run; references on "
        f"{cfg.reference_seeds} seeds with the same Hi-C settings and budget.",
        f"command: `{command}`",
        "",
        "| game | seed | leader's final x | \\|x - x*\\| | BR error over X (mean / max) | "
        "BR error near x* (mean / max) | exploration std | "
        "frozen policy: \\|x - x*\\| (min / median / max) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in cfg.games:
        game = _game(name)
        x_star = game.stackelberg().x
        width = float(np.min(game.leader_high - game.leader_low))
        rows = sorted((r for r in runs if r["game"] == name), key=lambda r: r["seed"])
        for r in rows:
            lines.append(
                f"| {name} (x* = {np.round(x_star, 4).tolist()}) | {r['seed']} | "
                f"{np.round(r['leader'], 3).tolist()} | {r['distance']:.3f} "
                f"({100 * r['distance'] / width:.1f}% of X) | "
                f"{r['br_error']['mean']:.3f} / {r['br_error']['max']:.3f} | "
                f"{r['br_error_local']['mean']:.3f} / {r['br_error_local']['max']:.3f} | "
                f"{np.round(r['action_std'], 3).tolist()} | "
                f"{np.min(r['frozen_distance']):.3f} / {np.median(r['frozen_distance']):.3f} / "
                f"{np.max(r['frozen_distance']):.3f} |"
            )
        d = np.array([r["distance"] for r in rows])
        orc = np.array(oracle[name])
        lines.append(
            f"| **{name}** | all {len(rows)} | | median {np.median(d):.3f}, max {d.max():.3f} "
            "| | | | |"
        )
        lines.append(
            f"| {name}: Hi-C vs the exact best response | {cfg.reference_seeds} seeds | | "
            f"median {np.median(orc):.1e}, max {orc.max():.1e} | 0 | 0 | 0 | |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    """Run the experiment; print and write the results table."""
    argv = sys.argv[1:] if argv is None else list(argv)
    cfg = parse(ExperimentConfig, argv, description=__doc__.splitlines()[0])
    command = shlex.join(["python", "scripts/learned_best_response.py", *argv])
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    oracle = {}
    c = TrainConfig()  # the Hi-C settings every training run uses
    for name in cfg.games:
        game = _game(name)
        hic_kwargs = reactive_hic_kwargs(game, c.hic_step, c.hic_perturbation, c.hic_commitment)
        follower = BestResponseFollower(game, num_envs=cfg.reference_seeds)
        finals = _reference(game, hic_kwargs, follower, cfg.total_steps, cfg.reference_seeds, 0)
        oracle[name] = game.distance_to_stackelberg(finals).tolist()

    tasks = [(name, seed) for name in cfg.games for seed in range(cfg.seeds)]
    runs = []

    def report(r: dict) -> None:
        runs.append(r)
        print(
            f"[{len(runs)}/{len(tasks)}] {r['game']} seed {r['seed']}: |x - x*| = "
            f"{r['distance']:.3f} after {r['seconds']:.0f} s",
            flush=True,
        )

    if cfg.jobs == 1:
        for name, seed in tasks:
            report(_train(name, seed, cfg))
    else:
        ctx = multiprocessing.get_context("spawn")  # torch and fork do not mix
        with ProcessPoolExecutor(max_workers=cfg.jobs, mp_context=ctx) as pool:
            futures = [pool.submit(_train, name, seed, cfg) for name, seed in tasks]
            for fut in as_completed(futures):
                report(fut.result())

    table = _table(cfg, runs, oracle, command)
    (out / "results.md").write_text(table + "\n")
    results = {
        "config": dataclasses.asdict(cfg),
        "command": command,
        "runs": sorted(runs, key=lambda r: (r["game"], r["seed"])),
        "oracle_distance": oracle,
        "seconds": time.perf_counter() - start,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table)
    return table


if __name__ == "__main__":
    main()
