"""Game-specific behaviour: the properties each game is in the library for, and its
argument validation."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from scipy import optimize

from hic_envs.games import (
    CooperativeGame,
    CustomGame,
    DiracGAN,
    Duopoly,
    Game,
    NonlinearGame,
    QuadraticGame,
    RandomQuadraticGame,
    SecurityGame,
    ZeroSumNoNash,
)

# ---------------------------------------------------------------------------- quadratic


@pytest.mark.parametrize("k, lam, t, s", [(1.0, 1.0, 3.0, -1.0), (-0.5, 2.0, 1.0, 0.5)])
def test_quadratic_closed_forms(k, lam, t, s):
    game = QuadraticGame(k=k, lam=lam, t=t, s=s)
    x = np.linspace(-3, 3, 7)[:, None]
    expected = -0.5 * (k * x[:, 0] - t) ** 2 - 0.5 * lam * (x[:, 0] - s) ** 2
    np.testing.assert_allclose(game.hierarchical_payoff(x), expected, atol=1e-12)
    assert game.stackelberg().x[0] == pytest.approx((k * t + lam * s) / (k**2 + lam))
    assert game.nash().x[0] == pytest.approx(s)


def test_quadratic_nash_outside_the_box_is_none():
    assert QuadraticGame(s=5.0, t=3.0, bound=4.5).nash() is None


# ---------------------------------------------------------------------------- zero-sum


def test_zero_sum_hierarchical_objective_and_no_nash():
    game = ZeroSumNoNash()
    x = np.linspace(-1, 1, 5)[:, None]
    np.testing.assert_allclose(game.hierarchical_payoff(x), -1.5 * x[:, 0] ** 2, atol=1e-12)
    np.testing.assert_allclose(game.best_response(x), 2 * x)
    y = np.zeros_like(x)
    np.testing.assert_allclose(game.leader_payoff(x, y) + game.follower_payoff(x, y), 0)
    # The only stationary point is a minimum of f1 in x, so not a DNE.
    assert game.nash() is None
    assert Game._nash(game) is None


def test_zero_sum_defeats_simultaneous_gradient_ascent():
    game = ZeroSumNoNash()
    x, y = np.array([0.1]), np.array([0.0])
    for _ in range(500):
        x, y = x + 0.05 * game.leader_grad(x, y), y + 0.05 * game.follower_grad(x, y)
    assert np.hypot(x[0], y[0]) > 0.1  # spirals outwards, never reaching the DSE (0, 0)


def test_zero_sum_with_negative_a_has_a_nash_equilibrium():
    ne = ZeroSumNoNash(a=-1.0, b=1.0, c=2.0).nash()
    assert ne is not None
    np.testing.assert_allclose(ne.x, 0)


# ---------------------------------------------------------------------------- cooperative


def test_cooperative_commitment_helps_both_players():
    game = CooperativeGame()
    dse, ne = game.stackelberg(), game.nash()
    assert (dse.leader_payoff, dse.follower_payoff) == pytest.approx((5.0, 8.5))
    assert (ne.leader_payoff, ne.follower_payoff) == pytest.approx((4.0, 4.0))
    for params in [dict(v=2.0, s=1.0, alpha=3.0, beta=0.8), dict(s=0.1), dict(s=0.7)]:
        g = CooperativeGame(**params)
        assert g.stackelberg().leader_payoff > g.nash().leader_payoff
        assert g.stackelberg().follower_payoff > g.nash().follower_payoff


def test_cooperative_without_complementarity_has_dse_equal_to_nash():
    game = CooperativeGame(s=0.0)
    np.testing.assert_allclose(game.stackelberg().x, game.nash().x)


# ---------------------------------------------------------------------------- Dirac-GAN


def test_dirac_gan_hierarchical_objective_and_gradient_ascent():
    game = DiracGAN(c=1.0, gamma=1.0)
    theta = np.linspace(-2, 2, 9)[:, None]
    np.testing.assert_allclose(
        game.hierarchical_payoff(theta), -((1.0 - theta[:, 0]) ** 2) / 2, atol=1e-12
    )
    # The regularised game is a damped oscillator: SGA converges to (c, 0) ...
    x, y = np.array([-1.0]), np.array([2.0])
    for _ in range(3000):
        x, y = x + 0.05 * game.leader_grad(x, y), y + 0.05 * game.follower_grad(x, y)
    np.testing.assert_allclose([x[0], y[0]], [1.0, 0.0], atol=1e-6)
    # ... which is not a differential Nash equilibrium: f1 is linear in theta.
    assert game.nash() is None
    assert Game._nash(game) is None


# ---------------------------------------------------------------------------- security


def test_security_best_response_is_the_quantal_response():
    game = SecurityGame()
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (10, 3))
    y = game.best_response(x)
    p = game.attack_distribution(y)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)
    np.testing.assert_allclose(p, game.quantal_response(x), atol=1e-14)
    # More coverage on a target deflects attacks from it.
    x2 = x.copy()
    x2[:, 0] += 0.1
    assert np.all(game.quantal_response(x2)[:, 0] < game.quantal_response(x)[:, 0])


def test_security_leader_payoff_is_expected_utility_minus_costs():
    game = SecurityGame(coverage_cost=0.2, budget=0.5, budget_penalty=3.0)
    x = np.array([0.3, 0.4, 0.2])
    y = np.array([1.0, 2.0, 1.0])
    p = y / y.sum()
    u_d = x * game.defender_reward + (1 - x) * game.defender_penalty
    expected = p @ u_d - 0.1 * (x @ x) - 1.0 * (x.sum() - 0.5) ** 3
    assert game.leader_payoff(x, y) == pytest.approx(expected)
    # Under budget, no budget penalty.
    x = x / 10
    u_d = x * game.defender_reward + (1 - x) * game.defender_penalty
    assert game.leader_payoff(x, y) == pytest.approx(p @ u_d - 0.1 * (x @ x))


def test_security_defaults_interpolate_for_other_n():
    game = SecurityGame(n=5)
    assert game.d1 == game.d2 == 5
    assert game.attacker_reward[0] == 1.0 and game.attacker_reward[-1] == 0.5
    assert np.all(np.diff(game.attacker_reward) < 0)


def test_security_dse_differs_from_nash():
    game = SecurityGame()
    dse, ne = game.stackelberg(), game.nash()
    assert np.linalg.norm(dse.x - ne.x) > 0.05
    assert dse.leader_payoff > ne.leader_payoff
    assert SecurityGame(coverage_cost=0.0).nash() is None


# ---------------------------------------------------------------------------- random quadratic


def test_random_quadratic_is_reproducible_and_uses_its_own_generator():
    # The legacy global generator must not move: the game draws from its own generator.
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    a = RandomQuadraticGame(3, 4, seed=7)
    b = RandomQuadraticGame(3, 4, seed=7)
    c = RandomQuadraticGame(3, 4, seed=8)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    for name in "ABCGHach":
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.allclose(a.H, c.H)
    assert np.allclose(a.stackelberg().x, b.stackelberg().x)


def test_random_quadratic_matrices_are_read_only():
    game = RandomQuadraticGame(2, 3)
    x, y = np.zeros((4, 2)), np.zeros((4, 3))
    for arr in (game.A, game.H, game.follower_hess_yy(x, y), game.follower_hess_yx(x, y)):
        with pytest.raises(ValueError):
            arr[(0,) * arr.ndim] = 1.0


def test_random_quadratic_eigenvalues_hit_mu_and_K2():
    game = RandomQuadraticGame(3, 6, seed=2, mu=0.5, K2=8.0)
    eig = np.linalg.eigvalsh(game.H)
    assert eig.min() == pytest.approx(0.5) and eig.max() == pytest.approx(8.0)
    assert np.linalg.eigvalsh(game.A).min() >= 0.5 - 1e-12


def test_random_quadratic_scales_to_256_dimensions():
    game = RandomQuadraticGame(256, 256, seed=0)
    dse = game.stackelberg()
    assert np.all(np.abs(dse.x) <= 0.5)
    assert np.abs(game.hierarchical_grad(dse.x)).max() < 1e-9
    assert np.abs(game.follower_grad(dse.x, dse.y)).max() < 1e-9
    assert np.linalg.eigvalsh(game.hierarchical_hess(dse.x)).max() < 0
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], size=(64, 256))  # corners of X
    r = game.best_response(x)
    assert np.all(r > game.follower_low) and np.all(r < game.follower_high)
    f1, f2 = game.payoffs(x, r)
    assert f1.shape == f2.shape == (64,)
    assert game.follower_hess_yy(x, r).shape == (64, 256, 256)


def test_random_quadratic_total_leader_grad_matches_the_base_formula():
    game = RandomQuadraticGame(4, 3, seed=5)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-1, 1, (6, 4)), rng.uniform(-1, 1, (6, 3))
    np.testing.assert_allclose(
        game.total_leader_grad(x, y), Game.total_leader_grad(game, x, y), atol=1e-12
    )


# ---------------------------------------------------------------------------- nonlinear


def test_nonlinear_newton_best_response_is_exact_on_a_large_batch():
    game = NonlinearGame(k=3.0, t=1.0, bound=5.0)
    x = np.concatenate([np.linspace(-5, 5, 10_001), [-5.0, 5.0, 0.0]])[:, None]
    y = game.best_response(x)
    assert np.abs(game.follower_grad(x, y)).max() < 1e-12
    assert np.all(np.abs(y) < 3.0) and np.all(np.diff(y[:-3, 0]) > 0)
    for xi in (-4.0, -0.3, 0.0, 2.5):
        root = optimize.brentq(lambda v, xi=xi: v + 3.0 * np.tanh(v - xi), -3.0, 3.0, xtol=1e-15)
        assert game.best_response(np.array([xi]))[0] == pytest.approx(root, abs=1e-13)


def test_nonlinear_dse_matches_an_independent_root_solve():
    game = NonlinearGame()
    root = optimize.brentq(lambda u: float(game.hierarchical_grad(np.array([u]))[0]), 0.0, 3.0)
    assert game.stackelberg().x[0] == pytest.approx(root, abs=1e-10)


# ---------------------------------------------------------------------------- validation

BAD_ARGS = [
    (QuadraticGame, dict(k=0.0), "k"),
    (QuadraticGame, dict(lam=-1.0), "lam"),
    (QuadraticGame, dict(m=0.0), "m"),
    (QuadraticGame, dict(t=float("nan")), "t"),
    (QuadraticGame, dict(t=30.0), "bound"),
    (ZeroSumNoNash, dict(c=0.0), "c"),
    (ZeroSumNoNash, dict(b=0.5), "b^2 > a c"),
    (ZeroSumNoNash, dict(bound=-1.0), "bound"),
    (CooperativeGame, dict(v=0.0), "v"),
    (CooperativeGame, dict(s=-0.1), "s"),
    (CooperativeGame, dict(s=1.0), "2 s^2 < alpha beta"),
    (CooperativeGame, dict(alpha=float("inf")), "alpha"),
    (DiracGAN, dict(gamma=0.0), "gamma"),
    (DiracGAN, dict(c="1"), "c"),
    (SecurityGame, dict(n=1), "n"),
    (SecurityGame, dict(n=2.5), "n"),
    (SecurityGame, dict(tau=0.0), "tau"),
    (SecurityGame, dict(defender_reward=[1.0, 2.0]), "defender_reward"),
    (SecurityGame, dict(attacker_penalty=2.0), "attacker_reward > attacker_penalty"),
    (SecurityGame, dict(coverage_cost=-1.0), "coverage_cost"),
    (SecurityGame, dict(tau=1e-3), "overflow"),
    (RandomQuadraticGame, dict(d1=0), "d1"),
    (RandomQuadraticGame, dict(seed=-1), "seed"),
    (RandomQuadraticGame, dict(seed=1.5), "seed"),
    (RandomQuadraticGame, dict(mu=2.0, K2=1.0), "K2 >= mu"),
    (RandomQuadraticGame, dict(coupling=-1.0), "coupling"),
    (NonlinearGame, dict(k=-1.0), "k"),
    (NonlinearGame, dict(t=1.5), "t"),
    (NonlinearGame, dict(t=[0.1, 0.2]), "t"),
    (NonlinearGame, dict(dim=0), "dim"),
    (NonlinearGame, dict(t=0.95, lam=1e-4, bound=1.0), "bound"),
    (Duopoly, dict(b=0.0), "b"),
]


@pytest.mark.parametrize("cls, kwargs, match", BAD_ARGS)
def test_bad_arguments_raise_value_error_naming_them(cls, kwargs, match):
    with pytest.raises(ValueError, match=match.replace("^", r"\^")):
        cls(**kwargs)


# ---------------------------------------------------------------------------- registration


def test_every_library_game_is_registered_with_an_alias_module():
    from hic_envs.registration import LIBRARY_GAMES, alias_module

    for env_id, target in LIBRARY_GAMES.items():
        module, _, attr = target.partition(":")
        cls = getattr(importlib.import_module(module), attr)
        assert issubclass(cls, Game) and cls is not CustomGame
        game = cls()
        assert env_id == f"hic/{game.name}-v0"
        # One module may hold several games (hic_envs.games.matrix): the alias is named after
        # the ID.
        alias = importlib.import_module(alias_module(env_id))
        assert callable(alias.env) and callable(alias.parallel_env) and callable(alias.raw_env)
    assert len(LIBRARY_GAMES) == 20
