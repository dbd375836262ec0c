"""Print the local maxima of a 2x2 matrix game's hierarchical payoff ``f1(p, r(p))``.

From the game's ground truth (``hierarchical_payoff`` and ``best_response``): ``f1(p, r(p))`` on
a grid of 20001 points of the leader's box, every grid point at least as high as its
neighbours (an end point against its one neighbour), each refined by a bounded scalar search
within one grid step; printed with the follower's response and whether it is the game's DSE
(``game.stackelberg()``). docs/results/agents.md quotes StagHunt(leader_tau = 0.5)'s two.

    python scripts/local_maxima.py [--game StagHunt] [--tau 1] [--leader-tau 0.5]
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.optimize

import hic_envs.games as games
from agents.compose.cli.config import parse
from hic_envs.games.matrix import MatrixGame


def local_maxima(game: MatrixGame, points: int = 20001) -> list[tuple[float, float]]:
    """The local maxima ``(p, f1(p, r(p)))`` of ``game``'s hierarchical payoff, by ``p``."""
    lo, hi = float(game.leader_low[0]), float(game.leader_high[0])
    grid = np.linspace(lo, hi, points)
    v = game.hierarchical_payoff(grid[:, None])
    left = np.concatenate([[-np.inf], v[:-1]])
    right = np.concatenate([v[1:], [-np.inf]])
    found = []
    for i in np.flatnonzero((v >= left) & (v >= right)):
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, points - 1)]
        res = scipy.optimize.minimize_scalar(
            lambda p: -float(game.hierarchical_payoff(np.array([p]))),
            bounds=(a, b),
            method="bounded",
            options={"xatol": 1e-13},
        )
        p, f = (float(res.x), -float(res.fun)) if -res.fun > v[i] else (grid[i], v[i])
        found.append((float(p), float(f)))
    return found


@dataclasses.dataclass(frozen=True)
class Config:
    """Command-line configuration (one flag per field, :mod:`agents.compose.cli.config`)."""

    game: str = "StagHunt"
    """A 2x2 matrix game of :mod:`hic_envs.games` (StagHunt, PrisonersDilemma, ...)."""
    tau: float = 1.0
    """The follower's entropy weight."""
    leader_tau: float = 0.5
    """The leader's entropy weight."""

    def __post_init__(self) -> None:
        cls = getattr(games, self.game, None)
        if not (isinstance(cls, type) and issubclass(cls, MatrixGame)):
            raise ValueError(
                f"game must name a 2x2 matrix game of hic_envs.games, got {self.game!r}"
            )


def main(argv: list[str] | None = None) -> None:
    args = parse(Config, argv, prog="python scripts/local_maxima.py")
    game = getattr(games, args.game)(tau=args.tau, leader_tau=args.leader_tau)
    dse = game.stackelberg()
    print(
        f"{args.game}(tau={args.tau:g}, leader_tau={args.leader_tau:g}): f1(p, r(p)) local maxima"
    )
    for p, f in local_maxima(game):
        q = float(game.best_response(np.array([p]))[0])
        tag = "  (the DSE)" if abs(p - dse.x[0]) < 1e-6 else ""
        print(f"p = {p:.6f}, r(p) = {q:.6f}, f1 = {f:.6f}{tag}")


if __name__ == "__main__":
    main()
