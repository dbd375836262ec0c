"""The rule-set protocol: a learner is a frozen options value plus pure functions of array state.

Every library learner (the Hi-C leader and its baselines, the followers) is written once as a
*rule set*, in the idiom of optax's ``init/update`` pairs and gymnax's pure
``step(key, state, action, params)``: the caller owns the state, randomness comes in as
arrays, and the same functions run eagerly on NumPy (the stateful faces and the NumPy engine)
and can be traced by ``jax.jit`` (the JAX engine). The stateful agents
(:class:`agents.HiCLeader`, :class:`agents.GradientAscentFollower`, ...) are thin faces over
their rule set (:class:`agents.face.RuleAgent`): each holds one state and one generator.

**A rule set** is an object (usually a module-level instance of a small class) with

* ``capabilities``: a :class:`Capabilities` value (what an engine may ask of it);
* ``init_draws(options, spec, num_rows) -> tuple[Draw, ...]`` and
  ``init(options, spec, num_rows, draws) -> state``: the initial state (a dict of arrays and
  scalars) of ``num_rows`` independent rows;
* ``act(options, spec, state, obs) -> action``: the actions ``(S, d)`` to play, from what the
  player observed ``(S, d_other)``; never changes the state;
* ``prepare(options, spec, state, reward, obs) -> (state, tuple[Draw, ...])`` and
  ``observe(options, spec, state, reward, obs, draws) -> state``: learn from the stage just
  played (rewards ``(S,)``, the other player's actions ``(S, d_other)``) in two pure steps:
  ``prepare`` does everything that needs no randomness and says which draws ``observe`` needs
  (a learner without randomness returns ``(state, ())``); ``observe`` consumes them. Hi-C's
  *interval end* (measure, baseline, SPSA step) is its ``prepare``; its *interval begin*
  (a fresh direction ``Delta_n``, the commitment) is its ``observe``;
* ``strategy(options, state) -> (S, d)``, ``update_counts(options, state) -> (S,)`` and
  ``updates(options, state)``: the mean strategies, strategy updates per row, and their total.

and, where its capabilities declare them:

* ``fast_forward``: ``quiet_stages(options, state) -> int`` (stages before the next event:
  during them ``act`` returns what it returns now and ``observe`` reads neither rewards nor
  observations) and ``skip(options, state, stages) -> state`` (advance over quiet stages);
* ``reward_free``: ``observe`` never reads rewards (engines pass NaN and skip the payoffs);
* ``repeat``: ``observe_repeated(options, spec, state, obs, stages) -> state``, ``stages``
  reward-free stages against one observation in one call (a NumPy fast path; bit for bit the
  same as ``stages`` observe calls). Only rule sets without draws may declare it;
* ``take_rows(options, state, rows: slice) -> state`` (optional): the state of the rows
  ``rows`` as a batch of those rows alone holds it (how a batched sweep writes each of its
  runs' checkpoints). Without it, :func:`slice_rows` is used: every array entry's leading
  axis is the row axis, and a 0-d entry is the same for every row (a stage count). A rule set
  whose state holds a reduction over rows (a total, a minimum) defines it;
* ``reads``: what ``observe`` reads from the game that a projection would hide (a gradient,
  a best response). Every such value is folded into the state entry :data:`READ_CHECK`
  (:func:`fold_read`: one multiply per read, no reduction, no branch), which the engines and
  the faces check (:func:`nonfinite_rows`): once per chunk in the engines, after every
  ``observe`` call in a face (the env's loop, the vector views). A NaN or infinite gradient
  is thus an error, not a point on the box's edge. The rewards a rule set reads are checked
  by the engines and the env themselves.

**Options** are a frozen dataclass of hyperparameters (validated in ``__post_init__``); a
numeric option may be a number or a per-row array of shape ``(S,)``, and a schedule option any
:mod:`agents.schedules` schedule, including :class:`agents.schedules.PerRow` (one schedule or
value per row), so a sweep grid over hyperparameters is one batch. **The spec**
(:class:`Spec`) is what the learner is told about its seat: its box, the other player's
dimension, and (only for a rule set that declares ``needs_game``) the game.

**Draws** are explicit. A rule set asks for them as a tuple of :class:`Draw` requests
(named, with a kind, a per-row shape and the rows that need them); the NumPy face draws
them with :func:`draw_numpy` from its ``np.random.Generator`` (only the rows asked for, in the
order asked, so the stream is what the pre-rule-set learners drew, bit for bit); the JAX
engine draws the same named arrays for every row from a key (rows not asked for are ignored:
``observe`` reads a draw only where it asked for it). Given the same draws, the functions give
the same results under NumPy and JAX.

**Rules of writing one**: use the array namespace of the arguments
(:func:`agents.rules.namespace`); no data-dependent shapes (masks with ``xp.where``); no
in-place writes to the state or the arguments (return a new dict: ``{**state, "x": x}``);
Python control flow only on options and static shapes, never on state values (except in the
NumPy-only ``observe_repeated`` and the fast-forward functions, which engines call only on
NumPy state). A rule set that cannot be traced (it calls NumPy-only code, such as a
``CustomGame`` of NumPy callables or an SB3 policy) declares ``pure=False``: the JAX engine
refuses it by that capability, naming it.

**Where a new learner goes**: its module under ``agents/`` (its options dataclass, its rule
set, and a face: ``class MyLeader(RuleAgent)`` with ``rules = MY_RULES`` and a constructor
that builds the options) and one row of ``agents/catalog.py``. Neither engine changes.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol, runtime_checkable

import numpy as np

from agents.rules.xp import namespace
from agents.schedules import Constant, PerRow, ScheduleTable

__all__ = [
    "DRAW_KINDS",
    "READ_CHECK",
    "Capabilities",
    "Draw",
    "RowStreams",
    "RuleSet",
    "Spec",
    "StepwiseRules",
    "cache_field",
    "capabilities_of",
    "collapse",
    "m_and",
    "m_not",
    "m_or",
    "select",
    "slice_rows",
    "stage_counts",
    "draw_numpy",
    "fold_read",
    "initial_strategy",
    "nonfinite_rows",
    "schedule_at",
    "table",
    "uniform_init_draws",
]

#: The kinds of draw a rule set may ask for (see :class:`Draw`).
DRAW_KINDS = ("rademacher", "normal", "uniform")

#: The state entry into which a rule set that declares ``reads`` folds what it reads
#: (:func:`fold_read`): float64 ``(S, d)``, 0 while every value read was finite, NaN in a row
#: from the first read that was not. The sign of a 0 is not part of the state (it depends on
#: how many steps a fast path folded at once): a face's ``state_dict`` holds +0.0.
READ_CHECK = "read_check"


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What a rule set declares about itself; engines ask these, never the type.

    Attributes:
        pure: ``act``/``prepare``/``observe`` are array-API code that ``jax.jit`` can trace.
        fast_forward: has ``quiet_stages``/``skip`` (stages on which it plays one action and
            learns nothing from what it is given).
        reward_free: ``observe`` never reads its rewards.
        repeat: has the NumPy fast path ``observe_repeated`` (draws nothing).
        needs_game: reads the game (``spec.game``): a coupled learner, or a follower that
            reads its own payoff's derivatives. The JAX engine then needs the game's
            functions in array-API form.
        coupled: reads quantities of the *other* player's payoff (a coupled baseline).
        draws: the names of the draws it may ask for (for documentation and engines that
            pre-allocate).
        reads: what ``observe`` reads from the game and folds into the state entry
            :data:`READ_CHECK` (e.g. ``("gradient",)``; named in the error when one is NaN or
            infinite); empty for a rule set that reads nothing a projection could hide.
        needs_best_response: calls the game's ``best_response`` (the best-response follower,
            the oracle leader's ``hierarchical_payoff``): the JAX engine then needs a game
            that declares ``array_api_best_response``.
        rows_independent: a row's values depend on that row alone, so a batch of several
            runs (:class:`RowStreams`) gives each run what it gets alone. False for a rule set
            with a loop over the whole batch (the hierarchical CG leader's solver iterates
            every row until the last converges): a batched sweep then runs its
            configurations one at a time.
    """

    pure: bool = True
    fast_forward: bool = False
    reward_free: bool = False
    repeat: bool = False
    needs_game: bool = False
    coupled: bool = False
    draws: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    needs_best_response: bool = False
    rows_independent: bool = True


@dataclasses.dataclass(frozen=True)
class Spec:
    """What a learner is told about its seat (static: not state, the same for every row).

    Attributes:
        low, high: the player's strategy box, float64 ``(d,)``.
        obs_dim: the dimension of what it observes (the other player's), or None if unknown
            until the first observation.
        game: the game, for rule sets that declare ``needs_game`` (else None).
    """

    low: np.ndarray
    high: np.ndarray
    obs_dim: int | None = None
    game: Any = None
    _cache: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    def full(self, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` spread to ``shape`` (cached: a ufunc on operands of one shape costs
        about half of one that broadcasts a ``(d,)`` bound; the same values, so the same
        bits)."""
        hit = self._cache.get(shape)
        if hit is None:
            hit = self._cache[shape] = (
                np.broadcast_to(self.low, shape).copy(),
                np.broadcast_to(self.high, shape).copy(),
            )
        return hit

    @property
    def dim(self) -> int:
        """The player's dimension."""
        return int(self.low.shape[0])


@dataclasses.dataclass(frozen=True)
class Draw:
    """A request for random numbers, one block of shape ``shape`` per row asked for.

    Kinds: ``"rademacher"`` (uniform on ``{-1.0, 1.0}``; NumPy draws
    ``2.0 * integers(0, 2) - 1.0``), ``"normal"`` (``normal(loc, scale)``), ``"uniform"``
    (``uniform(low, high)``, ``low``/``high`` broadcasting against ``shape``).

    Several requests may share a ``name``: they fill disjoint rows of one array, drawn in the
    order of the requests (this is how a learner that drew for two groups of rows one after
    the other keeps its stream).

    Attributes:
        name: the key of the array in ``draws``.
        kind: one of :data:`DRAW_KINDS`.
        shape: the per-row shape.
        rows: ``(S,)`` bool mask of the rows that need it, or None for every row.
        loc, scale: of a normal draw.
        low, high: of a uniform draw.
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    rows: Any = None
    loc: float = 0.0
    scale: float = 1.0
    low: Any = 0.0
    high: Any = 1.0

    def __post_init__(self) -> None:
        if self.kind not in DRAW_KINDS:
            raise ValueError(f"Draw.kind must be one of {DRAW_KINDS}, got {self.kind!r}")


class RowStreams:
    """One random stream per block of consecutive rows: a batch that holds several runs.

    Block ``b`` holds rows ``[start_b, start_b + sizes[b])`` and draws from its own generator
    exactly what a batch of ``sizes[b]`` rows alone would draw from it (:func:`draw_numpy`
    draws each block's requested rows from the block's generator, in the order of the
    requests). So rows of a run batched with others get the random numbers they get alone:
    this is how a sweep runs many configurations as one engine run
    (:mod:`agents.compose.sweeps`).

    Args:
        generators: one ``np.random.Generator`` per block.
        sizes: the blocks' row counts (positive), in row order.

    Raises:
        ValueError: for no blocks, mismatched lengths or a size that is not positive.
    """

    __slots__ = ("bounds", "generators", "sizes", "slices")

    def __init__(self, generators: Any, sizes: Any) -> None:
        gens, sz = list(generators), [int(n) for n in sizes]
        if not gens or len(gens) != len(sz) or min(sz) < 1:
            raise ValueError(
                f"RowStreams needs one generator per block and positive block sizes, got "
                f"{len(gens)} generators and sizes {sz}"
            )
        bad = [g for g in gens if not isinstance(g, np.random.Generator)]
        if bad:
            raise TypeError(f"RowStreams takes numpy Generators, got {type(bad[0]).__name__}")
        self.generators = gens
        self.sizes = tuple(sz)
        ends = np.cumsum(sz).tolist()
        self.slices = tuple(slice(e - n, e) for e, n in zip(ends, sz, strict=True))
        #: ``(blocks + 1,)`` row offsets: block ``b`` is ``bounds[b]:bounds[b + 1]``.
        self.bounds = np.array([0, *ends], dtype=np.int64)

    @classmethod
    def from_seeds(cls, seeds: Any, sizes: Any) -> RowStreams:
        """Blocks seeded like ``np.random.default_rng(seed)`` for each seed."""
        return cls([np.random.default_rng(s) for s in seeds], sizes)

    @property
    def num_rows(self) -> int:
        """Rows over all blocks."""
        return sum(self.sizes)

    def __repr__(self) -> str:
        return f"RowStreams(sizes={list(self.sizes)})"


def _draw(rng: np.random.Generator, r: Draw, shape: tuple[int, ...]) -> np.ndarray:
    if r.kind == "rademacher":
        return 2.0 * rng.integers(0, 2, size=shape) - 1.0
    if r.kind == "normal":
        return rng.normal(r.loc, r.scale, size=shape)
    return rng.uniform(r.low, r.high, size=shape)


_ALL = slice(None)


def _draw_blocks(
    streams: RowStreams, requests: tuple[Draw, ...], num_rows: int
) -> dict[str, np.ndarray]:
    """:func:`draw_numpy` block by block: each block draws, from its own generator and in
    the order of the requests, the rows of it that each request asks for (a block none of
    whose rows is asked for draws nothing, as a batch of it alone would)."""
    if streams.num_rows != num_rows:
        raise ValueError(f"RowStreams of {streams.num_rows} rows for a batch of {num_rows}")
    wanted: list[tuple[Draw, Any]] = []
    for r in requests:
        mask = r.rows
        if mask is None or mask is True:
            wanted.append((r, _ALL))
        elif mask is not False:
            idx = np.flatnonzero(mask)
            if idx.size:
                wanted.append((r, idx))
    if not wanted:
        return {}
    bounds = streams.bounds
    if any(idx is _ALL for _, idx in wanted):
        blocks = range(len(streams.sizes))
    else:
        hit = np.concatenate([np.searchsorted(bounds[1:], idx, side="right") for _, idx in wanted])
        blocks = np.unique(hit).tolist()
    out: dict[str, np.ndarray] = {}
    for b in blocks:
        gen, start, stop = streams.generators[b], int(bounds[b]), int(bounds[b + 1])
        for r, idx in wanted:
            if idx is _ALL:
                rows: Any = slice(start, stop)
            else:
                lo, hi = np.searchsorted(idx, (start, stop)).tolist()
                if lo == hi:
                    continue
                rows = slice(start, stop) if hi - lo == stop - start else idx[lo:hi]
            n = stop - start if isinstance(rows, slice) else rows.size
            vals = _draw(gen, r, (n, *r.shape))
            full = out.get(r.name)
            if full is None:
                full = out[r.name] = np.zeros((num_rows, *r.shape))
            full[rows] = vals
    return out


def draw_numpy(
    rng: np.random.Generator | RowStreams, requests: tuple[Draw, ...], num_rows: int
) -> dict[str, np.ndarray]:
    """The arrays ``requests`` ask for, drawn from ``rng`` (the NumPy face's draws).

    Only the rows asked for are drawn, in the order of the requests; other rows of a named
    array are 0 (a rule set reads a draw only where it asked for it), and a name no row asked
    for is absent. ``rows`` may also be a Python bool (every row, or none). With
    :class:`RowStreams`, each block draws its own rows from its own generator, as a batch of
    that block alone would.

    Returns:
        ``{name: array of shape (num_rows, *shape)}``.
    """
    if isinstance(rng, RowStreams):
        return _draw_blocks(rng, requests, num_rows)
    out: dict[str, np.ndarray] = {}
    for r in requests:
        mask = r.rows
        if mask is None or mask is True:
            rows, size = None, num_rows
        elif mask is False:
            continue
        else:
            rows = np.flatnonzero(mask)
            size = rows.size
            if size == 0:
                continue
            if size == num_rows:
                rows = None
        vals = _draw(rng, r, (size, *r.shape))
        if rows is None and r.name not in out:
            out[r.name] = vals
            continue
        full = out.get(r.name)
        if full is None:
            full = out[r.name] = np.zeros((num_rows, *r.shape))
        if rows is None:
            full[...] = vals
        else:
            full[rows] = vals
    return out


def slice_rows(state: dict[str, Any], rows: slice, num_rows: int) -> dict[str, Any]:
    """The rows ``rows`` of a rule-set state of ``num_rows`` rows: each array entry sliced on
    its leading (row) axis, each 0-d entry kept (the default ``take_rows`` of a rule set,
    see the module's docstring).

    Raises:
        ValueError: for an array entry whose leading axis is not ``num_rows`` long (a state
            that is not one of ``num_rows`` rows).
    """
    out: dict[str, Any] = {}
    for k, v in state.items():
        if np.ndim(v) == 0:
            out[k] = v
            continue
        if np.shape(v)[0] != num_rows:
            raise ValueError(
                f"state entry {k!r} has shape {np.shape(v)}, not one row per each of the "
                f"{num_rows} rows"
            )
        out[k] = np.array(v[rows], copy=True)
    return out


def select(mask: Any, a: Any, b: Any) -> Any:
    """``where(mask, a, b)`` (rows of ``a`` where ``mask``, else of ``b``), with the NumPy
    shortcuts a rule set's hot path wants: ``mask`` may be a Python bool (``True``: ``a``
    spread to ``b``'s shape, ``False``: ``b``), and a ``(S,)`` mask selects rows of
    ``(S, ...)`` arrays."""
    if mask is True:
        if type(a) is np.ndarray:
            return a if a.shape == b.shape else np.broadcast_to(a, b.shape).copy()
        return np.full(b.shape, a, dtype=b.dtype)
    if mask is False:
        return b
    xp = namespace(mask, b)
    if mask.ndim < b.ndim:
        mask = mask.reshape(mask.shape + (1,) * (b.ndim - mask.ndim))
    return xp.where(mask, a, b)


def collapse(mask: Any) -> Any:
    """A NumPy bool mask as the Python bool ``True`` (``False``) where every (no) entry is
    set, else the mask itself: :func:`select` then skips the selection. Other namespaces'
    masks pass through (traced values have no truth value)."""
    if type(mask) is not np.ndarray:
        return mask
    if mask.all():
        return True
    if not mask.any():
        return False
    return mask


def m_not(m: Any) -> Any:
    """Logical not of a mask that may be a Python bool (see :func:`collapse`)."""
    return (not m) if isinstance(m, bool) else ~m


def m_and(a: Any, b: Any) -> Any:
    """Logical and of masks that may be Python bools (see :func:`collapse`)."""
    if a is True or b is False:
        return b
    if b is True or a is False:
        return a
    return a & b


def m_or(a: Any, b: Any) -> Any:
    """Logical or of masks that may be Python bools (see :func:`collapse`)."""
    if a is False or b is True:
        return b
    if b is False or a is True:
        return a
    return a | b


@runtime_checkable
class RuleSet(Protocol):
    """The functions of a rule set (see the module docstring for their contracts)."""

    capabilities: Capabilities

    def init_draws(self, options: Any, spec: Spec, num_rows: int) -> tuple[Draw, ...]: ...

    def init(self, options: Any, spec: Spec, num_rows: int, draws: dict[str, Any]) -> dict: ...

    def act(self, options: Any, spec: Spec, state: dict, obs: Any) -> Any: ...

    def prepare(
        self, options: Any, spec: Spec, state: dict, reward: Any, obs: Any
    ) -> tuple[dict, tuple[Draw, ...]]: ...

    def observe(
        self, options: Any, spec: Spec, state: dict, reward: Any, obs: Any, draws: dict[str, Any]
    ) -> dict: ...

    def strategy(self, options: Any, state: dict) -> Any: ...

    def update_counts(self, options: Any, state: dict) -> Any: ...

    def updates(self, options: Any, state: dict) -> Any: ...


def capabilities_of(agent: Any) -> Capabilities | None:
    """The :class:`Capabilities` an agent declares: its rule set's (``type(agent).rules``),
    else a class attribute ``capabilities`` (an SB3 policy declares ``pure=False``), else None
    for an agent that declares nothing (a plain ``reset/act/observe/strategy`` object, a
    :class:`~agents.BatchAgent` written with hooks): engines treat those as opaque NumPy
    objects, and an engine that traces refuses them."""
    rules = getattr(type(agent), "rules", None)
    caps = getattr(rules, "capabilities", None)
    if isinstance(caps, Capabilities):
        return caps
    caps = getattr(type(agent), "capabilities", None)
    return caps if isinstance(caps, Capabilities) else None


# ---------------------------------------------------------------------------------- helpers
def table(options: Any, name: str) -> Any:
    """The :class:`~agents.schedules.ScheduleTable` of the schedule option ``name`` of
    ``options``, kept in the options' cache (``_cache``, a dict field excluded from equality:
    it holds only the schedule's values, never state)."""
    cache = options._cache
    schedule = getattr(options, name)
    t = cache.get(name)
    if t is None or t.schedule is not schedule:
        t = cache[name] = ScheduleTable(schedule, name)
    return t


def schedule_at(options: Any, name: str, t: Any) -> Any:
    """The schedule option ``name`` of ``options`` at stage count ``t``, shaped to broadcast
    against ``(S, d)`` strategies: a constant's number, a :class:`~agents.schedules.PerRow`
    schedule's ``(S, 1)`` column, the cached table's value (:func:`table`) at a Python ``t``,
    or, at a traced ``t`` (the JAX engine), the schedule evaluated in its namespace."""
    step = getattr(options, name)
    if isinstance(step, Constant):
        return step.value
    if isinstance(step, PerRow):
        return step(t)[:, None]
    if isinstance(t, (int, np.integer)):
        return table(options, name).at(t)
    return step(t)


def initial_strategy(
    init: Any, spec: Spec, num_rows: int, draws: dict[str, Any], name: str = "x0"
) -> np.ndarray:
    """``init`` (a point of the box, or one per row) broadcast to ``(num_rows, d)``, or the
    uniform draw ``draws[name]`` (Algorithm 1, line 2) when ``init`` is None.

    Raises:
        ValueError: for an ``init`` of another shape or outside the box.
    """
    if init is None:
        return draws[name]
    d, low, high = spec.dim, spec.low, spec.high
    x0 = np.asarray(init, dtype=np.float64)
    if x0.shape not in ((d,), (num_rows, d)):
        raise ValueError(f"init must have shape ({d},) or ({num_rows}, {d}), got {x0.shape}")
    if np.any(x0 < low) or np.any(x0 > high) or not np.all(np.isfinite(x0)):
        raise ValueError(
            f"init must lie in the box [{low.tolist()}, {high.tolist()}], got {x0.tolist()}"
        )
    return np.broadcast_to(x0, (num_rows, d)).copy()


def uniform_init_draws(init: Any, spec: Spec, name: str = "x0") -> tuple[Draw, ...]:
    """The draw :func:`initial_strategy` needs: a uniform point of the box when ``init`` is
    None, else nothing."""
    if init is not None:
        return ()
    return (Draw(name, "uniform", (spec.dim,), low=spec.low, high=spec.high),)


def stage_counts(strategies: Any, t: Any) -> Any:
    """``(S,)`` int64 counts equal to the stage count ``t`` (the ``update_counts`` of a
    learner that updates at every stage): a Python ``t`` under NumPy, a traced one in the
    namespace of ``strategies``."""
    if isinstance(t, (int, np.integer)):
        return np.full(strategies.shape[0], t, dtype=np.int64)
    xp = namespace(strategies)
    return xp.zeros(strategies.shape[0], dtype=xp.int64) + xp.astype(t, xp.int64)


class StepwiseRules:
    """What the rule sets that update their strategy at every stage they observe share (the
    gradient leaders, the gradient and mirror followers, the coupled players): the state
    ``{key: (S, d) strategies, "t": stages observed, READ_CHECK: (S, d)}``, its
    initial strategy (``options.init``, or the uniform draw named ``init_draw``), and the
    accessors of it. A subclass names ``key`` and ``init_draw`` and writes ``observe`` (and
    ``prepare``, if it draws anything).
    """

    #: The state entry of the strategies.
    key = "x"
    #: The name of the uniform initial strategy's draw.
    init_draw = "x0"

    def init_draws(self, options: Any, spec: Spec, num_rows: int) -> tuple[Draw, ...]:
        return uniform_init_draws(options.init, spec, self.init_draw)

    def init(self, options: Any, spec: Spec, num_rows: int, draws: dict) -> dict:
        z = initial_strategy(options.init, spec, num_rows, draws, self.init_draw)
        return {self.key: z, "t": 0, READ_CHECK: np.zeros(z.shape)}

    def act(self, options: Any, spec: Spec, state: dict, obs: Any) -> Any:
        return state[self.key]

    def strategy(self, options: Any, state: dict) -> Any:
        return state[self.key]

    def update_counts(self, options: Any, state: dict) -> Any:
        return stage_counts(state[self.key], state["t"])

    def updates(self, options: Any, state: dict) -> Any:
        return state[self.key].shape[0] * state["t"]

    def prepare(
        self, options: Any, spec: Spec, state: dict, reward: Any, obs: Any
    ) -> tuple[dict, tuple]:
        return state, ()


def fold_read(check: Any, value: Any) -> Any:
    """``check * value``: the read check (:data:`READ_CHECK`, zeros at ``init``) after reading
    ``value`` (broadcasting against it).

    ``0 * v`` is 0 for every finite ``v`` and NaN for ``v = +-inf`` or NaN, and a NaN stays NaN
    under later multiplies: one element-wise multiply per read records whether any value read
    since ``init`` was non-finite, without a reduction or a branch on the hot path (and it
    never overflows, unlike a running sum of the values).
    """
    return check * value


def nonfinite_rows(state: dict) -> np.ndarray:
    """``(S,)`` bool: the rows of a rule-set state (of a rule set that declares ``reads``)
    whose :data:`READ_CHECK` records a NaN or infinite read."""
    check = np.asarray(state[READ_CHECK])
    return np.isnan(check).reshape(check.shape[0], -1).any(axis=1)


def cache_field() -> Any:
    """The ``_cache`` field of an options dataclass (see :func:`table`)."""
    return dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)
