"""The composition layer: what puts games and learners together.

One concern per sub-package, layered one way (``lint-imports`` checks it):

* :mod:`~agents.compose.cli`: the ``hic`` command;
* :mod:`~agents.compose.plots`: figures of runs and sweeps;
* :mod:`~agents.compose.sweeps`: grids of runs (spec, executors, store, driver);
* :mod:`~agents.compose.experiments`: many-seed runs and their files, SB3 training;
* :mod:`~agents.compose.views`: Gymnasium single-agent views with an embedded partner;
* :mod:`~agents.compose.engines`: the play loop, the batched engine (NumPy and JAX), the bench.

Nothing below this layer (``hic_envs``, the learners of ``agents``) imports from it. This
package re-exports the entry points most scripts need.
"""

from agents.compose.engines.runner import (
    BatchHistory,
    BatchRunner,
    History,
    NonFiniteError,
    Thinning,
    derive_seeds,
    play,
    run_batch,
)
from agents.compose.views.single import FollowerView, LeaderView

__all__ = [
    "BatchHistory",
    "BatchRunner",
    "FollowerView",
    "History",
    "LeaderView",
    "NonFiniteError",
    "Thinning",
    "derive_seeds",
    "play",
    "run_batch",
]
