"""What GameEnv promises: rewards, observations, truncation, projection, errors, precision and
noise."""

from __future__ import annotations

import math

import numpy as np
import pettingzoo
import pytest
from pettingzoo.test import api_test

import hic_envs
from hic_envs import FOLLOWER, LEADER, GameEnv
from hic_envs.games import Duopoly, RandomQuadraticGame

ENV_IDS = hic_envs.list_envs()

# PettingZoo's kits warn about style choices that are deliberate here: one-dimensional
# strategies, boxes centred on zero (the reset observation is then all zeros), and leader and
# follower boxes of different sizes.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Observation is a single number:UserWarning"),
    pytest.mark.filterwarnings("ignore:Observation numpy array is all zeros:UserWarning"),
    pytest.mark.filterwarnings("ignore:Agents have different observation space sizes:UserWarning"),
]


def _centres(game):
    return (
        0.5 * (game.leader_low + game.leader_high),
        0.5 * (game.follower_low + game.follower_high),
    )


def _duopoly_env(**kw) -> GameEnv:
    env = GameEnv(Duopoly(), **kw)
    env.reset(seed=0)
    return env


def _act(x, y) -> dict:
    return {LEADER: np.array(x, dtype=np.float64), FOLLOWER: np.array(y, dtype=np.float64)}


# ---------------------------------------------------------------------- rewards and observations
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rewards_are_python_floats_equal_to_the_payoffs(env_id):
    env = pettingzoo.make("parallel", env_id)
    game = env.game
    env.reset(seed=1)
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = rng.uniform(game.leader_low, game.leader_high)
        y = rng.uniform(game.follower_low, game.follower_high)
        obs, rew, term, trunc, infos = env.step({LEADER: x, FOLLOWER: y})
        assert type(rew[LEADER]) is float and type(rew[FOLLOWER]) is float
        assert rew[LEADER] == float(game.leader_payoff(x, y))
        assert rew[FOLLOWER] == float(game.follower_payoff(x, y))
        assert infos[LEADER]["payoff"] == rew[LEADER]
        assert infos[FOLLOWER]["payoff"] == rew[FOLLOWER]
        # each player observes the other player's action at the stage just played
        assert np.array_equal(obs[LEADER], y) and np.array_equal(obs[FOLLOWER], x)
        assert obs[LEADER].dtype == obs[FOLLOWER].dtype == np.float64
        assert term == {LEADER: False, FOLLOWER: False}
        assert all(type(v) is bool for v in (*term.values(), *trunc.values()))
        assert infos[LEADER]["projected"] is False and infos[FOLLOWER]["projected"] is False


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_observation_at_reset_is_the_centre_of_the_other_box(env_id):
    env = pettingzoo.make("parallel", env_id)
    obs, infos = env.reset(seed=0)
    x0, y0 = _centres(env.game)
    assert np.array_equal(obs[LEADER], y0) and np.array_equal(obs[FOLLOWER], x0)
    assert env.observation_space(LEADER).contains(obs[LEADER])
    assert env.observation_space(FOLLOWER).contains(obs[FOLLOWER])
    game = env.game
    assert infos == {
        LEADER: {"stage": 0, "projected": False, "payoff": float(game.leader_payoff(x0, y0))},
        FOLLOWER: {"stage": 0, "projected": False, "payoff": float(game.follower_payoff(x0, y0))},
    }
    assert np.array_equal(env.state(), np.concatenate([x0, y0]))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_infos_have_the_same_keys_and_types_at_reset_and_step(env_id):
    # TorchRL's PettingZooWrapper builds its specs from the reset infos (issue 11).
    env = pettingzoo.make("parallel", env_id, max_cycles=3)
    _, reset_infos = env.reset(seed=0)
    while env.agents:
        actions = {a: env.action_space(a).sample() for a in env.agents}
        _, _, _, _, infos = env.step(actions)
        for agent in (LEADER, FOLLOWER):
            assert {k: type(v) for k, v in infos[agent].items()} == {
                k: type(v) for k, v in reset_infos[agent].items()
            }
            assert np.isfinite(infos[agent]["payoff"])


def test_observations_are_not_aliased_to_inputs_or_env_state():
    env = _duopoly_env()
    x, y = np.array([10.0]), np.array([20.0])
    obs, *_ = env.step({LEADER: x, FOLLOWER: y})
    x[0] = y[0] = -1.0  # the caller reuses its action buffers
    obs[LEADER][0] = obs[FOLLOWER][0] = 99.0  # and mutates what it observed
    assert np.array_equal(env.state(), [10.0, 20.0])


def test_accepts_lists_scalar_types_and_float32():
    env = _duopoly_env()
    _, rew, *_ = env.step({LEADER: [24.5], FOLLOWER: np.array([12.25], dtype=np.float32)})
    assert rew[LEADER] == 300.125 and type(rew[LEADER]) is float


# ---------------------------------------------------------------------- episode end
@pytest.mark.parametrize("max_cycles", [1, 5])
def test_truncation_exactly_at_max_cycles(max_cycles):
    env = _duopoly_env(max_cycles=max_cycles)
    for t in range(1, max_cycles + 1):
        assert env.agents == [LEADER, FOLLOWER]
        _, _, term, trunc, infos = env.step(_act([20.0], [10.0]))
        assert infos[LEADER]["stage"] == infos[FOLLOWER]["stage"] == t
        assert term == {LEADER: False, FOLLOWER: False}
        assert trunc == {LEADER: t == max_cycles, FOLLOWER: t == max_cycles}
    assert env.agents == []
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step(_act([20.0], [10.0]))
    env.reset()
    assert env.agents == [LEADER, FOLLOWER]
    assert env.step(_act([20.0], [10.0]))[4][LEADER]["stage"] == 1


def test_step_before_reset_raises_runtime_error():
    env = GameEnv(Duopoly())
    with pytest.raises(RuntimeError, match="before reset"):
        env.step(_act([20.0], [10.0]))


# ---------------------------------------------------------------------- projection
@pytest.mark.parametrize(
    "x, y, x_played, y_played, proj",
    [
        ([-3.0], [12.0], [0.0], [12.0], (True, False)),
        ([20.0], [51.0], [20.0], [50.0], (False, True)),
        ([1e300], [-1e300], [50.0], [0.0], (True, True)),
        ([0.0], [50.0], [0.0], [50.0], (False, False)),  # on the boundary is inside
    ],
)
def test_out_of_bounds_actions_are_projected(x, y, x_played, y_played, proj):
    env = _duopoly_env()
    obs, rew, _, _, infos = env.step(_act(x, y))
    assert np.array_equal(obs[FOLLOWER], x_played) and np.array_equal(obs[LEADER], y_played)
    assert (infos[LEADER]["projected"], infos[FOLLOWER]["projected"]) == proj
    assert rew[LEADER] == float(env.game.leader_payoff(np.array(x_played), np.array(y_played)))


@pytest.mark.parametrize("d", [3, 20])  # Python-float and NumPy bounds checks
def test_projection_is_per_coordinate_in_higher_dimensions(d):
    game = RandomQuadraticGame(d1=d, d2=d, seed=1)
    env = GameEnv(game)
    env.reset(seed=0)
    x = game.leader_low + 0.5 * (game.leader_high - game.leader_low)
    y = game.follower_low + 0.25 * (game.follower_high - game.follower_low)
    x_bad, y_bad = x.copy(), y.copy()
    x_bad[d - 1] = game.leader_high[d - 1] + 1.0
    y_bad[0] = game.follower_low[0] - 5.0
    obs, rew, _, _, infos = env.step({LEADER: x_bad, FOLLOWER: y_bad})
    x_exp, y_exp = x.copy(), y.copy()
    x_exp[d - 1] = game.leader_high[d - 1]
    y_exp[0] = game.follower_low[0]
    assert np.array_equal(obs[FOLLOWER], x_exp) and np.array_equal(obs[LEADER], y_exp)
    assert infos[LEADER]["projected"] and infos[FOLLOWER]["projected"]
    assert rew[LEADER] == float(game.leader_payoff(x_exp, y_exp))
    _, _, _, _, infos = env.step({LEADER: x, FOLLOWER: y})
    assert not infos[LEADER]["projected"] and not infos[FOLLOWER]["projected"]


# ---------------------------------------------------------------------- invalid actions
@pytest.mark.parametrize("d", [1, 20])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_actions_raise_value_error(d, bad):
    game = Duopoly() if d == 1 else RandomQuadraticGame(d1=d, d2=d)
    env = GameEnv(game)
    env.reset(seed=0)
    x, y = _centres(game)
    x = x.copy()
    x[-1] = bad
    with pytest.raises(ValueError, match=rf"'leader_0' must be finite.*{bad}"):
        env.step({LEADER: x, FOLLOWER: y})
    assert env.step({LEADER: _centres(game)[0], FOLLOWER: y})[4][LEADER]["stage"] == 1


@pytest.mark.parametrize(
    "actions, message",
    [
        (_act([1.0, 2.0], [3.0]), r"'leader_0' must have shape \(1,\), got shape \(2,\)"),
        (_act([1.0], 3.0), r"'follower_0' must have shape \(1,\), got shape \(\)"),
        (_act([[1.0]], [3.0]), r"'leader_0' must have shape \(1,\), got shape \(1, 1\)"),
        ({LEADER: ["a"], FOLLOWER: [1.0]}, r"'leader_0' must be an array of numbers.*'a'"),
        (
            {LEADER: [1.0], FOLLOWER: None},
            r"'follower_0' must have shape \(1,\), got shape \(\): None",
        ),
        ({LEADER: [1.0]}, r"missing action for agent\(s\) \['follower_0'\]"),
        ({}, r"missing action for agent\(s\) \['leader_0', 'follower_0'\]"),
        (
            {LEADER: [1.0], FOLLOWER: [1.0], "spy_0": [1.0]},
            r"unknown agent name\(s\) \['spy_0'\]",
        ),
        ({LEADER: [1.0], "follower_1": [1.0]}, r"unknown agent name\(s\) \['follower_1'\]"),
        ([[1.0], [2.0]], r"actions must be a dict keyed by agent name, got list"),
    ],
)
def test_invalid_actions_raise_value_error_naming_the_problem(actions, message):
    env = _duopoly_env()
    with pytest.raises(ValueError, match=message):
        env.step(actions)
    # a rejected step plays nothing: the next valid one is stage 1
    assert env.step(_act([20.0], [10.0]))[4][LEADER]["stage"] == 1


def test_unknown_agent_in_space_lookup_raises_value_error():
    env = GameEnv(Duopoly())
    with pytest.raises(ValueError, match="unknown agent 'player_0'"):
        env.action_space("player_0")
    with pytest.raises(ValueError, match="unknown agent 'player_0'"):
        env.observation_space("player_0")


# ---------------------------------------------------------------------- constructor
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(max_cycles=0), "max_cycles must be a positive integer, got 0"),
        (dict(max_cycles=-3), "max_cycles must be a positive integer, got -3"),
        (dict(max_cycles=2.5), "max_cycles must be a positive integer, got 2.5"),
        (dict(max_cycles=True), "max_cycles must be a positive integer, got True"),
        (dict(max_cycles="10"), "max_cycles must be a positive integer, got '10'"),
        (dict(noise_std=-0.1), r"noise_std must be a finite number >= 0, got -0.1"),
        (dict(noise_std=float("nan")), "noise_std must be a finite number >= 0, got nan"),
        (dict(noise_std=float("inf")), "noise_std must be a finite number >= 0, got inf"),
        (dict(noise_std="1"), "noise_std must be a finite number >= 0, got '1'"),
        (dict(noise_std=None), "noise_std must be a finite number >= 0, got None"),
        (dict(render_mode="video"), "render_mode must be None or one of .*, got 'video'"),
    ],
)
def test_bad_constructor_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GameEnv(Duopoly(), **kwargs)


def test_game_must_be_a_game():
    with pytest.raises(TypeError, match="game must be a hic_envs.games.Game, got str"):
        GameEnv("Duopoly")


# ---------------------------------------------------------------------- precision
def test_spaces_are_float64_and_distinct_objects():
    env = GameEnv(Duopoly())
    spaces_ = [env.action_space(LEADER), env.action_space(FOLLOWER)]
    spaces_ += [env.observation_space(LEADER), env.observation_space(FOLLOWER)]
    assert all(s.dtype == np.float64 for s in spaces_)
    assert len({id(s) for s in spaces_}) == 4
    assert env.observation_space(LEADER) == env.action_space(FOLLOWER)
    assert env.observation_space(FOLLOWER) == env.action_space(LEADER)


def test_a_small_perturbation_on_a_large_payoff_is_not_lost():
    # At the duopoly's DSE f1 = 300.125. Moving the leader by 1e-3 changes f1 by
    # -1e-3 * 12.25 - 1e-6 = -0.01225100 (grad_x f1 = a - c1 - 2 q1 - q2 = -12.25 there). In
    # float32 the actions alone would carry rounding errors of ~1e-6 * 12 = 1e-5.
    env = _duopoly_env()
    _, r0, *_ = env.step(_act([24.5], [12.25]))
    _, r1, *_ = env.step(_act([24.5 + 1e-3], [12.25]))
    assert r0[LEADER] == 300.125
    assert abs((r1[LEADER] - r0[LEADER]) - (-0.012251)) < 1e-11
    # the follower sees the leader's 1e-3 move exactly as float64 represents it
    _, _, _, _, _ = env.step(_act([24.5 + 1e-3], [12.25]))
    assert env.state()[0] == 24.5 + 1e-3


# ---------------------------------------------------------------------- noise
def test_noise_has_zero_mean_the_given_std_and_is_independent_across_players():
    sigma, n = 2.0, 20_000
    env = _duopoly_env(noise_std=sigma, max_cycles=n)
    env.reset(seed=11)
    a = _act([20.0], [15.0])
    w = np.empty((n, 2))
    for t in range(n):
        _, rew, _, _, infos = env.step(a)
        w[t] = rew[LEADER] - infos[LEADER]["payoff"], rew[FOLLOWER] - infos[FOLLOWER]["payoff"]
    # Bounds of 4 standard errors: for the mean sigma / sqrt(n); for the sample standard
    # deviation of Gaussian noise sigma / sqrt(2 (n - 1)); for the correlation 1 / sqrt(n).
    mean_tol = 4 * sigma / math.sqrt(n)
    std_tol = 4 * sigma / math.sqrt(2 * (n - 1))
    assert np.all(np.abs(w.mean(axis=0)) < mean_tol)
    assert np.all(np.abs(w.std(axis=0, ddof=1) - sigma) < std_tol)
    assert abs(np.corrcoef(w[:, 0], w[:, 1])[0, 1]) < 4 / math.sqrt(n)
    # and independent over time (lag-1 autocorrelation)
    for k in range(2):
        assert abs(np.corrcoef(w[:-1, k], w[1:, k])[0, 1]) < 4 / math.sqrt(n)


def test_zero_noise_draws_nothing_from_the_generator():
    env = _duopoly_env(noise_std=0.0)
    env.reset(seed=3)
    state = env.np_random.bit_generator.state
    for _ in range(10):
        env.step(_act([20.0], [15.0]))
    assert env.np_random.bit_generator.state == state


def test_aec_env_face():
    env = hic_envs.aec_env(Duopoly(a=60), max_cycles=3, noise_std=0.0)
    assert isinstance(env, pettingzoo.AECEnv)
    assert env.unwrapped.game.a == 60 and env.unwrapped.max_cycles == 3
    env.reset(seed=0)
    steps = 0
    for _agent in env.agent_iter():
        _, _, term, trunc, _ = env.last()
        env.step(None if term or trunc else np.array([10.0]))
        steps += 1
    assert steps == 2 * 3 + 2  # three cycles of two agents, then each agent's dead step
    api_test(hic_envs.aec_env(Duopoly()), num_cycles=20)
