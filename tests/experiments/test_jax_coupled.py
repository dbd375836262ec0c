"""The coupled learners (agents/coupled.py, rule sets) on the JAX engine's generic loop.

The library games' ``payoff_hvp`` (and most ``leader_grad_y``/``follower_grad_x``) are NumPy
code, so a coupled learner that reads them is refused there by its trace (see
``test_jax_pairs.py``). An :class:`~hic_envs.games.ArrayGame` takes every derivative by JAX's
autodiff, so its ``payoff_hvp`` traces: on array-API forms of the covariance GAN (the game's
own payoff functions, wrapped) and of a random quadratic game, the LOLA learner (either role)
and the hierarchical CG leader replay the NumPy engine to 1e-12, and a checkpoint of a JAX
run round-trips bit for bit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("jax")

from agents.compose.engines.jax_rules import RulesRunner  # noqa: E402
from agents.compose.engines.runner import make_runner  # noqa: E402
from agents.coupled import HierarchicalCGLeader, LOLALearner, SOSLearner  # noqa: E402
from agents.followers import GradientAscentFollower  # noqa: E402
from hic_envs.games import ArrayGame, CovarianceGAN, RandomQuadraticGame  # noqa: E402


def _wrap(game):
    """``game``'s own payoff functions (array-API code) as an ArrayGame (autodiff)."""
    return ArrayGame(
        game.leader_payoff,
        game.follower_payoff,
        game.leader_low,
        game.leader_high,
        game.follower_low,
        game.follower_high,
        name="Wrapped" + type(game).__name__,
    )


GAMES = {
    "covariance_gan": lambda: _wrap(CovarianceGAN(d=2, seed=1)),
    "random_quadratic": lambda: _wrap(RandomQuadraticGame(3, 2, seed=1)),
}

#: (coupled learners' step, stages compared) per game. The covariance GAN's players pass
#: near saddles, where its dynamics amplify the engines' rounding differences (the NumPy
#: engine calls the game's compiled derivatives stage by stage, the JAX engine compiles the
#: whole loop): there the engines are compared over a shorter run at a smaller step.
BUDGETS = {"covariance_gan": (0.005, 150), "random_quadratic": (0.02, 600)}

S = 4


def _pair(case, game, step=0.02):
    if case == "lola_pair":  # both roles
        return (
            LOLALearner(game, "leader", step, num_envs=S, lookahead=0.5),
            LOLALearner(game, "follower", step, num_envs=S, lookahead=0.5),
        )
    if case == "lola_pair_per_row":  # one look-ahead per row
        eta = np.array([0.2, 0.5, 1.0, 0.5])
        return (
            LOLALearner(game, "leader", step, num_envs=S, lookahead=eta),
            LOLALearner(game, "follower", step, num_envs=S, lookahead=eta),
        )
    if case == "lola_leader":
        leader = LOLALearner(game, "leader", step, num_envs=S, lookahead=1.0, correction=False)
        return leader, GradientAscentFollower(game, 0.05, num_envs=S)
    if case == "sos_pair":
        return (
            SOSLearner(game, "leader", step, num_envs=S, lookahead=0.02),
            SOSLearner(game, "follower", step, num_envs=S, lookahead=0.02),
        )
    if case == "hierarchical_cg":  # the defaults: at most 50 iterations, to 1e-6 relative
        leader = HierarchicalCGLeader(game, step, num_envs=S)
    else:  # a fixed count of 4 iterations (cg_tol far below rounding: CG never stops early)
        leader = HierarchicalCGLeader(game, step, num_envs=S, cg_iters=4, cg_tol=1e-300)
    return leader, GradientAscentFollower(game, 0.05, num_envs=S)


CASES = [
    "lola_pair",
    "lola_pair_per_row",
    "lola_leader",
    "sos_pair",
    "hierarchical_cg",
    "hierarchical_cg_fixed",
]


@pytest.mark.parametrize("game_name", sorted(GAMES))
@pytest.mark.parametrize("case", CASES)
def test_the_jax_engine_replays_the_numpy_engine(case, game_name):
    """No draws after the start (no payoff noise; these learners draw only x0): the budget
    of BUDGETS (two episodes) on both engines gives the same records, and the strategies to
    1e-12."""
    game = GAMES[game_name]()
    step, stages = BUDGETS[game_name]
    out = []
    for backend in ("numpy", "jax"):
        leader, follower = _pair(case, game, step)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runner = make_runner(game, leader, follower, 5, backend=backend, max_cycles=stages // 2)
        if backend == "jax":
            assert type(runner) is RulesRunner
        out.append((runner.run(stages), leader.state))
    (a, sa), (b, sb) = out
    for f in ("row", "update", "stage"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    for f in ("leader_strategies", "follower_strategies", "final_leader", "final_follower"):
        np.testing.assert_allclose(getattr(b, f), getattr(a, f), rtol=1e-12, atol=1e-12)
    assert not np.allclose(a.final_leader, a.leader_strategies[:S])  # it moved
    if case.startswith("hierarchical_cg"):  # the warm start too
        np.testing.assert_allclose(np.asarray(sb["w"]), sa["w"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", ["lola_pair", "hierarchical_cg_fixed"])
def test_a_jax_checkpoint_of_a_coupled_pair_round_trips(case):
    """run(a) + state_dict -> a runner built alike + load_state_dict -> run(b) equals the
    first runner's run(b), bit for bit, with payoff noise (the coupled learners ignore
    rewards; the follower of the CG case too, but the records must still agree)."""
    game = GAMES["covariance_gan"]()

    def runner():
        leader, follower = _pair(case, game)
        return make_runner(game, leader, follower, 9, backend="jax", noise_std=0.5)

    first = runner()
    first.run(300)
    state = {k: np.array(v) for k, v in first.state_dict().items()}
    h_first = first.run(400)
    second = runner()
    second.load_state_dict(state)
    h2 = second.run(400)
    for f in ("row", "update", "stage", "leader_strategies", "follower_strategies"):
        np.testing.assert_array_equal(getattr(h2, f), getattr(h_first, f))
    np.testing.assert_array_equal(h2.final_leader, h_first.final_leader)
    np.testing.assert_array_equal(h2.final_follower, h_first.final_follower)


class _NumpyHvpQuadratic(RandomQuadraticGame):
    """A user's game whose payoff_hvp is NumPy code (the library's own is array-API code)."""

    def payoff_hvp(self, player, block, x, y, v):
        return super().payoff_hvp(player, block, np.asarray(x), np.asarray(y), np.asarray(v))


def test_a_numpy_only_derivative_is_refused_naming_it():
    """A game whose payoff_hvp is NumPy code cannot be traced: refused, naming it."""
    game = _NumpyHvpQuadratic(3, 2, seed=1)
    leader, follower = _pair("hierarchical_cg", game)
    with pytest.raises(ValueError, match="does not trace.*NumPy-only"):
        make_runner(game, leader, follower, 0, backend="jax")


@pytest.mark.parametrize(("iters", "tol"), [(50, 1e-10), (3, 1e-10), (50, 1e-300)])
def test_conjugate_gradient_under_jit_is_the_numpy_solve(iters, tol):
    """The traced CG (jax.lax.while_loop through agents.rules.xp.while_loop) takes the
    NumPy loop's iterations and gives its solution to 1e-12, for a budget that stops it,
    a tolerance that stops it, and neither (all rows of one SPD system, 6 rows, d = 5)."""
    import jax
    import jax.numpy as jnp

    from agents.rules.coupled import conjugate_gradient

    rng = np.random.default_rng(2)
    m = rng.normal(size=(5, 5))
    a = m @ m.T + 5 * np.eye(5)
    b, x0 = rng.normal(size=(6, 5)), np.zeros((6, 5))
    u, k = conjugate_gradient(lambda v: v @ a, b, x0, iters, tol)
    with jax.enable_x64(True):
        uj, kj = jax.jit(lambda bb, u0: conjugate_gradient(lambda v: v @ a, bb, u0, iters, tol))(
            jnp.asarray(b), jnp.asarray(x0)
        )
        uj, kj = np.asarray(uj), int(kj)
    assert kj == k
    assert k == 3 if iters == 3 else 3 < k <= 50
    np.testing.assert_allclose(uj, u, rtol=1e-12, atol=1e-12)
    if iters == 50:
        np.testing.assert_allclose(u @ a, b, rtol=1e-8, atol=1e-8)
