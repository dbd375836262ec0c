"""Learning rules as pure functions of arrays: one copy of every rule (issue 9).

Each function takes arrays and returns new ones (no state, no randomness, no data-dependent
shapes); it takes its array namespace from its arguments (the array API standard, through
``array-api-compat``), so the stateful NumPy agents (:class:`agents.HiCLeader`,
:class:`agents.GradientAscentFollower`, ...) and the JAX engine
(:mod:`agents.compose.engines.jax_engine`, :mod:`agents.compose.engines.jax_rules`) call the
very same code.

:mod:`agents.rules.protocol` says how a whole learner is written this way (a *rule set*:
options plus pure ``init/act/prepare/observe`` over explicit state, with explicit draws and
declared capabilities); every library learner is one.
"""

from agents.rules.gradient import (
    ascent_step,
    ascent_steps,
    checked_ascent_step,
    poisoned_ascent_step,
)
from agents.rules.hic import (
    DIRECTIONS,
    baseline_update,
    commit,
    direction_estimate,
    estimate_step,
    momentum_average,
    on_sphere,
    spsa_step,
)
from agents.rules.xp import namespace

__all__ = [
    "DIRECTIONS",
    "ascent_step",
    "ascent_steps",
    "baseline_update",
    "checked_ascent_step",
    "commit",
    "direction_estimate",
    "estimate_step",
    "momentum_average",
    "namespace",
    "on_sphere",
    "poisoned_ascent_step",
    "spsa_step",
]
