"""The stateful face of a rule set (:class:`RuleAgent`), written once for every learner.

A library learner is a rule set (:mod:`agents.rules.protocol`: options plus pure functions of
array state); its class is a :class:`RuleAgent` that names the rule set (``rules``) and its
options type (``options_type``) and builds the options in its constructor. Everything else,
the single face (``reset/act/observe/strategy``), the batch face
(``act_batch/observe_batch/strategies/update_counts``), the fast-forward face and
``state_dict``, is this class's, the same for every learner: it holds ONE state (the rule
set's dict of arrays) and one ``np.random.Generator`` from which it draws what the rule set
asks for (:func:`agents.rules.protocol.draw_numpy`). No learning logic lives here.

The options' fields are readable (and, for the ones a learner lists in ``settable``,
replaceable) as attributes of the face: ``leader.perturbation``, ``follower.step_size = 0.05``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from agents.base import BatchAgent, NonFiniteError, rng_from_array, rng_to_array
from agents.rules.protocol import (
    READ_CHECK,
    Capabilities,
    RowStreams,
    Spec,
    draw_numpy,
    nonfinite_rows,
    slice_rows,
)

__all__ = ["RuleAgent"]

_EMPTY: dict[str, Any] = {}


def _saved(key: str, value: Any) -> np.ndarray:
    """A state entry as a face saves it: a copy, and the read check with its zeros as +0.0
    (``-0.0 + 0.0`` is +0.0, NaN stays NaN): its sign of zero depends on how many steps a
    fast path folded at once, not on what was read (:data:`~agents.rules.protocol.READ_CHECK`)."""
    if key == READ_CHECK:
        return np.asarray(value, dtype=np.float64) + 0.0
    return np.array(value, copy=True)


def _option_property(name: str, settable: bool) -> property:
    def get(self: RuleAgent) -> Any:
        return getattr(self.options, name)

    def set_(self: RuleAgent, value: Any) -> None:
        if not settable:
            raise AttributeError(
                f"{type(self).__name__}.{name} is fixed at construction; build a new agent"
            )
        self.options = dataclasses.replace(self.options, **{name: value})

    return property(get, set_, doc=f"The option ``{name}`` (see the options type).")


class RuleAgent(BatchAgent):
    """A :class:`~agents.BatchAgent` whose learning is a rule set (the generic face).

    Subclasses set ``rules`` (the rule set), ``options_type`` (its frozen options
    dataclass) and build ``options`` and the :class:`~agents.rules.protocol.Spec` in their
    constructor through :meth:`_setup`.

    Attributes:
        options: the learner's options (frozen; replaced as a whole when an option is set).
        spec: what the learner is told about its seat (box, observed dimension, game).
    """

    rules: ClassVar[Any] = None
    row_streams = True  # every draw goes through draw_numpy
    options_type: ClassVar[type | None] = None
    #: Option fields that may be replaced after construction (the rest are read-only).
    settable: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        rules = cls.__dict__.get("rules")
        if rules is not None:
            cls.coupled = rules.capabilities.coupled  # the rule set's declaration
        ot = cls.__dict__.get("options_type")
        if ot is None:
            return
        for f in dataclasses.fields(ot):
            if f.name.startswith("_") or f.name in cls.__dict__:
                continue
            setattr(cls, f.name, _option_property(f.name, f.name in cls.settable))

    def _setup(self, options: Any, game: Any = None) -> None:
        """Set the options and the spec (called by subclass constructors after
        ``BatchAgent.__init__``)."""
        self.options = options
        if game is not None:
            self.game = game  # a learner that reads the game (its rule set needs_game)
        self._spec = Spec(self.low, self.high, self.obs_dim, game)
        self._state: dict[str, Any] | None = None
        self._caps = self.rules.capabilities

    # ------------------------------------------------------------------ capabilities
    @property
    def capabilities(self) -> Capabilities:
        """What this learner's rule set declares (:class:`~agents.rules.protocol.Capabilities`)."""
        return self.rules.capabilities

    @property
    def spec(self) -> Spec:
        """What the learner is told about its seat (the observed dimension once known)."""
        if self._spec.obs_dim != self.obs_dim:
            self._spec = dataclasses.replace(self._spec, obs_dim=self.obs_dim)
        return self._spec

    @property
    def state(self) -> dict[str, Any]:
        """The rule set's state (the face's only learning state; do not modify it)."""
        self._require_reset()
        return self._state  # type: ignore[return-value]  # reset() made it

    # ------------------------------------------------------------------ counters
    def _zero_counts(self) -> None:
        """The counters live in the rule set's state."""

    @property
    def updates(self) -> int:  # type: ignore[override]
        """Strategy updates made so far, summed over the batch."""
        if self._state is None:
            return 0
        return int(self.rules.updates(self.options, self._state))

    @property
    def _n(self) -> np.ndarray:  # type: ignore[override]
        return np.asarray(self.rules.update_counts(self.options, self._state))

    def update_counts(self) -> np.ndarray:
        """Strategy updates made so far in each row, ``(S,)`` int64 (a copy)."""
        self._require_reset()
        return np.array(self.rules.update_counts(self.options, self._state), dtype=np.int64)

    # ------------------------------------------------------------------ the rule set's calls
    def _reset(self) -> None:
        rules, opts, spec, S = self.rules, self.options, self.spec, self._S
        draws = draw_numpy(self.np_random, rules.init_draws(opts, spec, S), S)  # type: ignore[arg-type]
        self._state = rules.init(opts, spec, S, draws)

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self.rules.act(self.options, self._spec, self._state, obs)

    def _observe(self, reward: np.ndarray, obs: np.ndarray) -> None:
        rules, opts, spec = self.rules, self.options, self._spec
        if spec.obs_dim != self.obs_dim:
            spec = self.spec
        state, requests = rules.prepare(opts, spec, self._state, reward, obs)
        draws = draw_numpy(self.np_random, requests, self._S) if requests else _EMPTY  # type: ignore[arg-type]
        self._state = rules.observe(opts, spec, state, reward, obs, draws)

    def _strategy(self) -> np.ndarray:
        return self.rules.strategy(self.options, self._state)

    # ------------------------------------------------------------------ read check
    def nonfinite_reads(self) -> np.ndarray:
        """``(S,)`` bool: the rows in which a value the rule set reads from the game (its
        capabilities' ``reads``: a gradient, a best response) was NaN or infinite since
        :meth:`reset`, from its read check (:data:`~agents.rules.protocol.READ_CHECK`)."""
        if not self._caps.reads or self._state is None:
            return np.zeros(self._S, dtype=bool)
        return nonfinite_rows(self._state)

    def _read_error(self, rows: np.ndarray, stages: str) -> NonFiniteError:
        """The error for a NaN or infinite read in the first of ``rows`` (a bool mask),
        naming this learner, its game, ``stages`` (text) and what it read."""
        i = int(np.argmax(rows))
        game = self._spec.game
        name = getattr(game, "name", None) or type(game).__name__
        what = " or ".join(self._caps.reads)
        row = f" in seed row {i}" if self.num_envs is not None else ""
        return NonFiniteError(
            f"{type(self).__name__} read a NaN or infinite {what} of the game {name}{row} in "
            f"{stages} (or the step it made with it overflowed); its projection onto the box "
            "would have hidden it"
        )

    def observe(self, reward: float | ArrayLike, obs: ArrayLike) -> None:
        """:meth:`BatchAgent.observe <agents.BatchAgent.observe>`, then a check of what the
        rule set read from the game (the env's loop and the vector views call this face; the
        engines call :meth:`observe_batch` and check once per chunk).

        Raises:
            NonFiniteError: if a gradient or best response it read was NaN or infinite,
                naming the learner, the game, the seed row and the observation.
        """
        super().observe(reward, obs)
        if self._caps.reads and self._state is not None:
            # One sum of d values: 0 while every read was finite, NaN after (fold_read).
            if self._state[READ_CHECK].sum() != 0.0:
                n = int(self.update_counts()[0])
                raise self._read_error(self.nonfinite_reads(), f"its observation {n}")

    # ------------------------------------------------------------------ fast-forward face
    def quiet_stages(self) -> int:
        """Stages this learner sits out (its rule set's ``quiet_stages``; 0 without the
        ``fast_forward`` capability)."""
        if not self._caps.fast_forward:
            return 0
        if self._state is None:
            self._require_reset()
        return self.rules.quiet_stages(self.options, self._state)

    def skip_quiet(self, stages: int) -> None:
        """Advance over ``stages <= quiet_stages()`` quiet stages (the rule set's ``skip``)."""
        stages = self._stage_count(stages)
        quiet = self.quiet_stages()
        if stages > quiet:
            raise ValueError(
                f"{type(self).__name__}: cannot skip {stages} stages, only {quiet} are quiet"
            )
        if stages:
            self._state = self.rules.skip(self.options, self._state, stages)

    def reward_free_stages(self) -> int:
        """:attr:`ALWAYS` for a ``reward_free`` rule set, else its quiet stages."""
        caps = self._caps
        if caps.reward_free:
            return self.ALWAYS
        return self.quiet_stages() if caps.fast_forward else 0

    def observe_repeated(self, obs: ArrayLike, stages: int) -> None:
        """Learn from ``stages <= reward_free_stages()`` stages against one observation
        ``obs`` ``(S, d_other)`` without rewards (the rule set's ``observe_repeated`` where it
        declares ``repeat``, else that many observe calls)."""
        stages = self._stage_count(stages)
        caps = self._caps
        if not caps.reward_free and stages > self.reward_free_stages():
            raise ValueError(
                f"{type(self).__name__}: cannot observe {stages} stages without rewards, only "
                f"{self.reward_free_stages()} are reward-free"
            )
        if self._state is None:
            self._require_reset()
        o = np.asarray(obs, dtype=np.float64)
        if o.shape != (self._S, self.obs_dim):
            if self.obs_dim is not None or o.ndim != 2 or o.shape[0] != self._S:
                self._obs_shape_error(o, batched=True)
            self.obs_dim = o.shape[1]  # the first observation fixes it
        if stages == 0:
            return
        if caps.repeat:
            spec = self._spec if self._spec.obs_dim == self.obs_dim else self.spec
            self._state = self.rules.observe_repeated(self.options, spec, self._state, o, stages)
            return
        r = np.full(self._S, np.nan)
        for _ in range(stages):
            self._observe(r, o)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """The rule set's state as a dict of NumPy arrays, plus ``"rng"`` (the generator's
        words, :func:`agents.base.rng_to_array`) and ``"obs_dim"`` once known."""
        self._require_reset()
        assert self.np_random is not None and self._state is not None  # reset() made them
        if isinstance(self.np_random, RowStreams):
            raise ValueError(
                f"{type(self).__name__}: a batch of several runs (RowStreams) has no one "
                "generator state to save"
            )
        out = {"rng": rng_to_array(self.np_random)}
        if self.obs_dim is not None:
            out["obs_dim"] = np.asarray(self.obs_dim, dtype=np.int64)
        for k, v in self._state.items():
            out[k] = _saved(k, v)
        return out

    def block_state_dict(self, block: int) -> dict[str, np.ndarray]:
        """The :meth:`state_dict` that a learner of block ``block``'s rows alone holds, for a
        learner reset with :class:`~agents.rules.protocol.RowStreams` (a batch of several
        runs): the block's generator, and the rule set's state of its rows
        (:meth:`rows_state_dict`).

        Raises:
            ValueError: if the learner was not reset with RowStreams, or ``block`` is not
                one of its blocks.
        """
        self._require_reset()
        streams = self.np_random
        if not isinstance(streams, RowStreams):
            raise ValueError(
                f"{type(self).__name__}: block_state_dict needs a learner reset with "
                "RowStreams (a batch of several runs); use state_dict"
            )
        if isinstance(block, bool) or not 0 <= block < len(streams.sizes):
            raise ValueError(
                f"{type(self).__name__}: block must be one of 0..{len(streams.sizes) - 1}, "
                f"got {block!r}"
            )
        return self.rows_state_dict(streams.slices[block], streams.generators[block])

    def rows_state_dict(
        self, rows: slice, rng: np.random.Generator | None = None
    ) -> dict[str, np.ndarray]:
        """The :meth:`state_dict` of the rows ``rows`` as a learner of those rows alone holds
        it: the rule set's state of those rows (its ``take_rows``, else
        :func:`~agents.rules.protocol.slice_rows`) and, as ``"rng"``, ``rng`` (default: this
        learner's generator, which a batch of several runs on the JAX engine shares).

        Raises:
            ValueError: for ``rows`` that are not a slice of this learner's rows.
        """
        self._require_reset()
        assert self._state is not None  # reset() made it
        if not isinstance(rows, slice) or rows.step not in (None, 1):
            raise ValueError(f"rows must be a slice of consecutive rows, got {rows!r}")
        start, stop, _ = rows.indices(self._S)
        if not 0 <= start < stop:
            raise ValueError(f"rows {rows!r} hold none of this learner's {self._S} rows")
        if rng is None:
            if isinstance(self.np_random, RowStreams):
                raise ValueError(
                    f"{type(self).__name__}: a batch of several runs (RowStreams): name the "
                    "rows' generator, or use block_state_dict"
                )
            rng = self.np_random
        assert rng is not None  # reset() made it
        take = getattr(self.rules, "take_rows", None)
        state = (
            take(self.options, self._state, rows)
            if take is not None
            else slice_rows(self._state, rows, self._S)
        )
        out = {"rng": rng_to_array(rng)}
        if self.obs_dim is not None:
            out["obs_dim"] = np.asarray(self.obs_dim, dtype=np.int64)
        for k, v in state.items():
            out[k] = _saved(k, v)
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state saved by :meth:`state_dict` (from an agent built alike).

        Raises:
            ValueError: for missing or unknown keys, or arrays whose shapes do not fit this
                agent (e.g. another ``num_envs``).
        """
        rules, opts, S = self.rules, self.options, self._S
        template = rules.init(
            opts,
            self.spec,
            S,
            draw_numpy(np.random.default_rng(0), rules.init_draws(opts, self.spec, S), S),
        )
        known = set(template) | {"rng", "obs_dim"}
        unknown = sorted(set(state) - known)
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown state key(s) {unknown}")
        missing = sorted((set(template) | {"rng"}) - set(state))
        if missing:
            raise ValueError(f"{type(self).__name__}: state lacks {missing[0]!r}")
        new: dict[str, Any] = {}
        for k, ref in template.items():
            v = np.asarray(state[k])
            ref_shape = np.shape(ref)
            if v.shape != ref_shape and not (v.ndim == 2 and len(ref_shape) == 2):
                raise ValueError(
                    f"{type(self).__name__}: state {k!r} has shape {v.shape}, this agent "
                    f"(num_envs={self.num_envs}) needs {ref_shape}: the state is for a batch "
                    f"of {v.shape[:1]}"
                )
            if v.ndim == 2 and len(ref_shape) == 2 and v.shape[0] != ref_shape[0]:
                raise ValueError(
                    f"{type(self).__name__}: state is for a batch of {v.shape[:1]}, this agent "
                    f"has num_envs={self.num_envs}"
                )
            new[k] = v.item() if v.ndim == 0 and not isinstance(ref, np.ndarray) else v.copy()
        self.np_random = rng_from_array(state["rng"])
        self.obs_dim = int(np.asarray(state["obs_dim"])) if "obs_dim" in state else None
        self._state = new

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, num_envs={self.num_envs})"
