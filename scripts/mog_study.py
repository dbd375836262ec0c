"""Hi-C against coupled methods on the mixture-of-Gaussians GAN with MLP players.

Issue 20 item 5, second game: :class:`~hic_envs.games.MogGAN` (``hic/MogGAN-v0``) at
``hidden=28`` (a 1010-parameter generator against a 925-parameter discriminator; 8 Gaussians
on the unit circle, standard deviation 0.05). No equilibrium is known, so every leader is
scored by the data metric (``game.data_metrics``: high-quality fraction, modes covered,
energy distance to the mixture) against stages and wall-clock time. Every leader plays a
gradient-ascent follower (step ``--beta``) from the same initial networks
(``game.initial_strategies``, one pair per row), ``--seeds`` rows in one batch on the NumPy
engine:

* ``sga``: simultaneous gradient ascent (uncoupled; step ``--alpha``);
* ``lola``: LOLA's leader, matrix-free (:class:`~agents.coupled.LOLALearner`, look-ahead
  ``eta`` = its step, as the published code does);
* ``hierarchical-cg``: the hierarchical gradient, conjugate gradient on Hessian-vector
  products (``--cg-iters`` per stage), at ``--alpha`` and at ``0.1 --alpha``
  (``hierarchical-cg-step0.1``);
* ``hic``: Hi-C (SPSA, payoff baseline 0.9, perturbation ``--delta``, step ``--hic-alpha``,
  commitment ``--commitment`` stages), uncoupled, with a 10x larger stage budget.

Usage::

    python scripts/mog_study.py                      # the recorded study
    python scripts/mog_study.py --seeds 2 --stages 40 --hic-stages 400 --out /tmp/ms  # smoke

Writes ``mog_study.md`` (table, command, load) and ``mog_study.json`` (the curves) to
``--out``. BLAS is pinned to one thread unless OPENBLAS_NUM_THREADS is set.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from agents.baselines import SGALeader  # noqa: E402
from agents.compose import BatchRunner  # noqa: E402
from agents.compose.cli.config import parse  # noqa: E402
from agents.coupled import HierarchicalCGLeader, LOLALearner  # noqa: E402
from agents.followers import GradientAscentFollower  # noqa: E402
from agents.hic import HiCLeader  # noqa: E402
from hic_envs.games import MogGAN  # noqa: E402

METHODS = ("sga", "lola", "hierarchical-cg", "hierarchical-cg-step0.1", "hic")


@dataclasses.dataclass(frozen=True)
class Config:
    """Hi-C against coupled methods on the mixture-of-Gaussians GAN (MLP players)."""

    methods: tuple[str, ...] = METHODS
    """Leaders to run."""
    seeds: int = 4
    """Rows per run (one batch; each row its own initial networks)."""
    stages: int = 3000
    """Stage budget of sga and lola."""
    cg_stages: int = 300
    """Stage budget of the hierarchical-cg runs (each stage costs about 2 --cg-iters HVPs)."""
    hic_stages: int = 30000
    """Stage budget of Hi-C."""
    hidden: int = 28
    """Hidden units per layer (28: 1010 and 925 parameters)."""
    alpha: float = 0.1
    """Leader step of sga, lola and hierarchical-cg."""
    beta: float = 0.1
    """The gradient follower's step."""
    cg_iters: int = 5
    """Conjugate-gradient iterations per hierarchical-cg stage."""
    hic_alpha: float = 1e-4
    """Hi-C's step alpha_n (constant)."""
    delta: float = 0.01
    """Hi-C's perturbation delta_n (constant)."""
    commitment: int = 10
    """Hi-C's commitment k_n (constant)."""
    seed: int = 0
    """Seed of the initial networks and the runs."""
    points: int = 8
    """Log-spaced checks per run."""
    out: str = "docs/results/mog_study"
    """Folder of the table and the curves."""
    append: bool = False
    """Add this command's runs to ``--out``'s mog_study.json (replacing runs of the same
    method) instead of starting a new one."""

    def __post_init__(self) -> None:
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise ValueError(
                f"--methods: unknown {bad or 'none given'}; expected some of {METHODS}"
            )
        for nm in ("seeds", "stages", "cg_stages", "hic_stages", "hidden", "cg_iters", "points"):
            if getattr(self, nm) < 1:
                raise ValueError(
                    f"--{nm.replace('_', '-')} must be positive, got {getattr(self, nm)}"
                )


def build(method: str, game: MogGAN, cfg: Config):
    x0, y0 = game.initial_strategies(cfg.seeds, cfg.seed)
    follower = GradientAscentFollower(game, cfg.beta, num_envs=cfg.seeds, init=y0)
    kw = dict(num_envs=cfg.seeds, init=x0)
    if method == "sga":
        return SGALeader(game, cfg.alpha, **kw), follower
    if method == "lola":
        return LOLALearner(game, "leader", cfg.alpha, **kw), follower
    if method.startswith("hierarchical-cg"):
        step = cfg.alpha * (0.1 if method.endswith("step0.1") else 1.0)
        return HierarchicalCGLeader(game, step, cg_iters=cfg.cg_iters, **kw), follower
    leader = HiCLeader(
        game,
        cfg.hic_alpha,
        cfg.delta,
        cfg.commitment,
        baseline=0.9,
        check_assumptions=False,
        **kw,
    )
    return leader, follower


def run_one(method: str, game: MogGAN, cfg: Config) -> dict:
    if method == "hic":
        stages = cfg.hic_stages
    elif method.startswith("hierarchical-cg"):
        stages = cfg.cg_stages
    else:
        stages = cfg.stages
    leader, follower = build(method, game, cfg)
    runner = BatchRunner(game, leader, follower, cfg.seed, record=None)
    checks = np.unique(np.geomspace(1, stages, cfg.points).round().astype(np.int64))
    rows = []
    spent = 0.0  # the learners' time only, not the metric's
    for c in checks:
        t0 = time.perf_counter()
        runner.run(int(c) - runner.stage)
        spent += time.perf_counter() - t0
        m = game.data_metrics(leader.strategies)
        rows.append(
            {
                "stage": int(c),
                "seconds": spent,
                "energy": np.median(m["energy"]).item(),
                "energy_q": np.quantile(m["energy"], [0.25, 0.75]).tolist(),
                "high_quality": np.median(m["high_quality"]).item(),
                "modes": np.median(m["modes"]).item(),
            }
        )
    return {"method": method, "stages": stages, "curve": rows}


def format_table(
    runs: list[dict], cfg: Config, game: MogGAN, init: dict, load: str, commands: list[str]
) -> str:
    lines = [
        "command: " + " then ".join(f"`{c}`" for c in commands),
        "",
        f"{game!r}: d1 = {game.d1}, d2 = {game.d2}; {cfg.seeds} rows per method, medians over "
        f"rows; gradient follower step {cfg.beta}; load before the run: {load}.",
        "",
        f"At the start (the same networks for every method): energy {init['energy']:.4g}, "
        f"high-quality {init['high_quality']:.3g}, modes {init['modes']:g}.",
        "",
        "| method | stages | wall-clock s | energy distance (q25-q75) | high-quality | modes |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        last = r["curve"][-1]
        q = last["energy_q"]
        lines.append(
            f"| {r['method']} | {last['stage']} | {last['seconds']:.0f} | "
            f"{last['energy']:.4g} ({q[0]:.3g}-{q[1]:.3g}) | {last['high_quality']:.3g} | "
            f"{last['modes']:g} |"
        )
    lines += [
        "",
        "Curves (median energy distance at each check):",
        "",
        "| method | stages | energy distance |",
        "|---|---|---|",
    ]
    for r in runs:
        for c in r["curve"]:
            lines.append(f"| {r['method']} | {c['stage']} | {c['energy']:.3g} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    cfg = parse(Config, argv, prog="python scripts/mog_study.py")
    args = sys.argv[1:] if argv is None else list(argv)
    commands = [" ".join(["python scripts/mog_study.py", *args])]
    load = "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
    game = MogGAN(hidden=cfg.hidden)
    x0, _ = game.initial_strategies(cfg.seeds, cfg.seed)
    m0 = game.data_metrics(x0)
    init = {k: float(np.median(v)) for k, v in m0.items()}
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    runs: list[dict] = []
    if cfg.append and (out / "mog_study.json").exists():
        old = json.loads((out / "mog_study.json").read_text())
        runs = [r for r in old["runs"] if r["method"] not in cfg.methods]
        commands = [*old.get("commands", ["python scripts/mog_study.py"]), *commands]
    for method in cfg.methods:
        runs.append(run_one(method, game, cfg))
        last = runs[-1]["curve"][-1]
        print(
            f"{method}: {last['stage']} stages, {last['seconds']:.0f} s, energy "
            f"{last['energy']:.4g}, high-quality {last['high_quality']:.3g}, modes "
            f"{last['modes']:g}",
            flush=True,
        )
        doc = {
            "config": dataclasses.asdict(cfg),
            "commands": commands,
            "load": load,
            "init": init,
            "runs": runs,
        }
        (out / "mog_study.json").write_text(json.dumps(doc, indent=1) + "\n")
        (out / "mog_study.md").write_text(format_table(runs, cfg, game, init, load, commands))
    print(format_table(runs, cfg, game, init, load, commands))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
