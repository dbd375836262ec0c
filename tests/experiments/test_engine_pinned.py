"""Today's results, pinned bit for bit: the engine's speed work must change none of them.

Each case plays a configuration through :func:`agents.run_batch` (or :class:`BatchRunner` in
chunks, or :func:`agents.play`) and compares the SHA-256 of every output array's bytes, dtype
and shape with a literal recorded before the fast-forwarded engine existed (issue 9). A
mismatch means a change altered results; regenerate the literals only for a change that is
meant to alter them, and say so in its commit. (The literals were regenerated once, when the
issue-10 bug fixes landed: the hierarchical gradient at the boundary changed the duopoly's
preset step; the fast-forwarded engine was checked to give these same digests as the engine
before it, on the same code.)

Every game here is element-wise float64 arithmetic (no BLAS, no transcendental functions), so
the hashes do not depend on the CPU's BLAS kernels: IEEE-754 makes each operation exact.
"""

from __future__ import annotations

import hashlib

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


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:32]


_FIELDS = (
    "row",
    "update",
    "stage",
    "leader_strategies",
    "follower_strategies",
    "final_leader",
    "final_follower",
)


def _batch_digest(h) -> str:
    return _digest(*(getattr(h, f) for f in _FIELDS))


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
    "hic-2d-noise": "9488acc1658120b0bafbd4f3a0886550",
    "hic-S1-noise": "fbeb7236ad7ef0879089edf25ab7a343",
    "hic-adaptive": "2ea042f26436194dd865324192cace03",
    "hic-adaptive-average-noise": "3ca79ab9e7aff80002baf9a5e150a646",
    "hic-average-last": "c1fec0c6b1886041e1e0f51f4a67dfb5",
    "hic-best-response": "fc49c431980b3d615405dc97e0c919c5",
    "hic-cooperative": "a6b7cb107c2d05a7acfd63afa686eeb6",
    "hic-default": "423fb7fa0ef5d26c35de110302a24a6f",
    "hic-echo-follower-episodes": "dd7f14f29dbe4ce0edbd9f7c03e366b9",
    "hic-fixed-k-short-episodes": "c2571942b8b744ea4efd939159e076fe",
    "hic-no-baseline-log-record": "ed846a928bd315d93f1af154e88b5298",
    "hic-noise": "cfbc2d01920422845476d1ca7b7772ab",
    "hic-published-options": "c6a6a1e82151e1ccc13a27e016c08c7b",
    "hic-stochastic-follower": "e873c5a7c37b9be93ffb08a9c5a3ca72",
    "hic-two-sided": "24387a93aed837ea41f1998ab26326da",
    "hic-zero-sum": "72b1ad515c506deeff783373d87ec4e2",
    "hierarchical-baseline": "26f5ca3812d794c241f52407409785a0",
    "oracle-spsa": "7f6611d1284b6bf4672b8e26dc9620db",
    "sga-baseline": "86fc8b5e56e8d1c8c3595d3ecf43196e",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_run_batch_pinned(name):
    build, S, stages, noise, cycles, record = CASES[name]
    game, leader, follower = build(S)
    h = run_batch(
        game, leader, follower, stages, seed=11, noise_std=noise, max_cycles=cycles, record=record
    )
    assert _batch_digest(h) == PINNED[name]


@pytest.mark.parametrize("name", ["hic-noise", "hic-adaptive", "hic-fixed-k-short-episodes"])
def test_chunked_runner_pinned(name):
    """``run(a)`` then ``run(b)`` then ``run(c)``, at chunk ends that cut intervals, equals the
    pinned ``run(a + b + c)`` (finals of the last chunk; records joined)."""
    build, S, stages, noise, cycles, record = CASES[name]
    game, leader, follower = build(S)
    runner = BatchRunner(
        game, leader, follower, 11, noise_std=noise, max_cycles=cycles, record=record
    )
    parts = [runner.run(n) for n in (1, 999, 0, stages - 1000)]
    assert _batch_digest(BatchHistory.concatenate(parts)) == PINNED[name]


PLAY_CASES = {
    "play-hic-noise": (lambda: (DUO, _hic(DUO, None), _grad(DUO, None)), 3000, 2.0, 1000),
    "play-hic-short-episodes": (
        lambda: (DUO, HiCLeader(DUO, 0.05, 0.5, 4, check_assumptions=False), EchoFollower(DUO)),
        1500,
        0.5,
        7,
    ),
}

PLAY_PINNED = {
    "play-hic-noise": "91213a06cebf07b025a5275639adae9f",
    "play-hic-short-episodes": "cbc22fc9e39267834e92a57900a42303",
}


@pytest.mark.parametrize("name", sorted(PLAY_CASES))
def test_play_pinned(name):
    build, stages, noise, cycles = PLAY_CASES[name]
    game, leader, follower = build()
    h = play(GameEnv(game, max_cycles=cycles, noise_std=noise), leader, follower, stages, seed=11)
    got = _digest(
        h.leader_actions,
        h.follower_actions,
        h.leader_rewards,
        h.follower_rewards,
        h.update_stages,
        h.leader_strategies,
        h.follower_strategies,
    )
    assert got == PLAY_PINNED[name]
