"""Property tests of schedule and agent constructor inputs (hypothesis).

Whatever is passed, a schedule or an agent either refuses it with a TypeError or ValueError
when it is made (or, for values only a run reveals, at ``reset`` or the first stages), or it
runs and produces positive finite values, whole commitments within int64, and finite
strategies inside the box. No other exception, no NaN, no wrapped integer.
"""

from __future__ import annotations

import math

import numpy as np
from gymnasium import spaces
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents import GradientAscentFollower, HiCLeader, StochasticGradientFollower
from agents.schedules import MAX_COMMITMENT, CommitmentSchedule, Constant, Logarithmic, PowerLaw
from hic_envs.games import Duopoly

_settings = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_anything = st.one_of(
    st.floats(width=64),
    st.floats(1e-12, 1e3),
    st.integers(-3, 2**70),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.lists(st.floats(0.1, 1.0), max_size=2),
)
_indices = st.lists(st.integers(0, 2**62), min_size=1, max_size=5)


def _check_values(values: np.ndarray) -> None:
    assert values.dtype == np.float64 or np.issubdtype(values.dtype, np.floating)
    assert np.all(np.isfinite(values)) and np.all(values > 0)


@_settings
@given(
    kind=st.sampled_from(["constant", "power", "log"]),
    a=_anything,
    b=_anything,
    c=_anything,
    n=_indices,
)
def test_schedules_refuse_or_give_positive_finite_values(kind, a, b, c, n):
    try:
        if kind == "constant":
            sched = Constant(a)
        elif kind == "power":
            sched = PowerLaw(a, b, c)
        else:
            sched = Logarithmic(a, b)
    except (TypeError, ValueError):
        return
    n = np.asarray(n, dtype=np.int64)
    _check_values(np.asarray(sched(n), dtype=np.float64))
    for v in n[:2].tolist():
        out = sched(v)
        assert isinstance(out, float) and math.isfinite(out) and out > 0


@_settings
@given(beta=_anything, mu=_anything, B=_anything, p=_anything, delta=_anything, n=_indices)
def test_commitment_schedule_refuses_or_gives_whole_stages_within_int64(beta, mu, B, p, delta, n):
    try:
        sched = CommitmentSchedule(beta, mu, B, p, delta)
    except (TypeError, ValueError):
        return
    try:
        k = sched(np.asarray(n, dtype=np.int64))
    except ValueError as err:
        assert "2**62" in str(err)
        return
    assert k.dtype == np.int64 and np.all(k >= 1) and np.all(k <= MAX_COMMITMENT)


_rewards = st.lists(st.floats(-1.7e308, 1.7e308), min_size=1, max_size=12)


@_settings
@given(
    step=_anything,
    delta=_anything,
    commitment=_anything,
    baseline=st.one_of(st.none(), st.floats(width=64), st.booleans(), st.text(max_size=2)),
    average_last=st.one_of(st.none(), st.integers(-2, 4), st.floats(0, 3)),
    two_sided=st.one_of(st.booleans(), st.none(), st.text(max_size=2), st.integers(0, 1)),
    rewards=_rewards,
)
def test_hic_leader_refuses_or_stays_finite_in_the_box(
    step, delta, commitment, baseline, average_last, two_sided, rewards
):
    box = spaces.Box(np.zeros(2), np.full(2, 50.0), dtype=np.float64)
    try:
        leader = HiCLeader(
            box,
            step,
            delta,
            commitment,
            baseline=baseline,
            average_last=average_last,
            two_sided=two_sided,
            check_assumptions=False,
            seed=0,
        )
        leader.reset()
        for r in rewards:
            a = leader.act(np.zeros(1))
            assert np.all(np.isfinite(a)) and np.all(a >= 0) and np.all(a <= 50)
            leader.observe(r, np.zeros(1))
    except (TypeError, ValueError):
        return
    x = leader.strategy
    assert np.all(np.isfinite(x)) and np.all(x >= 0) and np.all(x <= 50)


@_settings
@given(step=_anything, noise=_anything, init=st.one_of(st.none(), _anything))
def test_followers_refuse_or_stay_finite_in_the_box(step, noise, init):
    game = Duopoly()
    try:
        follower = (
            GradientAscentFollower(game, step, init=init)
            if noise is None
            else StochasticGradientFollower(game, step, noise, init=init)
        )
        follower.reset(seed=0)
        for x in (0.0, 25.0, 50.0):
            follower.observe(0.0, np.array([x]))
    except (TypeError, ValueError):
        return
    y = follower.strategy
    assert np.all(np.isfinite(y)) and np.all(y >= 0) and np.all(y <= 50)
