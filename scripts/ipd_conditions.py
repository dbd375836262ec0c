"""Measure which of the paper's conditions hold on ``hic/IteratedPrisonersDilemma-v0``.

For each ``(tau, leader_tau)`` it prints:

* concavity of ``f2`` in ``y`` (Assumption 4.8) at points of ``X x Y`` drawn half from the
  interior and half with coordinates at 0 / 1 (``x``) and near 0 / 1 (``y``): the share with
  ``grad_yy f2`` not negative definite, and the largest eigenvalue;
* the same on the best-response path, at ``(x, r(x))`` for the ``x`` of a grid of ``X``
  (``{0, 1/4, 1/2, 3/4, 1}^5`` cut to the box, 3125 points), with the range of
  ``-eig(grad_yy f2)`` there (what ``mu`` and ``K2`` would be along the path);
* uniqueness of ``r(x)`` on that grid: the share of ``x`` where the six ascents of
  ``best_response`` end at two local maxima more than ``1e-6`` apart (both stationary);
* smoothness of ``r``: the largest ``|r(x) - r(x')| / |x - x'|`` between neighbours 1e-3
  apart along 64 random segments across ``X``, against the implicit-function bound
  ``max ||grad_x r||`` on the same points (a jump shows as a ratio far above the bound);
* the DSE and whether Definition 3.3 (interior, gradient zero, Hessians negative definite)
  or the KKT conditions hold there.

    python scripts/ipd_conditions.py [--taus 3 1] [--leader-taus 0 0.5] [--table]

``--table`` prints the same measurements as the Markdown table of docs/results/agents.md (one
row per setting), then the largest ``abs(d V2 / d y_i)`` on the sampled points against the
bound ``U`` the follower's box margin uses (docs/manifest.yaml's ``ipd-conditions`` target).
"""

from __future__ import annotations

import dataclasses
import itertools
import time

import numpy as np

from agents.compose.cli.config import parse
from hic_envs.games import IteratedPrisonersDilemma


def measure(tau: float, leader_tau: float, say=print) -> dict:
    """Measure one setting, printing each finding with ``say``; returns the numbers."""
    t0 = time.time()
    game = IteratedPrisonersDilemma(tau=tau, leader_tau=leader_tau)
    lo, hi = game.leader_low, game.leader_high
    rng = np.random.default_rng(0)
    n = 4000
    x = rng.uniform(lo, hi, (n, 5))
    x = np.where(rng.uniform(size=x.shape) < 0.5, np.where(x < 0.5, lo, hi), x)
    y = rng.uniform(game.follower_low, game.follower_high, (n, 5))
    y = np.where(rng.uniform(size=y.shape) < 0.5, np.where(y < 0.5, 0.02, 0.98), y)
    eig = np.linalg.eigvalsh(game.follower_hess_yy(x, y)).max(-1)
    say(f"## tau = {tau}, leader_tau = {leader_tau}")
    say(
        f"sampled X x Y ({n} points): grad_yy f2 not negative definite at "
        f"{np.mean(eig >= 0):.2%}, largest eigenvalue {eig.max():.4g}"
    )

    levels = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    grid = np.clip(np.array(list(itertools.product(levels, repeat=5))), lo, hi)
    ys, f2 = game.local_best_responses(grid)
    best = np.argmax(f2, axis=0)
    r = ys[best, np.arange(grid.shape[0])]
    h = np.linalg.eigvalsh(game.follower_hess_yy(grid, r))
    say(
        f"best-response path ({grid.shape[0]} grid points): grad_yy f2 not negative definite "
        f"at {np.mean(h.max(-1) >= 0):.2%}; -eig in [{-h.max():.4g}, {-h.min():.4g}]"
    )
    g2 = np.abs(game.follower_grad(grid[None], ys)).max(-1)  # (6, n)
    stationary = g2 <= 1e-7
    spread = np.zeros(grid.shape[0], dtype=bool)
    for i, j in itertools.combinations(range(ys.shape[0]), 2):
        apart = np.abs(ys[i] - ys[j]).max(-1) > 1e-6
        spread |= apart & stationary[i] & stationary[j]
    on_bound = np.any((r <= game.follower_low) | (r >= game.follower_high), axis=-1)
    say(
        f"uniqueness: two local maxima at {spread.mean():.2%} of the grid; r(x) on the "
        f"bound of Y at {on_bound.mean():.2%}"
    )

    a = rng.uniform(lo, hi, (64, 5))
    b = rng.uniform(lo, hi, (64, 5))
    ts = np.linspace(0.0, 1.0, 201)
    seg = a[:, None] + ts[None, :, None] * (b - a)[:, None]  # (64, 201, 5)
    rs = game.best_response(seg)
    ratio = np.linalg.norm(np.diff(rs, axis=1), axis=-1) / np.linalg.norm(
        np.diff(seg, axis=1), axis=-1
    )
    hyy = game.follower_hess_yy(seg, rs)
    hyx = game.follower_hess_yx(seg, rs)
    jac = -np.linalg.solve(hyy, hyx)
    bound = np.linalg.norm(jac, ord=2, axis=(-2, -1)).max()
    say(
        f"smoothness: max |dr| / |dx| along 64 segments {ratio.max():.4g} against "
        f"max ||grad_x r|| {bound:.4g} on the same points"
    )

    dse = game.stackelberg()
    xs, ystar = dse.x, dse.y
    g = game.hierarchical_grad(xs)
    at_lo, at_hi = xs <= lo, xs >= hi
    free = ~(at_lo | at_hi)
    say(f"DSE: x* = {np.round(xs, 4).tolist()}, y* = {np.round(ystar, 4).tolist()}")
    say(f"     f1 = {dse.leader_payoff:.5g}, f2 = {dse.follower_payoff:.5g}")
    hyy_eig = np.linalg.eigvalsh(game.follower_hess_yy(xs, ystar))
    say(f"     grad_yy f2 eigenvalues {np.round(hyy_eig, 4).tolist()}")
    if free.all():
        hh = np.linalg.eigvalsh(game.hierarchical_hess(xs))
        say(
            f"     interior; |D| = {np.abs(g).max():.2g}; hierarchical Hessian eigenvalues "
            f"{np.round(hh, 4).tolist()}: Definition 3.3 "
            f"{'holds' if hh.max() < 0 and hyy_eig.max() < 0 else 'fails'}"
        )
    else:
        kkt = (
            np.all(g[at_lo] <= 1e-6)
            and np.all(g[at_hi] >= -1e-6)
            and np.all(np.abs(g[free]) <= 1e-6)
        )
        say(
            f"     on the leader's bound at {int((~free).sum())} of 5 coordinates; "
            f"hierarchical gradient {np.round(g, 4).tolist()}: KKT "
            f"{'hold' if kkt else 'fail'}; Definition 3.3 does not apply (not interior)"
        )
    ne = game.nash()
    say(f"Nash: {ne}")
    # d V2 / d y_i without the entropy term: f2's gradient less tau * H'(y), H'(y) = logit(1 - y)
    dv2 = game.follower_grad(x, y) - tau * np.log((1.0 - y) / y)
    say(
        f"largest |d V2 / d y_i| on the sampled points {np.abs(dv2).max():.4g} against the "
        f"bound U = {game.gradient_bound:.4g}"
    )
    say(f"({time.time() - t0:.1f} s)\n")
    hh = np.linalg.eigvalsh(game.hierarchical_hess(xs)) if free.all() else None
    return {
        "tau": tau,
        "leader_tau": leader_tau,
        "sampled_not_concave": float(np.mean(eig >= 0)),
        "path_not_concave": float(np.mean(h.max(-1) >= 0)),
        "path_neg_eig": (float(-h.max()), float(-h.min())),
        "two_maxima": float(spread.mean()),
        "on_bound_y": float(on_bound.mean()),
        "ratio": float(ratio.max()),
        "bound": float(bound),
        "x": xs,
        "f1": float(dse.leader_payoff),
        "free": int(free.sum()),
        "kkt": None if free.all() else bool(kkt),
        "hier_eig": hh,
        "definition_3_3": None if hh is None else bool(hh.max() < 0 and hyy_eig.max() < 0),
        "nash_f1": None if ne is None else float(ne.leader_payoff),
        "dv2_max": float(np.abs(dv2).max()),
        "U": float(game.gradient_bound),
        "floor": float(game.EPS),
    }


def _vector(v: np.ndarray) -> str:
    return (
        "("
        + ", ".join(f"{c:.3f}".rstrip("0").rstrip(".") if c in (0, 1) else f"{c:.3f}" for c in v)
        + ")"
    )


def table(rows: list[dict]) -> str:
    """The measurements as docs/results/agents.md's Markdown table, then the gradient bound's."""
    lines = [
        "| τ | f2 concave at sampled points | concave on the best-response path (−eig of ∇yy f2) "
        "| r(x) unique on the grid | r smooth (max \\|Δr\\|/\\|Δx\\| vs max ‖∇r‖) "
        "| Stackelberg solution |",
        "|---|---|---|---|---|---|",
    ]
    for m in rows:
        name = f"{m['tau']:g}"
        if m["leader_tau"]:
            name += f", `leader_tau={m['leader_tau']:g}`"
        elif m["tau"] == 3.0:
            name += " (default)"
        s = m["sampled_not_concave"]
        sampled = f"no: fails at {s:.2%}" if s > 0 else "yes"
        lo, hi = m["path_neg_eig"]
        if m["path_not_concave"] > 0:
            path = f"no: fails at {m['path_not_concave']:.2%}"
        elif m["on_bound_y"] > 0:
            path = (
                f"yes where interior ([{lo:#.2g}, {hi:.2g}]: some best responses sit on the "
                f"{m['floor']:g} floor of Y)"
            )
        else:
            path = f"yes: [{lo:#.3g}, {hi:#.3g}]"
        if m["two_maxima"] > 0:
            unique = f"**no**: two local maxima at {m['two_maxima']:.2%} of the grid (r jumps)"
        else:
            unique = f"yes ({m['two_maxima']:.0%} with two local maxima)"
        unique += f"; r(x) on the bound of Y at {m['on_bound_y']:.2%}"
        smooth = f"{m['ratio']:.3g} vs {m['bound']:.3g}"
        x = _vector(m["x"])
        if m["hier_eig"] is not None:
            e = m["hier_eig"]
            sol = (
                f"interior DSE x\\* = {x}, f1 = {m['f1']:.4f}; Definition 3.3 "
                f"{'holds' if m['definition_3_3'] else 'fails'} (hierarchical Hessian "
                f"eigenvalues {e.min():.3g} … {e.max():.3g})"
            )
            if m["nash_f1"] is not None:
                sol += f"; a DNE nearby (f1 = {m['nash_f1']:.4f})"
        else:
            where = "always defect, " if not m["x"].any() else f"x = {x}, "
            sol = (
                f"{where}on the bound at {5 - m['free']} of 5 coordinates, f1 = {m['f1']:.4f}: "
                + ("KKT hold, Definition 3.3 does not apply" if m["kkt"] else "not even KKT")
            )
        lines.append(f"| {name} | {sampled} | {path} | {unique} | {smooth} | {sol} |")
    lines += [
        "",
        "| τ | largest \\|∂V2/∂yᵢ\\| on the sampled points | U = 3γ/(1 − γ) |",
        "|---|---|---|",
    ]
    seen = set()
    for m in rows:
        if m["tau"] not in seen:
            seen.add(m["tau"])
            lines.append(f"| {m['tau']:g} | {m['dv2_max']:.3g} | {m['U']:.3g} |")
    return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class Config:
    """Command-line configuration (one flag per field, :mod:`agents.compose.cli.config`)."""

    taus: tuple[float, ...] = (3.0, 1.0)
    """Follower entropy weights tau to measure."""
    leader_taus: tuple[float, ...] = (0.0, 0.5)
    """Leader entropy weights to measure."""
    table: bool = False
    """Print only the Markdown tables of docs/results/agents.md (see the module docstring)."""


def main(argv: list[str] | None = None) -> None:
    args = parse(Config, argv, prog="python scripts/ipd_conditions.py")
    say = (lambda *_: None) if args.table else print
    rows = [measure(t, lt, say) for t in args.taus for lt in args.leader_taus]
    if args.table:
        print(table(rows))


if __name__ == "__main__":
    main()
