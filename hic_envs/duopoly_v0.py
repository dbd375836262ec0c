"""``hic/Duopoly-v0``: see :class:`hic_envs.games.Duopoly` for the game's documentation."""

from hic_envs.games.duopoly import Duopoly
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(Duopoly)

__all__ = ["env", "parallel_env", "raw_env"]
