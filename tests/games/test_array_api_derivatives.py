"""The games' derivatives, Hessian blocks, hierarchical gradient and best responses in
array-API form (issue 18, the coupled leaders and the best-response follower on the JAX
engine):

* on NumPy arrays they compute exactly what they computed before: each method against a
  frozen copy of the modules before the change (``reference_games/before_derivatives``,
  base class included), in this process, bit for bit;
* traced under ``jax.jit`` (float64) they give their NumPy values: to 1e-12 where the method
  is a closed form, to 1e-8 where it is the base class's difference default (a difference
  quotient with step 1e-6 turns last-bit differences of XLA's arithmetic into about 1e-10
  relative ones);
* a best response that is a numerical solve is declared (``array_api_best_response``) and
  the JAX engine refuses what calls it, naming it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference_games import before_derivatives as old
from reference_games.before_derivatives import (  # noqa: F401 (submodules)
    bimatrix,
    cooperative,
    covariance_gan,
    dirac_gan,
    duopoly,
    hamiltonian,
    ipd,
    matrix,
    nonlinear,
    quadratic,
    random_quadratic,
    security,
    tandem,
    zero_sum,
)

import hic_envs.games as games
from hic_envs.games.base import Game
from hic_envs.registration import LIBRARY_GAMES, game_from_id

#: (current class, frozen class, constructor arguments).
CASES = [
    (games.Duopoly, old.duopoly.Duopoly, {}),
    (games.QuadraticGame, old.quadratic.QuadraticGame, {}),
    (games.ZeroSumNoNash, old.zero_sum.ZeroSumNoNash, {}),
    (games.CooperativeGame, old.cooperative.CooperativeGame, {}),
    (games.DiracGAN, old.dirac_gan.DiracGAN, {}),
    (games.TandemGame, old.tandem.TandemGame, {}),
    (games.HamiltonianGame, old.hamiltonian.HamiltonianGame, {"reg": 0.5}),
    (games.RandomQuadraticGame, old.random_quadratic.RandomQuadraticGame, {"d1": 2, "d2": 3}),
    (games.CovarianceGAN, old.covariance_gan.CovarianceGAN, {}),
    (games.SecurityGame, old.security.SecurityGame, {}),
    (games.NonlinearGame, old.nonlinear.NonlinearGame, {"k": 2.0, "t": [0.5, -1.0], "dim": 2}),
    (games.MatchingPennies, old.matrix.MatchingPennies, {"leader_tau": 0.2}),
    (games.Bimatrix, old.bimatrix.Bimatrix, {}),
    (games.IteratedPrisonersDilemma, old.ipd.IteratedPrisonersDilemma, {"leader_tau": 0.5}),
]

PAIR_METHODS = [
    "leader_grad",
    "follower_grad",
    "leader_grad_y",
    "follower_grad_x",
    "follower_hess_yy",
    "follower_hess_yx",
    "leader_hess_yx",
    "total_leader_grad",
]
X_METHODS = ["best_response", "hierarchical_payoff", "hierarchical_grad"]
BLOCKS = [(p, b) for p in ("leader", "follower") for b in ("xx", "xy", "yx", "yy")]


def _points(game, rng, S=16, inside=True):
    pad = 0.1 if inside else 0.0
    u = rng.uniform(pad, 1.0 - pad, size=(S, game.d1))
    w = rng.uniform(pad, 1.0 - pad, size=(S, game.d2))
    x = game.leader_low + (game.leader_high - game.leader_low) * u
    y = game.follower_low + (game.follower_high - game.follower_low) * w
    if not inside:  # some follower coordinates on the bounds (the held-coordinate solve)
        y[::3, 0] = game.follower_low[0]
        y[1::3, -1] = game.follower_high[-1]
    return x, y


def _names(game, traced=False):
    names = list(PAIR_METHODS) + [f"hvp {p} {b}" for p, b in BLOCKS]
    if game.array_api_best_response:
        # hierarchical_grad (the DSE solvers' gradient, NumPy code) is for the host only
        names += X_METHODS[:2] if traced else X_METHODS
    return names


def _call(game, name, x, y, v=None):
    if name.startswith("hvp"):
        _, player, block = name.split()
        return game.payoff_hvp(player, block, x, y, v[block[1]])
    if name in X_METHODS:
        return getattr(game, name)(x)
    return getattr(game, name)(x, y)


def _directions(game, rng, S):
    return {"x": rng.normal(size=(S, game.d1)), "y": rng.normal(size=(S, game.d2))}


#: Methods whose NumPy values changed on purpose since the frozen copy, and why; each is
#: checked against its exact value here and against the frozen difference to its tolerance.
CHANGED = {
    ("RandomQuadraticGame", "leader_hess_yx"): (
        "closed form B^T instead of the base class's difference: LOLA (correction=True) "
        "read the difference, whose error amplified the gradient's last bits by about "
        "1 / step, so the JAX engine's replay drifted by 2.8e-12 after 3000 stages",
        lambda g, x, y: np.broadcast_to(g.B.T, x.shape[:-1] + g.B.T.shape),
    ),
}


@pytest.mark.parametrize(("new", "frozen", "kw"), CASES, ids=[c[0].__name__ for c in CASES])
def test_numpy_results_are_the_old_code_bit_for_bit(new, frozen, kw):
    """Every derivative, Hessian block and product, the hierarchical gradient (interior and
    with coordinates held at a bound) and the best response: bit for bit, as before."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g_new, g_old = new(**kw), frozen(**kw)
    rng = np.random.default_rng(18)
    for inside in (True, False):
        x, y = _points(g_new, rng, inside=inside)
        v = _directions(g_new, rng, x.shape[0])
        for name in _names(g_new):
            if name in X_METHODS and not inside:
                continue
            a, b = np.asarray(_call(g_new, name, x, y, v)), np.asarray(_call(g_old, name, x, y, v))
            assert a.shape == b.shape and a.dtype == b.dtype, name
            changed = CHANGED.get((new.__name__, name))
            if changed is not None:
                np.testing.assert_array_equal(a, changed[1](g_new, x, y))
                np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8)
                continue
            np.testing.assert_array_equal(a, b, err_msg=f"{new.__name__}.{name}")


def _tolerance(game, name):
    """1e-12 for closed forms; 1e-8 for a difference default; 1e-6 for a product that
    differences a gradient that is itself a difference (step 1e-4: rounding about 1e-8 of
    the payoff's size, Game.payoff_hvp)."""
    if name.startswith("hvp"):  # the default product differences a gradient along v
        _, player, block = name.split()
        if type(game).payoff_hvp is not Game.payoff_hvp or game._dense_block(player, block):
            return 1e-12
        return 1e-6 if game._block_grad(player, block[0])[1] else 1e-8
    if name == "total_leader_grad":  # a solve with the blocks: a difference's error grows
        parts = ("leader_grad_y", "follower_hess_yy", "follower_hess_yx")
        return 1e-6 if any(_tolerance(game, p) > 1e-12 for p in parts) else 1e-12
    if name in X_METHODS:
        return 1e-12
    return 1e-8 if getattr(type(game), name) is getattr(Game, name) else 1e-12


#: MogGAN's derivatives are differences over 37 + 50 parameters: tracing them compiles for
#: minutes (its pairs run on the JAX engine; their derivatives are checked in the slow suite).
#: The IPD's and Bimatrix's take 10-30 s to compile: slow suite too.
SLOW_TRACES = ("hic/MogGAN-v0", "hic/IteratedPrisonersDilemma-v0", "hic/Bimatrix-v0")
TRACED_GAMES = [
    gid if gid not in SLOW_TRACES else pytest.param(gid, marks=pytest.mark.slow)
    for gid in LIBRARY_GAMES
]


@pytest.mark.parametrize("env_id", TRACED_GAMES)
def test_traced_methods_give_their_numpy_values(env_id):
    """Every library game (default arguments): under jax.jit each method equals its NumPy
    value (1e-12 relative for closed forms, 1e-8 for difference defaults); best responses
    that are numerical solves are declared so, and nothing else is."""
    jax = pytest.importorskip("jax")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        game = game_from_id(env_id)
    assert game.array_api_best_response == (
        env_id not in ("hic/IteratedPrisonersDilemma-v0", "hic/MogGAN-v0")
    )
    rng = np.random.default_rng(7)
    x, y = _points(game, rng, S=3)
    v = _directions(game, rng, 3)
    names = _names(game, traced=True) if env_id != "hic/MogGAN-v0" else PAIR_METHODS
    for name in names:
        a = np.asarray(_call(game, name, x, y, v))
        with jax.enable_x64(True):
            b = np.asarray(jax.jit(lambda x, y, v, name=name: _call(game, name, x, y, v))(x, y, v))
        tol = _tolerance(game, name)
        scale = max(1.0, float(np.max(np.abs(a), initial=0.0)))
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol * scale, err_msg=f"{env_id} {name}")


def test_a_numerical_best_response_is_refused_by_its_declaration():
    """The best-response follower and the oracle leader on the IPD (whose best response is
    six damped-Newton ascents) are refused when the runner is made, naming the game's
    best_response; the gradient pair runs."""
    pytest.importorskip("jax")
    from agents import catalog
    from agents.compose.engines.runner import make_runner

    game = games.IteratedPrisonersDilemma()
    for lname, fname, role in (
        ("hic", "best-response", "follower"),
        ("oracle-spsa", "gradient", "leader"),
    ):
        follower = catalog.make_follower(fname, game, 2, {})
        leader = catalog.make_leader(lname, game, 2, {}, partner=follower)
        with pytest.raises(
            ValueError,
            match=rf"the {role} \w+ calls IteratedPrisonersDilemma\.best_response, a numerical",
        ):
            make_runner(game, leader, follower, 0, backend="jax")
    follower = catalog.make_follower("gradient", game, 2, {})
    leader = catalog.make_leader("hierarchical", game, 2, {}, partner=follower)
    h = make_runner(game, leader, follower, 0, backend="jax").run(20)
    assert np.isfinite(h.final_leader).all()


@pytest.mark.parametrize(("d", "S"), [(3, 5), (256, 8)])
def test_random_quadratic_products_keep_their_bits_and_signed_zeros(d, S):
    """``RandomQuadraticGame.payoff_hvp``'s NumPy fast path (no namespace lookup) and its
    gradients written ``q - p`` for ``-p + q``: every block's and gradient's bytes (so the
    sign of an exact zero too: a zero row of ``v`` and ``x = y = 0``) are the frozen code's,
    batched and for one row, in this process."""
    g_new = games.RandomQuadraticGame(d, d, seed=3)
    g_old = old.random_quadratic.RandomQuadraticGame(d, d, seed=3)
    rng = np.random.default_rng(d)
    x, y = rng.normal(size=(S, d)), rng.normal(size=(S, d))
    v = rng.normal(size=(S, d))
    v[1] = 0.0  # a zero row: exact zeros in every product
    for player, block in BLOCKS:
        for args in ((x, y, v), (x[1], y[1], v[1]), (x, y, v[2])):
            a, b = g_new.payoff_hvp(player, block, *args), g_old.payoff_hvp(player, block, *args)
            assert a.shape == b.shape and a.dtype == b.dtype, (player, block)
            assert a.tobytes() == b.tobytes(), (player, block, args[2].shape)
            assert a.flags.writeable
    x[1], y[1] = 0.0, 0.0
    for name in ("leader_grad", "follower_grad", "leader_grad_y"):
        for args in ((x, y), (x[1], y[1]), (x, y[2])):
            a, b = getattr(g_new, name)(*args), getattr(g_old, name)(*args)
            assert a.shape == b.shape and a.tobytes() == b.tobytes(), name
