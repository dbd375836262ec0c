"""The Hi-C leader: Hierarchical learning with Commitments (Algorithm 1)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from agents.base import SeedLike, box_of
from agents.face import RuleAgent
from agents.presets import hic_leader_kwargs
from agents.rules import (
    DIRECTIONS,
    baseline_update,
    commit,
    direction_estimate,
    estimate_step,
    momentum_average,
    namespace,
    on_sphere,
    spsa_step,
)
from agents.rules.protocol import (
    Capabilities,
    Draw,
    Spec,
    cache_field,
    collapse,
    initial_strategy,
    m_and,
    m_not,
    m_or,
    select,
    slice_rows,
    uniform_init_draws,
)
from agents.schedules import (
    MAX_COMMITMENT,
    PowerLaw,
    ScheduleTable,
    as_schedule,
    check_spsa_schedules,
)

__all__ = ["HIC_RULES", "AdaptiveCommitment", "HiCLeader", "HiCOptions", "HiCRules"]


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclasses.dataclass(frozen=True)
class AdaptiveCommitment:
    """End a commitment interval once the follower has settled (beyond the paper).

    The interval of update ``n`` ends at the first stage ``j >= min_length`` of the interval at
    which the follower's observed action moved by less than ``tol_n * delta_n`` (max-norm)
    since the interval's previous stage, and at stage ``max_length`` at the latest. It uses
    only what the leader observes, so the leader stays uncoupled and needs neither ``beta``
    nor ``mu``.

    Movement is only ever measured between two stages of the *same* interval, and the earliest
    end is the interval's second stage: in a simultaneous stage game the follower's action at
    an interval's first stage was chosen before it saw ``x~_n``, so only from the second stage
    on has it reacted to the new commitment. (Comparing the first stage with the previous
    interval's last one would end the interval before the follower reacted at all, which
    drives the leader towards the Nash equilibrium.)

    What it guarantees: for a follower whose distance to ``r(x~_n)`` contracts by ``rho``
    per stage, a move below ``tol_n delta_n`` means a remaining distance of about
    ``tol_n delta_n rho / (1 - rho)``, so ``epsilon_n / delta_n ~ tol_n / (1 - rho)``. With a
    constant ``tol`` that ratio is bounded but does not vanish: the bias term ``eta_n`` of
    Eq. (16-19) stays ``O(tol / (1 - rho))`` and the leader settles off the DSE, towards the
    Nash equilibrium. A decaying ``tol_n`` (the default, ``0.01 / (n + 1)``) makes the ratio
    vanish as Assumption 4.5 asks, for any contraction rate: the interval then grows like
    ``ln(n) / (1 - rho)``, as Corollary 4.11's ``k_n`` does with ``p = 1``, without the leader
    knowing ``rho = 1 - beta mu``. A noisy follower (whose steps are not a contraction) can
    look settled at a random dip of its noise; see ``scripts/adaptive_commitment.py`` for
    measurements of both.

    Attributes:
        tol: settling tolerance relative to ``delta_n``: a number or a schedule of the
            update index ``n`` (> 0). Default ``PowerLaw(0.01, 1.0)``, i.e. ``0.01 / (n + 1)``.
        min_length: fewest stages per interval (>= 2, see above).
        max_length: most stages per interval (>= min_length).
    """

    tol: Any = PowerLaw(0.01, 1.0)
    min_length: int = 2
    max_length: int = 10_000

    def __post_init__(self) -> None:
        object.__setattr__(self, "tol", as_schedule(self.tol, "tol"))
        object.__setattr__(self, "min_length", _positive_int("min_length", self.min_length))
        object.__setattr__(self, "max_length", _positive_int("max_length", self.max_length))
        if self.min_length < 2:
            raise ValueError(
                f"min_length must be >= 2, got {self.min_length}: the follower's action at an "
                "interval's first stage was chosen before it saw the new commitment, so "
                "settling can only be judged from the second stage on"
            )
        if self.max_length > MAX_COMMITMENT:
            raise ValueError(
                f"max_length={self.max_length} exceeds 2**62 stages, the largest interval "
                "that fits in int64 stage counters"
            )
        if self.max_length < self.min_length:
            raise ValueError(
                f"max_length={self.max_length} must be >= min_length={self.min_length}"
            )


def _weights(name: str, value: Any) -> Any:
    """``baseline``: None, a weight in ``[0, 1)``, or a per-row array of them."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        w = np.asarray(value, dtype=np.float64)
        if w.ndim != 1 or not np.all((w >= 0.0) & (w < 1.0)):
            raise ValueError(f"{name} must be None or weights in [0, 1), got {value!r}")
        return w
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be None or a number in [0, 1), got {value!r}")
    if not (0.0 <= float(value) < 1.0):
        raise ValueError(f"{name} must be None or a weight in [0, 1), got {value!r}")
    return float(value)


def _momentum(value: Any) -> float | None:
    """``momentum``: None or a weight ``beta`` in ``[0, 1)``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"momentum must be None or a number in [0, 1), got {value!r}")
    if not (0.0 <= float(value) < 1.0):  # NaN fails too
        raise ValueError(f"momentum must be None or a weight in [0, 1), got {value!r}")
    return float(value)


def _directions(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"directions must be one of {DIRECTIONS}, got {value!r}")
    if value not in DIRECTIONS:
        raise ValueError(f"directions must be one of {DIRECTIONS}, got {value!r}")
    return value


def _burn_in(value: Any) -> Any:
    if isinstance(value, (list, tuple, np.ndarray)):
        b = np.asarray(value)
        if b.ndim != 1 or b.dtype.kind not in "iu" or np.any(b < 0):
            raise ValueError(f"burn_in must be a non-negative integer, got {value!r}")
        return b.astype(np.int64)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"burn_in must be a non-negative integer, got {value!r}")
    return int(value)


@dataclasses.dataclass(frozen=True)
class HiCOptions:
    """The Hi-C leader's options (see :class:`HiCLeader` for what each does).

    Attributes:
        step_size: ``alpha_n``, a schedule or a number (or per row: an array, or a
            :class:`~agents.schedules.PerRow`).
        perturbation: ``delta_n``, likewise.
        commitment: ``k_n``, a schedule or a positive integer (or per row), or an
            :class:`AdaptiveCommitment`.
        init: the initial mean strategy ``x_0`` (uniform over ``X`` when None).
        baseline: moving-average weight ``lam`` in ``[0, 1)`` (or per row), or None.
        average_last: ``m >= 1`` stages to average over, or None.
        two_sided: the antithetic two-interval estimate.
        burn_in: initial intervals that make no step (or per row).
        baseline_init: the baseline's initial value, or None.
        interval_schedules: index ``delta`` and ``k`` by intervals completed.
        momentum: weight ``beta`` in ``[0, 1)`` of the estimate's moving average, or None.
        directions: the perturbation distribution, one of ``"rademacher"`` (Algorithm 1),
            ``"gaussian"``, ``"sphere"``.
    """

    step_size: Any
    perturbation: Any
    commitment: Any
    init: Any = None
    baseline: Any = None
    average_last: int | None = None
    two_sided: bool = False
    burn_in: Any = 0
    baseline_init: float | None = None
    interval_schedules: bool = False
    momentum: float | None = None
    directions: str = "rademacher"
    _cache: dict = cache_field()

    def __post_init__(self) -> None:
        put = functools.partial(object.__setattr__, self)
        put("step_size", as_schedule(self.step_size, "step_size"))
        put("perturbation", as_schedule(self.perturbation, "perturbation"))
        commitment = self.commitment
        if not isinstance(commitment, AdaptiveCommitment):
            if isinstance(commitment, (float, np.floating)) and not float(commitment).is_integer():
                raise ValueError(f"commitment must be a whole number of stages, got {commitment!r}")
            put("commitment", as_schedule(commitment, "commitment"))
        put("baseline", _weights("baseline", self.baseline))
        if self.average_last is not None:
            put("average_last", _positive_int("average_last", self.average_last))
        if not isinstance(self.two_sided, bool | np.bool_):
            raise TypeError(f"two_sided must be a bool, got {self.two_sided!r}")
        put("two_sided", bool(self.two_sided))
        if self.two_sided and self.baseline is not None:
            raise ValueError(
                "baseline has no effect with two_sided=True (the payoff level cancels in "
                "s+ - s-); pass one or the other"
            )
        put("burn_in", _burn_in(self.burn_in))
        b0 = self.baseline_init
        if b0 is not None:
            if self.baseline is None:
                raise ValueError("baseline_init needs a baseline weight (baseline=lam)")
            if isinstance(b0, bool) or not isinstance(b0, (int, float, np.integer, np.floating)):
                raise TypeError(f"baseline_init must be None or a number, got {b0!r}")
            if not np.isfinite(b0):
                raise ValueError(f"baseline_init must be finite, got {b0!r}")
            put("baseline_init", float(b0))
        put("interval_schedules", bool(self.interval_schedules))
        put("momentum", _momentum(self.momentum))
        put("directions", _directions(self.directions))
        if self.two_sided and (np.any(self.burn_in) or self.interval_schedules):
            raise ValueError(
                "burn_in and interval_schedules are not defined with two_sided=True (an "
                "antithetic pair must share delta_n); pass one or the other"
            )

    @property
    def adaptive(self) -> bool:
        """Whether the commitment is an :class:`AdaptiveCommitment`."""
        return isinstance(self.commitment, AdaptiveCommitment)

    @property
    def draw_kind(self) -> str:
        """The :class:`~agents.rules.protocol.Draw` kind of ``Delta``: Rademacher signs, or
        standard normals (``"gaussian"``, and ``"sphere"`` before normalising)."""
        return "rademacher" if self.directions == "rademacher" else "normal"

    @property
    def plain_step(self) -> bool:
        """Whether the step is Eq. (11) itself (Rademacher directions, no momentum)."""
        return self.momentum is None and self.directions == "rademacher"


def _table(options: HiCOptions, name: str, schedule: Any) -> ScheduleTable:
    """The table of ``schedule`` kept in the options' cache (values only, not state)."""
    t = options._cache.get(name)
    if t is None or t.schedule is not schedule:
        t = options._cache[name] = ScheduleTable(schedule, name)
    return t


_no_context = contextlib.nullcontext()


def _cast(xp: Any, a: Any, like: Any) -> Any:
    return a if xp is np else xp.asarray(a, dtype=like.dtype)


class HiCRules:
    """The rule set of the Hi-C leader (Algorithm 1 and every option of :class:`HiCLeader`).

    State (all rows ``S``): ``x`` mean strategies ``(S, d)``; ``n`` updates and ``j``
    intervals completed ``(S,)``; ``t`` stages observed; ``start`` the stage each interval
    began, ``k`` its length (or maximum length) ``(S,)``; ``delta``, ``Delta``, ``sign``,
    ``xt`` the interval's perturbation and committed strategy; ``s_plus`` (two-sided), ``b``,
    ``b_ready`` (baseline); ``ring``, ``watch_from`` (``average_last``); ``threshold``,
    ``prev_obs``, ``prev_t`` (adaptive); ``g`` the estimate's moving average ``(S, d)``
    (``momentum``); ``next_event`` the stage count of the next event;
    ``begin``, ``fresh`` the rows whose interval ended at this stage (and of those, the ones
    that draw a fresh direction), set by ``prepare`` (the interval *end*) and consumed by
    ``observe`` (the interval *begin*): ``(S,)`` masks, or under NumPy the Python bools
    ``True``/``False`` when every row or none agrees; ``updates`` the total of ``n``.

    Draws: ``"x0"`` (uniform, at init when ``init`` is None) and ``"Delta"`` (Rademacher
    ``(d,)`` per row, or standard normal with ``directions="gaussian"`` or ``"sphere"``, the
    latter normalised in ``observe``), at init and for the rows that begin an interval with a
    fresh direction: first the rows that make no step, then the ones that step, as
    Algorithm 1 drew them).
    """

    capabilities = Capabilities(fast_forward=True, draws=("x0", "Delta"))

    # ------------------------------------------------------------------ init
    def init_draws(self, options: HiCOptions, spec: Spec, num_rows: int) -> tuple[Draw, ...]:
        delta = Draw("Delta", options.draw_kind, (spec.dim,))
        return (*uniform_init_draws(options.init, spec), delta)

    def init(self, options: HiCOptions, spec: Spec, num_rows: int, draws: dict) -> dict:
        S, d = num_rows, spec.dim
        b0 = 0.0 if options.baseline_init is None else options.baseline_init
        state: dict[str, Any] = {
            "x": initial_strategy(options.init, spec, S, draws),
            "n": np.zeros(S, dtype=np.int64),
            "t": 0,
            "start": np.zeros(S, dtype=np.int64),
            "k": np.zeros(S, dtype=np.int64),
            "delta": np.zeros(S),
            "Delta": np.zeros((S, d)),
            "xt": np.zeros((S, d)),
            "sign": np.ones(S),
            "s_plus": np.zeros(S),
            "b": np.full(S, b0),
            "b_ready": np.full(S, options.baseline_init is not None),
            "j": np.zeros(S, dtype=np.int64),
            "next_event": 0,
            "begin": True,
            "fresh": True,
            "updates": 0,
        }
        if options.momentum is not None:
            state["g"] = np.zeros((S, d))
        if options.average_last is not None:
            state["ring"] = np.zeros((S, options.average_last))
            state["watch_from"] = np.zeros(S, dtype=np.int64)
        if options.adaptive:
            state["threshold"] = np.zeros(S)
            state["prev_obs"] = np.zeros((S, spec.obs_dim or 0))
            state["prev_t"] = -1
        return self.observe(options, spec, state, None, None, draws)

    # ------------------------------------------------------------------ play
    def act(self, options: HiCOptions, spec: Spec, state: dict, obs: Any) -> Any:
        return state["xt"]  # Alg. 1, line 7: play x~_n for the whole interval

    def strategy(self, options: HiCOptions, state: dict) -> Any:
        return state["x"]

    def update_counts(self, options: HiCOptions, state: dict) -> Any:
        return state["n"]

    def updates(self, options: HiCOptions, state: dict) -> Any:
        return state["updates"]

    def quiet_stages(self, options: HiCOptions, state: dict) -> int:
        """Stages before the next interval event (Alg. 1, lines 6-9: the leader plays
        ``x~_n`` and records nothing until the interval's last stage or its
        ``average_last`` window or adaptive watch)."""
        return max(int(state["next_event"]) - int(state["t"]) - 1, 0)

    def skip(self, options: HiCOptions, state: dict, stages: int) -> dict:
        return {**state, "t": state["t"] + stages}

    def measurement(
        self, options: HiCOptions, spec: Spec, state: dict, s: Any, y: Any, done: Any
    ) -> Any:
        """The measured payoff ``s_n`` where intervals end (``done``): Hi-C uses what it
        observed, ``s`` (last stage, or the window mean); ``y`` is the follower's last
        action (the oracle variant, :class:`agents.baselines.OracleRules`, reads it)."""
        return s

    def prepare(
        self, options: HiCOptions, spec: Spec, state: dict, reward: Any, obs: Any
    ) -> tuple[dict, tuple[Draw, ...]]:
        """The interval *end*: record the stage, close the intervals that end (measure,
        baseline, SPSA step of Eq. 11), and ask for the fresh directions of the next ones.

        Masks are arrays, or under NumPy the Python bools ``True``/``False`` where every row
        or none agrees (:func:`~agents.rules.protocol.collapse`): the common case of a fixed
        commitment, where every row's interval ends at once, then costs no selections."""
        xp = namespace(state["x"], reward)
        t = state["t"] + 1
        start, k = state["start"], state["k"]
        played = t - start  # stages played in each row's interval
        new = {**state, "t": t}
        m = options.average_last
        if m is not None:
            rec = played >= state["watch_from"]
            slot = played % m
            hit = (xp.arange(m)[None, :] == slot[:, None]) & rec[:, None]
            new["ring"] = xp.where(hit, reward[:, None], state["ring"])
        done = played >= k
        if options.adaptive:
            ac = options.commitment
            prev = state["prev_obs"]
            if prev.shape != obs.shape:  # before the first observation fixed its dimension
                prev = obs
            moved = xp.max(xp.abs(obs - prev), axis=1)
            # min_length >= 2: both stages compared lie in this interval.
            settled = (played >= ac.min_length) & (moved < state["threshold"])
            done = done | ((state["prev_t"] == t - 1) & settled)
            new["prev_obs"] = np.array(obs) if xp is np else obs
            new["prev_t"] = t
        done = collapse(done)
        if done is False:
            return new, ()
        if m is not None:
            ring = new["ring"]
            count = xp.minimum(played, m)
            with np.errstate(over="ignore", invalid="ignore"):  # an overflowed sum is redone
                s = xp.sum(ring, axis=1) / count
                # The sum overflowed (finite payoffs near 1.8e308): the mean of the scaled
                # terms is finite. Only then, so other results stay bit for bit the same.
                bad = xp.any(m_and(done, ~xp.isfinite(s)))
                if xp is not np or bad:
                    s = xp.where(bad, xp.sum(ring / count[:, None], axis=1), s)
        else:
            s = reward  # Alg. 1, line 8: the payoff at the interval's last stage
        s = self.measurement(options, spec, state, s, obs, done)
        return self._finish(options, spec, new, done, s, xp)

    def _finish(
        self, options: HiCOptions, spec: Spec, st: dict, done: Any, s: Any, xp: Any
    ) -> tuple[dict, tuple[Draw, ...]]:
        """Close the intervals of ``done`` whose measured payoffs are ``s``."""
        j = st["j"]
        # Burn-in intervals make no step.
        no_burn = isinstance(options.burn_in, int) and options.burn_in == 0
        burn = False if no_burn else collapse(j < options.burn_in)
        st["j"] = select(done, j + 1, j)
        if options.two_sided:
            first = collapse(m_and(done, st["sign"] > 0))
            s_plus = select(first, s, st["s_plus"])
            st["s_plus"] = s_plus
            st["sign"] = select(first, -1.0, st["sign"])  # same Delta_n, at x_n - delta Delta
            step = m_and(done, m_not(first))
            # Halves first: (s+ - s-) / 2 overflows for payoffs near 1.8e308 of opposite
            # signs; halving is exact, so the result is otherwise the same bit for bit.
            with np.errstate(invalid="ignore", over="ignore"):
                g_scale = s_plus / 2.0 - s / 2.0
            warm = False
        elif options.baseline is not None:
            ready = collapse(st["b_ready"])
            # b_n: made from intervals before Delta_n was drawn
            g_scale, b_new = baseline_update(st["b"], ready, s, options.baseline)
            st["b"] = select(done, b_new, st["b"])
            st["b_ready"] = select(done, True, st["b_ready"])
            step = collapse(m_and(m_and(done, ready), m_not(burn)))
            warm = collapse(m_and(done, m_not(step)))  # warm-up or burn-in: not an update
        else:
            step = collapse(m_and(done, m_not(burn)))
            warm = collapse(m_and(done, burn))  # burn-in: not an update
            g_scale = s
        if step is not False:
            n = st["n"]
            alpha = self._values(options, "step_size", options.step_size, n, xp)
            x = st["x"]
            with np.errstate(all="ignore") if step is not True else _no_context:
                # rows that do not step are not kept
                if options.plain_step:
                    # Eq. (11): x_{n+1}^i = x_n^i + alpha_n s / (delta_n Delta_n^i), projected.
                    args = (x, alpha, g_scale, st["delta"], st["Delta"], spec.low, spec.high)
                    moved = spsa_step(*args)
                else:
                    g = direction_estimate(g_scale, st["delta"], st["Delta"], options.directions)
                    if options.momentum is not None:
                        g = momentum_average(st["g"], g, options.momentum)
                        st["g"] = select(step, g, st["g"])
                    moved = estimate_step(x, alpha, g, spec.low, spec.high)
            st["x"] = select(step, moved, x)
            st["n"] = select(step, n + 1, n)
            st["updates"] = st["updates"] + (n.shape[0] if step is True else xp.sum(step))
        st["begin"] = done
        st["fresh"] = m_or(warm, step)
        shape, kind = (spec.dim,), options.draw_kind
        return st, (Draw("Delta", kind, shape, warm), Draw("Delta", kind, shape, step))

    def observe(
        self, options: HiCOptions, spec: Spec, state: dict, reward: Any, obs: Any, draws: dict
    ) -> dict:
        """The interval *begin* (Alg. 1, lines 4-5) for the rows that ended, then the next
        event's stage."""
        rows, fresh = state["begin"], state["fresh"]
        xp = namespace(state["x"], state["delta"])
        st = dict(state)
        if rows is not False:
            # The index of delta and k: updates made, or intervals completed.
            n = st["j"] if options.interval_schedules else st["n"]
            if "Delta" in draws:  # Alg. 1, line 4: Delta_n uniform on {-1, 1}^d1.
                D = draws["Delta"]
                if options.directions == "sphere":
                    D = on_sphere(D)
                st["Delta"] = select(fresh, D, st["Delta"])
                st["sign"] = select(fresh, 1.0, st["sign"])
            values = self._values(options, "perturbation", options.perturbation, n, xp)
            delta = st["delta"] = select(rows, values, st["delta"])
            if options.adaptive:
                ac = options.commitment
                st["k"] = select(rows, ac.max_length, st["k"])
                tol = self._values(options, "tol", ac.tol, n, xp)
                st["threshold"] = select(rows, tol * delta, st["threshold"])
                first_end = ac.min_length
            else:
                # Whole numbers of stages below 2**62 (refused otherwise, naming the index).
                st["k"] = select(rows, self._lengths(options, n, xp), st["k"])
                first_end = st["k"]
            m = options.average_last
            if m is not None:
                st["ring"] = select(rows, 0.0, st["ring"])
                watch = xp.maximum(first_end - m + 1, 1)
                st["watch_from"] = select(rows, watch, st["watch_from"])
            st["start"] = select(rows, st["t"], st["start"])
            committed = commit(st["x"], st["sign"], delta, st["Delta"], spec.low, spec.high)
            st["xt"] = select(rows, committed, st["xt"])  # Alg. 1, line 5
            if xp is np:
                st["begin"] = st["fresh"] = False
            else:
                st["begin"] = st["fresh"] = xp.zeros_like(rows)
        st["next_event"] = self._next_event(options, st, xp)
        return st

    def _next_event(self, options: HiCOptions, st: dict, xp: Any) -> Any:
        """The stage count at which ``observe`` must do array work (before it, nothing
        happens): the earliest of the rows' interval ends (and watch starts), at least the
        next stage."""
        start = st["start"]
        due = start + st["k"]
        if options.average_last is not None:
            due = xp.minimum(due, start + st["watch_from"])
        if options.adaptive:
            # Watch from one stage before the earliest allowed end, to have a previous action.
            due = xp.minimum(due, start + options.commitment.min_length - 1)
        if xp is np:
            return max(int(due.min()), st["t"] + 1)
        return xp.maximum(xp.min(due), st["t"] + 1)

    def take_rows(self, options: HiCOptions, state: dict, rows: slice) -> dict:
        """The state of the rows ``rows`` as a batch of them alone holds it
        (:func:`~agents.rules.protocol.slice_rows`, with the two reductions over rows made
        again over these rows: ``updates``, the total of ``n``, and ``next_event``, the
        earliest of their events; between events ``t`` has moved on by quiet stages only, so
        the earliest event of these rows, at least ``t + 1``, is what their batch alone
        computed at its last event)."""
        st = slice_rows(state, rows, np.shape(state["n"])[0])
        st["updates"] = np.int64(st["n"].sum())
        st["next_event"] = self._next_event(options, st, np)
        return st

    # ------------------------------------------------------------------ schedules
    def _values(self, options: HiCOptions, name: str, schedule: Any, n: Any, xp: Any) -> Any:
        """The schedule's values at the rows' indices ``n`` (through a table kept in the
        options' cache under NumPy; JAX engines evaluate schedules their own way)."""
        if xp is np:
            return _table(options, name, schedule)(n)
        return xp.astype(xp.broadcast_to(xp.asarray(schedule(n)), n.shape), xp.float64)

    def _lengths(self, options: HiCOptions, n: Any, xp: Any) -> Any:
        if xp is np:
            return _table(options, "commitment", options.commitment).lengths(n)
        k = xp.asarray(options.commitment(n))
        return xp.astype(xp.broadcast_to(k, n.shape), xp.int64)


#: The Hi-C leader's rule set.
HIC_RULES = HiCRules()


class HiCLeader(RuleAgent):
    """Hi-C: the uncoupled leader of Algorithm 1 (Loftin et al.).

    For update ``n = 0, 1, ...`` the leader samples ``Delta_n`` uniformly from ``{-1, 1}^d1``,
    commits to ``x~_n = x_n + delta_n Delta_n`` for ``k_n`` stages while the follower adapts,
    and then takes the one-measurement SPSA step of Eq. (11)::

        x_{n+1}^i = proj_X( x_n^i + alpha_n * s_n / (delta_n * Delta_n^i) )

    where ``s_n`` is the payoff observed at the last stage of the interval (so ``y~_n`` is the
    follower's last action). It uses nothing but its own observed payoffs: it never sees a game
    object. The schedules are indexed by the update index ``n``.

    Options beyond the paper (all off by default, so the default is Algorithm 1 exactly). Each
    keeps the gradient estimate unbiased, except where said:

    * ``baseline=lam``: subtract ``b_n``, an exponential moving average (weight ``lam``) of past
      interval payoffs, from ``s_n``. ``b_n`` is fixed before ``Delta_n`` is drawn and
      ``E[1 / Delta_n^i] = 0``, so ``E[b_n / (delta_n Delta_n^i)] = 0``: the mean of the update
      is unchanged and only its variance falls (the payoff *level* ``f1(x_n, r(x_n))``, which
      the plain estimate divides by ``delta_n``, is removed). The first interval only
      initialises ``b`` and is not an update (no step; ``n`` stays 0). The published Hi-C code
      uses ``lam = 0.9``.
    * ``average_last=m``: use the mean payoff of the last ``m`` stages of the interval instead
      of the last one. Every stage of the window plays ``x~_n``, so the mean is an estimate of
      ``f1(x~_n, .)`` against the follower's recent actions; its bias is the tracking error of
      those stages (Eq. 17, slightly larger than at the last stage), and with payoff noise its
      variance falls by up to ``m``. Works with adaptive commitment too (the last ``m`` stages
      before the adaptive end).
    * ``two_sided=True``: antithetic SPSA. Two intervals per update, at ``x_n + delta_n
      Delta_n`` and ``x_n - delta_n Delta_n``, and the step ``alpha_n (s+ - s-) / (2 delta_n
      Delta_n^i)``. The ``f1(x_n, r(x_n))`` term cancels exactly, so the estimate is unbiased
      up to ``O(delta_n^2)`` and its variance no longer scales with the payoff's magnitude.
      Each update costs two intervals.
    * ``commitment=AdaptiveCommitment(...)``: end each interval once the follower's observed
      action has settled (see :class:`AdaptiveCommitment`).
    * ``burn_in=m``: the first ``m`` intervals make no step. They play ``x_0 + delta Delta``
      with a fresh ``Delta`` each, feed the baseline (when on) and advance the interval count,
      but leave ``x`` and ``n`` alone. Nothing depends on their ``Delta``, so the estimate stays
      unbiased. The published Hi-C code burns in this way (``burn_in=50`` there, which makes 49
      intervals without an update: its counter is tested after it is advanced).
    * ``baseline_init=b0``: start the baseline at ``b0`` instead of at the first interval's
      payoff; the first interval is then an update (unless burnt in). ``b0`` is fixed before
      any ``Delta`` is drawn, so the estimate stays unbiased. The published code starts at 0.
    * ``interval_schedules=True``: index ``delta`` and ``k`` (and an adaptive commitment's
      ``tol``) by the number of intervals completed, burn-in and baseline warm-up intervals
      included, instead of by the update index ``n``; ``alpha`` stays indexed by ``n``. This
      is how the published code counts (its perturbation and commitment schedules advance
      every interval, its step size only on updates). Its 1-based counters need no option:
      :class:`~agents.schedules.PowerLaw` and :class:`~agents.schedules.LogLinear` are written
      in ``n + 1``.
    * ``momentum=beta``: step along ``g_n = beta g_{n-1} + (1 - beta) g^_n`` (``g_{-1} = 0``),
      the exponential moving average of the one-measurement estimates ``g^_n`` (Eq. 11's
      ``s_n / (delta_n Delta_n)``, or the smoothing estimate below), instead of ``g^_n``
      itself: ``x_{n+1} = proj_X(x_n + alpha_n g_n)``. For independent estimates of a fixed
      gradient the variance falls by ``(1 - beta) / (1 + beta)`` (0.053 at 0.9); the price is
      a lag of about ``1 / (1 - beta)`` updates behind a moving ``x_n``, and the first steps
      are shrunk by ``1 - beta^(n+1)`` (no bias correction). ``beta = 0`` is Eq. (11) written
      through ``g`` (equal up to rounding). The state holds ``g``.
    * ``directions="gaussian"`` or ``"sphere"``: draw ``Delta_n`` standard normal, or uniform
      on the sphere of radius ``sqrt(d1)``, instead of Rademacher. ``1 / Delta^i`` has no
      finite mean for these, so the step uses the smoothing estimator ``s_n Delta_n /
      delta_n`` (unbiased for the gradient of the ``delta``-smoothed payoff, since
      ``E[Delta Delta^T] = I``); with Rademacher signs the two forms are the same numbers.
      Works with every other option (two-sided: ``(s+ - s-) Delta / (2 delta)``).

    None of these reads anything but the leader's own payoffs and its own random directions,
    so the leader stays uncoupled with every option.

    Args:
        action_space: the leader's strategy box: a float64 ``gymnasium.spaces.Box`` (the
            env's ``action_space("leader_0")``) or a game, of which only the leader's box is
            read (the leader never sees the game's payoffs). :meth:`for_game` adds the
            game's preset schedules.
        step_size: ``alpha_n``, a schedule or a number.
        perturbation: ``delta_n``, a schedule or a number.
        commitment: ``k_n``, a schedule or a positive integer, or an
            :class:`AdaptiveCommitment` (beyond the paper).
        seed: seed of the leader's generator (``Delta_n`` and ``x_0``).
        num_envs: ``None`` for one leader, or ``S`` to run ``S`` leaders in lockstep.
        init: the initial mean strategy ``x_0``; sampled uniformly from ``X`` when None
            (Algorithm 1, line 2).
        baseline: moving-average weight ``lam`` in ``[0, 1)``, or None (off).
        average_last: ``m >= 1`` stages to average over, or None (off: last stage only).
        two_sided: use the antithetic two-interval estimate.
        burn_in: number of initial intervals that make no step (>= 0; default 0).
        baseline_init: the baseline's initial value, or None (the first interval's payoff).
            Needs ``baseline``.
        interval_schedules: index ``delta`` and ``k`` by intervals completed, not updates.
        momentum: weight ``beta`` in ``[0, 1)`` of the estimate's moving average, or None
            (off: the step of Eq. 11).
        directions: ``"rademacher"`` (Algorithm 1), ``"gaussian"`` or ``"sphere"``.
        check_assumptions: warn when ``(alpha_n, delta_n)`` break Assumption 4.4.

    The perturbed strategy is clipped to ``X`` (the env would project it anyway); near the
    boundary the clipped perturbation makes the estimate biased, so choose ``X`` with the
    solution at least ``delta_n`` inside. The mean strategy is projected onto ``X`` after each
    step.

    Per-row options: ``step_size``, ``perturbation`` and ``commitment`` may be
    :class:`~agents.schedules.PerRow` schedules (or per-row arrays of numbers), ``baseline``
    and ``burn_in`` per-row arrays of shape ``(S,)``: rows then run other hyperparameters, and
    their intervals end at different stages.

    Cost: the leader does array work only at *interval events* (the last stage of an
    interval, the stages of an ``average_last`` window, and, with adaptive commitment, the
    stages from ``min_length - 1`` on); on every other stage :meth:`observe` only counts.

    The learning is :data:`HIC_RULES` (:class:`HiCRules`, options :class:`HiCOptions`); this
    class is its face.
    """

    rules = HIC_RULES
    options_type = HiCOptions
    settable = ("step_size", "perturbation", "commitment")

    def __init__(
        self,
        action_space: Any,
        step_size: Any,
        perturbation: Any,
        commitment: Any,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init: ArrayLike | None = None,
        baseline: float | None = None,
        average_last: int | None = None,
        two_sided: bool = False,
        burn_in: int = 0,
        baseline_init: float | None = None,
        interval_schedules: bool = False,
        momentum: float | None = None,
        directions: str = "rademacher",
        check_assumptions: bool = True,
    ) -> None:
        super().__init__(*box_of(action_space, "leader"), num_envs=num_envs, seed=seed)
        options = HiCOptions(
            step_size,
            perturbation,
            commitment,
            init=init,
            baseline=baseline,
            average_last=average_last,
            two_sided=two_sided,
            burn_in=burn_in,
            baseline_init=baseline_init,
            interval_schedules=interval_schedules,
            momentum=momentum,
            directions=directions,
        )
        for name in ("baseline", "burn_in"):
            v = getattr(options, name)
            if isinstance(v, np.ndarray) and v.shape != (self._S,):
                raise ValueError(f"a per-row {name} needs shape ({self._S},), got {v.shape}")
        if check_assumptions:
            check_spsa_schedules(options.step_size, options.perturbation)
        self._setup(options)

    @classmethod
    def for_game(cls, game: Any, **overrides: Any) -> HiCLeader:
        """Hi-C on ``game``'s leader box with the game's preset schedules
        (:func:`agents.presets.hic_leader_kwargs`); ``overrides`` replace or add arguments
        (e.g. ``num_envs=32, seed=0``)."""
        kwargs = dict(hic_leader_kwargs(game))
        if overrides.get("two_sided"):
            kwargs.pop("baseline", None)  # the payoff level cancels in a two-sided estimate
        kwargs.update(overrides)
        return cls(game, **kwargs)

    @property
    def _adaptive(self) -> bool:
        return self.options.adaptive

    @property
    def _init(self) -> Any:
        return self.options.init

    # ------------------------------------------------------------------ introspection
    def _row_view(self, key: str, cast: Any) -> Any:
        v = self.state[key]
        return cast(v[0]) if self.num_envs is None else v.copy()

    @property
    def update_index(self) -> np.ndarray | int:
        """``n``: updates completed (per row when batched)."""
        return self._row_view("n", int)

    @property
    def intervals(self) -> np.ndarray | int:
        """Commitment intervals completed (per row when batched), burn-in included."""
        return self._row_view("j", int)

    @property
    def committed(self) -> np.ndarray:
        """``x~_n``: the strategy committed to in the current interval."""
        xt = self.state["xt"]
        return xt[0].copy() if self.num_envs is None else xt.copy()

    @property
    def perturbation_now(self) -> np.ndarray | float:
        """``delta_n`` of the current interval (per row when batched)."""
        return self._row_view("delta", float)
