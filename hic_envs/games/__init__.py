"""The game library: pure math, NumPy and SciPy only (no gymnasium or pettingzoo imports).

Each game is the single source of truth for its payoffs, derivatives, best response and
equilibria; every function takes a leading batch axis.
"""

from hic_envs.games.base import Equilibrium, Game
from hic_envs.games.cooperative import CooperativeGame
from hic_envs.games.custom import CustomGame
from hic_envs.games.dirac_gan import DiracGAN
from hic_envs.games.duopoly import Duopoly
from hic_envs.games.nonlinear import NonlinearGame
from hic_envs.games.quadratic import QuadraticGame
from hic_envs.games.random_quadratic import RandomQuadraticGame
from hic_envs.games.security import SecurityGame
from hic_envs.games.zero_sum import ZeroSumNoNash

__all__ = [
    "CooperativeGame",
    "CustomGame",
    "DiracGAN",
    "Duopoly",
    "Equilibrium",
    "Game",
    "NonlinearGame",
    "QuadraticGame",
    "RandomQuadraticGame",
    "SecurityGame",
    "ZeroSumNoNash",
]
