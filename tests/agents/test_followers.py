"""Followers: one step by hand, rates, noise statistics, the oracle, entropic mirror ascent."""

import numpy as np
import pytest

from agents import (
    BestResponseFollower,
    EntropicMirrorFollower,
    GradientAscentFollower,
    StochasticGradientFollower,
)
from hic_envs.games import CustomGame, Duopoly, QuadraticGame, SecurityGame


def test_gradient_step_by_hand():
    # Duopoly: grad_y f2 = a - c2 - b x - 2 b y = 49 - x - 2 y.
    f = GradientAscentFollower(Duopoly(), 0.1, init=[5.0])
    f.reset(seed=0)
    f.observe(0.0, np.array([20.0]))
    assert f.strategy[0] == pytest.approx(5.0 + 0.1 * (49.0 - 20.0 - 10.0))


def test_gradient_follower_contracts_at_the_rate_of_proposition_4_9():
    # ||y_{t+k} - r(x)|| <= (1 - beta mu)^{k/2} ||y_t - r(x)|| (Eq. 22), here with beta mu = 0.2.
    game, beta, S = Duopoly(), 0.1, 16
    f = GradientAscentFollower(game, beta, num_envs=S)
    f.reset(seed=1)
    x = np.random.default_rng(0).uniform(0, 49, size=(S, 1))
    r = game.best_response(x)
    e0 = np.abs(f.strategy - r)[:, 0]
    for k in range(1, 40):
        f.observe(np.zeros(S), x)
        ek = np.abs(f.strategy - r)[:, 0]
        assert np.all(ek <= (1 - beta * game.mu) ** (k / 2) * e0 + 1e-12)


def test_stochastic_follower_without_noise_is_the_gradient_follower():
    game = QuadraticGame()
    a = GradientAscentFollower(game, 0.2, num_envs=4)
    b = StochasticGradientFollower(game, 0.2, 0.0, num_envs=4)
    a.reset(seed=3)
    b.reset(seed=3)
    x = np.full((4, 1), 0.7)
    for _ in range(10):
        a.observe(np.zeros(4), x)
        b.observe(np.zeros(4), x)
    assert np.array_equal(a.strategy, b.strategy)


def test_stochastic_follower_noise_has_the_stated_scale():
    # One step from the same y: y1 - y0 = beta (grad + w), w ~ N(0, sigma^2).
    game, S, beta, sigma = QuadraticGame(), 20_000, 0.1, 3.0
    f = StochasticGradientFollower(game, beta, sigma, num_envs=S, init=[0.0])
    f.reset(seed=4)
    x = np.full((S, 1), 1.0)
    f.observe(np.zeros(S), x)
    step = f.strategy[:, 0] / beta
    grad = game.follower_grad(x, np.zeros((S, 1)))[0, 0]  # m k x = 1
    assert step.mean() == pytest.approx(grad, abs=4 * sigma / np.sqrt(S))
    assert step.std() == pytest.approx(sigma, rel=0.03)


def test_stochastic_follower_is_seeded():
    def run(seed):
        f = StochasticGradientFollower(QuadraticGame(), 0.1, 1.0, num_envs=3)
        f.reset(seed=seed)
        for _ in range(5):
            f.observe(np.zeros(3), np.ones((3, 1)))
        return f.strategy

    assert np.array_equal(run(7), run(7))
    assert not np.array_equal(run(7), run(8))


def test_best_response_follower_plays_r_of_the_last_observed_action():
    game = Duopoly()
    f = BestResponseFollower(game, init=[3.0])
    f.reset(seed=0)
    assert f.act(None)[0] == 3.0  # nothing observed yet: y_0
    f.observe(0.0, np.array([10.0]))
    assert f.act(None)[0] == pytest.approx((49.0 - 10.0) / 2.0)
    f.observe(0.0, np.array([24.5]))
    assert f.act(None)[0] == pytest.approx(12.25)


def test_best_response_follower_recomputes_only_rows_whose_leader_action_changed():
    class Counting(Duopoly):
        calls = 0

        def best_response(self, x):
            Counting.calls += np.asarray(x).shape[0]
            return super().best_response(x)

    game = Counting()
    f = BestResponseFollower(game, num_envs=4)
    f.reset(seed=0)
    x = np.array([[1.0], [2.0], [3.0], [4.0]])
    for _ in range(10):
        f.observe(np.zeros(4), x)  # a committing leader: one call per row
    assert Counting.calls == 4
    x2 = x.copy()
    x2[2] = 7.0
    f.observe(np.zeros(4), x2)
    assert Counting.calls == 5
    np.testing.assert_allclose(f.strategy[:, 0], (49.0 - x2[:, 0]) / 2.0)


def test_entropic_follower_contracts_in_log_space_on_the_security_game():
    # log y_{t+1} - log r = (1 - beta tau)(log y_t - log r) while no clipping happens.
    game, beta = SecurityGame(), 0.3
    f = EntropicMirrorFollower(game, beta, num_envs=5)
    f.reset(seed=0)
    x = np.random.default_rng(1).uniform(0, 1, size=(5, 3))
    log_r = np.log(game.best_response(x))
    e = np.log(f.strategy) - log_r
    for _ in range(30):
        f.observe(np.zeros(5), x)
        e_next = np.log(f.strategy) - log_r
        np.testing.assert_allclose(e_next, (1 - beta * game.tau) * e, atol=1e-12)
        e = e_next
    np.testing.assert_allclose(f.strategy, game.best_response(x), rtol=1e-4)


def _entropy_game():
    """Follower: f2 = y . u(x) - tau sum y log y on the simplex, u(x) = (x, 0, -x)."""
    tau = 0.5

    def u(x):
        return np.concatenate([x, np.zeros_like(x), -x], axis=-1)

    def f2(x, y):
        return np.sum(y * u(x), axis=-1) - tau * np.sum(y * np.log(y), axis=-1)

    def g2(x, y):
        return u(x) - tau * (np.log(y) + 1.0)

    def f1(x, y):
        return -np.sum((y - 1 / 3) ** 2, axis=-1) - x[..., 0] ** 2

    return (
        CustomGame(f1, f2, [-1.0], [1.0], [0.0] * 3, [1.0] * 3, follower_grad=g2, vectorized=True),
        tau,
        u,
    )


def test_entropic_follower_on_the_simplex_converges_to_the_softmax():
    game, tau, u = _entropy_game()
    f = EntropicMirrorFollower(game, 0.5, simplex=True)
    f.reset(seed=0)
    np.testing.assert_allclose(f.strategy, [1 / 3] * 3)  # uniform start
    x = np.array([0.8])
    for _ in range(200):
        f.observe(0.0, x)
        assert f.strategy.sum() == pytest.approx(1.0)
    z = np.exp(u(x) / tau)
    np.testing.assert_allclose(f.strategy, z / z.sum(), rtol=1e-8)


def test_entropic_follower_validation():
    with pytest.raises(ValueError, match="positive orthant"):
        EntropicMirrorFollower(QuadraticGame(), 0.1)
    with pytest.raises(ValueError, match="simplex"):
        EntropicMirrorFollower(SecurityGame(), 0.1, simplex=True)
    game, _, _ = _entropy_game()
    with pytest.raises(ValueError, match="probability vector"):
        EntropicMirrorFollower(game, 0.1, simplex=True, init=[0.5, 0.5, 0.5])


def test_follower_validation():
    with pytest.raises(TypeError, match="Game"):
        GradientAscentFollower("duopoly", 0.1)
    with pytest.raises(ValueError, match="noise_std"):
        StochasticGradientFollower(Duopoly(), 0.1, -1.0)
    with pytest.raises(ValueError, match="step_size"):
        GradientAscentFollower(Duopoly(), 0.0)
    with pytest.raises(RuntimeError, match="reset"):
        BestResponseFollower(Duopoly()).act(None)
