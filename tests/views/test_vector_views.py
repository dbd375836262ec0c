"""The native vector views (agents.compose.vector): the Gymnasium 1.x VectorEnv contract, equality
with N single views where the semantics allow, make_vec registration, and the SB3 adapter.

Gymnasium 1.4 has no checker for vector envs (``gymnasium.utils.env_checker`` checks single
envs), so the contract is tested here: spaces, batched shapes and dtypes, same-step autoreset
laid out as ``SyncVectorEnv(autoreset_mode=SAME_STEP)`` lays it out, seeding determinism, and
Gymnasium's own vector wrappers running on it.
"""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

import hic_envs
import hic_envs.units
from agents import FixedAgent, GradientAscentFollower
from agents.compose.vector import FollowerVectorView, LeaderVectorView, SB3VecEnv
from agents.compose.views import FollowerView, LeaderView
from hic_envs.games import Duopoly, QuadraticGame, RandomQuadraticGame
from hic_envs.registration import view_ids

T = 4  # episode length in these tests


def _box(low, high):
    return spaces.Box(np.asarray(low, float), np.asarray(high, float), dtype=np.float64)


def _fixed_leader(game, point, num_envs=None):
    return FixedAgent(_box(game.leader_low, game.leader_high), point, num_envs=num_envs)


def _ga_follower(game, init, num_envs=None):
    return GradientAscentFollower(game, 0.1, init=init, num_envs=num_envs)


def _pairs(game, n):
    """(vector view, SyncVectorEnv of n single views) with deterministic partners."""
    xp = game.leader_low + 0.3 * (game.leader_high - game.leader_low)
    yp = game.follower_low + 0.6 * (game.follower_high - game.follower_low)
    fv = FollowerVectorView(game, n, leader=_fixed_leader(game, xp, n), max_episode_steps=T)
    fs = SyncVectorEnv(
        [
            lambda: FollowerView(game, leader=_fixed_leader(game, xp), max_episode_steps=T)
            for _ in range(n)
        ],
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    lv = LeaderVectorView(game, n, follower=_ga_follower(game, yp, n), max_episode_steps=T)
    ls = SyncVectorEnv(
        [
            lambda: LeaderView(game, follower=_ga_follower(game, yp), max_episode_steps=T)
            for _ in range(n)
        ],
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    return [(fv, fs), (lv, ls)]


def _assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            _assert_same(u, v)
    elif isinstance(a, np.ndarray) and a.dtype == object:
        assert a.shape == b.shape
        for u, v in zip(a, b, strict=True):
            _assert_same(u, v)
    else:
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b)


@pytest.mark.parametrize("game", [Duopoly(), QuadraticGame()], ids=["duopoly", "quadratic"])
def test_rollouts_equal_sync_vector_env_of_single_views(game):
    n = 5
    rng = np.random.default_rng(0)
    for vec, sync in _pairs(game, n):
        assert vec.single_action_space == sync.single_action_space
        assert vec.single_observation_space == sync.single_observation_space
        assert vec.action_space == sync.action_space
        assert vec.observation_space == sync.observation_space
        _assert_same(vec.reset(seed=3), sync.reset(seed=3))
        for _ in range(2 * T + 1):  # across two autoresets
            actions = rng.uniform(-1.3, 1.3, size=vec.action_space.shape)  # some projected
            _assert_same(vec.step(actions), sync.step(actions))


def test_one_copy_with_hic_and_noise_reproduces_the_single_view_bit_for_bit():
    game = Duopoly()
    vec = FollowerVectorView(game, 1, noise_std=0.5, max_episode_steps=T)
    sync = SyncVectorEnv(
        [lambda: FollowerView(game, noise_std=0.5, max_episode_steps=T)],
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    rng = np.random.default_rng(1)
    _assert_same(vec.reset(seed=11), sync.reset(seed=11))
    for _ in range(6 * T):
        actions = rng.uniform(-1, 1, size=(1, 1)).astype(np.float32)
        _assert_same(vec.step(actions), sync.step(actions))
    assert np.array_equal(vec.leader.strategy[0], sync.envs[0].unwrapped.leader.strategy)


def test_spaces_shapes_dtypes_and_metadata():
    game = RandomQuadraticGame(d1=2, d2=3, seed=1)
    for vec, d_act, d_obs in (
        (FollowerVectorView(game, 6), 3, 2),
        (FollowerVectorView(game, 6, observe_leader=False), 3, 1),
        (LeaderVectorView(game, 6), 2, 3),
    ):
        assert vec.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
        assert vec.num_envs == 6
        assert vec.single_action_space == spaces.Box(-1, 1, (d_act,), np.float32)
        assert vec.single_observation_space == spaces.Box(-1, 1, (d_obs,), np.float32)
        assert vec.action_space.shape == (6, d_act) and vec.observation_space.shape == (6, d_obs)
        obs, infos = vec.reset(seed=0)
        assert obs.dtype == np.float32 and vec.observation_space.contains(obs)
        assert infos["stage"].tolist() == [0] * 6 and infos["_stage"].all()
        vec.action_space.seed(0)
        obs2, rew, term, trunc, infos = vec.step(vec.action_space.sample())
        assert vec.observation_space.contains(obs2)
        assert rew.dtype == np.float64 and rew.shape == (6,)
        assert term.dtype == trunc.dtype == np.bool_ and term.shape == trunc.shape == (6,)
        assert infos["leader_action"].shape == (6, 2) and infos["follower_action"].shape == (6, 3)
        assert infos["stage"].tolist() == [1] * 6
        # fresh arrays: mutating what was returned does not touch the env
        obs2[:] = 7.0
        assert not np.array_equal(vec.step(vec.action_space.sample())[0], obs2)


def test_same_step_autoreset_keeps_the_partner_learning():
    vec = FollowerVectorView(Duopoly(), 3, max_episode_steps=T)
    vec.reset(seed=0)
    for t in range(1, T + 1):
        obs, _, term, trunc, infos = vec.step(np.zeros((3, 1)))
        assert not term.any()
        assert trunc.all() == (t == T)
    assert infos["final_info"]["stage"].tolist() == [T] * 3
    assert infos["stage"].tolist() == [0] * 3  # the reset infos of the new episode
    t_before = vec.leader.state["t"]
    # The new episode's first observation is the leader's committed action (as reset() says).
    x = vec.leader.act(np.zeros((3, 1)))
    assert np.array_equal(obs, hic_envs.units.to_unit(x, 0.0, 50.0).astype(np.float32))
    vec.step(np.zeros((3, 1)))
    assert vec.leader.state["t"] == t_before + 1  # the leader was not restarted: it keeps counting


def test_seeding_is_deterministic_and_one_seed_seeds_the_batch():
    def rollout(seed):
        vec = FollowerVectorView(Duopoly(), 4, noise_std=1.0, max_episode_steps=T)
        out = [vec.reset(seed=seed)[0]]
        for k in range(3 * T):
            out += list(vec.step(np.full((4, 1), np.sin(k)))[:2])
        return out

    a, b, c = rollout(5), rollout(5), rollout(6)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c, strict=True))
    vec = FollowerVectorView(Duopoly(), 4)
    with pytest.raises(ValueError, match="one non-negative integer for the whole batch"):
        vec.reset(seed=[1, 2, 3, 4])


def test_bad_input_raises_naming_the_problem():
    game = Duopoly()
    vec = LeaderVectorView(game, 3)
    with pytest.raises(RuntimeError, match="before reset"):
        vec.step(np.zeros((3, 1)))
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(3, 1\)"):
        vec.step(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"rows \[1\]"):
        vec.step(np.array([[0.0], [np.nan], [0.0]]))
    with pytest.raises(ValueError, match="reset_mask"):
        vec.reset(options={"reset_mask": np.array([True, False, True])})
    with pytest.raises(ValueError, match="num_envs=3"):
        LeaderVectorView(game, 3, follower=_ga_follower(game, [1.0]))  # a single agent
    with pytest.raises(ValueError, match="num_envs must be a positive integer"):
        LeaderVectorView(game, 0)
    with pytest.raises(ValueError, match="render_mode"):
        LeaderVectorView(game, 2, render_mode="ansi")
    with pytest.raises(TypeError, match="returned"):
        FollowerVectorView(game, 2, leader=lambda g, n: object())


def test_gymnasium_vector_wrappers_run_on_it():
    vec = gymnasium.wrappers.vector.RecordEpisodeStatistics(
        LeaderVectorView(Duopoly(), 3, max_episode_steps=T)
    )
    vec.reset(seed=0)
    total = np.zeros(3)
    for _ in range(T):
        _, rew, _, trunc, infos = vec.step(np.zeros((3, 1)))
        total += rew
    assert trunc.all()
    np.testing.assert_allclose(infos["episode"]["r"], total)
    assert infos["episode"]["l"].tolist() == [T] * 3


@pytest.fixture
def vector_ids():
    # hic_envs.register_game gives every game's views their vector entry points.
    return view_ids("hic/Duopoly-v0")


def test_make_vec_builds_the_native_vector_env(vector_ids):
    follower_id, leader_id = vector_ids
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vec = gymnasium.make_vec(
            follower_id, num_envs=8, vectorization_mode="vector_entry_point", a=60, noise_std=0.1
        )
        lvec = gymnasium.make_vec(leader_id, num_envs=2, vectorization_mode="vector_entry_point")
    assert isinstance(vec, FollowerVectorView) and isinstance(lvec, LeaderVectorView)
    assert vec.num_envs == 8 and vec.game.a == 60 and vec.noise_std == 0.1
    assert vec.max_episode_steps == 1000  # the registered episode length
    assert vec.spec.id == follower_id
    # the single views are still made as before
    assert isinstance(gymnasium.make(follower_id).unwrapped, FollowerView)


def test_a_user_game_gets_vector_views_too():
    hic_envs.register_game("mylab/VecQuad-v0", QuadraticGame)
    vec = gymnasium.make_vec(
        "mylab/VecQuad-Follower-v0", num_envs=3, vectorization_mode="vector_entry_point"
    )
    assert isinstance(vec, FollowerVectorView) and vec.num_envs == 3


# ---------------------------------------------------------------------- SB3
def test_sb3_adapter_matches_dummy_vec_env_of_single_views():
    game = Duopoly()
    n = 3
    xp = np.array([20.0])
    ours = SB3VecEnv(
        FollowerVectorView(game, n, leader=_fixed_leader(game, xp, n), max_episode_steps=T)
    )
    ref = DummyVecEnv(
        [lambda: FollowerView(game, leader=_fixed_leader(game, xp), max_episode_steps=T)] * n
    )
    assert isinstance(ours, VecEnv)
    assert ours.observation_space == ref.observation_space
    assert ours.action_space == ref.action_space
    np.testing.assert_array_equal(ours.reset(), ref.reset())
    rng = np.random.default_rng(2)
    for _ in range(2 * T):
        a = rng.uniform(-1, 1, size=(n, 1)).astype(np.float32)
        o1, r1, d1, i1 = ours.step(a)
        o2, r2, d2, i2 = ref.step(a)
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(d1, d2)
        for u, v in zip(i1, i2, strict=True):
            assert u.keys() == v.keys()
            if "terminal_observation" in u:
                np.testing.assert_array_equal(u["terminal_observation"], v["terminal_observation"])
                assert u["TimeLimit.truncated"] is True
            assert u["payoff"] == v["payoff"] and u["stage"] == v["stage"]


@pytest.mark.slow
def test_sb3_ppo_trains_through_the_adapter_without_warnings():
    from stable_baselines3 import PPO

    venv = SB3VecEnv(FollowerVectorView(Duopoly(), 8, reward_scale=0.01, max_episode_steps=200))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = PPO("MlpPolicy", venv, n_steps=256, batch_size=128, n_epochs=2, seed=0)
        model.learn(4096)
    assert model.num_timesteps == 4096
    leader = venv.get_attr("leader")[0]
    assert leader.strategy.shape == (8, 1) and leader.update_index.min() > 0


def test_bench_vector_script_runs(capsys, load_script):
    mod = load_script("bench_vector")
    mod.main(["--quick", "--num-envs", "4"])
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert [r[:2] for r in rows] == [["follower", "4"], ["leader", "4"]]
    assert all(float(r[3].replace(",", "")) > 0 for r in rows)
