"""``hic/Cooperative-v0``: the game is documented at :class:`hic_envs.games.CooperativeGame`."""

from hic_envs.games.cooperative import CooperativeGame
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(CooperativeGame)

__all__ = ["env", "parallel_env", "raw_env"]
