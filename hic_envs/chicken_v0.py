"""``hic/Chicken-v0``: see :class:`hic_envs.games.Chicken` for the game's documentation."""

from hic_envs.games.matrix import Chicken
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(Chicken)

__all__ = ["env", "parallel_env", "raw_env"]
