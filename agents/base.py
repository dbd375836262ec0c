"""What an agent is (:class:`Agent`, a protocol) and a helper for writing batched ones
(:class:`BatchAgent`).

**An agent is anything that plays**: an object with ``reset(seed)``, ``act(obs)``,
``observe(reward, obs)`` and a ``strategy`` attribute or property. That is all that
:func:`agents.compose.play`, the Gymnasium views and every other place that takes a single agent ask
for; no base class is needed::

    class Tit4Tat:                       # a follower that copies the leader's last action
        def reset(self, seed=None):
            self.strategy = np.zeros(1)
        def act(self, obs):
            return self.strategy
        def observe(self, reward, obs):
            self.strategy = np.clip(obs, 0.0, 1.0)

It plays inside an ordinary PettingZoo loop::

    obs, infos = env.reset(seed=0)
    leader.reset(seed=0); follower.reset(seed=1)
    while env.agents:
        actions = {"leader_0": leader.act(obs["leader_0"]),
                   "follower_0": follower.act(obs["follower_0"])}
        obs, rewards, terms, truncs, infos = env.step(actions)
        leader.observe(rewards["leader_0"], obs["leader_0"])
        follower.observe(rewards["follower_0"], obs["follower_0"])

:class:`BatchAgent` is the abstract helper behind every batched agent (the library's learners
are :class:`agents.face.RuleAgent` faces over rule sets, a subclass of it): built with
``num_envs=S`` it plays ``S`` independent copies in lockstep on ``(S, d)`` arrays through its
public *batch face* (:meth:`~BatchAgent.act_batch`, :meth:`~BatchAgent.observe_batch`,
:attr:`~BatchAgent.strategies`, :meth:`~BatchAgent.update_counts`), which is what the batched
engine (:func:`agents.compose.run_batch`) drives; the single-agent face (``num_envs=None``) runs the
very same code on a batch of one. Its learning state is a dict of arrays
(:meth:`~BatchAgent.state_dict` / :meth:`~BatchAgent.load_state_dict`, the convention of
PyTorch and SB3), which is how runs are checkpointed as data.
"""

from __future__ import annotations

import inspect
import math
import numbers
from typing import Any, Protocol, runtime_checkable

import numpy as np
from gymnasium import spaces
from numpy.typing import ArrayLike

from agents.rules.protocol import RowStreams
from hic_envs.games.base import Game

__all__ = [
    "Agent",
    "BatchAgent",
    "NonFiniteError",
    "SeedLike",
    "box_of",
    "check_agent",
    "rng_from_array",
    "rng_to_array",
]

SeedLike = int | np.random.SeedSequence | None


class NonFiniteError(ValueError):
    """A strategy, a payoff, or a value an agent read from the game (a gradient, a best
    response) was NaN or infinite during a run; the message names the agent or seed row, the
    game, the stages and what was not finite. Both engines and the single face raise it
    (:class:`agents.compose.NonFiniteError` is this class)."""


_AGENT_METHODS = ("reset", "act", "observe")
_MISSING = object()


class _AgentMeta(type(Protocol)):  # type: ignore[misc]
    # ``isinstance`` on a runtime protocol calls ``hasattr``, which runs properties: a
    # ``strategy`` property that raises before ``reset`` would break the check. Look the
    # members up statically instead, as Python 3.12's typing does.
    def __instancecheck__(cls, obj: Any) -> bool:
        if cls is not Agent:
            return super().__instancecheck__(obj)
        return _missing_members(obj) == []


def _missing_members(obj: Any, strategy: bool = False) -> list[str]:
    missing = [m for m in _AGENT_METHODS if not callable(inspect.getattr_static(obj, m, None))]
    if strategy and inspect.getattr_static(obj, "strategy", _MISSING) is _MISSING:
        missing.append("strategy")
    return missing


@runtime_checkable
class Agent(Protocol, metaclass=_AgentMeta):
    """Anything that plays one side of a game (a runtime-checkable protocol).

    * ``reset(seed=None)``: restart learning; ``seed`` seeds the agent's own randomness.
    * ``act(obs) -> action``: the action for this stage, an array of the player's dimension.
      ``obs`` is what the player observes: the other player's action at the stage just played
      (the centre of the other's box before the first stage).
    * ``observe(reward, obs)``: learn from the stage just played (own payoff, a float, and
      the other player's action as played).
    * ``strategy``: the current (mean) strategy, an array of the player's dimension.

    Optional: ``updates`` (an int counting strategy updates; :func:`agents.compose.play` records the
    strategy when it changes, or when ``strategy`` itself changes), ``num_envs`` (``None`` for
    a single agent) and ``dim``.

    ``isinstance(obj, Agent)`` checks the three methods without running any property;
    ``strategy`` may be created by ``reset`` (a plain attribute), so it is checked once the
    agent has been reset (:func:`check_agent` with ``after_reset=True``).
    """

    def reset(self, seed: Any = None) -> None: ...

    def act(self, obs: Any) -> Any: ...

    def observe(self, reward: Any, obs: Any) -> None: ...

    @property
    def strategy(self) -> Any: ...


def check_agent(agent: Any, role: str, *, after_reset: bool = False) -> Any:
    """Return ``agent`` if it satisfies :class:`Agent`; else raise a ``TypeError`` naming what
    is missing.

    Args:
        agent: the object to check.
        role: ``"leader"`` or ``"follower"`` (for the message).
        after_reset: also require ``strategy`` (which ``reset`` may create).
    """
    missing = _missing_members(agent, strategy=after_reset)
    if missing:
        raise TypeError(
            f"{role} must be an agent: an object with reset(seed), act(obs), observe(reward, "
            f"obs) and strategy (see agents.Agent); {type(agent).__name__} lacks "
            f"{', '.join(missing)}"
        )
    return agent


def box_of(space_or_game: Any, role: str | None) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` of a player's strategy box, from a game or a float64 ``Box``.

    Every agent constructor takes one of the two (the one convention): a
    :class:`~hic_envs.games.Game` with the ``role`` (``"leader"`` or ``"follower"``) whose box
    to use, or a ``gymnasium.spaces.Box`` of dtype float64 (``env.action_space(agent)``). A Box
    of another dtype is refused: a float32 box would silently round strategies (a
    perturbation of 1e-3 on a payoff of 300 is lost in float32).

    Raises:
        TypeError: for anything else, or a Box of another dtype.
        ValueError: for a game without a valid ``role``.
    """
    if isinstance(space_or_game, Game):
        if role == "leader":
            return space_or_game.leader_low, space_or_game.leader_high
        if role == "follower":
            return space_or_game.follower_low, space_or_game.follower_high
        raise ValueError(f"role must be 'leader' or 'follower' with a game, got {role!r}")
    if isinstance(space_or_game, spaces.Box):
        if space_or_game.dtype != np.float64:
            raise TypeError(
                f"the strategy Box must have dtype float64 (as GameEnv's action spaces do), got "
                f"{space_or_game.dtype}; build it with spaces.Box(low, high, dtype=np.float64)"
            )
        return space_or_game.low, space_or_game.high
    raise TypeError(
        "expected a hic_envs.games.Game or a float64 gymnasium.spaces.Box, got "
        f"{type(space_or_game).__name__}"
    )


# ---------------------------------------------------------------------------------- rng state
_MASK64 = (1 << 64) - 1


def rng_to_array(rng: np.random.Generator) -> np.ndarray:
    """A PCG64 generator's complete state as a ``uint64`` array of six words (data, no pickle).

    Raises:
        TypeError: for a generator on another bit generator.
    """
    st = rng.bit_generator.state
    if st.get("bit_generator") != "PCG64":
        raise TypeError(
            f"only PCG64 generators (np.random.default_rng) can be saved, got "
            f"{st.get('bit_generator')!r}"
        )
    s, inc = int(st["state"]["state"]), int(st["state"]["inc"])
    return np.array(
        [s >> 64, s & _MASK64, inc >> 64, inc & _MASK64, st["has_uint32"], st["uinteger"]],
        dtype=np.uint64,
    )


def rng_from_array(words: Any) -> np.random.Generator:
    """Inverse of :func:`rng_to_array`.

    Raises:
        ValueError: if ``words`` is not six unsigned 64-bit words.
    """
    w = np.asarray(words)
    if w.shape != (6,) or w.dtype != np.uint64:
        raise ValueError(f"a generator state is 6 uint64 words, got {w.dtype} {w.shape}")
    v = [int(i) for i in w]
    bg = np.random.PCG64()
    bg.state = {
        "bit_generator": "PCG64",
        "state": {"state": (v[0] << 64) | v[1], "inc": (v[2] << 64) | v[3]},
        "has_uint32": v[4],
        "uinteger": v[5],
    }
    return np.random.Generator(bg)


# ---------------------------------------------------------------------------------- helper
class BatchAgent:
    """Abstract helper for writing batched agents (template method).

    Subclasses fill four hooks, which always see a batch axis:

    * ``_reset()``: initialise the learning state (``self.np_random`` is ready; ``self._S``
      is the batch size);
    * ``_act(obs (S, d_other)) -> (S, d)``: the actions (may return internal state: callers
      copy);
    * ``_observe(reward (S,), obs (S, d_other))``: learn; bump the per-row update counter
      ``self._n`` and ``self.updates`` when the strategy is updated (see
      :meth:`_count_updates`);
    * ``_strategy() -> (S, d)``: the current mean strategies.

    and list the instance attributes that hold the learning state in ``state_attrs`` (arrays,
    Python scalars or ``None``), which :meth:`state_dict` saves. The public faces:

    * single (``num_envs=None``): :meth:`reset`, :meth:`act`, :meth:`observe`,
      :attr:`strategy` (the :class:`Agent` protocol), on arrays of shape ``(d,)``;
    * batch: :meth:`act_batch`, :meth:`observe_batch`, :attr:`strategies`,
      :meth:`update_counts`, on ``(S, ...)`` arrays (a single agent is a batch of one);
    * fast-forward (optional promises that let the batched engine skip work, all off by
      default): :meth:`quiet_stages` / :meth:`skip_quiet` and :meth:`reward_free_stages` /
      :meth:`observe_repeated`;
    * state: :meth:`state_dict`, :meth:`load_state_dict`.

    Attributes:
        low, high: the agent's strategy box, shape ``(d,)``.
        num_envs: ``None`` for the single-agent face, else the batch size ``S``.
        np_random: the agent's own ``np.random.Generator`` (never the global one).
        updates: total number of strategy updates made so far, summed over the batch.
        obs_dim: the dimension of what the agent observes (the other player's), or ``None``
            until the first observation fixes it; observations of another dimension raise.
        coupled: True when the agent reads quantities of the *other* player's payoff (a
            coupled baseline); uncoupled agents learn only from what they observe.
    """

    coupled: bool = False
    #: Instance attributes holding the learning state (saved by :meth:`state_dict`).
    state_attrs: tuple[str, ...] = ()
    #: True for agents that update every row at every stage and only count ``updates``
    #: (followers, gradient leaders): their per-row count is then ``updates // S``.
    updates_all_rows: bool = False
    #: True for agents whose every draw goes through :func:`agents.rules.protocol.draw_numpy`
    #: (rule-set learners): they may be reset with :class:`~agents.rules.protocol.RowStreams`,
    #: one generator per block of rows.
    row_streams: bool = False

    def __init__(
        self,
        low: ArrayLike,
        high: ArrayLike,
        *,
        num_envs: int | None = None,
        seed: SeedLike = None,
        obs_dim: int | None = None,
    ):
        low = np.atleast_1d(np.asarray(low, dtype=np.float64))
        high = np.atleast_1d(np.asarray(high, dtype=np.float64))
        if low.ndim != 1 or low.shape != high.shape or not np.all(low < high):
            raise ValueError(
                f"strategy bounds must be 1-D with low < high, got low={low.tolist()}, "
                f"high={high.tolist()}"
            )
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise ValueError(
                f"strategy bounds must be finite, got low={low.tolist()}, high={high.tolist()}"
            )
        if num_envs is not None and (
            isinstance(num_envs, bool)
            or not isinstance(num_envs, (int, np.integer))
            or num_envs < 1
        ):
            raise ValueError(f"num_envs must be None or a positive integer, got {num_envs!r}")
        if obs_dim is not None and (
            isinstance(obs_dim, bool) or not isinstance(obs_dim, (int, np.integer)) or obs_dim < 1
        ):
            raise ValueError(f"obs_dim must be None or a positive integer, got {obs_dim!r}")
        self.low, self.high = low, high
        self.num_envs = None if num_envs is None else int(num_envs)
        self._S = 1 if num_envs is None else int(num_envs)
        self.obs_dim = None if obs_dim is None else int(obs_dim)
        self._init_seed = seed
        self.np_random: np.random.Generator | None = None
        self._zero_counts()

    @property
    def dim(self) -> int:
        """Dimension of the agent's strategy."""
        return self.low.shape[0]

    # ------------------------------------------------------------------ single face
    def reset(self, seed: SeedLike | RowStreams = None) -> None:
        """Restart learning from scratch.

        Args:
            seed: seeds the agent's generator. ``None`` reuses the constructor's ``seed`` the
                first time and otherwise keeps the current generator running. Agents with
                ``row_streams`` also take :class:`~agents.rules.protocol.RowStreams` (one
                generator per block of rows, used as they are).
        """
        if isinstance(seed, RowStreams):
            if not self.row_streams:
                raise TypeError(
                    f"{type(self).__name__}.reset: this agent draws from one generator; only "
                    "rule-set learners (agents.face.RuleAgent) take RowStreams"
                )
            if seed.num_rows != self._S:
                raise ValueError(
                    f"{type(self).__name__}.reset: RowStreams of {seed.num_rows} rows for a "
                    f"batch of {self._S}"
                )
            self.np_random = seed  # type: ignore[assignment]  # used by draw_numpy only
        elif seed is not None:
            seedlike = (np.random.SeedSequence, np.random.Generator, np.random.BitGenerator)
            if not isinstance(seed, seedlike) and (
                isinstance(seed, (bool, np.bool_))
                or not isinstance(seed, (int, np.integer))
                or seed < 0
            ):
                raise ValueError(
                    f"{type(self).__name__}.reset: seed must be None, a non-negative integer, a "
                    f"numpy SeedSequence or Generator, got {seed!r}"
                )
            self.np_random = np.random.default_rng(seed)
        elif self.np_random is None:
            self.np_random = np.random.default_rng(self._init_seed)
        self._zero_counts()
        self._reset()

    def act(self, obs: ArrayLike) -> np.ndarray:
        """The action to play this stage, shape ``(d,)`` (or ``(S, d)`` when batched)."""
        if self.num_envs is not None:
            return self.act_batch(obs)
        if self.np_random is None:
            self._require_reset()
        # Not shape-checked: most agents ignore what they observe when acting, and those that
        # use it get it validated in observe().
        return self._act(np.asarray(obs, dtype=np.float64)[None])[0].copy()

    def observe(self, reward: float | ArrayLike, obs: ArrayLike) -> None:
        """Learn from the stage just played: own ``reward`` and the other player's action.

        Raises:
            ValueError: for a reward that is not a finite number, or an observation of the
                wrong shape or with a NaN or infinite entry.
        """
        if self.num_envs is not None:
            self.observe_batch(reward, obs)
            return
        if self.np_random is None:
            self._require_reset()
        # Fast path for the env's Python-float rewards (every stage of agents.compose.play);
        # anything else gets the full check.
        if type(reward) is not float or reward - reward != 0.0:  # NaN and +-inf fail
            if (
                isinstance(reward, (bool, np.bool_))
                or not isinstance(reward, numbers.Real)
                or not math.isfinite(reward)
            ):
                raise ValueError(f"reward must be a finite number, got {reward!r}")
        o = self._obs_array(obs)
        # An agent that sits this stage out (quiet_stages(), e.g. Hi-C mid-interval) only
        # advances: the single face then builds no batch arrays.
        if type(self).quiet_stages is not BatchAgent.quiet_stages and self.quiet_stages() > 0:
            self.skip_quiet(1)
            return
        self._observe(np.array([reward], dtype=np.float64), o[None])

    @property
    def strategy(self) -> np.ndarray:
        """The agent's current (mean) strategy, shape ``(d,)`` (or ``(S, d)`` when batched)."""
        self._require_reset()
        s = self._strategy()
        return s[0].copy() if self.num_envs is None else s.copy()

    # ------------------------------------------------------------------ batch face
    def act_batch(self, obs: ArrayLike) -> np.ndarray:
        """Actions for the whole batch, ``(S, d)``, from observations ``(S, d_other)``."""
        if self.np_random is None:
            self._require_reset()
        return self._act(np.asarray(obs, dtype=np.float64)).copy()

    def observe_batch(self, reward: ArrayLike, obs: ArrayLike) -> None:
        """Learn from rewards ``(S,)`` and observations ``(S, d_other)``.

        Finiteness of batched rewards is not checked per call (the engine checks strategies
        and payoffs once per chunk); shapes are.
        """
        if self.np_random is None:
            self._require_reset()
        r = np.asarray(reward, dtype=np.float64)
        o = np.asarray(obs, dtype=np.float64)
        if r.shape != (self._S,):
            raise ValueError(
                f"{type(self).__name__}: rewards must have shape ({self._S},), got shape {r.shape}"
            )
        if (
            o.ndim != 2
            or o.shape[0] != self._S
            or (self.obs_dim is not None and o.shape[1] != self.obs_dim)
        ):
            self._obs_shape_error(o, batched=True)
        if self.obs_dim is None:
            self.obs_dim = o.shape[1]
        self._observe(r, o)

    @property
    def strategies(self) -> np.ndarray:
        """The batch's current mean strategies, ``(S, d)`` (a copy)."""
        self._require_reset()
        return self._strategy().copy()

    def update_counts(self) -> np.ndarray:
        """Strategy updates made so far in each row, ``(S,)`` int64 (a copy)."""
        self._require_reset()
        if self.updates_all_rows:
            return np.full(self._S, self.updates // self._S, dtype=np.int64)
        return self._n.copy()

    def nonfinite_reads(self) -> np.ndarray:
        """``(S,)`` bool: the rows in which a value this agent read from the game (a gradient,
        a best response) was NaN or infinite since :meth:`reset` (the engines ask once per
        chunk). This helper checks nothing (all False); rule-set agents that declare
        ``reads`` answer from their read check (:mod:`agents.rules.protocol`)."""
        return np.zeros(self._S, dtype=bool)

    # ------------------------------------------------------------------ fast-forward face
    #: ``reward_free_stages`` of agents that never read their rewards.
    ALWAYS = 1 << 62

    def quiet_stages(self) -> int:
        """How many of the coming stages this agent sits out (default 0, never).

        A promise for the next ``q`` stages: :meth:`act_batch` returns the action it would
        return now, whatever it is given to observe, and changes nothing; and what
        :meth:`observe_batch` learns does not depend on the rewards or observations it is
        given. The batched engine may then replace up to ``q`` act/observe pairs by one
        :meth:`skip_quiet` call and skip the payoffs nobody reads. The Hi-C leader is quiet
        between its interval events.
        """
        return 0

    def _stage_count(self, stages: Any) -> int:
        """``stages`` of the fast-forward face as an int, refused unless it is one >= 0."""
        if type(stages) is not int and (  # the engine's plain ints skip the isinstance tests
            isinstance(stages, bool | np.bool_) or not isinstance(stages, int | np.integer)
        ):
            raise TypeError(f"{type(self).__name__}: stages must be an integer, got {stages!r}")
        if stages < 0:
            raise ValueError(f"{type(self).__name__}: stages must be >= 0, got {stages!r}")
        return int(stages)

    def skip_quiet(self, stages: int) -> None:
        """Advance over ``stages <= quiet_stages()`` stages (as that many
        :meth:`observe_batch` calls would)."""
        stages = self._stage_count(stages)
        if stages > self.quiet_stages():
            raise ValueError(
                f"{type(self).__name__}: cannot skip {stages} stages, only "
                f"{self.quiet_stages()} are quiet"
            )
        self._require_reset()
        r = np.full(self._S, np.nan)
        o = np.full((self._S, self.obs_dim or 1), np.nan)  # ignored: the stages are quiet
        for _ in range(stages):
            self._observe(r, o)

    def reward_free_stages(self) -> int:
        """How many of the coming stages this agent learns from without reading its rewards
        (default 0; :attr:`ALWAYS` for agents that never read them).

        A promise for the next ``r`` stages: :meth:`observe_batch` ignores the rewards it is
        given (the engine passes NaN and skips computing payoffs when neither player reads
        them) and :meth:`act_batch` changes nothing (the engine may leave it uncalled when
        the other player is quiet). Gradient followers read only their own gradient.
        """
        return 0

    def observe_repeated(self, obs: ArrayLike, stages: int) -> None:
        """Learn from ``stages <= reward_free_stages()`` stages at each of which the other
        player played ``obs`` ``(S, d_other)``, without rewards (as that many
        :meth:`observe_batch` calls with NaN rewards would)."""
        stages = self._stage_count(stages)
        if stages > self.reward_free_stages():
            raise ValueError(
                f"{type(self).__name__}: cannot observe {stages} stages without rewards, only "
                f"{self.reward_free_stages()} are reward-free"
            )
        r = np.full(self._S, np.nan)
        for _ in range(stages):
            self.observe_batch(r, obs)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """The complete learning state as a dict of NumPy arrays (data only, no objects).

        Keys: ``"rng"`` (the generator, :func:`rng_to_array`), ``"updates"``, ``"n"`` (per-row
        updates) and one per entry of ``state_attrs`` (leading underscore dropped); an
        attribute that is ``None`` is left out. An agent built with the same arguments and
        given this dict by :meth:`load_state_dict` continues exactly as this one would.
        """
        self._require_reset()
        assert self.np_random is not None  # reset() made it
        out: dict[str, np.ndarray] = {
            "rng": rng_to_array(self.np_random),
            "updates": np.asarray(self.updates, dtype=np.int64),
            "n": self._n.copy(),
        }
        if self.obs_dim is not None:
            out["obs_dim"] = np.asarray(self.obs_dim, dtype=np.int64)
        for attr in self.state_attrs:
            v = getattr(self, attr)
            if v is None:
                continue
            out[attr.lstrip("_")] = np.array(v, copy=True)
        return out

    def block_state_dict(self, block: int) -> dict[str, np.ndarray]:
        """The :meth:`state_dict` of one block of rows as a learner of those rows alone holds
        it, for a learner reset with :class:`~agents.rules.protocol.RowStreams` (a batch of
        several runs; only learners that declare ``row_streams`` take one, and they define
        this).

        Raises:
            ValueError: always here: this learner draws from one generator, so its batch
                holds one run.
        """
        raise ValueError(
            f"{type(self).__name__} draws from one generator: its batch holds one run, whose "
            "state is state_dict()"
        )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the learning state saved by :meth:`state_dict`.

        Raises:
            ValueError: for missing or unknown keys, or arrays whose shapes do not fit this
                agent (e.g. another ``num_envs``).
        """
        known = {"rng", "updates", "n", "obs_dim"} | {a.lstrip("_") for a in self.state_attrs}
        unknown = sorted(set(state) - known)
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown state key(s) {unknown}")
        for key in ("rng", "updates", "n"):
            if key not in state:
                raise ValueError(f"{type(self).__name__}: state lacks {key!r}")
        n = np.asarray(state["n"])
        if n.shape != (self._S,):
            raise ValueError(
                f"{type(self).__name__}: state is for a batch of {n.shape}, this agent has "
                f"num_envs={self.num_envs}"
            )
        self.np_random = rng_from_array(state["rng"])
        self.updates = int(np.asarray(state["updates"]))
        self._n = n.astype(np.int64, copy=True)
        self.obs_dim = int(np.asarray(state["obs_dim"])) if "obs_dim" in state else None
        for attr in self.state_attrs:
            key = attr.lstrip("_")
            if key not in state:
                setattr(self, attr, None)
                continue
            v = np.asarray(state[key])
            setattr(self, attr, v.item() if v.ndim == 0 else v.copy())
        self._after_load()

    def _after_load(self) -> None:
        """Hook: recompute derived (non-state) values after :meth:`load_state_dict`."""

    # ------------------------------------------------------------------ hooks for subclasses
    def _zero_counts(self) -> None:
        """Zero the update counters (``updates`` and the per-row ``_n``)."""
        self.updates = 0
        self._n = np.zeros(self._S, dtype=np.int64)

    def _reset(self) -> None:
        """Initialise the learning state; ``self.np_random`` is ready."""

    def _act(self, obs: np.ndarray) -> np.ndarray:
        """Actions for the batch, shape ``(S, d)``. May return internal state (callers copy)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _act")

    def _observe(self, reward: np.ndarray, obs: np.ndarray) -> None:
        """Learn from rewards ``(S,)`` and observations ``(S, d_other)``."""

    def _strategy(self) -> np.ndarray:
        """Current mean strategy for the batch, shape ``(S, d)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _strategy")

    # ------------------------------------------------------------------ helpers
    def _count_updates(self, rows: np.ndarray | None = None) -> None:
        """Record a strategy update in ``rows`` (all rows when None)."""
        if rows is None:
            self._n += 1
            self.updates += self._S
        else:
            self._n[rows] += 1
            self.updates += int(np.size(rows))

    def _obs_array(self, obs) -> np.ndarray:
        o = np.asarray(obs, dtype=np.float64)
        if o.ndim != 1 or (self.obs_dim is not None and o.shape[0] != self.obs_dim):
            self._obs_shape_error(o, batched=False)
        if not np.isfinite(o).all():
            raise ValueError(f"{type(self).__name__}: observation must be finite, got {o.tolist()}")
        if self.obs_dim is None:
            self.obs_dim = o.shape[0]
        return o

    def _obs_shape_error(self, o: np.ndarray, batched: bool) -> None:
        d = "d_other" if self.obs_dim is None else str(self.obs_dim)
        want = f"({self._S}, {d})" if batched else f"({d},)"
        raise ValueError(
            f"{type(self).__name__}: observation must have shape {want}, got shape {o.shape}"
        )

    def _require_reset(self) -> None:
        if self.np_random is None:
            raise RuntimeError(
                f"{type(self).__name__} used before reset(); call agent.reset(seed=...) first"
            )

    def _sample_uniform(self) -> np.ndarray:
        """Algorithm 1, line 2: ``x_0`` sampled uniformly from the box, shape ``(S, d)``."""
        assert self.np_random is not None  # reset() made it
        return self.np_random.uniform(self.low, self.high, size=(self._S, self.dim))

    def _initial(self, init) -> np.ndarray:
        """``init`` (a point in the box) broadcast to the batch, or a uniform sample."""
        if init is None:
            return self._sample_uniform()
        x0 = np.asarray(init, dtype=np.float64)
        if x0.shape not in ((self.dim,), (self._S, self.dim)):
            raise ValueError(
                f"init must have shape ({self.dim},) or ({self._S}, {self.dim}), got {x0.shape}"
            )
        if np.any(x0 < self.low) or np.any(x0 > self.high) or not np.all(np.isfinite(x0)):
            raise ValueError(
                f"init must lie in the box [{self.low.tolist()}, {self.high.tolist()}], "
                f"got {x0.tolist()}"
            )
        return np.broadcast_to(x0, (self._S, self.dim)).copy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, num_envs={self.num_envs})"
