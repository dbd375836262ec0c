"""``hic/RandomQuadratic-v0``: documented at :class:`hic_envs.games.RandomQuadraticGame`."""

from hic_envs.games.random_quadratic import RandomQuadraticGame
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(RandomQuadraticGame)

__all__ = ["env", "parallel_env", "raw_env"]
