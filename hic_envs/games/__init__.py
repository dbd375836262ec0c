"""The game library: pure math, NumPy and SciPy only (no gymnasium or pettingzoo imports).

Each game is the single source of truth for its payoffs, derivatives, best response and
equilibria; every function takes a leading batch axis.
"""

from hic_envs.games.array_game import ArrayGame
from hic_envs.games.base import Equilibrium, Game
from hic_envs.games.bimatrix import Bimatrix
from hic_envs.games.cooperative import CooperativeGame
from hic_envs.games.covariance_gan import CovarianceGAN
from hic_envs.games.custom import CustomGame
from hic_envs.games.dirac_gan import DiracGAN
from hic_envs.games.duopoly import Duopoly
from hic_envs.games.hamiltonian import HamiltonianGame
from hic_envs.games.ipd import IteratedPrisonersDilemma
from hic_envs.games.logit import LogitGame
from hic_envs.games.matrix import (
    BattleOfSexes,
    Chicken,
    Coordination,
    MatchingPennies,
    MatrixGame,
    PrisonersDilemma,
    StagHunt,
    StrongStackelberg,
    strong_stackelberg,
)
from hic_envs.games.mog_gan import MogGAN
from hic_envs.games.nonlinear import NonlinearGame
from hic_envs.games.quadratic import QuadraticGame
from hic_envs.games.random_quadratic import RandomQuadraticGame
from hic_envs.games.security import SecurityGame
from hic_envs.games.tandem import TandemGame
from hic_envs.games.zero_sum import ZeroSumNoNash

__all__ = [
    "ArrayGame",
    "BattleOfSexes",
    "Bimatrix",
    "Chicken",
    "Coordination",
    "CooperativeGame",
    "CovarianceGAN",
    "CustomGame",
    "DiracGAN",
    "Duopoly",
    "Equilibrium",
    "Game",
    "HamiltonianGame",
    "IteratedPrisonersDilemma",
    "LogitGame",
    "MatchingPennies",
    "MatrixGame",
    "MogGAN",
    "NonlinearGame",
    "PrisonersDilemma",
    "QuadraticGame",
    "RandomQuadraticGame",
    "SecurityGame",
    "StagHunt",
    "StrongStackelberg",
    "TandemGame",
    "ZeroSumNoNash",
    "strong_stackelberg",
]
