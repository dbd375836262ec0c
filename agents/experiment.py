"""Many-seed experiments that stream their results to disk and resume after an interruption.

:func:`run_experiment` plays ``seeds`` independent copies of a (leader, follower) pair on a
registered game with :class:`~agents.runner.BatchRunner`, in chunks of stages. After each
chunk it appends the chunk's (thinned) update records to ``updates.csv``; every
``checkpoint_seconds`` (and at the end) it pickles the runner (game, agents, noise generator,
counters) to ``checkpoint.pkl`` together with the CSV's length, and rewrites
``summary.json``. An interrupted run therefore keeps every completed chunk, and
``resume=True`` truncates the CSV to the last checkpoint and carries on: since ``run(a)``
then ``run(b)`` equals ``run(a + b)``, the resumed run writes exactly what an uninterrupted
one writes.

Files in the output directory:

``updates.csv``
    One row per recorded leader update and seed: ``seed`` (the batch row, 0..S-1),
    ``update`` (n; 0 is the initial strategy), ``stage`` (stages played when ``x_n`` was made),
    ``leader_0..`` (the mean strategy ``x_n``), ``follower_0..`` (the follower's strategy
    then), ``distance`` (``||x_n - x*||`` to the DSE). Updates are thinned by ``record``
    (default ``"log"``: every update below 100, then 90 round update indices per decade, about
    ``100 + 90 log10(U / 100)`` rows per seed for ``U`` updates); see
    :class:`~agents.runner.Thinning`.
``summary.json``
    ``config`` (everything needed to rerun), ``resolved`` (the schedules actually used),
    ``game`` (dimensions, DSE, Nash), ``record`` (the thinning rule), ``versions``,
    ``progress`` (stage reached, ``complete``, the CSV length at the checkpoint), ``final``
    statistics over seeds of the final strategies (distance to the DSE, leader strategy
    min/median/max, the hierarchical payoff ``f1(x, r(x))``) - or ``current`` ones while the run
    is incomplete - and ``timing`` (wall-clock only: the one part that differs between an
    interrupted-and-resumed run and an uninterrupted one).
``checkpoint.pkl``
    The pickled runner at the last checkpoint (needed only to resume). Unpickling runs code:
    resume only runs you made.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pickle
import platform
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from agents import schedules
from agents.base import Agent
from agents.runner import BatchHistory, BatchRunner, as_thinning

__all__ = [
    "FOLLOWERS",
    "LEADERS",
    "ExperimentConfig",
    "default_follower_step_size",
    "default_gradient_step",
    "default_hic_kwargs",
    "game_from_id",
    "load_results",
    "make_follower",
    "make_leader",
    "parse_commitment",
    "parse_schedule",
    "run_experiment",
]

CSV_NAME = "updates.csv"
SUMMARY_NAME = "summary.json"
CHECKPOINT_NAME = "checkpoint.pkl"

LEADERS = ("hic", "sga", "hierarchical", "oracle-spsa")
FOLLOWERS = ("gradient", "stochastic", "best-response")


# ---------------------------------------------------------------------------------- games
def game_from_id(env_id: str, game_kwargs: dict[str, Any] | None = None):
    """The :class:`~hic_envs.games.Game` behind a registered environment ID.

    Raises:
        ValueError: for an unknown ID (listing the known ones) or bad game arguments.
    """
    import pettingzoo

    import hic_envs

    known = hic_envs.list_envs()
    if env_id not in known:
        raise ValueError(f"unknown environment ID {env_id!r}; known IDs: {', '.join(known)}")
    try:
        env = pettingzoo.make("parallel", env_id, **(game_kwargs or {}))
    except (TypeError, ValueError) as err:
        raise ValueError(f"bad game arguments {game_kwargs!r} for {env_id}: {err}") from err
    return env.unwrapped.game if hasattr(env, "unwrapped") else env.game


# ---------------------------------------------------------------------------------- defaults
def default_hic_kwargs(game, beta: float | None = None) -> dict[str, Any]:
    """Hi-C's per-game defaults: :func:`agents.presets.hic_leader_kwargs`.

    Args:
        game: the game.
        beta: the gradient follower's constant step the commitment schedule must suit (the
            preset's own follower step when None).
    """
    from agents import presets

    return dict(presets.hic_leader_kwargs(game, beta=beta))


def default_gradient_step(game) -> float:
    """The constant step of the gradient baselines (SGA, hierarchical): ``0.1 / H``.

    ``H`` is the largest curvature of the leader's Stackelberg objective ``f1(x, r(x))``
    (``game.hierarchical_hess``) at the centre of ``X`` and at the DSE, so a step contracts
    the stiffest direction by at most 10% (the same first-step rule as the Hi-C presets);
    with a gradient-ascent follower contracting by ``1 - beta mu`` per stage the leader is the
    slower timescale, as Eq. (8)-(9) ask.
    """
    pts = np.stack([0.5 * (game.leader_low + game.leader_high), game.stackelberg().x])
    h = np.asarray(game.hierarchical_hess(pts), dtype=np.float64)
    H = float(np.abs(np.linalg.eigvalsh(0.5 * (h + np.swapaxes(h, -1, -2)))).max())
    if not (math.isfinite(H) and H > 0):
        raise ValueError(
            f"{game.name}: f1(x, r(x)) has no curvature at the centre and the DSE (H={H!r}); "
            "pass --step-size"
        )
    return 0.1 / H


def default_follower_step_size(game) -> float:
    """The gradient follower's default step: :func:`agents.presets.follower_step_size`."""
    from agents import presets

    return presets.follower_step_size(game)


# ---------------------------------------------------------------------------------- specs
_SCHEDULES: dict[str, type] = {
    "constant": schedules.Constant,
    "power": schedules.PowerLaw,
    "log": schedules.Logarithmic,
}


def _parse_fields(spec: str, option: str) -> tuple[str, dict[str, float]]:
    kind, _, rest = spec.partition(":")
    fields: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, val = item.partition("=")
        if not eq:
            raise ValueError(f"{option} {spec!r}: expected key=value, got {item!r}")
        try:
            fields[key.strip()] = float(val)
        except ValueError:
            msg = f"{option} {spec!r}: {key.strip()} must be a number, got {val!r}"
            raise ValueError(msg) from None
    return kind.strip().lower(), fields


def parse_schedule(spec: Any, option: str = "schedule") -> Any:
    """A schedule from a number or a spec string.

    ``"0.01"`` or ``0.01`` is a constant; ``"power:a=0.001,gamma=0.1[,A=0]"`` is
    :class:`~agents.schedules.PowerLaw`; ``"log:a=1[,base=2.718]"`` is
    :class:`~agents.schedules.Logarithmic`; ``"constant:value=0.1"`` a constant.

    Raises:
        ValueError: naming ``option`` and the bad spec.
    """
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        value = float(spec)
    elif isinstance(spec, str) and ":" not in spec:
        try:
            value = float(spec)
        except ValueError:
            raise ValueError(
                f"{option} must be a number or a schedule like 'power:a=0.01,gamma=0.6', "
                f"got {spec!r}"
            ) from None
    elif isinstance(spec, str):
        kind, fields = _parse_fields(spec, option)
        if kind not in _SCHEDULES:
            raise ValueError(
                f"{option} {spec!r}: unknown schedule {kind!r}; expected one of "
                f"{sorted(_SCHEDULES)}"
            )
        try:
            return _SCHEDULES[kind](**fields)
        except TypeError as err:
            raise ValueError(f"{option} {spec!r}: {err}") from None
        except ValueError as err:
            raise ValueError(f"{option} {spec!r}: {err}") from None
    else:
        raise ValueError(f"{option} must be a number or a schedule spec string, got {spec!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{option} must be a positive number, got {spec!r}")
    return value


def parse_commitment(spec: Any, game, perturbation: Any, follower_step: Any) -> Any:
    """A commitment schedule from a number or spec string.

    A positive integer is a fixed commitment; ``"power:..."``/``"log:..."`` as in
    :func:`parse_schedule` (values are rounded up to whole stages);
    ``"corollary:p=1[,beta=..,mu=..,B=..]"`` is Corollary 4.11's Eq. (28) with ``beta`` the
    follower's (constant) step, ``mu`` the game's and ``B`` the follower box's diameter unless
    given; ``"adaptive:tol=0.01,min_length=1,max_length=10000"`` is
    :class:`~agents.hic.AdaptiveCommitment`.

    Raises:
        ValueError: naming the bad spec.
    """
    from agents.hic import AdaptiveCommitment

    option = "--commitment"
    if isinstance(spec, str) and ":" in spec:
        kind, fields = _parse_fields(spec, option)
        if kind == "adaptive":
            try:
                kw = {k: (v if k == "tol" else _whole(v, option, spec)) for k, v in fields.items()}
                return AdaptiveCommitment(**kw)
            except (TypeError, ValueError) as err:
                raise ValueError(f"{option} {spec!r}: {err}") from None
        if kind == "corollary":
            unknown = set(fields) - {"p", "beta", "mu", "B"}
            if unknown:
                raise ValueError(f"{option} {spec!r}: unknown field(s) {sorted(unknown)}")
            beta = fields.get("beta", follower_step if isinstance(follower_step, float) else None)
            mu = fields.get("mu", game.mu)
            if beta is None or mu is None:
                raise ValueError(
                    f"{option} {spec!r}: needs beta (the follower's constant step) and mu "
                    "(the game's); give them as fields"
                )
            B = fields.get("B", float(np.linalg.norm(game.follower_high - game.follower_low)))
            try:
                return schedules.CommitmentSchedule(beta, mu, B, fields.get("p", 1.0), perturbation)
            except (TypeError, ValueError) as err:
                raise ValueError(f"{option} {spec!r}: {err}") from None
        sched = parse_schedule(spec, option)
        return _Ceil(sched)
    value = parse_schedule(spec, option)
    return _whole(value, option, spec)


def _whole(v: float, option: str, spec: Any) -> int:
    if not float(v).is_integer() or v < 1:
        raise ValueError(f"{option} {spec!r}: expected a positive whole number of stages, got {v}")
    return int(v)


@dataclasses.dataclass(frozen=True)
class _Ceil(schedules.Schedule):
    """A schedule rounded up to whole stages (for commitments given as power/log laws)."""

    inner: Any

    def __call__(self, n):
        return np.ceil(self.inner(n))


# ---------------------------------------------------------------------------------- agents
def make_leader(name: str, game, num_envs: int | None, options: dict[str, Any]) -> Agent:
    """Build a leader by name (one of :data:`LEADERS`) from spec options.

    ``options`` keys (all optional; Hi-C's defaults come from :func:`default_hic_kwargs`):
    ``step_size``, ``perturbation``, ``commitment`` (specs), ``baseline`` (float),
    ``average_last`` (int), ``two_sided`` (bool), ``follower_step`` (used by
    ``corollary`` commitments).

    Raises:
        ValueError: for an unknown name or bad option values.
    """
    opts = {k: v for k, v in options.items() if v is not None}
    follower_step = opts.pop("follower_step", None)
    if name in ("hic", "oracle-spsa"):
        from gymnasium import spaces

        from agents.baselines import OracleSPSALeader
        from agents.hic import HiCLeader

        beta = follower_step if isinstance(follower_step, float) else None
        kw = default_hic_kwargs(game, beta)
        if name == "oracle-spsa":
            kw["commitment"] = 1  # the oracle needs no commitment (Eq. 10)
            kw.pop("average_last", None)
        if "step_size" in opts:
            kw["step_size"] = parse_schedule(opts.pop("step_size"), "--step-size")
        if "perturbation" in opts:
            kw["perturbation"] = parse_schedule(opts.pop("perturbation"), "--perturbation")
        if "commitment" in opts:
            kw["commitment"] = parse_commitment(
                opts.pop("commitment"), game, kw["perturbation"], follower_step
            )
        if opts.pop("no_baseline", False):
            kw.pop("baseline", None)
        for key in ("baseline", "average_last", "two_sided"):
            if key in opts:
                kw[key] = opts.pop(key)
        if kw.get("two_sided"):
            kw.pop("baseline", None)  # the payoff level cancels in a two-sided estimate
        _no_leftovers(name, opts)
        try:
            if name == "oracle-spsa":
                return OracleSPSALeader(game, num_envs=num_envs, check_assumptions=False, **kw)
            space = spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)
            return HiCLeader(space, num_envs=num_envs, check_assumptions=False, **kw)
        except (TypeError, ValueError) as err:
            raise ValueError(f"bad {name} options: {err}") from None
    if name in ("sga", "hierarchical"):
        from agents.baselines import HierarchicalGradientLeader, SGALeader

        cls = SGALeader if name == "sga" else HierarchicalGradientLeader
        kw = {}
        if "step_size" in opts:
            kw["step_size"] = parse_schedule(opts.pop("step_size"), "--step-size")
        _no_leftovers(name, opts)
        if "step_size" not in kw:
            kw["step_size"] = default_gradient_step(game)
        try:
            return cls(game, num_envs=num_envs, **kw)
        except (TypeError, ValueError) as err:
            raise ValueError(f"bad {name} options: {err}") from None
    raise ValueError(f"unknown leader {name!r}; expected one of {list(LEADERS)}")


def _no_leftovers(name: str, opts: dict[str, Any]) -> None:
    if opts:
        raise ValueError(f"option(s) {sorted(opts)} do not apply to leader {name!r}")


def make_follower(name: str, game, num_envs: int | None, options: dict[str, Any]) -> Agent:
    """Build a follower by name (one of :data:`FOLLOWERS`).

    ``options``: ``step_size`` (spec; default :func:`default_follower_step_size`) and, for
    ``stochastic``, ``noise`` (gradient-noise scale, default 1).

    Raises:
        ValueError: for an unknown name or bad option values.
    """
    from agents.followers import (
        BestResponseFollower,
        GradientAscentFollower,
        StochasticGradientFollower,
    )

    opts = {k: v for k, v in options.items() if v is not None}
    if name not in FOLLOWERS:
        raise ValueError(f"unknown follower {name!r}; expected one of {list(FOLLOWERS)}")
    if name == "best-response":
        if opts:
            raise ValueError(f"option(s) {sorted(opts)} do not apply to follower 'best-response'")
        return BestResponseFollower(game, num_envs=num_envs)
    if "step_size" in opts:
        step = parse_schedule(opts.pop("step_size"), "--follower-step-size")
    else:
        step = default_follower_step_size(game)
    noise = opts.pop("noise", None) if name == "stochastic" else None
    if opts:
        raise ValueError(f"option(s) {sorted(opts)} do not apply to follower {name!r}")
    try:
        if name == "gradient":
            return GradientAscentFollower(game, step, num_envs=num_envs)
        return StochasticGradientFollower(
            game, step, noise_std=1.0 if noise is None else noise, num_envs=num_envs
        )
    except (TypeError, ValueError) as err:
        raise ValueError(f"bad {name} follower options: {err}") from None


# ---------------------------------------------------------------------------------- config
@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Everything that determines an experiment's results (JSON-serialisable).

    Attributes:
        env_id: a registered ID such as ``"hic/Duopoly-v0"``.
        game_kwargs: keyword arguments of the game's constructor.
        leader: one of :data:`LEADERS`.
        leader_options: spec options for :func:`make_leader` (None values mean "default").
        follower: one of :data:`FOLLOWERS`.
        follower_options: spec options for :func:`make_follower`.
        seeds: number of independent seeds ``S`` (batch rows).
        stages: stages to play.
        seed: the run's master seed.
        noise_std: payoff noise scale.
        max_cycles: episode length (the env's; observations restart at the box centres).
        record: which updates go to the CSV (:func:`~agents.runner.as_thinning`).

    How often results are written (chunks, checkpoints) is not part of the config: it does
    not change the results.
    """

    env_id: str
    game_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    leader: str = "hic"
    leader_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    follower: str = "gradient"
    follower_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    seeds: int = 32
    stages: int = 1_000_000
    seed: int = 0
    noise_std: float = 0.0
    max_cycles: int = 1000
    record: Any = "log"

    def __post_init__(self) -> None:
        for nm in ("seeds", "stages", "max_cycles"):
            v = getattr(self, nm)
            if isinstance(v, float) and v.is_integer():
                v = int(v)
                object.__setattr__(self, nm, v)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{nm} must be a positive integer, got {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not (
            isinstance(self.noise_std, (int, float))
            and math.isfinite(self.noise_std)
            and self.noise_std >= 0
        ):
            raise ValueError(f"noise_std must be a finite number >= 0, got {self.noise_std!r}")
        if self.leader not in LEADERS:
            raise ValueError(f"unknown leader {self.leader!r}; expected one of {list(LEADERS)}")
        if self.follower not in FOLLOWERS:
            raise ValueError(
                f"unknown follower {self.follower!r}; expected one of {list(FOLLOWERS)}"
            )
        as_thinning(self.record)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (round-trips through :meth:`from_dict`)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExperimentConfig:
        """Inverse of :meth:`to_dict`."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - fields
        if unknown:
            raise ValueError(f"unknown config field(s) {sorted(unknown)}")
        return cls(**d)

    def build(self):
        """``(game, leader, follower)`` built from the config (agents not yet reset)."""
        game = game_from_id(self.env_id, self.game_kwargs)
        fopts = dict(self.follower_options)
        follower = make_follower(self.follower, game, self.seeds, fopts)
        lopts = dict(self.leader_options)
        if self.leader in ("hic", "oracle-spsa") and "follower_step" not in lopts:
            step = getattr(follower, "step_size", None)
            if isinstance(step, schedules.Constant):
                lopts["follower_step"] = step.value
        leader = make_leader(self.leader, game, self.seeds, lopts)
        return game, leader, follower


# ---------------------------------------------------------------------------------- running
def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("hic-envs", "numpy", "scipy", "gymnasium", "pettingzoo"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    if out["hic-envs"] == "not installed":
        import hic_envs

        out["hic-envs"] = getattr(hic_envs, "__version__", "unknown") + " (source tree)"
    return out


def _resolved(leader: Agent, follower: Agent) -> dict[str, str]:
    out = {"leader": type(leader).__name__, "follower": type(follower).__name__}
    for role, agent in (("leader", leader), ("follower", follower)):
        for key in (
            "step_size",
            "perturbation",
            "commitment",
            "baseline",
            "average_last",
            "two_sided",
            "noise_std",
        ):
            if hasattr(agent, key):
                out[f"{role}.{key}"] = repr(getattr(agent, key))
    return out


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _csv_header(d1: int, d2: int) -> str:
    cols = ["seed", "update", "stage"]
    cols += [f"leader_{i}" for i in range(d1)] + [f"follower_{i}" for i in range(d2)]
    return ",".join(cols + ["distance"]) + "\n"


def _csv_rows(h: BatchHistory, dist: np.ndarray) -> str:
    if len(h) == 0:
        return ""
    ints = np.column_stack([h.row, h.update, h.stage])
    floats = np.column_stack([h.leader_strategies, h.follower_strategies, dist])
    lines = []
    # repr-precision floats: the CSV holds exactly the computed values.
    for i_row, f_row in zip(ints.tolist(), floats.tolist(), strict=True):
        lines.append(",".join(map(str, i_row)) + "," + ",".join(map(repr, f_row)))
    return "\n".join(lines) + "\n"


def _final_stats(game, runner: BatchRunner, payoff: bool) -> dict[str, Any]:
    x = runner.leader._strategy()
    y = runner.follower._strategy()
    dist = game.distance_to_stackelberg(x)
    q = lambda a: {  # noqa: E731
        "min": float(np.min(a)),
        "q25": float(np.quantile(a, 0.25)),
        "median": float(np.median(a)),
        "q75": float(np.quantile(a, 0.75)),
        "max": float(np.max(a)),
        "mean": float(np.mean(a)),
    }
    out: dict[str, Any] = {
        "stage": runner.stage,
        "distance_to_dse": q(dist),
        "leader_strategy": {
            k: np.quantile(x, p, axis=0).tolist()
            for k, p in (("min", 0.0), ("median", 0.5), ("max", 1.0))
        },
        "follower_strategy_median": np.median(y, axis=0).tolist(),
        "leader_updates_median": float(np.median(runner.updates)),
    }
    if payoff:  # f1(x, r(x)): one best-response solve per seed for numeric games
        out["hierarchical_payoff"] = q(game.hierarchical_payoff(x))
    return out


def default_chunk(config: ExperimentConfig) -> int:
    """Stages per chunk: about 200 chunks per run, at most ``2e7`` seed-stages each."""
    cap = max(100, 20_000_000 // config.seeds)
    return max(1, min(config.stages, max(100, min(config.stages // 200, cap))))


def run_experiment(
    config: ExperimentConfig,
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    progress: bool = True,
    chunk: int | None = None,
    checkpoint_seconds: float = 10.0,
    on_chunk: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) an experiment, writing ``updates.csv``, ``summary.json`` and
    ``checkpoint.pkl`` into ``out_dir`` as it goes. Returns the final summary.

    The run advances in chunks of ``chunk`` stages. After each chunk its update records are
    appended to the CSV and the progress bar moves; a checkpoint (the pickled runner, the
    CSV's length, and ``summary.json``) is written when ``checkpoint_seconds`` have passed
    since the last one, and at the end. Chunking and checkpointing never change the results.
    Writes are flushed (they survive the process being interrupted or killed) and replaced
    atomically; they are not fsync'ed against power loss.

    Args:
        config: the experiment.
        out_dir: output directory (created if needed).
        resume: continue the run in ``out_dir`` from its last checkpoint, dropping CSV rows
            written after it. Its stored config must equal ``config``. Without ``resume``,
            ``out_dir`` must not hold a run.
        progress: show a tqdm progress bar (stages, ETA, median distance to the DSE).
        chunk: stages per chunk (default :func:`default_chunk`).
        checkpoint_seconds: minimum wall time between checkpoints (0: after every chunk).
        on_chunk: called with ``{"stage": ..., "checkpointed": bool}`` after each chunk.

    Raises:
        FileExistsError: ``out_dir`` already holds a run and ``resume`` is False.
        ValueError: ``resume`` with a different config, or a bad ``chunk``.
    """
    out = Path(out_dir)
    csv_path, summary_path, ckpt_path = out / CSV_NAME, out / SUMMARY_NAME, out / CHECKPOINT_NAME
    chunk = default_chunk(config) if chunk is None else chunk
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    cfg = config.to_dict()
    state = None
    if resume and ckpt_path.exists():
        with open(ckpt_path, "rb") as f:
            state = pickle.load(f)
        if state["config"] != cfg:
            diff = sorted(k for k in cfg if cfg[k] != state["config"].get(k))
            raise ValueError(
                f"cannot resume {out}: its run has a different config (fields {diff}); "
                "resume with the same options, or choose another output directory"
            )
    elif not resume and (summary_path.exists() or csv_path.exists()):
        raise FileExistsError(
            f"{out} already holds a run; pass resume=True (--resume) to continue it, or choose "
            "another output directory"
        )
    out.mkdir(parents=True, exist_ok=True)

    if state is None:
        game, leader, follower = config.build()
        runner = BatchRunner(
            game,
            leader,
            follower,
            config.seed,
            noise_std=config.noise_std,
            max_cycles=config.max_cycles,
            record=config.record,
        )
        with open(csv_path, "w", newline="") as f:
            f.write(_csv_header(game.d1, game.d2))
        csv_bytes = csv_path.stat().st_size
        elapsed = 0.0
    else:
        runner = state["runner"]
        if runner.stage >= config.stages:  # nothing left to do
            return json.loads(summary_path.read_text())
        game = runner.game
        csv_bytes = state["csv_bytes"]
        elapsed = state["elapsed"]
        with open(csv_path, "r+b") as f:  # drop rows written after the last checkpoint
            f.truncate(csv_bytes)

    summary: dict[str, Any] = {
        "config": cfg,
        "resolved": _resolved(runner.leader, runner.follower),
        "game": game.info(),
        "record": runner.thinning.describe(),
        "files": {"updates": CSV_NAME, "checkpoint": CHECKPOINT_NAME},
        "versions": _versions(),
    }
    t_start = time.perf_counter()

    def checkpoint() -> None:
        complete = runner.stage >= config.stages
        summary["progress"] = {
            "stage": runner.stage,
            "stages": config.stages,
            "complete": complete,
            "csv_bytes": csv_bytes,
        }
        summary.pop("current", None)
        summary["final" if complete else "current"] = _final_stats(game, runner, complete)
        total = elapsed + (time.perf_counter() - t_start)
        summary["timing"] = {
            "wall_seconds": total,
            "seed_stages_per_second": runner.stage * config.seeds / total if total else None,
        }
        _save_checkpoint(
            ckpt_path,
            {"config": cfg, "runner": runner, "csv_bytes": csv_bytes, "elapsed": total},
        )
        _atomic_write(summary_path, (json.dumps(summary, indent=2) + "\n").encode())

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=config.stages,
            initial=runner.stage,
            unit="stage",
            unit_scale=True,
            desc=f"{config.leader} on {config.env_id}",
            dynamic_ncols=True,
        )
    try:
        if state is None:
            checkpoint()
        last = time.perf_counter()
        while runner.stage < config.stages:
            n = min(chunk, config.stages - runner.stage)
            h = runner.run(n)
            dist = game.distance_to_stackelberg(h.leader_strategies)
            with open(csv_path, "a", newline="") as f:
                f.write(_csv_rows(h, dist))
            csv_bytes = csv_path.stat().st_size
            now = time.perf_counter()
            saved = runner.stage >= config.stages or now - last >= checkpoint_seconds
            if saved:
                checkpoint()
                last = time.perf_counter()
            if bar is not None:
                bar.update(n)
                med = float(np.median(game.distance_to_stackelberg(runner.leader._strategy())))
                bar.set_postfix_str(f"median dist to DSE {med:.3g}", refresh=False)
            if on_chunk is not None:
                on_chunk({"stage": runner.stage, "checkpointed": saved})
    finally:
        if bar is not None:
            bar.close()
    return summary


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    _atomic_write(path, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))


# ---------------------------------------------------------------------------------- reading
def load_results(run_dir: str | os.PathLike):
    """Read a run directory into a :class:`hic_envs.plotting.RunData` (arrays + summary).

    Raises:
        FileNotFoundError: if ``run_dir`` holds no ``summary.json`` / ``updates.csv``.
    """
    from hic_envs.plotting import RunData

    d = Path(run_dir)
    summary_path, csv_path = d / SUMMARY_NAME, d / CSV_NAME
    for p in (summary_path, csv_path):
        if not p.exists():
            raise FileNotFoundError(f"{d} is not a run directory: {p.name} is missing")
    summary = json.loads(summary_path.read_text())
    text = csv_path.read_text()
    lines = text.split("\n")
    header = lines[0].split(",")
    # Every complete row (a run killed mid-write may leave a partial last line).
    rows = [ln for ln in lines[1:-1] if ln.count(",") == len(header) - 1]
    data = np.loadtxt(rows, delimiter=",", ndmin=2) if rows else np.empty((0, len(header)))
    li = [i for i, c in enumerate(header) if c.startswith("leader_")]
    fi = [i for i, c in enumerate(header) if c.startswith("follower_")]
    return RunData(
        seed=data[:, 0].astype(np.int64),
        update=data[:, 1].astype(np.int64),
        stage=data[:, 2].astype(np.int64),
        leader=data[:, li],
        follower=data[:, fi],
        distance=data[:, header.index("distance")],
        summary=summary,
    )
