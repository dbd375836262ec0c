"""``hic/MogGAN-v0``: documented at :class:`hic_envs.games.MogGAN`."""

from hic_envs.games.mog_gan import MogGAN
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(MogGAN)

__all__ = ["env", "parallel_env", "raw_env"]
