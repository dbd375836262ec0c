"""The Hi-C leader: Hierarchical learning with Commitments (Algorithm 1)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from agents.base import BatchAgent, SeedLike, box_of
from agents.presets import hic_leader_kwargs
from agents.rules import baseline_update, commit, spsa_step
from agents.schedules import (
    MAX_COMMITMENT,
    PowerLaw,
    ScheduleLike,
    ScheduleTable,
    as_schedule,
    check_spsa_schedules,
)

__all__ = ["AdaptiveCommitment", "HiCLeader"]


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


class HiCLeader(BatchAgent):
    """Hi-C: the uncoupled leader of Algorithm 1 (Loftin et al.).

    For update ``n = 0, 1, ...`` the leader samples ``Delta_n`` uniformly from ``{-1, 1}^d1``,
    commits to ``x~_n = x_n + delta_n Delta_n`` for ``k_n`` stages while the follower adapts,
    and then takes the one-measurement SPSA step of Eq. (11)::

        x_{n+1}^i = proj_X( x_n^i + alpha_n * s_n / (delta_n * Delta_n^i) )

    where ``s_n`` is the payoff observed at the last stage of the interval (so ``y~_n`` is the
    follower's last action). It uses nothing but its own observed payoffs: it never sees a game
    object. The schedules are indexed by the update index ``n``.

    Options beyond the paper (all off by default, so the default is Algorithm 1 exactly). Each
    keeps the gradient estimate unbiased:

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
        check_assumptions: warn when ``(alpha_n, delta_n)`` break Assumption 4.4.

    The perturbed strategy is clipped to ``X`` (the env would project it anyway); near the
    boundary the clipped perturbation makes the estimate biased, so choose ``X`` with the
    solution at least ``delta_n`` inside. The mean strategy is projected onto ``X`` after each
    step.

    Cost: the leader does array work only at *interval events* (the last stage of an
    interval, the stages of an ``average_last`` window, and, with adaptive commitment, the
    stages from ``min_length - 1`` on); on every other stage :meth:`observe` only counts.
    """

    def __init__(
        self,
        action_space: Any,
        step_size: ScheduleLike,
        perturbation: ScheduleLike,
        commitment: ScheduleLike | AdaptiveCommitment,
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
        check_assumptions: bool = True,
    ) -> None:
        super().__init__(*box_of(action_space, "leader"), num_envs=num_envs, seed=seed)
        self.step_size = as_schedule(step_size, "step_size")
        self.perturbation = as_schedule(perturbation, "perturbation")
        # An AdaptiveCommitment or a schedule n -> k_n; ``_adaptive`` tells which.
        self.commitment: Any
        if isinstance(commitment, AdaptiveCommitment):
            self.commitment = commitment
        else:
            if isinstance(commitment, (float, np.floating)) and not float(commitment).is_integer():
                raise ValueError(f"commitment must be a whole number of stages, got {commitment!r}")
            self.commitment = as_schedule(commitment, "commitment")
        if baseline is not None:
            if isinstance(baseline, bool) or not isinstance(
                baseline, (int, float, np.integer, np.floating)
            ):
                raise TypeError(f"baseline must be None or a number in [0, 1), got {baseline!r}")
            if not (0.0 <= float(baseline) < 1.0):
                raise ValueError(f"baseline must be None or a weight in [0, 1), got {baseline!r}")
        if average_last is not None:
            average_last = _positive_int("average_last", average_last)
        self.baseline = None if baseline is None else float(baseline)
        self.average_last = average_last
        if not isinstance(two_sided, bool | np.bool_):
            raise TypeError(f"two_sided must be a bool, got {two_sided!r}")
        self.two_sided = bool(two_sided)
        if self.two_sided and self.baseline is not None:
            raise ValueError(
                "baseline has no effect with two_sided=True (the payoff level cancels in "
                "s+ - s-); pass one or the other"
            )
        if isinstance(burn_in, bool) or not isinstance(burn_in, (int, np.integer)) or burn_in < 0:
            raise ValueError(f"burn_in must be a non-negative integer, got {burn_in!r}")
        self.burn_in = int(burn_in)
        if baseline_init is not None:
            if self.baseline is None:
                raise ValueError("baseline_init needs a baseline weight (baseline=lam)")
            if isinstance(baseline_init, bool) or not isinstance(
                baseline_init, (int, float, np.integer, np.floating)
            ):
                raise TypeError(f"baseline_init must be None or a number, got {baseline_init!r}")
            if not np.isfinite(baseline_init):
                raise ValueError(f"baseline_init must be finite, got {baseline_init!r}")
        self.baseline_init = None if baseline_init is None else float(baseline_init)
        self.interval_schedules = bool(interval_schedules)
        if self.two_sided and (self.burn_in or self.interval_schedules):
            raise ValueError(
                "burn_in and interval_schedules are not defined with two_sided=True (an "
                "antithetic pair must share delta_n); pass one or the other"
            )
        self._init = init
        if check_assumptions:
            check_spsa_schedules(self.step_size, self.perturbation)
        self._adaptive = isinstance(self.commitment, AdaptiveCommitment)
        self._tables: dict[str, ScheduleTable] = {}
        attrs = ["_x", "_n", "_t", "_start", "_k", "_delta", "_Delta", "_xt", "_sign"]
        attrs += ["_s_plus", "_b", "_b_ready", "_next_event", "_j"]
        if self.average_last is not None:
            attrs += ["_ring", "_watch_from"]
        if self._adaptive:
            attrs += ["_threshold", "_prev_obs", "_prev_t"]
        #: The learning state (see :meth:`BatchAgent.state_dict`).
        self.state_attrs = tuple(attrs)

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

    # ------------------------------------------------------------------ state
    def _reset(self) -> None:
        S, d = self._S, self.dim
        self._x = self._initial(self._init)  # mean strategies x_n, (S, d)
        self._n = np.zeros(S, dtype=np.int64)  # updates made per row
        self._t = 0  # stages observed
        self._start = np.zeros(S, dtype=np.int64)  # stage at which each interval began
        self._k = np.zeros(S, dtype=np.int64)  # length (or max length) of each interval
        self._delta = np.zeros(S)
        self._Delta = np.zeros((S, d))
        self._xt = np.zeros((S, d))  # the strategy committed to, x~_n
        self._sign = np.ones(S)  # +1 / -1: which half of a two-sided update
        self._s_plus = np.zeros(S)
        self._b = np.zeros(S)
        self._b_ready = np.zeros(S, dtype=bool)
        if self.baseline_init is not None:
            self._b[:] = self.baseline_init
            self._b_ready[:] = True
        self._j = np.zeros(S, dtype=np.int64)  # intervals completed per row
        m = self.average_last
        if m is not None:
            self._ring = np.zeros((S, m))  # payoffs of the window, slot = stage-in-interval % m
            self._watch_from = np.zeros(S, dtype=np.int64)  # first stage-in-interval recorded
        if self._adaptive:
            self._threshold = np.zeros(S)  # tol_n * delta_n
            self._prev_obs: np.ndarray | None = None  # follower's action at stage _prev_t
            self._prev_t = -1
        self._begin(np.arange(S), new_direction=True)
        self._schedule_next_event()

    def _begin(self, rows: np.ndarray, new_direction: bool) -> None:
        """Start a commitment interval for ``rows`` at the current stage."""
        # The index of delta and k: updates made, or intervals completed (interval_schedules).
        n = self._j[rows] if self.interval_schedules else self._n[rows]
        if new_direction:
            # Alg. 1, line 4: Delta_n uniform on {-1, 1}^d1.
            assert self.np_random is not None  # reset() made it
            self._Delta[rows] = (
                2.0 * self.np_random.integers(0, 2, size=(rows.size, self.dim)) - 1.0
            )
            self._sign[rows] = 1.0
        self._delta[rows] = self._values("perturbation", self.perturbation, n)
        if self._adaptive:
            ac = self.commitment
            self._k[rows] = ac.max_length
            self._threshold[rows] = self._values("tol", ac.tol, n) * self._delta[rows]
            first_end = ac.min_length
        else:
            # Whole numbers of stages below 2**62 (refused otherwise, naming the index).
            self._k[rows] = self._table("commitment", self.commitment).lengths(n)
            first_end = self._k[rows]
        if self.average_last is not None:
            self._ring[rows] = 0.0
            self._watch_from[rows] = np.maximum(first_end - self.average_last + 1, 1)
        self._start[rows] = self._t
        self._xt[rows] = commit(  # Alg. 1, line 5
            self._x[rows],
            self._sign[rows],
            self._delta[rows],
            self._Delta[rows],
            self.low,
            self.high,
        )

    def _values(self, name: str, schedule: Any, n: np.ndarray) -> np.ndarray:
        """``evaluate(schedule, n, name)`` through a table kept per schedule (not state: it
        holds only the schedule's values)."""
        return self._table(name, schedule)(n)

    def _table(self, name: str, schedule: Any) -> ScheduleTable:
        table = self._tables.get(name)
        if table is None or table.schedule is not schedule:
            table = self._tables[name] = ScheduleTable(schedule, name)
        return table

    def _schedule_next_event(self) -> None:
        # Stage count at which _observe must do array work; before it, nothing happens.
        due = self._start + self._k
        if self.average_last is not None:
            due = np.minimum(due, self._start + self._watch_from)
        if self._adaptive:
            # Watch from one stage before the earliest allowed end, to have a previous action.
            due = np.minimum(due, self._start + self.commitment.min_length - 1)
        self._next_event = max(int(due.min()), self._t + 1)

    # ------------------------------------------------------------------ fast-forward face
    def quiet_stages(self) -> int:
        """Stages before the next interval event (Alg. 1, lines 6-9: the leader plays
        ``x~_n`` and records nothing until the interval's last stage or its
        ``average_last`` window or adaptive watch)."""
        self._require_reset()
        return max(self._next_event - self._t - 1, 0)

    def skip_quiet(self, stages: int) -> None:
        """Advance the stage count over ``stages <= quiet_stages()`` quiet stages."""
        stages = self._stage_count(stages)
        if stages > self.quiet_stages():
            raise ValueError(
                f"HiCLeader: cannot skip {stages} stages, only {self.quiet_stages()} are quiet"
            )
        self._t += stages

    def reward_free_stages(self) -> int:
        """The quiet stages: every event stage reads its reward."""
        return self.quiet_stages()

    # ------------------------------------------------------------------ play
    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self._xt  # Alg. 1, line 7: play x~_n for the whole interval

    def _strategy(self) -> np.ndarray:
        return self._x

    def _observe(self, reward: np.ndarray, obs: np.ndarray) -> None:
        self._t += 1
        if self._t < self._next_event:
            return  # mid-interval: nothing to record (Alg. 1, lines 6-9)
        played = self._t - self._start  # stages played in each row's interval
        m = self.average_last
        if m is not None:
            rec = np.flatnonzero(played >= self._watch_from)
            self._ring[rec, played[rec] % m] = reward[rec]
        done = played >= self._k
        if self._adaptive:
            if self._prev_t == self._t - 1:
                moved = np.abs(obs - self._prev_obs).max(axis=1)
                # min_length >= 2: both stages compared lie in this interval.
                done |= (played >= self.commitment.min_length) & (moved < self._threshold)
            self._prev_obs = obs.copy()
            self._prev_t = self._t
        if done.any():
            rows = np.flatnonzero(done)
            if m is not None:
                count = np.minimum(played[rows], m)
                with np.errstate(over="ignore"):  # an overflowed sum is redone below
                    s = self._ring[rows].sum(axis=1) / count
                if not np.isfinite(s).all():
                    # The sum overflowed (finite payoffs near 1.8e308): the mean of the scaled
                    # terms is finite. Only then, so other results stay bit for bit the same.
                    s = (self._ring[rows] / count[:, None]).sum(axis=1)
            else:
                s = reward[rows]  # Alg. 1, line 8: the payoff at the interval's last stage
            self._finish(rows, self._measurement(rows, s, obs[rows]))
        self._schedule_next_event()

    def _measurement(self, rows: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The measured payoff ``s_n`` of the intervals of ``rows`` that just ended.

        ``s`` is what the leader observed (last stage, or the window mean) and ``y`` the
        follower's action at the last stage. Hi-C uses ``s`` as is; the oracle variant
        (:class:`agents.OracleSPSALeader`) replaces the follower's action by ``r(x~_n)``.
        """
        return s

    def _finish(self, rows: np.ndarray, s: np.ndarray) -> None:
        """Close the intervals of ``rows`` whose measured payoffs are ``s``."""
        burn = self._j[rows] < self.burn_in  # burn-in intervals: no step
        self._j[rows] += 1
        if self.two_sided:
            first = self._sign[rows] > 0
            if first.any():
                r1 = rows[first]
                self._s_plus[r1] = s[first]
                self._sign[r1] = -1.0
                self._begin(r1, new_direction=False)  # same Delta_n, at x_n - delta_n Delta_n
            rows, s = rows[~first], s[~first]
            if rows.size == 0:
                return
            # Halves first: (s+ - s-) / 2 overflows for payoffs near 1.8e308 of opposite
            # signs; halving is exact, so the result is otherwise the same bit for bit.
            step, g_scale = rows, self._s_plus[rows] / 2.0 - s / 2.0
        elif self.baseline is not None:
            ready = self._b_ready[rows]
            # b_n: made from intervals before Delta_n was drawn
            g_scale, self._b[rows] = baseline_update(self._b[rows], ready, s, self.baseline)
            self._b_ready[rows] = True
            go = ready & ~burn
            warm = rows[~go]
            if warm.size:
                self._begin(warm, new_direction=True)  # warm-up or burn-in: not an update
            step, g_scale = rows[go], g_scale[go]
        else:
            if burn.any():
                self._begin(rows[burn], new_direction=True)  # burn-in: not an update
            step, g_scale = rows[~burn], s[~burn]
        if step.size == 0:
            return
        alpha = self._values("step_size", self.step_size, self._n[step])
        # Eq. (11): x_{n+1}^i = x_n^i + alpha_n s / (delta_n Delta_n^i), then project onto X.
        self._x[step] = spsa_step(
            self._x[step], alpha, g_scale, self._delta[step], self._Delta[step], self.low, self.high
        )
        self._n[step] += 1
        self.updates += int(step.size)
        self._begin(step, new_direction=True)

    # ------------------------------------------------------------------ introspection
    @property
    def update_index(self) -> np.ndarray | int:
        """``n``: updates completed (per row when batched)."""
        self._require_reset()
        return int(self._n[0]) if self.num_envs is None else self._n.copy()

    @property
    def intervals(self) -> np.ndarray | int:
        """Commitment intervals completed (per row when batched), burn-in included."""
        self._require_reset()
        return int(self._j[0]) if self.num_envs is None else self._j.copy()

    @property
    def committed(self) -> np.ndarray:
        """``x~_n``: the strategy committed to in the current interval."""
        self._require_reset()
        return self._xt[0].copy() if self.num_envs is None else self._xt.copy()

    @property
    def perturbation_now(self) -> np.ndarray | float:
        """``delta_n`` of the current interval (per row when batched)."""
        self._require_reset()
        return float(self._delta[0]) if self.num_envs is None else self._delta.copy()
