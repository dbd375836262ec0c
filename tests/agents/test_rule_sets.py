"""Issue 18: every learner is a rule set, and under NumPy it reproduces the pre-refactor
learners (``reference_learners.py``, a frozen copy) bit for bit, in the same process."""

from __future__ import annotations

import numpy as np
import pytest
import reference_learners as R

import agents
from agents.compose.runner import BatchRunner
from agents.hic import AdaptiveCommitment
from agents.lola import LOLALeader
from agents.schedules import LogLinear, PowerLaw
from hic_envs.games import Duopoly, QuadraticGame, SecurityGame

SEEDS = (0, 1, 7)

# Hi-C options: every option of the leader, alone and in the combinations it allows.
HIC_OPTIONS = {
    "plain": {},
    "baseline": {"baseline": 0.9},
    "baseline_init": {"baseline": 0.5, "baseline_init": 10.0},
    "average_last": {"average_last": 3},
    "two_sided": {"two_sided": True},
    "burn_in": {"burn_in": 3},
    "burn_in_baseline": {"burn_in": 4, "baseline": 0.8},
    "interval_schedules": {"interval_schedules": True, "burn_in": 2, "baseline": 0.9},
    "adaptive": {"commitment": AdaptiveCommitment(min_length=2, max_length=12)},
    "adaptive_avg": {
        "commitment": AdaptiveCommitment(tol=0.5, min_length=3, max_length=9),
        "average_last": 2,
        "baseline": 0.9,
    },
    "schedules": {
        "step_size": PowerLaw(0.5, 0.602),
        "perturbation": PowerLaw(0.8, 0.101),
        "commitment": LogLinear(1.0, 2.0, ceil=True),
        "average_last": 4,
    },
    "init": {"init": np.array([20.0])},
}


def _hic(mod, game, S, **opts):
    kw = {"step_size": 0.05, "perturbation": 0.5, "commitment": 4} | opts
    ac = kw.get("commitment")
    if isinstance(ac, AdaptiveCommitment):  # the module's own class
        kw["commitment"] = mod.AdaptiveCommitment(ac.tol, ac.min_length, ac.max_length)
    sa, pe, co = kw.pop("step_size"), kw.pop("perturbation"), kw.pop("commitment")
    return mod.HiCLeader(game, sa, pe, co, num_envs=S, check_assumptions=False, **kw)


def _followers(mod, game, S):
    return {
        "gradient": lambda: mod.GradientAscentFollower(game, 0.1, num_envs=S),
        "stochastic": lambda: mod.StochasticGradientFollower(game, 0.1, 0.3, num_envs=S),
        "best_response": lambda: mod.BestResponseFollower(game, num_envs=S),
    }


def _leaders(mod, game, S):
    return {
        "hic": lambda: _hic(mod, game, S, baseline=0.9),
        "sga": lambda: mod.SGALeader(game, 0.01, num_envs=S, noise_std=0.1),
        "hierarchical": lambda: mod.HierarchicalGradientLeader(game, 0.01, num_envs=S),
        "oracle": lambda: mod.OracleSPSALeader(
            game, 0.05, 0.5, 2, num_envs=S, check_assumptions=False
        ),
        "oracle_two_sided": lambda: mod.OracleSPSALeader(
            game, 0.05, 0.5, 1, num_envs=S, two_sided=True, check_assumptions=False
        ),
        "lola": lambda: (LOLALeader if mod is agents else R.LOLALeader)(
            game, 0.01, num_envs=S, lookahead=0.5
        ),
        "lola_original": lambda: (LOLALeader if mod is agents else R.LOLALeader)(
            game, 0.01, num_envs=S, correction=False, noise_std=0.2
        ),
    }


def _same(a, b):
    for f in ("row", "update", "stage", "leader_strategies", "follower_strategies"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    assert np.array_equal(a.final_leader, b.final_leader)
    assert np.array_equal(a.final_follower, b.final_follower)


def _run_both(make_new, make_ref, game, seed, stages=400, chunks=(150, 250), **kw):
    runs = []
    for make in (make_new, make_ref):
        leader, follower = make()
        runner = BatchRunner(game, leader, follower, seed=seed, noise_std=0.5, **kw)
        runs.append([runner.run(c) for c in chunks])
    for a, b in zip(*runs, strict=True):
        _same(a, b)


@pytest.mark.parametrize("option", sorted(HIC_OPTIONS))
@pytest.mark.parametrize("seed", SEEDS)
def test_hic_options_reproduce_the_reference_bit_for_bit(option, seed):
    game, S = Duopoly(), 5
    opts = HIC_OPTIONS[option]
    _run_both(
        lambda: (
            _hic(agents, game, S, **opts),
            agents.GradientAscentFollower(game, 0.1, num_envs=S),
        ),
        lambda: (_hic(R, game, S, **opts), R.GradientAscentFollower(game, 0.1, num_envs=S)),
        game,
        seed,
        max_cycles=97,
    )


@pytest.mark.parametrize(
    "leader", ["hic", "sga", "hierarchical", "oracle", "oracle_two_sided", "lola", "lola_original"]
)
@pytest.mark.parametrize("follower", ["gradient", "stochastic", "best_response"])
@pytest.mark.parametrize("seed", SEEDS)
def test_every_pair_reproduces_the_reference_bit_for_bit(leader, follower, seed):
    game, S = QuadraticGame(), 4
    _run_both(
        lambda: (_leaders(agents, game, S)[leader](), _followers(agents, game, S)[follower]()),
        lambda: (_leaders(R, game, S)[leader](), _followers(R, game, S)[follower]()),
        game,
        seed,
        stages=300,
        chunks=(120, 180),
        max_cycles=50,
    )


@pytest.mark.parametrize("simplex", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_mirror_follower_reproduces_the_reference(simplex, seed):
    game, S = SecurityGame(), 3
    if simplex:
        game = SecurityGame(follower_low=0.0, follower_high=1.0) if False else game

    def make(mod):
        leader = _hic(mod, game, S, commitment=3)
        kw = {"simplex": True} if simplex and np.all(game.follower_low <= 0) else {}
        return leader, mod.EntropicMirrorFollower(game, 0.05, num_envs=S, **kw)

    _run_both(lambda: make(agents), lambda: make(R), game, seed, chunks=(60, 90))
