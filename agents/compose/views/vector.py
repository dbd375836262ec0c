"""Native Gymnasium vector envs of the follower and leader views, and an SB3 ``VecEnv`` adapter.

:class:`FollowerVectorView` and :class:`LeaderVectorView` are ``gymnasium.vector.VectorEnv``
subclasses that run ``num_envs`` copies of :class:`~agents.compose.views.single.FollowerView` /
:class:`~agents.compose.views.single.LeaderView` in lockstep: one NumPy step of the game's
batched payoffs for all copies, and the embedded partners as *one* batched agent built with
``num_envs=N`` (row ``i`` of its ``(N, d)`` arrays is copy ``i``'s partner). The views' semantics
carry over: actions and observations in normalised units (:func:`~hic_envs.units.to_unit`,
:func:`~hic_envs.units.from_unit`), the partner keeps learning across episodes, and
``reset(seed=s)`` restarts it.

:class:`SB3VecEnv` makes either one a ``stable_baselines3`` ``VecEnv``.
:func:`hic_envs.register_game` gives the view IDs a ``vector_entry_point``, so that
``gymnasium.make_vec(ID, num_envs=N, vectorization_mode="vector_entry_point")`` builds them.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

import numpy as np
from gymnasium import Wrapper, spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvStepReturn

from agents.base import BatchAgent
from agents.compose.engines.runner import derive_seeds
from agents.followers import GradientAscentFollower
from agents.hic import HiCLeader
from agents.presets import follower_step_size, hic_leader_kwargs
from agents.sb3 import limit_torch_threads
from hic_envs.games.base import Game
from hic_envs.registration import DEFAULT_MAX_EPISODE_STEPS, build_game
from hic_envs.units import to_unit

__all__ = [
    "FollowerVectorView",
    "LeaderVectorView",
    "SB3VecEnv",
    "follower_vector_view",
    "leader_vector_view",
]

#: Info keys of every step, as the single views give them (before the masks Gymnasium adds).
STEP_INFO_KEYS = (
    "stage",
    "projected",
    "payoff",
    "partner_payoff",
    "leader_action",
    "follower_action",
    "partner_strategy",
)


def _check_num_envs(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"num_envs must be a positive integer, got {value!r}")
    return int(value)


def _check_max_steps(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"max_episode_steps must be None or a positive integer, got {value!r}")
    return int(value)


def _check_nonneg(name: str, value: Any, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        what = "a positive" if positive else "a non-negative"
        raise ValueError(f"{name} must be {what} finite number, got {value!r}")
    return v


def _unit_box(d: int) -> spaces.Box:
    return spaces.Box(-1.0, 1.0, shape=(d,), dtype=np.float32)


def _preset_leader(game: Game, num_envs: int) -> BatchAgent:
    """Hi-C with the game's preset settings, ``num_envs`` leaders in lockstep."""
    box = spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)
    return HiCLeader(box, **hic_leader_kwargs(game), num_envs=num_envs)


def _preset_follower(game: Game, num_envs: int) -> BatchAgent:
    """Gradient ascent (Eq. 21) with the presets' step, ``num_envs`` followers in lockstep."""
    return GradientAscentFollower(game, step_size=follower_step_size(game), num_envs=num_envs)


#: An embedded batched partner: a :class:`~agents.BatchAgent` built with ``num_envs``, a
#: callable ``(game, num_envs) -> agent``, or None for the default partner.
BatchPartnerLike: TypeAlias = "BatchAgent | Callable[[Game, int], BatchAgent] | None"


def _adopt(partner: Any, role: str, game: Game, num_envs: int, default) -> BatchAgent:
    """Validate (or build) the batched partner: ``None``, an Agent or ``f(game, num_envs)``."""
    if partner is None:
        agent = default(game, num_envs)
    elif isinstance(partner, BatchAgent):
        agent = partner
    elif callable(partner):
        agent = partner(game, num_envs)
        if not isinstance(agent, BatchAgent):
            raise TypeError(
                f"{role} factory {partner!r} returned {type(agent).__name__}, expected an "
                "agents.Agent built with num_envs"
            )
    else:
        raise TypeError(
            f"{role} must be None, an agents.Agent built with num_envs={num_envs}, or a callable "
            f"(game, num_envs) -> Agent, got {type(partner).__name__}"
        )
    if agent.num_envs != num_envs:
        raise ValueError(
            f"the embedded {role} must be one batched agent with num_envs={num_envs} (one row "
            f"per copy), got num_envs={agent.num_envs}"
        )
    d = game.d1 if role == "leader" else game.d2
    if agent.dim != d:
        raise ValueError(f"the {role} agent has dimension {agent.dim}, but the game's is {d}")
    return agent


class _VectorView(VectorEnv):
    """Shared plumbing of :class:`FollowerVectorView` and :class:`LeaderVectorView`."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}
    _agent_is_leader: bool
    _partner_role: str

    def __init__(
        self,
        game: Game,
        num_envs: int,
        partner: Any,
        default_partner: Callable[[Game, int], BatchAgent],
        *,
        max_episode_steps: int | None,
        noise_std: float,
        reward_scale: float,
        render_mode: str | None,
    ) -> None:
        if not isinstance(game, Game):
            raise TypeError(f"game must be a hic_envs.games.Game, got {type(game).__name__}")
        if render_mode is not None:
            raise ValueError(
                f"render_mode must be None for a vector view, got {render_mode!r}; render one "
                "copy with the single view (agents.compose.views.single) instead"
            )
        limit_torch_threads()  # SB3 trains small networks on views: one thread unless chosen
        self.game = game
        self.num_envs = _check_num_envs(num_envs)
        self.max_episode_steps = _check_max_steps(max_episode_steps)
        self.noise_std = _check_nonneg("noise_std", noise_std)
        self.reward_scale = _check_nonneg("reward_scale", reward_scale, positive=True)
        self.render_mode = None
        self.metadata = dict(type(self).metadata)
        self.partner = _adopt(partner, self._partner_role, game, self.num_envs, default_partner)
        g = game
        if self._agent_is_leader:
            self._own = (g.leader_low, g.leader_high)
            self._other = (g.follower_low, g.follower_high)
        else:
            self._own = (g.follower_low, g.follower_high)
            self._other = (g.leader_low, g.leader_high)
        self._own_width = self._own[1] - self._own[0]
        self._centres = (
            0.5 * (g.leader_low + g.leader_high),
            0.5 * (g.follower_low + g.follower_high),
        )
        self.single_action_space = _unit_box(self._own[0].shape[0])
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._noise: np.random.Generator | None = None
        self._started = False
        self._stage = 0
        self._partner_action: np.ndarray | None = None  # (N, d_other), raw from the partner
        self._last_y: np.ndarray | None = None  # (N, d2) the follower's action just played

    # ------------------------------------------------------------------ Gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode in every copy; restart the partner only when ``seed`` is given.

        ``seed`` is one integer for the whole batch (the partner is one batched agent):
        ``reset(seed=s)`` reseeds the payoff noise and the partner from ``s`` with the
        derivation of :func:`agents.compose.play` (so one copy reproduces the single view's
        ``reset(seed=s)``) and restarts the partner's learning; ``reset()`` keeps both
        running. ``options`` may hold ``reset_mask`` only if it is all True (the copies run in
        lockstep and cannot be reset one at a time); other options are ignored.

        Raises:
            ValueError: for a list of seeds, a negative seed or a partial ``reset_mask``.
        """
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
        ):
            raise ValueError(
                f"seed must be None or one non-negative integer for the whole batch, got {seed!r} "
                "(the embedded partner is one batched agent seeded once; row i is not the view "
                "seeded with seed + i)"
            )
        if options and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"])
            if mask.shape != (self.num_envs,) or mask.dtype != np.bool_ or not mask.all():
                raise ValueError(
                    "reset_mask must be None or all True: the copies run in lockstep (one batched "
                    f"partner, one stage counter), got {options['reset_mask']!r}"
                )
        super().reset(seed=seed)
        if seed is not None:
            env_seed, leader_ss, follower_ss = derive_seeds(int(seed))
            self._noise = np.random.default_rng(env_seed)
            self.partner.reset(seed=follower_ss if self._agent_is_leader else leader_ss)
        else:
            if self._noise is None:
                self._noise = np.random.default_rng()
            if not self._started:
                self.partner.reset()  # the partner's own constructor seed, or fresh entropy
        self._started = True
        return self._restart(), self._reset_infos()

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Play one stage in every copy; ``actions`` of shape ``(num_envs, d)``, normalised.

        Returns ``(obs, rewards, terminations, truncations, infos)``. With same-step autoreset,
        the step that truncates returns the next episode's first observations and reset infos,
        the last observations in ``infos["final_obs"]`` and the step infos in
        ``infos["final_info"]``.
        """
        if self._partner_action is None:
            raise RuntimeError("step() called before reset(); call env.reset(seed=...) first")
        u = np.asarray(actions, dtype=np.float64)
        if u.shape != self.action_space.shape:
            raise ValueError(f"actions must have shape {self.action_space.shape}, got {u.shape}")
        if not np.isfinite(u).all():
            bad = np.flatnonzero(~np.isfinite(u).all(axis=1)).tolist()
            raise ValueError(f"actions must be finite; rows {bad} are not")
        projected = (np.abs(u) > 1.0).any(axis=1)
        lo, hi = self._own
        # from_unit of the clipped unit action, as the single view (then clipped to the box,
        # which only removes rounding).
        own = np.minimum(
            np.maximum(
                lo + 0.5 * (np.minimum(np.maximum(u, -1.0), 1.0) + 1.0) * self._own_width, lo
            ),
            hi,
        )
        g = self.game
        pa = self._partner_action
        other = np.minimum(np.maximum(pa, self._other[0]), self._other[1])  # GameEnv's projection
        x, y = (own, other) if self._agent_is_leader else (other, own)
        f1, f2 = g.payoffs(x, y)
        f1 = np.asarray(f1, dtype=np.float64)
        f2 = np.asarray(f2, dtype=np.float64)
        if self.noise_std > 0.0:
            assert self._noise is not None, "reset() made the generator"
            w = self._noise.normal(0.0, self.noise_std, size=(self.num_envs, 2))  # as GameEnv
            r1, r2 = f1 + w[:, 0], f2 + w[:, 1]
        else:
            r1, r2 = f1, f2
        if self._agent_is_leader:
            self.partner.observe(r2, x)  # the follower observes the leader's action
            reward, payoff, partner_payoff = r1, f1, f2
        else:
            self.partner.observe(r1, y)
            reward, payoff, partner_payoff = r2, f2, f1
        self._last_y = y
        self._partner_action = self._ask_partner(y if self._agent_is_leader else x)
        self._stage += 1
        n = self.num_envs
        infos = {
            "stage": np.full(n, self._stage, dtype=np.int64),
            "projected": projected,
            "payoff": payoff.copy(),
            "partner_payoff": partner_payoff.copy(),
            "leader_action": x.copy(),
            "follower_action": y.copy(),
            "partner_strategy": self.partner.strategy,
        }
        _add_masks(infos, n)
        rewards = reward * self.reward_scale if self.reward_scale != 1.0 else reward.copy()
        terminations = np.zeros(n, dtype=np.bool_)
        truncated = self.max_episode_steps is not None and self._stage >= self.max_episode_steps
        truncations = np.full(n, truncated, dtype=np.bool_)
        obs = self._observation()
        if truncated:
            # Same-step autoreset (Gymnasium's AutoresetMode.SAME_STEP, as SyncVectorEnv lays
            # it out): the final observations and infos go to "final_obs" / "final_info".
            final_obs = np.empty(n, dtype=object)
            final_obs[:] = list(obs)
            obs = self._restart()
            infos = {
                "final_obs": final_obs,
                "_final_obs": np.ones(n, dtype=np.bool_),
                "final_info": infos,
                "_final_info": np.ones(n, dtype=np.bool_),
                **self._reset_infos(),
            }
        return obs, rewards, terminations, truncations, infos

    def close_extras(self, **kwargs: Any) -> None:
        """Nothing to release."""

    # ------------------------------------------------------------------ helpers
    def _restart(self) -> np.ndarray:
        """Begin an episode (GameEnv's reset observations, the box centres); the partner acts."""
        self._stage = 0
        xc, yc = self._centres
        n = self.num_envs
        self._last_y = np.broadcast_to(yc, (n, yc.shape[0])).copy()
        # The partner acts on GameEnv's reset observation: the centre of the agent's box.
        seen = xc if self._agent_is_leader else yc
        self._partner_action = self._ask_partner(np.broadcast_to(seen, (n, seen.shape[0])))
        return self._observation()

    def _reset_infos(self) -> dict[str, Any]:
        n = self.num_envs
        infos = {"stage": np.zeros(n, dtype=np.int64), "projected": np.zeros(n, dtype=np.bool_)}
        _add_masks(infos, n)
        return infos

    def _ask_partner(self, obs: np.ndarray) -> np.ndarray:
        a = np.asarray(self.partner.act(obs), dtype=np.float64)
        shape = (self.num_envs, self._other[0].shape[0])
        if a.shape != shape or not np.isfinite(a).all():
            raise ValueError(
                f"the embedded {self._partner_role} agent returned {a.tolist()}; expected finite "
                f"actions of shape {shape}"
            )
        return a

    def _observation(self) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.game!r}, num_envs={self.num_envs})"


def _add_masks(infos: dict[str, Any], n: int) -> None:
    """Gymnasium's vector info layout: each key ``k`` with a boolean mask ``_k`` (all True)."""
    for key in list(infos):
        infos[f"_{key}"] = np.ones(n, dtype=np.bool_)


class FollowerVectorView(_VectorView):
    """``num_envs`` copies of :class:`~agents.compose.views.single.FollowerView` in one NumPy step.

    ## Description
    The agent is the follower in each copy; the embedded leader is **one batched agent** with
    ``num_envs`` rows (Hi-C with the game's preset by default), committing first: each copy's
    observation is its leader's action for the coming stage. One call of the game's batched
    payoffs plays the stage in every copy.

    ## Semantics shared with the single view
    Per copy, everything is :class:`~agents.compose.views.single.FollowerView`'s: spaces,
    normalised units,
    clipping and ``projected``, rewards ``reward_scale * (f2 + w)``, the leader's
    action after :class:`~hic_envs.GameEnv`'s projection, and the leader persisting across
    episodes (``reset(seed=s)`` restarts it, ``reset()`` and the automatic resets keep it).

    ## What differs from N single views
    * **Seeding**: ``reset(seed=s)`` takes one integer and seeds the whole batch (payoff noise
      and the batched leader, by :func:`agents.derive_seeds`); with ``num_envs=1`` it reproduces
      ``FollowerView.reset(seed=s)`` bit for bit. Row ``i`` is not the view seeded with
      ``s + i`` (``SyncVectorEnv``'s convention), since one generator serves all rows; with a
      deterministic partner (e.g. :class:`agents.FixedAgent`) and no payoff noise the copies
      equal ``SyncVectorEnv`` of single views step for step (tested).
    * **Lockstep**: every copy plays the same stage index; episodes end together (truncation
      after ``max_episode_steps``; there is no termination), and ``reset_mask`` cannot reset
      a subset.
    * ``render_mode`` must be None.

    ## Autoreset
    ``metadata["autoreset_mode"]`` is ``AutoresetMode.SAME_STEP``: the step that truncates
    returns the next episode's first observation (the leader's next committed action, as the
    single view's ``reset()``), reset infos, and the last observations and step infos in
    ``infos["final_obs"]`` / ``infos["final_info"]``. Same-step, because every call of
    :meth:`step` then plays exactly one stage in every copy (the batched partner can never
    skip a stage for some rows), and it is SB3's convention (:class:`SB3VecEnv`).

    ## Spaces and infos
    ``single_action_space = Box(-1, 1, (d2,), float32)``, ``single_observation_space =
    Box(-1, 1, (d1,), float32)`` (``(1,)`` zeros with ``observe_leader=False``); batched
    ``(num_envs, d)``. Observations float32, rewards float64 ``(num_envs,)``. Step infos hold
    the single view's keys as arrays (``stage``, ``projected``, ``payoff``, ``partner_payoff``,
    ``leader_action``, ``follower_action``, ``partner_strategy``) with Gymnasium's ``_key``
    masks; reset infos ``stage`` and ``projected``.

    ## Arguments
    * ``game``: the stage game.
    * ``num_envs``: number of copies ``N``.
    * ``leader``: None (Hi-C preset, ``num_envs=N``), an :class:`agents.Agent` built with
      ``num_envs=N`` (this object is then stepped by this env: give each env its own), or a
      callable ``(game, num_envs) -> Agent``.
    * ``observe_leader``, ``max_episode_steps`` (default 1000; None: never truncate),
      ``noise_std``, ``reward_scale``: as the single view.
    """

    _agent_is_leader = False
    _partner_role = "leader"

    def __init__(
        self,
        game: Game,
        num_envs: int,
        leader: BatchPartnerLike = None,
        observe_leader: bool = True,
        max_episode_steps: int | None = DEFAULT_MAX_EPISODE_STEPS,
        noise_std: float = 0.0,
        reward_scale: float = 1.0,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(observe_leader, (bool, np.bool_)):
            raise TypeError(f"observe_leader must be a bool, got {observe_leader!r}")
        self.observe_leader = bool(observe_leader)
        super().__init__(
            game,
            num_envs,
            leader,
            _preset_leader,
            max_episode_steps=max_episode_steps,
            noise_std=noise_std,
            reward_scale=reward_scale,
            render_mode=render_mode,
        )
        self.single_observation_space = _unit_box(game.d1 if self.observe_leader else 1)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)

    @property
    def leader(self) -> BatchAgent:
        """The embedded batched leader (``leader.strategy`` is ``(num_envs, d1)``)."""
        return self.partner

    def _observation(self) -> np.ndarray:
        if not self.observe_leader:
            return np.zeros((self.num_envs, 1), dtype=np.float32)
        lo, hi = self._other
        assert self._partner_action is not None, "reset() asks the partner first"
        x = np.minimum(np.maximum(self._partner_action, lo), hi)  # as GameEnv will play it
        return to_unit(x, lo, hi).astype(np.float32)


class LeaderVectorView(_VectorView):
    """``num_envs`` copies of :class:`~agents.compose.views.single.LeaderView` in one NumPy step.

    The agent is the leader in each copy; the embedded follower is one batched agent with
    ``num_envs`` rows (gradient ascent with the presets' step by default). Observations are
    each copy's follower action at the stage just played (the centre of ``Y``, i.e. zeros,
    after a reset), ``Box(-1, 1, (d2,), float32)``; actions ``Box(-1, 1, (d1,), float32)``.
    Seeding, lockstep, same-step autoreset, infos and arguments as
    :class:`FollowerVectorView` (``follower=`` in place of ``leader=``; no ``observe_leader``).
    """

    _agent_is_leader = True
    _partner_role = "follower"

    def __init__(
        self,
        game: Game,
        num_envs: int,
        follower: BatchPartnerLike = None,
        max_episode_steps: int | None = DEFAULT_MAX_EPISODE_STEPS,
        noise_std: float = 0.0,
        reward_scale: float = 1.0,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(
            game,
            num_envs,
            follower,
            _preset_follower,
            max_episode_steps=max_episode_steps,
            noise_std=noise_std,
            reward_scale=reward_scale,
            render_mode=render_mode,
        )
        self.single_observation_space = _unit_box(game.d2)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)

    @property
    def follower(self) -> BatchAgent:
        """The embedded batched follower (``follower.strategy`` is ``(num_envs, d2)``)."""
        return self.partner

    def _observation(self) -> np.ndarray:
        assert self._last_y is not None, "a follower's action was played first"
        return to_unit(self._last_y, *self._other).astype(np.float32)


# ---------------------------------------------------------------------- SB3
class SB3VecEnv(VecEnv):
    """A vector view as a Stable-Baselines3 ``VecEnv`` (same-step reset, SB3's info layout).

    ``step_wait`` returns float32 observations and rewards, ``dones = terminations |
    truncations`` and one info dict per copy (the step infos, with ``"TimeLimit.truncated"``);
    a copy whose episode ended carries ``"terminal_observation"`` (its last observation), and
    the returned observation is the next episode's first, as SB3's ``DummyVecEnv`` does.
    ``seed(s)`` makes the next ``reset()`` call ``venv.reset(seed=s)`` (one seed for the batch;
    SB3's per-env seeds ``s + i`` do not apply to one batched partner). ``get_attr(name)``
    returns the vector view's attribute once per copy (the same object: e.g. the batched
    leader).

    Args:
        venv: a :class:`FollowerVectorView` or :class:`LeaderVectorView`.
    """

    def __init__(self, venv: _VectorView) -> None:
        if not isinstance(venv, _VectorView):
            raise TypeError(
                f"venv must be a FollowerVectorView or LeaderVectorView, got {type(venv).__name__}"
            )
        self.venv = venv
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self._actions: np.ndarray | None = None

    def reset(self) -> np.ndarray:
        """Reset every copy (seeded by the last :meth:`seed` call, if any)."""
        seed = self._seeds[0] if self._seeds else None
        obs, infos = self.venv.reset(seed=seed, options=self._options[0] or None)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = self._info_list(infos)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, terms, truncs, infos = self.venv.step(self._actions)
        dones = terms | truncs
        if dones.any():
            info_list = self._info_list(infos["final_info"])
            for k in np.flatnonzero(dones):
                info_list[k]["terminal_observation"] = infos["final_obs"][k]
            self.reset_infos = self._info_list(infos)
        else:
            info_list = self._info_list(infos)
        for i, info in enumerate(info_list):  # as DummyVecEnv: on every step
            info["TimeLimit.truncated"] = bool(truncs[i] and not terms[i])
        return obs, rewards.astype(np.float32), dones, info_list

    def close(self) -> None:
        self.venv.close()

    def seed(self, seed: int | None = None) -> list[int | None]:
        """Seed the next reset with ``seed`` (the whole batch). Returns it once per copy."""
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"seed must be None or an integer, got {seed!r}")
        self._seeds = [seed] * self.num_envs
        return list(self._seeds)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self.venv, attr_name)] * len(list(self._get_indices(indices)))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        if len(list(self._get_indices(indices))) != self.num_envs:
            raise ValueError("the copies share one vector env: set attributes on all of them")
        setattr(self.venv, attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        n = len(list(self._get_indices(indices)))
        return [getattr(self.venv, method_name)(*method_args, **method_kwargs)] * n

    def env_is_wrapped(
        self, wrapper_class: type[Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        return [False] * len(list(self._get_indices(indices)))

    def get_images(self) -> list[np.ndarray | None]:
        raise NotImplementedError("vector views do not render; render a single view instead")

    def _info_list(self, infos: dict[str, Any]) -> list[dict[str, Any]]:
        keys = [k for k in infos if not k.startswith("_") and k not in ("final_obs", "final_info")]
        out = []
        for i in range(self.num_envs):
            d = {}
            for k in keys:
                v = infos[k][i]
                d[k] = v.item() if isinstance(v, np.generic) else v
            out.append(d)
        return out


# ---------------------------------------------------------------------- registration
_VV = TypeVar("_VV", bound=_VectorView)


def _make_vector_view(
    cls: type[_VV], game_factory: Callable[..., Game], num_envs: int = 1, **kwargs: Any
) -> _VV:
    """Vector entry point: view keywords go to the vector view, the rest to the game."""
    names = set(inspect.signature(cls).parameters) - {"game", "num_envs"}
    view_kwargs = {k: v for k, v in kwargs.items() if k in names}
    game_kwargs = {k: v for k, v in kwargs.items() if k not in names}
    return cls(build_game(game_factory, game_kwargs), num_envs, **view_kwargs)


def follower_vector_view(
    game_factory: Callable[..., Game], num_envs: int = 1, **kwargs: Any
) -> FollowerVectorView:
    """Vector entry point of ``<ns>/<Name>-Follower-vN`` (registered by
    :func:`hic_envs.register_game`): ``gymnasium.make_vec(id, num_envs=N,
    vectorization_mode="vector_entry_point")`` builds a :class:`FollowerVectorView`; keyword
    arguments split between the view and the game as for ``gymnasium.make``."""
    return _make_vector_view(FollowerVectorView, game_factory, num_envs, **kwargs)


def leader_vector_view(
    game_factory: Callable[..., Game], num_envs: int = 1, **kwargs: Any
) -> LeaderVectorView:
    """Vector entry point of ``<ns>/<Name>-Leader-vN``; as :func:`follower_vector_view`."""
    return _make_vector_view(LeaderVectorView, game_factory, num_envs, **kwargs)
