"""Experiments and their files: a many-seed run written as it goes (:mod:`.experiment`), the
run directory's files, lock and atomic writes (:mod:`.results`), and SB3 followers trained
against Hi-C (:mod:`.training`, imported from its module: it loads torch).

This package re-exports the public names of :mod:`.experiment` and :mod:`.results`.
"""

from agents.compose.experiments.experiment import (
    ExperimentConfig,
    Interrupted,
    default_chunk,
    import_modules,
    read_config,
    run_experiment,
)
from agents.compose.experiments.results import (
    RunData,
    RunDirError,
    atomic_write,
    load_results,
    lock_dir,
)

__all__ = [
    "ExperimentConfig",
    "Interrupted",
    "RunData",
    "RunDirError",
    "atomic_write",
    "default_chunk",
    "import_modules",
    "load_results",
    "lock_dir",
    "read_config",
    "run_experiment",
]
