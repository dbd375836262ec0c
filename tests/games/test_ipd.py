"""The iterated Prisoner's Dilemma (LOLA's exact IPD): the chain, its conventions, the exact
derivatives, the numeric best response and the DSE's conditions."""

from __future__ import annotations

import numpy as np
import pytest

from hic_envs.games import IteratedPrisonersDilemma
from hic_envs.games.ipd import OWN_TO_LEADER

TFT = np.array([1.0, 1.0, 0.0, 1.0, 0.0])
ALLC = np.ones(5)
ALLD = np.zeros(5)
WSLS = np.array([1.0, 1.0, 0.0, 0.0, 1.0])


@pytest.fixture(scope="module")
def game() -> IteratedPrisonersDilemma:
    return IteratedPrisonersDilemma()


@pytest.fixture(scope="module")
def small_tau() -> IteratedPrisonersDilemma:
    return IteratedPrisonersDilemma(tau=0.5, discount=0.9)


def values(game, x, y) -> np.ndarray:
    """Both players' normalised values without the entropy bonuses."""
    return game._values(np.asarray(x, float), np.asarray(y, float))


def truncated_sum(game, x, y, horizon: int = 3000) -> np.ndarray:
    """``(1 - gamma) sum_{t < horizon} gamma^t E[r(s_t)]`` by pushing the outcome distribution
    forward stage by stage (no linear solve), from the strategies' own definition."""
    g = game.discount
    q = np.asarray(y, float)[OWN_TO_LEADER]
    p = np.asarray(x, float)

    def outcome(a, b):
        return np.array([a * b, a * (1 - b), (1 - a) * b, (1 - a) * (1 - b)])

    d = outcome(p[0], q[0])
    P = np.stack([outcome(p[1 + s], q[1 + s]) for s in range(4)])
    total, w = np.zeros(2), 1.0
    R = np.stack([game.r1, game.r2], axis=-1)
    for _ in range(horizon):
        total += w * d @ R
        d = d @ P
        w *= g
    return (1 - g) * total


# ---------------------------------------------------------------------------- conventions


def test_known_values_of_classic_strategy_pairs(game):
    # LOLA's per-stage payoffs: mutual cooperation -1, mutual defection -2, the sucker -3.
    np.testing.assert_allclose(values(game, TFT, TFT), [-1.0, -1.0], atol=1e-14)
    np.testing.assert_allclose(values(game, ALLD, ALLD), [-2.0, -2.0], atol=1e-14)
    np.testing.assert_allclose(values(game, ALLC, ALLD), [-3.0, 0.0], atol=1e-14)
    np.testing.assert_allclose(values(game, ALLD, ALLC), [0.0, -3.0], atol=1e-14)
    g = game.discount
    # Against tit-for-tat, defecting forever earns 0 once, then -2: (1 - g)(0 - 2g / (1 - g)).
    np.testing.assert_allclose(values(game, TFT, ALLD), [-3 * (1 - g) - 2 * g, -2 * g])
    # ... so cooperating is the unregularised follower's best reply to tit-for-tat at g = 0.96.
    assert values(game, TFT, ALLC)[1] > values(game, TFT, ALLD)[1]
    # Win-stay-lose-shift against itself cooperates forever as well.
    np.testing.assert_allclose(values(game, WSLS, WSLS), [-1.0, -1.0], atol=1e-14)


def test_own_perspective_convention_makes_the_game_symmetric(game):
    # Each player's vector is read from its own side, so swapping the players swaps the values.
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (2, 16, 5))
    np.testing.assert_allclose(values(game, x, y), values(game, y, x)[..., ::-1], atol=1e-13)
    # The follower defects on move one against an always-cooperating leader: the outcome is
    # CD from the leader's side, DC (own D, other C) from the follower's, whose entry y[3] = 1
    # makes it cooperate; mutual cooperation follows forever. (Read in the leader's order,
    # y[2] = 0 would have it defect again.)
    g = game.discount
    np.testing.assert_allclose(
        values(game, ALLC, [0.0, 1.0, 0.0, 1.0, 1.0]),
        [-3 * (1 - g) - g, -g],
        atol=1e-14,
    )


@pytest.mark.parametrize("discount", [0.5, 0.96])
def test_linear_solve_matches_the_truncated_discounted_sum(discount):
    game = IteratedPrisonersDilemma(discount=discount)
    rng = np.random.default_rng(1)
    for _ in range(5):
        x, y = rng.uniform(0, 1, (2, 5))
        np.testing.assert_allclose(values(game, x, y), truncated_sum(game, x, y), atol=1e-12)
    np.testing.assert_allclose(values(game, TFT, WSLS), truncated_sum(game, TFT, WSLS), atol=1e-12)


def test_payoffs_add_the_entropy_bonuses():
    game = IteratedPrisonersDilemma(tau=3.0, leader_tau=0.5)
    x, y = np.full(5, 0.5), np.full(5, 0.25)
    H = lambda z: -(z * np.log(z) + (1 - z) * np.log(1 - z))  # noqa: E731
    v = values(game, x, y)
    f1, f2 = game.payoffs(x, y)
    assert f1 == pytest.approx(v[0] + 0.5 * 5 * H(0.5), abs=1e-14)
    assert f2 == pytest.approx(v[1] + 3.0 * 5 * H(0.25), abs=1e-14)


# ---------------------------------------------------------------------------- derivatives


def _fd(fn, z, h=1e-6):
    cols = []
    for i in range(z.shape[-1]):
        e = np.zeros_like(z)
        e[..., i] = h
        cols.append((fn(z + e) - fn(z - e)) / (2 * h))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("kwargs", [{}, {"tau": 0.5, "discount": 0.9, "leader_tau": 0.3}])
def test_exact_derivatives_match_differences_near_deterministic_strategies(kwargs):
    # The ground-truth tests sample the inner 90% of the boxes; here strategies close to
    # pure ones, where the value's curvature is largest.
    game = IteratedPrisonersDilemma(**kwargs)
    rng = np.random.default_rng(2)
    x = np.clip(rng.choice([0.01, 0.99], (6, 5)) + rng.uniform(-0.005, 0.005, (6, 5)), 0, 1)
    y = np.clip(rng.choice([0.01, 0.99], (6, 5)) + rng.uniform(-0.005, 0.005, (6, 5)), 0, 1)
    pairs = [
        (game.leader_grad(x, y), _fd(lambda u: game.leader_payoff(u, y), x)),
        (game.follower_grad(x, y), _fd(lambda v: game.follower_payoff(x, v), y)),
        (game.leader_grad_y(x, y), _fd(lambda v: game.leader_payoff(x, v), y)),
        (game.follower_hess_yy(x, y), _fd(lambda v: game.follower_grad(x, v), y)),
        (game.follower_hess_yx(x, y), _fd(lambda u: game.follower_grad(u, y), x)),
        (game.leader_hess_yx(x, y), _fd(lambda u: game.leader_grad_y(u, y), x)),
    ]
    for exact, diff in pairs:
        scale = max(1.0, float(np.abs(exact).max()))
        np.testing.assert_allclose(exact, diff, rtol=1e-6, atol=1e-6 * scale)


# ---------------------------------------------------------------------------- best response


def test_best_response_is_the_best_stationary_point_and_deterministic(game, small_tau):
    rng = np.random.default_rng(3)
    for g in (game, small_tau):
        x = rng.uniform(g.leader_low, g.leader_high, (8, 5))
        r = g.best_response(x)
        np.testing.assert_array_equal(r, g.best_response(x))
        free = (r > g.follower_low) & (r < g.follower_high)
        assert np.abs(g.follower_grad(x, r)[free]).max() <= 1e-9
        # No random follower strategy does better.
        ys = rng.uniform(g.follower_low, g.follower_high, (256, 1, 5))
        assert np.all(g.follower_payoff(x, r) >= g.follower_payoff(x[None], ys).max(0) - 1e-12)


def test_default_best_response_is_interior_and_strictly_concave_at_pure_commitments(game):
    # Deterministic leader strategies (the corners of X) are where the value pushes hardest.
    corners = np.array([TFT, ALLC, ALLD, WSLS, [0.0, 1.0, 0.0, 0.0, 0.0]])
    r = game.best_response(corners)
    assert np.all(r >= 2 * game.follower_low) and np.all(r <= 1 - 2 * game.follower_low)
    assert np.all(np.linalg.eigvalsh(game.follower_hess_yy(corners, r)) < 0)
    # The follower answers tit-for-tat by leaning to cooperation after mutual cooperation.
    assert r[0, 1] > 0.5


def test_margin_of_the_follower_box():
    # tau >= U / 26.9 gives the exact margin sigmoid(-U / tau) / 2; smaller tau the floor.
    g = IteratedPrisonersDilemma()
    assert g.gradient_bound == pytest.approx(3 * 0.96 / 0.04)
    assert g.follower_low[0] == pytest.approx(0.5 / (1 + np.exp(72 / 3)))
    assert IteratedPrisonersDilemma(tau=1.0).follower_low[0] == 1e-12
    assert g.leader_low[0] == 0.0 and g.leader_high[0] == 1.0
    assert IteratedPrisonersDilemma(leader_tau=0.5).leader_low[0] == 1e-12


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"discount": 1.0}, "discount"),
        ({"discount": 0.0}, "discount"),
        ({"discount": float("nan")}, "discount"),
        ({"discount": True}, "discount"),
        ({"tau": -1.0}, "tau"),
        ({"leader_tau": -0.1}, "leader_tau"),
        ({"leader_tau": "1"}, "leader_tau"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        IteratedPrisonersDilemma(**kwargs)


# ---------------------------------------------------------------------------- equilibria


def test_default_stackelberg_solution_is_a_boundary_kkt_point(game):
    dse = game.stackelberg()
    # Always defect (scripts/ipd_conditions.py); CC is never reached, so x_CC is free and the
    # tie goes to 0: every (0, t, 0, 0, 0) has the same hierarchical payoff.
    np.testing.assert_array_equal(dse.x, np.zeros(5))
    assert dse.leader_payoff == pytest.approx(-1.0778254, abs=1e-6)
    for t in (0.1, 0.5, 1.0):
        x = np.array([0.0, t, 0.0, 0.0, 0.0])
        assert game.hierarchical_payoff(x) == pytest.approx(dse.leader_payoff, abs=1e-12)
    g = game.hierarchical_grad(dse.x)
    assert np.all(g <= 1e-9)  # KKT at the lower bound: pushing out or flat
    assert np.all(g[[0, 3, 4]] < -1e-2)
    # Better than committing to any classic strategy.
    for name, x in game.named_strategies().items():
        if name != "always_defect":
            assert game.hierarchical_payoff(x) < dse.leader_payoff
    assert game.nash() is None


def test_leader_entropy_gives_an_interior_dse_satisfying_definition_3_3():
    game = IteratedPrisonersDilemma(leader_tau=0.5)
    dse = game.stackelberg()
    np.testing.assert_allclose(dse.x, [0.47951, 0.427104, 0.391958, 0.379408, 0.321482], atol=1e-5)
    assert np.abs(game.hierarchical_grad(dse.x)).max() <= 1e-6
    assert np.all(np.linalg.eigvalsh(game.hierarchical_hess(dse.x)) < 0)
    assert np.all(np.linalg.eigvalsh(game.follower_hess_yy(dse.x, dse.y)) < 0)
    ne = game.nash()
    assert ne is not None and dse.leader_payoff > ne.leader_payoff
