"""Gymnasium single-agent views of a game: one player is the agent, the other lives inside.

Stable-Baselines3 trains one agent at a time, so the leader-follower game is offered as two
single-agent ``gymnasium.Env`` views over any :class:`~hic_envs.games.Game`:

* :class:`FollowerView` (``hic/<Name>-Follower-v0``): the agent is the follower; a leader agent
  (Hi-C by default) lives inside the env and keeps learning across episodes.
* :class:`LeaderView` (``hic/<Name>-Leader-v0``): the agent is the leader; a scripted follower
  (gradient ascent by default) lives inside.

Both play the stage game through a :class:`~hic_envs.GameEnv` held inside the view, so payoffs,
noise, projection, infos and rendering are the env's own; the view only rescales actions and
observations and drives the embedded partner.

Actions and observations are in *normalised units*: the affine map that sends a strategy box
``[low, high]`` onto ``[-1, 1]`` (:func:`to_unit` and :func:`from_unit`, shared with
:mod:`agents.sb3`), in :mod:`hic_envs.units`.
"""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

import gymnasium
import numpy as np
from gymnasium import spaces

from agents.base import Agent, check_agent
from agents.compose.engines.runner import derive_seeds
from agents.followers import GradientAscentFollower
from agents.hic import HiCLeader
from agents.presets import follower_step_size
from agents.sb3 import limit_torch_threads
from hic_envs.env import FOLLOWER, LEADER, GameEnv
from hic_envs.games.base import Game
from hic_envs.registration import DEFAULT_MAX_EPISODE_STEPS, build_game
from hic_envs.units import from_unit, to_unit

__all__ = ["FollowerView", "LeaderView", "follower_view", "leader_view"]


_ROLE_NAME = {LEADER: "leader", FOLLOWER: "follower"}


def _unit_box(d: int) -> spaces.Box:
    return spaces.Box(-1.0, 1.0, shape=(d,), dtype=np.float32)


# ---------------------------------------------------------------------- partners
# Which view currently drives each embedded agent. A partner object shared by two views (for
# example one ``leader=`` object given to ``make_vec_env(..., env_kwargs=...)``, which reaches
# every copy) would be stepped by both: the later view to reset takes it over, and the other
# then refuses to step instead of silently sharing its state.
# Keyed by id(): any object can be an agent, hashable or not. A view holds its partner, so an
# id cannot be reused while a view that drives it lives.
_DRIVER: dict[int, int] = {}


def _preset_leader(game: Game) -> HiCLeader:
    """Hi-C with the game's tuned preset settings (:func:`agents.presets.hic_leader_kwargs`)."""
    return HiCLeader.for_game(game)


def _preset_follower(game: Game) -> GradientAscentFollower:
    """Gradient ascent (Eq. 21) with the step the presets are built for."""
    return GradientAscentFollower(game, step_size=follower_step_size(game))


#: An embedded partner: an agent (:class:`agents.Agent`), a callable ``game -> agent``, or
#: None for the default partner.
PartnerLike: TypeAlias = "Agent | Callable[[Game], Agent] | None"


def _adopt(partner: Any, role: str, game: Game, default: Callable[[Game], Any]):
    """Validate (or build) the embedded partner agent for ``role``: any :class:`agents.Agent`
    (a single one), a callable ``game -> agent``, or None for ``default``."""
    if partner is None:
        agent = default(game)
    elif isinstance(partner, type) or not _is_agent(partner):
        if not callable(partner):
            raise TypeError(
                f"{role} must be None, an agent (reset/act/observe/strategy, see "
                f"agents.Agent) or a callable game -> agent, got {type(partner).__name__}"
            )
        agent = partner(game)
        try:
            check_agent(agent, role)
        except TypeError as err:
            raise TypeError(f"{role} factory {partner!r} returned a non-agent: {err}") from None
    else:
        agent = partner
    if getattr(agent, "num_envs", None) is not None:
        raise ValueError(
            f"the embedded {role} must be a single agent (num_envs=None), got num_envs="
            f"{agent.num_envs}"
        )
    d = game.d1 if role == "leader" else game.d2
    dim = getattr(agent, "dim", None)
    if isinstance(dim, (int, np.integer)) and dim != d:
        raise ValueError(f"the {role} agent has dimension {dim}, but the game's is {d}")
    return agent


def _is_agent(obj: Any) -> bool:
    try:
        check_agent(obj, "partner")
    except TypeError:
        return False
    return True


def _check_max_steps(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
        raise ValueError(
            f"max_episode_steps must be None or an integer >= 2, got {value!r} (gymnasium's "
            "checker needs an episode to last more than one step)"
        )
    return int(value)


def _check_scale(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"reward_scale must be a number, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"reward_scale must be a positive finite number, got {value!r}")
    return v


# ---------------------------------------------------------------------- the views
class _View(gymnasium.Env):
    """Shared plumbing of :class:`FollowerView` and :class:`LeaderView` (one role each).

    Subclasses set ``_role``/``_other`` (agent names in :class:`GameEnv`) and the observation
    space, and implement :meth:`_observation`.
    """

    metadata = {
        "render_modes": GameEnv.metadata["render_modes"],
        "render_fps": GameEnv.metadata["render_fps"],
    }
    _role: str
    _other: str

    def __init__(
        self,
        game: Game,
        partner: Any,
        default_partner: Callable[[Game], Any],
        *,
        max_episode_steps: int | None,
        noise_std: float,
        reward_scale: float,
        render_mode: str | None,
    ) -> None:
        if not isinstance(game, Game):
            raise TypeError(f"game must be a hic_envs.games.Game, got {type(game).__name__}")
        limit_torch_threads()  # SB3 trains small networks on views: one thread unless chosen
        self.max_episode_steps = _check_max_steps(max_episode_steps)
        self.reward_scale = _check_scale(reward_scale)
        # The stage game, payoffs, noise, projection and rendering are GameEnv's. Without an
        # episode length of its own the view never truncates (gymnasium's TimeLimit does).
        self.env = GameEnv(
            game,
            max_cycles=self.max_episode_steps or sys.maxsize,
            noise_std=noise_std,
            render_mode=render_mode,
        )
        self.game = game
        self.render_mode = render_mode
        self.partner = _adopt(partner, _ROLE_NAME[self._other], game, default_partner)
        own, other = self.env.action_space(self._role), self.env.action_space(self._other)
        self._own_box, self._other_box = (own.low, own.high), (other.low, other.high)
        self.action_space = _unit_box(own.shape[0])
        self._started = False  # partner reset at least once by this view
        self._obs: dict[str, np.ndarray] | None = None  # GameEnv's observations, both players
        self._partner_action: np.ndarray | None = None  # the partner's action for this stage

    # ------------------------------------------------------------------ gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict]:
        """Start an episode; restart the embedded partner only when ``seed`` is given.

        ``reset(seed=s)`` reseeds the view, the payoff noise and the partner from ``s`` (the
        same derivation as :func:`agents.compose.play` with ``seed=s``) and restarts the partner's
        learning. ``reset()`` keeps the partner and the noise generator running.
        ``options`` is accepted for the Gymnasium API and not used.
        """
        super().reset(seed=seed)
        if seed is not None:
            env_seed, leader_ss, follower_ss = derive_seeds(seed)
            obs, _ = self.env.reset(seed=env_seed)
            self.partner.reset(seed=leader_ss if self._other == LEADER else follower_ss)
        else:
            obs, _ = self.env.reset()
            if not self._started:
                self.partner.reset()  # the partner's own constructor seed, or fresh entropy
        self._started = True
        _DRIVER[id(self.partner)] = id(self)
        self._obs = obs
        self._partner_action = self._ask_partner()
        return self._observation(), {"stage": 0, "projected": False}

    def step(self, action) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Play one stage with ``action`` (normalised units) against the embedded partner."""
        if self._partner_action is None:
            raise RuntimeError("step() called before reset(); call env.reset(seed=...) first")
        if not self.env.agents:
            raise RuntimeError("step() called after the episode ended; call env.reset() first")
        if _DRIVER.get(id(self.partner)) != id(self):
            raise RuntimeError(
                f"the embedded {_ROLE_NAME[self._other]} agent is now driven by another view "
                "(the same agent object was given to two envs, e.g. through make_vec_env's "
                "env_kwargs); pass a factory (a callable game -> Agent) to give each env its own"
            )
        u = np.asarray(action, dtype=np.float64)
        if u.shape != self.action_space.shape:
            raise ValueError(
                f"action must have shape {self.action_space.shape}, got shape {u.shape}"
            )
        if not np.isfinite(u).all():
            raise ValueError(f"action must be finite, got {u.tolist()}")
        projected = bool(np.any(np.abs(u) > 1.0))
        own = from_unit(np.clip(u, -1.0, 1.0), *self._own_box)

        obs, rewards, _, truncs, infos = self.env.step(
            {self._role: own, self._other: self._partner_action}
        )
        self.partner.observe(rewards[self._other], obs[self._other])
        self._obs = obs
        self._partner_action = self._ask_partner()
        info = {
            "stage": infos[self._role]["stage"],
            "projected": projected,
            "payoff": infos[self._role]["payoff"],
            "partner_payoff": infos[self._other]["payoff"],
            # Each player observes the other's action as played.
            "leader_action": obs[FOLLOWER].copy(),
            "follower_action": obs[LEADER].copy(),
            "partner_strategy": self.partner.strategy,
        }
        reward = float(rewards[self._role]) * self.reward_scale
        return self._observation(), reward, False, bool(truncs[self._role]), info

    def render(self) -> str | np.ndarray | None:
        """The inner :class:`GameEnv`'s rendering of the stage just played."""
        return self.env.render()

    def close(self) -> None:
        """Nothing to release."""
        self.env.close()

    # ------------------------------------------------------------------ helpers
    def _ask_partner(self) -> np.ndarray:
        """The partner's action for the coming stage, checked like GameEnv checks actions."""
        assert self._obs is not None, "reset() sets the observations first"
        a = np.array(self.partner.act(self._obs[self._other]), dtype=np.float64)
        d = self.env.action_space(self._other).shape
        if a.shape != d or not np.isfinite(a).all():
            raise ValueError(
                f"the embedded {_ROLE_NAME[self._other]} agent returned {a.tolist()}; expected "
                f"a finite action of shape {d}"
            )
        return a

    def _observation(self) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.game!r}, partner={self.partner!r})"


class FollowerView(_View):
    """The follower's single-agent view of a game: the leader lives inside the env.

    ## Description
    Each step is one stage of ``game``. The embedded leader commits first: the observation
    holds the leader's action for the coming stage, the agent answers with its own strategy,
    both are paid through :class:`~hic_envs.GameEnv`, and the leader learns from its payoff
    (Hi-C's commitment intervals run across steps). Training an RL follower here is training
    it against a learning leader, the setting of the Hi-C paper.

    **The embedded leader persists across episodes**: it learns through the whole training.
    ``reset(seed=s)`` restarts it from a seed derived from ``s`` (with the same derivation as
    :func:`agents.compose.play` with ``seed=s``, so the view reproduces ``play`` when the agent
    plays the same actions, up to the rounding of the trip through ``[-1, 1]``); ``reset()`` with
    no seed keeps it, and so does gymnasium's
    or SB3's automatic reset at the end of an episode. The first ``reset()`` without a seed
    starts the leader with its own constructor seed (fresh entropy for the default).
    ``env.unwrapped.leader.strategy`` is the leader's current mean strategy ``x_n``.

    ## Action Space
    ``Box(-1, 1, (d2,), float32)``: the follower's strategy in normalised units, mapped
    affinely onto ``Y = [follower_low, follower_high]`` (:func:`from_unit`). Actions outside
    ``[-1, 1]`` are clipped and ``info["projected"]`` is True; NaN, inf or a wrong shape raise
    ``ValueError``.

    ## Observation Space
    * ``observe_leader=True``: ``Box(-1, 1, (d1,), float32)``, the leader's action for the
      coming stage in normalised units (:func:`to_unit` of ``X``), after projection onto ``X``.
    * ``observe_leader=False`` (the ad hoc setting: the follower sees nothing of the leader):
      ``Box(-1, 1, (1,), float32)``, always ``[0.0]``. A constant feature rather than a
      zero-length vector, which SB3 refuses (its feature extractor asserts a positive size).

    ## Rewards
    ``reward_scale * (f2(x, y) + w)`` with ``w ~ N(0, noise_std^2)``, a Python float.

    ## Starting State
    At ``reset`` the leader acts on :class:`~hic_envs.GameEnv`'s reset observation (the centre
    of ``Y``), exactly as in :func:`agents.compose.play`. (The observation returned by the step that
    ends an episode already holds the leader's next action; ``reset`` asks the leader again,
    so ``act``, which has no side effects in any agent of :mod:`agents`, may be called twice
    for that stage.)

    ## Episode End
    No termination. Made by ID, episodes are truncated by gymnasium's ``TimeLimit`` after
    ``max_episode_steps`` (default 1000; ``gymnasium.make(id, max_episode_steps=N)``).
    Constructed directly, after ``max_episode_steps`` (``None``: never).

    ## Infos
    ``stage`` (stages this episode), ``projected``, ``payoff`` (noiseless ``f2``),
    ``partner_payoff`` (noiseless ``f1``), ``leader_action`` and ``follower_action`` (game
    units, as played) and ``partner_strategy`` (the leader's mean strategy after the stage).

    ## Arguments
    * ``game`` (:class:`~hic_envs.games.Game`): the stage game.
    * ``leader``: ``None`` for a :class:`~agents.HiCLeader` with the game's preset settings
      (:func:`agents.presets.hic_leader_kwargs`, made for a gradient-ascent follower), an
      :class:`agents.Agent` (a single leader, ``num_envs=None``), or a callable
      ``game -> Agent`` (use one with ``make_vec_env``, whose ``env_kwargs`` reach every copy:
      one agent object cannot be embedded in two envs). For an RL follower,
      :func:`agents.presets.reactive_hic_kwargs` gives Hi-C settings made for a follower that
      reacts at once and explores (what ``scripts/train_sb3_follower.py`` uses).
    * ``observe_leader`` (bool, default True): False for the ad hoc setting.
    * ``max_episode_steps`` (int or None, default 1000): truncation when constructed directly.
    * ``noise_std`` (float, default 0): payoff noise, as in :class:`~hic_envs.GameEnv`.
    * ``reward_scale`` (float, default 1): multiplies the reward (payoffs of hundreds slow
      SB3's critics; ``info["payoff"]`` stays unscaled).
    * ``render_mode`` (``None``, ``"ansi"``, ``"human"``, ``"rgb_array"``): the inner
      :class:`~hic_envs.GameEnv`'s rendering of the stage just played.

    ## Version History
    * v0: initial version.
    """

    _role, _other = FOLLOWER, LEADER

    def __init__(
        self,
        game: Game,
        leader: PartnerLike = None,
        observe_leader: bool = True,
        max_episode_steps: int | None = DEFAULT_MAX_EPISODE_STEPS,
        noise_std: float = 0.0,
        reward_scale: float = 1.0,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(observe_leader, (bool, np.bool_)):
            raise TypeError(f"observe_leader must be a bool, got {observe_leader!r}")
        super().__init__(
            game,
            leader,
            _preset_leader,
            max_episode_steps=max_episode_steps,
            noise_std=noise_std,
            reward_scale=reward_scale,
            render_mode=render_mode,
        )
        self.observe_leader = bool(observe_leader)
        self.observation_space = _unit_box(game.d1 if self.observe_leader else 1)

    @property
    def leader(self) -> Agent:
        """The embedded leader agent."""
        return self.partner

    def _observation(self) -> np.ndarray:
        if not self.observe_leader:
            return np.zeros(1, dtype=np.float32)
        assert self._partner_action is not None, "reset() asks the partner first"
        x = self.game.project_leader(self._partner_action)  # as GameEnv will play it
        return to_unit(x, *self._other_box).astype(np.float32)


class LeaderView(_View):
    """The leader's single-agent view of a game: a scripted follower lives inside the env.

    ## Description
    Each step is one stage of ``game``, played simultaneously through
    :class:`~hic_envs.GameEnv`: the agent picks the leader's strategy, the embedded follower
    plays the action it chose after the previous stage, both are paid, and the follower
    learns. Train an RL leader here against a learning follower.

    **The embedded follower persists across episodes**: it learns through the whole training.
    ``reset(seed=s)`` restarts it from a seed derived from ``s`` (as
    :func:`agents.compose.play` with ``seed=s`` does); ``reset()`` with no seed keeps it, and
    so does the automatic reset of gymnasium and SB3 at the end of an episode. The first
    ``reset()`` without a seed starts it with its own constructor seed (fresh entropy for the
    default).
    ``env.unwrapped.follower.strategy`` is its current strategy.

    ## Action Space
    ``Box(-1, 1, (d1,), float32)``: the leader's strategy in normalised units, mapped affinely
    onto ``X`` (:func:`from_unit`). Out of ``[-1, 1]``: clipped, ``info["projected"]`` True.

    ## Observation Space
    ``Box(-1, 1, (d2,), float32)``: what :class:`~hic_envs.GameEnv` shows the leader, the
    follower's action at the stage just played (after projection onto ``Y``), in normalised
    units. At ``reset`` it is the centre of ``Y``, i.e. zeros, as in ``GameEnv``.

    ## Rewards
    ``reward_scale * (f1(x, y) + w)`` with ``w ~ N(0, noise_std^2)``, a Python float.

    ## Episode End
    As :class:`FollowerView`: gymnasium's ``TimeLimit`` when made by ID (default 1000 steps),
    ``max_episode_steps`` when constructed directly.

    ## Infos
    As :class:`FollowerView`, with ``payoff`` the noiseless ``f1``, ``partner_payoff`` the
    noiseless ``f2`` and ``partner_strategy`` the follower's strategy after the stage.

    ## Arguments
    * ``game`` (:class:`~hic_envs.games.Game`): the stage game.
    * ``follower``: ``None`` for a :class:`~agents.GradientAscentFollower` with the game's
      preset step size, an :class:`agents.Agent` (a single follower), or a callable
      ``game -> Agent``.
    * ``max_episode_steps``, ``noise_std``, ``reward_scale``, ``render_mode``: as
      :class:`FollowerView`.

    ## Version History
    * v0: initial version.
    """

    _role, _other = LEADER, FOLLOWER

    def __init__(
        self,
        game: Game,
        follower: PartnerLike = None,
        max_episode_steps: int | None = DEFAULT_MAX_EPISODE_STEPS,
        noise_std: float = 0.0,
        reward_scale: float = 1.0,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(
            game,
            follower,
            _preset_follower,
            max_episode_steps=max_episode_steps,
            noise_std=noise_std,
            reward_scale=reward_scale,
            render_mode=render_mode,
        )
        self.observation_space = _unit_box(game.d2)

    @property
    def follower(self) -> Agent:
        """The embedded follower agent."""
        return self.partner

    def _observation(self) -> np.ndarray:
        assert self._obs is not None, "reset() sets the observations first"
        y = self._obs[LEADER]  # GameEnv's leader observation: the follower's action as played
        return to_unit(y, *self._other_box).astype(np.float32)


# ---------------------------------------------------------------------- registration
_V = TypeVar("_V", bound=_View)


def _make_view(view_cls: type[_V], game_factory: Callable[..., Game], **kwargs: Any) -> _V:
    """Entry point of a registered view: view keywords go to the view, the rest to the game."""
    names = set(inspect.signature(view_cls).parameters) - {"game"}
    view_kwargs = {k: v for k, v in kwargs.items() if k in names}
    game_kwargs = {k: v for k, v in kwargs.items() if k not in names}
    # Made by ID, episodes are ended by gymnasium's TimeLimit (max_episode_steps of make).
    view_kwargs.setdefault("max_episode_steps", None)
    return view_cls(build_game(game_factory, game_kwargs, sorted(names)), **view_kwargs)


def follower_view(game_factory: Callable[..., Game], **kwargs: Any) -> FollowerView:
    """Entry point of ``<ns>/<Name>-Follower-vN`` (registered by :func:`hic_envs.register_game`).

    Keyword arguments of ``gymnasium.make`` that the view takes (``leader``,
    ``observe_leader``, ``noise_std``, ``reward_scale``, ``render_mode``) go to the view, all
    others to ``game_factory``; ``max_episode_steps`` is gymnasium's own.
    """
    return _make_view(FollowerView, game_factory, **kwargs)


def leader_view(game_factory: Callable[..., Game], **kwargs: Any) -> LeaderView:
    """Entry point of ``<ns>/<Name>-Leader-vN``; as :func:`follower_view` (``follower`` for the
    embedded follower)."""
    return _make_view(LeaderView, game_factory, **kwargs)
