"""Ground truth of every game: derivatives, batch axis, best response, DSE and Nash.

Every library game (at its defaults and at other parameters) and two :class:`CustomGame`
instances go through the same checks: analytic derivatives against central differences,
batched calls against per-point calls, closed forms against the base class's numeric solvers,
and the conditions of Definitions 3.1 and 3.3 at the equilibria.
"""

from __future__ import annotations

import dataclasses
import importlib
import pickle
from collections.abc import Callable

import numpy as np
import pytest

from hic_envs.games import (
    BattleOfSexes,
    Bimatrix,
    CooperativeGame,
    CustomGame,
    DiracGAN,
    Duopoly,
    Game,
    HamiltonianGame,
    IteratedPrisonersDilemma,
    LogitGame,
    MatchingPennies,
    NonlinearGame,
    PrisonersDilemma,
    QuadraticGame,
    RandomQuadraticGame,
    SecurityGame,
    StagHunt,
    ZeroSumNoNash,
)
from hic_envs.registration import LIBRARY_GAMES

# ---------------------------------------------------------------------------- custom games


def duopoly_f1(x, y):
    return x[0] * (50.0 - (x[0] + y[0]) - 1.0)


def duopoly_f2(x, y):
    return y[0] * (50.0 - (x[0] + y[0]) - 1.0)


def custom_duopoly() -> CustomGame:
    """The default duopoly from plain per-point functions, every derivative numeric."""
    return CustomGame(duopoly_f1, duopoly_f2, [0.0], [50.0], [0.0], [50.0], name="CustomDuopoly")


def custom_vectorized_quadratic() -> CustomGame:
    """A 2x2 random quadratic game from vectorised callables, derivatives numeric."""
    ref = RandomQuadraticGame(2, 2, seed=1)
    return CustomGame(
        ref.leader_payoff,
        ref.follower_payoff,
        ref.leader_low,
        ref.leader_high,
        ref.follower_low,
        ref.follower_high,
        mu=ref.mu,
        K2=ref.K2,
        vectorized=True,
        name="CustomQuadratic",
    )


# ---------------------------------------------------------------------------- the cases


@dataclasses.dataclass(frozen=True)
class Case:
    make: Callable[[], Game]
    #: tolerance of quantities computed from numeric derivatives or solvers, relative to scale
    tol: float = 1e-7
    #: whether the game has analytic derivatives to check against differences
    analytic: bool = True
    #: whether r(X) is interior to Y for every x in X (the duopoly's follower produces nothing
    #: when the leader floods the market, x > a - c2)
    interior_br: bool = True
    #: for a custom game, the library game it rebuilds (its closed forms are the reference)
    reference: Callable[[], Game] | None = None
    #: whether the Stackelberg solution is an interior DSE (Definition 3.3); False: it lies on
    #: the boundary of X, where the KKT conditions are checked instead
    interior_dse: bool = True
    #: whether the differential Nash equilibria form a continuum (nash() returns one of them)
    nash_set: bool = False
    #: whether the Stackelberg solutions form a continuum (stackelberg() returns one of them;
    #: the numeric solver's is compared by its payoff)
    dse_set: bool = False


#: Options of the library games' own cases, by registry ID. The games themselves are read from
#: the registration table (hic_envs.registration.LIBRARY_GAMES), so a new library game gets
#: every check below without touching this file (and fails the suite if its ground truth is
#: wrong); list it here only to relax a check that does not apply to it, saying why.
LIBRARY_OPTIONS: dict[str, dict] = {
    # Numeric best response and DSE, compared with the base class's solvers at 1e-6. Always
    # defect: CC is never reached, so x_CC is free (a segment of solutions).
    "hic/IteratedPrisonersDilemma-v0": dict(tol=1e-6, interior_dse=False, dse_set=True),
    "hic/Duopoly-v0": dict(interior_br=False),
    "hic/Security-v0": dict(tol=1e-6),
    "hic/Tandem-v0": dict(interior_br=False, interior_dse=False, nash_set=True),
    "hic/Hamiltonian-v0": dict(interior_br=False),
    "hic/PrisonersDilemma-v0": dict(interior_dse=False),
    "hic/Coordination-v0": dict(interior_dse=False),
    "hic/StagHunt-v0": dict(interior_dse=False),
    "hic/Chicken-v0": dict(interior_dse=False),
    "hic/BattleOfSexes-v0": dict(interior_dse=False),
    "hic/Bimatrix-v0": dict(tol=1e-6),
    # The solutions V V^T = S form a manifold {S^{1/2} Q}: the numeric DSE is another member
    # (compared by payoff), and the hierarchical Hessian is zero along the set.
    "hic/CovarianceGAN-v0": dict(dse_set=True),
}


def _library_cases() -> dict[str, Case]:
    out = {}
    for env_id, target in LIBRARY_GAMES.items():
        module, _, attr = target.partition(":")
        cls = getattr(importlib.import_module(module), attr)
        out[env_id] = Case(cls, **LIBRARY_OPTIONS.get(env_id, {}))
    return out


#: Other parameters of the library games, and custom games.
VARIANTS = {
    "quadratic-params": Case(lambda: QuadraticGame(k=-0.5, lam=2.0, t=1.0, s=0.5, m=3.0)),
    "zero_sum-with-nash": Case(lambda: ZeroSumNoNash(a=-1.0, b=1.0, c=2.0, bound=2.0)),
    "cooperative-params": Case(lambda: CooperativeGame(v=2.0, s=1.0, alpha=3.0, beta=0.8)),
    "dirac_gan-params": Case(lambda: DiracGAN(c=-1.5, gamma=0.5)),
    "security-n4": Case(lambda: SecurityGame(n=4, tau=0.7), tol=1e-6),
    "random_quadratic-3x5": Case(lambda: RandomQuadraticGame(3, 5, seed=1)),
    "random_quadratic-4x1": Case(lambda: RandomQuadraticGame(4, 1, seed=2, mu=0.5, K2=3.0)),
    "random_quadratic-6x3": Case(lambda: RandomQuadraticGame(6, 3, seed=4, coupling=1.0)),
    "random_quadratic-nash-outside": Case(lambda: RandomQuadraticGame(2, 2, seed=3)),
    "nonlinear-dim2": Case(lambda: NonlinearGame(k=2.0, t=[0.5, -1.0], dim=2)),
    "custom-duopoly": Case(
        custom_duopoly, tol=1e-5, analytic=False, interior_br=False, reference=Duopoly
    ),
    "custom-vectorized": Case(
        custom_vectorized_quadratic,
        tol=1e-5,
        analytic=False,
        reference=lambda: RandomQuadraticGame(2, 2, seed=1),
    ),
    "hamiltonian-reg2": Case(lambda: HamiltonianGame(reg=2.0)),
    "prisoners_dilemma-leader_tau": Case(lambda: PrisonersDilemma(tau=0.5, leader_tau=0.5)),
    "matching_pennies-taus": Case(lambda: MatchingPennies(tau=0.5, leader_tau=0.2)),
    "stag_hunt-leader_tau": Case(lambda: StagHunt(leader_tau=0.5)),
    "battle_of_sexes-leader_tau": Case(lambda: BattleOfSexes(tau=2.0, leader_tau=0.3)),
    "ipd-leader_tau": Case(lambda: IteratedPrisonersDilemma(leader_tau=0.5), tol=1e-6),
    "logit-matching_pennies": Case(
        lambda: LogitGame(MatchingPennies(tau=0.5, leader_tau=0.2), bound=4.0)
    ),
    "bimatrix-2x3": Case(
        lambda: Bimatrix(
            A=[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]],
            B=[[1.0, 0.0, 2.0], [0.0, 3.0, 1.0]],
            tau=0.3,
            leader_tau=0.1,
        ),
        tol=1e-6,
        interior_dse=False,
    ),  # fmt: skip
    "bimatrix-3x2": Case(
        lambda: Bimatrix(
            A=[[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]],
            B=[[0.0, 1.0], [1.0, 0.0], [0.3, 0.2]],
            tau=0.5,
            leader_tau=0.3,
        ),
        tol=1e-6,
    ),  # fmt: skip
}

CASES = {**_library_cases(), **VARIANTS}

_cache: dict[str, Game] = {}


def test_every_library_game_is_a_case_and_no_option_is_stale():
    assert set(LIBRARY_GAMES) <= set(CASES)
    assert set(LIBRARY_OPTIONS) <= set(LIBRARY_GAMES), set(LIBRARY_OPTIONS) - set(LIBRARY_GAMES)


@pytest.fixture(params=list(CASES), scope="module")
def case(request) -> tuple[Game, Case]:
    spec = CASES[request.param]
    if request.param not in _cache:
        _cache[request.param] = spec.make()
    return _cache[request.param], spec


def sample(game: Game, rng: np.random.Generator, shape: tuple[int, ...]):
    """Points drawn uniformly from the inner 90% of the boxes, ``x`` and ``y`` of ``shape``."""

    def draw(lo, hi):
        u = rng.uniform(0.05, 0.95, shape + lo.shape)
        return lo + u * (hi - lo)

    return draw(game.leader_low, game.leader_high), draw(game.follower_low, game.follower_high)


def central_diff(fn, z: np.ndarray, rel: float = 1e-6) -> np.ndarray:
    """Central differences of ``fn`` w.r.t. the last axis of ``z``: shape ``(..., *out, n)``
    (relative step ``rel``; ``1e-4`` for a difference of a numeric gradient)."""
    cols = []
    for i in range(z.shape[-1]):
        h = rel * max(1.0, float(np.abs(z[..., i]).max()))
        e = np.zeros_like(z)
        e[..., i] = h
        cols.append((fn(z + e) - fn(z - e)) / (2 * h))
    return np.stack(cols, axis=-1)


def scale_of(*arrays) -> float:
    return max([1.0] + [float(np.abs(a).max()) for a in arrays])


def is_negative_definite(h: np.ndarray) -> bool:
    return bool(np.all(np.linalg.eigvalsh(0.5 * (h + np.swapaxes(h, -1, -2))) < 0))


def leader_hess_xx(game: Game, x, y) -> np.ndarray:
    return central_diff(lambda u: game.leader_grad(u, y), x)


# ---------------------------------------------------------------------------- derivatives


def test_derivatives_match_central_differences(case):
    game, spec = case
    rng = np.random.default_rng(0)
    x, y = sample(game, rng, (6,))
    f_scale = scale_of(game.leader_payoff(x, y), game.follower_payoff(x, y))
    atol = 1e-8 * f_scale + 1e-7
    rtol = 1e-6 if spec.analytic else 1e-5

    np.testing.assert_allclose(
        game.leader_grad(x, y),
        central_diff(lambda u: game.leader_payoff(u, y), x),
        rtol=rtol,
        atol=atol,
    )
    np.testing.assert_allclose(
        game.follower_grad(x, y),
        central_diff(lambda v: game.follower_payoff(x, v), y),
        rtol=rtol,
        atol=atol,
    )
    np.testing.assert_allclose(
        game.leader_grad_y(x, y),
        central_diff(lambda v: game.leader_payoff(x, v), y),
        rtol=rtol,
        atol=atol,
    )
    # Second derivatives: differences of the (analytic) follower gradient, and of the payoff
    # itself with a wider step so that the check does not only test self-consistency.
    hyy = game.follower_hess_yy(x, y)
    hyx = game.follower_hess_yx(x, y)
    assert hyy.shape == (6, game.d2, game.d2)
    assert hyx.shape == (6, game.d2, game.d1)
    g_scale = scale_of(game.follower_grad(x, y))
    h_atol = (1e-6 if spec.analytic else 1e-4) * max(g_scale, scale_of(hyy, hyx))
    np.testing.assert_allclose(
        hyy, central_diff(lambda v: game.follower_grad(x, v), y), rtol=1e-5, atol=h_atol
    )
    np.testing.assert_allclose(
        hyx, central_diff(lambda u: game.follower_grad(u, y), x), rtol=1e-5, atol=h_atol
    )
    np.testing.assert_allclose(hyy, np.swapaxes(hyy, -1, -2), atol=h_atol)
    h1yx = game.leader_hess_yx(x, y)
    assert h1yx.shape == (6, game.d2, game.d1)
    l_atol = (1e-6 if spec.analytic else 1e-4) * max(scale_of(game.leader_grad_y(x, y)), 1.0)
    np.testing.assert_allclose(
        h1yx, central_diff(lambda u: game.leader_grad_y(u, y), x), rtol=1e-5, atol=l_atol
    )


def test_total_leader_grad_is_the_derivative_of_the_hierarchical_payoff(case):
    game, spec = case
    rng = np.random.default_rng(1)
    x, _ = sample(game, rng, (3,))
    expected = central_diff(game.hierarchical_payoff, x)
    scale = scale_of(expected, game.hierarchical_payoff(x))
    np.testing.assert_allclose(game.hierarchical_grad(x), expected, atol=100 * spec.tol * scale)


# ---------------------------------------------------------------------------- batch axis

PAIR_METHODS = [
    "leader_payoff",
    "follower_payoff",
    "leader_grad",
    "follower_grad",
    "leader_grad_y",
    "follower_hess_yy",
    "follower_hess_yx",
    "total_leader_grad",
]
X_METHODS = ["best_response", "hierarchical_payoff", "hierarchical_grad"]


@pytest.mark.parametrize("shape", [(5,), (2, 3)])
def test_batch_axis_equals_per_point_calls(case, shape):
    game, spec = case
    rng = np.random.default_rng(2)
    x, y = sample(game, rng, shape)
    # Finite differences amplify the rounding differences of batched and single BLAS calls.
    tol = 1e-12 if spec.analytic else 1e-7
    for name in PAIR_METHODS:
        method = getattr(game, name)
        batched = method(x, y)
        single = np.stack([method(x[i], y[i]) for i in np.ndindex(*shape)])
        np.testing.assert_allclose(
            batched.reshape(single.shape), single, rtol=tol, atol=tol, err_msg=name
        )
        assert batched.shape[: len(shape)] == shape, name
    f1, f2 = game.payoffs(x, y)
    np.testing.assert_allclose(f1, game.leader_payoff(x, y), rtol=1e-14)
    np.testing.assert_allclose(f2, game.follower_payoff(x, y), rtol=1e-14)
    for name in X_METHODS:
        method = getattr(game, name)
        batched = method(x)
        single = np.stack([method(x[i]) for i in np.ndindex(*shape)])
        np.testing.assert_allclose(
            batched.reshape(single.shape), single, rtol=1e-9, atol=1e-9, err_msg=name
        )
        assert batched.shape[: len(shape)] == shape, name


def test_follower_grad_given_is_follower_grad_bit_for_bit(case):
    # Repeated follower steps use follower_grad_given(x) (the x part computed once): it must
    # give follower_grad's values exactly, for a batch and against several y for one x.
    game, _ = case
    rng = np.random.default_rng(4)
    x, y = sample(game, rng, (6,))
    _, y2 = sample(game, rng, (6,))
    grad = game.follower_grad_given(x)
    for yy in (y, y2, y):
        assert grad(yy).tobytes() == game.follower_grad(x, yy).tobytes()
    assert game.follower_grad_given(x[0])(y).tobytes() == game.follower_grad(x[0], y).tobytes()


def test_leading_axes_broadcast(case):
    game, spec = case
    rng = np.random.default_rng(3)
    x, y = sample(game, rng, (4,))
    tol = 1e-12 if spec.analytic else 1e-7
    for name in PAIR_METHODS:
        method = getattr(game, name)
        # One leader strategy against a batch of follower strategies, and vice versa.
        np.testing.assert_allclose(
            method(x[0], y), np.stack([method(x[0], yi) for yi in y]), atol=tol, err_msg=name
        )
        np.testing.assert_allclose(
            method(x, y[0]), np.stack([method(xi, y[0]) for xi in x]), atol=tol, err_msg=name
        )
        # Outer product of batches: (4, 1, d1) with (1, 4, d2).
        outer = method(x[:, None, :], y[None, :, :])
        assert outer.shape[:2] == (4, 4), name


# ---------------------------------------------------------------------------- best response


def test_best_response_matches_numeric_solver(case):
    game, spec = case
    rng = np.random.default_rng(4)
    x, _ = sample(game, rng, (4,))
    closed = game.best_response(x)
    numeric = Game.best_response(game, x)  # the unbound base method: always numeric
    width = game.follower_high - game.follower_low
    np.testing.assert_allclose(closed, numeric, atol=1e-6 * width.max())
    # Interior and stationary, as Eq. (4) and the text after it assume (where the closed form
    # is interior: a game whose r(X) reaches the follower's bound says so in its case).
    inside = np.all((closed > game.follower_low) & (closed < game.follower_high), axis=-1)
    assert spec.interior_br is False or inside.all()
    assert inside.any()
    g = game.follower_grad(x[inside], closed[inside])
    assert np.abs(g).max() <= 1e3 * spec.tol * scale_of(game.follower_grad(x, game.follower_low))


def test_best_response_is_interior_on_the_whole_leader_box(case):
    game, spec = case
    if not spec.interior_br:
        pytest.skip("the best response reaches the follower's bound for some x in X")
    # The corners of X (or a sample of them) map inside Y.
    d1 = game.d1
    rng = np.random.default_rng(5)
    signs = rng.integers(0, 2, size=(8, d1)).astype(bool)
    corners = np.where(signs, game.leader_high, game.leader_low)
    r = game.best_response(corners)
    assert np.all(r > game.follower_low) and np.all(r < game.follower_high)


def _needs_equilibria(game: Game) -> None:
    """Skip where the game declares its equilibria unknown (``has_equilibria`` False: the
    neural GAN; test_unknown_equilibria_are_refused checks that it refuses to answer)."""
    if not game.has_equilibria:
        pytest.skip(f"{game.name} declares no known equilibria (has_equilibria=False)")


def test_unknown_equilibria_are_refused(case):
    game, _ = case
    if game.has_equilibria:
        pytest.skip("the game knows its equilibria (tests below)")
    for call in (game.stackelberg, game.nash):
        with pytest.raises(ValueError, match="no known"):
            call()


# ---------------------------------------------------------------------------- equilibria


def test_stackelberg_matches_numeric_solver(case):
    game, spec = case
    _needs_equilibria(game)
    dse = game.stackelberg()
    # A custom game's DSE is the numeric one already: compare it with the closed form instead.
    numeric = spec.reference().stackelberg() if spec.reference else Game._stackelberg(game)
    width = (game.leader_high - game.leader_low).max()
    if spec.dse_set:
        assert numeric.leader_payoff == pytest.approx(dse.leader_payoff, abs=1e-9)
    else:
        np.testing.assert_allclose(dse.x, numeric.x, atol=1e-5 * width)
        np.testing.assert_allclose(dse.y, numeric.y, atol=1e-5 * width)
    payoff_tol = 1e-9 if spec.reference is None else 1e-7
    assert dse.leader_payoff >= numeric.leader_payoff - payoff_tol * scale_of(dse.leader_payoff)


def test_nash_matches_numeric_solver(case):
    game, spec = case
    _needs_equilibria(game)
    ne = game.nash()
    numeric = spec.reference().nash() if spec.reference else Game._nash(game)
    assert (ne is None) == (numeric is None)
    if ne is not None and spec.nash_set:
        # A continuum of DNE: the solver's is another member; check it is one.
        np.testing.assert_allclose(game.leader_grad(numeric.x, numeric.y), 0, atol=1e-7)
        np.testing.assert_allclose(game.follower_grad(numeric.x, numeric.y), 0, atol=1e-7)
    elif ne is not None:
        width = (game.leader_high - game.leader_low).max()
        np.testing.assert_allclose(ne.x, numeric.x, atol=1e-6 * width)
        np.testing.assert_allclose(ne.y, numeric.y, atol=1e-6 * width)


def test_stackelberg_satisfies_definition_3_3(case):
    game, spec = case
    _needs_equilibria(game)
    if not spec.interior_dse:
        pytest.skip("the Stackelberg solution lies on the boundary (KKT test below)")
    dse = game.stackelberg()
    x, y = dse.x, dse.y
    assert x.shape == (game.d1,) and y.shape == (game.d2,)
    # Strictly interior, as the paper assumes.
    assert np.all(x > game.leader_low) and np.all(x < game.leader_high)
    assert np.all(y > game.follower_low) and np.all(y < game.follower_high)
    # y* = r(x*)
    np.testing.assert_allclose(y, game.best_response(x), atol=1e-9)
    # (I): the total leader gradient (corrected chain rule) and the follower gradient vanish.
    g_scale = scale_of(game.leader_grad(x, y))
    assert np.abs(game.hierarchical_grad(x)).max() <= 10 * spec.tol * g_scale
    assert np.abs(game.follower_grad(x, y)).max() <= 10 * spec.tol * g_scale
    # (II): both Hessians negative definite; on a continuum of solutions, negative
    # semi-definite, with the null space no larger than the set's dimension (stated by the game).
    if spec.dse_set:
        eig = np.linalg.eigvalsh(game.hierarchical_hess(x))
        assert eig.max() <= 1e-6 * max(1.0, abs(eig).max())
        assert (eig < -1e-6 * max(1.0, abs(eig).max())).sum() >= game.d1 - game.dse_set_dimension
    else:
        assert is_negative_definite(game.hierarchical_hess(x))
    assert is_negative_definite(game.follower_hess_yy(x, y))
    # The recorded payoffs are the payoffs there.
    assert dse.leader_payoff == pytest.approx(float(game.leader_payoff(x, y)))
    assert dse.follower_payoff == pytest.approx(float(game.follower_payoff(x, y)))


def test_boundary_stackelberg_satisfies_the_kkt_conditions(case):
    game, spec = case
    _needs_equilibria(game)
    if spec.interior_dse:
        pytest.skip("interior DSE (Definition 3.3 test above)")
    dse = game.stackelberg()
    x, y = dse.x, dse.y
    np.testing.assert_allclose(y, game.best_response(x), atol=1e-9)
    g = game.hierarchical_grad(x)
    tol = 1e-6 * scale_of(game.leader_grad(x, y))
    at_low, at_high = x <= game.leader_low, x >= game.leader_high
    assert (at_low | at_high).any()  # really on the boundary
    # The projected gradient vanishes: pushing outwards at a bound, zero inside.
    assert np.all(g[at_low] <= tol) and np.all(g[at_high] >= -tol)
    assert np.all(np.abs(g[~(at_low | at_high)]) <= 1e3 * tol)


def test_stackelberg_is_a_local_maximum_of_the_hierarchical_payoff(case):
    game, _ = case
    _needs_equilibria(game)
    dse = game.stackelberg()
    rng = np.random.default_rng(6)
    width = game.leader_high - game.leader_low
    nearby = np.clip(
        dse.x + 1e-2 * width * rng.uniform(-1, 1, (16, game.d1)),
        game.leader_low,
        game.leader_high,
    )
    assert np.all(game.hierarchical_payoff(nearby) <= dse.leader_payoff + 1e-9)


def test_nash_satisfies_definition_3_1(case):
    game, spec = case
    _needs_equilibria(game)
    ne = game.nash()
    if ne is None:
        pytest.skip("no differential Nash equilibrium")
    x, y = ne.x, ne.y
    assert np.all(x > game.leader_low) and np.all(x < game.leader_high)
    assert np.all(y > game.follower_low) and np.all(y < game.follower_high)
    g_scale = scale_of(game.leader_grad(x, game.follower_low))
    assert np.abs(game.leader_grad(x, y)).max() <= 10 * spec.tol * g_scale
    assert np.abs(game.follower_grad(x, y)).max() <= 10 * spec.tol * g_scale
    assert is_negative_definite(leader_hess_xx(game, x, y))
    assert is_negative_definite(game.follower_hess_yy(x, y))


def test_strong_concavity_constants(case):
    game, _ = case
    if game.mu is None:
        pytest.skip("mu unknown")
    rng = np.random.default_rng(7)
    x, y = sample(game, rng, (20,))
    corners_y = np.stack([game.follower_low, game.follower_high])
    for xs, ys in ((x, y), (x[:2], corners_y)):
        eig = np.linalg.eigvalsh(-game.follower_hess_yy(xs, ys))
        assert eig.min() >= game.mu * (1 - 1e-6)
        assert eig.max() <= game.K2 * (1 + 1e-6)
    assert game.mu <= game.K2


# ---------------------------------------------------------------------------- known values

EXPECTED = {
    # game: (DSE x*, DSE y*, Nash x, Nash y), from the closed forms in the docstrings
    "duopoly": ([24.5], [12.25], [49 / 3], [49 / 3]),
    "quadratic": ([1.0], [1.0], [-1.0], [-1.0]),
    "zero_sum": ([0.0], [0.0], None, None),
    "zero_sum-with-nash": ([0.0], [0.0], [0.0], [0.0]),
    "cooperative": ([4.0], [3.0], [2.0], [2.0]),
    "dirac_gan": ([1.0], [0.0], None, None),
    "dirac_gan-params": ([-1.5], [0.0], None, None),
    "nonlinear": ([0.711121], [0.347979], [0.0], [0.0]),
    "custom-duopoly": ([24.5], [12.25], [49 / 3], [49 / 3]),
    "tandem": ([4.0], [-3.0], [0.5], [0.5]),
    "hamiltonian": ([0.0], [0.0], None, None),
    "hamiltonian-reg2": ([0.0], [0.0], None, None),
    "matching_pennies": ([0.5], [0.5], None, None),
    "matching_pennies-taus": ([0.5], [0.5], [0.5], [0.5]),
    # r(p) = sigmoid(-1 / tau) whatever p; the leader defects (p = 0), or with leader_tau the
    # logit of its own dominance: p = sigmoid(-1 / leader_tau).
    "prisoners_dilemma": ([0.0], [1 / (1 + np.e)], None, None),
    "prisoners_dilemma-leader_tau": (
        [1 / (1 + np.e**2)],
        [1 / (1 + np.e**2)],
        [1 / (1 + np.e**2)],
        [1 / (1 + np.e**2)],
    ),
}


#: The short names above of the library games' own cases (their registry IDs in CASES).
SHORT = {
    "duopoly": "hic/Duopoly-v0",
    "quadratic": "hic/Quadratic-v0",
    "zero_sum": "hic/ZeroSum-v0",
    "cooperative": "hic/Cooperative-v0",
    "dirac_gan": "hic/DiracGAN-v0",
    "nonlinear": "hic/Nonlinear-v0",
    "tandem": "hic/Tandem-v0",
    "hamiltonian": "hic/Hamiltonian-v0",
    "matching_pennies": "hic/MatchingPennies-v0",
    "prisoners_dilemma": "hic/PrisonersDilemma-v0",
}


def _game(name: str) -> Game:
    key = SHORT.get(name, name)
    return _cache.get(key) or CASES[key].make()


@pytest.mark.parametrize("name", list(EXPECTED))
def test_equilibria_at_known_values(name):
    game = _game(name)
    dse_x, dse_y, ne_x, ne_y = EXPECTED[name]
    dse = game.stackelberg()
    atol = 1e-4 if name.startswith("custom") else 1e-6
    np.testing.assert_allclose(dse.x, dse_x, atol=atol)
    np.testing.assert_allclose(dse.y, dse_y, atol=atol)
    ne = game.nash()
    if ne_x is None:
        assert ne is None
    else:
        np.testing.assert_allclose(ne.x, ne_x, atol=atol)
        np.testing.assert_allclose(ne.y, ne_y, atol=atol)


@pytest.mark.parametrize(
    "name, min_distance",
    [("duopoly", 5.0), ("quadratic", 2.0), ("cooperative", 2.0), ("nonlinear", 0.5)],
)
def test_stackelberg_differs_from_nash(name, min_distance):
    game = _game(name)
    dse, ne = game.stackelberg(), game.nash()
    distance = np.linalg.norm(np.concatenate([dse.x - ne.x, dse.y - ne.y]))
    assert distance >= min_distance
    # Commitment never hurts the leader.
    assert dse.leader_payoff > ne.leader_payoff


# ---------------------------------------------------------------------------- misc


def test_library_games_pickle(case):
    game, spec = case
    if isinstance(game, CustomGame):
        pytest.skip("custom games pickle only with module-level callables (test_custom_game)")
    clone = pickle.loads(pickle.dumps(game))
    x, y = sample(game, np.random.default_rng(8), (3,))
    np.testing.assert_array_equal(clone.leader_payoff(x, y), game.leader_payoff(x, y))
    np.testing.assert_array_equal(clone.best_response(x), game.best_response(x))


def test_info_is_json_friendly(case):
    import json

    game, _ = case
    info = json.loads(json.dumps(game.info()))
    assert info["name"] == game.name
    assert info["d1"] == game.d1 and info["d2"] == game.d2


# ---------------------------------------------------------------------------- matrix-free API


def second_difference(f, x, y, a: str, b: str, rel: float = 1e-4) -> np.ndarray:
    """``d^2 f / da_i db_j`` by four-point second differences of the payoff, ``(..., d_a,
    d_b)`` (step ``rel`` relative: accurate to about ``1e-8`` relative)."""
    z = {"x": x, "y": y}
    da, db = z[a].shape[-1], z[b].shape[-1]
    out = np.empty(np.broadcast_shapes(x.shape[:-1], y.shape[:-1]) + (da, db))
    for i in range(da):
        for j in range(db):
            acc = 0.0
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                w = {"x": x.copy(), "y": y.copy()}
                hi = rel * max(1.0, float(np.abs(z[a][..., i]).max()))
                hj = rel * max(1.0, float(np.abs(z[b][..., j]).max()))
                w[a][..., i] += si * hi
                w[b][..., j] += sj * hj
                acc = acc + si * sj * f(w["x"], w["y"])
            out[..., i, j] = acc / (4 * hi * hj)
    return out


def dense_blocks(game: Game, x, y) -> dict[tuple[str, str], np.ndarray]:
    """Every Hessian block of both payoffs, ``(..., d_a, d_b)``: the game's analytic dense
    blocks, or central differences of its analytic gradients, where it has them; second
    differences of the payoff otherwise (a difference of a difference would be noisier than
    what it checks)."""
    own = type(game)
    f1, f2 = game.leader_payoff, game.follower_payoff

    def pick(method: str, closed, f, a: str, b: str) -> np.ndarray:
        if getattr(own, method) is not getattr(Game, method):
            return closed()
        return second_difference(f, x, y, a, b)

    f2yx = pick("follower_hess_yx", lambda: game.follower_hess_yx(x, y), f2, "y", "x")
    f1yx = pick("leader_hess_yx", lambda: game.leader_hess_yx(x, y), f1, "y", "x")
    return {
        ("follower", "yy"): pick(
            "follower_hess_yy", lambda: game.follower_hess_yy(x, y), f2, "y", "y"
        ),
        ("follower", "yx"): f2yx,
        ("follower", "xy"): np.swapaxes(f2yx, -1, -2),
        ("follower", "xx"): pick(
            "follower_grad_x",
            lambda: central_diff(lambda u: game.follower_grad_x(u, y), x),
            f2,
            "x",
            "x",
        ),
        ("leader", "yx"): f1yx,
        ("leader", "xy"): np.swapaxes(f1yx, -1, -2),
        ("leader", "xx"): pick("leader_grad", lambda: leader_hess_xx(game, x, y), f1, "x", "x"),
        ("leader", "yy"): pick(
            "leader_grad_y",
            lambda: central_diff(lambda u: game.leader_grad_y(x, u), y),
            f1,
            "y",
            "y",
        ),
    }


def test_follower_grad_x_matches_central_differences(case):
    game, spec = case
    x, y = sample(game, np.random.default_rng(5), (4,))
    ref = central_diff(lambda u: game.follower_payoff(u, y), x)
    atol = 1e-6 * scale_of(ref) + 1e-7
    np.testing.assert_allclose(game.follower_grad_x(x, y), ref, rtol=1e-5, atol=atol)


def test_payoff_hvp_matches_the_dense_blocks_batched(case):
    """``payoff_hvp`` on a (2, 3) batch equals each block times ``v`` (every block of both
    players): the closed forms and the difference default alike."""
    game, spec = case
    rng = np.random.default_rng(6)
    x, y = sample(game, rng, (2, 3))
    blocks = dense_blocks(game, x, y)
    for (player, block), H in blocks.items():
        v = rng.normal(size=(2, 3, H.shape[-1]))
        got = game.payoff_hvp(player, block, x, y, v)
        ref = np.einsum("...ij,...j->...i", H, v)
        assert got.shape == ref.shape == (2, 3, H.shape[-2]), (player, block)
        tol = (1e-5 if spec.analytic else 1e-4) * scale_of(H) * scale_of(v) + 1e-6
        np.testing.assert_allclose(got, ref, rtol=0, atol=tol, err_msg=f"{player} {block}")
        # broadcasting: one v against the whole batch, and v = 0 gives 0
        one = game.payoff_hvp(player, block, x, y, v[0, 0])
        np.testing.assert_allclose(one, np.einsum("...ij,j->...i", H, v[0, 0]), atol=tol)
        zero = game.payoff_hvp(player, block, x, y, np.zeros(H.shape[-1]))
        assert np.all(zero == 0.0), (player, block)


def test_payoff_hvp_refuses_bad_arguments():
    game = QuadraticGame()
    x, y = np.zeros(game.d1), np.zeros(game.d2)
    with pytest.raises(ValueError, match="player"):
        game.payoff_hvp("both", "xx", x, y, x)
    with pytest.raises(ValueError, match="block"):
        game.payoff_hvp("leader", "xz", x, y, x)
    with pytest.raises(ValueError, match="shape"):
        game.payoff_hvp("leader", "xx", x, y, np.zeros(game.d1 + 1))


def test_unregularised_ipd_in_logits_has_exact_derivatives():
    """The SOS benchmark's game (``tau = 0``, logits): gradients against differences of the
    payoffs, every HVP block against the dense blocks, on a (3,) batch; its ground truth
    refuses."""
    game = LogitGame(IteratedPrisonersDilemma(tau=0.0), bound=3.0, scale=25.0)
    x, y = sample(game, np.random.default_rng(7), (3,))
    for fn, ref in (
        (game.leader_grad, central_diff(lambda u: game.leader_payoff(u, y), x)),
        (game.follower_grad, central_diff(lambda u: game.follower_payoff(x, u), y)),
        (game.leader_grad_y, central_diff(lambda u: game.leader_payoff(x, u), y)),
        (game.follower_grad_x, central_diff(lambda u: game.follower_payoff(u, y), x)),
    ):
        np.testing.assert_allclose(fn(x, y), ref, rtol=1e-6, atol=1e-7)
    rng = np.random.default_rng(8)
    for (player, block), H in dense_blocks(game, x, y).items():
        v = rng.normal(size=(3, H.shape[-1]))
        np.testing.assert_allclose(
            game.payoff_hvp(player, block, x, y, v),
            np.einsum("...ij,...j->...i", H, v),
            atol=1e-6 * scale_of(H) * scale_of(v),
            err_msg=f"{player} {block}",
        )
    with pytest.raises(ValueError, match="tau > 0"):
        game.best_response(x)


def test_logit_game_refuses_bad_arguments():
    with pytest.raises(TypeError, match="Game"):
        LogitGame("ipd")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        LogitGame(QuadraticGame())
    with pytest.raises(ValueError, match="scale"):
        LogitGame(MatchingPennies(), scale=0.0)
