"""``hic/PrisonersDilemma-v0``: the game :class:`hic_envs.games.PrisonersDilemma`."""

from hic_envs.games.matrix import PrisonersDilemma
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(PrisonersDilemma)

__all__ = ["env", "parallel_env", "raw_env"]
