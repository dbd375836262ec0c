"""PettingZoo's test kits, pickling and seeding, for every registered environment ID.

Parametrised over ``hic_envs.list_envs()``, so every game registered at import time is covered
without editing this file.
"""

from __future__ import annotations

import importlib
import pickle
import types

import numpy as np
import pettingzoo
import pytest
from pettingzoo.test import api_test, max_cycles_test, parallel_api_test, render_test

import hic_envs
from hic_envs import FOLLOWER, LEADER, GameEnv
from hic_envs.registration import LIBRARY_GAMES, alias_module

ENV_IDS = hic_envs.list_envs()

# PettingZoo's kits warn about style choices that are deliberate here: one-dimensional
# strategies, boxes centred on zero (the reset observation is then all zeros), and leader and
# follower boxes of different sizes.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Observation is a single number:UserWarning"),
    pytest.mark.filterwarnings("ignore:Observation numpy array is all zeros:UserWarning"),
    pytest.mark.filterwarnings("ignore:Agents have different observation space sizes:UserWarning"),
]
NUM_CYCLES = 100  # stages per kit run: enough to cross a truncation with max_cycles below


def _module_for(env_id: str) -> types.ModuleType | types.SimpleNamespace:
    """The alias module of a library ID; for a user's ID, the same faces from the registry."""
    if env_id in LIBRARY_GAMES:
        return importlib.import_module(alias_module(env_id))
    return types.SimpleNamespace(
        env=lambda **kw: pettingzoo.make("aec", env_id, **kw),
        parallel_env=lambda **kw: pettingzoo.make("parallel", env_id, **kw),
    )


def _random_actions(env: GameEnv, rng: np.random.Generator, n: int) -> list[dict]:
    """``n`` joint actions, some outside the boxes (the env projects them)."""
    out = []
    for _ in range(n):
        acts = {}
        for agent in env.possible_agents:
            space = env.action_space(agent)
            span = space.high - space.low
            acts[agent] = rng.uniform(space.low - 0.2 * span, space.high + 0.2 * span)
        out.append(acts)
    return out


def test_library_is_registered():
    assert set(LIBRARY_GAMES) <= set(ENV_IDS)
    assert len(ENV_IDS) >= 8


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_parallel_api(env_id):
    env = pettingzoo.make("parallel", env_id, max_cycles=NUM_CYCLES // 2)
    assert isinstance(env, GameEnv)
    parallel_api_test(env, num_cycles=NUM_CYCLES)


# PettingZoo's api_test warns when the agents' observations differ in shape: MogGAN's do by
# design (the leader's and the follower's dimensions differ, 50 and 37).
@pytest.mark.filterwarnings("ignore:Observations are different shapes:UserWarning")
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_aec_api(env_id):
    env = pettingzoo.make("aec", env_id, max_cycles=NUM_CYCLES // 2)
    assert isinstance(env, pettingzoo.AECEnv)
    assert isinstance(env.unwrapped, GameEnv)
    api_test(env, num_cycles=NUM_CYCLES)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_max_cycles(env_id):
    max_cycles_test(_module_for(env_id))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_render_kit(env_id, capsys):
    mod = _module_for(env_id)
    render_test(lambda render_mode=None: mod.env(render_mode=render_mode))
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 5  # "human" prints one line per render call of the kit


@pytest.mark.parametrize("env_id", sorted(LIBRARY_GAMES))
def test_alias_module_exposes_the_three_faces(env_id):
    mod = importlib.import_module(alias_module(env_id))
    assert sorted(mod.__all__) == ["env", "parallel_env", "raw_env"]
    par = mod.parallel_env()
    assert isinstance(par, GameEnv)
    assert par.metadata["name"] == alias_module(env_id).rsplit(".", 1)[1]
    assert isinstance(mod.env(), pettingzoo.utils.wrappers.OrderEnforcingWrapper)
    raw = mod.raw_env()
    assert isinstance(raw, pettingzoo.utils.conversions.parallel_to_aec_wrapper)
    assert type(raw.unwrapped.game) is type(par.game)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_pickle_round_trip_mid_episode(env_id):
    env = pettingzoo.make("parallel", env_id, max_cycles=40, noise_std=0.5)
    env.reset(seed=123)
    actions = _random_actions(env, np.random.default_rng(7), 100)
    for a in actions[:25]:
        env.step(a)
    clone = pickle.loads(pickle.dumps(env))
    assert clone is not env and clone.game is not env.game
    for a in actions[25:]:
        if not env.agents:
            # reset() without a seed continues the generator in both
            assert not clone.agents
            o1, i1 = env.reset()
            o2, i2 = clone.reset()
            assert all(np.array_equal(o1[k], o2[k]) for k in o1) and i1 == i2
        out1, out2 = env.step(a), clone.step(a)
        _assert_same_step(out1, out2)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_pickle_round_trip_aec(env_id):
    env = pettingzoo.make("aec", env_id, noise_std=0.5)
    env.reset(seed=5)
    rng = np.random.default_rng(1)

    def sample(agent):
        space = env.action_space(agent)
        return rng.uniform(space.low, space.high)

    for _ in range(7):  # leaves the env in the middle of a cycle
        env.step(sample(env.agent_selection))
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(20):
        agent = env.agent_selection
        assert clone.agent_selection == agent
        a = sample(agent)
        env.step(a)
        clone.step(a)
        last1, last2 = env.last(), clone.last()
        assert np.array_equal(last1[0], last2[0])
        assert last1[1:] == last2[1:]


def _assert_same_step(out1, out2):
    obs1, rew1, term1, trunc1, info1 = out1
    obs2, rew2, term2, trunc2, info2 = out2
    assert obs1.keys() == obs2.keys()
    for k in obs1:
        assert obs1[k].dtype == obs2[k].dtype == np.float64
        assert np.array_equal(obs1[k], obs2[k])
    assert rew1 == rew2  # exact: bit for bit
    assert term1 == term2 and trunc1 == trunc2 and info1 == info2


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_seeding_is_deterministic_over_many_steps(env_id):
    # Crosses two truncations: reset() without a seed must continue the generator identically.
    kw = dict(max_cycles=60, noise_std=0.7)
    env_a = pettingzoo.make("parallel", env_id, **kw)
    env_b = pettingzoo.make("parallel", env_id, **kw)
    env_c = pettingzoo.make("parallel", env_id, **kw)
    obs_a, info_a = env_a.reset(seed=2024)
    obs_b, info_b = env_b.reset(seed=2024)
    env_c.reset(seed=2025)
    assert all(np.array_equal(obs_a[k], obs_b[k]) for k in obs_a) and info_a == info_b
    differs = 0
    for a in _random_actions(env_a, np.random.default_rng(0), 150):
        if not env_a.agents:
            assert not env_b.agents and not env_c.agents
            for e in (env_a, env_b, env_c):
                e.reset()
        out_a, out_b, out_c = env_a.step(a), env_b.step(a), env_c.step(a)
        _assert_same_step(out_a, out_b)
        differs += out_a[1][LEADER] != out_c[1][LEADER]
        differs += out_a[1][FOLLOWER] != out_c[1][FOLLOWER]
    assert differs == 300  # a different seed gives different noise on every reward


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_reset_without_seed_continues_the_generator(env_id):
    # The noise of stages 11-20 after an unseeded reset equals the noise of stages 11-20 of one
    # long episode from the same seed, and differs from the first episode's.
    episode = pettingzoo.make("parallel", env_id, max_cycles=10, noise_std=1.0)
    long = pettingzoo.make("parallel", env_id, max_cycles=1000, noise_std=1.0)
    episode.reset(seed=99)
    long.reset(seed=99)
    g = episode.game
    a = {
        LEADER: 0.5 * (g.leader_low + g.leader_high),
        FOLLOWER: 0.5 * (g.follower_low + g.follower_high),
    }
    first = [episode.step(a)[1] for _ in range(10)]
    assert not episode.agents
    episode.reset()
    second = [episode.step(a)[1] for _ in range(10)]
    along = [long.step(a)[1] for _ in range(20)]
    assert first == along[:10]
    assert second == along[10:]
    assert second != first
