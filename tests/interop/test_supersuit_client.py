"""SuperSuit's wrappers on GameEnv (the ``interop`` extra).

Padding (``pad_observations_v0``, ``pad_action_space_v0``) makes unequal player spaces equal:
the union of the boxes, padded with zeros to the larger dimension. ``pettingzoo_env_to_vec_env_v1``
(one vector slot per player, one shared policy) needs identical spaces: the duopoly's boxes
are both ``[0, 50]``; other games need the padding first.
"""

import numpy as np
import pytest

ss = pytest.importorskip(
    "supersuit", reason="SuperSuit is not installed (pip install -e '.[interop]')"
)

from pettingzoo.test import api_test, parallel_api_test  # noqa: E402

from hic_envs.env import FOLLOWER, LEADER, GameEnv, aec_env  # noqa: E402
from hic_envs.games import Duopoly, QuadraticGame, RandomQuadraticGame  # noqa: E402


def _pad(env):
    return ss.pad_action_space_v0(ss.pad_observations_v0(env))


# PettingZoo's test kit warns about the zero padding and the zero box centres it observes.
@pytest.mark.filterwarnings("ignore:Observation numpy array is all zeros")
def test_padding_makes_unequal_spaces_equal_on_both_faces():
    game = RandomQuadraticGame(d1=2, d2=3, seed=1)
    lo = np.minimum(np.pad(game.leader_low, (0, 1)), game.follower_low)
    hi = np.maximum(np.pad(game.leader_high, (0, 1)), game.follower_high)
    for env in (_pad(GameEnv(game, max_cycles=20)), _pad(aec_env(game, max_cycles=20))):
        spaces = [env.observation_space(a) for a in (LEADER, FOLLOWER)] + [
            env.action_space(a) for a in (LEADER, FOLLOWER)
        ]
        space = spaces[0]
        assert all(s == space for s in spaces)
        assert space.shape == (3,)
        np.testing.assert_array_equal(space.low, lo)
        np.testing.assert_array_equal(space.high, hi)
    parallel_api_test(_pad(GameEnv(game, max_cycles=20)), num_cycles=25)
    api_test(_pad(aec_env(game, max_cycles=20)), num_cycles=25)


def test_padded_parallel_env_plays_own_coordinates_and_pads_observations():
    game = RandomQuadraticGame(d1=2, d2=3, seed=1)
    env = _pad(GameEnv(game))
    env.reset(seed=0)
    x, y = np.array([0.1, -0.2]), np.array([0.3, 0.4, -0.5])
    obs, rew, *_ = env.step({LEADER: np.append(x, 99.0), FOLLOWER: y})  # padding is dropped
    assert rew[LEADER] == pytest.approx(float(game.leader_payoff(x, y)))
    assert rew[FOLLOWER] == pytest.approx(float(game.follower_payoff(x, y)))
    np.testing.assert_array_equal(obs[LEADER], y)
    np.testing.assert_array_equal(obs[FOLLOWER], np.append(x, 0.0))


def test_markov_vector_env_on_identical_boxes():
    game = Duopoly()
    venv = ss.pettingzoo_env_to_vec_env_v1(GameEnv(game, max_cycles=3))
    assert venv.num_envs == 2  # slot 0 the leader, slot 1 the follower
    obs, infos = venv.reset(seed=0)
    np.testing.assert_array_equal(obs, [[25.0], [25.0]])  # the box centres
    assert [i["payoff"] for i in infos] == [-25.0, -25.0]  # f1 = f2 = 25 (49 - 50) at (25, 25)
    action = np.array([[24.5], [12.25]])
    for stage in range(1, 4):
        obs, rew, term, trunc, infos = venv.step(action)
        np.testing.assert_allclose(rew, [300.125, 150.0625])  # the DSE payoffs
        assert not term.any()
        if stage < 3:
            np.testing.assert_array_equal(obs, [[12.25], [24.5]])
            assert not trunc.any() and [i["stage"] for i in infos] == [stage, stage]
    # Same-step reset at truncation: reset observations, the last ones in the infos.
    assert trunc.all()
    np.testing.assert_array_equal(obs, [[25.0], [25.0]])
    np.testing.assert_array_equal(infos[0]["terminal_observation"], [12.25])
    np.testing.assert_array_equal(infos[1]["terminal_observation"], [24.5])


def test_markov_vector_env_needs_identical_boxes_or_padding():
    game = QuadraticGame()  # X = [-3, 3], Y = [-4, 4]
    with pytest.raises(AssertionError, match="pad_observations"):
        ss.pettingzoo_env_to_vec_env_v1(GameEnv(game))
    venv = ss.pettingzoo_env_to_vec_env_v1(_pad(GameEnv(game, max_cycles=5)))
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (2, 1)
    obs, rew, *_ = venv.step(np.array([[1.0], [1.0]]))  # the DSE, x* = y* = 1
    one = np.array([1.0])
    np.testing.assert_allclose(rew, [game.leader_payoff(one, one), game.follower_payoff(one, one)])


def test_concat_vec_envs_gives_an_sb3_vec_env():
    from stable_baselines3.common.vec_env import VecEnv

    venv = ss.concat_vec_envs_v1(
        ss.pettingzoo_env_to_vec_env_v1(GameEnv(Duopoly(), max_cycles=3)),
        2,
        num_cpus=0,
        base_class="stable_baselines3",
    )
    assert isinstance(venv, VecEnv) and venv.num_envs == 4
    obs = venv.reset()
    assert obs.shape == (4, 1)
    obs, rew, dones, infos = venv.step(np.full((4, 1), 24.5))
    assert rew.shape == (4,) and not dones.any()
    venv.close()
