"""HiCLeader's options for emulating the published Hi-C code: ``burn_in``, ``baseline_init``,
``interval_schedules``, and the ``LogLinear`` schedule.

Hand-checkable cases driven through the public face (act / observe), plus one end-to-end check:
the exact emulation of the published Cournot run reproduces the published seeds' strategies.
"""

import math

import numpy as np
import pytest
from gymnasium import spaces

from agents import GradientAscentFollower, HiCLeader
from agents.schedules import LogLinear, PowerLaw
from hic_envs.games import Duopoly

BOX = spaces.Box(-10.0, 10.0, shape=(1,), dtype=np.float64)
QUIET = {"check_assumptions": False}


def linear(x, w=2.0, c=10.0):
    return w * x[..., 0] + c


def play_interval(leader, k, payoff=linear):
    """Play ``k`` stages; returns the committed action and the last payoff."""
    a = leader.act(None)
    for _ in range(k):
        r = payoff(leader.act(None))
        leader.observe(r, np.zeros(1))
    return a, r


def test_loglinear_values_by_hand():
    s = LogLinear(9.859124258994012, 41.27540463406469, ceil=True)
    assert s(0) == 42.0  # ceil(41.275...)
    assert s(1) == math.ceil(9.859124258994012 * math.log(2) + 41.27540463406469)  # 49
    np.testing.assert_array_equal(s(np.array([0, 1, 1000])), [42.0, 49.0, 110.0])
    raw = LogLinear(2.0, 1.5)
    assert raw(np.e - 1) == pytest.approx(3.5)
    for bad in ({"scale": -1.0, "offset": 1.0}, {"scale": 1.0, "offset": 0.0}):
        with pytest.raises(ValueError):
            LogLinear(**bad)


def test_burn_in_intervals_make_no_step():
    leader = HiCLeader(BOX, 0.1, 0.5, 3, init=[1.0], burn_in=2, seed=0, **QUIET)
    leader.reset()
    for j in range(2):
        a, _ = play_interval(leader, 3)
        assert abs(abs(a[0] - 1.0) - 0.5) < 1e-15  # x~ = x_0 + delta Delta
        assert leader.strategy[0] == 1.0 and leader.update_index == 0
        assert leader.intervals == j + 1
    a, r = play_interval(leader, 3)
    sign = (a[0] - 1.0) / 0.5
    assert leader.update_index == 1 and leader.updates == 1 and leader.intervals == 3
    assert leader.strategy[0] == pytest.approx(1.0 + 0.1 * r / (0.5 * sign), rel=1e-14)


def test_burn_in_feeds_a_baseline_started_at_baseline_init():
    lam, b0 = 0.9, 0.0
    leader = HiCLeader(
        BOX, 0.1, 0.5, 2, init=[1.0], baseline=lam, baseline_init=b0, burn_in=3, seed=1, **QUIET
    )
    leader.reset()
    b = b0
    for _ in range(3):
        _, r = play_interval(leader, 2)
        b = lam * b + (1 - lam) * r
        assert leader.update_index == 0
    a, r = play_interval(leader, 2)
    sign = (a[0] - 1.0) / 0.5
    assert leader.update_index == 1
    assert leader.strategy[0] == pytest.approx(1.0 + 0.1 * (r - b) / (0.5 * sign), rel=1e-13)


def test_baseline_init_makes_the_first_interval_an_update():
    leader = HiCLeader(BOX, 0.1, 0.5, 2, init=[0.0], baseline=0.5, baseline_init=4.0, seed=2,
                       **QUIET)  # fmt: skip
    leader.reset()
    a, r = play_interval(leader, 2)
    assert leader.update_index == 1
    assert leader.strategy[0] == pytest.approx(0.1 * (r - 4.0) / a[0], rel=1e-13)
    # Without baseline_init the first interval only initialises b.
    plain = HiCLeader(BOX, 0.1, 0.5, 2, init=[0.0], baseline=0.5, seed=2, **QUIET)
    plain.reset()
    play_interval(plain, 2)
    assert plain.update_index == 0


def test_interval_schedules_index_delta_and_k_by_intervals_alpha_by_updates():
    delta = PowerLaw(1.0, 0.6)
    k = LogLinear(3.0, 2.0, ceil=True)  # k_0 = 2, k_1 = 5, k_2 = 6, k_3 = 7
    alpha = PowerLaw(0.01, 1.0)
    leader = HiCLeader(
        BOX, alpha, delta, k, init=[0.0], burn_in=2, interval_schedules=True, seed=3, **QUIET
    )
    leader.reset()
    x = 0.0
    for j in range(5):
        assert leader.perturbation_now == pytest.approx(delta(j), rel=1e-15)
        a, r = play_interval(leader, int(k(j)))
        assert leader.intervals == j + 1
        if j >= 2:  # the update index n = j - 2: alpha_n, with delta and k of interval j
            x = x + alpha(j - 2) * r / (a[0] - x)
        assert leader.strategy[0] == pytest.approx(x, rel=1e-12)
    assert leader.update_index == 3
    # By default the schedules follow the update index: burn-in intervals repeat delta_0, k_0.
    plain = HiCLeader(BOX, alpha, delta, k, init=[0.0], burn_in=2, seed=3, **QUIET)
    plain.reset()
    for _ in range(3):
        assert plain.perturbation_now == delta(0)
        play_interval(plain, int(k(0)))
    assert plain.update_index == 1 and plain.perturbation_now == delta(1)


def test_defaults_are_unchanged_and_batches_count_intervals_per_row():
    kw = dict(init=[0.5], baseline=0.9, num_envs=3, seed=4, **QUIET)
    a = HiCLeader(BOX, 0.1, 0.5, 3, **kw)
    b = HiCLeader(BOX, 0.1, 0.5, 3, burn_in=0, baseline_init=None, interval_schedules=False, **kw)
    for ag in (a, b):
        ag.reset()
        for _ in range(30):
            x = ag.act(np.zeros((3, 1)))
            ag.observe(linear(x), np.zeros((3, 1)))
    np.testing.assert_array_equal(a.strategy, b.strategy)
    np.testing.assert_array_equal(a.intervals, [10, 10, 10])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"burn_in": -1}, "burn_in"),
        ({"burn_in": 1.5}, "burn_in"),
        ({"burn_in": True}, "burn_in"),
        ({"baseline_init": 0.0}, "baseline_init needs a baseline"),
        ({"baseline": 0.9, "baseline_init": float("nan")}, "baseline_init must be finite"),
        ({"two_sided": True, "burn_in": 2}, "two_sided"),
        ({"two_sided": True, "interval_schedules": True}, "two_sided"),
    ],
)
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HiCLeader(BOX, 0.1, 0.5, 3, **kwargs, **QUIET)


def test_exact_emulation_reproduces_the_published_cournot_seeds():
    """The published run (rtloftin/Hi-C, aamas2024, results/cournot/...) saved, per seed, the
    committed strategy every 1000 stages; after 20000 stages seeds 0 and 1 played 31.155497
    and 25.515017 (float32). Emulating its learner and its random streams (one generator per
    seed, drawn in the order x_0 and Delta_0, y_0, later Delta) reproduces them to float32
    rounding accumulated over 20000 stages."""
    game = Duopoly(a=50.0, b=1.0, c1=1.0, c2=1.0)
    box = spaces.Box(game.leader_low, game.leader_high, dtype=np.float64)
    published = {0: 31.155497, 1: 25.515017}
    z = math.log(1.0 - 2.0 * 0.1)
    leaders, y0 = [], []
    for s in published:
        gen = np.random.default_rng(np.random.SeedSequence(s))
        leader = HiCLeader(
            box,
            PowerLaw(0.001, 0.1),
            PowerLaw(1.0, 0.6),
            LogLinear(-2.0 * 1.1 / z, -2.0 * math.log(100.0) / z, ceil=True),
            baseline=0.9,
            baseline_init=0.0,
            burn_in=49,
            interval_schedules=True,
            **QUIET,
        )
        leader.reset(seed=gen)
        y0.append(gen.uniform(0.0, 50.0, size=(1,)))
        leaders.append(leader)
    follower = GradientAscentFollower(game, 0.1, num_envs=len(leaders), init=np.array(y0))
    follower.reset(seed=0)
    x = np.empty((len(leaders), 1))
    for _ in range(20_000):
        for i, leader in enumerate(leaders):
            x[i] = leader.act(None)
        y = follower.act(x)
        f1, f2 = game.payoffs(x, y)
        for i, leader in enumerate(leaders):
            leader.observe(f1[i], y[i])
        follower.observe(f2, x)
    got = [leader.committed[0] for leader in leaders]
    np.testing.assert_allclose(got, list(published.values()), atol=2e-4)
