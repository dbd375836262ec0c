"""The published Hi-C code's games (Tandem, Hamiltonian), the 2x2 matrix games, Bimatrix and the
strong Stackelberg equilibrium: the properties each is in the library for, and validation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from hic_envs.games import (
    BattleOfSexes,
    Bimatrix,
    Chicken,
    Coordination,
    HamiltonianGame,
    MatchingPennies,
    PrisonersDilemma,
    StagHunt,
    TandemGame,
    strong_stackelberg,
)
from hic_envs.games import matrix as matrix_module


def test_tandem_best_response_and_boundary_stackelberg():
    game = TandemGame()
    x = np.array([[-4.0], [-3.5], [0.0], [2.0], [4.0]])
    np.testing.assert_allclose(game.best_response(x)[:, 0], [4.0, 4.0, 1.0, -1.0, -3.0])
    # f1(x, r(x)) = 2x - 1 on [-3, 4]: increasing, so the leader's best is the bound x = 4.
    xs = np.linspace(-3, 4, 8)[:, None]
    np.testing.assert_allclose(game.hierarchical_payoff(xs), 2 * xs[:, 0] - 1, atol=1e-12)
    dse = game.stackelberg()
    assert (dse.x[0], dse.y[0], dse.leader_payoff) == (4.0, -3.0, 7.0)
    # The whole line x + y = 1 consists of Nash points.
    for x0 in (-2.0, 0.5, 3.0):
        np.testing.assert_allclose(
            game.leader_grad(np.array([x0]), np.array([1 - x0])), 0, atol=1e-15
        )
        np.testing.assert_allclose(
            game.follower_grad(np.array([x0]), np.array([1 - x0])), 0, atol=1e-15
        )


def test_hamiltonian_reg_zero_is_the_published_game_and_refuses_r():
    game = HamiltonianGame(reg=0.0)
    x, y = np.array([1.5]), np.array([-2.0])
    assert game.leader_payoff(x, y) == -3.0 and game.follower_payoff(x, y) == 3.0
    assert game.mu is None and game.K2 is None
    for call in (
        lambda: game.best_response(x),
        lambda: game.hierarchical_payoff(x),
        lambda: game.hierarchical_grad(x),
        lambda: game.total_leader_grad(x, y),
        game.stackelberg,
    ):
        with pytest.raises(ValueError, match="reg > 0"):
            call()


@pytest.mark.parametrize("reg", [0.5, 1.0, 3.0])
def test_hamiltonian_hierarchical_objective(reg):
    game = HamiltonianGame(reg=reg)
    x = np.linspace(-1.9, 1.9, 7)[:, None]
    np.testing.assert_allclose(game.hierarchical_payoff(x), -(x[:, 0] ** 2) / reg, atol=1e-12)
    assert game.nash() is None and game.stackelberg().x[0] == 0.0


def test_published_matrices():
    np.testing.assert_array_equal(PrisonersDilemma().A, [[-1, -3], [0, -2]])
    np.testing.assert_array_equal(PrisonersDilemma().B, [[-1, 0], [-3, -2]])
    np.testing.assert_array_equal(MatchingPennies().A, [[1, -1], [-1, 1]])
    np.testing.assert_array_equal(MatchingPennies().B, [[-1, 1], [1, -1]])
    np.testing.assert_array_equal(Coordination().A, np.eye(2))
    np.testing.assert_array_equal(Coordination().B, np.eye(2))


@pytest.mark.parametrize(
    "cls", [PrisonersDilemma, MatchingPennies, Coordination, StagHunt, Chicken, BattleOfSexes]
)
def test_matrix_payoffs_are_expected_payoffs_plus_entropy(cls):
    game = cls(tau=0.7, leader_tau=0.3)
    rng = np.random.default_rng(0)
    p = rng.uniform(0.2, 0.8, 5)
    q = rng.uniform(0.2, 0.8, 5)
    P = np.stack([p, 1 - p], -1)
    Q = np.stack([q, 1 - q], -1)
    H = lambda z: -z * np.log(z) - (1 - z) * np.log(1 - z)  # noqa: E731
    f1 = np.einsum("si,ij,sj->s", P, game.A, Q) + 0.3 * H(p)
    f2 = np.einsum("si,ij,sj->s", P, game.B, Q) + 0.7 * H(q)
    np.testing.assert_allclose(game.leader_payoff(p[:, None], q[:, None]), f1, atol=1e-14)
    np.testing.assert_allclose(game.follower_payoff(p[:, None], q[:, None]), f2, atol=1e-14)
    # The best response is the logit response to the follower's payoff difference.
    u = np.einsum("si,ij->sj", P, game.B)
    np.testing.assert_allclose(
        game.best_response(p[:, None])[:, 0], 1 / (1 + np.exp(-(u[:, 0] - u[:, 1]) / 0.7))
    )


def test_matching_pennies_hierarchical_objective_is_minus_s_tanh():
    for tau in (0.3, 1.0):
        game = MatchingPennies(tau=tau)
        p = np.linspace(0.05, 0.95, 9)
        s = 2 * p - 1
        np.testing.assert_allclose(
            game.hierarchical_payoff(p[:, None]), -s * np.tanh(s / tau), atol=1e-12
        )


def test_strong_stackelberg_known_values():
    # Conitzer and Sandholm (2006): commit to 1/2, 1/2, the follower plays column 1, value 3.5.
    sse = strong_stackelberg([[2, 4], [1, 3]], [[1, 0], [0, 1]])
    np.testing.assert_allclose(sse.leader_mixed, [0.5, 0.5], atol=1e-9)
    assert sse.follower_action == 1 and sse.leader_value == pytest.approx(3.5)
    pd = PrisonersDilemma().strong_stackelberg()
    np.testing.assert_allclose(pd.leader_mixed, [0, 1], atol=1e-12)
    assert pd.leader_value == pytest.approx(-2.0)
    mp = MatchingPennies().strong_stackelberg()
    np.testing.assert_allclose(mp.leader_mixed, [0.5, 0.5], atol=1e-9)
    assert mp.leader_value == pytest.approx(0.0, abs=1e-12)
    bos = BattleOfSexes().strong_stackelberg()
    assert bos.follower_action == 0 and bos.leader_value == pytest.approx(2.0)


def test_strong_stackelberg_by_brute_force_on_random_games():
    rng = np.random.default_rng(1)
    grid = np.linspace(0, 1, 20001)
    for _ in range(5):
        A, B = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
        sse = strong_stackelberg(A, B)
        P = np.stack([grid, 1 - grid], -1)
        ub, ua = P @ B, P @ A
        best = ub.max(axis=1, keepdims=True)
        # Ties go the leader's way: the best leader payoff among the follower's best replies.
        value = np.where(ub >= best - 1e-12, ua, -np.inf).max(axis=1).max()
        assert sse.leader_value == pytest.approx(value, abs=1e-3)
        assert sse.leader_value >= value - 1e-9


def test_strong_stackelberg_checks_the_solver_status(monkeypatch):
    def broken(*args, **kwargs):
        return optimize.OptimizeResult(status=4, message="numerical difficulties", x=None)

    monkeypatch.setattr(matrix_module.scipy.optimize, "linprog", broken)
    with pytest.raises(RuntimeError, match="HiGHS failed"):
        strong_stackelberg([[1, 0], [0, 1]], [[1, 0], [0, 1]])


def test_regularised_dse_approaches_the_strong_stackelberg_equilibrium_as_tau_falls():
    sse = strong_stackelberg([[2, 4], [1, 3]], [[1, 0], [0, 1]])
    gaps, values = [], []
    for tau in (0.2, 0.05, 0.01, 0.002):
        game = Bimatrix(tau=tau)
        dse = game.stackelberg()
        pi = game.leader_mixed(dse.x)
        gaps.append(np.abs(pi - sse.leader_mixed).max())
        values.append(dse.leader_payoff)
        # The follower's mixture concentrates on the SSE's action.
        assert np.argmax(game.follower_mixed(dse.y)) == sse.follower_action
    assert all(a > b for a, b in zip(gaps, gaps[1:], strict=False))
    assert all(a < b for a, b in zip(values, values[1:], strict=False))
    assert gaps[-1] < 0.01 and values[-1] == pytest.approx(sse.leader_value, abs=0.01)


def test_bimatrix_parametrisation_and_best_response():
    game = Bimatrix(A=np.ones((3, 4)), B=np.arange(12.0).reshape(3, 4) % 5, tau=0.5)
    assert (game.d1, game.d2) == (2, 3)
    x = np.array([[0.3, -1.0], [2.0, 0.0]])
    pi = game.leader_mixed(x)
    np.testing.assert_allclose(pi[:, :2] / pi[:, 2:], np.exp(x))  # last logit fixed at 0
    sigma = game.follower_mixed(game.best_response(x))
    v = pi @ game.B / 0.5
    np.testing.assert_allclose(sigma, np.exp(v) / np.exp(v).sum(-1, keepdims=True))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: MatchingPennies(tau=0.0), "tau"),
        (lambda: MatchingPennies(leader_tau=-1.0), "leader_tau"),
        (lambda: PrisonersDilemma(A=[[1, 2, 3], [4, 5, 6]], B=[[1, 2, 3], [4, 5, 6]]), "2x2"),
        (lambda: Bimatrix(A=[[1, 2]], B=[[1, 2]]), "at least 2 rows"),
        (lambda: Bimatrix(A=np.eye(2), B=np.eye(3)), "same shape"),
        (lambda: Bimatrix(A=[[1, np.nan], [0, 1]]), "finite"),
        (lambda: Bimatrix(tau=1e-4), "too small"),
        (lambda: Bimatrix(leader_bound=0), "leader_bound"),
        (lambda: HamiltonianGame(reg=-1), "reg"),
        (lambda: StagHunt(tau=1e-3), "too small"),
    ],
)
def test_bad_arguments_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()
