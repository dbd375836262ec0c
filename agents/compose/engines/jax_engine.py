"""The JAX backend of the batched engine (``run_batch(..., backend="jax")``, issue 9).

With a fixed commitment schedule every seed's interval ``n`` lasts ``k_n`` stages, so all
seeds end their intervals at the same stage. The program is a loop over intervals (a
``lax.while_loop``); within an interval a ``lax.fori_loop`` runs the follower's steps against
the one committed action, and at the interval's last stage the leader measures its payoff
and takes its step. The perturbation signs are drawn a block of intervals at a time. It calls
the same rules as the NumPy agents (:mod:`agents.rules`) and the game's own ``payoffs`` and
``follower_grad_given`` methods on JAX arrays: one copy of the math. It is compiled once per
shape (batch size and dimensions); :meth:`JaxRunner.run` may be called in chunks. The host
finds the stages at which updates are recorded from the schedule's cumulative sums, a block
of intervals at a time, and runs the program between them.

What runs here: :class:`~agents.HiCLeader` with a schedule (not adaptive) commitment shared
by every row, step-size and perturbation schedules shared or per row
(:class:`~agents.schedules.PerRow`: a sweep's batch of configurations), with or without a
payoff baseline (``baseline``, ``baseline_init``), against a
:class:`~agents.GradientAscentFollower` or :class:`~agents.StochasticGradientFollower` with a
constant step, on a game whose ``payoffs`` and ``follower_grad_given`` (by default
``follower_grad``) are array-API code (a game declares it, ``Game.array_api``: all 18 library
games do; a :class:`~hic_envs.games.CustomGame` of NumPy callables does not). It is the fast
path of ``make_runner(..., backend="jax")`` (:func:`fast_path` says which pairs it takes, by
rule set and options); every other pure pair runs in the generic stage loop over the rule
sets, :class:`~agents.compose.engines.jax_rules.RulesRunner`.

Randomness: JAX's counter-based generator, keyed by the run's seed; results have the NumPy
engine's distribution, not its bits (a test replays the NumPy run to 1e-12 when given its
perturbation signs and initial strategies). Payoff noise is drawn only where a reward is
read (the leader's, at interval ends); the follower never reads rewards. Neither agent reads
what it observes when acting, so episode boundaries (``max_cycles``) change nothing here.

JAX is imported when this module is; the rest of the library never imports it.

The game's functions are traced through :func:`~agents.compose.engines.jax_small_dots.small_dots`:
XLA's CPU compiler sends every matrix product to a library kernel outside the compiled loop,
which cost RandomQuadratic at ``d = 4`` 52 ns per seed-stage (issue 18's measurement);
short products written as multiply-adds take it to 4.7 ns (``python scripts/bench.py
--sizes 32 --pair-seeds 0``, S = 32, load average 7.8: 0.54 ns at ``d = 1``, 46.8 at
``d = 16``).

XLA's CPU compiler runs a while loop as one native function only when it touches few bytes
(``xla_cpu_small_while_loop_byte_threshold``, 1 KB by default); otherwise each operation of
the loop body is a separate call into the runtime, which at a small batch costs more than the
arithmetic. When this module (or the generic loop's) is imported it raises that threshold to
1 MB for the process's CPU backend
(:func:`~agents.compose.engines.jax_small_dots.start_backends`), so the interval loop at up to
a few thousand seeds compiles to one native loop (the README's Speed section measures both
settings with ``python scripts/bench.py``). Larger batches run the follower's steps of an
interval in blocks of rows (``ROW_CHUNK_VALUES`` values each, :func:`_row_chunk`), each block
through all of the interval's stages, so that each block's loop stays native and in cache;
row by row these are the same operations, so the same values (tested against one block).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from agents.compose.engines.jax_small_dots import small_dots, start_backends
from agents.compose.engines.records import (
    RECORD_FIELDS,
    BatchHistory,
    as_thinning,
    check_rows,
    chunk_history,
    derive_seeds,
    nonfinite_read,
)
from agents.followers import NOISY_STEP_RULES, STEP_RULES
from agents.hic import HIC_RULES
from agents.rules import (
    baseline_update,
    checked_ascent_step,
    commit,
    poisoned_ascent_step,
    spsa_step,
)
from agents.rules.protocol import fold_read
from agents.schedules import Constant, PerRow, ScheduleTable
from hic_envs.games.base import Game

__all__ = ["JaxRunner", "check_supported", "fast_path"]

start_backends()  # the small-loop threshold (see the module docstring)

_LEADER_OFF = {
    "average_last": None,
    "two_sided": False,
    "burn_in": 0,
    "interval_schedules": False,
    "momentum": None,
    "directions": "rademacher",
}


def fast_path(leader: Any, follower: Any) -> str | None:
    """None if this interval engine runs the pair, else why not: it runs the Hi-C rule set
    (:data:`agents.hic.HIC_RULES`, by identity: the learning rule, not the face's type) with a
    schedule (not adaptive, not per row) commitment, step-size and perturbation schedules
    shared by every row or per row (:class:`~agents.schedules.PerRow`), and none of
    ``average_last``, ``two_sided``, ``burn_in``, ``interval_schedules``, ``momentum``,
    ``directions`` other than Rademacher, against the gradient or stochastic-gradient rule
    set with a constant step. Every other pair runs in the generic loop
    (:class:`~agents.compose.engines.jax_rules.RulesRunner`)."""
    if getattr(leader, "rules", None) is not HIC_RULES:
        return "the leader's rule set is not Hi-C's"
    options = leader.options
    if options.adaptive:
        return "adaptive commitment ends each seed's intervals at its own stage"
    for name, off in _LEADER_OFF.items():
        v = getattr(options, name)
        if (v is not None) if off is None else bool(np.any(np.asarray(v) != off)):
            return f"HiCLeader's {name}={v!r}"
    if isinstance(options.commitment, PerRow):
        return "a PerRow commitment ends rows' intervals at different stages"
    if not isinstance(options.baseline, (float, type(None))):
        return "a per-row baseline"
    if getattr(follower, "rules", None) not in (STEP_RULES, NOISY_STEP_RULES):
        return "the follower's rule set is not a gradient follower's"
    if not isinstance(follower.options.step_size, Constant):
        return f"the follower's step {follower.options.step_size!r} is not constant"
    return None


def check_supported(game: Game, leader: Any, follower: Any) -> None:
    """Raise a ``ValueError`` naming what has no pure form in this interval engine, if
    anything (see :func:`fast_path`)."""
    why = fast_path(leader, follower)
    if why is not None:
        raise ValueError(
            f"the JAX interval engine does not run this pair ({why}); make_runner(..., "
            "backend='jax') runs it in the generic loop (RulesRunner)"
        )
    if not game.array_api:
        raise ValueError(
            f"{type(game).__name__} declares array_api=False: its payoffs are NumPy code (a "
            "CustomGame's callables run on NumPy arrays) and cannot be traced by JAX; use "
            "backend='numpy'"
        )
    S = leader.num_envs
    try:
        with jax.enable_x64(True):
            x = jax.ShapeDtypeStruct((S, game.d1), jnp.float64)
            y = jax.ShapeDtypeStruct((S, game.d2), jnp.float64)
            jax.eval_shape(lambda a, b: (game.payoffs(a, b), game.follower_grad_given(a)(b)), x, y)
    except Exception as err:  # what a NumPy-only game raises on JAX arrays varies
        raise ValueError(
            f"{type(game).__name__}'s payoffs or follower_grad(_given) are not array-API code "
            f"(on JAX arrays they raise {type(err).__name__}: {str(err).splitlines()[0][:200]}) "
            f"although {type(game).__name__}.array_api is True; write them with the namespace "
            "of their arguments (hic_envs.games.array_api), set array_api = False, or use "
            "backend='numpy'"
        ) from None


@dataclasses.dataclass(frozen=True)
class _Static:
    """What the compiled program is specialised on (hashable; the game by identity)."""

    game: Any
    lam: float | None  # baseline weight, or None
    noisy: bool  # some row's payoff noise scale is positive
    follower_noise: float
    beta: float
    given_signs: bool

    def __hash__(self) -> int:
        return hash(
            (
                id(self.game),
                self.lam,
                self.noisy,
                self.follower_noise,
                self.beta,
                self.given_signs,
            )
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Static)
            and other.game is self.game
            and (
                (self.lam, self.noisy, self.follower_noise, self.beta, self.given_signs)
                == (other.lam, other.noisy, other.follower_noise, other.beta, other.given_signs)
            )
        )


#: Schedule table length (updates) the program is first compiled for.
_TABLE_SIZE = 1 << 20

#: About how many perturbation signs one call of the generator draws: the signs of a block of
#: intervals at once (a call's fixed cost dominates at small batches).
_SIGN_VALUES = 4096


def _sign_block_len(S: int, d1: int) -> int:
    """Intervals per block of signs for ``S`` rows of dimension ``d1`` (1 to 64)."""
    return max(1, min(64, _SIGN_VALUES // (S * d1)))


#: Most values (rows x follower dimension) the follower's steps of an interval advance
#: together (see :func:`_row_chunk`).
ROW_CHUNK_VALUES = 1024
#: Fewest rows in a block: a follower of more coordinates keeps the batch whole, since its
#: gradient's matrix products over fewer rows would lose more than the blocks gain.
ROW_CHUNK_MIN_ROWS = 256


def _row_chunk(S: int, d2: int) -> int:
    """Rows per block of the follower's steps within an interval: ``S`` (one block) up to
    ``ROW_CHUNK_VALUES`` values, else the largest divisor of ``S`` within that many values
    (and at least a quarter of them; ``S`` if it has none, or where fewer than
    ``ROW_CHUNK_MIN_ROWS`` rows fit).

    Past a few thousand rows the interval's loop over stages streams its arrays through
    memory at every stage, and past XLA's small-loop threshold (1 MB, raised at import) each
    operation of the loop body becomes a call into the runtime; blocks of rows that stay in
    cache, each through all of the interval's stages, avoid both (as the numba limit's blocks
    of rows do). The follower's noise is drawn for all rows at a stage at once, so a noisy
    follower is not blocked."""
    most = ROW_CHUNK_VALUES // d2
    if S <= most or most < ROW_CHUNK_MIN_ROWS:
        return S
    for C in range(most, max(1, most // 4) - 1, -1):
        if S % C == 0:
            return C
    return S


def _sign_block(keys, b, B, shape):
    """The signs ``Delta_j`` of intervals ``j = b B, ..., b B + B - 1``, ``(B, *shape)``: Alg. 1,
    line 4, ``Delta_n`` uniform on ``{-1, 1}^d1`` independently per row and interval."""
    bits = jax.random.bernoulli(jax.random.fold_in(keys["signs"], b), 0.5, (B, *shape))
    return jnp.where(bits, 1.0, -1.0).astype(jnp.float64)  # not weak: no second compile


def _grad(static, keys, grad, y, t):
    """The follower's gradient ``grad(y)`` at stage ``t``, with its noise (Eq. (9)) if any."""
    g = grad(y)
    if static.follower_noise > 0.0:
        w = jax.random.normal(jax.random.fold_in(keys["follower"], t), y.shape, jnp.float64)
        g = g + static.follower_noise * w  # w_t of Eq. (9)
    return g


def _advance_impl(st, stages, static, tabs, boxes, keys, signs):
    """Play ``stages`` stages from state ``st`` (a dict of arrays and scalars)."""
    xlow, xhigh, ylow, yhigh = boxes
    S, d1 = st["x"].shape
    B = _sign_block_len(S, d1)

    d2 = st["y"].shape[1]
    C = _row_chunk(S, d2) if static.follower_noise == 0.0 else S

    def follower_steps(st, steps):
        xt, t0 = st["xt"], st["t"]

        def rows_steps(xt, y, check):
            # Its x part once per interval, as in NumPy; short products as multiply-adds.
            grad = small_dots(static.game.follower_grad_given(xt))

            def step(i, y):  # one loop iteration per stage: XLA compiles it to a tight loop
                g = _grad(static, keys, grad, y, t0 + i)
                # The read check rides in y (NaN from a non-finite read on), so the loop
                # writes one array a stage, not two (the strategy and its check).
                return poisoned_ascent_step(y, static.beta, g, ylow, yhigh)

            y = jax.lax.fori_loop(jnp.int64(0), steps, step, y)
            return y, fold_read(check, y)  # NaN exactly where a step read a non-finite value

        if C == S:
            y, check = rows_steps(xt, st["y"], st["read_check"])
        else:
            # Blocks of C rows, each through all the steps (row by row the same operations,
            # so the same values): see _row_chunk.
            y, check = jax.lax.map(
                lambda a: rows_steps(*a),
                (
                    xt.reshape(S // C, C, d1),
                    st["y"].reshape(S // C, C, d2),
                    st["read_check"].reshape(S // C, C, d2),
                ),
            )
            y, check = y.reshape(S, d2), check.reshape(S, d2)
        return {
            **st,
            "y": y,
            "read_check": check,
            "t": t0 + steps,
            "played": st["played"] + steps,
        }

    def event(st, blk):
        # The interval's last stage: the leader is paid at (x~_n, y~_n) (Alg. 1, line 8).
        xt, y, n, ready = st["xt"], st["y"], st["n"], st["ready"]
        s, _ = small_dots(static.game.payoffs)(xt, y)
        if static.noisy:
            w = jax.random.normal(jax.random.fold_in(keys["noise"], st["t"]), s.shape)
            s = s + tabs["noise"] * w
        # A row whose follower read a non-finite gradient (its y poisoned, and its read check
        # NaN) pays the leader at a NaN y, also where the NumPy engine's y is on the box's edge
        # (an infinite gradient): its reward is not folded, so the error names the follower's
        # read, as NumPy's does there.
        poisoned = jnp.isnan(y).any(axis=-1)
        g = _grad(static, keys, small_dots(static.game.follower_grad_given(xt)), y, st["t"])
        y_new, check = checked_ascent_step(y, static.beta, g, ylow, yhigh, st["read_check"])
        if static.lam is not None:
            g_scale, b = baseline_update(st["b"], ready, s, static.lam)
        else:
            g_scale, b = s, st["b"]
        alpha = _rows(tabs, "alpha", n)
        x_step = spsa_step(
            st["x"], alpha, g_scale, _rows(tabs, "delta", n), st["Delta"], xlow, xhigh
        )
        x = jnp.where(ready, x_step, st["x"])  # a baseline's first interval makes no step
        n = n + ready.astype(jnp.int64)
        j = st["j"] + 1
        if static.given_signs:
            Delta = _at(signs, j)
        else:
            blk = jax.lax.cond(
                j % B == 0, lambda: _sign_block(keys, j // B, B, (S, d1)), lambda: blk
            )
            Delta = _at(blk, j % B)
        xt = commit(x, jnp.ones(S), _rows(tabs, "delta", n), Delta, xlow, xhigh)
        return {
            **st,
            "x": x,
            "y": y_new,
            "xt": xt,
            "Delta": Delta,
            "b": b,
            "n": n,
            "j": j,
            "ready": jnp.bool_(True),
            "played": jnp.int64(0),
            "read_check": check,
            "reward_check": fold_read(st["reward_check"], jnp.where(poisoned, 0.0, s)),
            "t": st["t"] + 1,
        }, blk

    # Whole intervals that end within the chunk (the follower's steps, then the event at the
    # interval's last stage), then the follower's steps of the interval left open.
    def ends_here(carry):
        _, left, rem, _ = carry  # rem: stages to the end of the current interval
        return rem <= left

    def interval(carry):
        st, left, rem, blk = carry
        st, blk = event(follower_steps(st, rem - 1), blk)
        return st, left - rem, _at(tabs["k"], st["n"]), blk

    rem = _at(tabs["k"], st["n"]) - st["played"]
    # The block of signs holding the next interval's (a placeholder when signs are given).
    blk = (
        jnp.zeros((1, S, d1))
        if static.given_signs
        else _sign_block(keys, (st["j"] + 1) // B, B, (S, d1))
    )
    st, left, _, _ = jax.lax.while_loop(ends_here, interval, (st, stages, rem, blk))
    return follower_steps(st, left)


def _at(table, n):
    """``table[n]`` for a traced scalar index (one dynamic slice, no gather)."""
    return jax.lax.dynamic_index_in_dim(table, n, keepdims=False)


def _rows(tabs, name, n):
    """Every row's value of schedule ``name`` at index ``n``, ``(S,)``: the table holds one
    column per distinct schedule (one for a schedule every row shares), ``name_rows`` the
    column of each row."""
    return _at(tabs[name], n)[tabs[f"{name}_rows"]]


def _columns(schedule: Any, name: str, S: int) -> tuple[list[ScheduleTable], np.ndarray]:
    """The distinct schedules of ``schedule`` (one unless it is a
    :class:`~agents.schedules.PerRow`) as tables, and each row's column ``(S,)``."""
    rows = schedule.schedules if isinstance(schedule, PerRow) else (schedule,) * S
    if len(rows) != S:
        raise ValueError(f"{name} is a PerRow schedule of {len(rows)} rows, the batch has {S}")
    distinct: list[Any] = []
    which = np.empty(S, dtype=np.int64)
    for i, sch in enumerate(rows):
        hit = [j for j, u in enumerate(distinct) if u is sch or u == sch]
        if not hit:
            distinct.append(sch)
        which[i] = hit[0] if hit else len(distinct) - 1
    return [ScheduleTable(u, name) for u in distinct], which


_advance = jax.jit(_advance_impl, static_argnums=(2,))


class JaxRunner:
    """The JAX engine with :class:`~agents.compose.engines.runner.BatchRunner`'s face (``run``,
    ``stage``, ``updates``, ``leader``/``follower`` with ``strategies``, ``thinning``).

    Args:
        game, leader, follower: as for
            :class:`~agents.compose.engines.runner.BatchRunner` (the agents
            give the configuration: schedules, options, boxes, ``num_envs``, ``init``). They
            are not played.
        seed: the run's seed (keys JAX's generator).
        noise_std: payoff noise scale, a number or one per row ``(S,)`` (a sweep's batch of
            configurations).
        record: which updates to record (:func:`~agents.compose.engines.runner.as_thinning`).
        signs: optional ``(J, S, d1)`` perturbation signs of the first ``J`` intervals
            (instead of drawn ones; the run may not go past interval ``J - 1``): with ``x0``,
            ``y0`` and a NumPy leader's signs it replays that NumPy run.
        x0, y0: optional initial strategies ``(S, d1)``, ``(S, d2)``.

    Raises:
        ValueError: for a configuration :func:`check_supported` refuses.
    """

    def __init__(
        self,
        game: Game,
        leader: Any,
        follower: Any,
        seed: int | None = None,
        *,
        noise_std: float | np.ndarray = 0.0,
        record: Any = "all",
        signs: np.ndarray | None = None,
        x0: np.ndarray | None = None,
        y0: np.ndarray | None = None,
    ) -> None:
        check_supported(game, leader, follower)
        S = leader.num_envs
        self.game, self.num_envs, self.thinning = game, S, as_thinning(record)
        noise = np.broadcast_to(np.asarray(noise_std, dtype=np.float64), (S,))
        if not (np.isfinite(noise).all() and (noise >= 0).all()):
            raise ValueError(f"noise_std must be finite and >= 0, got {noise_std!r}")
        self.noise_std = float(noise[0]) if np.ndim(noise_std) == 0 else noise.copy()
        self._noise = noise
        self.leader = _View(self, "x", leader)
        self.follower = _View(self, "y", follower)
        #: Who reads what the read checks hold (named in a NonFiniteError).
        self._readers = {
            "reward_check": f"the leader {type(leader).__name__}",
            "read_check": f"the follower {type(follower).__name__}",
        }
        self._static = _Static(
            game=game,
            lam=leader.baseline,
            noisy=bool((noise > 0).any()),
            follower_noise=float(getattr(follower, "noise_std", 0.0)),
            beta=float(follower.step_size.value),
            given_signs=signs is not None,
        )
        self._tables = {"k": ScheduleTable(leader.commitment, "commitment")}
        # The step size and perturbation: one table column per distinct schedule (per-row
        # schedules, a sweep's batch of configurations: agents.compose.sweeps.batched).
        self._columns = {
            "alpha": _columns(leader.step_size, "step_size", S),
            "delta": _columns(leader.perturbation, "perturbation", S),
        }
        self._tab_len = 0
        self._tabs: dict[str, Any] = {}
        env_seed, _, _ = derive_seeds(seed)
        # The start is drawn on the host (NumPy, from the run's seed: eager JAX calls would
        # each compile a program); the signs of later intervals on the device.
        rng = np.random.default_rng(np.random.SeedSequence(env_seed).spawn(1)[0])
        if x0 is None and leader.options.init is not None:
            x0 = leader.options.init
        if x0 is None:
            x0 = rng.uniform(leader.low, leader.high, size=(S, game.d1))
        if y0 is None and follower.options.init is not None:
            y0 = follower.options.init
        if y0 is None:
            y0 = rng.uniform(follower.low, follower.high, size=(S, game.d2))
        x0 = np.broadcast_to(np.asarray(x0, dtype=np.float64), (S, game.d1))
        y0 = np.broadcast_to(np.asarray(y0, dtype=np.float64), (S, game.d2))
        Delta: np.ndarray
        if signs is not None:
            Delta = np.asarray(signs[0], dtype=np.float64)
        else:
            Delta = 2.0 * rng.integers(0, 2, size=(S, game.d1)) - 1.0
        ready = leader.baseline is None or leader.baseline_init is not None
        b0 = 0.0 if leader.baseline_init is None else leader.baseline_init
        tabs, which = self._columns["delta"]
        delta0 = np.array([t.at(0) for t in tabs])[which]
        xt = commit(x0, np.ones(S), delta0, Delta, leader.low, leader.high)  # Alg. 1, line 5
        # Device arrays are put from NumPy (jax.device_put compiles nothing; eager jnp calls
        # would each compile a small program, about 0.2 s in all).
        put = jax.device_put
        words = np.random.SeedSequence(env_seed).spawn(2)[1].generate_state(6, dtype=np.uint32)
        with jax.enable_x64(True):
            self._keys = {
                name: jax.random.wrap_key_data(put(words[2 * i : 2 * i + 2]))
                for i, name in enumerate(("signs", "follower", "noise"))
            }
            self._boxes = tuple(
                put(np.asarray(a, dtype=np.float64))
                for a in (leader.low, leader.high, follower.low, follower.high)
            )
            self._signs = put(
                np.zeros((1, S, game.d1)) if signs is None else np.asarray(signs, np.float64)
            )
            host = {"x": x0, "y": y0, "xt": xt, "Delta": Delta, "b": np.full(S, b0)}
            self._state = {k: put(np.asarray(v, dtype=np.float64)) for k, v in host.items()}
            self._state.update(
                {k: put(np.int64(0)) for k in ("n", "j", "t", "played")},
                ready=put(np.bool_(ready)),
                # What the players read, folded by multiplying (agents.rules.protocol.
                # fold_read): 0 while every value was finite, NaN in a row after one was not.
                reward_check=put(np.zeros(S)),
                read_check=put(np.zeros((S, game.d2))),
            )
        # Host copies of the schedule's position (every row alike, known without the device).
        self._n, self._played, self._ready = 0, 0, ready
        #: Stages played so far.
        self.stage = 0
        self._started = False

    @property
    def updates(self) -> np.ndarray:
        """Leader updates made so far, per row ``(S,)``."""
        return np.full(self.num_envs, self._n, dtype=np.int64)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The runner's state as a flat dict of NumPy arrays (``jax/...``: the device state;
        host counters), for data-only checkpoints; :meth:`load_state_dict` restores it."""
        out = {f"jax/{k}": np.asarray(v) for k, v in self._state.items()}
        out.update(
            stage=np.asarray(self.stage, dtype=np.int64),
            host=np.asarray([self._n, self._played, int(self._ready), int(self._started)]),
        )
        return out

    def rows_state_dict(self, rows: slice) -> dict[str, np.ndarray]:
        """The :meth:`state_dict` of the rows ``rows`` as a runner of those rows holds it
        (every row shares the schedule's position, the host counters; the generator keys are
        the runner's, not part of the state): what a batched sweep writes as the checkpoint
        of the configuration those rows are.

        Raises:
            ValueError: for ``rows`` that are not a slice of this runner's rows.
        """
        check_rows(rows, self.num_envs)
        full = self.state_dict()
        return {
            k: (v if k in ("stage", "host") or v.ndim == 0 else np.array(v[rows]))
            for k, v in full.items()
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore a state saved by :meth:`state_dict` (from a runner built alike).

        Raises:
            ValueError: for a missing key or one that does not fit this runner.
        """
        for k in [*(f"jax/{k}" for k in self._state), "stage", "host"]:
            if k not in state:
                raise ValueError(f"JAX runner state lacks {k!r}")
        with jax.enable_x64(True):
            new = {}
            for k, v in self._state.items():
                a = np.asarray(state[f"jax/{k}"])
                if a.shape != np.shape(v):
                    raise ValueError(
                        f"JAX runner state {k!r} has shape {a.shape}, expected {np.shape(v)}"
                    )
                new[k] = jax.device_put(a.astype(v.dtype))
        self._state = new
        self.stage = int(np.asarray(state["stage"]))
        n, played, ready, started = (int(i) for i in np.asarray(state["host"]))
        self._n, self._played, self._ready, self._started = n, played, bool(ready), bool(started)

    #: Intervals looked ahead per step of :meth:`_plan`.
    _PLAN_BLOCK = 4096

    def _plan(self, stages: int) -> tuple[np.ndarray, np.ndarray]:
        """Walk the schedule on the host: the stage offsets and indices ``n`` of the updates
        made in the next ``stages`` stages (arrays); advances the host copies.

        The interval lengths are summed a block at a time. A block holding a length that is
        not a whole number of stages is walked one interval at a time instead, so the error
        is raised where the run reaches it (as the NumPy leader does), not ahead of it."""
        lengths = self._tables["k"].lengths
        offs: list[np.ndarray] = []
        ns: list[np.ndarray] = []
        left, off = stages, 0

        def one() -> bool:  # one interval; False if it does not end within the chunk
            nonlocal left, off
            rem = int(lengths(np.array([self._n]))[0]) - self._played
            if rem > left:
                self._played += left
                left = 0
                return False
            left, off, self._played = left - rem, off + rem, 0
            if self._ready:
                self._n += 1
                offs.append(np.array([off]))
                ns.append(np.array([self._n]))
            self._ready = True
            return True

        if not self._ready:  # a baseline's first interval ends without an update
            one()
        while left > 0:
            n = self._n
            try:
                k = lengths(np.arange(n, n + self._PLAN_BLOCK, dtype=np.int64))
            except ValueError:
                for _ in range(self._PLAN_BLOCK):
                    if not one():
                        break
                continue
            k[0] -= self._played
            ends = off + np.cumsum(k)  # ends[i]: the offset at which interval n + i ends
            m = int(np.searchsorted(ends, off + left, side="right"))  # ends in the chunk
            if m:
                offs.append(ends[:m])
                ns.append(np.arange(n + 1, n + m + 1, dtype=np.int64))
                self._n, self._played = n + m, 0
                left -= int(ends[m - 1]) - off
                off = int(ends[m - 1])
            if m < self._PLAN_BLOCK:
                self._played += left  # the interval left open
                left = 0
        if not offs:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(offs), np.concatenate(ns)

    def _device_tables(self) -> dict[str, Any]:
        need = self._n + 2
        if need > self._tab_len:
            # The tables' length is part of the compiled program's shape: start large (1M
            # updates, 24 MB; per-row schedules: about as many bytes over their columns) so
            # that a run compiles once.
            cols = max(len(t) for t, _ in self._columns.values())
            size = max(1024, _TABLE_SIZE >> (cols - 1).bit_length())
            while size < need:
                size *= 2
            n = np.arange(size, dtype=np.int64)
            with jax.enable_x64(True):
                self._tabs = {
                    "k": jax.device_put(self._tables["k"](n).astype(np.int64)),
                    "noise": jax.device_put(np.array(self._noise)),
                }
                for key, (tabs, which) in self._columns.items():
                    self._tabs[key] = jax.device_put(np.stack([t(n) for t in tabs], axis=1))
                    self._tabs[f"{key}_rows"] = jax.device_put(which)
            self._tab_len = size
        return self._tabs

    def _advance(self, stages: int) -> None:
        if stages <= 0:
            return
        with jax.enable_x64(True):
            self._state = _advance(
                self._state,
                np.int64(stages),
                self._static,
                self._tabs,
                self._boxes,
                self._keys,
                self._signs,
            )

    def run(self, stages: int) -> BatchHistory:
        """Play ``stages`` more stages; the (thinned) records of the updates made in them, a
        :class:`~agents.compose.engines.runner.BatchHistory`."""
        S = self.num_envs
        rec: dict[str, list] = {f: [] for f in RECORD_FIELDS}
        rows = np.arange(S)

        def record(n: int, stage: int) -> None:
            rec["row"].append(rows)
            rec["update"].append(np.full(S, n, dtype=np.int64))
            rec["stage"].append(np.full(S, stage, dtype=np.int64))
            rec["leader_strategies"].append(np.array(self._state["x"]))
            rec["follower_strategies"].append(np.array(self._state["y"]))

        if not self._started:
            self._started = True
            record(0, 0)
        t0 = self.stage
        offs, ns = self._plan(int(stages))
        self._device_tables()
        done = 0
        keep = self.thinning.keep(ns)
        for off, n in zip(offs[keep].tolist(), ns[keep].tolist(), strict=True):
            self._advance(off - done)
            done = off
            record(n, t0 + off)
        self._advance(int(stages) - done)
        self.stage = t0 + int(stages)
        # The read checks, once per chunk (on the device the leader's reward is folded at
        # every interval's end, the follower's gradient steps carried in y and folded there).
        for key, what in (("reward_check", "reward"), ("read_check", "gradient")):
            check = np.asarray(self._state[key])
            bad = np.isnan(check).reshape(S, -1).any(axis=1)
            if bad.any():
                who = self._readers[key]
                raise nonfinite_read(who, what, self.game, bad, t0, self.stage, "JAX")
        return chunk_history(
            rec,
            self.leader.strategies,
            self.follower.strategies,
            self.game,
            self.stage,
            "JAX backend",
        )


class _View:
    """An agent as the experiment code sees it: its configuration (forwarded to the NumPy
    agent it was built from) and its current strategies from the JAX state."""

    def __init__(self, runner: JaxRunner, key: str, agent: Any) -> None:
        self._runner, self._key, self._agent = runner, key, agent

    @property
    def strategies(self) -> np.ndarray:
        return np.array(self._runner._state[self._key])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._agent, name)
