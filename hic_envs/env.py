"""One generic PettingZoo ParallelEnv over any :class:`~hic_envs.games.Game`."""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from hic_envs import rendering
from hic_envs.games.base import Game
from hic_envs.stage import Stage

__all__ = ["LEADER", "FOLLOWER", "GameEnv", "aec_env"]

LEADER = "leader_0"
FOLLOWER = "follower_0"


class GameEnv(ParallelEnv):
    """A repeated differentiable game as a PettingZoo parallel environment.

    ## Description
    Each stage is one simultaneous play of ``game``: the leader ``"leader_0"`` chooses
    ``x`` in ``X``, the follower ``"follower_0"`` chooses ``y`` in ``Y``, and each is paid its
    payoff at the joint action. Leader-follower structure (commitment, learning on two
    timescales) lives in the agents, not in the env: the env is the stage game played again and
    again, as in Algorithm 1 of the Hi-C paper.

    ## Action Space
    Each player's action space is its strategy box in the game's own units,
    ``Box(game.leader_low, game.leader_high, dtype=float64)`` for the leader and likewise for
    the follower. float64 keeps small perturbations (``1e-3`` on a payoff of ``300``) from being
    lost to rounding.

    ## Observation Space
    Each player observes the other player's action at the stage just played, so the leader's
    observation space is the follower's box and vice versa. **At reset** (before any stage has
    been played) each player observes the centre of the other player's box, and
    ``infos[agent]["stage"]`` is 0.

    ## Rewards
    ``rewards["leader_0"] = f1(x, y) + w1`` and ``rewards["follower_0"] = f2(x, y) + w2`` with
    ``w1, w2 ~ N(0, noise_std^2)`` independent (the paper's zero-mean noise ``w_t``), as Python
    floats.

    ## Out-of-bounds and invalid actions
    An action outside its box is projected onto the box (the paper's projection); the env plays
    the projected action, reports it in the observations, and sets
    ``infos[agent]["projected"] = True``. A NaN or infinite entry, a wrong shape, an unknown agent
    name, or a missing action raises ``ValueError`` naming the problem. ``step`` before ``reset``
    raises ``RuntimeError``.

    ## Episode End
    No termination. Truncation after ``max_cycles`` stages, when ``agents`` becomes empty.

    ## Infos
    ``infos[agent]`` holds the same three keys, with the same types, at ``reset`` and at every
    ``step`` (clients such as TorchRL's ``PettingZooWrapper`` build their specs from the reset
    infos and refuse a key that first appears at a step):

    * ``"stage"`` (int): stages played this episode, 0 at reset;
    * ``"projected"`` (bool): whether the agent's action was projected onto its box; False at
      reset;
    * ``"payoff"`` (float): the agent's noiseless payoff at the joint action of the stage just
      played (``f1(x, y)`` for the leader, ``f2(x, y)`` for the follower). At reset, where no
      stage has been played and nothing was paid, it is the payoff at the joint action that the
      reset observations and :meth:`state` report, the centres of the two boxes: the same
      "last joint action" convention as the observations, and a finite number.

    ## State
    ``state()`` is the joint action ``[x, y]`` of the stage just played (the box centres before
    the first stage), in ``state_space``, the product of the two boxes.

    ## Rendering
    * ``"ansi"``: one line of text, e.g.
      ``"Duopoly stage 3/1000: x=[24.5] y=[12.25] f1=300.125 f2=150.0625"`` (noiseless
      payoffs); before the first stage it says that no stage has been played.
    * ``"human"``: prints that line.
    * ``"rgb_array"``: a 256 x 256 uint8 picture: the heat map of ``f1`` over ``X x Y`` with
      contour lines, the follower's best-response curve ``y = r(x)`` (white), the DSE (red
      cross), the Nash equilibrium if any (cyan ring) and the joint action just played (magenta
      disc). In more than one dimension it shows the first coordinates, the others held at the
      current action. See :mod:`hic_envs.rendering`.

    ## Arguments
    * ``game`` (:class:`~hic_envs.games.Game`): the stage game.
    * ``max_cycles`` (int, default 1000): stages per episode.
    * ``noise_std`` (float, default 0.0): standard deviation of the payoff noise.
    * ``render_mode`` (``None``, ``"ansi"``, ``"human"`` or ``"rgb_array"``).

    ## Seeding
    Only through ``reset(seed=...)``, which reseeds the env's own ``np.random.Generator``
    (used for the payoff noise). ``reset()`` without a seed continues the current generator.

    ## Version History
    * v0: initial version.
    """

    metadata: dict[str, Any] = {
        "name": "hic_game_v0",
        "render_modes": ["ansi", "human", "rgb_array"],
        "render_fps": 10,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        game: Game,
        max_cycles: int = 1000,
        noise_std: float = 0.0,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(game, Game):
            raise TypeError(f"game must be a hic_envs.games.Game, got {type(game).__name__}")
        if (
            isinstance(max_cycles, bool)
            or not isinstance(max_cycles, (int, np.integer))
            or (max_cycles < 1)
        ):
            raise ValueError(f"max_cycles must be a positive integer, got {max_cycles!r}")
        #: The stage's semantics (projection, payoffs, noise), shared with the batched engine.
        self.stage = Stage(game, noise_std)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, "
                f"got {render_mode!r}"
            )
        self.game = game
        self.max_cycles = int(max_cycles)
        self.noise_std = self.stage.noise_std
        self.render_mode = render_mode
        self.metadata = {**type(self).metadata, "name": f"{_snake(game.name)}_v0"}

        self.possible_agents = [LEADER, FOLLOWER]
        self.agents: list[str] = []
        # Four distinct Box objects, so seeding one space never moves another's sampler.
        self._action_spaces = {
            LEADER: spaces.Box(game.leader_low, game.leader_high, dtype=np.float64),
            FOLLOWER: spaces.Box(game.follower_low, game.follower_high, dtype=np.float64),
        }
        self._observation_spaces = {
            LEADER: spaces.Box(game.follower_low, game.follower_high, dtype=np.float64),
            FOLLOWER: spaces.Box(game.leader_low, game.leader_high, dtype=np.float64),
        }
        self.state_space = spaces.Box(
            np.concatenate([game.leader_low, game.follower_low]),
            np.concatenate([game.leader_high, game.follower_high]),
            dtype=np.float64,
        )
        # Per agent: (shape, low, high, low as list, high as list). The lists serve the bounds
        # check in step(): for a few coordinates, Python float comparisons are several times
        # faster than NumPy reductions, which cost microseconds each on tiny arrays.
        self._checks = {
            agent: (shape, lo, hi, *_as_lists(lo, hi))
            for agent, shape, lo, hi in (
                (LEADER, (game.d1,), game.leader_low, game.leader_high),
                (FOLLOWER, (game.d2,), game.follower_low, game.follower_high),
            )
        }
        self._np_random: np.random.Generator | None = None
        self._stage = 0
        # (x, y, f1, f2) of the stage just played; None before the first stage of an episode.
        self._last: tuple[np.ndarray, np.ndarray, float, float] | None = None
        self._render_cache: dict[str, Any] = {}
        self._reset_payoffs: tuple[float, float] | None = None

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: str) -> spaces.Box:
        """The other player's strategy box (the same object on every call)."""
        try:
            return self._observation_spaces[agent]
        except KeyError:
            raise ValueError(
                f"unknown agent {agent!r}; expected one of {self.possible_agents}"
            ) from None

    def action_space(self, agent: str) -> spaces.Box:
        """The agent's own strategy box (the same object on every call)."""
        try:
            return self._action_spaces[agent]
        except KeyError:
            raise ValueError(
                f"unknown agent {agent!r}; expected one of {self.possible_agents}"
            ) from None

    @property
    def np_random(self) -> np.random.Generator:
        """The env's generator (payoff noise). Created unseeded on first use if needed."""
        if self._np_random is None:
            self._np_random = np.random.default_rng()
        return self._np_random

    # ------------------------------------------------------------------ API
    def reset(
        self, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        """Start an episode. See the class docstring for the observation at reset.

        Args:
            seed: reseeds the env's generator (payoff noise); None continues it.
            options: accepted for API compatibility and ignored.
        """
        if seed is not None:
            if (
                isinstance(seed, (bool, np.bool_))
                or not isinstance(seed, (int, np.integer))
                or seed < 0
            ):
                raise ValueError(
                    f"reset: seed must be None or a non-negative integer, got {seed!r}"
                )
            self._np_random = np.random.default_rng(seed)
        elif self._np_random is None:
            self._np_random = np.random.default_rng()
        self.agents = self.possible_agents[:]
        self._stage = 0
        self._last = None
        obs_l, obs_f = self.stage.reset_observations()
        obs = {LEADER: obs_l, FOLLOWER: obs_f}
        # The payoffs at the joint action the reset observations report (the box centres), so
        # that the infos have the same keys and types at reset as at every step. The centres
        # never move: computed once.
        if self._reset_payoffs is None:
            p1, p2 = self.game.payoffs(obs_f, obs_l)
            self._reset_payoffs = (float(p1), float(p2))
        f1, f2 = self._reset_payoffs
        infos = {
            LEADER: {"stage": 0, "projected": False, "payoff": f1},
            FOLLOWER: {"stage": 0, "projected": False, "payoff": f2},
        }
        return obs, infos

    def step(
        self, actions: dict[str, Any]
    ) -> tuple[
        dict[str, np.ndarray],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Play one stage. Returns ``(obs, rewards, terminations, truncations, infos)``.

        Raises:
            ValueError: for a missing or unknown agent, a wrong shape, or a non-finite action.
            RuntimeError: before :meth:`reset`, or after the episode has ended.
        """
        if not self.agents:
            if self._stage == 0:
                raise RuntimeError("step() called before reset(); call env.reset(seed=...) first")
            raise RuntimeError("step() called after the episode ended; call env.reset() first")
        if (
            not isinstance(actions, dict)
            or len(actions) != 2
            or LEADER not in actions
            or FOLLOWER not in actions
        ):
            raise self._actions_error(actions)
        x, px = self._check_action(LEADER, actions[LEADER])
        y, py = self._check_action(FOLLOWER, actions[FOLLOWER])
        # The stage itself (projection, payoffs, noise) is hic_envs.stage's, as in the engine.
        x, y, p1, p2, q1, q2 = self.stage.play(x, y, self.np_random, in_box=not (px or py))
        f1, f2, r1, r2 = float(p1), float(p2), float(q1), float(q2)
        if not (math.isfinite(r1) and math.isfinite(r2)):
            raise FloatingPointError(
                f"stage {self._stage + 1}: the rewards are not finite (leader {r1!r}, follower "
                f"{r2!r}): the game's payoffs overflow at x={x.tolist()}, y={y.tolist()}"
            )

        self._stage = stage = self._stage + 1
        truncated = stage >= self.max_cycles
        self._last = (x, y, f1, f2)
        # Copies: the caller may mutate its observations without touching the env's record.
        obs = {LEADER: y.copy(), FOLLOWER: x.copy()}
        rewards = {LEADER: r1, FOLLOWER: r2}
        terms = {LEADER: False, FOLLOWER: False}
        truncs = {LEADER: truncated, FOLLOWER: truncated}
        infos = {
            LEADER: {"stage": stage, "projected": px, "payoff": f1},
            FOLLOWER: {"stage": stage, "projected": py, "payoff": f2},
        }
        if truncated:
            self.agents = []
        return obs, rewards, terms, truncs, infos

    def _check_action(self, agent: str, action: Any) -> tuple[np.ndarray, bool]:
        """Validate one action; return it as a fresh float64 array and whether it lies outside
        its box (the stage projects it).

        Only real numbers are played: strings, bytes, booleans, complex numbers, objects and
        masked arrays raise ``ValueError`` instead of being converted (``"0.5"`` is not a
        quantity, ``True`` is not ``1.0``, and a masked entry has no value to play).
        """
        shape, lo, hi, lo_list, hi_list = self._checks[agent]
        a = _as_real_array(agent, action, shape)
        if a.shape != shape:
            raise ValueError(
                f"action for {agent!r} must have shape {shape}, got shape {a.shape}: {action!r}"
            )
        # Fast path: every entry inside the (finite) box. NaN fails every comparison and
        # +-inf lies outside, so both fall through to the checks below. (The shape check above
        # makes the lengths equal; strict=True would cost more than the rest of the loop.)
        if lo_list is not None and hi_list is not None:
            for v, low, high in zip(a.tolist(), lo_list, hi_list, strict=False):
                if not low <= v <= high:
                    break
            else:
                return a, False
        elif ((a >= lo) & (a <= hi)).all():
            return a, False
        if not np.isfinite(a).all():
            raise ValueError(f"action for {agent!r} must be finite, got {a.tolist()}")
        return a, True

    def _actions_error(self, actions: Any) -> ValueError:
        if not isinstance(actions, dict):
            return ValueError(
                f"actions must be a dict keyed by agent name, got {type(actions).__name__}: "
                f"{actions!r}"
            )
        unknown = [k for k in actions if k not in self._checks]
        if unknown:
            return ValueError(
                f"unknown agent name(s) {unknown}; expected exactly {self.possible_agents}"
            )
        missing = [a for a in self.possible_agents if a not in actions]
        return ValueError(
            f"missing action for agent(s) {missing}; expected exactly {self.possible_agents}"
        )

    # ------------------------------------------------------------------ rendering
    def render(self) -> str | np.ndarray | None:
        """Render the stage just played, by ``render_mode``.

        * ``"ansi"``: one line of text (game, stage, ``x``, ``y``, ``f1``, ``f2``);
        * ``"human"``: prints that line and returns None;
        * ``"rgb_array"``: the joint strategy on the leader's payoff landscape, a uint8
          ``(256, 256, 3)`` array (see :func:`hic_envs.rendering.rgb_array`);
        * ``None``: returns None.
        """
        if self.render_mode is None:
            return None
        frame = rendering.Frame(self.game, self._stage, self.max_cycles, self._last)
        if self.render_mode == "rgb_array":
            return rendering.rgb_array(frame, self._render_cache)
        text = rendering.ansi(frame)
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def state(self) -> np.ndarray:
        """The last joint action ``[x, y]`` (the box centres before any stage)."""
        if self._last is None:
            obs_l, obs_f = self.stage.reset_observations()
            return np.concatenate([obs_f, obs_l])
        return np.concatenate([self._last[0], self._last[1]])

    def close(self) -> None:
        """Nothing to release."""


def aec_env(game: Game, **kwargs: Any) -> AECEnv:
    """The AEC face of :class:`GameEnv` over ``game``, with PettingZoo's order enforcement.

    Keyword arguments (``max_cycles``, ``noise_std``, ``render_mode``) go to :class:`GameEnv`.
    """
    return parallel_to_aec(GameEnv(game, **kwargs))


#: Above this many coordinates the bounds check in step() uses NumPy instead of Python floats.
_SMALL_DIM = 16

#: dtype kinds of real numbers: signed and unsigned integers, floats (not bool, complex,
#: strings, objects).
_REAL_KINDS = "iuf"


def _not_numbers(agent: str, shape: tuple[int, ...], action: Any, what: str) -> ValueError:
    return ValueError(
        f"action for {agent!r} must be an array of numbers of shape {shape}, got {what}: {action!r}"
    )


def _as_real_array(agent: str, action: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``action`` as a fresh float64 array (a copy, so the caller may reuse or mutate what it
    passed in), refusing what is not real numbers rather than converting it.

    The common inputs (a plain ndarray, a list or tuple of floats) take the first two
    branches, which cost a dtype test or one type test per entry.
    """
    kind = type(action)
    if kind is np.ndarray:
        if action.dtype.kind not in _REAL_KINDS:
            raise _not_numbers(agent, shape, action, f"dtype {action.dtype}")
        return np.array(action, dtype=np.float64)
    if kind is list or kind is tuple:
        for v in action:
            t = type(v)
            if t is float or t is int:
                continue
            if not _is_real_entry(v):
                raise _not_numbers(agent, shape, action, f"an entry {v!r}")
        try:
            return np.array(action, dtype=np.float64)
        except (TypeError, ValueError) as err:  # ragged nesting
            raise _not_numbers(agent, shape, action, "a ragged sequence") from err
    if isinstance(action, np.ma.MaskedArray):
        raise _not_numbers(
            agent, shape, action, "a masked array (fill or drop the masked entries first)"
        )
    if isinstance(action, str | bytes | bool | np.bool_):
        raise _not_numbers(agent, shape, action, f"a {type(action).__name__}")
    try:
        raw = np.asarray(action)  # array-likes: torch or JAX arrays, memoryviews, scalars
    except (TypeError, ValueError) as err:
        raise _not_numbers(agent, shape, action, type(action).__name__) from err
    if raw.shape != shape:
        return raw  # the caller reports the shape
    if raw.dtype.kind not in _REAL_KINDS:
        raise _not_numbers(agent, shape, action, f"dtype {raw.dtype}")
    return np.array(raw, dtype=np.float64)


def _is_real_entry(v: Any) -> bool:
    """Whether ``v`` may be an entry of a list action: a real number, or a nested sequence or
    array (whose shape the caller refuses), but not a bool, string or masked value."""
    if isinstance(v, bool | np.bool_ | str | bytes | np.ma.MaskedArray):
        return False
    if isinstance(v, np.ndarray):
        return v.dtype.kind in _REAL_KINDS
    return isinstance(v, numbers.Real | list | tuple)


def _as_lists(lo: np.ndarray, hi: np.ndarray) -> tuple[list[float] | None, list[float] | None]:
    if lo.shape[0] > _SMALL_DIM:
        return None, None
    return lo.tolist(), hi.tolist()


def _snake(name: str) -> str:
    """``"DiracGAN"`` -> ``"dirac_gan"``, ``"ZeroSum"`` -> ``"zero_sum"``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
