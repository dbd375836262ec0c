"""``hic/Hamiltonian-v0``: :class:`hic_envs.games.HamiltonianGame`, documented there."""

from hic_envs.games.hamiltonian import HamiltonianGame
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(HamiltonianGame)

__all__ = ["env", "parallel_env", "raw_env"]
