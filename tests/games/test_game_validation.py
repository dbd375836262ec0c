"""Validation and numeric defects of the games (issue 10 defects 9, 10, 13; issue 8 items 7, 8).

Each test here failed on main before the fix it names and passes now.
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

from hic_envs.games import (
    CooperativeGame,
    CustomGame,
    DiracGAN,
    Duopoly,
    Equilibrium,
    Game,
    NonlinearGame,
    QuadraticGame,
    RandomQuadraticGame,
    SecurityGame,
    ZeroSumNoNash,
)
from hic_envs.registration import LIBRARY_GAMES


def _library_game_classes() -> list[type[Game]]:
    out = []
    for target in LIBRARY_GAMES.values():
        module, name = target.split(":")
        out.append(getattr(importlib.import_module(module), name))
    return out


# ---------------------------------------------------------------------- defect 9: boundary
def _fd_hierarchical(game: Game, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of f1(x, r(x)), one coordinate at a time."""
    out = np.empty(game.d1)
    for i in range(game.d1):
        e = np.zeros(game.d1)
        e[i] = h * max(1.0, abs(x[i]))
        fp = float(game.hierarchical_payoff(x + e))
        fm = float(game.hierarchical_payoff(x - e))
        out[i] = (fp - fm) / (2 * e[i])
    return out


def test_duopoly_hierarchical_grad_where_the_best_response_is_clipped():
    # r(x) = clip((49 - x) / 2, 0, 50) = 0 for x > 49, so f1(x, r(x)) = x (49 - x) there,
    # whose derivative at 49.5 is 49 - 99 = -50 (main gave -25.25, the interior formula).
    game = Duopoly()
    assert game.best_response(np.array([49.5]))[0] == 0.0
    np.testing.assert_allclose(game.hierarchical_grad(np.array([49.5])), [-50.0], rtol=1e-12)
    np.testing.assert_allclose(
        game.total_leader_grad(np.array([49.5]), np.array([0.0])), [-50.0], rtol=1e-12
    )
    # batched: rows inside and on the boundary at once
    x = np.array([[10.0], [30.0], [49.5], [50.0]])
    np.testing.assert_allclose(
        game.hierarchical_grad(x)[:, 0], [49 - 20 - 19.5 + 5.0, 49 - 60 - 9.5 + 15.0, -50, -51]
    )


@pytest.mark.parametrize("x", [0.5, 10.0, 30.0, 48.0, 49.25, 49.5, 49.9, 50.0 - 1e-3])
def test_duopoly_hierarchical_grad_matches_differences_of_f1_at_r(x):
    game = Duopoly()
    xa = np.array([x])
    np.testing.assert_allclose(
        game.hierarchical_grad(xa), _fd_hierarchical(game, xa), rtol=1e-6, atol=1e-6
    )


def test_clipped_coordinates_of_a_two_dimensional_follower():
    # f2 = -(y1 - x)^2 - (y2 - 2x)^2 on Y = [-1, 1]^2: r = (clip(x), clip(2x)). For x = 0.7 the
    # second coordinate is clipped at 1 and the first is free; f1 = -(x - y1 - y2)^2 + y2.
    def f1(x, y):
        return -((x[..., 0] - y[..., 0] - y[..., 1]) ** 2) + y[..., 1]

    def f2(x, y):
        return -((y[..., 0] - x[..., 0]) ** 2) - (y[..., 1] - 2 * x[..., 0]) ** 2

    game = CustomGame(f1, f2, [-1.0], [1.0], [-1.0, -1.0], [1.0, 1.0], vectorized=True)
    for x in (0.2, 0.7, 0.9):
        xa = np.array([x])
        np.testing.assert_allclose(
            game.hierarchical_grad(xa), _fd_hierarchical(game, xa, 1e-5), rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize("cls", _library_game_classes(), ids=lambda c: c.__name__)
def test_hierarchical_grad_matches_differences_for_every_library_game(cls):
    game = cls()
    rng = np.random.default_rng(0)
    lo, hi = game.leader_low, game.leader_high
    for _ in range(3):
        x = lo + (hi - lo) * rng.uniform(0.05, 0.95, game.d1)
        np.testing.assert_allclose(
            game.hierarchical_grad(x), _fd_hierarchical(game, x), rtol=1e-5, atol=1e-5
        )


# ---------------------------------------------------------------------- defect 10: CustomGame
def _f1(x, y):
    return -((x[..., 0] - 0.3) ** 2) + x[..., 0] * y[..., 0]


def _f2(x, y):
    return -((y[..., 0] - x[..., 0]) ** 2)


def test_vectorized_callable_returning_one_scalar_is_refused():
    def lazy(x, y):
        return 1.0 - float(np.sum(y) * 0)

    game = CustomGame(_f1, lazy, [0], [1], [0], [1], vectorized=True)
    with pytest.raises(ValueError, match=r"follower_payoff \(vectorized=True\) must return shape"):
        game.follower_payoff(np.zeros((3, 1)), np.zeros((3, 1)))


def test_callables_returning_strings_or_booleans_are_refused():
    game = CustomGame(_f1, _f2, [0], [1], [0], [1], leader_grad=lambda x, y: ["0.1"])
    with pytest.raises(TypeError, match="leader_grad must return real numbers"):
        game.leader_grad(np.zeros(1), np.zeros(1))
    game = CustomGame(_f1, _f2, [0], [1], [0], [1], follower_grad=lambda x, y: np.array([True]))
    with pytest.raises(TypeError, match="follower_grad must return real numbers"):
        game.follower_grad(np.zeros(1), np.zeros(1))


def test_a_payoff_that_is_nan_somewhere_is_reported_with_the_point():
    def f2(x, y):
        return np.nan if y[0] > 0.9 else -((y[0] - x[0]) ** 2)

    game = CustomGame(_f1, f2, [0], [1], [0], [1])
    with pytest.raises(ValueError, match=r"follower_payoff returned nan at x=\[0.5\], y=\[0.95\]"):
        game.follower_payoff(np.array([0.5]), np.array([0.95]))


def test_numeric_best_response_to_nan_is_refused():
    game = CustomGame(_f1, _f2, [0], [1], [0], [1])
    with pytest.raises(ValueError, match="best_response needs a finite leader strategy"):
        game.best_response(np.array([np.nan]))


def test_user_best_response_returning_nan_or_leaving_y_is_refused():
    nan = CustomGame(_f1, _f2, [0], [1], [0], [1], best_response=lambda x: np.array([np.nan]))
    with pytest.raises(ValueError, match=r"best_response returned \[nan\]"):
        nan.stackelberg()  # main: IndexError from inside the optimiser
    out = CustomGame(_f1, _f2, [0], [1], [0], [1], best_response=lambda x: np.array([5.0]))
    with pytest.raises(ValueError, match=r"must be finite and inside Y"):
        out.best_response(np.array([0.5]))
    # a rounding error at the bound is tolerated and clipped
    edge = CustomGame(_f1, _f2, [0], [1], [0], [1], best_response=lambda x: np.array([1 + 1e-15]))
    assert edge.best_response(np.array([0.5]))[0] == 1.0


def test_follower_payoff_constant_in_y_gives_a_clear_error():
    game = CustomGame(_f1, lambda x, y: 1.0 + 0.0 * x[0], [0], [1], [0], [1])
    with pytest.raises(ValueError, match=r"grad_yy f2 is singular.*Assumption 4.8"):
        game.hierarchical_grad(np.array([0.5]))


def test_non_concave_follower_warns_that_assumption_4_8_fails():
    # f2 convex in y: the "best response" from the centre is a minimum.
    convex = CustomGame(_f1, lambda x, y: (y[0] - 0.5) ** 2, [0], [1], [0], [1])
    with pytest.warns(UserWarning, match="Assumption 4.8"):
        convex.stackelberg()

    # A tilted double well: the centre of Y = [-1, 0.6] lies in the basin of the lower
    # maximum (y = -0.5), concave there; the higher one is near y = 0.5.
    def well(x, y):
        return -((y[0] ** 2 - 0.25) ** 2) + 0.05 * y[0]

    game = CustomGame(_f1, well, [0], [1], [-1.0], [0.6])
    with pytest.warns(UserWarning, match="only a local maximum"):
        game.stackelberg()


def test_concave_custom_game_does_not_warn():
    # r(x) = x, f1(x, r(x)) = -(x - 0.3)^2 - (x - 0.2)^2 / 2: maximum at x = 0.8 / 3.
    def f1(x, y):
        return -((x[..., 0] - 0.3) ** 2) - 0.5 * (y[..., 0] - 0.2) ** 2

    game = CustomGame(f1, _f2, [0], [1], [0], [1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eq = game.stackelberg()
    np.testing.assert_allclose(eq.x, [0.8 / 3], atol=1e-6)


# ---------------------------------------------------------------------- defect 13: parameters
@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: Duopoly(b=True), "b must be a finite real number, got True"),
        (lambda: Duopoly(c1=None), "c1 must be a finite real number, got None"),
        (lambda: Duopoly(a="50"), "a must be a finite real number, got '50'"),
        (lambda: Duopoly(a=1e300), r"a=1e\+300.*overflow float64"),
        (lambda: Duopoly(a=1e200, b=1e-200), r"a=1e\+200, b=1e-200 give the box bound"),
        (lambda: DiracGAN(gamma=1e-320), r"c=1.0, gamma=1e-320 give the follower's box"),
        (lambda: DiracGAN(c=1e308), r"c=1e\+308 give the leader's box"),
        (lambda: QuadraticGame(k=1e300, bound=1e10), r"k=1e\+300, bound=10000000000.0 give"),
        (lambda: ZeroSumNoNash(c=1e-310, b=1.0), r"b=1.0, c=1e-310.* give"),
        (lambda: CooperativeGame(v=1e300), r"v=1e\+300.*overflow float64"),
        (lambda: SecurityGame(budget_penalty=1e308), r"budget_penalty=1e\+308.*overflow"),
        (lambda: NonlinearGame(k=True), "k must be a finite real number, got True"),
        (lambda: RandomQuadraticGame(mu=1e-20), r"need K2 / mu <= 1e\+08"),
        (lambda: RandomQuadraticGame(coupling=True), "coupling must be a finite real number"),
        (
            lambda: RandomQuadraticGame(coupling=1e308),
            r"coupling=1e\+308, .* give a leader Hessian A that overflows",
        ),
        (lambda: SecurityGame(tau=True), "tau must be a finite real number, got True"),
        (lambda: SecurityGame(attacker_reward=[True, 1.0, 1.0]), "attacker_reward must be"),
    ],
)
def test_bad_parameters_name_the_parameter(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_random_quadratic_game_is_concave_as_designed():
    for mu in (1e-3, 1e-6, 4e-8):
        g = RandomQuadraticGame(d1=3, d2=8, mu=mu, seed=1)
        assert np.linalg.eigvalsh(g.H)[0] >= mu * (1 - 1e-6)


def test_game_constants_refuse_booleans():
    with pytest.raises(ValueError, match="mu must be a finite real number, got True"):
        CustomGame(_f1, _f2, [0], [1], [0], [1], mu=True)


# ---------------------------------------------------------------------- issue 8 item 7
def test_equilibria_unpack_compare_and_hash():
    game = Duopoly()
    x, y = game.stackelberg()
    assert np.array_equal(x, [24.5]) and np.array_equal(y, [12.25])
    xn, yn = game.nash()
    np.testing.assert_allclose([xn[0], yn[0]], [49 / 3, 49 / 3])
    rq = RandomQuadraticGame(d1=3, d2=4)
    e1, e2 = rq.stackelberg(), RandomQuadraticGame(d1=3, d2=4).stackelberg()
    assert e1 == e2 and hash(e1) == hash(e2) and len({e1, e2}) == 1
    assert e1 != RandomQuadraticGame(d1=3, d2=4, seed=1).stackelberg()
    assert e1 != game.stackelberg()  # other shapes: unequal, no error
    assert e1 != (e1.x, e1.y)
    r = repr(game.stackelberg())
    assert r == "Equilibrium(x=[24.5], y=[12.25], leader_payoff=300.125, follower_payoff=150.062)"
    zero = Equilibrium(np.array([0.0]), np.array([-0.0]), 0.0, -0.0)
    same = Equilibrium(np.array([-0.0]), np.array([0.0]), -0.0, 0.0)
    assert zero == same and hash(zero) == hash(same)


# ---------------------------------------------------------------------- issue 8 item 8
class PayoffOnly(Game):
    """A payoff-only subclass: every derivative is a numeric default."""

    def __init__(self) -> None:
        super().__init__([-1.0], [1.0], [-1.0], [1.0])

    def leader_payoff(self, x, y):
        return -(x[..., 0] ** 2) + x[..., 0] * y[..., 0]

    def follower_payoff(self, x, y):
        return -(y[..., 0] ** 2) + 0.5 * x[..., 0] * y[..., 0]


@pytest.mark.parametrize("point", [(0.3, 0.2), (-0.9, 0.7), (0.0, 0.0)])
def test_payoff_only_subclass_second_derivatives(point):
    game = PayoffOnly()
    x, y = np.array([point[0]]), np.array([point[1]])
    np.testing.assert_allclose(game.follower_hess_yy(x, y), [[-2.0]], rtol=1e-6)
    np.testing.assert_allclose(game.follower_hess_yx(x, y), [[0.5]], rtol=1e-6)
