"""The engine's fast path (issue 9): agents' promises let it skip work, never change results.

Each case is run twice: with the agents as they are (the engine fast-forwards over the Hi-C
leader's quiet stages and skips payoffs nobody reads) and behind a proxy that hides the
fast-forward face (every stage played in full, as before issue 9); the histories, final
strategies and the noise generator's state must be equal bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from agents import GradientAscentFollower, HiCLeader, SGALeader, StochasticGradientFollower
from agents.base import BatchAgent
from agents.compose.engines.runner import BatchRunner
from agents.hic import AdaptiveCommitment
from agents.schedules import LogLinear, PowerLaw, ScheduleTable, evaluate
from hic_envs.games import Duopoly


class Plain:
    """The agent's batch face without the fast-forward face (a duck-typed agent)."""

    def __init__(self, agent) -> None:
        self._agent = agent
        self.num_envs, self.dim = agent.num_envs, agent.dim
        self.reset, self.act_batch = agent.reset, agent.act_batch
        self.observe_batch, self.update_counts = agent.observe_batch, agent.update_counts

    @property
    def strategies(self):
        return self._agent.strategies

    @property
    def updates(self):
        return self._agent.updates


class CountingDuopoly(Duopoly):
    """Counts payoff evaluations (batch rows x calls)."""

    calls = 0

    def payoffs(self, x, y):
        type(self).calls += 1
        return super().payoffs(x, y)


def _pair(kind: str, S: int):
    g = CountingDuopoly()
    if kind == "hic":
        return g, HiCLeader.for_game(g, num_envs=S, check_assumptions=False), _f(g, S)
    if kind == "hic-adaptive":
        leader = HiCLeader.for_game(
            g, num_envs=S, check_assumptions=False, commitment=AdaptiveCommitment(max_length=30)
        )
        return g, leader, _f(g, S)
    if kind == "hic-k2":
        return g, HiCLeader(g, 0.05, 0.5, 2, num_envs=S, check_assumptions=False), _f(g, S)
    if kind == "hic-stochastic":
        leader = HiCLeader(
            g, 0.05, 0.5, LogLinear(3.0, 5.0, ceil=True), num_envs=S, check_assumptions=False
        )
        return g, leader, StochasticGradientFollower(g, PowerLaw(0.1, 0.1), 0.7, num_envs=S)
    if kind == "sga":
        return g, SGALeader(g, 0.01, num_envs=S), _f(g, S)
    raise AssertionError(kind)


def _f(g, S):
    return GradientAscentFollower(g, 0.1, num_envs=S)


def _run(kind, S, chunks, noise, cycles, plain):
    game, leader, follower = _pair(kind, S)
    if plain:
        leader, follower = Plain(leader), Plain(follower)
    runner = BatchRunner(game, leader, follower, 5, noise_std=noise, max_cycles=cycles)
    CountingDuopoly.calls = 0  # count the run's payoffs only (not the game's own checks)
    parts = [runner.run(n) for n in chunks]
    return parts, runner.noise_rng.bit_generator.state, runner


@pytest.mark.parametrize(
    ("kind", "S", "chunks", "noise", "cycles"),
    [
        ("hic", 3, (500, 1, 37, 1462), 0.0, 1000),
        ("hic", 4, (2000,), 1.5, 13),
        ("hic", 1, (1, 1, 998), 0.3, 1),
        ("hic-adaptive", 5, (700, 300), 0.5, 100),
        ("hic-k2", 2, (333, 667), 1.0, 3),
        ("hic-stochastic", 3, (10, 1990), 2.0, 1000),
        ("sga", 3, (400,), 1.0, 50),
    ],
)
def test_fast_path_changes_nothing(kind, S, chunks, noise, cycles):
    fast, fast_rng, _ = _run(kind, S, chunks, noise, cycles, plain=False)
    slow, slow_rng, _ = _run(kind, S, chunks, noise, cycles, plain=True)
    assert fast_rng == slow_rng
    for a, b in zip(fast, slow, strict=True):
        for f in ("row", "update", "stage", "leader_strategies", "follower_strategies"):
            np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
        np.testing.assert_array_equal(a.final_leader, b.final_leader)
        np.testing.assert_array_equal(a.final_follower, b.final_follower)


def test_fast_path_skips_payoffs():
    """Hi-C (k_n >= 36 on the duopoly) against a gradient follower: payoffs are computed at
    interval ends only, i.e. on fewer than a tenth of the stages; with the face hidden, at
    every stage."""
    CountingDuopoly.calls = 0
    _run("hic", 4, (3000,), 1.0, 1000, plain=False)
    fast = CountingDuopoly.calls
    CountingDuopoly.calls = 0
    _run("hic", 4, (3000,), 1.0, 1000, plain=True)
    assert CountingDuopoly.calls == 3000
    assert 0 < fast < 300


def test_sga_reads_no_rewards_so_no_payoffs():
    CountingDuopoly.calls = 0
    _run("sga", 2, (100,), 1.0, 1000, plain=False)
    assert CountingDuopoly.calls == 0


def test_promises_are_checked():
    g = Duopoly()
    leader = HiCLeader(g, 0.05, 0.5, 10, num_envs=2, check_assumptions=False)
    leader.reset(seed=0)
    assert leader.quiet_stages() == 9  # stages 1..9 of the first interval; stage 10 ends it
    leader.skip_quiet(4)
    assert leader.quiet_stages() == 5
    with pytest.raises(ValueError, match="cannot skip 6 stages, only 5"):
        leader.skip_quiet(6)

    class Loud(BatchAgent):
        def _act(self, obs):
            return np.zeros((self._S, 1))

        def _strategy(self):
            return np.zeros((self._S, 1))

    a = Loud([0.0], [1.0], num_envs=2)
    a.reset(seed=0)
    assert a.quiet_stages() == 0 and a.reward_free_stages() == 0
    a.skip_quiet(0)
    with pytest.raises(ValueError, match="cannot skip 1 stages, only 0"):
        a.skip_quiet(1)
    with pytest.raises(ValueError, match="cannot observe 1 stages without rewards"):
        a.observe_repeated(np.zeros((2, 1)), 1)
    f = GradientAscentFollower(g, 0.1, num_envs=2)
    f.reset(seed=0)
    with pytest.raises(ValueError, match=r"observation must have shape \(2, 1\)"):
        f.observe_repeated(np.zeros((3, 1)), 5)


def test_schedule_table_equals_evaluate():
    for sched in (PowerLaw(1.07, 0.602, 100.0), PowerLaw(1.0, 0.101)):
        table = ScheduleTable(sched, "s")
        for n in (np.array([0]), np.arange(7), np.array([5000, 3, 70000]), np.arange(2047)):
            np.testing.assert_array_equal(table(n), evaluate(sched, n, "s"))
        assert table.at(12345) == float(evaluate(sched, np.array([12345]))[0])


def test_schedule_table_reports_bad_values_where_reached():
    class Shrinking(PowerLaw):
        def __call__(self, n):  # positive below n = 100, then 0
            v = super().__call__(n)
            return np.where(np.asarray(n) < 100, v, 0.0)

    table = ScheduleTable(Shrinking(1.0, 0.5), "step_size")
    np.testing.assert_array_equal(table(np.arange(100)), PowerLaw(1.0, 0.5)(np.arange(100)))
    with pytest.raises(ValueError, match="step_size must give positive finite values"):
        table(np.array([3, 100]))


def test_schedule_table_lengths_are_commitment_lengths_and_refuse_where_reached():
    from agents.schedules import LogLinear, commitment_lengths

    class Fractional(LogLinear):
        def __call__(self, n):  # whole numbers below n = 300, then k + 0.5
            v = super().__call__(n)
            return np.where(np.asarray(n) < 300, v, v + 0.5)

    for sched in (LogLinear(3.0, 5.0, ceil=True), Fractional(3.0, 5.0, ceil=True)):
        table = ScheduleTable(sched, "commitment")
        for n in (np.array([0]), np.arange(300), np.array([299, 7, 0, 299])):
            got = table.lengths(n)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, commitment_lengths(evaluate(sched, n), n))
    with pytest.raises(ValueError, match=r"whole numbers of stages, got .*\.5 at n=300"):
        table.lengths(np.array([5, 300]))
    np.testing.assert_array_equal(  # still fine below the first bad index
        table.lengths(np.array([299])), commitment_lengths(evaluate(sched, np.array([299])), [299])
    )


def test_schedule_table_never_calls_a_plain_callable_ahead():
    seen = []

    def sched(n):
        seen.append(n)
        return 0.1

    table = ScheduleTable(sched, "s")
    np.testing.assert_array_equal(table(np.array([2, 2, 5])), [0.1, 0.1, 0.1])
    assert sorted(seen) == [2, 5]


@pytest.mark.parametrize("beta", [0.1, PowerLaw(0.1, 0.1)])
@pytest.mark.parametrize("noise", [0.0, 0.7])
def test_observe_repeated_is_repeated_observe_and_writes_no_handed_out_array(beta, noise):
    g = Duopoly()
    x = np.array([[10.0], [20.0], [30.0]])
    make = (
        (lambda: StochasticGradientFollower(g, beta, noise, num_envs=3, seed=1))
        if noise
        else (lambda: GradientAscentFollower(g, beta, num_envs=3, seed=1))
    )
    fast, slow = make(), make()
    fast.reset(seed=1)
    slow.reset(seed=1)
    handed = [fast.act_batch(x), fast.strategies]
    kept = [h.copy() for h in handed]
    for n in (1, 2, 7):
        fast.observe_repeated(x, n)
        for _ in range(n):
            slow.observe_batch(np.full(3, np.nan), x)
        assert fast.strategies.tobytes() == slow.strategies.tobytes()
        assert fast.update_counts().tolist() == slow.update_counts().tolist()
        handed.append(fast.act_batch(x))
        kept.append(handed[-1].copy())
    for h, k in zip(handed, kept, strict=True):
        assert h.tobytes() == k.tobytes()  # the step wrote into fresh buffers only


def test_observe_repeated_keeps_a_subclass_step():
    class Damped(GradientAscentFollower):
        def _gradient(self, x):
            return 0.5 * super()._gradient(x)

    g = Duopoly()
    x = np.full((2, 1), 12.0)
    a, b = Damped(g, 0.1, num_envs=2), Damped(g, 0.1, num_envs=2)
    a.reset(seed=3)
    b.reset(seed=3)
    a.observe_repeated(x, 5)
    for _ in range(5):
        b.observe_batch(np.full(2, np.nan), x)
    assert a.strategies.tobytes() == b.strategies.tobytes()


def test_fast_forward_counts_must_be_non_negative_integers():
    g = Duopoly()
    leader = HiCLeader(g, 0.05, 0.5, 10, num_envs=2, check_assumptions=False)
    follower = GradientAscentFollower(g, 0.1, num_envs=2)
    leader.reset(seed=0)
    follower.reset(seed=0)
    x = np.zeros((2, 1))
    with pytest.raises(ValueError, match="stages must be >= 0, got -1"):
        leader.skip_quiet(-1)
    with pytest.raises(ValueError, match="stages must be >= 0, got -3"):
        follower.observe_repeated(x, -3)
    with pytest.raises(TypeError, match=r"stages must be an integer, got 2\.5"):
        follower.observe_repeated(x, 2.5)
    with pytest.raises(TypeError, match="stages must be an integer, got True"):
        leader.skip_quiet(True)
    follower.observe_repeated(x, np.int64(0))  # zero stages: nothing happens
    assert follower.updates == 0


def test_a_replaced_step_size_is_used():
    g = Duopoly()
    a, b = GradientAscentFollower(g, 0.1, num_envs=2), GradientAscentFollower(g, 0.3, num_envs=2)
    a.step_size = 0.3  # derived values (the spread constant step) follow the new schedule
    x = np.full((2, 1), 12.0)
    for f in (a, b):
        f.reset(seed=4)
        f.observe_repeated(x, 5)
        f.observe_batch(np.full(2, np.nan), x)
    assert a.strategies.tobytes() == b.strategies.tobytes()
    c = GradientAscentFollower(g, PowerLaw(0.1, 0.1), num_envs=2)
    a.step_size = PowerLaw(0.1, 0.1)  # and back to a schedule of the stage index
    for f in (a, c):
        f.reset(seed=4)
        f.observe_repeated(x, 7)
    assert a.strategies.tobytes() == c.strategies.tobytes()
