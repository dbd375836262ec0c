"""``hic/StagHunt-v0``: see :class:`hic_envs.games.StagHunt` for the game's documentation."""

from hic_envs.games.matrix import StagHunt
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(StagHunt)

__all__ = ["env", "parallel_env", "raw_env"]
