"""The NumPy engine picks its BLAS threading (issue 18): one thread while its products are
small, BLAS's own setting (restored afterwards) otherwise."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from agents import GradientAscentFollower, HiCLeader
from agents.compose.engines import threads
from agents.compose.engines.runner import BatchRunner
from hic_envs.games import RandomQuadraticGame


def _blas_threads() -> set[int]:
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


@pytest.fixture
def two_threads():
    if not _blas_threads():
        pytest.skip("no BLAS that threadpoolctl can control is loaded")
    with threadpool_limits(limits=2, user_api="blas"):
        if _blas_threads() != {2}:
            pytest.skip("BLAS cannot run 2 threads here")
        yield


def test_small_products_run_on_one_thread_and_the_setting_is_restored(two_threads):
    with threads.small_product_threads(32, 256, 256):
        assert _blas_threads() == {1}
    assert _blas_threads() == {2}
    with threads.small_product_threads(4096, 1024, 1024):  # 2**32 multiply-adds: BLAS's own setting
        assert _blas_threads() == {2}


def test_the_engine_runs_its_stages_on_one_thread(two_threads, monkeypatch):
    game = RandomQuadraticGame(d1=8, d2=8, seed=0)
    seen = []
    follower = GradientAscentFollower(game, 0.1, num_envs=4)
    act = follower.act_batch

    def spy(*args, **kwargs):
        seen.append(_blas_threads())
        return act(*args, **kwargs)

    monkeypatch.setattr(follower, "act_batch", spy)
    leader = HiCLeader(game, 0.01, 0.1, 3, num_envs=4, check_assumptions=False)
    BatchRunner(game, leader, follower, 0, record=None).run(10)
    assert seen and all(s == {1} for s in seen)
    assert _blas_threads() == {2}
