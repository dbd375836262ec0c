"""Stable-Baselines3 policies as agents, and how good a follower policy is.

* :class:`SB3Follower` / :class:`SB3Leader`: a trained SB3 model (PPO, SAC, TD3, ...) as an
  agent in the PettingZoo loop (:func:`agents.compose.play`) or the batched engine. ``act``
  turns the observation into the views' normalised units (:mod:`hic_envs.units`), calls
  ``model.predict`` and maps the action back onto the strategy box.
* :func:`policy_response` and :func:`best_response_error`: a follower policy measured against
  the game's ground truth ``r(x)``.

Training a follower against Hi-C is composition, in :mod:`agents.compose.experiments.training`. This
module imports Stable-Baselines3 (and torch); ``import agents`` does not, and loads it only
when ``agents.SB3Follower`` or ``agents.SB3Leader`` is first used.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import ArrayLike

from agents.base import BatchAgent, SeedLike
from agents.presets import leader_grid
from agents.rules.protocol import Capabilities
from hic_envs.games.base import Game
from hic_envs.units import from_unit, to_unit

__all__ = [
    "ResponseError",
    "SB3Follower",
    "SB3Leader",
    "best_response_error",
    "leader_grid",
    "limit_torch_threads",
    "payoff_scale",
    "policy_response",
]

#: Environment variables that choose torch's thread count; when one is set it is respected.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


# ---------------------------------------------------------------------------------- threads
def limit_torch_threads(threads: int = 1) -> int:
    """Give torch ``threads`` intra-op threads, unless the user has chosen a number.

    The networks SB3 trains on these games are tiny (two hidden layers of 64 by default):
    each forward and backward pass is microseconds of work, and splitting it over threads
    costs more than it saves, the more so on a loaded machine: the README's SAC snippet took
    16-27 s with one thread and 38-98 s with torch's default two on 2 shared cores (load 1-5;
    ``python snippet.py`` with and without ``OMP_NUM_THREADS=2``, docs/tutorials/sb3.md). The
    Gymnasium views, the SB3 agents and ``hic train-follower`` call this.

    A count set with ``torch.set_num_threads(k)`` where ``k`` is torch's own default cannot be
    told apart from the default, and becomes one thread; ``OMP_NUM_THREADS=k`` keeps it.

    The user's choice stands: nothing changes when ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``
    is set, or when torch's thread count is no longer its default (``torch.set_num_threads``
    was called with another number). torch is not imported here: before it is imported there
    is nothing to set.

    Args:
        threads: the number of threads to set (a positive int).

    Returns:
        torch's intra-op thread count afterwards (0 when torch is not imported).

    Raises:
        ValueError: if ``threads`` is not a positive integer.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    torch = sys.modules.get("torch")
    if torch is None:
        return 0
    now = int(torch.get_num_threads())
    if any(os.environ.get(v) for v in THREAD_VARIABLES) or now not in _torch_defaults():
        return now
    torch.set_num_threads(threads)
    return threads


def _torch_defaults() -> set[int]:
    """Thread counts torch starts with when no variable sets one: its default is the number
    of (physical) cores it can use, which on a machine with SMT is half the logical CPUs."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    logical = os.cpu_count() or usable
    return {usable, logical, max(1, usable // 2), max(1, logical // 2)}


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
    x: ArrayLike,
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


def _game_of(model: Any, game: Any) -> Game:
    """The game whose boxes rescale a policy's actions: ``game``, or the one of the view the
    model was trained in (``model.get_env()``, while the model still holds its env)."""
    if game is not None:
        if not isinstance(game, Game):
            raise TypeError(f"game must be a hic_envs.games.Game, got {type(game).__name__}")
        return game
    get_env = getattr(model, "get_env", None)
    env = get_env() if callable(get_env) else None
    if env is not None:
        try:
            found = env.get_attr("game")[0]
        except (AttributeError, IndexError):
            found = None
        if isinstance(found, Game):
            return found
    raise ValueError(
        "the model's spaces are normalised to [-1, 1] and do not give the strategy boxes, and "
        "the model holds no hic view env (a loaded model has none): pass the game, e.g. "
        "SB3Follower(model, game)"
    )


class _SB3Agent(BatchAgent):
    """A frozen SB3 policy as an agent: normalise the observation, predict, rescale."""

    #: A declared capability: a torch policy has no pure (traceable) array form.
    capabilities = Capabilities(pure=False)

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
        limit_torch_threads()
        if not isinstance(deterministic, (bool, np.bool_)):
            raise TypeError(f"deterministic must be a bool, got {deterministic!r}")
        self.model = model
        self.deterministic = bool(deterministic)
        self._own_box = own_box
        self._obs_box = obs_box

    state_attrs = ("_y",)

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
    :class:`~agents.compose.views.single.FollowerView` does, calls ``model.predict`` (on the
    whole batch
    when ``num_envs=S``) and maps the action onto ``Y``. In the PettingZoo loop
    (:func:`agents.compose.play`) the follower observes the leader's action at the stage *just
    played* (:class:`~hic_envs.GameEnv`'s convention), whereas the view shows the leader's
    action for the *coming* stage; against a committing leader such as Hi-C the two differ only
    at the first stage of each commitment interval.

    Args:
        model: an SB3 model trained on ``hic/<Name>-Follower-v0`` of ``game``.
        game: the game (its boxes give the rescaling); ``None`` takes it from the view the
            model was trained in (``model.get_env()``), which a freshly trained model holds
            and a loaded one does not.
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
        game: Game | None = None,
        *,
        observe_leader: bool = True,
        deterministic: bool = True,
        num_envs: int | None = None,
        seed: SeedLike = None,
    ) -> None:
        game = _game_of(model, game)
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
    loop and :class:`~agents.compose.views.single.LeaderView`, so the two agree exactly.

    Args:
        model: an SB3 model trained on ``hic/<Name>-Leader-v0`` of ``game``.
        game: the game, or ``None`` as for :class:`SB3Follower`.
        deterministic, num_envs, seed: as :class:`SB3Follower`.
    """

    def __init__(
        self,
        model: Any,
        game: Game | None = None,
        *,
        deterministic: bool = True,
        num_envs: int | None = None,
        seed: SeedLike = None,
    ) -> None:
        game = _game_of(model, game)
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
    model: Any, game: Game, xs: ArrayLike, *, observe_leader: bool = True
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
