"""The stable-opponent-shaping benchmark of Letcher et al. (2019), reproduced side by side.

    python scripts/sos_table.py [--ipd-runs 50] [--tandem-runs 100] [--seed 0]

The published set-up (their notebook, aletcher/stable-opponent-shaping): both players run the
same method, simultaneous updates from the same joint point, ``theta_0 ~ N(0, 1)``:

* the IPD with five logit parameters per player (``p = sigmoid(theta)``), discount 0.96, the
  losses ``-d0 (I - gamma P)^-1 r`` (undiscounted sums: ``LogitGame(IteratedPrisonersDilemma(
  tau=0), scale=1 / (1 - gamma))``, the project's per-stage values times ``1 / (1 - gamma)``;
  no entropy, ``tau = 0``), 50 runs of 100 steps at step size 1;
* the tandem game (``TandemGame``: losses ``(x + y)^2 - 2x``, ``(x + y)^2 - 2y``, the
  project's payoffs negated), 100 runs of 30 steps at step size 0.1.

The look-ahead of LA, LOLA and SOS is the step size, as in the notebook. Reported: the
average of both players' losses at the last step (the notebook records the losses before
each update; the last record, after ``steps - 1`` updates), averaged over runs, the IPD's in
per-stage units (times ``1 - gamma``) as the paper plots it. ``published`` is read off the
paper's plots (Letcher et al. 2019, Fig. 1-2; the values issue 20 quotes), so it is good to
about 0.05. The project's strategy boxes (IPD logits in ``[-50, 50]``, tandem ``[-4, 4]^2``)
are wider than any run goes; the script counts the runs that touched a bound.

Added rows: Hi-C (leader, uncoupled) against a naive (gradient-ascent) follower, with the
schedule stated in ``HIC``, at the published budget and at 100 times it.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from agents import GradientAscentFollower, HiCLeader, SGALeader
from agents.compose.cli.config import parse
from agents.coupled import LOLALearner, LookAheadLearner, SOSLearner
from hic_envs.games import IteratedPrisonersDilemma, LogitGame, TandemGame
from hic_envs.games.base import Game

#: Published final average losses (read off Letcher et al. 2019's plots).
PUBLISHED = {
    "ipd": {"naive": 1.99, "lola": 1.05, "sos": 1.07},
    "tandem": {"lola": 0.44, "sos": -0.02},
}

#: The methods: (key, display, leader factory, follower factory); both players run it.
METHODS = ("naive", "la", "lola", "sos")
DISPLAY = {"naive": "naive learning", "la": "LookAhead", "lola": "LOLA", "sos": "SOS"}

#: Hi-C's schedule (constant, stated here): step, perturbation (logits / strategy units),
#: commitment (stages per SPSA measurement), payoff-baseline weight.
HIC = {"ipd": (0.002, 0.5, 5, 0.9), "tandem": (0.02, 0.5, 5, 0.9)}


@dataclasses.dataclass(frozen=True)
class Config:
    """Command-line configuration (one flag per field, :mod:`agents.compose.cli.config`)."""

    ipd_runs: int = 50
    """IPD runs (published: 50)."""
    tandem_runs: int = 100
    """Tandem runs (published: 100)."""
    seed: int = 0
    """Seed of the initial parameters theta_0 ~ N(0, 1) (one draw shared by every method)."""
    hic_factor: int = 100
    """Hi-C's longer budget, in multiples of the published one (0: skip that row)."""

    def __post_init__(self) -> None:
        for name in ("ipd_runs", "tandem_runs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.hic_factor < 0:
            raise ValueError(f"hic_factor must be >= 0, got {self.hic_factor}")


@dataclasses.dataclass(frozen=True)
class Setup:
    """One benchmark game: the game, runs, steps, step size and the loss unit."""

    name: str
    game: Game
    runs: int
    steps: int
    step_size: float
    unit: float  # multiply losses by this for the reported number


def setups(cfg: Config) -> list[Setup]:
    """The two published set-ups at ``cfg``'s run counts."""
    gamma = 0.96
    ipd = LogitGame(IteratedPrisonersDilemma(discount=gamma, tau=0.0), scale=1.0 / (1 - gamma))
    return [
        Setup("ipd", ipd, cfg.ipd_runs, 100, 1.0, 1.0 - gamma),
        Setup("tandem", TandemGame(), cfg.tandem_runs, 30, 0.1, 1.0),
    ]


def initial(setup: Setup, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``theta_0 ~ N(0, 1)`` for both players, ``(runs, d)`` each."""
    rng = np.random.default_rng(seed)
    g = setup.game
    x0 = rng.normal(size=(setup.runs, g.d1))
    y0 = rng.normal(size=(setup.runs, g.d2))
    return np.clip(x0, g.leader_low, g.leader_high), np.clip(y0, g.follower_low, g.follower_high)


def players(method: str, setup: Setup, x0, y0) -> tuple[Any, Any]:
    """The leader and follower of ``method`` (both players run it)."""
    g, a, S = setup.game, setup.step_size, setup.runs
    if method == "naive":
        return (
            SGALeader(g, a, num_envs=S, init=x0),
            GradientAscentFollower(g, a, num_envs=S, init=y0),
        )
    cls = {"la": LookAheadLearner, "lola": LOLALearner, "sos": SOSLearner}[method]
    return (
        cls(g, "leader", a, num_envs=S, init=x0),
        cls(g, "follower", a, num_envs=S, init=y0),
    )


def hic_players(setup: Setup, x0, y0) -> tuple[Any, Any]:
    """Hi-C (``HIC``'s constant schedule, seeded) against a gradient-ascent follower."""
    step, delta, commit, baseline = HIC[setup.name]
    g, S = setup.game, setup.runs
    leader = HiCLeader(
        g, step, delta, commit, num_envs=S, init=x0, baseline=baseline, seed=1,
        check_assumptions=False,
    )  # fmt: skip
    return leader, GradientAscentFollower(g, setup.step_size, num_envs=S, init=y0)


def play(setup: Setup, leader: Any, follower: Any, steps: int) -> dict[str, float]:
    """Simultaneous play for ``steps`` stages; the notebook's last record (losses at the
    joint point before the last update), averaged over runs and players, in the reported
    unit; and the number of runs whose strategies touched a bound of their box."""
    g = setup.game
    leader.reset()
    follower.reset()
    touched = np.zeros(setup.runs, dtype=bool)
    for t in range(steps):
        x = leader.act_batch(np.zeros((setup.runs, g.d2)))
        y = follower.act_batch(np.zeros((setup.runs, g.d1)))
        f1, f2 = g.payoffs(x, y)
        touched |= np.any((x <= g.leader_low) | (x >= g.leader_high), axis=-1)
        touched |= np.any((y <= g.follower_low) | (y >= g.follower_high), axis=-1)
        if t == steps - 1:
            break
        leader.observe_batch(f1, y)
        follower.observe_batch(f2, x)
    loss = -0.5 * (f1 + f2) * setup.unit
    return {
        "mean": float(loss.mean()),
        "sem": float(loss.std(ddof=1) / np.sqrt(setup.runs)) if setup.runs > 1 else 0.0,
        "leader": float((-f1 * setup.unit).mean()),
        "follower": float((-f2 * setup.unit).mean()),
        "touched": int(touched.sum()),
    }


def table(cfg: Config) -> list[dict[str, Any]]:
    """Every row of the benchmark: ``{game, method, display, steps, published, ...}``."""
    rows = []
    for setup in setups(cfg):
        x0, y0 = initial(setup, cfg.seed)
        for m in METHODS:
            r = play(setup, *players(m, setup, x0, y0), setup.steps)
            pub = PUBLISHED[setup.name].get(m)
            rows.append(dict(game=setup.name, method=m, display=DISPLAY[m],
                             steps=setup.steps, published=pub, **r))  # fmt: skip
        budgets = [setup.steps] + ([setup.steps * cfg.hic_factor] if cfg.hic_factor else [])
        for steps in budgets:
            r = play(setup, *hic_players(setup, x0, y0), steps)
            rows.append(dict(game=setup.name, method="hic", steps=steps, published=None,
                             display="Hi-C (leader) vs naive follower", **r))  # fmt: skip
    return rows


def format_table(rows: list[dict[str, Any]], cfg: Config) -> str:
    """The side-by-side Markdown table."""
    out = [
        "| game | method | steps | runs | published | this project (mean +- s.e.) | "
        "leader / follower | runs at a bound |",
        "|---|---|---|---|---|---|---|---|",
    ]
    runs = {"ipd": cfg.ipd_runs, "tandem": cfg.tandem_runs}
    for r in rows:
        pub = "-" if r["published"] is None else f"~{r['published']:.2f}"
        out.append(
            f"| {r['game']} | {r['display']} | {r['steps']} | {runs[r['game']]} | {pub} | "
            f"{r['mean']:.3f} +- {r['sem']:.3f} | {r['leader']:.3f} / {r['follower']:.3f} | "
            f"{r['touched']} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    cfg = parse(Config, argv, prog="python scripts/sos_table.py")
    t0 = time.time()
    rows = table(cfg)
    print("## Stable opponent shaping (Letcher et al. 2019): final average loss per method\n")
    print(format_table(rows, cfg))
    print(f"\n({time.time() - t0:.0f} s; seed {cfg.seed})")


if __name__ == "__main__":
    main()
