"""Stable-Baselines3 policies as agents, and training a follower policy against Hi-C.

* :class:`SB3Follower` / :class:`SB3Leader`: a trained SB3 model (PPO, SAC, TD3, ...) as an
  :class:`~agents.Agent` in the PettingZoo loop (:func:`agents.play`) or the batched engine.
  ``act`` turns the observation into the view's normalised units, calls ``model.predict``
  and maps the action back onto the strategy box, with the helpers of
  :mod:`hic_envs.views` (one place for the rescaling).
* :func:`policy_response`, :func:`leader_grid` and :func:`best_response_error`: how good a
  follower policy is, measured against the game's ground truth ``r(x)``.
* :class:`TrainConfig` and :func:`train_follower`: train SAC or PPO on
  ``hic/<Name>-Follower-v0`` against a Hi-C leader, track the leader, save the model and a
  tensorboard log; :func:`format_report` prints the result. ``scripts/train_sb3_follower.py``
  only composes these.

This module imports Stable-Baselines3 (and torch); ``import agents`` does not, and loads it
only when ``agents.SB3Follower`` or ``agents.SB3Leader`` is first used.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
import json
import math
import textwrap
import time
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.env_util import make_vec_env

from agents.base import Agent, SeedLike
from agents.hic import HiCLeader
from agents.presets import hic_leader_kwargs
from agents.schedules import PowerLaw
from hic_envs.games.base import Game
from hic_envs.views import from_unit, to_unit

__all__ = [
    "LeaderTracker",
    "ResponseError",
    "SB3Follower",
    "SB3Leader",
    "TrainConfig",
    "TrainResult",
    "best_response_error",
    "config_parser",
    "format_report",
    "leader_grid",
    "parse_config",
    "payoff_scale",
    "policy_response",
    "reactive_hic_kwargs",
    "train_follower",
]

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"sac": SAC, "ppo": PPO}


# ---------------------------------------------------------------------------------- policies
def _check_model(model: Any, obs_dim: int, act_dim: int, role: str) -> None:
    if not all(hasattr(model, a) for a in ("predict", "observation_space", "action_space")):
        raise TypeError(
            "model must be a Stable-Baselines3 model (PPO, SAC, TD3, ...) with predict(), "
            f"observation_space and action_space, got {type(model).__name__}"
        )
    act, obs = model.action_space, model.observation_space
    view = f"hic/<Name>-{role.capitalize()}-v0"
    if not (
        isinstance(act, spaces.Box)
        and act.shape == (act_dim,)
        and np.all(act.low == -1.0)
        and np.all(act.high == 1.0)
    ):
        raise ValueError(
            f"the model's action space must be Box(-1, 1, ({act_dim},)) as in {view}, got {act}"
        )
    if not (isinstance(obs, spaces.Box) and obs.shape == (obs_dim,)):
        raise ValueError(
            f"the model's observation space must be a Box of shape ({obs_dim},) as in {view}, "
            f"got {obs}"
        )


def _predict(model: Any, unit_obs: np.ndarray, box: tuple, deterministic: bool) -> np.ndarray:
    """``model.predict`` on a batch of normalised observations, mapped onto ``box``."""
    a, _ = model.predict(unit_obs.astype(np.float32), deterministic=deterministic)
    # PPO's Gaussian actions may leave [-1, 1]; the view would clip them the same way.
    return from_unit(np.clip(np.asarray(a, dtype=np.float64), -1.0, 1.0), *box)


def policy_response(
    model: Any,
    game: Game,
    x,
    *,
    observe_leader: bool = True,
    deterministic: bool = True,
) -> np.ndarray:
    """A follower policy's strategy, in game units, against leader strategies ``x``.

    Args:
        model: an SB3 model trained on ``hic/<Name>-Follower-v0`` of ``game``.
        game: the game.
        x: leader strategies, shape ``(..., d1)``.
        observe_leader: how the model was trained (False: the ad hoc view, which sees a
            constant, so the answer is the same for every ``x``).
        deterministic: the policy's mean action (True) or a sample.

    Returns:
        ``(..., d2)`` follower strategies in ``Y``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0 or x.shape[-1] != game.d1:
        raise ValueError(f"x must have shape (..., {game.d1}), got shape {x.shape}")
    flat = x.reshape(-1, game.d1)
    if observe_leader:
        unit = to_unit(flat, game.leader_low, game.leader_high)
    else:
        unit = np.zeros((flat.shape[0], 1))
    y = _predict(model, unit, (game.follower_low, game.follower_high), deterministic)
    return y.reshape(x.shape[:-1] + (game.d2,))


class _SB3Agent(Agent):
    """A frozen SB3 policy as an agent: normalise the observation, predict, rescale."""

    def __init__(
        self,
        model: Any,
        own_box: tuple[np.ndarray, np.ndarray],
        obs_box: tuple[np.ndarray, np.ndarray] | None,
        role: str,
        *,
        deterministic: bool,
        num_envs: int | None,
        seed: SeedLike,
    ) -> None:
        super().__init__(*own_box, num_envs=num_envs, seed=seed)
        _check_model(model, 1 if obs_box is None else obs_box[0].shape[0], self.dim, role)
        if not isinstance(deterministic, (bool, np.bool_)):
            raise TypeError(f"deterministic must be a bool, got {deterministic!r}")
        self.model = model
        self.deterministic = bool(deterministic)
        self._own_box = own_box
        self._obs_box = obs_box

    def _unit(self, obs: np.ndarray) -> np.ndarray:
        if self._obs_box is None:
            return np.zeros((obs.shape[0], 1))
        return to_unit(obs, *self._obs_box)

    def _reset(self) -> None:
        # Before any stage: the response to the centre of the observed box (GameEnv's reset
        # observation), i.e. a zero normalised observation.
        self._y = _predict(
            self.model,
            np.zeros((self._S, self.model.observation_space.shape[0])),
            self._own_box,
            self.deterministic,
        )

    def _act(self, obs: np.ndarray) -> np.ndarray:
        self._y = _predict(self.model, self._unit(obs), self._own_box, self.deterministic)
        return self._y

    def _strategy(self) -> np.ndarray:
        return self._y


class SB3Follower(_SB3Agent):
    """A trained SB3 follower policy as an :class:`~agents.Agent` (it does not learn further).

    ``act(obs)`` maps the observed leader action onto ``[-1, 1]`` as
    :class:`~hic_envs.views.FollowerView` does, calls ``model.predict`` (on the whole batch
    when ``num_envs=S``) and maps the action onto ``Y``. In the PettingZoo loop
    (:func:`agents.play`) the follower observes the leader's action at the stage *just played*
    (:class:`~hic_envs.GameEnv`'s convention), whereas the view shows the leader's action for
    the *coming* stage; against a committing leader such as Hi-C the two differ only at the
    first stage of each commitment interval.

    Args:
        model: an SB3 model trained on ``hic/<Name>-Follower-v0`` of ``game``.
        game: the game (its boxes give the rescaling).
        observe_leader: False for a model trained in the ad hoc view (``observe_leader=False``).
        deterministic: play the policy's mean action (True) or sample. Sampling uses SB3's
            own random state (torch's global generator), not the agent's ``seed``.
        num_envs: ``None`` or the batch size ``S``.
        seed: seed of the agent's generator (unused by a deterministic policy).

    ``strategy`` is the action the policy last chose (before the first stage: its response
    to the centre of ``X``).
    """

    def __init__(
        self,
        model: Any,
        game: Game,
        *,
        observe_leader: bool = True,
        deterministic: bool = True,
        num_envs: int | None = None,
        seed: SeedLike = None,
    ) -> None:
        if not isinstance(game, Game):
            raise TypeError(f"game must be a hic_envs.games.Game, got {type(game).__name__}")
        if not isinstance(observe_leader, (bool, np.bool_)):
            raise TypeError(f"observe_leader must be a bool, got {observe_leader!r}")
        super().__init__(
            model,
            (game.follower_low, game.follower_high),
            (game.leader_low, game.leader_high) if observe_leader else None,
            "follower",
            deterministic=deterministic,
            num_envs=num_envs,
            seed=seed,
        )
        self.game = game
        self.observe_leader = bool(observe_leader)


class SB3Leader(_SB3Agent):
    """A trained SB3 leader policy (from ``hic/<Name>-Leader-v0``) as an agent.

    Its observation is the follower's action at the stage just played, in both the PettingZoo
    loop and :class:`~hic_envs.views.LeaderView`, so the two agree exactly.

    Args:
        model: an SB3 model trained on ``hic/<Name>-Leader-v0`` of ``game``.
        game: the game.
        deterministic, num_envs, seed: as :class:`SB3Follower`.
    """

    def __init__(
        self,
        model: Any,
        game: Game,
        *,
        deterministic: bool = True,
        num_envs: int | None = None,
        seed: SeedLike = None,
    ) -> None:
        if not isinstance(game, Game):
            raise TypeError(f"game must be a hic_envs.games.Game, got {type(game).__name__}")
        super().__init__(
            model,
            (game.leader_low, game.leader_high),
            (game.follower_low, game.follower_high),
            "leader",
            deterministic=deterministic,
            num_envs=num_envs,
            seed=seed,
        )
        self.game = game


# ---------------------------------------------------------------------------------- scoring
def leader_grid(
    game: Game,
    points: int = 101,
    *,
    center=None,
    radius: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Leader strategies at which to score a follower policy, shape ``(N, d1)``.

    For ``d1 = 1``, ``points`` evenly spaced strategies; for ``d1 > 1``, ``points`` uniform
    draws (from ``np.random.default_rng(seed)``). With ``center`` and ``radius`` the region
    is ``center +- radius * (high - low)``, cut to ``X``; otherwise all of ``X``.
    """
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
        raise ValueError(f"points must be an integer >= 2, got {points!r}")
    lo, hi = game.leader_low, game.leader_high
    if (center is None) != (radius is None):
        raise ValueError("pass both center and radius, or neither")
    if center is not None:
        c = np.asarray(center, dtype=np.float64)
        if c.shape != (game.d1,):
            raise ValueError(f"center must have shape ({game.d1},), got shape {c.shape}")
        if not (math.isfinite(radius) and radius > 0):
            raise ValueError(f"radius must be a positive fraction of the box, got {radius!r}")
        lo, hi = np.maximum(lo, c - radius * (hi - lo)), np.minimum(hi, c + radius * (hi - lo))
    if game.d1 == 1:
        return np.linspace(lo, hi, int(points))
    return np.random.default_rng(seed).uniform(lo, hi, size=(int(points), game.d1))


@dataclasses.dataclass(frozen=True)
class ResponseError:
    """``||pi(x) - r(x)||`` over a set of leader strategies, in the follower's game units.

    Attributes:
        mean: mean error over the points.
        max: largest error.
        points: number of leader strategies scored.
    """

    mean: float
    max: float
    points: int


def best_response_error(
    model: Any, game: Game, xs, *, observe_leader: bool = True
) -> ResponseError:
    """How far the (deterministic) follower policy is from the true best response ``r(x)``."""
    xs = np.asarray(xs, dtype=np.float64)
    err = np.linalg.norm(
        policy_response(model, game, xs, observe_leader=observe_leader) - game.best_response(xs),
        axis=-1,
    )
    return ResponseError(float(err.mean()), float(err.max()), int(err.size))


# ---------------------------------------------------------------------------------- set-up
def payoff_scale(game: Game, samples: int = 4096) -> float:
    """``1 / std`` of the follower's payoff over uniform joint strategies (seeded, fixed).

    A reward scale that makes rewards of order one whatever the game's units (SB3's critics
    learn slowly on payoffs in the hundreds).
    """
    rng = np.random.default_rng(0)
    x = rng.uniform(game.leader_low, game.leader_high, size=(samples, game.d1))
    y = rng.uniform(game.follower_low, game.follower_high, size=(samples, game.d2))
    std = float(np.std(game.follower_payoff(x, y)))
    return 1.0 / std if std > 0 else 1.0


def reactive_hic_kwargs(
    game: Game,
    step: float = 0.05,
    perturbation: float = 0.04,
    commitment: int = 2,
) -> dict[str, Any]:
    """Hi-C settings for a follower that reacts at once: a policy of the leader's strategy.

    A policy answers the leader's committed strategy at once (its tracking error is its
    approximation error, not a transient), so commitments are short and constant, where the
    game's preset (:func:`agents.presets.hic_leader_kwargs`) uses Corollary 4.11's schedule
    for a gradient follower that needs time to settle. Two stages, not one, so that the
    measured stage answers the committed strategy also in the PettingZoo loop, where the
    follower observes the leader's previous action. A learning policy *samples* its actions,
    which puts noise of order ``|grad_y f1| * std(y)`` on every payoff the leader measures,
    so the estimate is two-sided (antithetic: the payoff level cancels), the perturbation
    is twice the preset's and the steps decay from a smaller start:

    * ``alpha_n = step * w^2 / S / (n + 11)^0.602`` where ``w`` is the narrowest side of ``X``
      and ``S`` the spread of ``f1(x, r(x))`` over a grid of ``X`` (read once off the game to
      set the scale, as the presets do); for a quadratic ``f1(x, r(x))`` peaking mid-box the
      first steps contract the error by about ``8 * step``;
    * ``delta_n = perturbation * w / (n + 1)^0.101`` (Spall's exponents; Assumption 4.4);
    * ``k_n = commitment`` stages per side.
    """
    for nm, v in (("step", step), ("perturbation", perturbation)):
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or not (math.isfinite(v) and v > 0)
        ):
            raise ValueError(f"{nm} must be a positive number, got {v!r}")
    if isinstance(commitment, bool) or not isinstance(commitment, int) or commitment < 1:
        raise ValueError(f"commitment must be a positive integer, got {commitment!r}")
    width = float(np.min(game.leader_high - game.leader_low))
    spread = float(np.ptp(game.hierarchical_payoff(leader_grid(game, 65)))) or 1.0
    return {
        "step_size": PowerLaw(step * width**2 / spread, 0.602, A=10.0),
        "perturbation": PowerLaw(perturbation * width, 0.101),
        "commitment": commitment,
        "two_sided": True,
    }


def _hic_factory(kwargs: dict[str, Any], game: Game) -> HiCLeader:
    box = spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)
    return HiCLeader(box, **kwargs)


# ---------------------------------------------------------------------------------- config
@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training an SB3 follower against a Hi-C leader (``scripts/train_sb3_follower.py``)."""

    env_id: str = "hic/Duopoly-Follower-v0"
    """Follower view to train on (any registered ``.../<Name>-Follower-vN``)."""
    game_kwargs: str = "{}"
    """Game constructor arguments as JSON, e.g. '{"a": 60}'."""
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
    torch_threads: int = 1
    """torch.set_num_threads for training (small networks run fastest on one thread)."""
    out: str | None = "runs/sb3_follower"
    """Output directory (model.zip, summary.json, tensorboard log); None writes nothing."""
    progress_bar: bool = True
    """Show SB3's progress bar."""
    verbose: int = 0
    """SB3 verbosity (0, 1 or 2)."""

    def __post_init__(self) -> None:
        if self.algo not in ALGORITHMS:
            raise ValueError(f"algo must be one of {sorted(ALGORITHMS)}, got {self.algo!r}")
        if not isinstance(self.env_id, str) or "-Follower-v" not in self.env_id:
            raise ValueError(f"env_id must be a follower view ID, got {self.env_id!r}")
        self.game_kwargs_dict  # noqa: B018 - validates the JSON
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
            "torch_threads",
        ):
            v = getattr(self, nm)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{nm} must be a positive integer, got {v!r}")
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
        """``game_kwargs`` parsed from JSON."""
        try:
            kw = json.loads(self.game_kwargs)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"game_kwargs must be a JSON object, got {self.game_kwargs!r}"
            ) from err
        if not isinstance(kw, dict):
            raise ValueError(f"game_kwargs must be a JSON object, got {self.game_kwargs!r}")
        return kw


# ---------------------------------------------------------------------------------- CLI plumbing
def _field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each field of a dataclass (CleanRL style)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    docs: dict[str, str] = {}
    for node, nxt in zip(body, body[1:], strict=False):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def config_parser(cls: type, description: str | None = None) -> argparse.ArgumentParser:
    """An ``argparse`` parser with one ``--flag`` per field of the dataclass ``cls``.

    Field docstrings become the help; bools get ``--x/--no-x``; ``tuple[int, ...]`` takes
    several values; ``X | None`` accepts ``none``.
    """
    hints = typing.get_type_hints(cls)
    docs = _field_docs(cls)
    parser = argparse.ArgumentParser(
        description=description or (cls.__doc__ or "").strip(),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        tp, optional = hints[f.name], False
        if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            optional, tp = True, args[0]
        kw: dict[str, Any] = {"default": f.default, "help": docs.get(f.name, "")}
        if tp is bool:
            kw["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(tp) is tuple:
            kw.update(nargs="+", type=typing.get_args(tp)[0])
        else:
            kw["type"] = _none_or(tp) if optional else tp
        parser.add_argument(flag, dest=f.name, **kw)
    return parser


def _none_or(tp: type) -> Callable[[str], Any]:
    def convert(text: str):
        return None if text.lower() == "none" else tp(text)

    convert.__name__ = f"{tp.__name__} or none"
    return convert


def parse_config(cls: type, argv: Sequence[str] | None = None, description: str | None = None):
    """Parse command-line flags into an instance of the dataclass ``cls``."""
    ns = config_parser(cls, description).parse_args(argv)
    values = vars(ns)
    for f in dataclasses.fields(cls):
        if isinstance(values[f.name], list):
            values[f.name] = tuple(values[f.name])
    return cls(**values)


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
            "hic/leader_distance_to_dse", float(np.mean(self.game.distance_to_stackelberg(x)))
        )

    def _on_training_start(self) -> None:
        self._record()

    def _on_step(self) -> bool:
        if self.n_calls % self.every == 0:
            self._record()
        return True


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
    leader: Any = None,
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
    torch.set_num_threads(config.torch_threads)
    game_kwargs = config.game_kwargs_dict
    probe = gymnasium.make(config.env_id, disable_env_checker=True, **game_kwargs)
    game = probe.unwrapped.game
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
    env_kwargs = dict(
        game_kwargs,
        leader=leader,
        observe_leader=config.observe_leader,
        noise_std=config.noise_std,
        reward_scale=scale,
        max_episode_steps=config.max_episode_steps,
        render_mode=None,
    )
    vec_env = make_vec_env(
        config.env_id, n_envs=config.n_envs, seed=config.seed, env_kwargs=env_kwargs
    )
    out = None if config.out is None else Path(config.out)
    common = dict(
        learning_rate=config.learning_rate,
        gamma=config.gamma,
        batch_size=config.batch_size,
        seed=config.seed,
        verbose=config.verbose,
        device="cpu",
        policy_kwargs={"net_arch": list(config.net_arch)},
        tensorboard_log=None if out is None else str(out / "tb"),
    )
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
    return "\n".join(lines)
