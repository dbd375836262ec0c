"""Measure the Hi-C presets: every library game, its preset, 32 seeds, its stage budget.

Prints a Markdown table of the final distance to the DSE, ``|x - x*|`` (median and largest
over the seeds), for ``agents.presets.hic_leader_kwargs(game)`` against a gradient-ascent
follower with ``agents.presets.follower_step_size(game)``, after
``agents.presets.recommended_stages(game)`` stages. ``--plain`` also runs the same schedules
without the baseline (Algorithm 1 exactly).

    python scripts/preset_check.py [--seeds 32] [--plain] [--games Duopoly Security]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import time

import numpy as np
from gymnasium import spaces

from agents import GradientAscentFollower, HiCLeader, presets, run_batch
from hic_envs.registration import LIBRARY_GAMES


@dataclasses.dataclass
class Config:
    """Command-line configuration."""

    seeds: int = 32
    """number of seeds (one batch)."""
    seed: int = 0
    """the batch's seed."""
    plain: bool = False
    """also run plain Hi-C (no baseline) on the same schedules."""
    games: tuple[str, ...] = ()
    """game names to run (default: every library game)."""


def _library_games():
    for entry in LIBRARY_GAMES.values():
        module, cls = entry.split(":")
        yield getattr(importlib.import_module(module), cls)()


def _measure(game, kwargs: dict, beta: float, stages: int, cfg: Config) -> np.ndarray:
    box = spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)
    leader = HiCLeader(box, num_envs=cfg.seeds, **kwargs)
    follower = GradientAscentFollower(game, beta, num_envs=cfg.seeds)
    hist = run_batch(game, leader, follower, stages, seed=cfg.seed, record="none")
    return game.distance_to_stackelberg(hist.final_leader)


def main(cfg: Config) -> None:
    print(
        f"Hi-C presets vs a gradient-ascent follower, {cfg.seeds} seeds (batch seed {cfg.seed})\n"
    )
    print("| game | beta | option | stages | median abs(x - x*) | max abs(x - x*) | time |")
    print("|---|---|---|---|---|---|---|")
    for game in _library_games():
        if cfg.games and game.name not in cfg.games:
            continue
        kwargs = presets.hic_leader_kwargs(game)
        beta = presets.follower_step_size(game)
        stages = presets.recommended_stages(game)
        variants = [(f"baseline {kwargs['baseline']}", kwargs)]
        if cfg.plain:
            variants.append(("plain", {**kwargs, "baseline": None}))
        for label, kw in variants:
            t0 = time.perf_counter()
            dist = _measure(game, kw, beta, stages, cfg)
            dt = time.perf_counter() - t0
            print(
                f"| {game.name} | {beta:.4g} | {label} | {stages:.0e} | "
                f"{np.median(dist):.2e} | {dist.max():.2e} | {dt:.0f} s |",
                flush=True,
            )


def _parse() -> Config:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seeds", type=int, default=Config.seeds)
    p.add_argument("--seed", type=int, default=Config.seed)
    p.add_argument("--plain", action="store_true")
    p.add_argument("--games", nargs="*", default=[])
    a = p.parse_args()
    return Config(seeds=a.seeds, seed=a.seed, plain=a.plain, games=tuple(a.games))


if __name__ == "__main__":
    main(_parse())
