"""``hic/CovarianceGAN-v0``: documented at :class:`hic_envs.games.CovarianceGAN`."""

from hic_envs.games.covariance_gan import CovarianceGAN
from hic_envs.registration import make_env_fns

env, parallel_env, raw_env = make_env_fns(CovarianceGAN)

__all__ = ["env", "parallel_env", "raw_env"]
