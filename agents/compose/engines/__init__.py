"""The engines: the PettingZoo play loop and the batched engine (:mod:`.runner`), its JAX
backend (the interval loop :mod:`.jax_engine` and the generic stage loop over rule sets
:mod:`.jax_rules`, loaded only for ``backend="jax"``), what they record (:mod:`.records`) and
the benchmark (:mod:`.bench`, ``hic bench``).

This package re-exports the runner's public names; the JAX engine and the benchmark are
imported from their modules.
"""

from agents.compose.engines.runner import (
    BatchHistory,
    BatchRunner,
    History,
    NonFiniteError,
    Thinning,
    as_thinning,
    derive_seeds,
    make_runner,
    play,
    run_batch,
)

__all__ = [
    "BatchHistory",
    "BatchRunner",
    "History",
    "NonFiniteError",
    "Thinning",
    "as_thinning",
    "derive_seeds",
    "make_runner",
    "play",
    "run_batch",
]
