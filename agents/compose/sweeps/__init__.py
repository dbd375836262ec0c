"""Sweeps: a grid of ``hic run`` configurations on a local process pool or a Ray cluster.

A *sweep file* (YAML) names a base configuration, with exactly the options of ``hic run``
(flag names without the dashes, ``-`` or ``_`` alike), and a grid over any of them::

    name: exponents
    imports: [mylab.games]          # modules that register games (imported in every worker)
    base:
      env_id: hic/Duopoly-v0
      seeds: 8
      stages: 1e5
      step_size: power:a=1.07,gamma=0.602,A=100
      perturbation: power:a=1,gamma=0.101
      baseline: 0.9
    grid:
      step_size.gamma: [0.602, 0.8, 1.0]     # one field of a schedule
      game_kwargs.a: [40, 50]                # one game keyword argument
      noise_std: [0, 1]                      # any option
    cases:                                   # optional: alternatives crossed with the grid
      - {}
      - {follower: best-response}

Grid keys are option names (``seeds``, ``commitment``, ``env_id``, ..., every ``hic run``
option without its dashes, a registered learner's own options included: :func:`sweep_keys`),
``game_kwargs.KEY`` for one game keyword argument, and ``OPTION.FIELD`` for one field of a
schedule option's value such as ``power:a=1,gamma=0.602,A=100`` (a
:class:`~agents.schedules.PowerLaw`; the key replaces its field). The published Hi-C
code's form, a field whose value is
``{grid_search: [...]}`` (Ray Tune's), is accepted anywhere in ``base`` (including inside
``game_kwargs``), and a file without a ``base`` section is read as one flat base. Values
are applied base, then case, then grid; the configurations are the cases in file order, each
crossed with the grid in file order (the last key varying fastest), so expanding a file is
deterministic.

The configurations that differ only in per-row values (seeds, noise, numeric and schedule
options) are played as one engine run per group, whose rows are (configuration, seed) pairs
(:mod:`~agents.compose.sweeps.batched`; ``batch=False`` runs each alone); either way each
configuration gives the same bits as ``hic run`` and is written in ``hic run``'s layout under
``SWEEP_DIR/<readable-name>-<hash>/``, where ``<hash>`` is the first 12 hex digits of the
SHA-256 of the configuration's canonical JSON (:meth:`ExperimentConfig.to_dict`, sorted keys),
so ``hic plot`` works on each run directory and a configuration keeps its directory across
edits of the sweep file. The sweep writes, atomically (temporary file, fsync, ``os.replace``):

``sweep.json``
    The normalised spec, the swept keys, and one entry per configuration: its name, hash,
    directory, swept values, full config, status (``pending``, ``finished``, ``failed``,
    ``interrupted``), the error of a failed one, its final distance statistics and its wall
    time. Written when the sweep starts and ends; each result in between is appended to
    ``sweep.jsonl`` (:mod:`~agents.compose.sweeps.store`). ``--resume`` validates it first
    and refuses a damaged one, naming the file and the field and how to rebuild it.
``sweep.csv``
    One row per configuration: the swept values, status, seeds, stages, the final distance to
    the DSE over seeds (median, 25th and 75th percentiles, IQR, max), wall seconds, error.

Executors: ``serial`` (in this process), ``process`` (the default: a standard-library
:class:`~concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start method, ``workers``
processes) and ``ray`` (one Ray task per batch, or per configuration, with ``num_cpus=1``,
results streamed back with ``ray.wait`` as they finish; ``address=None`` lets ``ray.init``
start a local cluster, ``"auto"`` or ``"ray://HOST:PORT"`` join one). Workers are fresh
interpreters: each one puts the driver's ``sys.path`` entries that exist on its machine on its
own ``sys.path`` and imports the sweep's ``imports`` before any ID is resolved. The three
executors give the same files bit for bit, since a configuration's result does not depend on
where it runs or what it is batched with.

The sweep directory is kept as carefully as a run directory (:mod:`~agents.compose.sweeps.store`):
one driver at a time (a lock), atomic symlink-safe writes, an append-only record of finished
configurations, and a validated ``sweep.json``; the sweep file is read within bounds and the
grid's size is checked before it is expanded (:mod:`~agents.compose.sweeps.spec`); pool
workers die with their driver and Ctrl-C starts no new configuration
(:mod:`~agents.compose.sweeps.executors`).

The package's modules, one concern each: :mod:`~agents.compose.sweeps.spec` (the sweep file
and the grid), :mod:`~agents.compose.sweeps.executors` (serial, process pool, Ray),
:mod:`~agents.compose.sweeps.store` (the sweep directory's files),
:mod:`~agents.compose.sweeps.batched` (groups of configurations as one engine run) and
:mod:`~agents.compose.sweeps.driver` (running a sweep).
"""

from agents.compose.sweeps.driver import DamagedRunWarning, SweepInterrupted, run_sweep
from agents.compose.sweeps.executors import EXECUTORS
from agents.compose.sweeps.spec import (
    MAX_CONFIGURATIONS,
    SweepFileError,
    SweepPoint,
    SweepSpec,
    batch_groups,
    config_hash,
    independent_keys,
    load_sweep,
    sweep_keys,
)
from agents.compose.sweeps.store import (
    CSV_STATS,
    SWEEP_CSV,
    SWEEP_JSON,
    format_table,
    load_sweep_summary,
)

__all__ = [
    "CSV_STATS",
    "DamagedRunWarning",
    "EXECUTORS",
    "MAX_CONFIGURATIONS",
    "SWEEP_CSV",
    "SWEEP_JSON",
    "SweepFileError",
    "SweepInterrupted",
    "SweepPoint",
    "SweepSpec",
    "batch_groups",
    "config_hash",
    "format_table",
    "independent_keys",
    "load_sweep",
    "load_sweep_summary",
    "run_sweep",
    "sweep_keys",
]
