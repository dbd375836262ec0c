"""Measure the Hi-C presets: every library game, its preset, 32 seeds, its stage budget.

Prints a Markdown table of the final distance to the DSE, ``|x - x*|`` (median and largest
over the seeds), for ``agents.presets.hic_leader_kwargs(game)`` against a gradient-ascent
follower with ``agents.presets.follower_step_size(game)``, after
``agents.presets.recommended_stages(game)`` stages.

Options reproduce the measurements behind the presets' knobs:

* ``--plain`` also runs the same schedules without the baseline (Algorithm 1 exactly);
* ``--a-rule 0.5 1 2`` replaces the rule's ``a_rule`` (one row per value);
* ``--no-dim-factor`` drops the ``min(1, 2 / sqrt(d1))`` step factor;
* ``--random-d 16`` uses ``RandomQuadraticGame(d1=16, d2=16)`` for the random quadratic game;
* ``--stages N`` and ``--seeds S`` override the budget and the number of seeds.

    python scripts/preset_check.py [--plain] [--games Duopoly Security] [--a-rule 0.5 1 2]
"""

from __future__ import annotations

import dataclasses
import importlib
import time

import numpy as np
from gymnasium import spaces

from agents import GradientAscentFollower, HiCLeader, presets
from agents.compose import run_batch
from agents.compose.cli.config import parse
from hic_envs.games import RandomQuadraticGame
from hic_envs.registration import LIBRARY_GAMES


@dataclasses.dataclass
class Config:
    """Command-line configuration (one flag per field, :mod:`agents.compose.cli.config`)."""

    seeds: int = 32
    """number of seeds (one batch)."""
    seed: int = 0
    """the batch's seed."""
    plain: bool = False
    """also run plain Hi-C (no baseline) on the same schedules."""
    games: tuple[str, ...] = ()
    """game names to run (default: every library game)."""
    a_rule: tuple[float, ...] = ()
    """replace the preset's a_rule by each of these (default: the preset's own)."""
    dim_factor: bool = True
    """keep the min(1, 2 / sqrt(d1)) step factor."""
    random_d: int = 0
    """if > 0, RandomQuadraticGame(d1=random_d, d2=random_d) replaces the default one."""
    stages: int = 0
    """if > 0, the stage budget for every game (default: recommended_stages(game))."""


def _library_games(cfg: Config):
    for entry in LIBRARY_GAMES.values():
        module, cls = entry.split(":")
        game_cls = getattr(importlib.import_module(module), cls)
        if game_cls is RandomQuadraticGame and cfg.random_d > 0:
            yield RandomQuadraticGame(d1=cfg.random_d, d2=cfg.random_d)
        else:
            yield game_cls()


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
    print(
        "| game | d1 | beta | a_rule | option | stages | median abs(x - x*) | max abs(x - x*) "
        "| time |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for game in _library_games(cfg):
        if cfg.games and game.name not in cfg.games:
            continue
        base_rule = dataclasses.replace(presets.preset_rule(game), dim_factor=cfg.dim_factor)
        rules = [dataclasses.replace(base_rule, a_rule=a) for a in cfg.a_rule] or [base_rule]
        stages = cfg.stages or presets.recommended_stages(game)
        for rule in rules:
            kwargs = presets.hic_leader_kwargs(game, rule=rule)
            beta = presets.follower_step_size(game, rule)
            variants = [(f"baseline {kwargs['baseline']}", kwargs)]
            if cfg.plain:
                variants.append(("plain", {**kwargs, "baseline": None}))
            for label, kw in variants:
                t0 = time.perf_counter()
                dist = _measure(game, kw, beta, stages, cfg)
                dt = time.perf_counter() - t0
                print(
                    f"| {game.name} | {game.d1} | {beta:.4g} | {rule.a_rule:g} | {label} | "
                    f"{stages:.0e} | {np.median(dist):.2e} | {dist.max():.2e} | {dt:.0f} s |",
                    flush=True,
                )


def _parse(argv: list[str] | None = None) -> Config:
    return parse(
        Config, argv, prog="python scripts/preset_check.py", description=__doc__.splitlines()[0]
    )


if __name__ == "__main__":
    main(_parse())
