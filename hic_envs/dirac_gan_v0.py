"""``hic/DiracGAN-v0``: see :class:`hic_envs.games.DiracGAN` for the game's documentation."""

from hic_envs.games.dirac_gan import DiracGAN
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(DiracGAN)

__all__ = ["env", "parallel_env", "raw_env"]
