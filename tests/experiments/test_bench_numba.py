"""The bench's numba limit kernel is the Hi-C loop: on the duopoly it learns the DSE."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from agents.compose.engines.bench import _workload  # noqa: E402
from agents.compose.engines.bench_numba import NumbaHiC  # noqa: E402


@pytest.mark.parametrize("in_strategy", [False, True])
def test_the_kernel_learns_the_duopoly_dse_in_chunks(in_strategy):
    game, leader, follower = _workload(16)
    kernel = NumbaHiC(game, leader, follower, intervals=1 << 14, in_strategy=in_strategy)
    for _ in range(4):  # chunks, as the bench times it
        kernel.run(100_000)
    x_star, y_star = game.stackelberg().x[0], game.stackelberg().y[0]
    # 400k stages, ~11k Hi-C updates per row, from a uniform start on the box [0, 50].
    assert np.max(np.abs(kernel.x - x_star)) < 0.1
    # The follower tracks its best response to the committed x~ = x +- delta_n (slope -1/2).
    half_delta = 0.5 * kernel.delta[kernel.n]
    assert np.max(np.abs(np.abs(kernel.y - y_star) - half_delta)) < 0.01
    assert np.all(np.isin(kernel.sgn, (-1.0, 1.0)))


@pytest.mark.parametrize("in_strategy", [False, True])
def test_the_kernel_checks_the_reads_as_the_engines_do(in_strategy):
    """The follower's steps check what they read, into a check array (checked_ascent_step)
    or in the strategy (poisoned_ascent_step): an infinite follower strategy, which the
    projection would put back on the box's edge, is caught at the end of the call, naming
    its row, and only its row."""
    game, leader, follower = _workload(8)
    kernel = NumbaHiC(game, leader, follower, intervals=1 << 10, in_strategy=in_strategy)
    kernel.run(1000)
    assert np.all(kernel.check == 0.0) and np.isfinite(kernel.y).all()  # finite reads
    kernel.y[3] = np.inf  # inf + beta * (own - 2 b inf) is NaN
    with pytest.raises(FloatingPointError, match=r"rows \[3\]"):
        kernel.run(10)
    bad = np.isnan(kernel.y if in_strategy else kernel.check)
    assert bad.tolist() == [i == 3 for i in range(8)]
