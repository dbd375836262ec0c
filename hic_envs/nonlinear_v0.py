"""``hic/Nonlinear-v0``: see :class:`hic_envs.games.NonlinearGame` for the game's documentation."""

from hic_envs.games.nonlinear import NonlinearGame
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(NonlinearGame)

__all__ = ["env", "parallel_env", "raw_env"]
