"""Any object with reset/act/observe/strategy is an agent; library agents' state is data."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import agents
from agents import (
    Agent,
    BatchAgent,
    BestResponseFollower,
    EntropicMirrorFollower,
    FixedAgent,
    GradientAscentFollower,
    HiCLeader,
    HierarchicalGradientLeader,
    OracleSPSALeader,
    SGALeader,
    StochasticGradientFollower,
    UniformAgent,
    presets,
)
from agents.compose import FollowerView, play
from agents.compose.engines.runner import BatchRunner
from agents.lola import LOLALeader
from hic_envs import GameEnv
from hic_envs.games import Duopoly, QuadraticGame, SecurityGame


class CopyCat:
    """A follower written without any base class: plays the leader's last action, clipped."""

    def __init__(self, low, high):
        self.low, self.high = np.asarray(low), np.asarray(high)

    def reset(self, seed=None):
        self.strategy = 0.5 * (self.low + self.high)

    def act(self, obs):
        return self.strategy

    def observe(self, reward, obs):
        self.strategy = np.clip(obs, self.low, self.high)


class Drifter:
    """A leader without an ``updates`` counter whose strategy moves every 10th stage."""

    def __init__(self):
        self._x = np.array([10.0])
        self._t = 0

    def reset(self, seed=None):
        self._x, self._t = np.array([10.0]), 0

    def act(self, obs):
        return self._x

    def observe(self, reward, obs):
        self._t += 1
        if self._t % 10 == 0:
            self._x = self._x + 1.0

    @property
    def strategy(self):
        return self._x.copy()


class StubbornCounter(Drifter):
    """Counts ``updates`` but never bumps it (the defect play must survive)."""

    updates = 0


def test_duck_typed_agents_satisfy_the_protocol():
    game = Duopoly()
    assert isinstance(CopyCat(game.follower_low, game.follower_high), Agent)
    assert isinstance(Drifter(), Agent)
    assert isinstance(HiCLeader.for_game(game), Agent)  # before reset: no property is run
    assert not isinstance(object(), Agent)
    with pytest.raises(TypeError, match="lacks act, observe"):
        agents.check_agent(type("OnlyReset", (), {"reset": lambda self: None})(), "leader")


@pytest.mark.parametrize("leader_cls", [Drifter, StubbornCounter])
def test_play_records_a_duck_typed_leader_with_or_without_updates(leader_cls):
    game = Duopoly()
    env = GameEnv(game)
    follower = CopyCat(game.follower_low, game.follower_high)
    h = play(env, leader_cls(), follower, stages=35, seed=0)
    # The strategy moved after stages 10, 20 and 30: three records besides x_0.
    assert h.update_stages.tolist() == [0, 10, 20, 30]
    assert h.leader_strategies[:, 0].tolist() == [10.0, 11.0, 12.0, 13.0]
    # The follower copies the leader's projected action of the previous stage.
    assert np.array_equal(h.follower_actions[1:, 0], np.minimum(h.leader_actions[:-1, 0], 50.0))


def test_play_with_a_duck_typed_follower_against_hic():
    game = Duopoly()
    h = play(
        GameEnv(game),
        HiCLeader.for_game(game),
        CopyCat(game.follower_low, game.follower_high),
        stages=500,
        seed=1,
    )
    assert h.stages == 500 and len(h.update_stages) > 1
    assert np.all(np.isfinite(h.leader_strategies))


def test_play_refuses_a_non_agent_naming_what_is_missing():
    game = Duopoly()
    with pytest.raises(TypeError, match="follower must be an agent"):
        play(GameEnv(game), HiCLeader.for_game(game), object(), stages=5)


def test_follower_view_embeds_a_duck_typed_leader():
    view = FollowerView(Duopoly(), leader=Drifter(), max_episode_steps=50)
    obs, _ = view.reset(seed=0)
    for _ in range(25):
        obs, reward, term, trunc, info = view.step(np.zeros(1, dtype=np.float32))
    assert view.leader.strategy[0] == 12.0  # it drifted twice in 25 stages
    assert isinstance(reward, float)


def test_leader_view_embeds_a_duck_typed_follower_built_by_a_factory():
    game = Duopoly()
    env = gymnasium.make(
        "hic/Duopoly-Leader-v0",
        follower=lambda g: CopyCat(g.follower_low, g.follower_high),
        disable_env_checker=True,
    )
    env.reset(seed=0)
    for _ in range(3):
        _, _, _, _, info = env.step(np.ones(game.d1, dtype=np.float32))
    assert info["partner_strategy"][0] == 50.0  # the leader played the top of X = [0, 50]


# ---------------------------------------------------------------------------------- state
def _library_agents(S: int):
    duo, quad, sec = Duopoly(), QuadraticGame(), SecurityGame()
    kw = presets.hic_leader_kwargs(duo)
    return [
        (duo, HiCLeader(duo, num_envs=S, check_assumptions=False, **kw)),
        (duo, HiCLeader(duo, 0.01, 0.5, 3, two_sided=True, num_envs=S, check_assumptions=False)),
        (duo, HiCLeader(duo, 0.01, 0.5, 3, average_last=2, num_envs=S, check_assumptions=False)),
        (duo, HiCLeader(duo, 0.01, 0.5, agents.AdaptiveCommitment(), num_envs=S, **_quiet())),
        (duo, OracleSPSALeader(duo, 0.01, 0.5, num_envs=S, check_assumptions=False)),
        (quad, SGALeader(quad, 0.05, num_envs=S)),
        (quad, HierarchicalGradientLeader(quad, 0.05, noise_std=0.1, num_envs=S)),
        (duo, GradientAscentFollower(duo, 0.1, num_envs=S)),
        (duo, StochasticGradientFollower(duo, 0.1, 0.5, num_envs=S)),
        (duo, BestResponseFollower(duo, num_envs=S)),
        (sec, EntropicMirrorFollower(sec, 0.2, num_envs=S)),
        (duo, FixedAgent(duo, [3.0], role="leader", num_envs=S)),
        (duo, UniformAgent(duo, hold=3, role="follower", num_envs=S)),
        (quad, LOLALeader(quad, 0.05, lookahead=0.5, noise_std=0.1, num_envs=S)),
    ]


def _quiet():
    return {"check_assumptions": False}


def _partner(game: object, agent: BatchAgent, S: int) -> tuple[BatchAgent, BatchAgent]:
    """A (leader, follower) pair around ``agent``."""
    if (
        agent.dim == game.d1
        and not isinstance(
            agent, (GradientAscentFollower, BestResponseFollower, EntropicMirrorFollower)
        )
        and not (isinstance(agent, UniformAgent))
    ):
        return agent, GradientAscentFollower(game, 0.05, num_envs=S)
    return HiCLeader(game, 0.01, 0.5, 3, num_envs=S, check_assumptions=False), agent


@pytest.mark.parametrize("index", range(14))
def test_state_dict_round_trip_continues_exactly(index):
    S = 3
    game, agent = _library_agents(S)[index]
    leader, follower = _partner(game, agent, S)
    runner = BatchRunner(game, leader, follower, seed=5, noise_std=0.3, max_cycles=40)
    runner.run(57)
    state = runner.state_dict()
    assert all(isinstance(v, np.ndarray) and v.dtype != object for v in state.values())
    ref = runner.run(90)

    game2, agent2 = _library_agents(S)[index]
    leader2, follower2 = _partner(game2, agent2, S)
    fresh = BatchRunner(game2, leader2, follower2, seed=123, noise_std=0.3, max_cycles=40)
    fresh.load_state_dict(state)
    out = fresh.run(90)
    for f in ("row", "update", "stage", "leader_strategies", "follower_strategies"):
        assert np.array_equal(getattr(ref, f), getattr(out, f)), f
    assert np.array_equal(ref.final_leader, out.final_leader)
    assert np.array_equal(ref.final_follower, out.final_follower)


def test_load_state_dict_refuses_a_state_of_another_batch_size():
    game = Duopoly()
    a = GradientAscentFollower(game, 0.1, num_envs=4)
    a.reset(seed=0)
    b = GradientAscentFollower(game, 0.1, num_envs=2)
    with pytest.raises(ValueError, match="num_envs=2"):
        b.load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="unknown state key"):
        a.load_state_dict({**a.state_dict(), "bogus": np.zeros(1)})


def test_observation_of_the_wrong_dimension_is_refused():
    game = Duopoly()
    f = GradientAscentFollower(game, 0.1)
    f.reset(seed=0)
    with pytest.raises(ValueError, match=r"observation must have shape \(1,\)"):
        f.observe(1.0, np.zeros(2))
    fb = GradientAscentFollower(game, 0.1, num_envs=3)
    fb.reset(seed=0)
    with pytest.raises(ValueError, match=r"rewards must have shape \(3,\)"):
        fb.observe(np.zeros(4), np.zeros((3, 1)))


def test_a_float32_box_is_refused():
    box = gymnasium.spaces.Box(0.0, 50.0, shape=(1,), dtype=np.float32)
    with pytest.raises(TypeError, match="dtype float64"):
        HiCLeader(box, 0.01, 0.5, 3)


def test_sb3_agents_state_round_trips():
    sb3 = pytest.importorskip("stable_baselines3")
    from agents.sb3 import SB3Follower

    vec = sb3.common.env_util.make_vec_env("hic/Duopoly-Follower-v0", n_envs=1, seed=0)
    model = sb3.PPO("MlpPolicy", vec, n_steps=16, batch_size=16, seed=0)
    follower = SB3Follower(model, num_envs=3)  # the game from the view the model holds
    follower.reset(seed=1)
    follower.act_batch(np.full((3, 1), 20.0))
    state = follower.state_dict()
    other = SB3Follower(model, Duopoly(), num_envs=3)
    other.load_state_dict(state)
    assert np.array_equal(other.strategies, follower.strategies)
    assert np.array_equal(
        other.act_batch(np.full((3, 1), 30.0)), follower.act_batch(np.full((3, 1), 30.0))
    )
