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

    python scripts/ipd_conditions.py [--taus 3 1] [--leader-taus 0 0.5]
"""

from __future__ import annotations

import dataclasses
import itertools
import time

import numpy as np

from agents.compose.cli.config import parse
from hic_envs.games import IteratedPrisonersDilemma


def measure(tau: float, leader_tau: float) -> None:
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
    print(f"## tau = {tau}, leader_tau = {leader_tau}")
    print(
        f"sampled X x Y ({n} points): grad_yy f2 not negative definite at "
        f"{np.mean(eig >= 0):.2%}, largest eigenvalue {eig.max():.4g}"
    )

    levels = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    grid = np.clip(np.array(list(itertools.product(levels, repeat=5))), lo, hi)
    ys, f2 = game.local_best_responses(grid)
    best = np.argmax(f2, axis=0)
    r = ys[best, np.arange(grid.shape[0])]
    h = np.linalg.eigvalsh(game.follower_hess_yy(grid, r))
    print(
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
    print(
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
    print(
        f"smoothness: max |dr| / |dx| along 64 segments {ratio.max():.4g} against "
        f"max ||grad_x r|| {bound:.4g} on the same points"
    )

    dse = game.stackelberg()
    xs, ystar = dse.x, dse.y
    g = game.hierarchical_grad(xs)
    at_lo, at_hi = xs <= lo, xs >= hi
    free = ~(at_lo | at_hi)
    print(f"DSE: x* = {np.round(xs, 4).tolist()}, y* = {np.round(ystar, 4).tolist()}")
    print(f"     f1 = {dse.leader_payoff:.5g}, f2 = {dse.follower_payoff:.5g}")
    hyy_eig = np.linalg.eigvalsh(game.follower_hess_yy(xs, ystar))
    print(f"     grad_yy f2 eigenvalues {np.round(hyy_eig, 4).tolist()}")
    if free.all():
        hh = np.linalg.eigvalsh(game.hierarchical_hess(xs))
        print(
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
        print(
            f"     on the leader's bound at {int((~free).sum())} of 5 coordinates; "
            f"hierarchical gradient {np.round(g, 4).tolist()}: KKT "
            f"{'hold' if kkt else 'fail'}; Definition 3.3 does not apply (not interior)"
        )
    ne = game.nash()
    print(f"Nash: {ne}")
    print(f"({time.time() - t0:.1f} s)\n")


@dataclasses.dataclass(frozen=True)
class Config:
    """Command-line configuration (one flag per field, :mod:`agents.compose.cli.config`)."""

    taus: tuple[float, ...] = (3.0, 1.0)
    """Follower entropy weights tau to measure."""
    leader_taus: tuple[float, ...] = (0.0, 0.5)
    """Leader entropy weights to measure."""


def main(argv: list[str] | None = None) -> None:
    args = parse(Config, argv, prog="python scripts/ipd_conditions.py")
    for tau in args.taus:
        for leader_tau in args.leader_taus:
            measure(tau, leader_tau)


if __name__ == "__main__":
    main()
