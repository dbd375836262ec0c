"""``hic/Security-v0``: see :class:`hic_envs.games.SecurityGame` for the game's documentation."""

from hic_envs.games.security import SecurityGame
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(SecurityGame)

__all__ = ["env", "parallel_env", "raw_env"]
