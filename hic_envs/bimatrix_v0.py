"""``hic/Bimatrix-v0``: see :class:`hic_envs.games.Bimatrix` for the game's documentation."""

from hic_envs.games.bimatrix import Bimatrix
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(Bimatrix)

__all__ = ["env", "parallel_env", "raw_env"]
