"""``hic/BattleOfSexes-v0``: :class:`hic_envs.games.BattleOfSexes`, documented there."""

from hic_envs.games.matrix import BattleOfSexes
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(BattleOfSexes)

__all__ = ["env", "parallel_env", "raw_env"]
