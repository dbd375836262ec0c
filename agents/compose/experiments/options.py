"""The options of one run: what a ``hic run`` command line or one configuration of a sweep
file describes, as one typed value with a docstring per field.

:class:`RunOptions` is shared by the CLI (:class:`agents.compose.cli.commands.RunCommand` adds
how the run is written: output directory, resume, chunk, checkpoints, progress, plot) and by
sweeps (:mod:`agents.compose.sweeps.spec` builds it from a sweep file's options), so a sweep
configuration and the same flags on the command line give equal experiments. Defaults that are
part of an experiment live once, in
:class:`~agents.compose.experiments.experiment.ExperimentConfig`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from agents.compose.experiments.experiment import ExperimentConfig
from agents.specs import SCHEDULE_HELP

__all__ = ["RunOptions", "import_field", "parse_game_kwarg"]

_EXP = {f.name: f for f in dataclasses.fields(ExperimentConfig)}


def _default(name: str) -> Any:
    """An :class:`ExperimentConfig` default: defaults live once, in the config."""
    return _EXP[name].default


def import_field() -> Any:
    """The ``--import MODULE`` field (repeatable) of every command that resolves IDs."""
    return dataclasses.field(
        default=(), metadata={"flag": "--import", "append": True, "metavar": "MODULE"}
    )


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What one run is: the game, the learners and their options, seeds and stages.

    Schedules left unset use the per-game presets.
    """

    env_id: str | None = dataclasses.field(
        default=None, metadata={"positional": True, "metavar": "ID"}
    )
    """Environment ID, e.g. hic/Duopoly-v0 (may be omitted with --resume)."""
    imports: tuple[str, ...] = import_field()
    """Module to import before resolving the ID (registers users' games or learners)."""
    leader: str = _default("leader")
    """Leader, by catalog name (listed above)."""
    follower: str = _default("follower")
    """Follower, by catalog name (listed above)."""
    seeds: int = _default("seeds")
    """Number of seeds S (batch rows)."""
    stages: int = _default("stages")
    """Stages to play (1e6 style accepted)."""
    seed: int = _default("seed")
    """Master seed."""
    game_kwarg: tuple[str, ...] = dataclasses.field(
        default=(), metadata={"append": True, "metavar": "KEY=VALUE"}
    )
    """Game constructor argument (repeatable), e.g. --game-kwarg a=60."""
    noise_std: float = _default("noise_std")
    """Payoff noise scale."""
    max_cycles: int = _default("max_cycles")
    """Episode length (observations restart at the box centres)."""
    step_size: str | None = dataclasses.field(default=None, metadata={"metavar": "SPEC"})
    """alpha_n (also the gradient baselines' step): """ + SCHEDULE_HELP
    perturbation: str | None = dataclasses.field(default=None, metadata={"metavar": "SPEC"})
    """delta_n: """ + SCHEDULE_HELP
    commitment: str | None = dataclasses.field(default=None, metadata={"metavar": "SPEC"})
    """k_n: an integer, 'power:...'/'log:...' (rounded up), or 'corollary:p=P[,beta=..,mu=..,B=..]' for Corollary 4.11."""  # noqa: E501
    baseline: float | None = dataclasses.field(default=None, metadata={"metavar": "LAM"})
    """Subtract a moving-average baseline with weight LAM in [0, 1)."""
    no_baseline: bool = False
    """Turn off a default baseline."""
    two_sided: bool = False
    """Antithetic two-interval estimate."""
    average_last: int | None = dataclasses.field(default=None, metadata={"metavar": "M"})
    """Average the payoff over the last M stages of each interval."""
    adaptive: bool = False
    """Adaptive commitment: end intervals once the follower has settled."""
    adaptive_tol: float = 0.01
    """Settling tolerance relative to delta_n."""
    adaptive_min: int = 2
    """Shortest adaptive interval."""
    adaptive_max: int = 10_000
    """Longest adaptive interval."""
    follower_step_size: str | None = dataclasses.field(default=None, metadata={"metavar": "SPEC"})
    """beta: """ + SCHEDULE_HELP
    follower_noise: float | None = None
    """Gradient-noise scale of the stochastic follower."""
    record: str = _default("record")
    """Updates written to the CSV: 'log' (all below 100, then 90 per decade), 'all', 'none', 'log:P' or an integer K (every K-th)."""  # noqa: E501
    backend: str = _default("backend")
    """Engine: 'numpy' or 'jax' (needs pip install -e ".[jax]"; same distribution of results, other random numbers)."""  # noqa: E501

    def experiment(self) -> ExperimentConfig:
        """The :class:`ExperimentConfig` these options describe.

        Raises:
            ValueError: for contradictory or bad options, naming them.
        """
        if self.env_id is None:
            raise ValueError("the environment ID is required (e.g. hic run hic/Duopoly-v0 ...)")
        if self.adaptive and self.commitment is not None:
            raise ValueError("--adaptive and --commitment exclude each other; pass one")
        if self.baseline is not None and self.no_baseline:
            raise ValueError("--baseline and --no-baseline exclude each other")
        commitment = self.commitment
        if self.adaptive:
            commitment = (
                f"adaptive:tol={self.adaptive_tol},min_length={self.adaptive_min},"
                f"max_length={self.adaptive_max}"
            )
        leader_options: dict[str, Any] = {
            "step_size": self.step_size,
            "perturbation": self.perturbation,
            "commitment": commitment,
            "baseline": self.baseline,
            "average_last": self.average_last,
        }
        if self.two_sided:
            leader_options["two_sided"] = True
        if self.no_baseline:
            leader_options["no_baseline"] = True
        leader_options = {k: v for k, v in leader_options.items() if v is not None}
        follower_options = {
            k: v
            for k, v in (("step_size", self.follower_step_size), ("noise", self.follower_noise))
            if v is not None
        }
        return ExperimentConfig(
            env_id=self.env_id,
            game_kwargs=dict(parse_game_kwarg(t) for t in self.game_kwarg),
            leader=self.leader,
            leader_options=leader_options,
            follower=self.follower,
            follower_options=follower_options,
            seeds=self.seeds,
            stages=self.stages,
            seed=self.seed,
            noise_std=self.noise_std,
            max_cycles=self.max_cycles,
            record=self.record,
            imports=self.imports,
            backend=self.backend,
        )


def parse_game_kwarg(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` of ``--game-kwarg`` as ``(key, value)``, the value converted to an int,
    a float or JSON where it is one (else kept as text).

    Raises:
        ValueError: for text that is not ``KEY=VALUE``.
    """
    key, eq, val = text.partition("=")
    if not eq or not key.strip():
        raise ValueError(f"--game-kwarg: expected KEY=VALUE, got {text!r}")
    val = val.strip()
    for conv in (int, float, json.loads):
        try:
            return key.strip(), conv(val)
        except ValueError:
            continue
    return key.strip(), val
