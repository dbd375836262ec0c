"""Training an SB3 follower policy against a learning Hi-C leader.

:class:`TrainConfig` (the whole configuration, one documented field each) and
:func:`train_follower`: train SAC or PPO on ``hic/<Name>-Follower-v0`` against a Hi-C leader
embedded in the view, track the leader, save the model and a tensorboard log;
:func:`format_report` prints the result. ``hic train-follower`` and
``scripts/train_sb3_follower.py`` only parse a :class:`TrainConfig` and call these.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.env_util import make_vec_env

from agents.compose.experiments.experiment import import_modules
from agents.compose.views.single import PartnerLike
from agents.hic import HiCLeader
from agents.presets import hic_leader_kwargs, leader_grid, reactive_hic_kwargs
from agents.sb3 import (
    ResponseError,
    best_response_error,
    limit_torch_threads,
    payoff_scale,
    policy_response,
)
from hic_envs.games.base import Game
from hic_envs.suggest import did_you_mean

__all__ = [
    "ALGORITHMS",
    "LeaderTracker",
    "TrainConfig",
    "TrainResult",
    "format_report",
    "train_follower",
]

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"sac": SAC, "ppo": PPO}


def _hic_factory(kwargs: dict[str, Any], game: Game) -> HiCLeader:
    box = spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)
    return HiCLeader(box, **kwargs)


# ---------------------------------------------------------------------------------- config
#: The follower view's keywords that :func:`train_follower` sets from a :class:`TrainConfig`.
_VIEW_KWARGS = (
    "leader",
    "observe_leader",
    "noise_std",
    "reward_scale",
    "max_episode_steps",
    "render_mode",
)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training an SB3 follower against a Hi-C leader (``scripts/train_sb3_follower.py``)."""

    env_id: str = "hic/Duopoly-Follower-v0"
    """Follower view to train on (any registered ``.../<Name>-Follower-vN``)."""
    imports: tuple[str, ...] = dataclasses.field(
        default=(), metadata={"flag": "--import", "append": True, "metavar": "MODULE"}
    )
    """Module to import first (registers users' games; repeatable)."""
    game_kwargs: dict[str, Any] = dataclasses.field(
        default_factory=dict,
        metadata={
            "flag": "--game-kwarg",
            "append": True,
            "metavar": "KEY=VALUE",
            "deprecated_json": "--game-kwargs",
        },
    )
    """Game constructor argument (repeatable), e.g. --game-kwarg a=60, as hic run takes it (--game-kwargs '{"a": 60}' is still read, with a deprecation note)."""  # noqa: E501
    algo: str = "sac"
    """Algorithm: sac or ppo."""
    total_steps: int = 30_000
    """Environment steps (stages) per env."""
    seed: int = 0
    """Seed of the model (SB3's seed=) and of the envs (reset(seed=seed + rank))."""
    n_envs: int = 1
    """Parallel copies of the view (each with its own Hi-C leader)."""
    gamma: float = 0.0
    """Discount; 0 is the myopic follower of the Stackelberg model (it best-responds)."""
    learning_rate: float = 1e-3
    """Adam learning rate of every network."""
    net_arch: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the policy and critics."""
    batch_size: int = 128
    """Minibatch size."""
    train_freq: int = 2
    """SAC: environment steps between updates."""
    gradient_steps: int = 1
    """SAC: gradient steps per update."""
    learning_starts: int = 500
    """SAC: steps of random actions before learning."""
    target_entropy: float = -3.0
    """SAC: target entropy of the automatic temperature (SB3's default is -d2)."""
    ent_coef: str = "auto_0.01"
    """SAC: entropy coefficient, "auto_<initial>" to learn it or a fixed number."""
    n_steps: int = 512
    """PPO: steps per env per rollout."""
    reward_scale: float | None = None
    """Reward multiplier; None: 1 / std of the follower payoff over the joint box."""
    observe_leader: bool = True
    """False: the ad hoc setting (the follower observes nothing of the leader)."""
    noise_std: float = 0.0
    """Payoff noise of the env."""
    max_episode_steps: int = 1000
    """Episode length (gymnasium's TimeLimit); the leader carries on across episodes."""
    hic_step: float = 0.05
    """Hi-C's step scale (reactive_hic_kwargs): the first steps cut the error by about 8x it."""
    hic_perturbation: float = 0.04
    """Hi-C's perturbation delta_0, as a fraction of the leader's box."""
    hic_commitment: int = 2
    """Hi-C's commitment k, in stages per side of its two-sided estimate."""
    hic_preset: bool = False
    """Use the game's preset Hi-C (made for a gradient follower) instead of the hic_* above."""
    grid_points: int = 101
    """Leader strategies in the best-response error grids."""
    local_radius: float = 0.1
    """Half-width of the local grid around the DSE, as a fraction of the leader box."""
    torch_threads: int | None = None
    """torch.set_num_threads for training; None: one thread (small networks run fastest on
    one), unless OMP_NUM_THREADS / MKL_NUM_THREADS is set or torch.set_num_threads was called."""
    out: str | None = "runs/sb3_follower"
    """Output directory (model.zip, summary.json, tensorboard log); None writes nothing."""
    force: bool = False
    """Overwrite an existing output directory's model and summary (refused otherwise)."""
    progress_bar: bool = True
    """Show SB3's progress bar."""
    verbose: int = 0
    """SB3 verbosity (0, 1 or 2)."""

    def __post_init__(self) -> None:
        if self.algo not in ALGORITHMS:
            raise ValueError(f"algo must be one of {sorted(ALGORITHMS)}, got {self.algo!r}")
        if not isinstance(self.env_id, str) or "-Follower-v" not in self.env_id:
            raise ValueError(f"env_id must be a follower view ID, got {self.env_id!r}")
        import_modules(self.imports)
        if self.env_id not in gymnasium.registry:
            known = sorted(k for k in gymnasium.registry if "-Follower-v" in k)
            raise ValueError(
                f"unknown follower view {self.env_id!r}"
                + did_you_mean(self.env_id, known)
                + f"; known: {', '.join(known)} (a game of your own: register it with "
                "hic_envs.register_game, and pass --import MODULE)"
            )
        if isinstance(self.game_kwargs, str):  # the JSON form Python callers passed before
            try:
                kw = json.loads(self.game_kwargs)
            except json.JSONDecodeError as err:
                raise ValueError(
                    f"game_kwargs must be a JSON object, got {self.game_kwargs!r}"
                ) from err
            object.__setattr__(self, "game_kwargs", kw)
        if not isinstance(self.game_kwargs, dict):
            raise ValueError(f"game_kwargs must be a JSON object, got {self.game_kwargs!r}")
        # The view's own keywords, which train_follower sets from this config's options: in
        # game_kwargs they would be overridden without a word.
        view_own = sorted(set(self.game_kwargs) & set(_VIEW_KWARGS))
        if view_own:
            flags = ", ".join("--" + k.replace("_", "-") for k in view_own)
            raise ValueError(
                f"game_kwargs {view_own} are the follower view's options, not the game's; "
                f"train-follower sets them itself ({flags} where it has one)"
            )
        for nm in (
            "total_steps",
            "n_envs",
            "batch_size",
            "train_freq",
            "gradient_steps",
            "n_steps",
            "max_episode_steps",
            "hic_commitment",
            "grid_points",
        ):
            v = getattr(self, nm)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{nm} must be a positive integer, got {v!r}")
        t = self.torch_threads
        if t is not None and (isinstance(t, bool) or not isinstance(t, int) or t < 1):
            raise ValueError(f"torch_threads must be None or a positive integer, got {t!r}")
        for nm in ("seed", "learning_starts", "verbose"):
            v = getattr(self, nm)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{nm} must be a non-negative integer, got {v!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma!r}")
        for nm in ("learning_rate", "hic_step", "hic_perturbation", "local_radius"):
            v = getattr(self, nm)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{nm} must be a positive number, got {v!r}")
        if self.reward_scale is not None and not (
            math.isfinite(self.reward_scale) and self.reward_scale > 0
        ):
            raise ValueError(f"reward_scale must be None or positive, got {self.reward_scale!r}")
        if not (math.isfinite(self.noise_std) and self.noise_std >= 0):
            raise ValueError(f"noise_std must be >= 0, got {self.noise_std!r}")
        if not self.net_arch or any(
            isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in self.net_arch
        ):
            raise ValueError(f"net_arch must be positive layer sizes, got {self.net_arch!r}")
        if self.ent_coef != "auto" and not self.ent_coef.startswith("auto_"):
            try:
                float(self.ent_coef)
            except ValueError:
                raise ValueError(
                    f"ent_coef must be 'auto', 'auto_<initial>' or a number, got {self.ent_coef!r}"
                ) from None

    @property
    def game_kwargs_dict(self) -> dict[str, Any]:
        """``game_kwargs`` (kept for callers of the JSON form)."""
        return dict(self.game_kwargs)


# ---------------------------------------------------------------------------------- training
class LeaderTracker(BaseCallback):
    """Records the embedded leaders' mean strategies during training and logs their distance
    to the DSE to tensorboard (``hic/leader_distance_to_dse``, mean over envs).

    Attributes:
        timesteps: list of total environment steps at each record.
        strategies: list of ``(n_envs, d1)`` leader strategies at each record.
    """

    def __init__(self, game: Game, every: int = 1000) -> None:
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}")
        self.game = game
        self.every = every
        self.timesteps: list[int] = []
        self.strategies: list[np.ndarray] = []

    def _record(self) -> None:
        x = np.stack([leader.strategy for leader in self.training_env.get_attr("leader")])
        self.timesteps.append(int(self.num_timesteps))
        self.strategies.append(x)
        self.logger.record(
            "hic/leader_distance_to_dse",
            float(np.mean(self.game.distance_to_stackelberg(x))),
            exclude=("stdout", "log", "json", "csv"),
        )
        # SB3 writes what was recorded only when it dumps, at its log interval (every 4
        # episodes for SAC): a short run ended before its first dump and left an empty
        # tensorboard file. Dumping here writes the curve (and SB3's latest train/ values).
        self.logger.dump(self.num_timesteps)

    def _on_training_start(self) -> None:
        self._record()

    def _on_step(self) -> bool:
        if self.n_calls % self.every == 0:
            self._record()
        return True

    def _on_training_end(self) -> None:
        if not self.timesteps or self.timesteps[-1] != self.num_timesteps:
            self._record()


@dataclasses.dataclass
class TrainResult:
    """What :func:`train_follower` measured.

    Attributes:
        config: the configuration.
        model: the trained SB3 model.
        game: the game.
        reward_scale: the reward multiplier used.
        hic_kwargs: the Hi-C settings (None for a leader given by the caller).
        final_leader: ``(n_envs, d1)`` the embedded leaders' final mean strategies.
        final_distance: ``(n_envs,)`` their distances to the DSE.
        br_error: the policy's best-response error over all of ``X``.
        br_error_local: the same within ``local_radius`` of the DSE.
        action_std: ``(n_envs, d2)`` standard deviation of the policy's *sampled* actions at
            each env's final leader strategy (1000 draws, game units): the exploration noise
            the leader's payoffs carry during training.
        episode_payoffs: per env, the follower's mean noisy payoff per stage of each finished
            episode (game units: the reward divided by ``reward_scale``).
        tracker: the :class:`LeaderTracker` (leader strategies during training).
        seconds: wall-clock training time.
    """

    config: TrainConfig
    model: BaseAlgorithm
    game: Game
    reward_scale: float
    hic_kwargs: dict[str, Any] | None
    final_leader: np.ndarray
    final_distance: np.ndarray
    br_error: ResponseError
    br_error_local: ResponseError
    action_std: np.ndarray
    episode_payoffs: list[np.ndarray]
    tracker: LeaderTracker
    seconds: float

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary."""
        dse = self.game.stackelberg()
        return {
            "config": dataclasses.asdict(self.config),
            "reward_scale": self.reward_scale,
            "hic": None
            if self.hic_kwargs is None
            else {k: repr(v) for k, v in self.hic_kwargs.items()},
            "dse": {"x": dse.x.tolist(), "y": dse.y.tolist()},
            "final_leader": self.final_leader.tolist(),
            "final_distance": self.final_distance.tolist(),
            "br_error": dataclasses.asdict(self.br_error),
            "br_error_local": dataclasses.asdict(self.br_error_local),
            "action_std": self.action_std.tolist(),
            "leader_track": {
                "timesteps": self.tracker.timesteps,
                "distance": [
                    self.game.distance_to_stackelberg(x).tolist() for x in self.tracker.strategies
                ],
            },
            "episode_payoffs": [p.tolist() for p in self.episode_payoffs],
            "seconds": self.seconds,
        }


def train_follower(
    config: TrainConfig,
    *,
    leader: PartnerLike = None,
    callbacks: Sequence[BaseCallback] = (),
) -> TrainResult:
    """Train an SB3 follower on a follower view against a learning (Hi-C) leader.

    Args:
        config: what to train and how.
        leader: ``None`` for Hi-C (:func:`reactive_hic_kwargs` from the ``hic_*`` fields, or
            the game's preset with ``hic_preset``), else
            a callable ``game -> Agent`` giving each env its own leader (e.g. a stationary
            :class:`~agents.stationary.FixedAgent`).
        callbacks: extra SB3 callbacks.

    Returns:
        A :class:`TrainResult`. With ``config.out`` set, the model is saved to
        ``out/model.zip``, the summary to ``out/summary.json`` and the tensorboard log to
        ``out/tb``.
    """
    import torch

    if leader is not None and not callable(leader):
        raise TypeError(
            f"leader must be None or a callable game -> Agent, got {type(leader).__name__}"
        )
    out = None if config.out is None else Path(config.out)
    if (
        out is not None
        and not config.force
        and any((out / name).exists() for name in ("model.zip", "summary.json"))
    ):
        raise FileExistsError(
            f"{out} already holds a trained follower (model.zip / summary.json); pass --force "
            "to overwrite it, or choose another --out"
        )
    if config.torch_threads is None:
        limit_torch_threads()
    else:
        torch.set_num_threads(config.torch_threads)
    game_kwargs = config.game_kwargs_dict
    probe = gymnasium.make(config.env_id, disable_env_checker=True, **game_kwargs)
    game = probe.unwrapped.game  # type: ignore[attr-defined]  # a hic view
    probe.close()
    scale = payoff_scale(game) if config.reward_scale is None else config.reward_scale
    hic_kwargs = None
    if leader is None:
        if config.hic_preset:
            hic_kwargs = dict(hic_leader_kwargs(game))
        else:
            hic_kwargs = reactive_hic_kwargs(
                game, config.hic_step, config.hic_perturbation, config.hic_commitment
            )
        leader = functools.partial(_hic_factory, hic_kwargs)
    view_kwargs = dict(
        leader=leader,
        observe_leader=config.observe_leader,
        noise_std=config.noise_std,
        reward_scale=scale,
        max_episode_steps=config.max_episode_steps,
        render_mode=None,
    )
    assert set(view_kwargs) == set(_VIEW_KWARGS)  # what __post_init__ refuses in game_kwargs
    env_kwargs = {**game_kwargs, **view_kwargs}
    vec_env = make_vec_env(
        config.env_id, n_envs=config.n_envs, seed=config.seed, env_kwargs=env_kwargs
    )
    common: dict[str, Any] = dict(
        learning_rate=config.learning_rate,
        gamma=config.gamma,
        batch_size=config.batch_size,
        seed=config.seed,
        verbose=config.verbose,
        device="cpu",
        policy_kwargs={"net_arch": list(config.net_arch)},
        tensorboard_log=None if out is None else str(out / "tb"),
    )
    model: SAC | PPO
    if config.algo == "sac":
        ent = config.ent_coef if config.ent_coef.startswith("auto") else float(config.ent_coef)
        model = SAC(
            "MlpPolicy",
            vec_env,
            train_freq=config.train_freq,
            gradient_steps=config.gradient_steps,
            learning_starts=config.learning_starts,
            target_entropy=config.target_entropy,
            ent_coef=ent,
            **common,
        )
    else:
        model = PPO("MlpPolicy", vec_env, n_steps=config.n_steps, **common)
    tracker = LeaderTracker(game, every=max(1, config.total_steps // 100))
    start = time.perf_counter()
    model.learn(
        config.total_steps * config.n_envs,
        callback=CallbackList([tracker, *callbacks]),
        progress_bar=config.progress_bar,
        tb_log_name=config.algo,
        # Off-policy: episode statistics (rollout/ep_rew_mean) after every episode, not every
        # 4th; on-policy: after every rollout (SB3's default).
        log_interval=1,
    )
    seconds = time.perf_counter() - start

    final = np.stack([ld.strategy for ld in vec_env.get_attr("leader")])
    dse = game.stackelberg()
    local = leader_grid(game, config.grid_points, center=dse.x, radius=config.local_radius)
    obs_kw = {"observe_leader": config.observe_leader}
    rewards = vec_env.env_method("get_episode_rewards")
    lengths = vec_env.env_method("get_episode_lengths")
    result = TrainResult(
        config=config,
        model=model,
        game=game,
        reward_scale=scale,
        hic_kwargs=hic_kwargs,
        final_leader=final,
        final_distance=game.distance_to_stackelberg(final),
        br_error=best_response_error(model, game, leader_grid(game, config.grid_points), **obs_kw),
        br_error_local=best_response_error(model, game, local, **obs_kw),
        action_std=np.stack(
            [
                policy_response(
                    model, game, np.repeat(x[None], 1000, axis=0), deterministic=False, **obs_kw
                ).std(axis=0)
                for x in final
            ]
        ),
        episode_payoffs=[
            np.asarray(r, dtype=np.float64) / np.asarray(n, dtype=np.float64) / scale
            for r, n in zip(rewards, lengths, strict=True)
        ],
        tracker=tracker,
        seconds=seconds,
    )
    vec_env.close()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        model.save(out / "model.zip")
        (out / "summary.json").write_text(json.dumps(result.summary(), indent=2) + "\n")
    return result


def format_report(result: TrainResult, curve_points: int = 10) -> str:
    """A human-readable report: leader vs DSE, the policy's errors, the training curve."""
    g, c = result.game, result.config
    dse = g.stackelberg()
    fmt = functools.partial(np.array2string, precision=4, separator=", ")
    lines = [
        f"{c.algo.upper()} follower on {c.env_id}: {c.total_steps} steps x {c.n_envs} env(s) "
        f"in {result.seconds:.0f} s (seed {c.seed}, reward scale {result.reward_scale:.4g})",
        f"DSE x* = {fmt(dse.x)}, y* = {fmt(dse.y)}",
        f"leader's final strategy: {fmt(result.final_leader)}; distance to the DSE: "
        f"{fmt(result.final_distance)}",
        f"policy's best-response error |pi(x) - r(x)| over X ({result.br_error.points} points): "
        f"mean {result.br_error.mean:.4g}, max {result.br_error.max:.4g}",
        f"  within {c.local_radius:g} of the box around the DSE: mean "
        f"{result.br_error_local.mean:.4g}, max {result.br_error_local.max:.4g}",
        f"policy's exploration (std of sampled actions at the leader's final strategy): "
        f"{fmt(result.action_std)}",
        f"follower's mean payoff per stage by episode (f2 at the DSE: {dse.follower_payoff:.4g}):",
    ]
    for i, p in enumerate(result.episode_payoffs):
        if p.size == 0:
            lines.append(f"  env {i}: no finished episode")
            continue
        idx = np.unique(np.linspace(0, p.size - 1, min(curve_points, p.size)).astype(int))
        pts = ", ".join(f"{j + 1}: {p[j]:.4g}" for j in idx)
        lines.append(f"  env {i} ({p.size} episodes) {pts}")
    if c.out is not None:
        lines.append(
            f"wrote {Path(c.out) / 'model.zip'}, {Path(c.out) / 'summary.json'} and the "
            f"tensorboard log {Path(c.out) / 'tb'}"
        )
    return "\n".join(lines)
