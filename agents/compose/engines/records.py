"""What the batched engines record and how they derive their streams: the records
(:class:`BatchHistory`) and their thinning (:class:`Thinning`), the error a non-finite run
raises, the split of a run's seed, and the learners' part of a runner's state dict. Every
engine (:mod:`.runner`'s NumPy engine, the JAX engines :mod:`.jax_engine` and
:mod:`.jax_rules`) builds on this module, and none on another engine (no import circles).
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeAlias

import numpy as np

from agents.base import NonFiniteError  # one class: the faces (agents layer) raise it too
from agents.rules.protocol import capabilities_of
from hic_envs.games.base import Game

__all__ = [
    "RECORD_FIELDS",
    "BatchHistory",
    "NonFiniteError",
    "RecordLike",
    "Thinning",
    "as_thinning",
    "check_reads",
    "chunk_history",
    "agents_state",
    "check_rows",
    "derive_seeds",
    "load_agents_state",
    "nonfinite_read",
    "saved_updates",
]


def derive_seeds(seed: int | None) -> tuple[int, np.random.SeedSequence, np.random.SeedSequence]:
    """Split ``seed`` into the env's seed and the leader's and follower's seed sequences."""
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
    ):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    env_ss, leader_ss, follower_ss = np.random.SeedSequence(seed).spawn(3)
    return int(env_ss.generate_state(1, dtype=np.uint64)[0]), leader_ss, follower_ss


# ---------------------------------------------------------------------------------- thinning
_POW10 = 10 ** np.arange(19, dtype=np.int64)


#: What :func:`as_thinning` accepts: ``"all"``, ``"log"``, ``"log:p"``, ``"none"``, None, a
#: positive int ``K`` or a :class:`Thinning`.
RecordLike: TypeAlias = "Thinning | str | int | None"


@dataclasses.dataclass(frozen=True)
class Thinning:
    """Which leader updates ``n`` a batched run records (``n = 0``, the start, always).

    Exactly one rule applies:

    * ``every=K``: updates ``n`` with ``n % K == 0`` (``K = 1`` records every update);
    * ``log_digits=p``: every update below ``10**p``, then ``9 * 10**(p-1)`` evenly spaced
      round numbers per decade (``p = 2``: all of 0..99, then 100, 110, ..., 990, then 1000,
      1100, ...), so a run of ``U`` updates keeps about ``90 log10(U)`` of them per seed;
    * ``none=True``: only ``n = 0`` (the final strategies are returned separately).

    Attributes:
        every: keep every ``every``-th update (when ``log_digits`` is None and not ``none``).
        log_digits: significant decimal digits kept on the log scale, or None.
        none: record no updates after the start.
    """

    every: int = 1
    log_digits: int | None = None
    none: bool = False

    def __post_init__(self) -> None:
        for nm, v in (("every", self.every), ("log_digits", self.log_digits)):
            if v is None and nm == "log_digits":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"Thinning.{nm} must be a positive integer, got {v!r}")

    def keep(self, n: np.ndarray) -> np.ndarray:
        """Boolean mask over update indices ``n`` (non-negative ints)."""
        n = np.asarray(n, dtype=np.int64)
        if self.none:
            return n == 0
        if self.log_digits is None:
            return n % self.every == 0
        digits = np.searchsorted(_POW10, n, side="right")  # decimal digits of n (0 for n = 0)
        step = _POW10[np.maximum(digits - self.log_digits, 0)]
        return n % step == 0

    def describe(self) -> str:
        """A short human-readable description (for summaries and docs)."""
        if self.none:
            return "none (initial and final strategies only)"
        if self.log_digits is None:
            return "every update" if self.every == 1 else f"every {self.every}th update"
        p = self.log_digits
        return (
            f"log-spaced: every update below {10**p}, then {9 * 10 ** (p - 1)} round "
            "update indices per decade"
        )


def as_thinning(value: RecordLike) -> Thinning:
    """``"all"`` (or 1), ``"log"`` (``log_digits=2``), ``"log:p"``, ``"none"``/None, a positive
    int ``K`` (every K-th update), or a :class:`Thinning`.

    Raises:
        ValueError: for anything else, naming the value.
    """
    if isinstance(value, Thinning):
        return value
    if value is None:
        return Thinning(none=True)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return Thinning(every=int(value))
    if isinstance(value, str):
        v = value.strip().lower()
        if v == "all":
            return Thinning(every=1)
        if v == "none":
            return Thinning(none=True)
        if v == "log":
            return Thinning(log_digits=2)
        if v.startswith("log:") and v[4:].isdigit() and int(v[4:]) >= 1:
            return Thinning(log_digits=int(v[4:]))
        if v.isdigit() and int(v) >= 1:
            return Thinning(every=int(v))
    raise ValueError(
        f"record must be 'all', 'log', 'log:<digits>', 'none' or a positive integer K, "
        f"got {value!r}"
    )


@dataclasses.dataclass
class BatchHistory:
    """Per-update records of :func:`run_batch`, one row per (seed row, update).

    Attributes:
        row: ``(R,)`` batch row of each record.
        update: ``(R,)`` update index ``n`` (0 is the initial strategy).
        stage: ``(R,)`` stage at which ``x_n`` was made.
        leader_strategies: ``(R, d1)``; follower_strategies: ``(R, d2)``.
        final_leader: ``(S, d1)`` and final_follower ``(S, d2)`` strategies at the end.
    """

    row: np.ndarray
    update: np.ndarray
    stage: np.ndarray
    leader_strategies: np.ndarray
    follower_strategies: np.ndarray
    final_leader: np.ndarray
    final_follower: np.ndarray

    def for_row(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(stages, leader_strategies, follower_strategies)`` of batch row ``i``."""
        m = self.row == i
        return self.stage[m], self.leader_strategies[m], self.follower_strategies[m]

    def rows(self, start: int, stop: int) -> BatchHistory:
        """The records of rows ``start <= row < stop``, renumbered from 0, in their order:
        what a batch of those rows alone records (one ``Block`` of a batch,
        :class:`agents.compose.engines.runner.Block`)."""
        m = (self.row >= start) & (self.row < stop)
        return BatchHistory(
            row=self.row[m] - start,
            update=self.update[m],
            stage=self.stage[m],
            leader_strategies=self.leader_strategies[m],
            follower_strategies=self.follower_strategies[m],
            final_leader=self.final_leader[start:stop],
            final_follower=self.final_follower[start:stop],
        )

    def __len__(self) -> int:
        return self.row.shape[0]

    @classmethod
    def concatenate(cls, parts: list[BatchHistory]) -> BatchHistory:
        """Join the histories of consecutive :meth:`BatchRunner.run` calls (finals: the last)."""
        if not parts:
            raise ValueError("concatenate needs at least one BatchHistory")
        return cls(
            **{f: np.concatenate([getattr(p, f) for p in parts]) for f in RECORD_FIELDS},
            final_leader=parts[-1].final_leader,
            final_follower=parts[-1].final_follower,
        )


RECORD_FIELDS = ("row", "update", "stage", "leader_strategies", "follower_strategies")


def chunk_history(
    rec: dict[str, list], final_l: np.ndarray, final_f: np.ndarray, game: Game, stage: int, why: str
) -> BatchHistory:
    """A chunk's :class:`BatchHistory` from its lists of records (empty ones if none), after
    checking the final strategies (both engines end their chunks here).

    Raises:
        NonFiniteError: naming the first seed row with a NaN or infinite strategy.
    """
    for role, s in (("leader", final_l), ("follower", final_f)):
        bad = ~np.isfinite(s).all(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            raise NonFiniteError(
                f"the {role}'s strategy in seed row {i} is {s[i].tolist()} after stage "
                f"{stage} ({why})"
            )
    if not rec["row"]:  # nothing recorded in this chunk
        none = np.empty(0, dtype=np.int64)
        empty = (none, none, none, np.empty((0, game.d1)), np.empty((0, game.d2)))
        rec = {f: [e] for f, e in zip(RECORD_FIELDS, empty, strict=True)}
    return BatchHistory(
        **{f: np.concatenate(rec[f]) for f in RECORD_FIELDS},
        final_leader=final_l,
        final_follower=final_f,
    )


def nonfinite_read(
    who: str, what: str, game: Game, rows: np.ndarray, t0: int, t1: int, engine: str
) -> NonFiniteError:
    """The error both engines raise when a value read in stages ``t0 + 1 .. t1`` was NaN or
    infinite: ``who`` read a ``what`` (a reward, a gradient, a best response) of ``game``,
    in the first seed row of the bool mask ``rows``."""
    i = int(np.argmax(rows))
    how = (
        "a payoff overflowed, or the noise did"
        if what == "reward"
        else "or the step made with it overflowed; the projection onto the box would have hidden it"
    )
    return NonFiniteError(
        f"{who} read a NaN or infinite {what} of the game {game.name} in seed row {i} in "
        f"stages {t0 + 1}..{t1} ({how}; {engine} engine); results up to the previous chunk "
        "are kept"
    )


def check_reads(leader: Any, follower: Any, game: Game, t0: int, t1: int, engine: str) -> None:
    """Raise :func:`nonfinite_read`'s error if either agent read a NaN or infinite value from
    the game in stages ``t0 + 1 .. t1`` (its ``nonfinite_reads()``, asked once per chunk;
    an agent without that method declares no reads)."""
    for role, agent in (("leader", leader), ("follower", follower)):
        reads = getattr(agent, "nonfinite_reads", None)
        bad = reads() if reads is not None else None
        if bad is not None and bad.any():
            caps = capabilities_of(agent)
            what = " or ".join(caps.reads) if caps is not None and caps.reads else "value"
            raise nonfinite_read(
                f"the {role} {type(agent).__name__}", what, game, bad, t0, t1, engine
            )


# ---------------------------------------------------------------------------------- state
def agents_state(leader_state: dict, follower_state: dict) -> dict[str, np.ndarray]:
    """A runner's state dict's learner part: ``leader/KEY`` and ``follower/KEY`` for the two
    learners' state dicts (whole, or of a block or a slice of rows)."""
    out: dict[str, np.ndarray] = {}
    for role, st in (("leader", leader_state), ("follower", follower_state)):
        out.update({f"{role}/{k}": v for k, v in st.items()})
    return out


def load_agents_state(state: dict, leader: Any, follower: Any) -> None:
    """Give each learner its part of a runner's state dict (see :func:`agents_state`)."""
    for role, agent in (("leader", leader), ("follower", follower)):
        prefix = role + "/"
        agent.load_state_dict(
            {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        )


def saved_updates(state: dict, keys: tuple[str, ...], num_envs: int, engine: str) -> np.ndarray:
    """``state["n_seen"]`` (updates per row) of a runner's state dict, after checking that
    ``state`` has every key of ``keys`` and is for ``num_envs`` rows.

    Raises:
        ValueError: naming the missing key, or the number of rows.
    """
    for key in keys:
        if key not in state:
            raise ValueError(f"{engine}runner state lacks {key!r}")
    n_seen = np.asarray(state["n_seen"])
    if n_seen.shape != (num_envs,):
        raise ValueError(
            f"runner state is for {n_seen.shape[0] if n_seen.ndim else '?'} seeds, this run "
            f"has {num_envs}"
        )
    return n_seen


def check_rows(rows: Any, num_envs: int) -> None:
    """Refuse ``rows`` unless it is a slice of consecutive rows of a batch of ``num_envs``
    holding at least one (a runner's ``rows_state_dict``).

    Raises:
        ValueError: naming ``rows``.
    """
    if not isinstance(rows, slice) or rows.step not in (None, 1):
        raise ValueError(f"rows must be a slice of consecutive rows, got {rows!r}")
    start, stop, _ = rows.indices(num_envs)
    if not 0 <= start < stop:
        raise ValueError(f"rows {rows!r} hold none of this runner's {num_envs} rows")
