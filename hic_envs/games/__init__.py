"""The game library: pure math, NumPy and SciPy only (no gymnasium or pettingzoo imports).

Each game is the single source of truth for its payoffs, derivatives, best response and
equilibria; every function takes a leading batch axis.
"""

from hic_envs.games.base import Equilibrium, Game
from hic_envs.games.duopoly import Duopoly

__all__ = ["Duopoly", "Equilibrium", "Game"]
