"""``hic/MatchingPennies-v0``: the game :class:`hic_envs.games.MatchingPennies`."""

from hic_envs.games.matrix import MatchingPennies
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(MatchingPennies)

__all__ = ["env", "parallel_env", "raw_env"]
