"""``hic/IteratedPrisonersDilemma-v0``: the game
:class:`hic_envs.games.IteratedPrisonersDilemma`."""

from hic_envs.games.ipd import IteratedPrisonersDilemma
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(IteratedPrisonersDilemma)

__all__ = ["env", "parallel_env", "raw_env"]
