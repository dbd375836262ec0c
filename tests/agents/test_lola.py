"""LOLALeader: its update against hand computations, and where it goes."""

import numpy as np
import pytest

from agents import GradientAscentFollower
from agents.compose import run_batch
from agents.lola import LOLALeader, lola_leader
from hic_envs.games import Duopoly, HamiltonianGame, QuadraticGame, TandemGame


@pytest.mark.parametrize("correction", [True, False])
def test_update_equals_the_hand_computation_on_the_tandem_game(correction):
    # f1 = 2x - s^2, f2 = 2y - s^2 with s = x + y: grad_x f1 = 2 - 2s, grad_y f1 = -2s,
    # grad_y f2 = 2 - 2s, grad_yx f2 = grad_yx f1 = -2. With eta = 0.3, alpha = 0.05:
    # corrected: g = 2 - 2s + eta [(-2)(-2s) + (-2)(2 - 2s)] = 2 - 2s + eta (8s - 4)
    # original:  g = 2 - 2s + eta 4s
    game = TandemGame()
    leader = LOLALeader(game, 0.05, lookahead=0.3, correction=correction, init=[0.5], seed=0)
    leader.reset()
    x, y = 0.5, 0.25
    assert leader.act(np.array([y]))[0] == x
    leader.observe(0.0, np.array([y]))
    s = x + y
    g = 2 - 2 * s + 0.3 * ((8 * s - 4) if correction else 4 * s)
    assert leader.strategy[0] == pytest.approx(x + 0.05 * g, rel=1e-14)
    assert leader.coupled and leader.updates == 1


def test_update_on_a_quadratic_game_with_matrices():
    # Quadratic game: f1 = -(y - t)^2 / 2 - lam (x - s)^2 / 2, f2 = -m (y - k x)^2 / 2.
    game = QuadraticGame(k=-0.5, lam=2.0, t=1.0, s=0.5, m=3.0)
    leader = LOLALeader(game, 0.1, lookahead=0.7, num_envs=2, init=[[0.2], [-1.0]], seed=0)
    leader.reset()
    x = np.array([0.2, -1.0])
    y = np.array([0.4, 0.9])
    leader.observe(np.zeros(2), y[:, None])
    g1x = -2.0 * (x - 0.5)
    g1y = -(y - 1.0)
    hyx2 = 3.0 * -0.5  # grad_yx f2 = m k
    expected = x + 0.1 * (g1x + 0.7 * hyx2 * g1y)  # grad_yx f1 = 0: the forms agree
    np.testing.assert_allclose(leader.strategy[:, 0], expected, rtol=1e-13)


@pytest.mark.parametrize("eta", [0.1, 1.0 / 3.0, 1.0])
def test_fixed_point_on_the_quadratic_game(eta):
    # With the follower at r(x) = k x, g = -lam (x - s) - eta m k (k x - t) = 0 at
    # x_L = (lam s + eta m k t) / (lam + eta m k^2); with eta = 1 / m it is the DSE
    # (k t + lam s) / (k^2 + lam).
    k, lam, t, s, m = 1.0, 1.0, 3.0, -1.0, 3.0
    game = QuadraticGame(k=k, lam=lam, t=t, s=s, m=m)
    x_l = (lam * s + eta * m * k * t) / (lam + eta * m * k**2)
    leader = LOLALeader(game, 0.05, lookahead=eta, num_envs=10)
    follower = GradientAscentFollower(game, 0.3, num_envs=10)
    hist = run_batch(game, leader, follower, 3000, seed=0, record="none")
    np.testing.assert_allclose(hist.final_leader[:, 0], x_l, atol=1e-8)
    if eta == pytest.approx(1 / m):
        np.testing.assert_allclose(hist.final_leader[:, 0], game.stackelberg().x[0], atol=1e-8)
    else:
        assert abs(x_l - game.stackelberg().x[0]) > 0.1  # elsewhere LOLA misses the DSE


def test_lola_reaches_the_hamiltonian_dse():
    # g = y - eta (2x + reg y): with y = -x / reg it is -x (1 / reg + eta): x* = 0.
    game = HamiltonianGame(reg=1.0)
    leader = LOLALeader(game, 0.05, lookahead=0.5, num_envs=10)
    follower = GradientAscentFollower(game, 0.5, num_envs=10)
    hist = run_batch(game, leader, follower, 2000, seed=1, record="none")
    np.testing.assert_allclose(hist.final_leader, 0.0, atol=1e-8)


@pytest.mark.parametrize(("eta", "x_end"), [(1.0, None), (0.5, 24.5), (0.25, 19.6)])
def test_where_lola_goes_on_the_duopoly(eta, x_end):
    # f1 = x (50 - x - y) - x, f2 = y (50 - x - y) - y: grad_x f1 = 49 - 2x - y, grad_y f1 = -x,
    # grad_y f2 = 49 - x - 2y, grad_yx f1 = grad_yx f2 = -1. Corrected LOLA:
    # g = 49 - 2x - y + eta (x - (49 - x - 2y)) = (1 - eta) 49 - 2 (1 - eta) x - (1 - 2 eta) y.
    # eta = 1 (the catalog's default): g = y >= 0, so x climbs until y = r(x) = 0, at x >= 49
    # (to the box's edge 50 when it overshoots, and against a noisy follower, whose y >= 0);
    # eta = 1/2 (the Newton step for grad_yy f2 = -2): g = 24.5 - x, the DSE;
    # eta = 1/4 with y = r(x) = (49 - x) / 2: g = 24.5 - 1.25 x = 0 at x = 19.6.
    game = Duopoly()
    leader = lola_leader(game, 8, {"lookahead": eta, "seed": 3})
    follower = GradientAscentFollower(game, 0.1, num_envs=8)
    hist = run_batch(game, leader, follower, 5000, seed=3, record="none")
    x = hist.final_leader[:, 0]
    if x_end is None:
        assert np.all((x >= 49.0 - 1e-6) & (x <= 50.0)), x
        assert np.all(hist.final_follower[:, 0] <= 1e-6), hist.final_follower
    else:
        np.testing.assert_allclose(x, x_end, atol=1e-6)


def test_factory_and_validation():
    game = QuadraticGame()
    agent = lola_leader(game, 4, {"lookahead": 0.5, "correction": False})
    assert agent.num_envs == 4 and agent.lookahead == 0.5 and not agent.correction
    assert agent.step_size.value > 0  # the gradient baselines' 0.1 / H
    with pytest.raises(ValueError, match="do not apply"):
        lola_leader(game, None, {"baseline": 0.9})
    with pytest.raises(ValueError, match="lookahead"):
        LOLALeader(game, 0.1, lookahead=0.0)
    with pytest.raises(TypeError, match="correction"):
        LOLALeader(game, 0.1, correction="yes")
