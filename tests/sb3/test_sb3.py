"""Stable-Baselines3 on the views, SB3 policies as agents, and the training helper.

Budgets: the fast tests train a few hundred steps each; the one slow test trains SAC for
1,500 steps (1,300 gradient steps).
"""

from __future__ import annotations

import json
import warnings

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.env_util import make_vec_env

import agents
from agents import GradientAscentFollower, HiCLeader
from agents.compose import play, run_batch
from agents.compose.cli.config import parse, parser_for
from agents.compose.experiments.training import TrainConfig, format_report, train_follower
from agents.presets import leader_grid, reactive_hic_kwargs
from agents.sb3 import (
    SB3Follower,
    SB3Leader,
    best_response_error,
    payoff_scale,
    policy_response,
)
from agents.schedules import PowerLaw
from agents.stationary import FixedAgent
from hic_envs import GameEnv
from hic_envs.games import Duopoly
from hic_envs.units import to_unit

ID = "hic/Duopoly-Follower-v0"


def _box(low, high) -> spaces.Box:
    return spaces.Box(np.asarray(low, float), np.asarray(high, float), dtype=np.float64)


def _hic(game, num_envs=None) -> HiCLeader:
    box = _box(game.leader_low, game.leader_high)
    return HiCLeader(box, PowerLaw(0.01, 0.602, A=10), PowerLaw(1.0, 0.101), 3, num_envs=num_envs)


def _params(model) -> np.ndarray:
    return torch.nn.utils.parameters_to_vector(model.policy.parameters()).detach().numpy().copy()


def _untrained_sac(env_id: str = ID, **env_kwargs) -> SAC:
    """A SAC model whose (random) policy is enough to test the plumbing."""
    return SAC(
        "MlpPolicy",
        gymnasium.make(env_id, **env_kwargs),
        seed=0,
        device="cpu",
        policy_kwargs={"net_arch": [16]},
    )


# ---------------------------------------------------------------------- SB3 on the views
@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_make_vec_env_trains_ppo_and_sac_without_warnings(algo):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # SB3's checker, gymnasium and training: no warning
        vec = make_vec_env(ID, n_envs=4, seed=0)
        for sub in vec.envs:
            sb3_check_env(sub)
        vec = make_vec_env(ID, n_envs=4, seed=0)  # fresh envs: the checker stepped those
        if algo == "ppo":
            model = PPO(
                "MlpPolicy", vec, n_steps=64, batch_size=64, n_epochs=2, seed=0, device="cpu"
            )
            steps = 512
        else:
            model = SAC(
                "MlpPolicy",
                vec,
                learning_starts=100,
                batch_size=64,
                seed=0,
                device="cpu",
                policy_kwargs={"net_arch": [32, 32]},
            )
            steps = 400
        before = _params(model)
        model.learn(steps)
    assert model.num_timesteps == steps
    assert not np.array_equal(_params(model), before)  # the policy was trained
    leaders = vec.get_attr("leader")
    assert len({id(ld) for ld in leaders}) == 4  # one Hi-C leader per env
    states = {json.dumps(ld.np_random.bit_generator.state, default=str) for ld in leaders}
    assert len(states) == 4  # seeded differently (seed + rank)


# ---------------------------------------------------------------------- SB3 policies as agents
def test_sb3_follower_in_the_pettingzoo_loop_answers_the_observed_leader_action():
    game = Duopoly()
    model = _untrained_sac()
    follower = SB3Follower(model, game)
    hist = play(GameEnv(game, max_cycles=50), _hic(game), follower, stages=120, seed=2)
    # In the loop the follower observes the leader's action at the stage just played (the
    # centre of X before the first stage and after each reset).
    centre = np.array([0.5 * (game.leader_low + game.leader_high)])
    observed = np.concatenate([centre, hist.leader_actions[:-1]])
    observed[50::50] = centre
    # One predict per stage, as in the loop (torch's float32 sums can differ by an ulp
    # between batch sizes).
    expected = np.concatenate([policy_response(model, game, o[None]) for o in observed])
    np.testing.assert_array_equal(hist.follower_actions, expected)
    assert np.all(hist.follower_actions >= 0) and np.all(hist.follower_actions <= 50)
    np.testing.assert_array_equal(follower.strategy, expected[-1])


def test_batched_sb3_follower_matches_play_for_each_seed():
    game = Duopoly()
    model = _untrained_sac()
    batch = run_batch(
        game, _hic(game, 1), SB3Follower(model, game, num_envs=1), 90, seed=4, max_cycles=40
    )
    single = play(GameEnv(game, max_cycles=40), _hic(game), SB3Follower(model, game), 90, seed=4)
    np.testing.assert_array_equal(batch.final_leader[0], single.leader_strategies[-1])
    np.testing.assert_array_equal(batch.final_follower[0], single.follower_actions[-1])

    x0 = 30.0
    fixed = FixedAgent(_box(game.leader_low, game.leader_high), [x0], num_envs=3)
    many = run_batch(game, fixed, SB3Follower(model, game, num_envs=3), 5, seed=4)
    assert many.final_follower.shape == (3, 1)
    np.testing.assert_allclose(
        many.final_follower,
        np.repeat(policy_response(model, game, [[x0]]), 3, axis=0),
        rtol=1e-6,
    )


def test_ad_hoc_sb3_follower_ignores_the_leader():
    game = Duopoly()
    model = _untrained_sac(observe_leader=False)
    follower = SB3Follower(model, game, observe_leader=False)
    hist = play(GameEnv(game), _hic(game), follower, stages=30, seed=0)
    assert np.unique(hist.follower_actions).size == 1


def test_sb3_leader_in_the_loop_sees_what_the_leader_view_shows():
    game = Duopoly()
    model = PPO(
        "MlpPolicy",
        gymnasium.make("hic/Duopoly-Leader-v0"),
        n_steps=64,
        batch_size=64,
        seed=0,
        device="cpu",
    )
    model.learn(64)
    leader = SB3Leader(model, game)
    hist = play(GameEnv(game), leader, GradientAscentFollower(game, 0.1), stages=40, seed=1)
    centre = np.array([0.5 * (game.follower_low + game.follower_high)])
    observed = np.concatenate([centre, hist.follower_actions[:-1]])
    unit = to_unit(observed, game.follower_low, game.follower_high).astype(np.float32)
    a = np.concatenate([model.predict(u[None], deterministic=True)[0] for u in unit])
    expected = 25.0 * (np.clip(a.astype(np.float64), -1.0, 1.0) + 1.0)
    np.testing.assert_allclose(hist.leader_actions, expected, rtol=1e-14)


def test_sb3_agents_refuse_models_of_the_wrong_shape():
    game = Duopoly()
    with pytest.raises(TypeError, match="Stable-Baselines3 model"):
        SB3Follower(object(), game)
    security = _untrained_sac("hic/Security-Follower-v0")
    with pytest.raises(ValueError, match=r"action space must be Box\(-1, 1, \(1,\)\)"):
        SB3Follower(security, game)
    with pytest.raises(TypeError, match="game must be"):
        SB3Leader(_untrained_sac(), "Duopoly")
    with pytest.raises(TypeError, match="deterministic must be a bool"):
        SB3Follower(_untrained_sac(), game, deterministic="yes")


# ---------------------------------------------------------------------- scoring helpers
def test_best_response_error_of_the_true_best_response_is_zero():
    game = Duopoly()

    class Oracle:  # a "model" whose predict is the exact best response, in unit space
        observation_space = spaces.Box(-1, 1, (1,), np.float32)
        action_space = spaces.Box(-1, 1, (1,), np.float32)

        def predict(self, obs, deterministic=True):
            x = 25.0 * (obs.astype(np.float64) + 1.0)
            return to_unit(game.best_response(x), 0.0, 50.0), None

    err = best_response_error(Oracle(), game, leader_grid(game, 51))
    assert err.points == 51 and err.max < 1e-5  # float32 observations: ~1e-6 of the box
    off = best_response_error(_untrained_sac(), game, leader_grid(game, 51))
    assert off.mean > 1.0


def test_leader_grid_and_scales():
    game = Duopoly()
    g = leader_grid(game, 11)
    assert g.shape == (11, 1) and g[0, 0] == 0.0 and g[-1, 0] == 50.0
    local = leader_grid(game, 5, center=[24.5], radius=0.1)
    np.testing.assert_allclose(local[:, 0], [19.5, 22.0, 24.5, 27.0, 29.5])
    edge = leader_grid(game, 3, center=[1.0], radius=0.1)
    np.testing.assert_allclose(edge[:, 0], [0.0, 3.0, 6.0])
    with pytest.raises(ValueError, match="both center and radius"):
        leader_grid(game, 5, center=[1.0])
    s = payoff_scale(game)
    assert s == payoff_scale(Duopoly()) and 1e-4 < s < 1e-2
    kw = reactive_hic_kwargs(game)
    assert kw["commitment"] == 2 and kw["two_sided"] is True
    # On the 65-point grid of [0, 50], f1(x, r(x)) runs from -50 (x = 50, r = 0) to
    # 24.21875 * 24.78125 / 2 = 300.0854 (x = 24.21875): a = 0.05 * 50^2 / 350.0854.
    assert kw["step_size"].a == pytest.approx(125.0 / 350.0854, rel=1e-6)
    assert kw["perturbation"](0) == pytest.approx(2.0)
    HiCLeader(_box(game.leader_low, game.leader_high), **kw)  # valid, no Assumption 4.4 warning
    with pytest.raises(ValueError, match="commitment"):
        reactive_hic_kwargs(game, commitment=0)
    with pytest.raises(ValueError, match="step"):
        reactive_hic_kwargs(game, step=-1.0)


# ---------------------------------------------------------------------- config and training
def test_config_flags_come_from_the_dataclass_with_docs():
    help_text = " ".join(parser_for(TrainConfig).format_help().split())
    assert "--hic-commitment" in help_text and "Hi-C's commitment k" in help_text
    assert "--no-progress-bar" in help_text
    cfg = parse(
        TrainConfig,
        [
            "--algo",
            "ppo",
            "--net-arch",
            "32",
            "16",
            "--no-progress-bar",
            "--reward-scale",
            "none",
            "--out",
            "none",
            "--game-kwarg",
            "a=60",
        ],
    )
    assert cfg.algo == "ppo" and cfg.net_arch == (32, 16) and cfg.progress_bar is False
    assert cfg.reward_scale is None and cfg.out is None and cfg.game_kwargs == {"a": 60}
    assert parse(TrainConfig, []) == TrainConfig()


def test_game_kwargs_json_is_read_with_a_deprecation_note(capsys):
    # hic run and hic train-follower spell game arguments the same way (--game-kwarg KEY=VALUE);
    # the old JSON flag still works and says what to write instead.
    cfg = parse(TrainConfig, ["--game-kwargs", '{"a": 60, "b": 2.5}'], prog="hic train-follower")
    assert cfg.game_kwargs == {"a": 60, "b": 2.5}
    err = capsys.readouterr().err
    assert "--game-kwargs JSON is deprecated; write --game-kwarg a=60 --game-kwarg b=2.5" in err
    with pytest.raises(SystemExit):
        parse(TrainConfig, ["--game-kwargs", "[1]"], prog="hic train-follower")
    assert "--game-kwargs: expected a JSON object, got '[1]'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"algo": "dqn"}, "algo must be one of"),
        ({"env_id": "hic/Duopoly-v0"}, "follower view ID"),
        ({"total_steps": 0}, "total_steps must be a positive integer"),
        ({"gamma": 1.5}, "gamma must be in"),
        ({"game_kwargs": "[1]"}, "JSON object"),
        ({"ent_coef": "lots"}, "ent_coef"),
        ({"net_arch": ()}, "net_arch"),
    ],
)
def test_bad_config_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_train_follower_writes_model_summary_and_tensorboard(tmp_path):
    cfg = TrainConfig(
        total_steps=300,
        learning_starts=100,
        out=str(tmp_path / "run"),
        progress_bar=False,
        max_episode_steps=100,
        grid_points=11,
        game_kwargs='{"a": 40}',
    )
    result = train_follower(cfg)
    run = tmp_path / "run"
    assert (run / "model.zip").is_file()
    assert any((run / "tb").rglob("events.out.tfevents.*"))
    summary = json.loads((run / "summary.json").read_text())
    assert summary["dse"]["x"] == [19.5]  # a = 40: x* = (a - 2 c1 + c2) / 2b
    assert summary["final_leader"] == result.final_leader.tolist()
    assert len(summary["episode_payoffs"][0]) == 3
    assert result.tracker.timesteps[0] == 0 and result.tracker.timesteps[-1] == 300
    loaded = SAC.load(run / "model.zip", device="cpu")
    assert loaded.predict(np.zeros(1, np.float32))[0].shape == (1,)
    report = format_report(result)
    assert "distance to the DSE" in report and "3 episodes" in report


@pytest.mark.slow
def test_sac_learns_the_best_response_to_a_fixed_leader():
    """SAC, 1,500 steps against a leader fixed at x0 = 20: |pi(x0) - r(x0)| < 0.25.

    0.25 is 0.5% of the follower's box [0, 50] (r(20) = 14.5); 2,000-step runs with seeds 0,
    1, 2 ended 0.033, 0.004 and 0.016 away. The trained policy then plays as an
    :class:`SB3Follower` in :func:`agents.compose.play`.
    """
    game, x0 = Duopoly(), 20.0
    leader = FixedAgent(_box(game.leader_low, game.leader_high), [x0])
    cfg = TrainConfig(
        total_steps=2000, learning_starts=200, train_freq=1, out=None, progress_bar=False, seed=0
    )
    result = train_follower(
        cfg, leader=lambda g: FixedAgent(_box(g.leader_low, g.leader_high), [x0])
    )
    np.testing.assert_array_equal(result.final_leader, [[x0]])
    err = best_response_error(result.model, game, np.array([[x0]]))
    assert err.max < 0.25, err

    hist = play(GameEnv(game), leader, SB3Follower(result.model, game), stages=20, seed=0)
    assert np.all(np.abs(hist.follower_actions[1:] - game.best_response(np.array([x0]))) < 0.25)


def test_agents_exports_the_sb3_agents_lazily():
    assert agents.SB3Follower is SB3Follower and agents.SB3Leader is SB3Leader
