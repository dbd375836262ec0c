"""Hi-C against coupled methods on the covariance-estimation GAN across its dimension.

The paper's open question (issue 20 item 5): how does the uncoupled Hi-C leader compare with
coupled learners, the matrix-free hierarchical gradient (``hierarchical-cg``) and LOLA, and
with simultaneous gradient ascent (``sga``, uncoupled, Nash-seeking) when the players grow?
Every leader plays a gradient-ascent follower (catalog ``gradient``, its per-game preset step)
on :class:`~hic_envs.games.CovarianceGAN` (``hic/CovarianceGAN-v0``; Fiez, Chasnov and Ratliff
2020) at each ``d`` (``d^2`` parameters per player), ``--seeds`` rows in one batch on the NumPy
engine. Scored by the distance to the set of solutions ``{V : V V^T = S}``
(``game.distance_to_stackelberg``), relative to each row's start, against stages (= follower
gradient queries: the follower makes one gradient step per stage for every method) and against
wall-clock time. Hi-C variants (all uncoupled: they read nothing but the leader's own payoffs):

* ``hic``: the per-game preset (``HiCLeader.for_game``: SPSA with a payoff baseline 0.9);
* ``hic-no-baseline``: the preset without the payoff baseline (Algorithm 1 as published);
* ``hic-two-sided``: antithetic two-interval SPSA (``two_sided=True``, no baseline);
* ``hic-adaptive``: commitment ended when the follower's observed action settles
  (:class:`~agents.hic.AdaptiveCommitment`, ``min_length=2``, ``max_length`` 200);
* ``hic-step4``: the preset with a 4x larger step ``alpha_n`` (a tuning, to see whether the
  preset's step, which shrinks with ``d``, is what limits it);
* ``hic-momentum``, ``hic-gaussian``, ``hic-sphere``: the preset with ``momentum=0.9`` (a
  moving average of the SPSA estimate), or Gaussian / uniform-on-sphere directions (the
  smoothing estimator); not in the default ``--methods`` (the recorded study added them at
  d = 8 and 25 with ``--append``).

and the coupled leaders also at 0.3x their default step (``hierarchical-cg-step0.3``,
``lola-step0.3``; the recorded study added them with ``--append`` after its first command
showed the default step diverging at d >= 16; the default ``--methods`` includes them).
Results and the answer: ``docs/results/gan.md``.

Usage::

    python scripts/gan_study.py                               # the study (~7 min on 2 cores)
    python scripts/gan_study.py --dims 2 4 8 16 25 --methods hierarchical-cg-step0.3 \
        lola-step0.3 --append                                 # add rows to its JSON
    python scripts/gan_study.py --replot                      # redraw from the JSON
    python scripts/gan_study.py --read-off 20000              # medians at a stage, from it
    python scripts/gan_study.py --dims 2 --seeds 2 --hic-stages 2000 --coupled-stages 500 \
        --methods hic sga --out /tmp/gs --figures /tmp/gs      # smoke run

Writes ``gan_study.md`` (the table with its command and load) and ``gan_study.json`` (the
curves) to ``--out``, and ``gan_study_curves.png`` and ``gan_study_dimension.png`` to
``--figures``. BLAS is pinned to one thread unless OPENBLAS_NUM_THREADS is set.
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

from agents import catalog, presets  # noqa: E402
from agents.compose import BatchRunner  # noqa: E402
from agents.compose.cli.config import parse  # noqa: E402
from agents.compose.engines.bench import machine_info  # noqa: E402
from agents.coupled import LOLALearner  # noqa: E402
from agents.schedules import PowerLaw  # noqa: E402
from hic_envs.games.covariance_gan import CovarianceGAN  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: Uncoupled Hi-C variants: name -> catalog options (``None`` values are filled per game).
HIC_VARIANTS = {
    "hic": {},
    "hic-no-baseline": {"no_baseline": True},
    "hic-two-sided": {"two_sided": True},
    "hic-adaptive": {"commitment": "adaptive:min_length=2,max_length=200"},
    "hic-step4": {"step_scale": 4.0},
    "hic-momentum": {"momentum": 0.9},
    "hic-gaussian": {"directions": "gaussian"},
    "hic-sphere": {"directions": "sphere"},
}
#: The other leaders: name -> catalog leader name (``lola`` is built matrix-free, below).
OTHERS = {"hierarchical-cg": "hierarchical-cg", "lola": "lola", "sga": "sga"}
#: The coupled leaders at 0.3 times their default step (0.1 / H): at d >= 16 the default
#: drives them to the box's corners within 100 stages.
SMALL_STEP = {"hierarchical-cg-step0.3": "hierarchical-cg", "lola-step0.3": "lola"}
METHODS = tuple(HIC_VARIANTS) + tuple(OTHERS) + tuple(SMALL_STEP)
#: The methods of a run without ``--methods`` (the variants added later are asked for by name).
DEFAULT_METHODS = tuple(
    m for m in METHODS if m not in ("hic-momentum", "hic-gaussian", "hic-sphere")
)
COUPLED = ("hierarchical-cg", "lola", *SMALL_STEP)


@dataclasses.dataclass(frozen=True)
class Config:
    """Hi-C against coupled methods on the covariance-estimation GAN across its dimension."""

    dims: tuple[int, ...] = (2, 4, 8, 16, 25)
    """Data dimensions d (d^2 parameters per player)."""
    methods: tuple[str, ...] = DEFAULT_METHODS
    """Leaders to run (the Hi-C variants; hierarchical-cg, lola, sga; the 0.3x-step ones)."""
    seeds: int = 16
    """Rows per run (one batch)."""
    hic_stages: int = 200_000
    """Stage budget of the Hi-C variants."""
    coupled_stages: int = 20_000
    """Stage budget of hierarchical-cg, lola and sga (one update per stage)."""
    epsilon: float = 0.1
    """Relative distance a row must reach (and hold at every later check) to count as settled."""
    lam: float = 0.2
    """The GAN's regulariser per dimension (Fiez et al.'s 0.2)."""
    seed: int = 0
    """Master seed of the runs (the GAN's S is drawn with seed 0, the notebook's)."""
    points: int = 30
    """Log-spaced checks per run."""
    out: str = "docs/results/gan_study"
    """Folder of the table and the curves."""
    figures: str = "docs/figures"
    """Folder of the figures."""
    replot: bool = False
    """Run nothing: redraw the table and figures from ``--out``'s gan_study.json (the rows
    written so far: the file is rewritten after every run)."""
    read_off: int | None = None
    """Run nothing: print, from ``--out``'s gan_study.json, each row's median relative
    distance at its first check at or after this stage, and the Hi-C variants' updates
    against the preset's (Markdown tables; docs/results/gan.md quotes them)."""
    append: bool = False
    """Add this command's runs to ``--out``'s gan_study.json (replacing rows of the same
    method and d) instead of starting a new one."""

    def __post_init__(self) -> None:
        if not 0 < self.epsilon < 1:
            raise ValueError(f"--epsilon must be in (0, 1), got {self.epsilon}")
        for nm in ("seeds", "hic_stages", "coupled_stages", "points"):
            if getattr(self, nm) < 1:
                raise ValueError(
                    f"--{nm.replace('_', '-')} must be positive, got {getattr(self, nm)}"
                )
        if self.read_off is not None and self.read_off < 1:
            raise ValueError(f"--read-off must be a positive stage, got {self.read_off}")
        if not self.dims or min(self.dims) < 1:
            raise ValueError(f"--dims must be positive integers, got {self.dims}")
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise ValueError(
                f"--methods: unknown {bad or 'none given'}; expected some of {METHODS}"
            )


def build(method: str, game: CovarianceGAN, seeds: int):
    """The (leader, follower) pair of ``method`` on ``game``, ``seeds`` rows each."""
    follower = catalog.make_follower("gradient", game, seeds, {})
    scale = 1.0
    if method in SMALL_STEP:
        method, scale = SMALL_STEP[method], 0.3
    if method == "hierarchical-cg":
        step = scale * presets.gradient_leader_step(game)
        leader = catalog.make_leader(method, game, seeds, {"step_size": step}, partner=follower)
        return leader, follower
    if method == "lola":
        # The catalog's "lola" leader (LOLALeader) reads dense Hessian blocks, (S, d^2, d^2)
        # per stage: 77 s for 2e4 stages at d = 8 here. The matrix-free rule with the same
        # step (0.1 / H), look-ahead (1) and correction is the same direction (tests of
        # agents.coupled check it) through payoff_hvp.
        step = scale * presets.gradient_leader_step(game)
        return LOLALearner(game, "leader", step, num_envs=seeds, lookahead=1.0), follower
    if method in OTHERS:
        return catalog.make_leader(OTHERS[method], game, seeds, {}, partner=follower), follower
    opts = dict(HIC_VARIANTS[method])
    scale = opts.pop("step_scale", None)
    leader = catalog.make_leader("hic", game, seeds, opts, partner=follower)
    if scale is not None:
        s = leader.step_size
        if not isinstance(s, PowerLaw):
            raise TypeError(f"{method}: expected a PowerLaw preset step, got {s!r}")
        leader.step_size = dataclasses.replace(s, a=s.a * scale)
    return leader, follower


def run_one(method: str, d: int, cfg: Config) -> dict:
    """One batch: relative distances at log-spaced checks, wall-clock time and updates."""
    game = CovarianceGAN(d=d, lam=cfg.lam)
    stages = cfg.hic_stages if method.startswith("hic") else cfg.coupled_stages
    leader, follower = build(method, game, cfg.seeds)
    runner = BatchRunner(game, leader, follower, cfg.seed, record=None)
    d0 = game.distance_to_stackelberg(leader.strategies)
    checks = np.unique(np.geomspace(1, stages, cfg.points).round().astype(np.int64))
    rel, wall = np.empty((checks.size, cfg.seeds)), np.empty(checks.size)
    t0 = time.perf_counter()
    for j, c in enumerate(checks):
        runner.run(int(c) - runner.stage)
        wall[j] = time.perf_counter() - t0
        rel[j] = game.distance_to_stackelberg(leader.strategies) / d0
    if not np.isfinite(rel).all():
        raise FloatingPointError(f"{method} at d={d}: non-finite distance")
    inside = rel <= cfg.epsilon
    stays = np.flip(np.logical_and.accumulate(np.flip(inside, 0), 0), 0)
    first = np.where(stays.any(0), np.argmax(stays, 0), -1)
    hit = checks[np.maximum(first, 0)].astype(float)
    hit[first < 0] = np.inf
    return {
        "method": method,
        "d": d,
        "params": d * d,
        "stages": checks.tolist(),
        "seconds": wall.tolist(),
        "median": np.median(rel, 1).tolist(),
        "q25": np.quantile(rel, 0.25, 1).tolist(),
        "q75": np.quantile(rel, 0.75, 1).tolist(),
        "final_median": float(np.median(rel[-1])),
        "settled": int((first >= 0).sum()),
        "stages_to_eps": float(np.median(hit)),
        "updates": float(np.median(runner.updates)),
        "us_per_stage": wall[-1] / checks[-1] * 1e6,
    }


def format_table(rows: list[dict], cfg: Config) -> str:
    """The Markdown table of the runs."""
    head = (
        "| d | params/player | method | coupled | stages | updates (median) | final rel. distance "
        f"(median) | settled <= {cfg.epsilon} | stages to {cfg.epsilon} (median) | "
        "wall s | us/stage |\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    out = [head]
    for r in rows:
        to = "-" if not np.isfinite(r["stages_to_eps"]) else f"{r['stages_to_eps']:.0f}"
        out.append(
            f"| {r['d']} | {r['params']} | {r['method']} | "
            f"{'yes' if r['method'] in COUPLED else 'no'} | {r['stages'][-1]} | "
            f"{r['updates']:.0f} | {r['final_median']:.3g} | {r['settled']}/{cfg.seeds} | "
            f"{to} | {r['seconds'][-1]:.1f} | {r['us_per_stage']:.0f} |"
        )
    return "\n".join(out)


def read_off(rows: list[dict], stage: int) -> str:
    """Each row's median at its first check at or after ``stage``; Hi-C variants' updates."""
    out = [
        f"| d | method | check (first at or after {stage}) | median rel. distance |",
        "|---|---|---|---|",
    ]
    for r in rows:
        checks = np.asarray(r["stages"])
        if checks[-1] < stage:
            continue
        i = int(np.argmax(checks >= stage))
        out.append(f"| {r['d']} | {r['method']} | {checks[i]} | {r['median'][i]:.3g} |")
    out += ["", "| d | method | updates (median) | vs hic |", "|---|---|---|---|"]
    preset = {r["d"]: r["updates"] for r in rows if r["method"] == "hic"}
    for r in rows:
        if r["method"].startswith("hic") and r["d"] in preset:
            ratio = r["updates"] / preset[r["d"]]
            out.append(f"| {r['d']} | {r['method']} | {r['updates']:.1f} | {ratio:.2f}x |")
    return "\n".join(out)


def plot(rows: list[dict], cfg: Config, folder: Path) -> list[Path]:
    """The curves (vs stages and vs wall-clock, one column per d) and the dimension figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = sorted({r["d"] for r in rows})
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    colors = {m: plt.cm.tab20(i) for i, m in enumerate(METHODS)}
    style = {m: ("-" if m.startswith("hic") else "--") for m in METHODS}
    fig, axes = plt.subplots(2, len(dims), figsize=(3.6 * len(dims), 6.4), squeeze=False)
    for j, d in enumerate(dims):
        for r in (r for r in rows if r["d"] == d):
            m = r["method"]
            for i, key in enumerate(("stages", "seconds")):
                ax = axes[i, j]
                ax.plot(r[key], r["median"], style[m], color=colors[m], label=m)
                ax.fill_between(r[key], r["q25"], r["q75"], color=colors[m], alpha=0.15)
        for i, xl in enumerate(("stages (= follower gradient queries)", "wall-clock s")):
            ax = axes[i, j]
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_ylim(1e-4, 2)
            ax.axhline(cfg.epsilon, color="grey", lw=0.6, ls=":")
            ax.set_xlabel(xl)
            ax.grid(alpha=0.3, which="both", lw=0.3)
        axes[0, j].set_title(f"d = {d} ({d * d} params/player)")
    for i in range(2):
        axes[i, 0].set_ylabel("distance to {V V^T = S} / start")
    axes[0, -1].legend(fontsize=7, loc="lower left")
    fig.suptitle(
        f"Covariance GAN: median and quartiles over {cfg.seeds} seeds (dashed: not Hi-C)",
        fontsize=10,
    )
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    p1 = folder / "gan_study_curves.png"
    fig.savefig(p1, dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for m in methods:
        rs = sorted((r for r in rows if r["method"] == m), key=lambda r: r["d"])
        p = [r["params"] for r in rs]
        axes[0].plot(p, [r["final_median"] for r in rs], "o" + style[m], color=colors[m], label=m)
        to = [r["stages_to_eps"] if np.isfinite(r["stages_to_eps"]) else np.nan for r in rs]
        axes[1].plot(p, to, "o" + style[m], color=colors[m], label=m)
    axes[0].set_ylabel("final rel. distance (median)")
    axes[1].set_ylabel(f"stages to {cfg.epsilon} (median; missing = not reached)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("parameters per player (d^2)")
        ax.grid(alpha=0.3, which="both", lw=0.3)
    axes[0].set_title("end of budget (Hi-C: hic-stages; others: coupled-stages)", fontsize=8)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    p2 = folder / "gan_study_dimension.png"
    fig.savefig(p2, dpi=110)
    plt.close(fig)
    return [p1, p2]


def main(argv: list[str] | None = None) -> int:
    cfg = parse(Config, argv, prog="python scripts/gan_study.py")
    argv = sys.argv[1:] if argv is None else argv
    load0 = os.getloadavg()
    out, figs = Path(cfg.out), Path(cfg.figures)
    store = out / "gan_study.json"
    if cfg.read_off is not None:
        rows = json.loads(store.read_text())["rows"]
        rows.sort(key=lambda r: (r["d"], METHODS.index(r["method"])))
        print(read_off(rows, cfg.read_off))
        print(f"\nread from {store} (`python scripts/gan_study.py --read-off {cfg.read_off}`)")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    if cfg.replot:
        data = json.loads(store.read_text())
        rows, load0, seconds = data["rows"], data["load"], data["seconds"]
        command = data["command"]
    else:
        rows, seconds = [], 0.0
        command = "python scripts/gan_study.py " + " ".join(argv)
        if cfg.append:
            data = json.loads(store.read_text())
            done = {(m, d) for d in cfg.dims for m in cfg.methods}
            rows = [r for r in data["rows"] if (r["method"], r["d"]) not in done]
            seconds, command = data["seconds"], f"{data['command']}` and `{command}"
        for d in cfg.dims:
            for m in cfg.methods:
                r = run_one(m, d, cfg)
                print(
                    f"d={d} {m}: final {r['final_median']:.3g}, settled "
                    f"{r['settled']}/{cfg.seeds}, {r['seconds'][-1]:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
                rows.append(r)
                seconds += r["seconds"][-1]
                data = {"config": dataclasses.asdict(cfg), "command": command.strip()}
                data.update(rows=rows, load=list(os.getloadavg()), seconds=seconds)
                store.write_text(json.dumps(data))
    rows.sort(key=lambda r: (r["d"], METHODS.index(r["method"])))
    paths = plot(rows, cfg, figs)
    text = (
        f"CovarianceGAN(d, lam={cfg.lam}) (hic/CovarianceGAN-v0, S from seed 0); every leader "
        f"against a gradient-ascent follower (preset step); {cfg.seeds} seeds; relative distance "
        f"= distance to {{V V^T = S}} / the row's start; settled = at most {cfg.epsilon} at a "
        f"check and every later one.\nmachine: {machine_info()}; load average (1 min) "
        f"{load0[0]:.1f} at the end of the runs (2 cores, shared)\n\n"
        f"{format_table(rows, cfg)}\n\nfigures: {', '.join(str(p) for p in paths)}\n"
        f"command: `{command.strip()}` ({seconds:.0f} s of runs)\n"
    )
    print(text)
    (out / "gan_study.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
