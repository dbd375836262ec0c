"""The published Hi-C Cournot set-up, for plain Hi-C and each variance-reduction option.

Duopoly(a=50, b=1, c1=c2=1) (DSE q1* = 24.5), a gradient-ascent follower with beta = 0.1,
10^6 stages, 32 seeds, noiseless payoffs. Every configuration uses the *same* step-size,
perturbation and commitment schedules (the Duopoly preset of ``agents.presets``); only the
option differs. One ``agents.compose.run_batch`` call with ``num_envs=32`` per configuration.
Prints a Markdown table of the final leader strategies (min, median, max over the seeds).

A second table runs the published code's own set-up (rtloftin/Hi-C, branch aamas2024,
``cournot.py`` and ``hi_c/learners/hi_c.py``), as a reference, in two rows:

* "published schedules": its schedules through the project's ordinary options. alpha_n = 0.001
  (n + 1)^-0.1, delta_n = (n + 1)^-0.6 (which break Assumption 4.4: sum alpha^2 / delta^2
  diverges), k_n = ceil(9.8591 ln(n + 1) + 41.2754) (``LogLinear``: the published code's
  Eq. (28) reads the step-size exponent 0.1 where it means the perturbation exponent, which
  amounts to Eq. (28) with p = 0.5 and B = 100), baseline 0.9, x_0 uniform on [0, 50].
* "exact emulation": the same plus what the published learner does besides: a burn-in of 49
  intervals without an update (its ``burn_in=50`` is tested after the counter advances) that
  already feed a baseline started at 0, and delta_n and k_n indexed by intervals (its
  perturbation and commitment counters advance every interval, the step size's only on
  updates).

    python scripts/cournot_table.py [--stages 1000000] [--seeds 32] [--seed 0]
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from gymnasium import spaces

from agents import AdaptiveCommitment, GradientAscentFollower, HiCLeader, presets
from agents.compose import run_batch
from agents.compose.cli.config import parse
from agents.schedules import LogLinear, PowerLaw
from hic_envs.games import Duopoly


@dataclasses.dataclass
class Config:
    """Command-line configuration (one flag per field, :mod:`agents.compose.cli.config`)."""

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
    """1: also run the published code's set-up (second table); 0: skip."""
    main: int = 1
    """1: run the first table (the options on the preset schedules); 0: skip."""
    streams: int = 1
    """1: also run the exact emulation on the published seeds' random streams (slow)."""


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
    if cfg.main:
        print(_HEADER)
        for label, opts in _configs(cfg, schedules):
            leader = HiCLeader(box, **{**schedules, **opts}, num_envs=cfg.seeds)
            _row(label, game, leader, cfg, x_star)
    if not cfg.reference:
        return
    published = {
        "step_size": PowerLaw(0.001, 0.1),
        "perturbation": PowerLaw(1.0, 0.6),
        # ceil(9.8591 ln(n + 1) + 41.2754): cournot.py's k with beta mu = 0.2, B = 100.
        "commitment": LogLinear(
            -2.0 * (0.1 + 1.0) / np.log(1.0 - 2.0 * cfg.beta),
            -2.0 * np.log(100.0) / np.log(1.0 - 2.0 * cfg.beta),
            ceil=True,
        ),
        "baseline": 0.9,
        "init": None,  # uniform on [0, 50], as the published learner samples it
        "num_envs": cfg.seeds,
        "check_assumptions": False,
    }
    k = published["commitment"]
    print(
        "\nReference, the published code's set-up: alpha_n = 0.001 (n + 1)^-0.1, delta_n = "
        f"(n + 1)^-0.6, k_n = ceil({k.scale:.4f} ln(n + 1) + {k.offset:.4f}) (k_0 = {k(0):g}, "
        f"k_1000 = {k(1000):g}), baseline 0.9, x_0 uniform on [0, 50]. The exact emulation adds "
        "burn_in=49, baseline_init=0 and interval_schedules=True. The published run ended at "
        "23.92 / 24.57 / 25.10 (min / median / max).\n"
    )
    print(_HEADER)
    _row("published schedules", game, HiCLeader(box, **published), cfg, x_star)
    emulation = {**published, "burn_in": 49, "baseline_init": 0.0, "interval_schedules": True}
    _row("exact emulation", game, HiCLeader(box, **emulation), cfg, x_star)
    if cfg.streams:
        _streams_row(game, box, {**emulation, "num_envs": None}, cfg, x_star)


#: The published run's final leader quantity per seed 0..31: the last row of
#: results/cournot/hi_c_naive_cournot_2024_02_07_T16_22/seed_<s>/artifacts/strategies_0.npy in
#: rtloftin/Hi-C, branch aamas2024 (float32, printed to 4 decimals).
PUBLISHED_FINAL = np.array([
    24.6795, 24.5205, 24.2148, 23.9773, 25.0667, 24.8806, 24.5598, 24.6656,
    24.3034, 25.0321, 25.0138, 24.0699, 24.2264, 24.9491, 24.8744, 24.7558,
    24.5900, 24.9832, 24.3955, 24.4094, 24.2230, 24.8614, 24.3565, 24.7430,
    24.3064, 24.1115, 24.4943, 24.7897, 24.9662, 23.9233, 24.2267, 25.0957,
])  # fmt: skip


def _streams_row(game, box, emulation: dict, cfg: Config, x_star: float) -> None:
    """The exact emulation on the published seeds' own random streams.

    The published experiment gives both learners one generator,
    ``default_rng(SeedSequence(seed))``, and draws from it in this order: the leader's
    ``x_0`` and first ``Delta``, the follower's ``y_0``, then every later ``Delta``. Here seed
    ``s`` is a single-row :class:`HiCLeader` given that generator (``reset(seed=generator)``:
    ``np.random.default_rng`` passes a generator through) and the follower's ``y_0`` is drawn
    from it in between; the 32 leaders then play in lockstep against one batched
    gradient-ascent follower. Payoffs are the game's own (the env would add nothing but the
    same projection onto [0, 50]). Its q1 columns are the committed strategy ``x~_n`` (what
    the published experiment saves), the other rows' the mean strategy ``x_n``.
    """
    seeds = min(cfg.seeds, PUBLISHED_FINAL.size)
    gens = [np.random.default_rng(np.random.SeedSequence(s)) for s in range(seeds)]
    leaders = [HiCLeader(box, **emulation) for _ in range(seeds)]
    y0 = np.empty((seeds, 1))
    for i, (leader, gen) in enumerate(zip(leaders, gens, strict=True)):
        leader.reset(seed=gen)  # x_0 and Delta_0, in the published order
        y0[i] = gen.uniform(0.0, 50.0, size=(1,))  # then the follower's y_0
    follower = GradientAscentFollower(game, cfg.beta, num_envs=seeds, init=y0)
    follower.reset(seed=0)  # draws nothing: y_0 is given, the follower is noiseless
    t0 = time.perf_counter()
    x = np.empty((seeds, 1))
    for _ in range(cfg.stages):
        for i, leader in enumerate(leaders):
            x[i] = leader.act(None)
        y = follower.act(x)
        f1, f2 = game.payoffs(x, y)
        for i, leader in enumerate(leaders):
            leader.observe(f1[i], y[i])
        follower.observe(f2, x)
    dt = time.perf_counter() - t0
    # The published experiment saves the strategy each learner plays: x~_n = x_n + delta_n Delta_n.
    q1 = np.array([leader.committed[0] for leader in leaders])
    n = np.median([leader.update_index for leader in leaders])
    diff = np.abs(q1 - PUBLISHED_FINAL[:seeds]).max()
    print(
        f"| exact emulation, the published seeds' streams | {n:.0f} | {q1.min():.3f} | "
        f"{np.median(q1):.3f} | {q1.max():.3f} | {np.median(np.abs(q1 - x_star)):.2e} | "
        f"{dt:.0f} s |\n\nPublished run, per seed: min / median / max "
        f"{PUBLISHED_FINAL[:seeds].min():.3f} / {np.median(PUBLISHED_FINAL[:seeds]):.3f} / "
        f"{PUBLISHED_FINAL[:seeds].max():.3f}; largest per-seed difference from the streams "
        f"row {diff:.2e}.",
        flush=True,
    )


_HEADER = (
    "| option | updates (median) | min q1 | median q1 | max q1 | median abs(q1 - q1*) | time |\n"
    "|---|---|---|---|---|---|---|"
)


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


def _parse(argv: list[str] | None = None) -> Config:
    return parse(
        Config, argv, prog="python scripts/cournot_table.py", description=__doc__.splitlines()[0]
    )


if __name__ == "__main__":
    main(_parse())
