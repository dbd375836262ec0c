"""Figures of many-seed runs: distance to the DSE, leader payoff, and leader trajectories.

Matplotlib is imported only when a figure is drawn, and through its object-oriented API with
the Agg canvas (no pyplot, no global backend switch), so ``import hic_envs`` stays light and
plotting works on machines without a display.

The functions take :class:`RunData` (what
:func:`agents.compose.experiments.results.load_results` reads from a run directory) and the
run's game, and write PNG files.

Conventions:
    * Curves over seeds are the median and the inter-quartile band (25th-75th percentiles) of
      each seed's most recent recorded value at each stage (records are per leader update, so a
      seed's value is a step function of the stage).
    * "Leader payoff" is the hierarchical payoff ``f1(x_n, r(x_n))`` of the leader's mean
      strategy ``x_n``: what the leader earns at ``x_n`` once the follower has best-responded.
      It is free of the perturbation and of the follower's tracking error, and it is the
      quantity the DSE maximises (Definition 3.3), so the DSE payoff ``f1(x*, y*)`` is its
      target.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from agents.compose.experiments.results import RunData
from hic_envs.games.base import Game

__all__ = [
    "RunData",
    "compare_runs",
    "differing_fields",
    "plot_comparison",
    "plot_distance",
    "plot_payoff",
    "plot_run",
    "plot_trajectory",
    "stage_grid",
    "step_values",
]

#: Colours for several runs or seeds (colour-blind friendly, Okabe-Ito; vermillion is kept
#: for the Nash equilibrium and black for the DSE).
COLORS = ("#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#999999")
DSE_STYLE = {"color": "#000000", "marker": "*", "s": 260, "zorder": 6, "edgecolors": "white"}
NASH_STYLE = {"color": "#D55E00", "marker": "X", "s": 160, "zorder": 6, "edgecolors": "white"}


# ---------------------------------------------------------------------------------- numbers
def stage_grid(max_stage: int, points: int = 200) -> np.ndarray:
    """Log-spaced integer stages from 1 to ``max_stage`` (unique, sorted)."""
    max_stage = max(int(max_stage), 1)
    return np.unique(np.geomspace(1, max_stage, points).round().astype(np.int64))


def step_values(run: RunData, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Each seed's most recent recorded value at each grid stage.

    Args:
        run: the records.
        values: ``(R, ...)`` one value per record (e.g. ``run.distance``).
        grid: stages, shape ``(G,)``.

    Returns:
        ``(S, G, ...)`` for the ``S`` seeds of ``run.seeds`` (NaN before a seed's first record).
    """
    seeds = run.seeds
    out = np.full((seeds.size, grid.size) + values.shape[1:], np.nan)
    order = np.lexsort((run.update, run.stage, run.seed))
    seed_sorted = run.seed[order]
    for i, s in enumerate(seeds):
        lo, hi = np.searchsorted(seed_sorted, [s, s + 1])
        idx = order[lo:hi]
        pos = np.searchsorted(run.stage[idx], grid, side="right") - 1
        ok = pos >= 0
        out[i, ok] = values[idx[pos[ok]]]
    return out


def _bands(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"):
        q25, med, q75 = np.nanquantile(v, [0.25, 0.5, 0.75], axis=0)
    return q25, med, q75


def _numeric_best_response(game) -> bool:
    return type(game).best_response is Game.best_response


def _hier_payoff(game, x: np.ndarray) -> np.ndarray:
    flat = x.reshape(-1, x.shape[-1])
    ok = np.all(np.isfinite(flat), axis=1)
    out = np.full(flat.shape[0], np.nan)
    if ok.any():
        out[ok] = game.hierarchical_payoff(flat[ok])
    return out.reshape(x.shape[:-1])


# ---------------------------------------------------------------------------------- figures
def _figure(width: float = 7.0, height: float = 4.5, ncols: int = 1):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols)
    return fig, axes


def _style(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _save(fig: Any, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def _curve_label(label: str, run: RunData, n_runs: int) -> str:
    what = f"median and IQR over {run.seeds.size} seeds"
    return what if n_runs == 1 else f"{label} ({what})"


def _runs(runs: RunData | Mapping[str, RunData]) -> dict[str, RunData]:
    return {runs.label: runs} if isinstance(runs, RunData) else dict(runs)


def plot_distance(
    runs: RunData | Mapping[str, RunData],
    path: str | os.PathLike,
    *,
    title: str | None = None,
    tolerance: float | None = None,
    nash_distance: float | None = None,
) -> Path:
    """Distance to the DSE against stages: median and inter-quartile band over seeds.

    Args:
        runs: a :class:`RunData` or a mapping label -> RunData (several curves).
        path: the PNG to write.
        title: figure title (default: the run's label).
        tolerance: draw a horizontal line at this distance, if given.
        nash_distance: ``||x_Nash - x*||``, drawn as a dotted line (where a run that ends at
            the Nash equilibrium settles), if given.
    """
    runs = _runs(runs)
    fig, ax = _figure()
    max_stage = max(int(r.stage.max()) for r in runs.values())
    grid = stage_grid(max_stage)
    for (label, run), color in zip(runs.items(), COLORS, strict=False):
        q25, med, q75 = _bands(step_values(run, run.distance, grid))
        ax.fill_between(grid, q25, q75, color=color, alpha=0.2, linewidth=0)
        ax.plot(grid, med, color=color, linewidth=2, label=_curve_label(label, run, len(runs)))
    if tolerance is not None:
        ax.axhline(tolerance, color="0.4", linestyle=":", linewidth=1, label=f"{tolerance:g}")
    if nash_distance is not None and nash_distance > 0:
        ax.axhline(
            nash_distance,
            color=NASH_STYLE["color"],
            linestyle=":",
            linewidth=1.2,
            label=f"Nash equilibrium ({nash_distance:.3g} from the DSE)",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    _style(ax, "stage", r"$\|x_n - x^*\|$ (distance to the DSE)")
    ax.set_title(title or next(iter(runs.values())).label, fontsize=10)
    ax.legend(fontsize=8, framealpha=0.9, loc="best")
    return _save(fig, path)


def plot_payoff(
    runs: RunData | Mapping[str, RunData],
    game: Game,
    path: str | os.PathLike,
    *,
    title: str | None = None,
) -> Path:
    """The leader's gap to the DSE payoff, ``f1(x*, r(x*)) - f1(x_n, r(x_n))``, against
    stages on log-log axes (median and IQR over seeds); the Nash payoff's gap is marked.

    The hierarchical payoff ``f1(x_n, r(x_n))`` flattens onto the DSE payoff within a few
    thousand stages on a linear axis; its gap on a log scale shows the approach all the way.
    A gap below zero (a seed at a higher local optimum than the DSE returned by
    ``game.stackelberg()``) is drawn by its absolute value.

    Args:
        runs: a :class:`RunData` or a mapping label -> RunData.
        game: the run's game (for ``r`` and the equilibria).
        path: the PNG to write.
        title: figure title.
    """
    runs = _runs(runs)
    fig, ax = _figure()
    max_stage = max(int(r.stage.max()) for r in runs.values())
    grid = stage_grid(max_stage, 120)
    dse = game.stackelberg()
    floor = 1e-15 * max(1.0, abs(dse.leader_payoff))
    note = ""
    for (label, run), color in zip(runs.items(), COLORS, strict=False):
        sub = run
        if _numeric_best_response(game) and run.seeds.size > 32:
            keep = np.isin(run.seed, run.seeds[:32])  # numeric r(x): one solve per point
            sub = dataclasses.replace(
                run,
                **{
                    f: getattr(run, f)[keep]
                    for f in ("seed", "update", "stage", "leader", "follower", "distance")
                },
            )
            note = " (first 32 seeds)"
        x = step_values(sub, sub.leader, grid)
        gap = np.maximum(np.abs(dse.leader_payoff - _hier_payoff(game, x)), floor)
        q25, med, q75 = _bands(gap)
        ax.fill_between(grid, q25, q75, color=color, alpha=0.2, linewidth=0)
        ax.plot(
            grid, med, color=color, linewidth=2, label=_curve_label(label, run, len(runs)) + note
        )
    ne = game.nash()
    if ne is not None:
        ne_gap = abs(dse.leader_payoff - ne.leader_payoff)
        if ne_gap > floor:
            ax.axhline(
                ne_gap,
                color=NASH_STYLE["color"],
                linestyle=":",
                linewidth=1.2,
                label=f"Nash equilibrium's gap {ne_gap:.4g}",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    _style(
        ax,
        "stage",
        r"gap to the DSE payoff $|f_1(x^*, y^*) - f_1(x_n, r(x_n))|$",
    )
    ax.set_title(
        (title or next(iter(runs.values())).label) + f"\nDSE payoff {dse.leader_payoff:.6g}",
        fontsize=10,
    )
    ax.legend(fontsize=8, framealpha=0.9, loc="best")
    return _save(fig, path)


def plot_trajectory(
    runs: RunData | Mapping[str, RunData],
    game: Game,
    path: str | os.PathLike,
    *,
    max_seeds: int = 8,
    title: str | None = None,
) -> Path | None:
    """Leader trajectories over the landscape of ``f1(x, r(x))``, DSE and Nash marked.

    1-D leaders: the curve ``f1(x, r(x))`` with the shown seeds' ``x_n`` on it, next to
    ``x_n`` against stages (median and IQR over all seeds, one curve per run). 2-D leaders:
    the contour of ``f1(x, r(x))`` with the median path over all seeds of each run in bold and
    the shown seeds' paths faint. In both, a square marks every seed's final strategy, so all
    seeds are accounted for; the panel titles say how many seeds' paths are drawn. Other
    dimensions: nothing (returns None).

    Args:
        runs: a :class:`RunData` or mapping label -> RunData (one colour per run; with a
            single run, the direction of time is shown by colouring by stage).
        game: the run's game.
        path: the PNG to write.
        max_seeds: seeds whose whole path is drawn, per run (the first ones).
        title: figure title.
    """
    runs = _runs(runs)
    if game.d1 not in (1, 2):
        return None
    numeric = _numeric_best_response(game)
    dse, ne = game.stackelberg(), game.nash()
    lo, hi = game.leader_low, game.leader_high
    single = len(runs) == 1
    title = title or (next(iter(runs.values())).label if single else game.name)
    counts = [f"{min(max_seeds, r.seeds.size)} of {r.seeds.size}" for r in runs.values()]
    counts = list(dict.fromkeys(counts))  # "2 of 32 per run", not "2 of 32, 2 of 32"
    shown = ", ".join(counts) + " seeds" + (" per run" if not single and len(counts) == 1 else "")
    if game.d1 == 1:
        fig, (ax, ax2) = _figure(11.0, 4.5, ncols=2)
        xs = np.linspace(lo[0], hi[0], 120 if numeric else 600)[:, None]
        ax.plot(
            xs[:, 0], _hier_payoff(game, xs), color="0.3", linewidth=1.5, label=r"$f_1(x, r(x))$"
        )
        points = None
        for li, (label, run) in enumerate(runs.items()):
            color = COLORS[li % len(COLORS)]
            for si, s in enumerate(run.seeds[:max_seeds]):
                m = run.seed == s
                order = np.argsort(run.stage[m], kind="stable")
                x = run.leader[m][order]
                f = _hier_payoff(game, x)
                lab = label if (not single and si == 0) else None
                if single:  # the direction of time: colour by stage
                    points = ax.scatter(
                        x[:, 0],
                        f,
                        s=10,
                        c=np.log10(run.stage[m][order] + 1.0),
                        cmap="viridis",
                        vmin=0.0,
                        vmax=np.log10(run.stage.max() + 1.0),
                        alpha=0.7,
                        zorder=3,
                    )
                else:
                    ax.scatter(x[:, 0], f, s=10, color=color, alpha=0.5, label=lab, zorder=3)
                ax.scatter(x[:1, 0], f[:1], s=45, marker="o", facecolors="none",
                           edgecolors="black", zorder=5)  # fmt: skip
            final = _final_strategies(run)
            ax.scatter(
                final[:, 0],
                _hier_payoff(game, final),
                s=45,
                marker="s",
                color="white" if single else color,
                edgecolors="black",
                zorder=5,
            )
            # right panel: every seed of every run, median and IQR of x_n against stages
            grid = stage_grid(int(run.stage.max()))
            q25, med, q75 = _bands(step_values(run, run.leader[:, 0], grid))
            ax2.fill_between(grid, q25, q75, color=color, alpha=0.2, linewidth=0)
            ax2.plot(grid, med, color=color, linewidth=2, label=_curve_label(label, run, len(runs)))
        if points is not None:
            fig.colorbar(points, ax=ax, label="log10(stage + 1)", shrink=0.85)
        ax.scatter(dse.x[0], dse.leader_payoff, label="DSE", **DSE_STYLE)
        ax2.axhline(
            dse.x[0],
            color="black",
            linestyle="--",
            linewidth=1.2,
            label=f"DSE $x^*$ = {dse.x[0]:.4g}",
        )
        if ne is not None:
            ax.scatter(
                ne.x[0], float(_hier_payoff(game, ne.x[None])[0]), label="Nash", **NASH_STYLE
            )
            ax2.axhline(
                ne.x[0],
                color=NASH_STYLE["color"],
                linestyle=":",
                linewidth=1.2,
                label=f"Nash x = {ne.x[0]:.4g}",
            )
        _style(ax, "leader strategy x", r"$f_1(x, r(x))$")
        ax.set_title(
            f"leader paths of {shown} on its hierarchical payoff\n"
            "(circle: start; square: every seed's end)",
            fontsize=9,
        )
        ax.legend(fontsize=8, frameon=False, loc="lower center")
        ax2.set_xscale("log")
        _style(ax2, "stage", r"leader strategy $x_n$")
        ax2.set_title("leader strategy over all seeds", fontsize=9)
        ax2.legend(fontsize=8, framealpha=0.9)
        fig.suptitle(title, fontsize=10)
        return _save(fig, path)

    from matplotlib.collections import LineCollection

    fig, ax = _figure(7.6, 6.0)
    n = 35 if numeric else 120
    g0, g1 = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    X0, X1 = np.meshgrid(g0, g1)
    Z = _hier_payoff(game, np.stack([X0, X1], axis=-1))
    cs = ax.contourf(X0, X1, Z, levels=20, cmap="Greys_r", alpha=0.85)
    ax.contour(X0, X1, Z, levels=20, colors="white", linewidths=0.3, alpha=0.6)
    fig.colorbar(cs, ax=ax, label=r"$f_1(x, r(x))$", shrink=0.85)
    for li, (label, run) in enumerate(runs.items()):
        color = COLORS[li % len(COLORS)]
        grid = stage_grid(int(run.stage.max()), 60)  # 60 points: a readable path
        paths = step_values(run, run.leader, grid)  # (S, G, 2) at log-spaced stages
        for x in paths[:max_seeds]:  # faint: the shown seeds' own paths
            x = x[np.all(np.isfinite(x), axis=1)]
            ax.plot(x[:, 0], x[:, 1], color=color, linewidth=0.6, alpha=0.25, zorder=2)
            ax.scatter(x[:1, 0], x[:1, 1], s=22, facecolors="none", edgecolors=color,
                       marker="o", alpha=0.8, zorder=4)  # fmt: skip
        final = _final_strategies(run)
        ax.scatter(final[:, 0], final[:, 1], s=28, color=color, marker="s", edgecolors="white",
                   linewidths=0.6, zorder=5)  # fmt: skip
        # bold: the coordinate-wise median over all seeds at log-spaced stages
        with np.errstate(all="ignore"):
            med = np.nanmedian(paths, axis=0)
        ok = np.all(np.isfinite(med), axis=1)
        med, when = med[ok], grid[ok]
        lab = f"median path over {run.seeds.size} seeds" + ("" if single else f" ({label})")
        if single:  # the direction of time: the median path coloured by stage
            segments = list(np.stack([med[:-1], med[1:]], axis=1))
            lc = LineCollection(segments, cmap="viridis", linewidths=2.6, zorder=6, label=lab)
            lc.set_array(np.log10(when[1:] + 1.0))
            ax.add_collection(lc)
            fig.colorbar(lc, ax=ax, label="log10(stage + 1), median path", shrink=0.85)
        else:
            ax.plot(med[:, 0], med[:, 1], color=color, linewidth=2.6, zorder=6, label=lab)
    ax.scatter(dse.x[0], dse.x[1], label="DSE", **DSE_STYLE)
    if ne is not None:
        ax.scatter(ne.x[0], ne.x[1], label="Nash", **NASH_STYLE)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel(r"$x_1$")
    ax.set_ylabel(r"$x_2$")
    ax.set_title(
        f"{title}\nleader on $f_1(x, r(x))$, at log-spaced stages: bold, the median path;\n"
        f"faint, the paths of {shown} (circle: start); square: every seed's end",
        fontsize=8,
    )
    ax.legend(fontsize=8, loc="upper left", framealpha=0.8)
    return _save(fig, path)


def _final_strategies(run: RunData) -> np.ndarray:
    """Each seed's last recorded leader strategy, ``(S, d1)`` (in ``run.seeds`` order)."""
    order = np.lexsort((run.update, run.stage, run.seed))
    seeds = run.seed[order]
    last = np.flatnonzero(np.r_[seeds[1:] != seeds[:-1], True])
    return run.leader[order[last]]


def _nash_distance(game) -> float | None:
    ne = game.nash()
    return None if ne is None else float(np.linalg.norm(ne.x - game.stackelberg().x))


def plot_run(
    run: RunData, game: Game, out_dir: str | os.PathLike, *, prefix: str = ""
) -> list[Path]:
    """All figures of one run: ``distance.png``, ``payoff.png`` and (1-D/2-D leaders)
    ``trajectory.png`` in ``out_dir``. Returns the paths written."""
    out = Path(out_dir)
    paths = [
        plot_distance(run, out / f"{prefix}distance.png", nash_distance=_nash_distance(game)),
        plot_payoff(run, game, out / f"{prefix}payoff.png"),
    ]
    traj = plot_trajectory(run, game, out / f"{prefix}trajectory.png")
    if traj is not None:
        paths.append(traj)
    return paths


def plot_comparison(
    runs: Mapping[str, RunData], game: Game, out_dir: str | os.PathLike, *, prefix: str = ""
) -> list[Path]:
    """Several runs on one game, one colour each: distance, payoff and trajectory figures."""
    out = Path(out_dir)
    title = f"{game.name}: " + ", ".join(runs)
    paths = [
        plot_distance(
            runs, out / f"{prefix}distance.png", title=title, nash_distance=_nash_distance(game)
        ),
        plot_payoff(runs, game, out / f"{prefix}payoff.png", title=title),
    ]
    traj = plot_trajectory(runs, game, out / f"{prefix}trajectory.png", max_seeds=2, title=title)
    if traj is not None:
        paths.append(traj)
    return paths


def differing_fields(configs: list[dict[str, Any]]) -> list[str]:
    """The config fields (``leader_options.step_size`` style for nested ones) whose values
    differ between the runs' configs, in a stable order."""

    def flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            if isinstance(v, dict):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out

    flats = [flat(c) for c in configs]
    keys = sorted({k for f in flats for k in f})
    return [k for k in keys if len({repr(f.get(k)) for f in flats}) > 1]


def _label(config: dict[str, Any], keys: list[str]) -> str:
    def get(k: str):
        v: Any = config
        for part in k.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        return v

    return ", ".join(f"{k.split('.')[-1]}={get(k)}" for k in keys) or "run"


def compare_runs(
    runs: list[RunData], games: list[Game], out_dir: str | os.PathLike
) -> tuple[list[Path], str]:
    """Several runs overlaid, labelled by what differs between their configs, and a table
    of their final statistics (median / IQR / max distance to the DSE, stages).

    Runs of different games get the distance figure only (payoff and trajectory are drawn
    on one game's landscape).

    Returns:
        The figure paths and the table (plain text).
    """
    configs = [r.summary.get("config", {}) for r in runs]
    keys = differing_fields(configs)
    labels: dict[str, RunData] = {}
    for i, (run, cfg) in enumerate(zip(runs, configs, strict=True)):
        label = _label(cfg, keys)
        labels[label if label not in labels else f"{label} #{i}"] = run
    same_game = len({(c.get("env_id"), repr(c.get("game_kwargs"))) for c in configs}) == 1
    out = Path(out_dir)
    if same_game:
        paths = plot_comparison(labels, games[0], out, prefix="compare_")
    else:
        paths = [plot_distance(labels, out / "compare_distance.png", title="runs compared")]
    head = ("run", "stages", "median", "q25", "q75", "max")
    rows = []
    for label, run in labels.items():
        final = run.summary.get("final") or run.summary.get("current") or {}
        d = final.get("distance_to_dse", {})
        rows.append(
            (
                label,
                str(final.get("stage", "?")),
                *(f"{d[k]:.3g}" if k in d else "?" for k in ("median", "q25", "q75", "max")),
            )
        )
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["final distance to the DSE over seeds:"]
    for r in [head, tuple("-" * w for w in widths), *rows]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return paths, "\n".join(lines)
