"""CustomGame: games from user callables, numeric ground truth, validation and pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from hic_envs.games import CustomGame, Duopoly, Game, ZeroSumNoNash

# Module-level functions, so that games built from them pickle.


def duopoly_f1(x, y):
    return x[0] * (50.0 - (x[0] + y[0]) - 1.0)


def duopoly_f2(x, y):
    return y[0] * (50.0 - (x[0] + y[0]) - 1.0)


def duopoly_grad_x(x, y):
    return np.array([49.0 - 2 * x[0] - y[0]])


def duopoly_grad_y(x, y):
    return np.array([49.0 - x[0] - 2 * y[0]])


def duopoly_f1_grad_y(x, y):
    return np.array([-x[0]])


def duopoly_hess_yy(x, y):
    return np.array([[-2.0]])


def duopoly_hess_yx(x, y):
    return np.array([[-1.0]])


def duopoly_best_response(x):
    return np.clip((49.0 - x) / 2.0, 0.0, 50.0)


def zero_sum_L(x, y):
    return -0.5 * x[0] ** 2 + 2.0 * x[0] * y[0] - 0.5 * y[0] ** 2


def zero_sum_f1(x, y):
    return -zero_sum_L(x, y)


def vectorized_f1(x, y):
    return -0.5 * (x**2).sum(-1) + (x * y).sum(-1) - 0.25 * (y**2).sum(-1)


def vectorized_f2(x, y):
    return -((y - 0.5 * x) ** 2).sum(-1) + 0.3 * y.sum(-1)


def plain_duopoly(**kwargs) -> CustomGame:
    return CustomGame(duopoly_f1, duopoly_f2, [0.0], [50.0], [0.0], [50.0], **kwargs)


def analytic_duopoly() -> CustomGame:
    return plain_duopoly(
        leader_grad=duopoly_grad_x,
        follower_grad=duopoly_grad_y,
        leader_grad_y=duopoly_f1_grad_y,
        follower_hess_yy=duopoly_hess_yy,
        follower_hess_yx=duopoly_hess_yx,
        best_response=duopoly_best_response,
        mu=2.0,
        K2=2.0,
        name="MyDuopoly",
    )


# ---------------------------------------------------------------------------- ground truth


@pytest.fixture(scope="module")
def duopoly_pair():
    return plain_duopoly(), Duopoly()


def test_rebuilt_duopoly_has_the_duopoly_ground_truth(duopoly_pair):
    custom, reference = duopoly_pair
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 45, (5, 1))
    np.testing.assert_allclose(custom.best_response(x), reference.best_response(x), atol=1e-6)
    dse = custom.stackelberg()
    np.testing.assert_allclose(dse.x, [24.5], atol=1e-5)
    np.testing.assert_allclose(dse.y, [12.25], atol=1e-5)
    assert dse.leader_payoff == pytest.approx(300.125, abs=1e-6)
    ne = custom.nash()
    np.testing.assert_allclose(ne.x, [49 / 3], atol=1e-6)
    np.testing.assert_allclose(ne.y, [49 / 3], atol=1e-6)


def test_numeric_derivatives_of_a_custom_game(duopoly_pair):
    custom, reference = duopoly_pair
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 50, (4, 1)), rng.uniform(0, 50, (4, 1))
    for name in ("leader_grad", "follower_grad", "leader_grad_y"):
        np.testing.assert_allclose(
            getattr(custom, name)(x, y), getattr(reference, name)(x, y), atol=1e-6, err_msg=name
        )
    for name in ("follower_hess_yy", "follower_hess_yx"):
        np.testing.assert_allclose(
            getattr(custom, name)(x, y), getattr(reference, name)(x, y), atol=1e-5, err_msg=name
        )
    np.testing.assert_allclose(
        custom.total_leader_grad(x, y), reference.total_leader_grad(x, y), atol=1e-5
    )


def test_rebuilt_zero_sum_game_has_a_dse_and_no_nash():
    custom = CustomGame(zero_sum_f1, zero_sum_L, [-1.0], [1.0], [-3.0], [3.0], name="ZS")
    reference = ZeroSumNoNash()
    x = np.linspace(-1, 1, 5)[:, None]
    np.testing.assert_allclose(custom.best_response(x), reference.best_response(x), atol=1e-6)
    dse = custom.stackelberg()
    np.testing.assert_allclose(dse.x, [0.0], atol=1e-6)
    np.testing.assert_allclose(dse.y, [0.0], atol=1e-6)
    assert custom.nash() is None


def test_vectorized_callables_are_called_once_per_batch():
    calls = []

    def f1(x, y):
        calls.append(np.shape(x))
        return vectorized_f1(x, y)

    game = CustomGame(f1, vectorized_f2, [-1, -1], [1, 1], [-2, -2], [2, 2], vectorized=True)
    looped = CustomGame(vectorized_f1, vectorized_f2, [-1, -1], [1, 1], [-2, -2], [2, 2])
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-1, 1, (2, 3, 2)), rng.uniform(-2, 2, (2, 3, 2))
    calls.clear()
    np.testing.assert_allclose(game.leader_payoff(x, y), looped.leader_payoff(x, y))
    assert calls == [(2, 3, 2)]
    np.testing.assert_allclose(game.stackelberg().x, looped.stackelberg().x, atol=1e-6)


# ---------------------------------------------------------------------------- supplied callables


def test_supplied_derivatives_and_best_response_are_used():
    game = analytic_duopoly()
    assert game.name == "MyDuopoly" and game.mu == 2.0 and game.K2 == 2.0
    x, y = np.array([[10.0], [20.0]]), np.array([[5.0], [7.0]])
    np.testing.assert_array_equal(game.leader_grad(x, y), [[24.0], [2.0]])
    np.testing.assert_array_equal(game.follower_grad(x, y), [[29.0], [15.0]])
    np.testing.assert_array_equal(game.leader_grad_y(x, y), [[-10.0], [-20.0]])
    np.testing.assert_array_equal(game.follower_hess_yy(x, y), [[[-2.0]], [[-2.0]]])
    np.testing.assert_array_equal(game.follower_hess_yx(x, y), [[[-1.0]], [[-1.0]]])
    np.testing.assert_array_equal(game.best_response(x), [[19.5], [14.5]])
    # With exact derivatives the numeric DSE is as accurate as the optimiser.
    np.testing.assert_allclose(game.stackelberg().x, [24.5], atol=1e-7)


def test_a_supplied_callable_replaces_the_numeric_default():
    def wrong_grad(x, y):
        return np.array([123.0])

    game = plain_duopoly(leader_grad=wrong_grad)
    np.testing.assert_array_equal(game.leader_grad(np.zeros((3, 1)), np.zeros(1)), [[123.0]] * 3)


# ---------------------------------------------------------------------------- validation


def _nan(x, y):
    return float("nan")


def _vector(x, y):
    return np.array([1.0, 2.0])


def _complex(x, y):
    return 1.0 + 2.0j


def _text(x, y):
    return "1.0"


def _raises(x, y):
    raise RuntimeError("boom")


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(leader_payoff=3.0), TypeError, "leader_payoff must be callable"),
        (dict(follower_payoff=None), TypeError, "follower_payoff must be callable"),
        (dict(leader_grad="grad"), TypeError, "leader_grad must be callable"),
        (dict(best_response=1), TypeError, "best_response must be callable"),
        (dict(leader_low=[60.0]), ValueError, "low < high"),
        (dict(follower_high=[np.inf]), ValueError, "finite"),
        (dict(leader_low=[0.0, 0.0]), ValueError, "equal length"),
        (dict(leader_payoff=_nan), ValueError, "leader_payoff must return a finite real"),
        (dict(follower_payoff=_vector), ValueError, "follower_payoff must return a finite real"),
        (dict(leader_payoff=_complex), ValueError, "leader_payoff must return a finite real"),
        (dict(leader_payoff=_text), ValueError, "leader_payoff must return a finite real"),
        (dict(follower_payoff=_raises), ValueError, "follower_payoff failed"),
        (dict(name="my game"), ValueError, "name"),
        (dict(name=""), ValueError, "name"),
        (dict(mu=-1.0), ValueError, "mu"),
        (dict(vectorized="yes"), TypeError, "vectorized"),
    ],
)
def test_bad_inputs_are_rejected(kwargs, exc, match):
    args = dict(
        leader_payoff=duopoly_f1,
        follower_payoff=duopoly_f2,
        leader_low=[0.0],
        leader_high=[50.0],
        follower_low=[0.0],
        follower_high=[50.0],
    )
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        CustomGame(**args)


# ---------------------------------------------------------------------------- pickling


def test_pickle_round_trip_with_module_level_functions():
    game = analytic_duopoly()
    game.stackelberg()
    clone = pickle.loads(pickle.dumps(game))
    assert clone.name == "MyDuopoly"
    x, y = np.array([[3.0], [30.0]]), np.array([[4.0], [8.0]])
    np.testing.assert_array_equal(clone.payoffs(x, y), game.payoffs(x, y))
    np.testing.assert_array_equal(clone.best_response(x), game.best_response(x))
    np.testing.assert_array_equal(clone.stackelberg().x, game.stackelberg().x)
    plain = pickle.loads(pickle.dumps(plain_duopoly()))
    np.testing.assert_allclose(plain.leader_grad(x, y), game.leader_grad(x, y), atol=1e-6)


def test_custom_game_is_a_game():
    game = plain_duopoly()
    assert isinstance(game, Game)
    assert game.d1 == game.d2 == 1
    assert "Custom" in repr(game)
