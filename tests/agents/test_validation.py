"""Validation and overflow defects of the schedules and agents (issue 10 defects 2, 8, 11, 13).

Each test here failed on main before the fix it names and passes now.
"""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from agents import (
    BestResponseFollower,
    EntropicMirrorFollower,
    GradientAscentFollower,
    HiCLeader,
    SGALeader,
    StochasticGradientFollower,
)
from agents.hic import AdaptiveCommitment
from agents.schedules import (
    MAX_COMMITMENT,
    CommitmentSchedule,
    Constant,
    Logarithmic,
    PowerLaw,
    commitment_lengths,
    evaluate,
)
from hic_envs.games import Duopoly, RandomQuadraticGame, SecurityGame


def _box(d: int = 1) -> spaces.Box:
    return spaces.Box(np.zeros(d), np.full(d, 50.0), dtype=np.float64)


# ---------------------------------------------------------------------- defect 8: overflow
def test_commitment_schedule_refuses_k_beyond_int64_instead_of_wrapping():
    # beta mu = 1e-20: log(1 - beta mu) rounds to 0 and main gave k_n = 1 (the leader then
    # heads to Nash); with log1p, k_n ~ 8e20 stages, which no int64 counter holds.
    sched = CommitmentSchedule(1e-20, 1.0, 1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match=r"CommitmentSchedule must give between 1 and 2\*\*62"):
        sched(5)
    with pytest.raises(ValueError, match=r"at n=0"):
        sched(np.arange(3))


def test_commitment_schedule_uses_log1p():
    # beta mu = 1e-10: log(1 - 1e-10) carries a relative error of ~1e-7, log1p none.
    sched = CommitmentSchedule(1e-10, 1.0, 1.0, 1.0, 0.5)
    expected = np.ceil(2.0 * np.log(0.5) / np.log1p(-1e-10))
    assert sched(0) == int(expected)


def test_commitment_schedule_defaults_unchanged():
    sched = CommitmentSchedule(0.25, 2.0, 100.0, 1.0, PowerLaw(1.0, 0.6))
    n = np.arange(2000)
    k_log = np.ceil(
        2.0
        * (np.log(PowerLaw(1.0, 0.6)(n)) - np.log(100.0) - np.log(np.maximum(n, 1.0)))
        / np.log(1.0 - 0.5)
    )
    np.testing.assert_array_equal(sched(n), np.maximum(k_log, 1).astype(np.int64))


# Refused with the message alone: no NumPy warning about casting a value past int64 on the way.
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("commitment", [2**63, 2**64 + 7, 1e19, lambda n: 2.0**70])
def test_hic_leader_refuses_commitments_beyond_int64(commitment):
    leader = HiCLeader(_box(), 0.1, 0.5, commitment, check_assumptions=False)
    with pytest.raises(ValueError, match=r"commitment must give between 1 and 2\*\*62 stages"):
        leader.reset(seed=0)


def test_largest_commitment_is_accepted():
    leader = HiCLeader(_box(), 0.1, 0.5, MAX_COMMITMENT, check_assumptions=False)
    leader.reset(seed=0)
    assert leader.state["k"][0] == MAX_COMMITMENT
    for _ in range(3):
        leader.act([1.0])
        leader.observe(1.0, [1.0])
    assert leader.update_index == 0


def test_adaptive_commitment_max_length_bounded():
    with pytest.raises(ValueError, match=r"max_length=.* exceeds 2\*\*62"):
        AdaptiveCommitment(max_length=2**63)


def test_commitment_lengths_names_the_index():
    with pytest.raises(ValueError, match=r"whole numbers of stages, got 2.5 at n=7"):
        commitment_lengths(np.array([3.0, 2.5]), np.array([6, 7]))
    with pytest.raises(ValueError, match=r"got nan at n=6"):
        commitment_lengths(np.array([np.nan]), np.array([6]))


# ---------------------------------------------------------------------- defect 2: overflow
def _run_leader(leader, rewards):
    leader.reset(seed=0)
    for r in rewards:
        leader.act([25.0])
        leader.observe(r, [25.0])
    return leader.strategy


def test_average_last_window_mean_does_not_overflow():
    # Two finite rewards of 1.7e308: their sum is inf and main turned the step into NaN or
    # inf; the mean is 1.7e308.
    leader = HiCLeader(
        _box(),
        Constant(1e-310),
        0.5,
        2,
        average_last=2,
        init=[25.0],
        check_assumptions=False,
    )
    leader.reset(seed=0)
    for _ in range(2):
        leader.act([25.0])
        leader.observe(1.7e308, [25.0])
    assert leader.state["n"][0] == 1
    x = leader.strategy
    assert np.all(np.isfinite(x))
    # the step is alpha * mean / (delta Delta) = 1e-310 * 1.7e308 / 0.5 = 0.034 in magnitude
    np.testing.assert_allclose(np.abs(x - 25.0), [1e-310 * 1.7e308 / 0.5], rtol=1e-9)


def test_two_sided_difference_does_not_overflow():
    leader = HiCLeader(
        _box(),
        Constant(1e-310),
        0.5,
        1,
        two_sided=True,
        init=[25.0],
        check_assumptions=False,
    )
    leader.reset(seed=0)
    for r in (1.7e308, -1.7e308):
        leader.act([25.0])
        leader.observe(r, [25.0])
    x = leader.strategy
    assert np.all(np.isfinite(x))
    np.testing.assert_allclose(np.abs(x - 25.0), [1e-310 * 1.7e308 / 0.5], rtol=1e-9)


def test_window_mean_of_ordinary_rewards_is_unchanged():
    leader = HiCLeader(_box(), 0.01, 0.5, 3, average_last=3, init=[25.0], check_assumptions=False)
    rng = np.random.default_rng(0)
    rewards = rng.normal(300.0, 1.0, 30)
    leader.reset(seed=0)
    delta_signs = []
    for t, r in enumerate(rewards):
        leader.act([25.0])
        if t % 3 == 0:
            delta_signs.append(float(leader.state["Delta"][0, 0]))
        leader.observe(r, [25.0])
    x = 25.0
    for i, sign in enumerate(delta_signs):
        # the mean as main computed it: the window's ring holds stages 1, 2, 3 of the
        # interval in slots 1, 2, 0, summed in slot order
        r1, r2, r3 = rewards[3 * i : 3 * i + 3]
        s = ((r3 + r1) + r2) / 3
        x = float(np.clip(x + 0.01 * s / 0.5 / sign, 0.0, 50.0))
    assert leader.strategy[0] == x


# ---------------------------------------------------------------------- defect 13: schedules
@pytest.mark.parametrize(
    ("factory", "err", "match"),
    [
        (lambda: Constant(True), TypeError, "value must be a real number, got True"),
        (lambda: Constant("0.1"), TypeError, "value must be a real number, got '0.1'"),
        (lambda: PowerLaw(True, 0.5), TypeError, "a must be a real number, got True"),
        (lambda: PowerLaw(1.0, True), TypeError, "gamma must be a real number, got True"),
        (lambda: PowerLaw(1.0, 0.5, A="3"), TypeError, "A must be a real number, got '3'"),
        (lambda: PowerLaw(1, gamma=35), ValueError, r"leaves float64 .* before n = 2\*\*62"),
        (lambda: PowerLaw(1e-300, gamma=1.0), ValueError, "leaves float64"),
        (lambda: Logarithmic(1.0, base=False), TypeError, "base must be a real number"),
        (lambda: Logarithmic(1e300, base=1 + 1e-15), ValueError, "leaves float64"),
        (lambda: Constant(10**400), ValueError, "value must be a finite number"),
    ],
)
def test_schedule_arguments(factory, err, match):
    with pytest.raises(err, match=match):
        factory()


def test_power_law_limits_are_tight():
    PowerLaw(1.0, 16.0)  # (2**62)^16 = 1e303 still fits
    PowerLaw(1e-300, 0.1)


@pytest.mark.parametrize("value", ["0.1", b"0.1", True, None, [0.1], 1 + 2j])
def test_schedule_returning_a_non_number_is_refused(value):
    with pytest.raises(TypeError, match=r"step_size must give real numbers, got .* at n=0"):
        evaluate(lambda n: value, np.array([0, 1]), "step_size")


def test_schedule_object_returning_strings_is_refused():
    class Strings(PowerLaw):
        def __call__(self, n):
            return np.full(np.shape(n), "0.1")

    with pytest.raises(TypeError, match="perturbation must give real numbers"):
        evaluate(Strings(1.0, 0.5), np.array([0, 1]), "perturbation")


def test_hic_leader_refuses_string_schedule_values_at_reset():
    leader = HiCLeader(_box(), 0.1, lambda n: "0.1", 2, check_assumptions=False)
    with pytest.raises(TypeError, match="perturbation must give real numbers"):
        leader.reset(seed=0)


@pytest.mark.parametrize("value", ["no", 1, None])
def test_two_sided_must_be_a_bool(value):
    with pytest.raises(TypeError, match="two_sided must be a bool"):
        HiCLeader(_box(), 0.1, 0.5, 2, two_sided=value, check_assumptions=False)


def test_follower_arguments_refuse_strings_and_non_bools():
    with pytest.raises(TypeError, match="noise_std must be a number, got '1'"):
        StochasticGradientFollower(Duopoly(), 0.1, "1")
    with pytest.raises(TypeError, match="simplex must be a bool, got 'yes'"):
        EntropicMirrorFollower(SecurityGame(), 0.1, simplex="yes")
    with pytest.raises(TypeError, match="step_size"):
        GradientAscentFollower(Duopoly(), True)


# ---------------------------------------------------------------------- defect 11: agent side
@pytest.mark.parametrize(
    "make",
    [
        lambda g, S: GradientAscentFollower(g, 0.1, num_envs=S),
        lambda g, S: StochasticGradientFollower(g, 0.1, 0.5, num_envs=S),
        lambda g, S: BestResponseFollower(g, num_envs=S),
    ],
)
@pytest.mark.parametrize("S", [None, 3])
def test_followers_refuse_observations_of_the_wrong_dimension(make, S):
    game = RandomQuadraticGame(d1=2, d2=3)
    agent = make(game, S)
    agent.reset(seed=0)
    rows = () if S is None else (S,)
    reward = 0.0 if S is None else np.zeros(S)
    agent.observe(reward, np.zeros(rows + (2,)))  # the right shape plays
    y = agent.strategy.copy()
    with pytest.raises(ValueError, match=r"observation must have shape"):
        agent.observe(reward, np.zeros(rows + (3,)))
    assert np.array_equal(agent.strategy, y)  # nothing changed


def test_entropic_follower_and_sga_leader_refuse_wrong_dimensions():
    game = SecurityGame()
    follower = EntropicMirrorFollower(game, 0.1)
    follower.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(3,\), got shape \(2,\)"):
        follower.observe(0.0, np.zeros(2))
    leader = SGALeader(game, 0.1, num_envs=2)
    leader.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(2, 3\), got shape \(2, 4\)"):
        leader.observe(np.zeros(2), np.ones((2, 4)))
