"""TorchRL's PettingZooWrapper drives GameEnv, parallel and AEC (the ``interop`` extra).

TorchRL builds its specs from the infos of ``reset`` and fails on the first step when a step
adds a key (issue 11); with the same keys at reset and step, ``check_env_specs`` and
``rollout`` pass. The tests also check what TorchRL reports against the game's payoffs.
"""

import warnings

import numpy as np
import pytest

torchrl_envs = pytest.importorskip(
    "torchrl.envs", reason="TorchRL is not installed (pip install -e '.[interop]')"
)
torchrl_utils = pytest.importorskip("torchrl.envs.utils")

from hic_envs.env import FOLLOWER, LEADER, GameEnv, aec_env  # noqa: E402
from hic_envs.games import Duopoly, RandomQuadraticGame  # noqa: E402

GAMES = {
    "duopoly": Duopoly,
    # unequal boxes and dimensions: one TorchRL group per player, each with its own specs
    "random_quadratic_2x3": lambda: RandomQuadraticGame(d1=2, d2=3, seed=1),
}


def _wrap(env):
    with warnings.catch_warnings():
        # TorchRL warns that it is tested against PettingZoo 1.24.3; we run 1.27.
        warnings.filterwarnings("ignore", message="PettingZoo in TorchRL is tested")
        return torchrl_envs.PettingZooWrapper(env, use_mask=True, seed=0)


@pytest.mark.parametrize("name", sorted(GAMES))
def test_parallel_face_passes_check_env_specs_and_rollout(name):
    game = GAMES[name]()
    env = _wrap(GameEnv(game, max_cycles=5))
    torchrl_utils.check_env_specs(env)
    # Parallel face: TorchRL groups agents by name prefix, "leader" and "follower".
    assert env.group_map == {"leader": [LEADER], "follower": [FOLLOWER]}
    td = env.rollout(5)
    assert td.batch_size == (5,)
    x = td["leader"]["action"][:, 0].double().numpy()  # (5, d1)
    y = td["follower"]["action"][:, 0].double().numpy()
    assert x.shape == (5, game.d1) and y.shape == (5, game.d2)
    nxt = td["next"]
    # rewards are the game's payoffs at the actions played (float32 in TorchRL's specs)
    np.testing.assert_allclose(
        nxt["leader"]["reward"][:, 0, 0].numpy(), game.leader_payoff(x, y), rtol=1e-6, atol=1e-5
    )
    np.testing.assert_allclose(
        nxt["follower"]["reward"][:, 0, 0].numpy(), game.follower_payoff(x, y), rtol=1e-6, atol=1e-5
    )
    # each player observes the other's action (float64, as the env's spaces)
    assert np.array_equal(nxt["leader"]["observation"][:, 0].numpy(), y)
    assert np.array_equal(nxt["follower"]["observation"][:, 0].numpy(), x)
    # the info keys of reset and step, with the reset payoff at the box centres
    assert set(td["leader"]["info"].keys()) == {"stage", "projected", "payoff"}
    assert nxt["leader"]["info"]["stage"][:, 0].tolist() == [1, 2, 3, 4, 5]
    xc = 0.5 * (game.leader_low + game.leader_high)
    yc = 0.5 * (game.follower_low + game.follower_high)
    assert td["leader"]["info"]["payoff"][0, 0].item() == pytest.approx(
        float(game.leader_payoff(xc, yc)), rel=1e-6
    )
    assert bool(nxt["truncated"][-1]) and not bool(nxt["truncated"][:-1].any())


@pytest.mark.parametrize("name", sorted(GAMES))
def test_aec_face_passes_check_env_specs_and_rollout(name):
    game = GAMES[name]()
    env = _wrap(aec_env(game, max_cycles=3))
    torchrl_utils.check_env_specs(env)
    assert env.group_map == {LEADER: [LEADER], FOLLOWER: [FOLLOWER]}  # one group per agent
    td = env.rollout(6)  # two AEC steps per stage, three stages
    assert td.batch_size == (6,)
    # one player acts at a time: the masks alternate, leader first
    assert td[LEADER]["mask"][:, 0].tolist() == [True, False] * 3
    assert td[FOLLOWER]["mask"][:, 0].tolist() == [False, True] * 3
    x = td[LEADER]["action"][0::2, 0].double().numpy()
    y = td[FOLLOWER]["action"][1::2, 0].double().numpy()
    # the stage's payoffs arrive once the follower has acted
    nxt = td["next"]
    np.testing.assert_allclose(
        nxt[LEADER]["reward"][1::2, 0, 0].numpy(), game.leader_payoff(x, y), rtol=1e-6, atol=1e-5
    )
    np.testing.assert_allclose(
        nxt[FOLLOWER]["reward"][1::2, 0, 0].numpy(),
        game.follower_payoff(x, y),
        rtol=1e-6,
        atol=1e-5,
    )
    assert bool(nxt["done"][-1]) and not bool(nxt["done"][:-1].any())


def test_a_step_info_key_missing_at_reset_is_what_breaks_torchrl(monkeypatch):
    # The failure of issue 11, reproduced by removing "payoff" from the reset infos: TorchRL
    # raises on the first step. Guards the reason GameEnv.reset carries every step key.
    orig = GameEnv.reset

    def reset_without_payoff(self, seed=None, options=None):
        obs, infos = orig(self, seed=seed, options=options)
        for info in infos.values():
            del info["payoff"]
        return obs, infos

    monkeypatch.setattr(GameEnv, "reset", reset_without_payoff)
    env = _wrap(GameEnv(Duopoly(), max_cycles=5))
    with pytest.raises(TypeError, match="does not support item assignment"):
        env.rollout(2)
