"""Bit-identity of the engine's paths, proved in one process; today's results pinned to a tolerance.

Bit for bit (same process, same machine): each configuration played through
:func:`agents.compose.run_batch` equals the same configuration behind proxies that hide the
agents' fast-forward face (every stage played in full), equals :class:`BatchRunner` run in
chunks that cut intervals, and a batch of one equals :func:`agents.compose.play`'s loop. These
comparisons hold on any CPU because both sides run the same library functions on the same
machine.

Across machines only a tolerance is pinned: the preset step sizes and the schedules go through
``pow``/``log``/``exp``, whose last bits depend on the CPU (NumPy picks SIMD implementations at
run time: with ``NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR"`` on an AVX-512
machine the old SHA-256 pins of this file failed in 13 of 24 cases, issue 17). The final
strategies moved by at most 2.6e-15 relative there (``scripts/last_bits.py``), so
``rtol=1e-9`` catches any real change of the results while tolerating the last bits.
"""

from __future__ import annotations

import numpy as np
import pytest

from agents import (
    BestResponseFollower,
    GradientAscentFollower,
    HiCLeader,
    HierarchicalGradientLeader,
    OracleSPSALeader,
    SGALeader,
    StochasticGradientFollower,
)
from agents.base import BatchAgent
from agents.compose import play
from agents.compose.engines.runner import BatchHistory, BatchRunner, run_batch
from agents.hic import AdaptiveCommitment
from agents.presets import follower_step_size
from agents.schedules import PowerLaw
from hic_envs import GameEnv
from hic_envs.games import CooperativeGame, Duopoly, ZeroSumNoNash
from hic_envs.games.base import Game


class Separable2D(Game):
    """A 2-D leader, 2-D follower game in element-wise arithmetic (no BLAS, so its results do
    not depend on the CPU): ``f1 = sum(-(x - 1)^2 + x y) - 0.5 |y|^2``,
    ``f2 = sum(-(y - 0.5 x)^2)``."""

    name = "Separable2D"

    def __init__(self) -> None:
        super().__init__([-2.0, -2.0], [2.0, 2.0], [-3.0, -3.0], [3.0, 3.0], mu=2.0, K2=2.0)

    def leader_payoff(self, x, y):
        return (-((x - 1.0) ** 2) + x * y - 0.5 * y * y).sum(axis=-1)

    def follower_payoff(self, x, y):
        return (-((y - 0.5 * x) ** 2)).sum(axis=-1)

    def follower_grad(self, x, y):
        return -2.0 * (y - 0.5 * x)

    def best_response(self, x):
        return np.clip(0.5 * np.asarray(x, dtype=np.float64), -3.0, 3.0)


class EchoFollower(BatchAgent):
    """A follower whose action depends on what it observes (half the leader's last action):
    the reset observations at episode starts reach its play. Duck-typed for the engine: it
    says nothing about when it needs observations, so it gets them every stage."""

    state_attrs = ("_y",)
    updates_all_rows = True

    def __init__(self, game: Game, num_envs=None) -> None:
        super().__init__(game.follower_low, game.follower_high, num_envs=num_envs)

    def _reset(self) -> None:
        self._y = np.zeros((self._S, self.dim))

    def _act(self, obs):
        return np.clip(0.5 * obs[:, :1], self.low, self.high)

    def _observe(self, reward, obs):
        self._y = np.clip(0.5 * obs[:, :1], self.low, self.high)
        self.updates += self._S

    def _strategy(self):
        return self._y


def _hic(game, S, **kw):
    return HiCLeader.for_game(game, num_envs=S, check_assumptions=False, **kw)


def _grad(game, S, step=None):
    return GradientAscentFollower(
        game, follower_step_size(game) if step is None else step, num_envs=S
    )


DUO = Duopoly()

# name: (builder(S) -> (game, leader, follower), S, stages, noise_std, max_cycles, record)
CASES = {
    "hic-default": (lambda S: (DUO, _hic(DUO, S), _grad(DUO, S)), 7, 4000, 0.0, 1000, "all"),
    "hic-noise": (lambda S: (DUO, _hic(DUO, S), _grad(DUO, S)), 7, 4000, 2.0, 1000, "all"),
    "hic-S1-noise": (lambda S: (DUO, _hic(DUO, S), _grad(DUO, S)), 1, 4000, 2.0, 1000, "all"),
    "hic-stochastic-follower": (
        lambda S: (DUO, _hic(DUO, S), StochasticGradientFollower(DUO, 0.1, 1.5, num_envs=S)),
        7,
        4000,
        0.5,
        1000,
        "all",
    ),
    "hic-two-sided": (
        lambda S: (DUO, _hic(DUO, S, two_sided=True), _grad(DUO, S)),
        7,
        4000,
        1.0,
        1000,
        "all",
    ),
    "hic-average-last": (
        lambda S: (DUO, _hic(DUO, S, average_last=5), _grad(DUO, S)),
        7,
        4000,
        1.0,
        1000,
        "all",
    ),
    "hic-adaptive": (
        lambda S: (DUO, _hic(DUO, S, commitment=AdaptiveCommitment(max_length=60)), _grad(DUO, S)),
        7,
        4000,
        0.0,
        1000,
        "all",
    ),
    "hic-adaptive-average-noise": (
        lambda S: (
            DUO,
            _hic(
                DUO, S, commitment=AdaptiveCommitment(min_length=3, max_length=40), average_last=4
            ),
            _grad(DUO, S),
        ),
        7,
        4000,
        0.3,
        1000,
        "all",
    ),
    "hic-published-options": (
        lambda S: (
            DUO,
            _hic(DUO, S, baseline=0.9, burn_in=3, baseline_init=0.0, interval_schedules=True),
            _grad(DUO, S, PowerLaw(0.2, 0.3)),
        ),
        7,
        4000,
        0.0,
        1000,
        "all",
    ),
    "hic-no-baseline-log-record": (
        lambda S: (DUO, _hic(DUO, S, baseline=None), _grad(DUO, S)),
        7,
        6000,
        0.0,
        1000,
        "log",
    ),
    "hic-fixed-k-short-episodes": (
        lambda S: (
            DUO,
            HiCLeader(DUO, 0.05, 0.5, 5, num_envs=S, check_assumptions=False),
            _grad(DUO, S),
        ),
        7,
        3000,
        1.0,
        7,
        3,
    ),
    "hic-echo-follower-episodes": (
        lambda S: (
            DUO,
            HiCLeader(DUO, 0.05, 0.5, 4, num_envs=S, check_assumptions=False),
            EchoFollower(DUO, S),
        ),
        7,
        2000,
        0.5,
        7,
        "all",
    ),
    "hic-best-response": (
        lambda S: (DUO, _hic(DUO, S), BestResponseFollower(DUO, num_envs=S)),
        7,
        3000,
        0.0,
        1000,
        "all",
    ),
    "oracle-spsa": (
        lambda S: (
            DUO,
            OracleSPSALeader.for_game(DUO, num_envs=S, check_assumptions=False),
            _grad(DUO, S),
        ),
        7,
        3000,
        0.0,
        1000,
        "all",
    ),
    "sga-baseline": (
        lambda S: (DUO, SGALeader(DUO, 0.01, num_envs=S), _grad(DUO, S)),
        7,
        2000,
        1.0,
        64,
        "all",
    ),
    "hierarchical-baseline": (
        lambda S: (DUO, HierarchicalGradientLeader(DUO, 0.01, num_envs=S), _grad(DUO, S)),
        7,
        2000,
        0.0,
        1000,
        10,
    ),
    "hic-2d-noise": (
        lambda S: (
            g := Separable2D(),
            HiCLeader(
                g,
                PowerLaw(0.05, 0.602, 10.0),
                PowerLaw(0.3, 0.101),
                6,
                num_envs=S,
                check_assumptions=False,
                baseline=0.8,
            ),
            StochasticGradientFollower(g, 0.2, 0.3, num_envs=S),
        ),
        7,
        3000,
        0.7,
        50,
        "all",
    ),
    "hic-zero-sum": (
        lambda S: ((g := ZeroSumNoNash()), _hic(g, S), _grad(g, S)),
        7,
        3000,
        0.1,
        1000,
        "all",
    ),
    "hic-cooperative": (
        lambda S: ((g := CooperativeGame()), _hic(g, S), _grad(g, S)),
        7,
        3000,
        0.1,
        1000,
        "all",
    ),
}

PINNED = {
    "hic-2d-noise": (
        [1.1798810679712768, 1.1960826423722786],
        [0.6004469906909726, 0.5969426109806497],
    ),
    "hic-S1-noise": ([24.225210980256257], [12.073104178709428]),
    "hic-adaptive": ([24.631175350241982], [12.05909365832333]),
    "hic-adaptive-average-noise": ([24.33520560436157], [12.358734272330134]),
    "hic-average-last": ([24.867043386156077], [12.110915451435721]),
    "hic-best-response": ([25.271364608255862], [11.722121822939561]),
    "hic-cooperative": ([3.9092461734046773], [2.9752357733907764]),
    "hic-default": ([24.9312614704448], [12.078783119451613]),
    "hic-echo-follower-episodes": ([10.904420158870535], [5.690698986963065]),
    "hic-fixed-k-short-episodes": ([5.466547605495087], [20.136244685245163]),
    "hic-no-baseline-log-record": ([14.083272219870603], [17.51708753056653]),
    "hic-noise": ([24.30130396041116], [12.393952065907964]),
    "hic-published-options": ([25.2991610026051], [11.793921086717546]),
    "hic-stochastic-follower": ([25.19837164717914], [11.889380798310967]),
    "hic-two-sided": ([25.204993342838275], [12.038442691190562]),
    "hic-zero-sum": ([0.13316814310873865], [0.2590317992124246]),
    "hierarchical-baseline": ([24.500000010672874], [12.249999994390262]),
    "oracle-spsa": ([25.271364608255862], [11.73101223231995]),
    "sga-baseline": ([16.333333333335254], [16.333333333332295]),
}


class Plain:
    """An agent's batch face without the fast-forward face (so the engine plays every stage)."""

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


def _run(name, plain=False):
    build, S, stages, noise, cycles, record = CASES[name]
    game, leader, follower = build(S)
    if plain:
        leader, follower = Plain(leader), Plain(follower)
    return run_batch(
        game, leader, follower, stages, seed=11, noise_std=noise, max_cycles=cycles, record=record
    )


_FIELDS = (
    "row",
    "update",
    "stage",
    "leader_strategies",
    "follower_strategies",
    "final_leader",
    "final_follower",
)


def _same(a, b) -> None:
    for f in _FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and x.shape == y.shape, f
        np.testing.assert_array_equal(x, y, err_msg=f, strict=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_path_equals_every_stage_played(name):
    """The fast-forwarded engine and the engine playing every stage agree bit for bit."""
    _same(_run(name), _run(name, plain=True))


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_match_the_pinned_values_to_a_tolerance(name):
    h = _run(name)
    leader, follower = PINNED[name]
    assert len(h.row) > 0
    np.testing.assert_allclose(h.final_leader.mean(axis=0), leader, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h.final_follower.mean(axis=0), follower, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["hic-noise", "hic-adaptive", "hic-fixed-k-short-episodes"])
def test_chunked_runner_equals_one_run(name):
    """``run(a)`` then ``run(b)`` then ``run(c)``, at chunk ends that cut intervals, equals
    ``run(a + b + c)`` bit for bit (finals of the last chunk; records joined)."""
    build, S, stages, noise, cycles, record = CASES[name]
    game, leader, follower = build(S)
    runner = BatchRunner(
        game, leader, follower, 11, noise_std=noise, max_cycles=cycles, record=record
    )
    parts = [runner.run(n) for n in (1, 999, 0, stages - 1000)]
    _same(BatchHistory.concatenate(parts), _run(name))


PLAY_CASES = {
    "play-hic-noise": (
        lambda S: (DUO, _hic(DUO, S), _grad(DUO, S)),
        3000,
        2.0,
        1000,
    ),
    "play-hic-short-episodes": (
        lambda S: (
            DUO,
            HiCLeader(DUO, 0.05, 0.5, 4, num_envs=S, check_assumptions=False),
            EchoFollower(DUO, S),
        ),
        1500,
        0.5,
        7,
    ),
}


@pytest.mark.parametrize("name", sorted(PLAY_CASES))
def test_play_loop_equals_a_batch_of_one(name):
    """The environment's play loop and the batched engine with one row agree bit for bit."""
    build, stages, noise, cycles = PLAY_CASES[name]
    game, leader, follower = build(None)
    h = play(GameEnv(game, max_cycles=cycles, noise_std=noise), leader, follower, stages, seed=11)
    game, leader, follower = build(1)
    b = run_batch(game, leader, follower, stages, seed=11, noise_std=noise, max_cycles=cycles)
    st, xs, ys = b.for_row(0)
    assert len(st) > 10  # the comparison covers many updates
    np.testing.assert_array_equal(st, h.update_stages, strict=True)
    np.testing.assert_array_equal(xs, h.leader_strategies, strict=True)
    np.testing.assert_array_equal(ys, h.follower_strategies, strict=True)
