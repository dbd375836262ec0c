"""Baselines: SGA finds Nash (not the DSE), the hierarchical gradient finds the DSE, and the
oracle-SPSA leader is Hi-C with the tracking error removed."""

import numpy as np
import pytest
from gymnasium import spaces

from agents import (
    BestResponseFollower,
    GradientAscentFollower,
    HiCLeader,
    HierarchicalGradientLeader,
    OracleSPSALeader,
    SGALeader,
    presets,
)
from agents.compose import run_batch
from hic_envs.games import CooperativeGame, Duopoly, QuadraticGame, ZeroSumNoNash

SEEDS = 12


def _final(game, leader, follower, stages, seed=0):
    return run_batch(game, leader, follower, stages, seed=seed, record="none").final_leader


def test_coupled_flags():
    game = Duopoly()
    assert SGALeader.coupled is False
    assert HierarchicalGradientLeader.coupled is True
    assert OracleSPSALeader.coupled is True
    assert HiCLeader.coupled is False and GradientAscentFollower.coupled is False
    assert SGALeader(game, 0.1).coupled is False


@pytest.mark.parametrize("game_cls", [Duopoly, QuadraticGame, CooperativeGame])
def test_sga_converges_to_nash_not_to_the_dse(game_cls):
    # Budget: 3000 stages, 12 seeds, alpha = beta = 0.1 (curvatures <= 2, so the SGA map is a
    # contraction). Tolerance: |x - x_Nash| < 1e-6 for every seed, and the DSE is far away.
    game = game_cls()
    nash, dse = game.nash().x, game.stackelberg().x
    assert np.linalg.norm(nash - dse) > 1.0
    leader = SGALeader(game, 0.1, num_envs=SEEDS)
    follower = GradientAscentFollower(game, 0.1, num_envs=SEEDS)
    x = _final(game, leader, follower, 3000)
    assert np.all(np.linalg.norm(x - nash, axis=1) < 1e-6)
    assert np.all(np.linalg.norm(x - dse, axis=1) > 1.0)


def test_sga_does_not_find_the_dse_of_the_zero_sum_game_without_nash():
    # The SGA map of ZeroSumNoNash circles the origin and spirals out (see the game's
    # docstring). Budget: 3000 stages, 12 seeds; none ends within 0.1 of the DSE x* = 0.
    game = ZeroSumNoNash()
    leader = SGALeader(game, 0.05, num_envs=SEEDS)
    follower = GradientAscentFollower(game, 0.05, num_envs=SEEDS)
    x = _final(game, leader, follower, 3000)
    assert np.all(game.distance_to_stackelberg(x) > 0.1)


@pytest.mark.parametrize("game_cls", [Duopoly, QuadraticGame, ZeroSumNoNash, CooperativeGame])
def test_hierarchical_gradient_converges_to_the_dse(game_cls):
    # Two timescales: alpha = 0.01 for the leader, beta = 0.5 / K2 for the follower (beta mu =
    # 0.5). Budget: 5000 stages, 12 seeds. Tolerance: |x - x*| < 1e-6 for every seed.
    game = game_cls()
    beta = 0.5 / game.K2
    leader = HierarchicalGradientLeader(game, 0.01, num_envs=SEEDS)
    follower = GradientAscentFollower(game, beta, num_envs=SEEDS)
    x = _final(game, leader, follower, 5000)
    assert np.all(game.distance_to_stackelberg(x) < 1e-6)


def test_gradient_leader_step_by_hand():
    game = Duopoly()
    sga = SGALeader(game, 0.1, init=[10.0])
    hg = HierarchicalGradientLeader(game, 0.1, init=[10.0])
    sga.reset(seed=0)
    hg.reset(seed=0)
    sga.observe(0.0, np.array([5.0]))
    hg.observe(0.0, np.array([5.0]))
    # grad_x f1 = 49 - 2 x - y = 24 at (10, 5); D = grad_x f1 - (grad_yx f2)^T (grad_yy f2)^-T
    # grad_y f1 = 24 - (-1) * (-10) / (-2) = 24 + 5 = 29
    # (= grad_x f1 + grad_y f1 r'(x) with grad_y f1 = -x = -10 and r' = -1/2).
    assert sga.strategy[0] == pytest.approx(10.0 + 0.1 * 24.0)
    assert hg.strategy[0] == pytest.approx(10.0 + 0.1 * 29.0)


def test_gradient_leader_noise_and_validation():
    game = Duopoly()
    a = SGALeader(game, 0.1, noise_std=2.0, num_envs=4, init=[10.0])
    a.reset(seed=1)
    a.observe(np.zeros(4), np.full((4, 1), 5.0))
    assert np.ptp(a.strategy) > 0  # rows get independent noise
    with pytest.raises(ValueError, match="noise_std"):
        SGALeader(game, 0.1, noise_std=-1.0)
    with pytest.raises(TypeError, match="Game"):
        HierarchicalGradientLeader(object(), 0.1)


def test_oracle_spsa_measures_the_hierarchical_payoff():
    # The follower sits far from r(x~); the oracle's step still uses f1(x~, r(x~)).
    game = Duopoly()
    leader = OracleSPSALeader(game, 0.01, 1.0, init=[20.0], check_assumptions=False)
    leader.reset(seed=0)
    x_t = leader.act(None)
    leader.observe(float(game.leader_payoff(x_t, np.array([40.0]))) + 0.25, np.array([40.0]))
    s = float(game.hierarchical_payoff(x_t)) + 0.25  # the noise w = 0.25 is kept
    assert leader.strategy[0] == pytest.approx(20.0 + 0.01 * s / (x_t[0] - 20.0), rel=1e-13)


def test_oracle_spsa_equals_hic_against_a_best_response_follower():
    # With k = 2 a best-response follower plays r(x~_n) at the last stage of every interval,
    # so Hi-C's measurement is the oracle's and, with the same seed, the runs are identical.
    game, S, stages = Duopoly(), 8, 2000
    kw = presets.hic_leader_kwargs(game)
    kw = {k: kw[k] for k in ("step_size", "perturbation", "baseline")}
    box = spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)
    hic = HiCLeader(box, commitment=2, num_envs=S, **kw)
    oracle = OracleSPSALeader(game, commitment=2, num_envs=S, **kw)
    h1 = run_batch(game, hic, BestResponseFollower(game, num_envs=S), stages, seed=3)
    h2 = run_batch(game, oracle, GradientAscentFollower(game, 0.01, num_envs=S), stages, seed=3)
    assert np.array_equal(h1.leader_strategies, h2.leader_strategies)
    # And Hi-C with k = 1 against the same oracle follower is *not* the oracle: the follower
    # has not yet seen x~_n at the interval's only stage.
    hic1 = HiCLeader(box, commitment=1, num_envs=S, **kw)
    h3 = run_batch(game, hic1, BestResponseFollower(game, num_envs=S), stages, seed=3)
    assert np.all(np.abs(h3.final_leader - game.nash().x) < np.abs(h3.final_leader - 24.5))


def test_oracle_spsa_converges_and_rejects_average_last():
    # Budget: 3000 updates (k = 1), 12 seeds, Duopoly preset schedules with the baseline.
    # Tolerance: |x - x*| < 1e-3 for every seed.
    game = Duopoly()
    kw = presets.hic_leader_kwargs(game)
    kw = {k: kw[k] for k in ("step_size", "perturbation", "baseline")}
    oracle = OracleSPSALeader(game, num_envs=SEEDS, **kw)
    follower = GradientAscentFollower(game, 0.1, num_envs=SEEDS)
    x = _final(game, oracle, follower, 3000)
    assert np.all(game.distance_to_stackelberg(x) < 1e-3)
    with pytest.raises(ValueError, match="average_last"):
        OracleSPSALeader(game, 0.1, 0.1, average_last=3)
