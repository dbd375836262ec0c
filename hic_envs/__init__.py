"""hic-envs: leader-follower (Stackelberg) learning in differentiable games.

``import hic_envs`` registers every library game in PettingZoo's registries, so
``pettingzoo.make("parallel", "hic/Duopoly-v0")`` works, and their single-agent views in
Gymnasium's registry, so ``gymnasium.make("hic/Duopoly-Follower-v0")`` works (the views embed
a learning partner from :mod:`agents`; their entry points are strings, imported when a view is
made, so this package imports nothing from ``agents``).
"""

from hic_envs import games
from hic_envs.env import FOLLOWER, LEADER, GameEnv, aec_env
from hic_envs.registration import _register_library as _reg
from hic_envs.registration import game_from_id, list_envs, make_env_fns, register_game
from hic_envs.stage import Stage

#: The package version: the one source (pyproject.toml reads it, ``agents.__version__`` and
#: ``hic --version`` show it).
__version__ = "0.1.0"

__all__ = [
    "FOLLOWER",
    "LEADER",
    "GameEnv",
    "Stage",
    "__version__",
    "aec_env",
    "game_from_id",
    "games",
    "list_envs",
    "make_env_fns",
    "register_game",
]

_reg()
del _reg
