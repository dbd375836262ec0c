"""Property tests of every library game's functions on its boxes (hypothesis).

For finite points in the boxes, with any batch shape: every function returns finite float64
arrays of the documented shape; analytic derivatives match central differences of what they
differentiate; the hierarchical gradient matches differences of ``f1(x, r(x))`` (also where
``r`` is clipped, issue 10 defect 9); and the best response lies in ``Y``.
"""

from __future__ import annotations

import importlib

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hic_envs.games import Game
from hic_envs.games.base import _fd_jacobian
from hic_envs.registration import LIBRARY_GAMES


def _library_games() -> dict[str, Game]:
    out = {}
    for env_id, target in LIBRARY_GAMES.items():
        module, name = target.split(":")
        out[env_id] = getattr(importlib.import_module(module), name)()
    return out


GAMES = _library_games()
_settings = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _point(fracs: list[float], low: np.ndarray, high: np.ndarray) -> np.ndarray:
    f = np.resize(np.asarray(fracs, dtype=np.float64), low.shape)
    return low + (high - low) * f


_fracs = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8)
_inner = st.lists(st.floats(0.01, 0.99), min_size=1, max_size=8)
_batch = st.sampled_from([(), (1,), (3,), (2, 2)])


@_settings
@given(env_id=st.sampled_from(sorted(GAMES)), fx=_fracs, fy=_fracs, batch=_batch)
def test_functions_are_finite_with_documented_shapes(env_id, fx, fy, batch):
    game = GAMES[env_id]
    d1, d2 = game.d1, game.d2
    x = np.broadcast_to(_point(fx, game.leader_low, game.leader_high), batch + (d1,))
    y = np.broadcast_to(_point(fy, game.follower_low, game.follower_high), batch + (d2,))
    expect = {
        "leader_payoff": batch,
        "follower_payoff": batch,
        "leader_grad": batch + (d1,),
        "follower_grad": batch + (d2,),
        "leader_grad_y": batch + (d2,),
        "follower_hess_yy": batch + (d2, d2),
        "follower_hess_yx": batch + (d2, d1),
        "total_leader_grad": batch + (d1,),
    }
    for name, shape in expect.items():
        out = np.asarray(getattr(game, name)(x, y))
        assert out.shape == shape, name
        assert out.dtype == np.float64 and np.all(np.isfinite(out)), name
    f1, f2 = game.payoffs(x, y)
    assert np.array_equal(f1, game.leader_payoff(x, y))
    assert np.array_equal(f2, game.follower_payoff(x, y))
    r = game.best_response(x)
    assert r.shape == batch + (d2,) and np.all(np.isfinite(r))
    assert np.all(r >= game.follower_low) and np.all(r <= game.follower_high)
    for name in ("hierarchical_payoff", "hierarchical_grad"):
        assert np.all(np.isfinite(getattr(game, name)(x))), name


def _close(a, b, scale) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * max(1.0, scale))


@_settings
@given(env_id=st.sampled_from(sorted(GAMES)), fx=_inner, fy=_inner)
def test_derivatives_match_differences(env_id, fx, fy):
    game = GAMES[env_id]
    x = _point(fx, game.leader_low, game.leader_high)
    y = _point(fy, game.follower_low, game.follower_high)
    one_x, one_y = np.ones(game.d1), np.ones(game.d2)
    scale = float(np.abs(game.payoffs(x, y)).max())
    _close(
        game.leader_grad(x, y), _fd_jacobian(lambda z: game.leader_payoff(z, y), x, one_x), scale
    )
    _close(
        game.follower_grad(x, y),
        _fd_jacobian(lambda z: game.follower_payoff(x, z), y, one_y),
        scale,
    )
    _close(
        game.leader_grad_y(x, y), _fd_jacobian(lambda z: game.leader_payoff(x, z), y, one_y), scale
    )
    _close(
        game.follower_hess_yy(x, y),
        _fd_jacobian(lambda z: game.follower_grad(x, z), y, one_y),
        scale,
    )
    _close(
        game.follower_hess_yx(x, y),
        _fd_jacobian(lambda z: game.follower_grad(z, y), x, one_x),
        scale,
    )


def _held(game: Game, x: np.ndarray) -> np.ndarray:
    r = game.best_response(x)
    return (r <= game.follower_low) | (r >= game.follower_high)


@_settings
@given(env_id=st.sampled_from(sorted(GAMES)), fx=_fracs)
def test_hierarchical_grad_matches_differences_of_f1_at_r(env_id, fx):
    game = GAMES[env_id]
    x = _point(fx, game.leader_low, game.leader_high)
    h = 1e-5 * np.maximum(1.0, np.abs(x))
    # central differences need both x +- h in X (payoffs such as an entropy are undefined
    # outside it): move boundary points inside by 2h
    x = np.clip(x, game.leader_low + 2 * h, game.leader_high - 2 * h)
    # differences across a kink of r (where a coordinate starts or stops being clipped)
    # measure no derivative: skip those points
    assume(
        all(
            np.array_equal(_held(game, x), _held(game, x + s * h * e))
            for e in np.eye(game.d1)
            for s in (-1.0, 1.0)
        )
    )
    fd = np.array(
        [
            (
                float(game.hierarchical_payoff(x + h[i] * e))
                - float(game.hierarchical_payoff(x - h[i] * e))
            )
            / (2 * h[i])
            for i, e in enumerate(np.eye(game.d1))
        ]
    )
    scale = float(abs(game.hierarchical_payoff(x)))
    np.testing.assert_allclose(
        game.hierarchical_grad(x), fd, rtol=1e-5, atol=1e-5 * max(1.0, scale)
    )


@_settings
@given(fx=st.floats(48.0, 50.0))
def test_duopoly_hierarchical_grad_near_and_past_the_clipping_point(fx):
    game = GAMES["hic/Duopoly-v0"]
    x = np.array([fx])
    # r(x) = (49 - x) / 2 for x <= 49, else 0: f1(x, r(x)) = x (49 - x) / 2 or x (49 - x)
    want = 24.5 - fx if fx < 49 else 49 - 2 * fx
    assume(abs(fx - 49) > 1e-12)
    np.testing.assert_allclose(game.hierarchical_grad(x), [want], rtol=1e-9, atol=1e-9)
