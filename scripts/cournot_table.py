"""The published Hi-C Cournot set-up, for plain Hi-C and each variance-reduction option.

Duopoly(a=50, b=1, c1=c2=1) (DSE q1* = 24.5), a gradient-ascent follower with beta = 0.1,
10^6 stages, 32 seeds, noiseless payoffs. Every configuration uses the *same* step-size,
perturbation and commitment schedules (the Duopoly preset of ``agents.presets``); only the
option differs. One ``agents.run_batch`` call with ``num_envs=32`` per configuration. Prints a
Markdown table of the final leader strategies (min, median, max over the seeds).

A second table runs the published code's own schedules once, as a reference: alpha_n = 0.001
(n + 1)^-0.1, delta_n = (n + 1)^-0.6 (which break Assumption 4.4: sum alpha^2 / delta^2
diverges), k_n = Eq. (28) with B = 100, p = 1 (the published code's commitment formula),
baseline 0.9 and x_0 = 0.

    python scripts/cournot_table.py [--stages 1000000] [--seeds 32] [--seed 0]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
from gymnasium import spaces

from agents import AdaptiveCommitment, GradientAscentFollower, HiCLeader, presets, run_batch
from agents.schedules import CommitmentSchedule, PowerLaw
from hic_envs.games import Duopoly


@dataclasses.dataclass
class Config:
    """Command-line configuration."""

    stages: int = 1_000_000
    """stages per run (the published experiment: 10^6)."""
    seeds: int = 32
    """seeds per configuration (one batch)."""
    seed: int = 0
    """the batch seed of every configuration."""
    beta: float = 0.1
    """the follower's gradient step (the published experiment: 0.1)."""
    average_last: int = 10
    """stages averaged by the average_last option."""
    adaptive_max: int = 1000
    """AdaptiveCommitment max_length."""
    reference: int = 1
    """1: also run the published code's schedules (second table); 0: skip."""


def _configs(cfg: Config, schedules: dict) -> list[tuple[str, dict]]:
    adaptive = AdaptiveCommitment(max_length=cfg.adaptive_max)  # default tol_n = 0.01 / (n + 1)
    return [
        ("plain Hi-C (Algorithm 1)", {}),
        ("baseline 0.9", {"baseline": 0.9}),
        (f"average_last {cfg.average_last}", {"average_last": cfg.average_last}),
        ("two_sided", {"two_sided": True}),
        (
            f"adaptive commitment (tol 0.01 / (n + 1), max {cfg.adaptive_max})",
            {"commitment": adaptive},
        ),
        (
            f"baseline 0.9 + average_last {cfg.average_last}",
            {"baseline": 0.9, "average_last": cfg.average_last},
        ),
        ("baseline 0.9 + adaptive commitment", {"baseline": 0.9, "commitment": adaptive}),
    ]


def main(cfg: Config) -> None:
    game = Duopoly(a=50.0, b=1.0, c1=1.0, c2=1.0)
    x_star = float(game.stackelberg().x[0])
    kw = presets.hic_leader_kwargs(game, beta=cfg.beta)
    schedules = {k: kw[k] for k in ("step_size", "perturbation", "commitment")}
    box = spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)
    a, d, k = schedules["step_size"], schedules["perturbation"], schedules["commitment"]
    print(
        f"Duopoly(a=50, b=1, c1=c2=1), DSE q1* = {x_star}; gradient-ascent follower beta = "
        f"{cfg.beta}; {cfg.stages:.0e} stages; {cfg.seeds} seeds (run_batch seed {cfg.seed}); "
        "noiseless payoffs.\n"
        f"Schedules for every row: alpha_n = {a.a:.4g} / (n + 1 + {a.A:g})^{a.gamma}, "
        f"delta_n = {d.a:.4g} / (n + 1)^{d.gamma}, k_n = Eq. (28) with beta = {k.beta}, "
        f"mu = {k.mu}, B = {k.B:.4g}, p = {k.p} (k_0 = {k(0)}, k_1000 = {k(1000)}) unless the "
        "row says adaptive.\n"
    )
    print(
        "| option | updates (median) | min q1 | median q1 | max q1 | median abs(q1 - q1*) | time |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, opts in _configs(cfg, schedules):
        leader = HiCLeader(box, **{**schedules, **opts}, num_envs=cfg.seeds)
        _row(label, game, leader, cfg, x_star)
    if not cfg.reference:
        return
    delta = PowerLaw(1.0, 0.6)
    leader = HiCLeader(
        box,
        PowerLaw(0.001, 0.1),
        delta,
        CommitmentSchedule(cfg.beta, game.mu, 2 * game.a, 1.0, delta),
        baseline=0.9,
        init=[0.0],
        num_envs=cfg.seeds,
        check_assumptions=False,
    )
    print(
        "\nReference, the published code's schedules: alpha_n = 0.001 (n + 1)^-0.1, delta_n = "
        "(n + 1)^-0.6, k_n = Eq. (28) with B = 100, p = 1, baseline 0.9, x_0 = 0.\n"
    )
    print(
        "| option | updates (median) | min q1 | median q1 | max q1 | median abs(q1 - q1*) | time |"
    )
    print("|---|---|---|---|---|---|---|")
    _row("published schedules, baseline 0.9", game, leader, cfg, x_star)


def _row(label: str, game, leader, cfg: Config, x_star: float) -> None:
    follower = GradientAscentFollower(game, cfg.beta, num_envs=cfg.seeds)
    t0 = time.perf_counter()
    hist = run_batch(game, leader, follower, cfg.stages, seed=cfg.seed, record="none")
    dt = time.perf_counter() - t0
    q1 = hist.final_leader[:, 0]
    n = np.median(leader.update_index)
    print(
        f"| {label} | {n:.0f} | {q1.min():.3f} | {np.median(q1):.3f} | {q1.max():.3f} | "
        f"{np.median(np.abs(q1 - x_star)):.2e} | {dt:.0f} s |",
        flush=True,
    )


def _number(kind):
    def parse(text: str):
        v = float(text)
        return int(v) if kind is int and v.is_integer() else kind(v)

    return parse


def _parse() -> Config:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    for f in dataclasses.fields(Config):
        p.add_argument(
            f"--{f.name.replace('_', '-')}", type=_number(type(f.default)), default=f.default
        )
    a = p.parse_args()
    return Config(**{f.name: getattr(a, f.name) for f in dataclasses.fields(Config)})


if __name__ == "__main__":
    main(_parse())
