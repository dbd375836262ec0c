"""``hic/Tandem-v0``: see :class:`hic_envs.games.TandemGame` for the game's documentation."""

from hic_envs.games.tandem import TandemGame
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(TandemGame)

__all__ = ["env", "parallel_env", "raw_env"]
