"""The JAX engine's generic stage loop over any two rule sets (issue 18).

:class:`RulesRunner` (``make_runner(..., backend="jax")`` for every pair that the interval
engine of :mod:`agents.compose.engines.jax_engine` does not take) plays a leader and a
follower whose learning is a rule set (:mod:`agents.rules.protocol`) as one compiled
``lax.while_loop`` over stages: at every stage both rule sets ``act``, the actions are
projected onto the boxes, the game's ``payoffs`` are evaluated (with payoff noise if asked),
and each rule set ``prepare``\\ s and ``observe``\\ s, with the draws it asks for made for every
row from a key (a rule set reads a draw only where it asked for it). Observations at the
start of each ``max_cycles``-stage episode are the box centres, as in the NumPy engine. It
asks the rule sets' capabilities (``pure``, ``reward_free``) and the game's (``array_api``),
never their types, and re-implements no learning rule: it calls the rule sets' own functions.

The initial states are the faces' own (``reset`` with the seeds the NumPy engine derives), so
a pair without draws after the start replays the NumPy engine (to rounding); later draws come
from JAX's generator keyed by the run's seed (the NumPy engine's distribution, not its bits):
Rademacher signs (Hi-C's and oracle SPSA's directions) are one bit each of Threefry-2x32
(:func:`threefry2x32`, JAX's hash written out round by round) of the stage and the request
under the run's key, the other kinds ``jax.random``'s normal and uniform draws.

Where neither rule set's ``act`` reads what its player observed (every library rule set: an
operand check of ``act``'s trace, :func:`_reads_obs`), the loop carries no observations: the
stages of a call but its last are played without writing them, and the last stage, played
apart, leaves them for the next call (and the checkpoint). Unrecorded (``record=None``), the
per-row update counts are read once after the loop instead of at every stage.
Inside the loop a state's per-row vectors ``(S,)`` are carried as columns ``(S, 1)``
(:func:`_columns`): XLA's CPU compiler emits a fused loop over ``(S,)`` as a loop of ``S``
iterations that LLVM unrolls in full and then leaves largely scalar (Hi-C's integer and mask
entries), while a loop over ``(S, 1)`` is vectorized. The operations are the same; the
results were the same bit for bit in every job compared with the loop before
(``docs/results/speed.md``).
Updates are recorded inside the loop into a fixed buffer (thinned as asked); the loop returns
to the host when the buffer is full. After each :meth:`RulesRunner.run` the faces hold the
final states (``runner.leader.strategies`` is the face's), and :meth:`RulesRunner.state_dict`
is the faces' state dicts plus the key and counters, as for the NumPy engine.

What traces: every rule set of the catalog (Hi-C with every option and schedule of
:mod:`agents.schedules`, ``PerRow`` included; SGA, the hierarchical gradient, LOLA and oracle
SPSA) against the gradient, stochastic-gradient and best-response followers, on games whose
functions are array-API code (every library game's payoffs, derivatives, Hessian blocks and
hierarchical gradient). A rule set that declares ``pure=False`` and a game that declares
``array_api=False`` are refused by that declaration, as is a rule set that declares
``needs_best_response`` (the best-response follower, the oracle leader) on a game whose best
response is a numerical solve (``array_api_best_response=False``: the base class's SciPy
default, the IPD's, MogGAN's); one that declares ``pure=True`` but calls NumPy-only code is
refused when the runner is made, naming the pair and the project function its trace stopped
at.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jcore

from agents.compose.engines.jax_small_dots import small_dots, start_backends
from agents.compose.engines.records import (
    RECORD_FIELDS,
    BatchHistory,
    RecordLike,
    Thinning,
    agents_state,
    as_thinning,
    check_reads,
    check_rows,
    chunk_history,
    derive_seeds,
    load_agents_state,
    nonfinite_read,
    saved_updates,
)
from agents.rules.protocol import capabilities_of
from agents.schedules import Constant, PerRow, Schedule
from hic_envs.stage import Stage

__all__ = ["RulesRunner", "check_rules", "run_rules"]

start_backends()  # the small-loop threshold (jax_small_dots): one native loop per program


#: The rotations of Threefry-2x32's rounds (Salmon et al. 2011), as JAX's generator has them.
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def threefry2x32(k1: Any, k2: Any, x1: Any, x2: Any) -> tuple[Any, Any]:
    """Threefry-2x32 (20 rounds) of the counters ``(x1, x2)`` under the key ``(k1, k2)``:
    the bits of ``jax.extend.random.threefry_2x32``, written out round by round.

    JAX lowers its own on the CPU as a rolled loop of five iterations (a compile-time
    saving), a loop nested in the stage loop for every key derived and every block drawn,
    which was most of a stage of oracle SPSA (fresh Rademacher signs for every row at every
    stage; see ``docs/results/speed.md``). Written out, it is ``uint32`` element-wise code
    that XLA fuses with the rest of the stage."""
    u = jnp.uint32
    ks = (k1, k2, k1 ^ k2 ^ u(0x1BD11BDA))
    x1, x2 = x1 + ks[0], x2 + ks[1]
    for r in range(5):
        for rot in _ROTATIONS[r % 2]:
            x1 = x1 + x2
            x2 = x1 ^ ((x2 << u(rot)) | (x2 >> u(32 - rot)))
        x1 = x1 + ks[(r + 1) % 3]
        x2 = x2 + ks[(r + 2) % 3] + u(r + 1)
    return x1, x2


def _words(key: Any, t: Any, stream: Any, n: int) -> Any:
    """``n`` random ``uint32`` words of ``stream`` at stage ``t``: Threefry of the counters
    ``(stream, 0 .. )`` under the stage's key, itself Threefry of ``t`` (its high word with
    the top bit set, apart from the counters JAX's ``fold_in`` hashes) under the run's key
    ``key`` (its two key words)."""
    u = jnp.uint32
    t = jnp.asarray(t).astype(jnp.uint64)
    hi = (t >> jnp.uint64(32)).astype(u) | u(0x80000000)
    a, b = threefry2x32(key[0], key[1], hi, t.astype(u))
    blocks = -(-n // 2)
    w1, w2 = threefry2x32(a, b, jnp.full(blocks, stream, u), jnp.arange(blocks, dtype=u))
    return jnp.concatenate([w1, w2])[:n]


def _rademacher(words: Any, shape: tuple[int, ...]) -> Any:
    """Signs in ``{-1.0, 1.0}`` of ``shape``, one bit each of ``words(n)`` (``n`` words)."""
    size = int(np.prod(shape))
    w = words(-(-size // 32))
    bits = (w[:, None] >> jnp.arange(32, dtype=jnp.uint32)[None, :]) & jnp.uint32(1)
    return jnp.where(bits.reshape(-1)[:size].reshape(shape) == 1, 1.0, -1.0)


def _draws(key: Any, requests: tuple, S: int, words: Any = None) -> dict[str, Any]:
    """The named arrays ``requests`` ask for, drawn for every row from ``key()`` (a function:
    the key is derived only where something is drawn); a name whose requests all carry row
    masks is drawn only at stages where some row asks for it (a ``lax.cond``: Hi-C asks for
    fresh directions only where intervals end, and the generator costs more than the rest of
    its stage). Rademacher signs are bits of ``words(i, n)`` (``n`` words of the ``i``-th
    request's stream, :func:`_words`) where given: one bit a sign, not a 64-bit uniform."""
    out: dict[str, Any] = {}
    for i, r in enumerate(requests):
        if r.rows is False or r.name in out:
            continue  # one array per name, drawn for every row
        shape = (S, *r.shape)

        def draw(i=i, r=r, shape=shape):
            if r.kind == "rademacher" and words is not None:
                return _rademacher(lambda n: words(i, n), shape)
            k = jax.random.fold_in(key(), i)
            if r.kind == "rademacher":
                v = jnp.where(jax.random.bernoulli(k, 0.5, shape), 1.0, -1.0)
            elif r.kind == "normal":
                v = r.loc + r.scale * jax.random.normal(k, shape, jnp.float64)
            else:
                v = jax.random.uniform(k, shape, jnp.float64, r.low, r.high)
            return v.astype(jnp.float64)

        masks = [q.rows for q in requests if q.name == r.name and q.rows is not False]
        if any(m is None or m is True for m in masks):
            out[r.name] = draw()
            continue
        need = jnp.any(jnp.stack([jnp.asarray(m) for m in masks]))
        out[r.name] = jax.lax.cond(need, draw, lambda shape=shape: jnp.zeros(shape))
    return out


def _like(new: dict, old: dict) -> dict:
    """``new`` with ``old``'s dtypes (a loop carry keeps its types; a rule set may return a
    Python number or a weakly typed value where its state held an array)."""
    return {k: jnp.asarray(v).astype(old[k].dtype) for k, v in new.items()}


#: Entries of a schedule's table (:func:`_schedule_tables`; 1 MiB each): indices past it are
#: evaluated directly (:class:`_Tabled`). One length, so the program compiles once; a longer
#: table costs each call of the program a copy of it.
_TABLE_SIZE = 1 << 17

#: Entries of a table one stage reads (:class:`_Tabled`): from the rows' smallest index on.
_WINDOW = 4096


class _Tabled(Schedule):
    """``schedule`` read from ``table`` (its NumPy values at ``0 .. len(table) - 1``) at traced
    indices inside the table, and evaluated as before elsewhere (a ``lax.cond``; NumPy indices
    call ``schedule`` itself).

    A rule set evaluates its schedules at every stage of the generic loop (Hi-C: the step,
    the perturbation and the commitment or tolerance, for every row); a power law is a ``pow``
    per row, which cost Hi-C three quarters of its stage. A table read costs a gather, and
    gives the values the NumPy engine reads (its :class:`~agents.schedules.ScheduleTable` is
    the same ``schedule(arange(size))``), bit for bit."""

    def __init__(self, schedule: Any, table: Any) -> None:
        self.schedule, self.table = schedule, table

    def __call__(self, n: Any) -> Any:
        if not isinstance(n, jax.Array):
            return self.schedule(n)
        size = self.table.shape[0]
        n = jnp.asarray(n)
        # A window of the table from the rows' smallest index (a slice, then a gather from
        # it): XLA's CPU compiler counts a gather's whole operand as bytes the loop touches,
        # and a loop that touches more than the small-loop threshold (jax_small_dots) is no
        # longer one native function.
        first, last = jnp.min(n), jnp.max(n)
        low = jnp.clip(first, 0, size - _WINDOW)
        window = jax.lax.dynamic_slice(self.table, (low,), (_WINDOW,))
        read = window[jnp.clip(n - low, 0, _WINDOW - 1)]  # outside the cond: none copied in

        def each(i: Any) -> Any:
            return jnp.broadcast_to(jnp.asarray(self.schedule(i)).astype(jnp.float64), i.shape)

        def direct(i: Any) -> Any:
            # Rows whose indices agree (every row of a fixed commitment) evaluate the
            # schedule once (a power law is a pow per row).
            if i.ndim == 0:
                return each(i)
            one = lambda i: jnp.broadcast_to(each(first), i.shape)  # noqa: E731
            return jax.lax.cond(first == last, one, each, i)

        # Every row inside the window: from the extremes (two scalars, not a reduction of
        # two comparisons per row).
        inside = (first >= low) & (last < low + _WINDOW)
        return jax.lax.cond(inside, lambda i: read, direct, n)


def _schedules(options: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(path, schedule)`` of the schedules among ``options``' fields (a dataclass, and the
    dataclasses in its fields, such as an ``AdaptiveCommitment``) worth a table: every
    :class:`~agents.schedules.Schedule` but :class:`~agents.schedules.Constant` (no cost) and
    :class:`~agents.schedules.PerRow` (one schedule per row)."""
    if not dataclasses.is_dataclass(options) or isinstance(options, type):
        return []
    out = []
    for f in dataclasses.fields(options):
        if not f.init:
            continue
        v, path = getattr(options, f.name), prefix + f.name
        if isinstance(v, Schedule):
            if not isinstance(v, (Constant, PerRow)):
                out.append((path, v))
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            out.extend(_schedules(v, path + "/"))
    return out


def _schedule_tables(options: Any, size: int) -> dict[str, np.ndarray]:
    """The tables of ``options``' costly schedules (:func:`_schedules`) at ``0 .. size - 1``,
    keyed by path; a schedule whose values over that range raise (a commitment length past
    2**62 stages) or are not element-wise keeps its own evaluation."""
    out = {}
    for path, schedule in _schedules(options):
        try:
            with np.errstate(all="ignore"):
                v = np.asarray(schedule(np.arange(size, dtype=np.int64)), dtype=np.float64)
        except (ValueError, TypeError, OverflowError, ArithmeticError):
            continue
        if v.shape == (size,):
            out[path] = v
    return out


def _with_tables(options: Any, tables: dict[str, Any], prefix: str = "") -> Any:
    """``options`` with each tabled schedule read from its table (:class:`_Tabled`); the
    options as they are where they cannot be rebuilt so."""
    if not tables:
        return options
    changes = {}
    for f in dataclasses.fields(options):
        if not f.init:
            continue
        v, path = getattr(options, f.name), prefix + f.name
        if path in tables:
            changes[f.name] = _Tabled(v, tables[path])
        elif any(p.startswith(path + "/") for p in tables):
            changes[f.name] = _with_tables(v, tables, path + "/")
    try:
        return dataclasses.replace(options, **changes)
    except (TypeError, ValueError):
        return options


def check_rules(game: Any, leader: Any, follower: Any) -> None:
    """Raise a ``ValueError`` naming what cannot run here, by declared capability."""
    if not game.array_api:
        raise ValueError(
            f"{type(game).__name__} declares array_api=False (NumPy payoffs); use backend='numpy'"
        )
    for role, agent in (("leader", leader), ("follower", follower)):
        caps = capabilities_of(agent)
        if caps is None or getattr(agent, "rules", None) is None:
            raise ValueError(
                f"the {role} {type(agent).__name__} is not a rule set (it has no capabilities); "
                "use backend='numpy'"
            )
        if not caps.pure:
            raise ValueError(
                f"the {role} {type(agent).__name__}'s rule set declares pure=False; use "
                "backend='numpy'"
            )
        if caps.needs_best_response and not getattr(game, "array_api_best_response", False):
            raise ValueError(
                f"the {role} {type(agent).__name__} calls {type(game).__name__}.best_response, "
                "a numerical solve in NumPy/SciPy that JAX cannot trace (the game declares "
                "array_api_best_response=False); use backend='numpy'"
            )


def _make_stage(
    game: Any,
    leader: Any,
    follower: Any,
    noise_std: float,
    max_cycles: int,
    options: tuple[Any, Any] | None = None,
):
    """The traced stage ``(t, sl, sf, obs_l, obs_f, key) -> (sl, sf, x, y, r1, r2)``: both rule
    sets act on what they observed (the box centres at an episode's first stage), the actions
    are projected, paid, and each rule set prepares and observes with its draws. ``options``
    replaces the faces' options (the same options with tabled schedules, :func:`_tabled`)."""
    L, F = leader.rules, follower.rules
    Lo, Fo = options if options is not None else (leader.options, follower.options)
    Ls, Fs = leader.spec, follower.spec
    S = leader.num_envs
    xl, xh = (np.asarray(a, np.float64) for a in (game.leader_low, game.leader_high))
    yl, yh = (np.asarray(a, np.float64) for a in (game.follower_low, game.follower_high))
    centre_x, centre_y = 0.5 * (xl + xh), 0.5 * (yl + yh)
    payoffs = small_dots(game.payoffs)

    def stage(t, sl, sf, obs_l, obs_f, key):
        start = (t % max_cycles) == 0
        obs_l = jnp.where(start, jnp.broadcast_to(centre_y, obs_l.shape), obs_l)
        obs_f = jnp.where(start, jnp.broadcast_to(centre_x, obs_f.shape), obs_f)
        x = jnp.clip(L.act(Lo, Ls, sl, obs_l), xl, xh)
        y = jnp.clip(F.act(Fo, Fs, sf, obs_f), yl, yh)
        r1, r2 = payoffs(x, y)

        def k(i):  # the stage's i-th key, derived where it is used (a draw may sit in a cond)
            return lambda: jax.random.fold_in(jax.random.fold_in(key, t), i)

        def words(player):  # the player's streams of raw bits (Rademacher signs)
            kw = jax.random.key_data(key)
            return lambda i, n: _words(kw, t, (player << 16) | i, n)

        if noise_std > 0.0:
            w = jax.random.normal(k(0)(), (2, S), jnp.float64)
            r1, r2 = r1 + noise_std * w[0], r2 + noise_std * w[1]
        new_l, req = L.prepare(Lo, Ls, sl, r1, y)
        new_l = L.observe(Lo, Ls, new_l, r1, y, _draws(k(1), req, S, words(1)))
        new_f, req = F.prepare(Fo, Fs, sf, r2, x)
        new_f = F.observe(Fo, Fs, new_f, r2, x, _draws(k(2), req, S, words(2)))
        return _like(new_l, sl), _like(new_f, sf), x, y, r1, r2

    # The rule sets' own products too (a follower's gradient of RandomQuadratic: y @ H):
    # short ones as multiply-adds (jax_small_dots), which keeps the loop one native function.
    return small_dots(stage)


def _carry(stage: Any, t0: Any, sl: dict, sf: dict, obs_l: Any, obs_f: Any, key: Any):
    """The states as the traced stage carries them: a rule set's NumPy state may hold a
    Python scalar where its traced stage holds one per row (a flag every row agrees on, in
    NumPy), or an empty array whose size the first observation fixes (Hi-C's adaptive
    ``prev_obs`` before it saw anything); the carry takes the stage's own shapes (an empty
    array starts as zeros, a scalar is spread to every row)."""
    sl = {k: jnp.asarray(v) for k, v in sl.items()}
    sf = {k: jnp.asarray(v) for k, v in sf.items()}

    def two(t, a, b):
        out = stage(t, a, b, obs_l, obs_f, key)
        return out[0], out[1]

    out_l, out_f = jax.eval_shape(two, t0, sl, sf)
    return _conform(sl, out_l), _conform(sf, out_f)


def _conform(st: dict, out: dict) -> dict:
    new = {}
    for k, v in st.items():
        o = out[k]
        if v.shape != o.shape and v.size == 0:
            new[k] = jnp.zeros(o.shape, o.dtype)
        else:
            new[k] = jnp.broadcast_to(v, o.shape).astype(o.dtype)
    return new


def _host_conform(st: dict, out: dict) -> dict:
    """:func:`_conform` on the host (NumPy arrays of the carried shapes and dtypes)."""
    new = {}
    for k, v in st.items():
        a, o = np.asarray(v), out[k]
        if a.shape != o.shape and a.size == 0:
            new[k] = np.zeros(o.shape, o.dtype)
        else:
            new[k] = np.broadcast_to(a, o.shape).astype(o.dtype)
    return new


def _columns(state: dict, keys: frozenset) -> dict:
    """``state`` as the stage loop carries it: the per-row vectors ``(S,)`` named by ``keys``
    as columns ``(S, 1)`` (see :func:`_rows`)."""
    return {k: v[:, None] if k in keys else v for k, v in state.items()}


def _rows(state: dict, keys: frozenset) -> dict:
    """The inverse of :func:`_columns`: the rule sets' own shapes."""
    return {k: v[:, 0] if k in keys else v for k, v in state.items()}


def _reads_obs(rules: Any, options: Any, spec: Any, state: dict, obs: Any) -> bool:
    """Whether ``rules.act`` reads what the player observed: whether the observation is an
    operand of any operation (or an output) of ``act``'s trace at these shapes."""
    closed = jax.make_jaxpr(lambda s, o: rules.act(options, spec, s, o))(state, obs)
    jaxpr = closed.jaxpr
    seen = set(jaxpr.invars[len(jax.tree.leaves(state)) :])
    used = [v for e in jaxpr.eqns for v in e.invars] + list(jaxpr.outvars)
    return any(not isinstance(v, jcore.Literal) and v in seen for v in used)


def _where(err: BaseException) -> str:
    """The project function (``module.function``) where a trace stopped: the innermost frame
    of ``err``'s traceback in ``agents`` or ``hic_envs``."""
    found = ""
    tb = err.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.split(".")[0] in ("agents", "hic_envs") and not module.startswith(
            "agents.compose.engines"
        ):
            code, owner = tb.tb_frame.f_code, tb.tb_frame.f_locals.get("self")
            name = getattr(code, "co_qualname", None)  # Python >= 3.11
            if name is None:
                name = code.co_name
                if owner is not None:
                    name = f"{type(owner).__name__}.{name}"
            found = f"{module}.{name}"
        tb = tb.tb_next
    return found


def _trace_error(leader: Any, follower: Any, err: Exception) -> ValueError:
    where = _where(err)
    return ValueError(
        f"{type(leader).__name__} x {type(follower).__name__}: a rule set declares pure=True "
        f"but does not trace under jax.jit"
        + (f": {where} calls NumPy-only code" if where else "")
        + f" ({type(err).__name__}: {str(err).splitlines()[0][:120]}); use backend='numpy'"
    )


def run_rules(
    game: Any,
    leader: Any,
    follower: Any,
    stages: int,
    *,
    seed: int = 0,
    t0: int = 0,
    noise_std: float = 0.0,
    max_cycles: int = 1000,
) -> tuple[dict, dict]:
    """Play ``stages`` stages from the faces' current states (they must have been reset);
    returns the final states ``(leader_state, follower_state)`` as dicts of NumPy arrays
    (the stage function of :class:`RulesRunner`, without records or checks).

    Args:
        game, leader, follower: the game and two rule-set faces (:class:`agents.face.RuleAgent`)
            built with the same ``num_envs``.
        stages: stages to play.
        seed: keys the draws and the payoff noise.
        t0: the stage count at the start (episode boundaries fall where ``t % max_cycles``
            is 0).
        noise_std, max_cycles: as for the NumPy engine.

    Raises:
        ValueError: for a game or rule set that declares it cannot be traced, or one that
            fails to trace although it declares it can (the error's type and first line).
    """
    check_rules(game, leader, follower)
    S = leader.num_envs
    stage = _make_stage(game, leader, follower, float(noise_std), int(max_cycles))

    def program(sl, sf, key):
        obs_l, obs_f = jnp.zeros((S, game.d2)), jnp.zeros((S, game.d1))
        sl, sf = _carry(stage, t0, sl, sf, obs_l, obs_f, key)

        def body(t, c):
            a, b, x, y, _, _ = stage(t, c[0], c[1], c[2], c[3], key)
            return a, b, y, x

        sl, sf, *_ = jax.lax.fori_loop(t0, t0 + stages, body, (sl, sf, obs_l, obs_f))
        return sl, sf

    with jax.enable_x64(True):
        try:
            sl, sf = jax.jit(program)(leader.state, follower.state, jax.random.key(seed))
        except (jax.errors.JAXTypeError, TypeError) as err:
            raise _trace_error(leader, follower, err) from None
        return (
            {k: np.asarray(v) for k, v in sl.items()},
            {k: np.asarray(v) for k, v in sf.items()},
        )


_POW10 = 10 ** np.arange(19, dtype=np.int64)


def _keep(thin: Thinning, n: Any) -> Any:
    """:meth:`Thinning.keep` on traced update indices."""
    if thin.none:
        return n == 0
    if thin.log_digits is None:
        return n % thin.every == 0
    digits = jnp.searchsorted(jnp.asarray(_POW10), n, side="right")
    step = jnp.asarray(_POW10)[jnp.maximum(digits - thin.log_digits, 0)]
    return n % step == 0


def _to_face(state: dict, template: dict) -> dict:
    """A traced state as its face holds it: where the face's state holds a Python scalar and
    the traced one an array whose entries agree, that scalar."""
    out = {}
    for k, v in state.items():
        a = np.asarray(v)
        ref = template.get(k)
        if not isinstance(ref, np.ndarray) and a.ndim and a.size and np.all(a == a.flat[0]):
            a = a.flat[0]
        out[k] = a
    return out


class RulesRunner:
    """The JAX engine's generic loop with :class:`~agents.compose.engines.runner.BatchRunner`'s
    face (``run``, ``stage``, ``updates``, ``leader``/``follower``, ``thinning``,
    ``state_dict``/``load_state_dict``).

    Args:
        game, leader, follower, seed, noise_std, max_cycles, record: as for
            :class:`~agents.compose.engines.runner.BatchRunner`. The faces are reset with the
            seeds the NumPy engine derives from ``seed``; they hold the final states after
            each :meth:`run`.
        buffer_rows: records held on the device before the loop returns them to the host
            (at least ``S``; default ``min(64 S, 2**18)``).

    Raises:
        ValueError: for a pair or game that declares it cannot be traced (see
            :func:`check_rules`), or a rule set that fails to trace (on the first
            :meth:`run`).
    """

    def __init__(
        self,
        game: Any,
        leader: Any,
        follower: Any,
        seed: int | None = None,
        *,
        noise_std: float = 0.0,
        max_cycles: int = 1000,
        record: RecordLike = "all",
        buffer_rows: int | None = None,
    ) -> None:
        check_rules(game, leader, follower)
        S = leader.num_envs
        if follower.num_envs != S:
            raise ValueError(
                f"follower was built with num_envs={follower.num_envs}, the leader with {S}"
            )
        if getattr(leader, "dim", game.d1) != game.d1 or getattr(follower, "dim", game.d2) != (
            game.d2
        ):
            raise ValueError(
                f"the agents' dimensions ({leader.dim}, {follower.dim}) are not the game's "
                f"({game.d1}, {game.d2})"
            )
        self.stage_game = Stage(game, noise_std)
        self.noise_std = self.stage_game.noise_std
        self.max_cycles = int(max_cycles)
        self.game, self.leader, self.follower, self.num_envs = game, leader, follower, S
        self.thinning = as_thinning(record)
        env_seed, leader_ss, follower_ss = derive_seeds(seed)
        leader.reset(seed=leader_ss)
        follower.reset(seed=follower_ss)
        words = np.random.SeedSequence(env_seed).spawn(2)[1].generate_state(2, dtype=np.uint32)
        self._key = words
        #: Stages played so far.
        self.stage = 0
        self._n_seen = np.zeros(S, dtype=np.int64)
        self._started = False
        self._obs_l = np.zeros((S, game.d2))
        self._obs_f = np.zeros((S, game.d1))
        if buffer_rows is None:
            buffer_rows = min(64 * S, 1 << 18)
        if isinstance(buffer_rows, bool) or not isinstance(buffer_rows, (int, np.integer)):
            raise TypeError(f"buffer_rows must be an integer, got {buffer_rows!r}")
        self._capacity = max(S, int(buffer_rows))
        self._program: Any = None
        self._tables: tuple[dict, ...] = ({}, {})  # the schedules' tables (leader's, follower's)
        self._shapes: Any = None  # the carried states' shapes and dtypes
        self._check_trace()

    def _check_trace(self) -> None:
        """Trace one stage (nothing is compiled or run): a rule set or game function that
        calls NumPy-only code is refused here, by the error that stopped its trace."""
        game, S = self.game, self.num_envs
        stage = _make_stage(game, self.leader, self.follower, self.noise_std, self.max_cycles)
        with jax.enable_x64(True):
            obs_l, obs_f = jnp.zeros((S, game.d2)), jnp.zeros((S, game.d1))
            key = jax.random.key(0)
            try:
                jax.eval_shape(
                    lambda a, b: _carry(stage, 0, a, b, obs_l, obs_f, key),
                    self.leader.state,
                    self.follower.state,
                )
            except (jax.errors.JAXTypeError, TypeError) as err:
                raise _trace_error(self.leader, self.follower, err) from None

    @property
    def updates(self) -> np.ndarray:
        """Leader updates made so far, per batch row, shape ``(S,)``."""
        return self._n_seen.copy()

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """The runner's state as a flat dict of arrays: ``leader/...`` and ``follower/...``
        (the faces' state dicts), ``key`` (the generator's key words), ``stage``,
        ``n_seen``, ``started``, ``obs_l``/``obs_f``."""
        out: dict[str, np.ndarray] = {
            "key": self._key.copy(),
            "stage": np.asarray(self.stage, dtype=np.int64),
            "n_seen": self._n_seen.copy(),
            "started": np.asarray(self._started),
            "obs_l": self._obs_l.copy(),
            "obs_f": self._obs_f.copy(),
        }
        return {**out, **agents_state(self.leader.state_dict(), self.follower.state_dict())}

    def rows_state_dict(self, rows: slice) -> dict[str, np.ndarray]:
        """The :meth:`state_dict` of the rows ``rows`` as a runner of those rows holds it: their
        counters and observations, the learners' states of those rows
        (:meth:`~agents.face.RuleAgent.rows_state_dict`) and the runner's key (a JAX batch
        draws for all its rows from one key): what a batched sweep writes as the checkpoint of
        the configuration those rows are.

        Raises:
            ValueError: for ``rows`` that are not a slice of this runner's rows.
        """
        check_rows(rows, self.num_envs)
        out: dict[str, np.ndarray] = {
            "key": self._key.copy(),
            "stage": np.asarray(self.stage, dtype=np.int64),
            "n_seen": self._n_seen[rows].copy(),
            "started": np.asarray(self._started),
            "obs_l": self._obs_l[rows].copy(),
            "obs_f": self._obs_f[rows].copy(),
        }
        learners = (self.leader.rows_state_dict(rows), self.follower.rows_state_dict(rows))
        return {**out, **agents_state(*learners)}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore a state saved by :meth:`state_dict` (from a runner built alike).

        Raises:
            ValueError: for a missing key or one that does not fit this runner.
        """
        keys = ("key", "stage", "n_seen", "started", "obs_l", "obs_f")
        n_seen = saved_updates(state, keys, self.num_envs, "JAX ")
        load_agents_state(state, self.leader, self.follower)
        self._key = np.asarray(state["key"], dtype=np.uint32).copy()
        self.stage = int(np.asarray(state["stage"]))
        self._n_seen = n_seen.astype(np.int64, copy=True)
        self._started = bool(np.asarray(state["started"]))
        self._obs_l = np.array(state["obs_l"], dtype=np.float64)
        self._obs_f = np.array(state["obs_f"], dtype=np.float64)

    # ------------------------------------------------------------------ play
    def _build(self) -> Any:
        game, leader, follower, S = self.game, self.leader, self.follower, self.num_envs
        L, F = leader.rules, follower.rules
        paid_l = not leader.capabilities.reward_free
        paid_f = not follower.capabilities.reward_free
        thin, C = self.thinning, self._capacity
        d1, d2 = game.d1, game.d2

        def program(sl, sf, obs_l, obs_f, n_seen, t0, end, key, tables):
            Lo = _with_tables(leader.options, tables[0])
            Fo = _with_tables(follower.options, tables[1])
            stage = _make_stage(
                game, leader, follower, self.noise_std, self.max_cycles, options=(Lo, Fo)
            )
            sl, sf = _carry(stage, t0, sl, sf, obs_l, obs_f, key)
            vl, vf = (frozenset(k for k, v in st.items() if v.shape == (S,)) for st in (sl, sf))
            buf = {
                "row": jnp.zeros(C, jnp.int64),
                "update": jnp.zeros(C, jnp.int64),
                "stage": jnp.zeros(C, jnp.int64),
                "leader_strategies": jnp.zeros((C, d1)),
                "follower_strategies": jnp.zeros((C, d2)),
            }
            rows = jnp.arange(S, dtype=jnp.int64)

            def cond(c):
                return (c["t"] < end) & (c["count"] + S <= C)

            def body(c, obs=True):
                t = c["t"]
                a, b, x, y, r1, r2 = stage(
                    t, _rows(c["sl"], vl), _rows(c["sf"], vf), c["obs_l"], c["obs_f"], key
                )
                r = c["r_sum"][:, 0]
                if paid_l:
                    r = r + r1
                if paid_f:
                    r = r + r2
                counts = jnp.asarray(L.update_counts(Lo, a)).astype(jnp.int64)
                moved = counts != c["n_seen"]
                bf, count = c["buf"], c["count"]
                if not thin.none:  # records of the updates kept, written at their places
                    keep = moved & _keep(thin, counts)
                    pos = jnp.where(keep, count + jnp.cumsum(keep) - 1, C)
                    xs, ys = L.strategy(Lo, a), F.strategy(Fo, b)
                    put = {
                        "row": rows,
                        "update": counts,
                        "stage": jnp.full(S, t + 1),
                        "leader_strategies": xs,
                        "follower_strategies": ys,
                    }
                    bf = {f: bf[f].at[pos].set(put[f], mode="drop") for f in bf}
                    count = count + jnp.sum(keep)
                return {
                    "sl": _columns(a, vl),
                    "sf": _columns(b, vf),
                    "obs_l": y if obs else c["obs_l"],
                    "obs_f": x if obs else c["obs_f"],
                    # Unrecorded, n_seen is only read after the loop: the final counts.
                    "n_seen": c["n_seen"] if thin.none else jnp.where(moved, counts, c["n_seen"]),
                    "t": t + 1,
                    "count": count,
                    "r_sum": r[:, None],
                    "buf": bf,
                }

            c = {
                "sl": _columns(sl, vl),
                "sf": _columns(sf, vf),
                "obs_l": obs_l,
                "obs_f": obs_f,
                "n_seen": n_seen,
                "t": t0,
                "count": jnp.int64(0),
                "r_sum": jnp.zeros((S, 1)),
                "buf": buf,
            }
            shape = functools.partial(
                jax.tree.map, lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype)
            )
            peel = C >= 2 * S and not (
                _reads_obs(L, Lo, leader.spec, shape(sl), shape(obs_l))
                or _reads_obs(F, Fo, follower.spec, shape(sf), shape(obs_f))
            )
            if peel:
                # Neither rule set acts on what it observed: the stages but the last carry
                # no observations (two arrays fewer written per stage), and the last one,
                # played apart, leaves them for the next call. Room for the last stage's
                # records is kept: each stage of the loop starts with room for two.
                def cond2(c):
                    return (c["t"] < end - 1) & (c["count"] + 2 * S <= C)

                c = jax.lax.while_loop(cond2, functools.partial(body, obs=False), c)
                c = body(c)
            else:
                c = jax.lax.while_loop(cond, body, c)
            c["sl"], c["sf"] = _rows(c["sl"], vl), _rows(c["sf"], vf)
            c["r_sum"] = c["r_sum"][:, 0]
            if thin.none:  # every stage sets n_seen to the counts (counts != n_seen: moved)
                c["n_seen"] = jnp.asarray(L.update_counts(Lo, c["sl"])).astype(jnp.int64)
            return c

        return jax.jit(program)

    def run(self, stages: int) -> BatchHistory:
        """Play ``stages`` more stages; return the (thinned) records of updates made in them.

        Raises:
            NonFiniteError: if a reward read or a strategy is NaN or infinite at the end of
                the chunk.
        """
        if isinstance(stages, bool) or not isinstance(stages, (int, np.integer)) or stages < 0:
            raise ValueError(f"stages must be a non-negative integer, got {stages!r}")
        leader, follower, S = self.leader, self.follower, self.num_envs
        rec: dict[str, list] = {f: [] for f in RECORD_FIELDS}
        if not self._started:
            self._started = True
            rec["row"].append(np.arange(S))
            rec["update"].append(np.zeros(S, dtype=np.int64))
            rec["stage"].append(np.zeros(S, dtype=np.int64))
            rec["leader_strategies"].append(leader.strategies)
            rec["follower_strategies"].append(follower.strategies)
        t0 = self.stage
        end = t0 + int(stages)
        if stages:
            self._play(t0, end, rec)
        self.stage = end
        return chunk_history(
            rec,
            leader.strategies,
            follower.strategies,
            self.game,
            self.stage,
            "JAX backend: a payoff or step overflowed, or an agent returned NaN; results up to "
            "the previous chunk are kept",
        )

    def _play(self, t0: int, end: int, rec: dict[str, list]) -> None:
        leader, follower = self.leader, self.follower
        tmpl_l, tmpl_f = dict(leader.state), dict(follower.state)
        with jax.enable_x64(True):
            if self._program is None:
                self._program = self._build()
                self._tables = tuple(
                    {
                        k: jax.device_put(v)
                        for k, v in _schedule_tables(a.options, _TABLE_SIZE).items()
                    }
                    for a in (leader, follower)
                )
                # The states as the loop carries them (an adaptive Hi-C's empty prev_obs, a
                # flag held as a Python scalar): given so from the first call, the program is
                # traced and compiled once, not again at the second call.
                stage = _make_stage(self.game, leader, follower, self.noise_std, self.max_cycles)
                obs = (
                    jnp.zeros((self.num_envs, self.game.d2)),
                    jnp.zeros((self.num_envs, self.game.d1)),
                )
                self._shapes = jax.eval_shape(
                    lambda a, b: _carry(stage, 0, a, b, *obs, jax.random.key(0)), tmpl_l, tmpl_f
                )
            tables = self._tables
            key = jax.random.wrap_key_data(jax.device_put(self._key))
            sl = _host_conform(tmpl_l, self._shapes[0])
            sf = _host_conform(tmpl_f, self._shapes[1])
            obs_l, obs_f, n_seen = self._obs_l, self._obs_f, self._n_seen
            t, r_sum = t0, np.zeros(self.num_envs)
            while t < end:
                try:
                    c = self._program(
                        sl, sf, obs_l, obs_f, n_seen, np.int64(t), np.int64(end), key, tables
                    )
                except (jax.errors.JAXTypeError, TypeError) as err:
                    raise _trace_error(leader, follower, err) from None
                count = int(c["count"])
                for f in RECORD_FIELDS:
                    rec[f].append(np.asarray(c["buf"][f][:count]))
                sl, sf, obs_l, obs_f = c["sl"], c["sf"], c["obs_l"], c["obs_f"]
                n_seen, t = c["n_seen"], int(c["t"])
                r_sum = r_sum + np.asarray(c["r_sum"])
        self._n_seen = np.array(n_seen, dtype=np.int64)
        self._obs_l, self._obs_f = np.array(obs_l), np.array(obs_f)
        for agent, st, tmpl in ((leader, sl, tmpl_l), (follower, sf, tmpl_f)):
            face = agent.state_dict()
            agent.load_state_dict({**face, **_to_face(st, tmpl)})
        bad = ~np.isfinite(r_sum)
        if bad.any():
            raise nonfinite_read("a player", "reward", self.game, bad, t0, end, "JAX")
        # The values the rule sets read from the game (their read checks, folded at every
        # stage in the program), once per chunk, as the NumPy engine asks.
        check_reads(leader, follower, self.game, t0, end, "JAX")
