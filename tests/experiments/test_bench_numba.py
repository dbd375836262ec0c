"""The bench's numba limit kernel is the Hi-C loop: on the duopoly it learns the DSE."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from agents.compose.engines.bench import _workload  # noqa: E402
from agents.compose.engines.bench_numba import NumbaHiC  # noqa: E402


def test_the_kernel_learns_the_duopoly_dse_in_chunks():
    game, leader, follower = _workload(16)
    kernel = NumbaHiC(game, leader, follower, intervals=1 << 14)
    for _ in range(4):  # chunks, as the bench times it
        kernel.run(100_000)
    x_star, y_star = game.stackelberg().x[0], game.stackelberg().y[0]
    # 400k stages, ~11k Hi-C updates per row, from a uniform start on the box [0, 50].
    assert np.max(np.abs(kernel.x - x_star)) < 0.1
    # The follower tracks its best response to the committed x~ = x +- delta_n (slope -1/2).
    half_delta = 0.5 * kernel.delta[kernel.n]
    assert np.max(np.abs(np.abs(kernel.y - y_star) - half_delta)) < 0.01
    assert np.all(np.isin(kernel.sgn, (-1.0, 1.0)))
