"""``hic/Coordination-v0``: :class:`hic_envs.games.Coordination`, documented there."""

from hic_envs.games.matrix import Coordination
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(Coordination)

__all__ = ["env", "parallel_env", "raw_env"]
