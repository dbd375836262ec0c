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
  (``hierarchical-cg-step0.1``); ``hierarchical-cg-damped``: at ``0.1 --alpha``, solving with
  ``f2_yy - --damping I`` (Fiez et al.'s regularisation of the follower's Hessian);
* ``hic`` and its uncoupled variants (:data:`HIC_VARIANTS`): Hi-C (SPSA, payoff baseline 0.9,
  perturbation ``--delta``, step ``--hic-alpha``, commitment ``--commitment`` stages) with
  ``two_sided``, an adaptive commitment, ``momentum`` or Gaussian / sphere directions, with a
  larger stage budget (``--hic-stages``). A suffix ``-stepX`` (e.g. ``hic-momentum-step10``)
  runs the variant at ``X`` times ``--hic-alpha``.

Usage::

    python scripts/mog_study.py                      # the default methods
    python scripts/mog_study.py --methods hic-gaussian hic-gaussian-step10 --append
    python scripts/mog_study.py --replot             # redraw the table and figure
    python scripts/mog_study.py --merge OTHER        # add OTHER/mog_study.json's runs
    python scripts/mog_study.py --seeds 2 --stages 40 --hic-stages 400 --out /tmp/ms \
        --figures /tmp/ms                            # smoke

Writes ``mog_study.md`` (table, commands, load) and ``mog_study.json`` (the curves) to
``--out``, and ``mog_study_curves.png`` (energy distance against stages and against
wall-clock, per method) to ``--figures``. BLAS is pinned to one thread unless
OPENBLAS_NUM_THREADS is set.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
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
from agents.hic import AdaptiveCommitment, HiCLeader  # noqa: E402
from hic_envs.games import MogGAN  # noqa: E402

#: Uncoupled Hi-C variants: name -> HiCLeader options (on top of ``baseline=0.9``, which
#: ``two_sided`` replaces: the payoff level cancels in its estimate).
HIC_VARIANTS = {
    "hic": {},
    "hic-two-sided": {"two_sided": True},
    "hic-adaptive": {"adaptive": True},
    "hic-momentum": {"momentum": 0.9},
    "hic-gaussian": {"directions": "gaussian"},
    "hic-sphere": {"directions": "sphere"},
}
OTHERS = ("sga", "lola", "hierarchical-cg", "hierarchical-cg-step0.1", "hierarchical-cg-damped")
METHODS = (*OTHERS, *HIC_VARIANTS)
_STEP = re.compile(r"^(?P<variant>hic[a-z-]*?)(?:-step(?P<scale>[0-9.]+(?:e-?[0-9]+)?))?$")


def hic_method(method: str) -> tuple[str, float] | None:
    """``(variant, step scale)`` of a Hi-C method name (``hic-momentum-step10``: the
    ``hic-momentum`` variant at 10x ``--hic-alpha``), or None if it is not one."""
    m = _STEP.match(method)
    if m is None or m["variant"] not in HIC_VARIANTS:
        return None
    scale = float(m["scale"]) if m["scale"] else 1.0
    return (m["variant"], scale) if scale > 0 and np.isfinite(scale) else None


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
    damping: float = 1.0
    """hierarchical-cg-damped's lambda (it solves with f2_yy - lambda I)."""
    hic_alpha: float = 1e-4
    """Hi-C's step alpha_n (constant)."""
    delta: float = 0.01
    """Hi-C's perturbation delta_n (constant)."""
    commitment: int = 10
    """Hi-C's commitment k_n (constant; hic-adaptive's longest interval is twice it)."""
    adaptive_tol: float = 0.5
    """hic-adaptive's settling tolerance relative to delta (constant): an interval ends once
    the discriminator's weights moved by less than tol * delta (max-norm) in a stage."""
    seed: int = 0
    """Seed of the initial networks and the runs."""
    points: int = 8
    """Log-spaced checks per run."""
    out: str = "docs/results/mog_study"
    """Folder of the table and the curves."""
    figures: str = "docs/figures"
    """Folder of the figure."""
    append: bool = False
    """Add this command's runs to ``--out``'s mog_study.json (replacing runs of the same
    method) instead of starting a new one."""
    replot: bool = False
    """Run nothing: redraw the table and the figure from ``--out``'s mog_study.json."""
    merge: str | None = None
    """Run nothing: add the runs of this folder's mog_study.json (made by commands with
    ``--out`` there, e.g. run at the same time as others) to ``--out``'s, replacing runs of
    the same method, then redraw the table and the figure."""

    def __post_init__(self) -> None:
        bad = [m for m in self.methods if m not in OTHERS and hic_method(m) is None]
        if bad or not self.methods:
            raise ValueError(
                f"--methods: unknown {bad or 'none given'}; expected some of {METHODS}, a Hi-C "
                "one with a step scale suffix -stepX (X > 0)"
            )
        for nm in ("damping", "adaptive_tol"):
            v = getattr(self, nm)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"--{nm.replace('_', '-')} must be positive, got {v}")
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
    if method == "hierarchical-cg-damped":
        leader = HierarchicalCGLeader(
            game, 0.1 * cfg.alpha, cg_iters=cfg.cg_iters, damping=cfg.damping, **kw
        )
        return leader, follower
    if method.startswith("hierarchical-cg"):
        step = cfg.alpha * (0.1 if method.endswith("step0.1") else 1.0)
        return HierarchicalCGLeader(game, step, cg_iters=cfg.cg_iters, **kw), follower
    variant, scale = hic_method(method)
    opts = dict(HIC_VARIANTS[variant])
    commitment: object = cfg.commitment
    if opts.pop("adaptive", False):
        commitment = AdaptiveCommitment(cfg.adaptive_tol, 2, 2 * cfg.commitment)
    if not opts.get("two_sided"):
        opts["baseline"] = 0.9
    leader = HiCLeader(
        game,
        scale * cfg.hic_alpha,
        cfg.delta,
        commitment,
        check_assumptions=False,
        **opts,
        **kw,
    )
    return leader, follower


def run_one(method: str, game: MogGAN, cfg: Config) -> dict:
    if hic_method(method) is not None:
        stages = cfg.hic_stages
    elif method.startswith("hierarchical-cg"):
        stages = cfg.cg_stages
    else:
        stages = cfg.stages
    load = os.getloadavg()[0]
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
    updates = float(np.median(runner.updates))
    return {"method": method, "stages": stages, "updates": updates, "load": load, "curve": rows}


def format_table(
    runs: list[dict], cfg: Config, game: MogGAN, init: dict, load: str, commands: list[str]
) -> str:
    lines = [
        "command: " + " then ".join(f"`{c}`" for c in commands),
        "",
        f"{game!r}: d1 = {game.d1}, d2 = {game.d2}; {cfg.seeds} rows per method, medians over "
        f"rows; gradient follower step {cfg.beta}; load before each command: {load} (and the "
        "1-minute load average at each run's start, `load` column).",
        "",
        f"At the start (the same networks for every method): energy {init['energy']:.4g}, "
        f"high-quality {init['high_quality']:.3g}, modes {init['modes']:g}.",
        "",
        "| method | stages | updates | wall-clock s | energy distance (q25-q75) | best check "
        "| high-quality | modes | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        last = r["curve"][-1]
        q = last["energy_q"]
        best = min(r["curve"], key=lambda c: c["energy"])
        updates = f"{r['updates']:g}" if "updates" in r else "-"
        run_load = f"{r['load']:.1f}" if "load" in r else "-"
        lines.append(
            f"| {r['method']} | {last['stage']} | {updates} | {last['seconds']:.0f} | "
            f"{last['energy']:.4g} ({q[0]:.3g}-{q[1]:.3g}) | {best['energy']:.3g} at "
            f"{best['stage']} | {last['high_quality']:.3g} | {last['modes']:g} | {run_load} |"
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


def _order(method: str) -> tuple[int, float, str]:
    hm = hic_method(method)
    if hm is None:
        return (OTHERS.index(method), 0.0, method)
    return (len(OTHERS) + list(HIC_VARIANTS).index(hm[0]), hm[1], method)


def plot(runs: list[dict], cfg: Config, folder: Path) -> Path:
    """Median energy distance against stages and against wall-clock, one line per method
    (Hi-C variants solid, one colour per variant, lighter for larger steps; others dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({r["method"] for r in runs}, key=_order)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    scales: dict[str, list[float]] = {}
    for m in names:
        hm = hic_method(m)
        if hm is not None:
            scales.setdefault(hm[0], []).append(hm[1])
    for r in sorted(runs, key=lambda r: _order(r["method"])):
        m, hm = r["method"], hic_method(r["method"])
        if hm is None:
            color, ls, lw = plt.cm.Dark2(OTHERS.index(m)), "--", 1.4
        else:
            k = sorted(scales[hm[0]]).index(hm[1])
            base = plt.cm.tab10(list(HIC_VARIANTS).index(hm[0]))
            color = tuple(c + (1 - c) * 0.45 * k for c in base[:3])
            ls, lw = "-", 1.2
        for ax, key in zip(axes, ("stage", "seconds"), strict=True):
            xs = [c[key] for c in r["curve"]]
            ax.plot(xs, [c["energy"] for c in r["curve"]], ls, color=color, lw=lw, label=m)
    for ax, xl in zip(
        axes, ("stages (= follower gradient queries)", "wall-clock s (learners only)"), strict=True
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xl)
        ax.grid(alpha=0.3, which="both", lw=0.3)
    axes[0].set_ylabel("energy distance to the data (median over seeds)")
    axes[1].legend(fontsize=6.5, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(
        f"Mixture-of-Gaussians GAN (MogGAN(hidden={cfg.hidden})): {cfg.seeds} seeds per method "
        "(solid: Hi-C variants; dashed: the others)",
        fontsize=10,
    )
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mog_study_curves.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    cfg = parse(Config, argv, prog="python scripts/mog_study.py")
    args = sys.argv[1:] if argv is None else list(argv)
    commands = [" ".join(["python scripts/mog_study.py", *args])]
    load = "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
    out = Path(cfg.out)
    if cfg.merge is not None:
        old = json.loads((out / "mog_study.json").read_text())
        new = json.loads((Path(cfg.merge) / "mog_study.json").read_text())
        if (new["config"]["seeds"], new["config"]["hidden"], new["init"]) != (
            old["config"]["seeds"],
            old["config"]["hidden"],
            old["init"],
        ):
            raise ValueError(
                f"--merge {cfg.merge}: its seeds, networks or start differ from {out}'s"
            )
        names = {r["method"] for r in new["runs"]}
        old["runs"] = [r for r in old["runs"] if r["method"] not in names] + new["runs"]
        old["commands"] = [*old["commands"], *new["commands"], commands[0]]
        old["load"] = f"{old['load']}; {cfg.merge}'s: {new['load']}"
        (out / "mog_study.json").write_text(json.dumps(old, indent=1) + "\n")
        cfg = dataclasses.replace(cfg, replot=True)
    if cfg.replot:
        old = json.loads((out / "mog_study.json").read_text())
        cfg = dataclasses.replace(cfg, **{k: old["config"][k] for k in ("seeds", "hidden")})
        game = MogGAN(hidden=cfg.hidden)
        runs = sorted(old["runs"], key=lambda r: _order(r["method"]))
        text = format_table(runs, cfg, game, old["init"], old["load"], old["commands"])
        (out / "mog_study.md").write_text(text)
        print(text)
        print(f"figure: {plot(runs, cfg, Path(cfg.figures))}")
        return 0
    game = MogGAN(hidden=cfg.hidden)
    x0, _ = game.initial_strategies(cfg.seeds, cfg.seed)
    m0 = game.data_metrics(x0)
    init = {k: float(np.median(v)) for k, v in m0.items()}
    out.mkdir(parents=True, exist_ok=True)
    runs: list[dict] = []
    if cfg.append and (out / "mog_study.json").exists():
        old = json.loads((out / "mog_study.json").read_text())
        runs = [r for r in old["runs"] if r["method"] not in cfg.methods]
        commands = [*old.get("commands", ["python scripts/mog_study.py"]), *commands]
        load = f"{old['load']}; then {load}"
    for method in cfg.methods:
        runs.append(run_one(method, game, cfg))
        runs.sort(key=lambda r: _order(r["method"]))
        last_run = next(r for r in runs if r["method"] == method)
        last = last_run["curve"][-1]
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
    print(f"figure: {plot(runs, cfg, Path(cfg.figures))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
