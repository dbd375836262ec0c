"""``hic/Quadratic-v0``: see :class:`hic_envs.games.QuadraticGame` for the game's documentation."""

from hic_envs.games.quadratic import QuadraticGame
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(QuadraticGame)

__all__ = ["env", "parallel_env", "raw_env"]
