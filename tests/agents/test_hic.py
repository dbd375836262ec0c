"""HiCLeader unit tests on tiny hand-checkable cases: Algorithm 1 and every option.

The leader is driven by hand through its public face (act / observe), with payoffs computed
in the test, so every expected value below is arithmetic on the test's own numbers.
"""

import numpy as np
import pytest
from gymnasium import spaces

from agents import AdaptiveCommitment, HiCLeader

BOX = spaces.Box(-10.0, 10.0, shape=(1,), dtype=np.float64)
QUIET = {"check_assumptions": False}


def linear(x, w=2.0, c=10.0):
    """A 1-D linear payoff f(x) = w x + c; SPSA's expected step is alpha * w."""
    return w * x[..., 0] + c


def drive(leader, stages, payoff=linear, follower_obs=None):
    """Play ``stages`` stages, paying ``payoff(action)``; returns the actions played."""
    acts = []
    for t in range(stages):
        a = leader.act(None)
        acts.append(a)
        obs = np.zeros_like(a) if follower_obs is None else follower_obs(t)
        leader.observe(payoff(a), obs)
    return np.array(acts)


def test_algorithm_1_single_step_by_hand():
    # x_0 = 0, delta = 0.5, alpha = 0.1, k = 3, f = 2 x + 10.
    leader = HiCLeader(BOX, 0.1, 0.5, 3, init=[0.0], seed=3, **QUIET)
    leader.reset()
    acts = drive(leader, 2)
    assert leader.update_index == 0 and leader.updates == 0  # no update before k stages
    np.testing.assert_array_equal(acts[0], acts[1])  # x~_0 held for the whole interval
    sign = np.sign(acts[0][0])
    assert abs(acts[0][0]) == 0.5  # x~_0 = x_0 + delta Delta, Delta in {-1, 1}
    drive(leader, 1)
    assert leader.update_index == 1 and leader.updates == 1
    # Eq. (11): x_1 = 0 + 0.1 * (2 * 0.5 sign + 10) / (0.5 sign)
    expected = 0.1 * (2 * 0.5 * sign + 10.0) / (0.5 * sign)
    assert leader.strategy[0] == pytest.approx(expected, rel=1e-14)
    # The next interval starts at once around the new mean.
    assert abs(abs(leader.committed[0] - leader.strategy[0]) - 0.5) < 1e-12


def test_only_the_last_stage_payoff_is_used():
    # Mid-interval payoffs are ignored (however large): Alg. 1 line 8 keeps the last one.
    leader = HiCLeader(BOX, 0.1, 0.5, 4, init=[1.0], seed=0, **QUIET)
    leader.reset()
    x_t = leader.act(None)
    for _ in range(3):
        leader.observe(1e300, np.zeros(1))
    leader.observe(7.0, np.zeros(1))
    delta_sign = (x_t[0] - 1.0) / 0.5
    assert leader.strategy[0] == pytest.approx(1.0 + 0.1 * 7.0 / (0.5 * delta_sign))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, None, "1.0", True])
def test_a_non_finite_or_non_numeric_reward_is_refused(bad):
    leader = HiCLeader(BOX, 0.1, 0.5, 4, init=[1.0], seed=0, **QUIET)
    leader.reset()
    with pytest.raises(ValueError, match="reward must be a finite number"):
        leader.observe(bad, np.zeros(1))


def test_expected_spsa_step_on_a_linear_payoff():
    # E[s / (delta Delta)] = w for f = w x + c (E[1/Delta] = 0): the mean step is alpha w.
    S, alpha, w, c = 20_000, 0.01, 2.0, 10.0
    leader = HiCLeader(BOX, alpha, 0.5, 1, init=[0.0], num_envs=S, seed=1, **QUIET)
    leader.reset()
    x_t = leader.act(np.zeros((S, 1)))
    leader.observe(linear(x_t, w, c), np.zeros((S, 1)))
    step = leader.strategy[:, 0]
    # Per-row step = alpha (w + c / (delta Delta)) = 0.02 +- 0.2: mean 0.02, sd 0.2.
    assert step.mean() == pytest.approx(alpha * w, abs=4 * 0.2 / np.sqrt(S))
    np.testing.assert_allclose(np.abs(step - alpha * w), alpha * c / 0.5, rtol=1e-12)


def test_projection_onto_the_box():
    leader = HiCLeader(BOX, 10.0, 0.5, 1, init=[9.9], seed=2, **QUIET)
    leader.reset()
    x_t = leader.act(None)
    assert -10.0 <= x_t[0] <= 10.0  # x~ clipped to X (9.9 + 0.5 -> 10)
    leader.observe(1000.0, np.zeros(1))
    assert leader.strategy[0] in (-10.0, 10.0)  # a huge step is projected onto X


def test_baseline_warm_up_then_subtracts_moving_average():
    lam, alpha, delta = 0.9, 0.1, 0.5
    leader = HiCLeader(BOX, alpha, delta, 2, init=[0.0], baseline=lam, seed=4, **QUIET)
    leader.reset()
    # Interval 1 only initialises b (no update).
    s1 = linear(drive(leader, 2)[-1])
    assert leader.update_index == 0 and leader.updates == 0 and leader.strategy[0] == 0.0
    # Interval 2: step alpha (s2 - b) / (delta Delta) with b = s1.
    a2 = drive(leader, 2)[-1]
    s2 = linear(a2)
    sign = np.sign(a2[0])
    x1 = alpha * (s2 - s1) / (delta * sign)
    assert leader.update_index == 1
    assert leader.strategy[0] == pytest.approx(x1, rel=1e-13)
    # Interval 3: b = lam s1 + (1 - lam) s2.
    a3 = drive(leader, 2)[-1]
    s3 = linear(a3)
    sign3 = np.sign(a3[0] - x1)
    b = lam * s1 + (1 - lam) * s2
    assert leader.strategy[0] == pytest.approx(x1 + alpha * (s3 - b) / (delta * sign3), rel=1e-12)


def test_baseline_keeps_the_mean_step_and_cuts_its_variance():
    # Same linear payoff, 20000 rows, 3 updates: mean of the last step is alpha w either way;
    # with the baseline the payoff level c = 10 no longer enters, so the spread shrinks.
    S, alpha = 20_000, 0.01
    steps = {}
    for lam in (None, 0.5):
        leader = HiCLeader(
            BOX, alpha, 0.5, 1, init=[0.0], baseline=lam, num_envs=S, seed=5, **QUIET
        )
        leader.reset()
        before = None
        for _ in range(4):
            before = leader.strategy[:, 0]
            x_t = leader.act(np.zeros((S, 1)))
            leader.observe(linear(x_t), np.zeros((S, 1)))
        steps[lam] = leader.strategy[:, 0] - before
    for st in steps.values():
        assert st.mean() == pytest.approx(alpha * 2.0, abs=4 * st.std() / np.sqrt(S))
    assert steps[0.5].std() < 0.25 * steps[None].std()


def test_average_last_uses_the_mean_of_the_last_m_payoffs():
    leader = HiCLeader(BOX, 0.1, 0.5, 5, init=[0.0], average_last=3, seed=6, **QUIET)
    leader.reset()
    x_t = leader.act(None)
    for r in [100.0, -50.0, 1.0, 2.0, 6.0]:
        leader.observe(r, np.zeros(1))
    sign = np.sign(x_t[0])
    assert leader.strategy[0] == pytest.approx(0.1 * 3.0 / (0.5 * sign), rel=1e-14)  # mean(1,2,6)


def test_average_last_longer_than_the_interval_averages_the_whole_interval():
    leader = HiCLeader(BOX, 0.1, 0.5, 2, init=[0.0], average_last=10, seed=6, **QUIET)
    leader.reset()
    x_t = leader.act(None)
    for r in [4.0, 8.0]:
        leader.observe(r, np.zeros(1))
    assert leader.strategy[0] == pytest.approx(0.1 * 6.0 / (0.5 * np.sign(x_t[0])))


def test_two_sided_is_exact_on_a_linear_payoff():
    # (s+ - s-) / (2 delta Delta) = w exactly for a linear payoff: every row steps alpha w.
    S, alpha = 64, 0.1
    leader = HiCLeader(BOX, alpha, 0.5, 3, init=[1.0], two_sided=True, num_envs=S, seed=7, **QUIET)
    leader.reset()
    plus = leader.act(np.zeros((S, 1))).copy()
    for _ in range(3):
        leader.observe(linear(leader.act(np.zeros((S, 1)))), np.zeros((S, 1)))
    assert np.all(leader.update_index == 0)  # one interval is half an update
    minus = leader.act(np.zeros((S, 1)))
    np.testing.assert_allclose(plus + minus, 2.0)  # x - delta Delta mirrors x + delta Delta
    for _ in range(3):
        leader.observe(linear(leader.act(np.zeros((S, 1)))), np.zeros((S, 1)))
    assert np.all(leader.update_index == 1)
    np.testing.assert_allclose(leader.strategy[:, 0], 1.0 + alpha * 2.0, rtol=1e-13)


def test_adaptive_ends_when_the_follower_settles():
    # delta = 0.5, tol = 0.01: threshold 0.005. Follower moves 1, 0.5, 0.2, 0.004 -> the
    # interval ends at its 5th stage, with the payoff of that stage.
    ys = [5.0, 4.0, 3.5, 3.3, 3.296, 3.296]
    leader = HiCLeader(BOX, 0.1, 0.5, AdaptiveCommitment(0.01, 2, 50), init=[0.0], seed=8, **QUIET)
    leader.reset()
    x_t = leader.act(None)
    for j, y in enumerate(ys[:5], start=1):
        assert leader.update_index == 0, f"ended early at stage {j - 1}"
        leader.observe(float(j), np.array([y]))
    assert leader.update_index == 1
    assert leader.strategy[0] == pytest.approx(0.1 * 5.0 / (0.5 * np.sign(x_t[0])))


def test_adaptive_never_compares_with_the_previous_interval():
    # The follower sits still across the boundary (its first action in an interval was chosen
    # before it saw the new commitment). The interval must not end at its first stage; it
    # ends at the second, the first stage whose move is measured inside the interval.
    leader = HiCLeader(BOX, 0.1, 0.5, AdaptiveCommitment(0.01, 2, 50), init=[0.0], seed=9, **QUIET)
    leader.reset()
    y = np.array([1.0])
    lengths, played = [], 0
    for _ in range(20):
        n = leader.update_index
        leader.observe(0.0, y)
        played += 1
        if leader.update_index != n:
            lengths.append(played)
            played = 0
    assert lengths == [2] * 10


def test_adaptive_respects_min_and_max_length():
    still = HiCLeader(BOX, 0.1, 0.5, AdaptiveCommitment(0.01, 4, 50), init=[0.0], seed=1, **QUIET)
    still.reset()
    drive(still, 3)
    assert still.update_index == 0
    drive(still, 1)
    assert still.update_index == 1  # settled at once, but not before min_length = 4
    moving = HiCLeader(BOX, 0.1, 0.5, AdaptiveCommitment(0.01, 2, 6), init=[0.0], seed=1, **QUIET)
    moving.reset()
    drive(moving, 5, follower_obs=lambda t: np.array([float(t)]))
    assert moving.update_index == 0
    drive(moving, 1, follower_obs=lambda t: np.array([float(t + 5)]))
    assert moving.update_index == 1  # never settled: ends at max_length = 6


def test_adaptive_with_average_last_uses_the_stages_before_the_adaptive_end():
    # Regression: the window used to be placed before max_length, so an adaptive end measured
    # s = 0. Settles at stage 3 (moves 1, 0); mean of the last 2 payoffs (5, 7) = 6.
    leader = HiCLeader(
        BOX,
        0.1,
        0.5,
        AdaptiveCommitment(0.01, 2, 100),
        init=[0.0],
        average_last=2,
        seed=2,
        **QUIET,
    )
    leader.reset()
    x_t = leader.act(None)
    for r, y in [(3.0, 0.0), (5.0, 1.0), (7.0, 1.0)]:
        leader.observe(r, np.array([y]))
    assert leader.update_index == 1
    assert leader.strategy[0] == pytest.approx(0.1 * 6.0 / (0.5 * np.sign(x_t[0])))


def test_adaptive_tolerance_may_be_a_schedule():
    ac = AdaptiveCommitment(tol=lambda n: 0.5 / (n + 1), min_length=2, max_length=100)
    leader = HiCLeader(BOX, 0.1, 1.0, ac, init=[0.0], seed=3, **QUIET)
    leader.reset()
    # n = 0: threshold 0.5 * 1.0; a move of 0.4 settles at stage 2.
    drive(leader, 2, follower_obs=lambda t: np.array([0.4 * t]))
    assert leader.update_index == 1
    # n = 1: threshold 0.25; a move of 0.4 does not settle, 0.2 does.
    drive(leader, 2, follower_obs=lambda t: np.array([0.4 * t]))
    assert leader.update_index == 1
    drive(leader, 1, follower_obs=lambda t: np.array([0.6]))
    assert leader.update_index == 2


def test_schedules_are_indexed_by_update():
    # alpha_n = 1 / (n + 1): the n-th step is exactly alpha_n * s / (delta Delta).
    leader = HiCLeader(BOX, lambda n: 1.0 / (n + 1), 0.5, 1, init=[0.0], seed=4, **QUIET)
    leader.reset()
    for n in range(4):
        x, x_t = leader.strategy[0], leader.act(None)[0]
        leader.observe(1.0, np.zeros(1))
        assert leader.strategy[0] == pytest.approx(x + 1.0 / (n + 1) / (x_t - x))


def test_batch_rows_are_independent_leaders():
    # A batch's rows each follow Eq. (11) with their own Delta: step sign = Delta sign.
    S = 50
    leader = HiCLeader(BOX, 0.1, 0.5, 2, init=[0.0], num_envs=S, seed=5, **QUIET)
    leader.reset()
    x_t = leader.act(np.zeros((S, 1))).copy()
    for _ in range(2):
        leader.observe(np.full(S, 3.0), np.zeros((S, 1)))
    np.testing.assert_allclose(leader.strategy[:, 0], 0.1 * 3.0 / x_t[:, 0])
    assert 0 < np.sum(x_t > 0) < S


def test_same_seed_same_actions_bit_for_bit():
    def run(seed):
        leader = HiCLeader(BOX, 0.05, 0.5, 3, baseline=0.9, seed=seed, num_envs=8, **QUIET)
        leader.reset()
        out = []
        for _ in range(60):
            a = leader.act(np.zeros((8, 1)))
            out.append(a.copy())
            leader.observe(-((a[:, 0] - 1.0) ** 2), np.zeros((8, 1)))
        return np.array(out), leader.strategy

    (a1, x1), (a2, x2), (a3, _) = run(11), run(11), run(12)
    assert np.array_equal(a1, a2) and np.array_equal(x1, x2)
    assert not np.array_equal(a1, a3)


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"commitment": 2.5}, ValueError, "whole number"),
        ({"commitment": 0}, ValueError, "commitment"),
        ({"commitment": lambda n: 1.5}, ValueError, "whole numbers"),
        ({"baseline": 1.0}, ValueError, "baseline"),
        ({"baseline": "0.9"}, TypeError, "baseline"),
        ({"average_last": 0}, ValueError, "average_last"),
        ({"two_sided": True, "baseline": 0.9}, ValueError, "two_sided"),
        ({"step_size": -0.1}, ValueError, "step_size"),
        ({"perturbation": "x"}, TypeError, "perturbation"),
    ],
)
def test_bad_arguments(kwargs, err, match):
    args = {"step_size": 0.1, "perturbation": 0.5, "commitment": 2, **kwargs}
    with pytest.raises(err, match=match):
        leader = HiCLeader(BOX, **args, **QUIET)
        leader.reset(seed=0)  # schedule callables are first evaluated here


def test_adaptive_default_tolerance_decays_like_one_over_n():
    ac = AdaptiveCommitment()
    assert (ac.min_length, ac.max_length) == (2, 10_000)
    assert ac.tol(0) == pytest.approx(0.01) and ac.tol(9) == pytest.approx(0.001)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_length": 1}, "min_length"),
        ({"min_length": 5, "max_length": 4}, "max_length"),
        ({"tol": 0.0}, "tol"),
        ({"max_length": 2.5}, "max_length"),
    ],
)
def test_adaptive_commitment_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaptiveCommitment(**kwargs)


def test_misuse():
    with pytest.raises(TypeError, match="Box"):
        HiCLeader(spaces.Discrete(3), 0.1, 0.5, 2, **QUIET)
    leader = HiCLeader(BOX, 0.1, 0.5, 2, **QUIET)
    with pytest.raises(RuntimeError, match="reset"):
        leader.act(None)
    with pytest.raises(RuntimeError, match="reset"):
        leader.observe(0.0, np.zeros(1))
