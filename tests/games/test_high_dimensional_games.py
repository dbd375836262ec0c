"""The high-dimensional games: the covariance GAN and the random quadratic game at large d.

Their closed forms are checked against numbers computed another way: Hessian-vector products
against dense Hessians (central differences of the analytic gradients, exact up to rounding
for these games, whose gradients are at most quadratic), the best response and the DSE against
the base class's numeric solvers, the distance to the solution set against SciPy's orthogonal
Procrustes solver, and the covariance S against the published notebook's draw.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes

from hic_envs.games import CovarianceGAN, Game, RandomQuadraticGame
from hic_envs.games.base import _fd_jacobian

SEEDS = [0, 1, 2]
BLOCKS = ("xx", "xy", "yx", "yy")


def _grad(game: Game, player: str, a: str):
    """``grad_a f_player`` as a function of ``(x, y)``."""
    return {
        ("leader", "x"): game.leader_grad,
        ("leader", "y"): game.leader_grad_y,
        ("follower", "x"): game.follower_grad_x,
        ("follower", "y"): game.follower_grad,
    }[(player, a)]


def _dense_block(game: Game, player: str, block: str, x, y) -> np.ndarray:
    """``d^2 f / da db`` by central differences of the analytic ``grad_a f``: ``(.., d_a, d_b)``."""
    g = _grad(game, player, block[0])
    if block[1] == "x":
        return _fd_jacobian(lambda z: g(z, y), x, np.ones(game.d1))
    return _fd_jacobian(lambda z: g(x, z), y, np.ones(game.d2))


def _games():
    out = {}
    for seed in SEEDS:
        for d in (1, 2, 3):
            out[f"cov-d{d}-s{seed}"] = lambda d=d, seed=seed: CovarianceGAN(d=d, seed=seed)
        out[f"rq-3x4-s{seed}"] = lambda seed=seed: RandomQuadraticGame(3, 4, seed=seed)
    out["cov-d5-lam0.5"] = lambda: CovarianceGAN(d=5, seed=3, lam=0.5)
    return out


GAMES = _games()


@pytest.mark.parametrize("name", list(GAMES))
def test_hvps_equal_dense_hessians_times_v(name):
    game = GAMES[name]()
    rng = np.random.default_rng(0)
    x = rng.uniform(game.leader_low, game.leader_high, (4, game.d1)) * 0.5
    y = rng.uniform(game.follower_low, game.follower_high, (4, game.d2)) * 0.5
    for player in ("leader", "follower"):
        for block in BLOCKS:
            n = game.d1 if block[1] == "x" else game.d2
            v = rng.normal(size=(4, n))
            dense = _dense_block(game, player, block, x, y)
            want = np.einsum("...ij,...j->...i", dense, v)
            got = game.payoff_hvp(player, block, x, y, v)
            scale = max(1.0, float(np.abs(dense).max()))
            # Differences of gradients at most quadratic: rounding error ~1e-10 of the scale.
            np.testing.assert_allclose(got, want, atol=1e-7 * scale, err_msg=player + block)
            # One direction against a batch of points broadcasts.
            assert game.payoff_hvp(player, block, x, y, v[0]).shape == got.shape


@pytest.mark.parametrize("name", list(GAMES))
def test_follower_grad_x_matches_differences(name):
    game = GAMES[name]()
    rng = np.random.default_rng(1)
    x = rng.uniform(game.leader_low, game.leader_high, (3, game.d1)) * 0.5
    y = rng.uniform(game.follower_low, game.follower_high, (3, game.d2)) * 0.5
    want = _fd_jacobian(lambda z: game.follower_payoff(z, y), x, np.ones(game.d1))
    scale = max(1.0, float(np.abs(game.follower_payoff(x, y)).max()))
    np.testing.assert_allclose(game.follower_grad_x(x, y), want, rtol=1e-6, atol=1e-8 * scale)


def test_hvp_input_is_validated():
    for game in (CovarianceGAN(2), RandomQuadraticGame(2, 3)):
        z1, z2 = np.zeros(game.d1), np.zeros(game.d2)
        with pytest.raises(ValueError, match="block"):
            game.payoff_hvp("leader", "zz", z1, z2, z1)
        with pytest.raises(ValueError, match="player"):
            game.payoff_hvp("critic", "xx", z1, z2, z1)
        with pytest.raises(ValueError, match="shape"):
            game.payoff_hvp("leader", "xy", z1, z2, np.zeros(game.d2 + 1))


# ---------------------------------------------------------------------------- covariance GAN


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("d", [3, 9, 25])
def test_covariance_is_the_notebooks_draw(d, seed):
    u = np.random.RandomState(seed).randn(d, d)
    game = CovarianceGAN(d=d, seed=seed)
    np.testing.assert_array_equal(game.S, u @ u.T * 0.5 + (u @ u.T).T * 0.5)
    np.testing.assert_allclose(game.S_sqrt @ game.S_sqrt, game.S, rtol=1e-10, atol=1e-10)
    assert game.d1 == game.d2 == d * d
    assert game.reg == pytest.approx(0.2 * d)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("d", [2, 3])
def test_covariance_best_response_and_dse_match_numeric_solvers(d, seed):
    game = CovarianceGAN(d=d, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(game.leader_low, game.leader_high, (3, game.d1))
    np.testing.assert_allclose(game.best_response(x), Game.best_response(game, x), atol=1e-6)
    # The numeric DSE (L-BFGS-B on f1(x, r(x)) from the base class's starts) is some member of
    # the solution set: at distance ~0 from it, with payoff 0.
    numeric = Game._stackelberg(game)
    assert game.distance_to_stackelberg(numeric.x) < 1e-4
    assert game.covariance_error(numeric.x) < 1e-6
    assert numeric.leader_payoff == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_member_of_the_solution_manifold_is_a_dse(seed):
    d = 4
    game = CovarianceGAN(d=d, seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        x = (game.S_sqrt @ q).ravel()
        assert game.distance_to_stackelberg(x) < 1e-12
        assert game.covariance_error(x) < 1e-12
        np.testing.assert_allclose(game.best_response(x), 0.0, atol=1e-12)
        np.testing.assert_allclose(game.hierarchical_grad(x), 0.0, atol=1e-11)
        eig = np.linalg.eigvalsh(game.hierarchical_hess(x))
        # Zero along the d(d-1)/2 directions of the orthogonal group, negative across them.
        assert np.sum(np.abs(eig) < 1e-9) == game.dse_set_dimension
        assert eig.max() < 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_distance_is_the_orthogonal_procrustes_distance(seed):
    game = CovarianceGAN(d=3, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(5, 9))
    want = []
    for xi in x:
        v = xi.reshape(3, 3)
        q, _ = orthogonal_procrustes(game.S_sqrt, v)
        want.append(np.linalg.norm(v - game.S_sqrt @ q))
    np.testing.assert_allclose(game.distance_to_stackelberg(x), want, rtol=1e-10)
    np.testing.assert_allclose(
        game.covariance_error(x),
        [np.linalg.norm(xi.reshape(3, 3) @ xi.reshape(3, 3).T - game.S) for xi in x],
        rtol=1e-12,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_hierarchical_hess_matches_differences(seed):
    game = CovarianceGAN(d=3, seed=seed)
    x = np.random.default_rng(seed).normal(size=(2, 9))
    fd = _fd_jacobian(game.hierarchical_grad, x, np.ones(9))
    h = game.hierarchical_hess(x)
    np.testing.assert_allclose(h, fd, atol=1e-6 * np.abs(h).max())


@pytest.mark.parametrize("seed", SEEDS)
def test_hierarchical_gradient_ascent_reaches_the_solution_set(seed):
    # Behaviour on the game's own terms: ascent on f1(V, r(V)) with the closed-form gradient
    # (Eq. 7 at the best response) from the notebook's V0 ~ N(0, 1) reaches the manifold.
    # Budget 20_000 steps of 2e-3 at d = 9: the paper's ||V V^T - S||_F falls below 1e-3 of
    # ||S||_F and the distance to the set below 5% of its start. (Not to 0 for every seed:
    # S = U U^T has eigenvalues down to about 1e-2 for seeds 0 and 2, so the slowest direction
    # contracts by about 1e-4 per step; seed 1 reaches 1e-13.)
    game = CovarianceGAN(d=9, seed=seed)
    x = np.random.default_rng(seed).normal(size=81)
    start = game.distance_to_stackelberg(x)
    for _ in range(20_000):
        x = x + 2e-3 * game.hierarchical_grad(x)
    assert game.covariance_error(x) < 1e-3 * np.linalg.norm(game.S)
    assert game.distance_to_stackelberg(x) < 0.05 * start


def test_d25_has_625_parameters_and_cheap_derivatives():
    game = CovarianceGAN(d=25)
    assert game.d1 == game.d2 == 625
    rng = np.random.default_rng(0)
    x, y, v = rng.normal(size=(3, 32, 625))
    t = time.perf_counter()
    for _ in range(10):
        game.payoff_hvp("follower", "yx", x, y, v)
        game.total_leader_grad(x, y)
    # Matrix products of 25 x 25: far below a dense 625 x 625 solve per row (a generous bound
    # for a loaded machine; the measured time is about a millisecond).
    assert (time.perf_counter() - t) / 10 < 0.5
    want = np.einsum("...ij,...j->...i", game.follower_hess_yx(x[:2], y[:2]), v[:2])
    np.testing.assert_allclose(game.payoff_hvp("follower", "yx", x[:2], y[:2], v[:2]), want)


# ---------------------------------------------------------------------------- random quadratic


@pytest.mark.slow
def test_random_quadratic_at_d_1000():
    t = time.perf_counter()
    game = RandomQuadraticGame(1000, 1000, seed=0)
    built = time.perf_counter() - t
    dse = game.stackelberg()
    ne = game.nash()
    # The DSE solves M x* = rhs: the hierarchical gradient vanishes there.
    assert np.abs(game.hierarchical_grad(dse.x)).max() < 1e-9
    assert ne is None or np.abs(game.leader_grad(ne.x, ne.y)).max() < 1e-9
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, 1000))
    y = game.best_response(x)
    v = rng.normal(size=(4, 1000))
    np.testing.assert_allclose(game.payoff_hvp("follower", "yy", x, y, v), -(v @ game.H))
    np.testing.assert_allclose(game.payoff_hvp("leader", "xy", x, y, v), v @ game.B.T)
    np.testing.assert_allclose(game.follower_grad(x, y), 0.0, atol=1e-9)
    assert built < 60.0  # O(d^3) once at construction: seconds, not minutes
