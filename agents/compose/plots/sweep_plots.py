"""Figures of a sweep directory (what :func:`agents.compose.sweeps.run_sweep` wrote).

Two figures, drawn with Matplotlib's object-oriented API on the Agg canvas (no pyplot, no
display needed):

``sweep_final.png``
    The final distance to the DSE against each swept parameter, one panel per parameter. Each
    point is one configuration: its median over seeds, with a bar from the 25th to the 75th
    percentile (the IQR). Points are coloured by a grouping parameter (the environment ID when
    it is swept, else the other swept parameter with the fewest values) and the line of each
    colour joins the median over that group's configurations at each value.
``sweep_curves.png``
    The distance curves of every configuration overlaid (median over seeds of each seed's most
    recent recorded distance, against stages, log-log), one panel per environment ID, coloured
    as above; the next swept parameter (2 to 7 values) sets the line style, and any further
    swept parameter is named in the panel title as not told apart. Read from each run
    directory's ``updates.csv``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.compose.experiments.results import load_results
from agents.compose.plots.plotting import COLORS, stage_grid, step_values
from agents.compose.sweeps import load_sweep_summary

__all__ = ["plot_sweep", "plot_sweep_curves", "plot_sweep_final"]

_FLOOR = 1e-16  # distances of exactly 0 drawn on a log axis
#: Line styles of the second swept parameter in the curves figure (at most 7 values, as colours).
_LINESTYLES: tuple[Any, ...] = (
    "-",
    "--",
    ":",
    "-.",
    (0, (5, 1)),
    (0, (3, 1, 1, 1, 1, 1)),
    (0, (1, 3)),
)


def _figure(nrows: int, ncols: int, width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    return fig, axes


def _style(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _label(v: Any) -> str:
    if isinstance(v, str):
        return v.rsplit("/", 1)[-1] if "/" in v and " " not in v else v
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, Mapping):
        return ",".join(f"{k}={_label(x)}" for k, x in v.items())
    return str(v)


def _key(v: Any) -> str:
    """A hashable, orderable stand-in for a swept value."""
    return repr(sorted(v.items())) if isinstance(v, Mapping) else repr(v)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _distinct(confs: Sequence[Mapping[str, Any]], key: str) -> list[Any]:
    seen: dict[str, Any] = {}
    for c in confs:
        seen.setdefault(_key(c["values"].get(key)), c["values"].get(key))
    vals = list(seen.values())
    if all(_is_number(v) for v in vals):
        vals.sort()
    return vals


def _group_key(swept: Sequence[str], confs, exclude: str | None) -> str | None:
    others = [k for k in swept if k != exclude]
    if "env_id" in others:
        return "env_id"
    sizes = {k: len(_distinct(confs, k)) for k in others}
    few = [k for k in others if 1 < sizes[k] <= 7]
    return min(few, key=lambda k: sizes[k]) if few else None


def _colors(n: int) -> list[Any]:
    # Blue and orange first: the two most distinct of the palette, for the common two groups.
    palette = [COLORS[0], COLORS[3], COLORS[1], COLORS[2], *COLORS[4:]]
    if n <= len(palette):
        return palette[:n]
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(i / max(n - 1, 1)) for i in range(n)]


def _finished(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        c
        for c in summary["configurations"]
        if c["status"] == "finished" and (c.get("final") or {}).get("distance_to_dse")
    ]


def plot_sweep_final(summary: Mapping[str, Any], path: str | os.PathLike) -> Path | None:
    """Final distance to the DSE against each swept parameter (see the module docstring).

    Returns:
        The PNG written, or None when no configuration has finished or nothing is swept.
    """
    confs = _finished(summary)
    swept = list(summary.get("independent", summary["swept"]))
    if not confs or not swept:
        return None
    ncols = min(3, len(swept))
    nrows = math.ceil(len(swept) / ncols)
    fig, axes = _figure(nrows, ncols, 4.6 * ncols, 3.8 * nrows)
    for ax in axes[len(swept) :]:
        ax.set_visible(False)
    for ax, p in zip(axes, swept, strict=False):
        xs = _distinct(confs, p)
        numeric = all(_is_number(v) for v in xs)
        log_x = numeric and min(xs) > 0 and max(xs) / min(xs) >= 10
        pos = {_key(v): (float(v) if numeric else float(i)) for i, v in enumerate(xs)}
        g = _group_key(swept, confs, p)
        groups = _distinct(confs, g) if g else [None]
        colors = _colors(len(groups))
        spread = _jitter_spread(xs, numeric, log_x)
        for gi, (gv, color) in enumerate(zip(groups, colors, strict=True)):
            members = [c for c in confs if g is None or _key(c["values"].get(g)) == _key(gv)]
            off = (gi - (len(groups) - 1) / 2) * spread / max(len(groups), 1)
            line_x, line_y = [], []
            for v in xs:
                at = [c for c in members if _key(c["values"].get(p)) == _key(v)]
                if not at:
                    continue
                x0 = pos[_key(v)]
                x = x0 * 10**off if log_x else x0 + off
                d = [c["final"]["distance_to_dse"] for c in at]
                med = np.maximum([s["median"] for s in d], _FLOOR)
                lo = np.maximum([s["q25"] for s in d], _FLOOR)
                hi = np.maximum([s["q75"] for s in d], _FLOOR)
                ax.errorbar(
                    np.full(len(at), x),
                    med,
                    yerr=[med - lo, hi - med],
                    fmt="o",
                    ms=3.5,
                    color=color,
                    alpha=0.55,
                    elinewidth=0.8,
                    capsize=0,
                )
                line_x.append(x)
                line_y.append(float(np.median(med)))
            label = None if g is None else f"{g} = {_label(gv)}"
            ax.plot(line_x, line_y, "-", color=color, lw=1.8, label=label)
        ax.set_yscale("log")
        if log_x:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks([pos[_key(v)] for v in xs])
            ax.set_xticklabels([_label(v) for v in xs], rotation=20, fontsize=8, ha="right")
        _style(ax, p, "final distance to the DSE")
        if g is not None:
            ax.legend(fontsize=7, framealpha=0.9, loc="best")
    fig.suptitle(
        f"sweep {summary.get('name', '')}: final distance to the DSE; points: one configuration "
        "(median and IQR over seeds), lines: median over configurations",
        fontsize=9,
    )
    return _save(fig, path)


def _jitter_spread(xs: Sequence[Any], numeric: bool, log_x: bool) -> float:
    """Horizontal room for the groups at one value: a fraction of the closest spacing."""
    if not numeric:
        return 0.5
    v = np.log10(np.asarray(xs, dtype=float)) if log_x else np.asarray(xs, dtype=float)
    gaps = np.diff(np.sort(v))
    gaps = gaps[gaps > 0]
    if gaps.size:
        return 0.15 * float(gaps.min())
    return 0.02 if log_x else 0.02 * max(abs(float(v[0])), 1.0)


def plot_sweep_curves(
    summary: Mapping[str, Any], sweep_dir: str | os.PathLike, path: str | os.PathLike
) -> Path | None:
    """Distance curves of every finished configuration overlaid (see the module docstring).

    Returns:
        The PNG written, or None when no configuration has finished.
    """
    confs = _finished(summary)
    if not confs:
        return None
    from matplotlib.lines import Line2D

    swept = list(summary.get("independent", summary["swept"]))
    envs = _distinct(confs, "env_id") if "env_id" in swept else [None]
    g = _group_key(swept, confs, "env_id")
    groups = _distinct(confs, g) if g else [None]
    colors = dict(zip((_key(v) for v in groups), _colors(len(groups)), strict=True))
    # The next swept parameter (2 to 7 values) is told apart by the line style.
    h = _group_key([k for k in swept if k != g], confs, "env_id") if g else None
    kinds = _distinct(confs, h) if h else [None]
    styles = dict(zip((_key(v) for v in kinds), _LINESTYLES, strict=False))
    untold = [k for k in swept if k not in ("env_id", g, h) and len(_distinct(confs, k)) > 1]
    fig, axes = _figure(1, len(envs), 5.5 * len(envs), 4.2)
    for ax, env in zip(axes, envs, strict=True):
        members = [c for c in confs if env is None or c["values"]["env_id"] == env]
        for c in members:
            run = load_results(Path(sweep_dir) / c["dir"])
            if len(run.seed) == 0:
                continue
            grid = stage_grid(int(run.stage.max()))
            with np.errstate(all="ignore"):
                med = np.nanmedian(step_values(run, run.distance, grid), axis=0)
            gk = _key(c["values"].get(g)) if g else _key(None)
            hk = _key(c["values"].get(h)) if h else _key(None)
            ax.plot(
                grid,
                np.maximum(med, _FLOOR),
                color=colors[gk],
                linestyle=styles[hk],
                lw=1.2,
                alpha=0.75,
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        _style(ax, "stage", "distance to the DSE (median over seeds)")
        title = _label(env) if env is not None else members[0]["config"]["env_id"]
        note = f"\nalso swept, not told apart: {', '.join(untold)}" if untold else ""
        ax.set_title(f"{title}: {len(members)} configurations{note}", fontsize=10)
        handles: list[Any] = []
        if g is not None:
            handles += [
                Line2D([], [], color=colors[_key(v)], lw=1.6, label=f"{g} = {_label(v)}")
                for v in groups
            ]
        if h is not None:
            handles += [
                Line2D(
                    [],
                    [],
                    color="0.25",
                    linestyle=styles[_key(v)],
                    lw=1.4,
                    label=f"{h} = {_label(v)}",
                )  # fmt: skip
                for v in kinds
            ]
        if handles:
            ax.legend(handles=handles, fontsize=7, loc="best")
    return _save(fig, path)


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)
    return path


def plot_sweep(
    sweep_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None, *, prefix: str = ""
) -> list[Path]:
    """Both figures of a sweep directory, ``sweep_final.png`` and ``sweep_curves.png``.

    Args:
        sweep_dir: a directory written by :func:`~agents.compose.sweeps.run_sweep`.
        out_dir: where to write the PNGs (default: ``sweep_dir``).
        prefix: put before each file name (e.g. ``"study_"``).

    Returns:
        The paths written (none while no configuration has finished).

    Raises:
        FileNotFoundError: ``sweep_dir`` holds no ``sweep.json``.
    """
    summary = load_sweep_summary(sweep_dir)
    out = Path(out_dir if out_dir is not None else sweep_dir)
    paths = [
        plot_sweep_final(summary, out / f"{prefix}sweep_final.png"),
        plot_sweep_curves(summary, sweep_dir, out / f"{prefix}sweep_curves.png"),
    ]
    return [p for p in paths if p is not None]
