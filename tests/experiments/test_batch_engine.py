"""The batched engine: a batch of one is `play`, chunks and pickles change nothing, thinning."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from agents import GradientAscentFollower, HiCLeader, SGALeader, StochasticGradientFollower
from agents.compose import play
from agents.compose.engines.runner import (
    BatchHistory,
    BatchRunner,
    Thinning,
    as_thinning,
    run_batch,
)
from hic_envs import GameEnv
from hic_envs.games import Duopoly, RandomQuadraticGame

FIELDS = ("row", "update", "stage", "leader_strategies", "follower_strategies")


def _hic(game, S=None, **kw):
    env = GameEnv(game)
    opts = dict(step_size=0.01, perturbation=0.5, commitment=7, check_assumptions=False)
    opts.update(kw)
    return HiCLeader(env.action_space("leader_0"), num_envs=S, **opts)


def _same(a: BatchHistory, b: BatchHistory) -> None:
    for f in (*FIELDS, "final_leader", "final_follower"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


CASES = {
    # name: (game, leader factory, follower factory, noise_std, max_cycles)
    "hic-plain": (Duopoly(), lambda g, S: _hic(g, S), "gradient", 0.0, 1000),
    "hic-noise-episodes": (
        Duopoly(),
        lambda g, S: _hic(g, S, baseline=0.9, average_last=3),
        "gradient",
        2.0,
        37,
    ),
    "hic-two-sided-2d": (
        RandomQuadraticGame(d1=2, d2=3, seed=1),
        lambda g, S: _hic(g, S, two_sided=True, commitment=5),
        "stochastic",
        0.5,
        50,
    ),
    "sga-every-stage": (
        Duopoly(),
        lambda g, S: SGALeader(g, 0.01, num_envs=S),
        "gradient",
        1.0,
        64,
    ),
}


def _follower(kind, game, S):
    if kind == "gradient":
        return GradientAscentFollower(game, 0.1, num_envs=S)
    return StochasticGradientFollower(game, 0.1, noise_std=0.3, num_envs=S)


@pytest.mark.parametrize("case", sorted(CASES))
def test_batch_of_one_reproduces_play(case):
    game, make_leader, fkind, noise, max_cycles = CASES[case]
    stages, seed = 1500, 11
    env = GameEnv(game, max_cycles=max_cycles, noise_std=noise)
    h = play(env, make_leader(game, None), _follower(fkind, game, None), stages, seed=seed)
    b = run_batch(
        game,
        make_leader(game, 1),
        _follower(fkind, game, 1),
        stages,
        seed=seed,
        noise_std=noise,
        max_cycles=max_cycles,
    )
    st, xs, ys = b.for_row(0)
    assert len(st) > 10  # the comparison covers many updates
    np.testing.assert_array_equal(st, h.update_stages)
    np.testing.assert_array_equal(xs, h.leader_strategies)
    np.testing.assert_array_equal(ys, h.follower_strategies)
    np.testing.assert_array_equal(b.update[b.row == 0], np.arange(len(st)))


@pytest.mark.parametrize("case", sorted(CASES))
def test_chunks_and_pickling_change_nothing(case):
    game, make_leader, fkind, noise, max_cycles = CASES[case]
    S, seed = 6, 3

    def runner():
        return BatchRunner(
            game,
            make_leader(game, S),
            _follower(fkind, game, S),
            seed,
            noise_std=noise,
            max_cycles=max_cycles,
        )

    whole = runner().run(1000)
    r = runner()
    parts = [r.run(333)]
    r = pickle.loads(pickle.dumps(r))  # a checkpoint mid-run
    parts += [r.run(0), r.run(1), r.run(666)]
    assert r.stage == 1000
    _same(BatchHistory.concatenate(parts), whole)


def test_rows_are_independent_seeds():
    game = Duopoly()
    b = run_batch(game, _hic(game, 4), GradientAscentFollower(game, 0.1, num_envs=4), 500, seed=0)
    finals = b.final_leader[:, 0]
    assert np.unique(finals).size == 4


def test_log_thinning_keeps_a_subset_of_every_update():
    game = Duopoly()
    args = dict(stages=3000, seed=2)
    full = run_batch(
        game, _hic(game, 5, commitment=2), GradientAscentFollower(game, 0.1, num_envs=5), **args
    )
    thin = run_batch(
        game,
        _hic(game, 5, commitment=2),
        GradientAscentFollower(game, 0.1, num_envs=5),
        record="log",
        **args,
    )
    keep = Thinning(log_digits=2).keep(full.update)
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(thin, f), getattr(full, f)[keep], err_msg=f)
    assert full.update.max() > 1000 and len(thin) < len(full) / 3
    np.testing.assert_array_equal(thin.final_leader, full.final_leader)


def test_thinning_rules():
    n = np.arange(0, 2501)
    log2 = set(n[Thinning(log_digits=2).keep(n)].tolist())
    assert set(range(100)) <= log2
    assert {100, 110, 990, 1000, 1100, 2500} <= log2
    assert not {101, 105, 999, 1010, 1050, 2450} & log2
    assert len([k for k in log2 if 100 <= k < 1000]) == 90
    assert n[Thinning(every=7).keep(n)].tolist() == list(range(0, 2501, 7))
    assert n[Thinning(none=True).keep(n)].tolist() == [0]
    assert as_thinning("log:3") == Thinning(log_digits=3)
    assert as_thinning(5) == Thinning(every=5) and as_thinning("all") == Thinning()
    assert as_thinning(None) == Thinning(none=True)


@pytest.mark.parametrize("bad", ["sometimes", 0, -3, "log:0", 2.5, True])
def test_bad_record_values_are_named(bad):
    with pytest.raises(ValueError, match="record|Thinning"):
        as_thinning(bad)


def test_record_none_returns_finals_only():
    game = Duopoly()
    b = run_batch(
        game, _hic(game, 3), GradientAscentFollower(game, 0.1, num_envs=3), 400, seed=0, record=None
    )
    assert b.update.tolist() == [0, 0, 0] and b.final_leader.shape == (3, 1)


def test_misuse_raises_clear_errors():
    game = Duopoly()
    with pytest.raises(ValueError, match="num_envs=S"):
        run_batch(game, _hic(game), GradientAscentFollower(game, 0.1), 10)
    with pytest.raises(ValueError, match="num_envs=2, expected 3"):
        run_batch(game, _hic(game, 3), GradientAscentFollower(game, 0.1, num_envs=2), 10)
    with pytest.raises(ValueError, match="stages must be a positive integer, got 0"):
        run_batch(game, _hic(game, 2), GradientAscentFollower(game, 0.1, num_envs=2), 0)
    with pytest.raises(ValueError, match="noise_std"):
        run_batch(
            game, _hic(game, 2), GradientAscentFollower(game, 0.1, num_envs=2), 5, noise_std=-1.0
        )
