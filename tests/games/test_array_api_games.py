"""The games whose payoffs and gradients became array-API code (issue 18) compute exactly what
they computed before on NumPy arrays: each function against a frozen copy of the old module
(``reference_games``), in this process, on random points of the boxes, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from reference_games import bimatrix as old_bimatrix
from reference_games import ipd as old_ipd
from reference_games import matrix as old_matrix
from reference_games import nonlinear as old_nonlinear
from reference_games import security as old_security

from hic_envs.games import (
    BattleOfSexes,
    Bimatrix,
    Chicken,
    Coordination,
    IteratedPrisonersDilemma,
    MatchingPennies,
    NonlinearGame,
    PrisonersDilemma,
    SecurityGame,
    StagHunt,
)
from hic_envs.games.array_api import logsumexp, namespace, softmax, xlogy

#: (new class, frozen old class, constructor arguments): defaults and a non-default variant
#: that switches on the branches the defaults skip (a leader entropy, more targets, ...).
CASES = [
    (SecurityGame, old_security.SecurityGame, {}),
    (SecurityGame, old_security.SecurityGame, {"n": 4, "tau": 0.5, "budget": 0.5}),
    (NonlinearGame, old_nonlinear.NonlinearGame, {}),
    (NonlinearGame, old_nonlinear.NonlinearGame, {"k": 2.0, "t": [0.5, -1.0], "dim": 2}),
    (Bimatrix, old_bimatrix.Bimatrix, {}),
    (
        Bimatrix,
        old_bimatrix.Bimatrix,
        {"A": np.arange(12.0).reshape(3, 4) % 5, "B": np.eye(3, 4), "leader_tau": 0.3},
    ),
    (IteratedPrisonersDilemma, old_ipd.IteratedPrisonersDilemma, {}),
    (IteratedPrisonersDilemma, old_ipd.IteratedPrisonersDilemma, {"leader_tau": 0.5}),
    *[
        (new, getattr(old_matrix, new.__name__), kw)
        for new in (
            PrisonersDilemma,
            MatchingPennies,
            Coordination,
            StagHunt,
            Chicken,
            BattleOfSexes,
        )
        for kw in ({}, {"leader_tau": 0.2})
    ],
]

METHODS = [
    "leader_payoff",
    "follower_payoff",
    "payoffs",
    "leader_grad",
    "follower_grad",
    "leader_grad_y",
    "follower_hess_yy",
    "follower_hess_yx",
    "best_response",
]


def _points(game, rng, S=64):
    x = rng.uniform(game.leader_low, game.leader_high, size=(S, game.d1))
    y = rng.uniform(game.follower_low, game.follower_high, size=(S, game.d2))
    return x, y


def _call(game, name, x, y):
    if name == "best_response":
        return game.best_response(x)
    if name == "follower_grad_given":
        return game.follower_grad_given(x)(y)
    return getattr(game, name)(x, y)


@pytest.mark.parametrize(
    ("new", "old", "kw"), CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)]
)
def test_new_code_is_the_old_code_bit_for_bit(new, old, kw):
    g_new, g_old = new(**kw), old(**kw)
    rng = np.random.default_rng(18)
    for shapes in ("batch", "one", "broadcast"):
        x, y = _points(g_new, rng)
        if shapes == "one":
            x, y = x[0], y[0]
        elif shapes == "broadcast":
            x = x[:1]  # (1, d1) against (S, d2)
        for name in [*METHODS, "follower_grad_given"]:
            a, b = _call(g_new, name, x, y), _call(g_old, name, x, y)
            pairs = zip(a, b, strict=True) if name == "payoffs" else [(a, b)]
            for u, v in pairs:
                u, v = np.asarray(u), np.asarray(v)
                assert u.shape == v.shape and u.dtype == v.dtype, (name, shapes)
                np.testing.assert_array_equal(u, v, err_msg=f"{name} ({shapes})")


def test_helpers_match_scipy_bit_for_bit_on_numpy():
    import scipy

    rng = np.random.default_rng(0)
    z = rng.normal(size=(50, 4)) * 10
    np.testing.assert_array_equal(softmax(z), scipy.special.softmax(z, axis=-1))
    np.testing.assert_array_equal(logsumexp(z), scipy.special.logsumexp(z, axis=-1))
    p = rng.uniform(size=(50, 4))
    p[0, 0] = 0.0
    np.testing.assert_array_equal(xlogy(p, p), scipy.special.xlogy(p, p))
    assert namespace(z, 1.0, [1.0], np.float64(2.0)) is np
