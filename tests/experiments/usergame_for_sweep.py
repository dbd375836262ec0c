"""A user module that registers a game on import, as a sweep's ``imports:`` names one.

The sweep tests import it by name in worker processes (fresh interpreters), where it is
importable only through the ``sys.path`` the sweep hands its workers (this directory is on
the test driver's path because pytest puts it there).

The game: ``f1(x, y) = -(x - c)^2 / 2 - (y - 1)^2 / 2`` and ``f2(x, y) = -(y - x)^2 / 2`` on
``X = Y = [-3, 3]``, so ``r(x) = x`` and the DSE maximises ``-(x - c)^2/2 - (x - 1)^2/2``:
``x* = y* = (c + 1) / 2``.
"""

from __future__ import annotations

import numpy as np

import hic_envs
from hic_envs.games import CustomGame

ENV_ID = "mylab/SweepTarget-v0"


def _f1(x, y, c):
    return -0.5 * (x[..., 0] - c) ** 2 - 0.5 * (y[..., 0] - 1.0) ** 2


def _f2(x, y):
    return -0.5 * (y[..., 0] - x[..., 0]) ** 2


class _Leader:
    """``f1`` with its target ``c`` bound (a module-level class, so the game pickles)."""

    def __init__(self, c: float) -> None:
        self.c = c

    def __call__(self, x, y):
        return _f1(x, y, self.c)


def _best_response(x):
    return np.asarray(x, dtype=np.float64).copy()


def sweep_target(c: float = 0.0) -> CustomGame:
    """The game above with target ``c`` (a keyword argument a sweep can grid over)."""
    return CustomGame(
        _Leader(float(c)),
        _f2,
        [-3.0],
        [3.0],
        [-3.0],
        [3.0],
        best_response=_best_response,
        mu=1.0,
        K2=1.0,
        name="SweepTarget",
        vectorized=True,
    )


hic_envs.register_game(ENV_ID, sweep_target)
