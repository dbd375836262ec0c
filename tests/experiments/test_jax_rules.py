"""The generic JAX stage loop over rule sets (agents/compose/jax_rules.py, issue 18): it replays
the NumPy engine from the same initial states, and refuses by declared capability."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")

from agents import catalog  # noqa: E402
from agents.compose.engines.jax_rules import run_rules  # noqa: E402
from agents.compose.engines.runner import BatchRunner  # noqa: E402
from hic_envs.games import CustomGame, Duopoly, RandomQuadraticGame  # noqa: E402


def _pair(game, lname, fname, S):
    follower = catalog.make_follower(fname, game, S, {})
    return catalog.make_leader(lname, game, S, {}, partner=follower), follower


@pytest.mark.parametrize("game", [Duopoly(), RandomQuadraticGame(d1=2, d2=3, seed=1)])
def test_sga_against_a_gradient_follower_replays_numpy(game):
    """No randomness after the start: the same initial states give the same strategies after
    3000 stages (3 episodes of 1000), to 1e-12."""
    S, N = 6, 3000
    leader, follower = _pair(game, "sga", "gradient", S)
    runner = BatchRunner(game, leader, follower, 5, record=None)
    runner.run(0)  # resets the faces (their initial draws)
    start_l, start_f = dict(leader.state), dict(follower.state)
    runner.run(N)
    leader2, follower2 = _pair(game, "sga", "gradient", S)
    BatchRunner(game, leader2, follower2, 5, record=None).run(0)
    for k in start_l:
        np.testing.assert_array_equal(leader2.state[k], start_l[k])
    for k in start_f:
        np.testing.assert_array_equal(follower2.state[k], start_f[k])
    sl, sf = run_rules(game, leader2, follower2, N)
    np.testing.assert_allclose(
        leader.rules.strategy(leader.options, sl), leader.strategies, rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        follower.rules.strategy(follower.options, sf), follower.strategies, rtol=1e-12, atol=1e-12
    )
    assert not np.allclose(leader.strategies, start_l["x"])  # it learnt something


def test_a_numpy_only_game_is_refused_by_its_capability():
    game = CustomGame(
        lambda x, y: float(-((x[0] - 1.0) ** 2) + x[0] * y[0]),
        lambda x, y: float(-((y[0] - x[0]) ** 2)),
        [-2.0], [2.0], [-2.0], [2.0], mu=2.0,
    )  # fmt: skip
    leader, follower = _pair(Duopoly(), "sga", "gradient", 2)
    with pytest.raises(ValueError, match="CustomGame declares array_api=False"):
        run_rules(game, leader, follower, 10)


def test_hic_through_its_rule_set_has_the_numpy_distribution():
    """Hi-C (baseline 0.9, constant schedules: the catalog's power-law tables do not trace
    yet) against a gradient follower, run generically through its rule set: over 300 seeds
    after 20000 stages (~4000 updates each) the final distances to the DSE have the NumPy
    engine's distribution (Kolmogorov-Smirnov, p > 0.001)."""
    from scipy import stats

    from agents import GradientAscentFollower, HiCLeader

    game, S = Duopoly(), 300
    x_star = game.stackelberg().x[0]
    dist = {}
    for backend in ("numpy", "jax"):
        leader = HiCLeader(game, 0.01, 0.5, 5, baseline=0.9, num_envs=S, check_assumptions=False)
        follower = GradientAscentFollower(game, 0.1, num_envs=S)
        runner = BatchRunner(game, leader, follower, 11, record=None)
        if backend == "numpy":
            runner.run(20_000)
            x = leader.strategies
        else:
            runner.run(0)
            sl, _ = run_rules(game, leader, follower, 20_000, seed=11)
            x = leader.rules.strategy(leader.options, sl)
        dist[backend] = np.abs(x[:, 0] - x_star)
    assert np.median(dist["numpy"]) < 8.0  # from a uniform start on [0, 50], x* = 24.5
    assert stats.ks_2samp(dist["numpy"], dist["jax"]).pvalue > 1e-3
