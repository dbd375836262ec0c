"""The Gymnasium single-agent views: checkers, rescaling, the embedded partner, seeding, errors.

The checker tests are parametrised over every view in Gymnasium's registry that hic_envs
registered, so a game added to the library is covered without editing this file.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.env_util import make_vec_env

import hic_envs
from agents import GradientAscentFollower, HiCLeader
from agents.compose import FollowerView, LeaderView, derive_seeds, play
from agents.schedules import PowerLaw
from agents.stationary import FixedAgent, UniformAgent
from hic_envs import GameEnv
from hic_envs.games import Duopoly
from hic_envs.registration import LIBRARY_WITHOUT_VIEWS, view_ids
from hic_envs.units import from_unit, to_unit

VIEW_IDS = [
    vid
    for env_id in hic_envs.list_envs()
    if env_id not in LIBRARY_WITHOUT_VIEWS
    for vid in view_ids(env_id)
]


def _box(low, high) -> spaces.Box:
    return spaces.Box(np.asarray(low, float), np.asarray(high, float), dtype=np.float64)


def _hic(game: Duopoly, **kw) -> HiCLeader:
    box = _box(game.leader_low, game.leader_high)
    return HiCLeader(box, PowerLaw(0.01, 0.602, A=10), PowerLaw(1.0, 0.101), 5, **kw)


def _fixed_leader(game, x):
    return FixedAgent(_box(game.leader_low, game.leader_high), [x])


# ---------------------------------------------------------------------- checkers
def test_every_game_has_both_views():
    assert len(VIEW_IDS) == 2 * (len(hic_envs.list_envs()) - len(LIBRARY_WITHOUT_VIEWS)) >= 16
    assert set(VIEW_IDS) <= set(gymnasium.registry)


@pytest.mark.parametrize("view_id", VIEW_IDS)
def test_view_passes_gymnasium_and_sb3_checkers(view_id):
    env = gymnasium.make(view_id)  # every registered view has a default partner (issue 17)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        with contextlib.redirect_stdout(io.StringIO()):  # the "human" render mode prints
            gym_check_env(env.unwrapped)
        sb3_check_env(env)
    assert env.action_space == spaces.Box(-1, 1, env.action_space.shape, np.float32)
    assert env.observation_space.dtype == np.float32


def test_ad_hoc_view_passes_checkers_with_constant_observation():
    env = gymnasium.make("hic/Duopoly-Follower-v0", observe_leader=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.shape == (1,)
    for _ in range(5):
        assert obs.tolist() == [0.0]
        obs, *_ = env.step(env.action_space.sample())


# ---------------------------------------------------------------------- units and rescaling
def test_unit_maps_are_affine_inverses_with_exact_endpoints():
    low, high = np.array([0.1, -3.0]), np.array([0.3, 5.0])
    assert from_unit([-1.0, -1.0], low, high).tolist() == low.tolist()
    assert from_unit([1.0, 1.0], low, high).tolist() == high.tolist()  # no overshoot by an ulp
    assert to_unit(low, low, high).tolist() == [-1.0, -1.0]
    assert to_unit(high, low, high).tolist() == [1.0, 1.0]
    pts = np.random.default_rng(0).uniform(low, high, size=(100, 2))
    np.testing.assert_allclose(from_unit(to_unit(pts, low, high), low, high), pts, rtol=1e-14)
    np.testing.assert_allclose(to_unit(0.5 * (low + high), low, high), [0.0, 0.0], atol=1e-15)


def test_follower_view_plays_the_rescaled_action_and_sees_the_leader_commitment():
    game = Duopoly()
    env = FollowerView(game, leader=_fixed_leader(game, 30.0))
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.tolist() == [np.float32(to_unit(30.0, 0.0, 50.0))]
    assert info == {"stage": 0, "projected": False}
    for u, y in ((-1.0, 0.0), (1.0, 50.0), (0.0, 25.0), (-0.5, 12.5)):
        obs, reward, term, trunc, info = env.step(np.array([u], dtype=np.float32))
        assert info["follower_action"].tolist() == [y]
        assert info["leader_action"].tolist() == [30.0]
        assert info["payoff"] == pytest.approx(
            float(game.follower_payoff(np.array([30.0]), np.array([y])))
        )
        assert type(reward) is float and reward == info["payoff"]  # no noise, scale 1
        assert term is False and trunc is False and info["projected"] is False


def test_out_of_range_action_is_clipped_and_reported():
    game = Duopoly()
    env = FollowerView(game, leader=_fixed_leader(game, 10.0))
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([3.0]))
    assert info["projected"] is True and info["follower_action"].tolist() == [50.0]
    _, _, _, _, info = env.step(np.array([-1.5]))
    assert info["projected"] is True and info["follower_action"].tolist() == [0.0]


def test_reward_scale_multiplies_the_noisy_payoff_only():
    game = Duopoly()
    a = FollowerView(game, leader=_fixed_leader(game, 20.0), noise_std=2.0)
    b = FollowerView(game, leader=_fixed_leader(game, 20.0), noise_std=2.0, reward_scale=0.01)
    a.reset(seed=3)
    b.reset(seed=3)
    for u in (-0.3, 0.2, 0.9):
        _, ra, _, _, ia = a.step(np.array([u]))
        _, rb, _, _, ib = b.step(np.array([u]))
        assert rb == pytest.approx(0.01 * ra, rel=1e-12)
        assert ia["payoff"] == ib["payoff"] and ra != ia["payoff"]  # noise is in the reward


def test_leader_view_observes_the_follower_action_just_played():
    game = Duopoly()
    follower = FixedAgent(_box(game.follower_low, game.follower_high), [40.0])
    env = LeaderView(game, follower=follower)
    obs, _ = env.reset(seed=0)
    assert obs.tolist() == [0.0]  # GameEnv's reset observation: the centre of Y
    obs, reward, _, _, info = env.step(np.array([0.5], dtype=np.float32))
    assert obs.tolist() == [np.float32(to_unit(40.0, 0.0, 50.0))]
    assert info["leader_action"].tolist() == [37.5]
    assert reward == pytest.approx(37.5 * (50 - 77.5 - 1))


# ---------------------------------------------------------------------- the embedded partner
def test_partner_persists_across_unseeded_reset_and_restarts_on_seeded_reset():
    game = Duopoly()
    leader = _hic(game)
    env = FollowerView(game, leader=leader, max_episode_steps=50)
    env.reset(seed=7)
    x0 = leader.strategy
    for _ in range(50):
        *_, trunc, _ = env.step(np.array([0.1]))
    assert trunc is True and leader.updates == 10
    x_end = leader.strategy
    assert not np.array_equal(x_end, x0)

    env.reset()  # no seed: the leader carries on
    assert leader.updates == 10 and np.array_equal(leader.strategy, x_end)
    for _ in range(10):
        env.step(np.array([0.1]))
    assert leader.updates == 12

    env.reset(seed=7)  # restart from the same seed
    assert leader.updates == 0 and np.array_equal(leader.strategy, x0)
    env.reset(seed=8)
    assert not np.array_equal(leader.strategy, x0)


def test_first_unseeded_reset_starts_partner_with_its_own_seed():
    game = Duopoly()
    strategies = []
    for _ in range(2):
        leader = UniformAgent(_box(game.leader_low, game.leader_high), seed=11)
        env = FollowerView(game, leader=leader)
        env.reset()
        strategies.append(leader.strategy)
    np.testing.assert_array_equal(*strategies)


def _rollout(env, seed, actions):
    out = [env.reset(seed=seed)[0]]
    for u in actions:
        obs, r, _, trunc, info = env.step(u)
        out += [obs, r, info["payoff"], info["partner_strategy"]]
        if trunc:
            out.append(env.reset()[0])
    return out


@pytest.mark.parametrize("view_cls", [FollowerView, LeaderView])
def test_same_seed_same_run_bit_for_bit_across_episodes(view_cls):
    game = Duopoly()
    actions = np.random.default_rng(0).uniform(-1, 1, size=(120, 1)).astype(np.float32)
    env = view_cls(game, max_episode_steps=40, noise_std=1.5)
    first = _rollout(env, 5, actions)
    again = _rollout(env, 5, actions)  # same env object, reseeded
    fresh = _rollout(view_cls(game, max_episode_steps=40, noise_std=1.5), 5, actions)
    other = _rollout(env, 6, actions)
    for a, b, c in zip(first, again, fresh, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert any(not np.array_equal(a, d) for a, d in zip(first, other, strict=True))


def test_follower_view_reproduces_play_with_the_same_seed():
    """Driving the view with a gradient follower is agents.compose.play on GameEnv, same seed."""
    game, seed, stages = Duopoly(), 3, 300
    ref = play(
        GameEnv(game, max_cycles=100, noise_std=0.5),
        _hic(game),
        GradientAscentFollower(game, 0.1),
        stages,
        seed=seed,
    )

    leader = _hic(game)
    env = FollowerView(game, leader=leader, max_episode_steps=100, noise_std=0.5)
    follower = GradientAscentFollower(game, 0.1)
    env.reset(seed=seed)
    follower.reset(seed=derive_seeds(seed)[2])
    ys, xs, rewards = [], [], []
    for _ in range(stages):
        y = follower.act(None)  # a gradient follower's action does not depend on obs
        _, r, _, trunc, info = env.step(to_unit(y, game.follower_low, game.follower_high))
        follower.observe(r, info["leader_action"])  # the leader's action just played
        ys.append(info["follower_action"])
        xs.append(info["leader_action"])
        rewards.append(r)
        if trunc:
            env.reset()
    # The action goes through [-1, 1] and back: equal to rounding, so the run stays close.
    np.testing.assert_allclose(np.array(ys), ref.follower_actions, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.array(xs), ref.leader_actions, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(rewards, ref.follower_rewards, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(leader.strategy, ref.leader_strategies[-1], rtol=1e-9)


def test_leader_view_reproduces_play_with_the_same_seed():
    game, seed, stages = Duopoly(), 4, 200
    ref = play(
        GameEnv(game, max_cycles=1000),
        _hic(game),
        GradientAscentFollower(game, 0.1),
        stages,
        seed=seed,
    )
    env = LeaderView(game, follower=GradientAscentFollower(game, 0.1))
    leader = _hic(game)
    obs, _ = env.reset(seed=seed)
    leader.reset(seed=derive_seeds(seed)[1])
    xs = []
    for _ in range(stages):
        x = leader.act(None)
        _, r, _, _, info = env.step(to_unit(x, game.leader_low, game.leader_high))
        leader.observe(r, info["follower_action"])
        xs.append(info["leader_action"])
    np.testing.assert_allclose(np.array(xs), ref.leader_actions, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(env.follower.strategy, ref.follower_strategies[-1], rtol=1e-9)


def test_one_agent_object_in_two_envs_is_refused_and_a_factory_is_not():
    game = Duopoly()
    leader = _hic(game)
    vec = make_vec_env("hic/Duopoly-Follower-v0", n_envs=2, seed=0, env_kwargs={"leader": leader})
    vec.reset()  # seeds 0 and 1: the second env takes the shared leader over
    with pytest.raises(RuntimeError, match="driven by another view.*factory"):
        vec.step(np.zeros((2, 1), dtype=np.float32))

    vec = make_vec_env("hic/Duopoly-Follower-v0", n_envs=2, seed=0, env_kwargs={"leader": _hic})
    vec.reset()
    vec.step(np.zeros((2, 1), dtype=np.float32))
    first, second = vec.get_attr("leader")
    assert first is not second
    assert not np.array_equal(first.strategy, second.strategy)  # seeds 0 and 1


# ---------------------------------------------------------------------- registration and kwargs
def test_make_by_id_passes_game_and_view_kwargs():
    leader = _fixed_leader(Duopoly(a=60), 20.0)
    env = gymnasium.make("hic/Duopoly-Follower-v0", a=60, leader=leader, reward_scale=0.5)
    assert env.unwrapped.game.a == 60.0 and env.unwrapped.leader is leader
    assert env.unwrapped.reward_scale == 0.5
    assert env.spec.max_episode_steps == 1000
    env = gymnasium.make("hic/Duopoly-Leader-v0", c2=2.0, max_episode_steps=3)
    env.reset(seed=0)
    truncs = [env.step(env.action_space.sample())[3] for _ in range(3)]
    assert truncs == [False, False, True]


def test_default_partners_are_hic_and_gradient_ascent():
    assert isinstance(gymnasium.make("hic/Cooperative-Follower-v0").unwrapped.leader, HiCLeader)
    follower = gymnasium.make("hic/Cooperative-Leader-v0").unwrapped.follower
    assert isinstance(follower, GradientAscentFollower)


def test_register_game_registers_the_views_of_a_users_game():
    from hic_envs.games import CustomGame

    def bargain(scale=1.0):
        return CustomGame(
            lambda x, y: -scale * (x[0] - 1.0) ** 2 - x[0] * y[0],
            lambda x, y: -((y[0] - 0.5 * x[0]) ** 2),
            [-2.0],
            [2.0],
            [-2.0],
            [2.0],
        )

    hic_envs.register_game("testviews/Bargain-v0", bargain)
    env = gymnasium.make("testviews/Bargain-Follower-v0", scale=3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env)
    obs, _ = env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([1.0], dtype=np.float32))
    assert info["payoff"] == pytest.approx(-((2.0 - 0.5 * info["leader_action"][0]) ** 2))
    assert isinstance(gymnasium.make("testviews/Bargain-Leader-v0").unwrapped, LeaderView)


def test_view_ids():
    assert view_ids("hic/Duopoly-v0") == ("hic/Duopoly-Follower-v0", "hic/Duopoly-Leader-v0")
    assert view_ids("Toy-v3") == ("Toy-Follower-v3", "Toy-Leader-v3")
    with pytest.raises(ValueError, match="Name-v0"):
        view_ids("hic/Duopoly")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"leader": "hic"}, TypeError, "leader must be None, an agent"),
        ({"leader": lambda game: 3}, TypeError, "returned a non-agent"),
        ({"observe_leader": "yes"}, TypeError, "observe_leader must be a bool"),
        ({"reward_scale": -1.0}, ValueError, "reward_scale must be a positive"),
        ({"reward_scale": "big"}, TypeError, "reward_scale must be a number"),
        ({"noise_std": -1.0}, ValueError, "noise_std"),
        ({"render_mode": "video"}, ValueError, "render_mode"),
        ({"a": -5.0}, ValueError, "a must be a positive"),
        ({"volume": 3}, TypeError, "volume"),
    ],
)
def test_bad_kwargs_raise_clear_errors(kwargs, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gymnasium warns about an unknown render_mode first
        with pytest.raises(error, match=match):
            gymnasium.make("hic/Duopoly-Follower-v0", **kwargs)


def test_partner_of_the_wrong_shape_is_refused():
    game = Duopoly()
    box = _box(game.leader_low, game.leader_high)
    with pytest.raises(ValueError, match="num_envs=None"):
        FollowerView(game, leader=FixedAgent(box, [1.0], num_envs=2))
    with pytest.raises(ValueError, match="dimension 2, but the game's is 1"):
        LeaderView(game, follower=FixedAgent(_box([0.0, 0.0], [1.0, 1.0]), [0.5, 0.5]))
    with pytest.raises(ValueError, match="max_episode_steps"):
        FollowerView(game, max_episode_steps=1)
    with pytest.raises(TypeError, match="game must be a hic_envs.games.Game"):
        FollowerView("Duopoly")


def test_bad_actions_and_misuse_of_order():
    env = FollowerView(Duopoly(), max_episode_steps=2)
    with pytest.raises(RuntimeError, match="before reset"):
        env.step(np.zeros(1))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(2))
    with pytest.raises(ValueError, match="finite"):
        env.step(np.array([np.nan]))
    env.step(np.zeros(1))
    env.step(np.zeros(1))
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step(np.zeros(1))


def test_partner_returning_garbage_is_reported():
    class Broken(FixedAgent):
        def _act(self, obs):
            return np.full((self._S, self.dim), np.nan)

    game = Duopoly()
    env = FollowerView(game, leader=Broken(_box([0.0], [50.0]), [1.0]))
    with pytest.raises(ValueError, match="embedded leader agent returned"):
        env.reset(seed=0)
