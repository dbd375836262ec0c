"""Making environments by ID: the library's registrations and users' own games."""

from __future__ import annotations

import pickle

import numpy as np
import pettingzoo
import pytest
from pettingzoo.env_registry.exceptions import PettingZooRegistryError
from pettingzoo.test import api_test, parallel_api_test
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

import hic_envs
from hic_envs import FOLLOWER, LEADER, GameEnv
from hic_envs.games import CustomGame, Duopoly, Game
from hic_envs.registration import LIBRARY_GAMES, alias_module

# PettingZoo's kits warn about style choices that are deliberate here: one-dimensional
# strategies, boxes centred on zero (the reset observation is then all zeros), and leader and
# follower boxes of different sizes.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Observation is a single number:UserWarning"),
    pytest.mark.filterwarnings("ignore:Observation numpy array is all zeros:UserWarning"),
    pytest.mark.filterwarnings("ignore:Agents have different observation space sizes:UserWarning"),
]


# ---------------------------------------------------------------------- library IDs
def test_every_library_id_is_in_both_registries_and_listed():
    listed = hic_envs.list_envs()
    assert listed[: len(LIBRARY_GAMES)] == list(LIBRARY_GAMES)
    for env_id in LIBRARY_GAMES:
        assert pettingzoo.spec("parallel", env_id).id == env_id
        assert pettingzoo.spec("aec", env_id).id == env_id


def test_keyword_arguments_reach_the_game_constructor():
    env = pettingzoo.make("parallel", "hic/Duopoly-v0", a=60)
    assert isinstance(env, GameEnv) and isinstance(env.game, Duopoly)
    assert env.game.a == 60
    assert env.game.stackelberg().x[0] == pytest.approx((60 - 2 + 1) / 2)
    aec = pettingzoo.make("aec", "hic/Duopoly-v0", a=60, c2=2.0)
    assert isinstance(aec, OrderEnforcingWrapper)
    assert aec.unwrapped.game.a == 60 and aec.unwrapped.game.c2 == 2.0


def test_env_arguments_and_game_arguments_are_separated():
    env = pettingzoo.make(
        "parallel", "hic/Duopoly-v0", max_cycles=7, noise_std=0.5, render_mode="ansi", b=2.0
    )
    assert (env.max_cycles, env.noise_std, env.render_mode) == (7, 0.5, "ansi")
    assert env.game.b == 2.0
    with pytest.raises(TypeError, match="nonsense"):
        pettingzoo.make("parallel", "hic/Duopoly-v0", nonsense=1)
    # A misspelt keyword names the game's and the env's, and the nearest of either.
    want = (
        r"^Duopoly takes no argument\(s\) \['nosie_std'\] \(did you mean 'noise_std'\?\); its "
        r"arguments are \['a', 'b', 'c1', 'c2'\], besides \['max_cycles', 'noise_std', "
        r"'render_mode'\] for the env$"
    )
    with pytest.raises(TypeError, match=want):
        pettingzoo.make("parallel", "hic/Duopoly-v0", nosie_std=0.5)
    with pytest.raises(TypeError, match=r"\['aa'\]; its arguments"):  # nothing near enough
        pettingzoo.make("aec", "hic/Duopoly-v0", aa=50)
    # A factory with **kwargs checks its own keywords.
    hic_envs.register_game("test/AnyKwargs-v0", lambda **kw: Duopoly(**kw))
    with pytest.raises(TypeError, match="unexpected keyword argument 'aa'"):
        pettingzoo.make("parallel", "test/AnyKwargs-v0", aa=50)
    assert pettingzoo.make("parallel", "test/AnyKwargs-v0", a=60).game.a == 60


def test_game_from_id_refuses_the_envs_keywords():
    """game_from_id returns the game alone: an env keyword among the game's arguments would be
    dropped with the env (``hic run --game-kwarg noise_std=1`` ran without noise)."""
    for kw in ({"noise_std": 1.0}, {"max_cycles": 5, "a": 60}):
        with pytest.raises(ValueError, match=r"are the env's, not the game's"):
            hic_envs.game_from_id("hic/Duopoly-v0", kw)
    assert hic_envs.game_from_id("hic/Duopoly-v0", {"a": 60}).a == 60
    with pytest.raises(ValueError, match="a must be a positive finite number, got -1"):
        pettingzoo.make("parallel", "hic/Duopoly-v0", a=-1)


@pytest.mark.parametrize("env_type", ["parallel", "aec"])
def test_max_cycles_through_make(env_type):
    env = pettingzoo.make(env_type, "hic/Duopoly-v0", max_cycles=3)
    assert env.unwrapped.max_cycles == 3
    if env_type == "parallel":
        env.reset(seed=0)
        for _ in range(3):
            assert env.agents
            env.step({a: np.array([10.0]) for a in env.agents})
        assert env.agents == []
    else:
        env.reset(seed=0)
        live_steps = 0
        for _agent in env.agent_iter():
            _, _, term, trunc, _ = env.last()
            live_steps += not (term or trunc)
            env.step(None if term or trunc else np.array([10.0]))
        assert live_steps == 2 * 3


@pytest.mark.parametrize("env_type", ["parallel", "aec"])
def test_unversioned_id_resolves_to_the_newest_version(env_type):
    env = pettingzoo.make(env_type, "hic/Duopoly")
    assert isinstance(env.unwrapped, GameEnv) and isinstance(env.unwrapped.game, Duopoly)


@pytest.mark.parametrize("env_id", ["hic/NoSuchGame-v0", "hic/Duopoly-v9", "nope/Duopoly-v0"])
def test_unknown_ids_raise_pettingzoos_registry_error(env_id):
    # pettingzoo.make reports unknown IDs with its own exception types
    with pytest.raises(PettingZooRegistryError):
        pettingzoo.make("parallel", env_id)


def test_alias_module_names():
    assert alias_module("hic/Duopoly-v0") == "hic_envs.duopoly_v0"
    assert alias_module("hic/DiracGAN-v0") == "hic_envs.dirac_gan_v0"
    assert alias_module("hic/RandomQuadratic-v0") == "hic_envs.random_quadratic_v0"
    with pytest.raises(ValueError, match="'mylab/Thing-v0' is not a library game's ID"):
        alias_module("mylab/Thing-v0")


# ---------------------------------------------------------------------- users' games
def _f1(x, y):
    # f1(x, r(x)) = -(x - 2)^2 - (x/2 - 2)^2 is maximal at x* = 2.4, so y* = r(x*) = 1.2
    return -((x[0] - 2.0) ** 2) - (y[0] - 2.0) ** 2


def _f2(x, y):
    return -((y[0] - 0.5 * x[0]) ** 2)  # r(x) = x / 2


def make_custom(scale: float = 1.0) -> CustomGame:
    """A user's game factory with a keyword argument (``scale`` widens the boxes)."""
    return CustomGame(_f1, _f2, [-5.0 * scale], [5.0 * scale], [-5.0 * scale], [5.0 * scale])


def test_register_game_puts_a_custom_game_in_both_registries():
    hic_envs.register_game("test/MyCustom-v0", make_custom)
    assert "test/MyCustom-v0" in hic_envs.list_envs()
    assert hic_envs.list_envs()[: len(LIBRARY_GAMES)] == list(LIBRARY_GAMES)

    env = pettingzoo.make("parallel", "test/MyCustom-v0", scale=2.0, max_cycles=50)
    assert isinstance(env, GameEnv) and isinstance(env.game, CustomGame)
    assert env.game.leader_high[0] == 10.0 and env.max_cycles == 50
    dse = env.game.stackelberg()
    np.testing.assert_allclose(dse.x, [2.4], atol=1e-5)
    np.testing.assert_allclose(dse.y, [1.2], atol=1e-5)

    parallel_api_test(env, num_cycles=60)
    env.reset(seed=0)
    x, y = np.array([1.5]), np.array([12.0])  # the follower's action is projected to 10
    obs, rew, _, _, infos = env.step({LEADER: x, FOLLOWER: y})
    assert rew[LEADER] == _f1(x, np.array([10.0])) and rew[FOLLOWER] == _f2(x, np.array([10.0]))
    assert infos[FOLLOWER]["projected"] and np.array_equal(obs[LEADER], [10.0])
    # module-level payoffs pickle, so the env does too
    clone = pickle.loads(pickle.dumps(env))
    a = {LEADER: np.array([2.0]), FOLLOWER: np.array([1.0])}
    assert clone.step(a)[1] == env.step(a)[1]

    aec = pettingzoo.make("aec", "test/MyCustom-v0", render_mode="ansi")
    assert isinstance(aec.unwrapped.game, CustomGame)
    api_test(aec, num_cycles=30)
    assert aec.render().startswith("Custom stage")


def test_register_game_with_a_subclass_and_a_default_max_cycles():
    class Tiny(Game):
        name = "Tiny"

        def __init__(self, shift: float = 0.0):
            super().__init__([-1.0], [1.0], [-1.0], [1.0])
            self.shift = shift

        def leader_payoff(self, x, y):
            return -((x[..., 0] - self.shift) ** 2) + x[..., 0] * y[..., 0]

        def follower_payoff(self, x, y):
            return -((y[..., 0] - x[..., 0]) ** 2)

    hic_envs.register_game("test/Tiny-v0", Tiny, max_cycles=4)
    env = pettingzoo.make("parallel", "test/Tiny-v0", shift=0.25)
    assert env.max_cycles == 4 and env.game.shift == 0.25
    assert pettingzoo.make("parallel", "test/Tiny-v0", max_cycles=9).max_cycles == 9
    env.reset(seed=0)
    _, rew, *_ = env.step({LEADER: np.array([0.5]), FOLLOWER: np.array([0.5])})
    assert rew == {LEADER: -(0.25**2) + 0.25, FOLLOWER: -0.0}
    assert pettingzoo.make("aec", "test/Tiny-v0").unwrapped.max_cycles == 4


def test_a_factory_that_does_not_return_a_game_fails_at_make():
    hic_envs.register_game("test/NotAGame-v0", lambda: "duopoly")
    with pytest.raises(TypeError, match="returned str, expected a hic_envs.games.Game"):
        pettingzoo.make("parallel", "test/NotAGame-v0")


@pytest.mark.parametrize(
    "env_id", ["Duopoly", "hic/Duopoly", "hic/Duopoly-v", "hic/Duo poly-v0", "hic/-v0", "", 3]
)
def test_register_game_rejects_bad_ids(env_id):
    with pytest.raises(ValueError, match="env_id must look like 'namespace/Name-v0', got"):
        hic_envs.register_game(env_id, Duopoly)
    assert env_id not in hic_envs.list_envs()


def test_register_game_rejects_bad_factories_and_max_cycles():
    with pytest.raises(TypeError, match="game_factory must be callable .* got Duopoly"):
        hic_envs.register_game("test/Instance-v0", Duopoly())
    with pytest.raises(ValueError, match="max_cycles must be None or a positive integer, got 0"):
        hic_envs.register_game("test/Zero-v0", Duopoly, max_cycles=0)
    assert "test/Instance-v0" not in hic_envs.list_envs()
    assert "test/Zero-v0" not in hic_envs.list_envs()
