"""``hic/ZeroSum-v0``: see :class:`hic_envs.games.ZeroSumNoNash` for the game's documentation."""

from hic_envs.games.zero_sum import ZeroSumNoNash
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(ZeroSumNoNash)

__all__ = ["env", "parallel_env", "raw_env"]
