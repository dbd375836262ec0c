"""ArrayGame: exact derivatives by JAX of payoffs written as array code, on both engines.

Checked here: gradients, Hessian blocks and the matrix-free HVPs against closed forms (a random
quadratic game rebuilt as array code), against dense autodiff Hessians and against central
differences (a non-quadratic game, several seeds); the NumPy program written from the traced
jaxpr against the jit-compiled JAX function; tracing by JAX; the ground truth against the
closed forms of the duopoly; the error without JAX; and the default job on both engines.
"""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

from agents import GradientAscentFollower, HiCLeader  # noqa: E402
from agents.compose.engines.runner import run_batch  # noqa: E402
from hic_envs.games import ArrayGame, Duopoly, RandomQuadraticGame  # noqa: E402
from hic_envs.games.base import _fd_jacobian  # noqa: E402

SEEDS = [0, 1, 2]


def duo_f1(x, y):
    return x[0] * (50 - x[0] - y[0] - 1)


def duo_f2(x, y):
    return y[0] * (50 - x[0] - y[0] - 1)


def array_duopoly() -> ArrayGame:
    return ArrayGame(duo_f1, duo_f2, [0.0], [50.0], [0.0], [50.0], name="ArrayDuopoly")


def array_quadratic(ref: RandomQuadraticGame) -> ArrayGame:
    # Constants as NumPy float64 arrays: jnp.asarray outside jax.enable_x64 would make them
    # float32.
    A, B, C, H, G = ref.A, ref.B, ref.C, ref.H, ref.G
    a, c, h = ref.a, ref.c, ref.h

    def f1(x, y):
        return -0.5 * x @ A @ x + x @ B @ y + a @ x - 0.5 * y @ C @ y + c @ y

    def f2(x, y):
        return -0.5 * y @ H @ y + y @ G @ x + h @ y

    return ArrayGame(
        f1, f2, ref.leader_low, ref.leader_high, ref.follower_low, ref.follower_high, name="AQ"
    )


def nonlinear(seed: int) -> ArrayGame:
    """A non-quadratic game of 3 x 2 dimensions: exp, tanh, sin, products, slices, sums."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(3, 2))

    def f1(x, y):
        return jnp.sum(jnp.tanh(x) * (x @ w @ y)) - jnp.exp(0.3 * x[0]) + jnp.sin(x[1:]).sum()

    def f2(x, y):
        return -jnp.sum((y - jnp.tanh(x[:2])) ** 2) - 0.1 * jnp.sum(y**4) + y[0] * x[2]

    return ArrayGame(f1, f2, [-1.0] * 3, [1.0] * 3, [-2.0] * 2, [2.0] * 2, name="Nonlin")


def _points(game, seed, shape):
    rng = np.random.default_rng(seed)

    def draw(lo, hi):
        return lo + rng.uniform(0.1, 0.9, shape + lo.shape) * (hi - lo)

    return draw(game.leader_low, game.leader_high), draw(game.follower_low, game.follower_high)


# ---------------------------------------------------------------------------- derivatives


@pytest.mark.parametrize("seed", SEEDS)
def test_quadratic_rebuilt_as_array_code_has_the_closed_form_derivatives(seed):
    ref = RandomQuadraticGame(3, 4, seed=seed)
    game = array_quadratic(ref)
    x, y = _points(ref, seed, (5,))
    for name in (
        "leader_payoff",
        "follower_payoff",
        "leader_grad",
        "follower_grad",
        "leader_grad_y",
        "follower_hess_yy",
        "follower_hess_yx",
        "total_leader_grad",
    ):
        np.testing.assert_allclose(
            getattr(game, name)(x, y), getattr(ref, name)(x, y), rtol=1e-12, atol=1e-12
        )
    np.testing.assert_allclose(game.follower_grad_x(x, y), y @ ref.G, atol=1e-12)
    np.testing.assert_allclose(game.hierarchical_grad(x), ref.hierarchical_grad(x), atol=1e-8)


def _dense(game: ArrayGame, player: str, a: str, b: str, x, y):
    """``d^2 f / da db`` at one pair by jax.hessian of the payoff (float64)."""
    f = game._pair[f"{player}_payoff"]
    with jax.enable_x64(True):
        h = jax.hessian(lambda z: f(z[: game.d1], z[game.d1 :]))(jnp.concatenate([x, y]))
    h = np.asarray(h)
    sl = {"x": slice(0, game.d1), "y": slice(game.d1, None)}
    return h[sl[a], sl[b]]


@pytest.mark.parametrize("seed", SEEDS)
def test_hvps_equal_dense_hessians_times_v(seed):
    game = nonlinear(seed)
    x, y = _points(game, seed, (4,))
    rng = np.random.default_rng(10 + seed)
    for player in ("leader", "follower"):
        for block in ("xx", "xy", "yx", "yy"):
            n = game.d1 if block[1] == "x" else game.d2
            v = rng.normal(size=(4, n))
            got = game.payoff_hvp(player, block, x, y, v)
            want = np.stack(
                [_dense(game, player, block[0], block[1], x[i], y[i]) @ v[i] for i in range(4)]
            )
            # Two autodiff orders of the same float64 program: rounding only.
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=player + block)


@pytest.mark.parametrize("seed", SEEDS)
def test_derivatives_match_central_differences(seed):
    game = nonlinear(seed)
    x, y = _points(game, seed, (3,))
    one1, one2 = np.ones(game.d1), np.ones(game.d2)
    tol = dict(rtol=1e-6, atol=1e-7)  # central differences with h = 1e-6: error ~1e-9
    np.testing.assert_allclose(
        game.leader_grad(x, y), _fd_jacobian(lambda z: game.leader_payoff(z, y), x, one1), **tol
    )
    np.testing.assert_allclose(
        game.follower_grad(x, y),
        _fd_jacobian(lambda z: game.follower_payoff(x, z), y, one2),
        **tol,
    )
    np.testing.assert_allclose(
        game.leader_grad_y(x, y), _fd_jacobian(lambda z: game.leader_payoff(x, z), y, one2), **tol
    )
    np.testing.assert_allclose(
        game.follower_grad_x(x, y),
        _fd_jacobian(lambda z: game.follower_payoff(z, y), x, one1),
        **tol,
    )
    np.testing.assert_allclose(
        game.follower_hess_yy(x, y),
        _fd_jacobian(lambda z: game.follower_grad(x, z), y, one2),
        **tol,
    )
    np.testing.assert_allclose(
        game.follower_hess_yx(x, y),
        _fd_jacobian(lambda z: game.follower_grad(z, y), x, one1),
        **tol,
    )
    np.testing.assert_allclose(
        game.leader_hess_yx(x, y),
        _fd_jacobian(lambda z: game.leader_grad_y(z, y), x, one1),
        **tol,
    )


# ---------------------------------------------------------------------------- the two paths


@pytest.mark.parametrize("seed", SEEDS)
def test_numpy_program_equals_the_jit_compiled_function(seed):
    game = nonlinear(seed)
    x, y = _points(game, seed, (6,))
    for name in ("payoffs", "leader_grad", "follower_grad", "follower_hess_yy", "leader_hess_yx"):
        got = getattr(game, name)(x, y)
        fn = jax.jit(jax.vmap(game._pair[name]))
        with jax.enable_x64(True):
            want = fn(x, y)
        got = got if isinstance(got, tuple) else (got,)
        want = want if isinstance(want, tuple) else (want,)
        if name == "follower_hess_yy":
            want = tuple(0.5 * (w + np.swapaxes(w, -1, -2)) for w in map(np.asarray, want))
        for g, w in zip(got, want, strict=True):
            # Transcendental functions of NumPy and XLA may differ in the last bits.
            np.testing.assert_allclose(g, np.asarray(w), rtol=1e-13, atol=1e-13, err_msg=name)
    # The program really is NumPy for these operations (no JAX dispatch per call).
    assert any(hasattr(p, "source") for p in game._jit.values())


@pytest.mark.parametrize("seed", SEEDS)
def test_follower_grad_given_is_follower_grad_bit_for_bit(seed):
    # The engines' path: the program split at x (its x-only part run once per interval) gives
    # the whole program's bits, on (S, d) float64 arrays; other inputs take the whole program.
    for game in (nonlinear(seed), array_duopoly(), array_quadratic(RandomQuadraticGame(3, 2))):
        x, y = _points(game, seed, (7,))
        grad = game.follower_grad_given(x)
        for step in range(3):
            y2 = y + 0.01 * step
            want = game.follower_grad(x, y2)
            got = grad(y2)
            assert got.dtype == np.float64 and got.shape == want.shape
            assert np.array_equal(got, want), game.name
            assert got is not grad(y2)  # a fresh array at every call
            assert np.array_equal(grad.unchecked(y2), want), game.name  # ascent_steps' way in
        split = game._jit[("follower_grad_given", x.shape, (7, game.d2))]
        assert "def rest(" in split.source
        # Another batch shape, a list and one pair: the whole program, the same values.
        np.testing.assert_array_equal(grad(y[:1]), game.follower_grad(x, y[:1]))
        one = game.follower_grad_given(x[0].tolist())
        np.testing.assert_array_equal(one(y[0]), game.follower_grad(x[0], y[0]))


@pytest.mark.parametrize("seed", SEEDS)
def test_fused_negated_sums_change_no_bit(seed, monkeypatch):
    """The writer's ``a + (-b) -> a - b`` (and the NumPy forms of ``iota`` and ``split``
    that the Hessians' programs need): every program, with and without the fusion, gives the
    same bits; the duopoly's follower gradient really is fused (no negation left)."""
    from hic_envs.games import _jaxpr_numpy

    names = (
        "payoffs",
        "leader_grad",
        "follower_grad",
        "leader_grad_y",
        "follower_grad_x",
        "follower_hess_yy",
        "follower_hess_yx",
        "leader_hess_yx",
    )
    games = (
        nonlinear,
        lambda s: array_duopoly(),
        lambda s: array_quadratic(RandomQuadraticGame(3, 2, seed=s)),
    )
    for make in games:
        fused = make(seed)
        monkeypatch.setattr(_jaxpr_numpy, "FUSE_NEGATED_SUMS", False)
        plain = make(seed)
        x, y = _points(fused, seed, (5,))
        want = {n: getattr(plain, n)(x, y) for n in names}
        monkeypatch.setattr(_jaxpr_numpy, "FUSE_NEGATED_SUMS", True)
        for n in names:
            got, ref = getattr(fused, n)(x, y), want[n]
            got, ref = (got, ref) if isinstance(got, tuple) else ((got,), (ref,))
            for g, w in zip(got, ref, strict=True):
                assert np.array_equal(g, w), (fused.name, n)
        assert all(hasattr(fused._jit[k], "source") for k in fused._jit if k[0] in names)
    duo = array_duopoly()
    x, y = _points(duo, seed, (4,))
    duo.follower_grad(x, y)
    src = duo._jit[("follower_grad", (4, 1), (4, 1))].source
    assert "(-" not in src and " - " in src, src


def _all_values(game, names, x, y, v) -> dict:
    out = {n: getattr(game, n)(x, y) for n in names}
    out["given"] = game.follower_grad_given(x)(y)
    out["hvp"] = game.payoff_hvp("follower", "xy", x, y, v)
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_elided_reshapes_change_no_bit(seed, monkeypatch):
    """The writer's pure reshapes held as their operands (element-wise operations run on the
    array as held, reshaped only where an operation reads the shape): every program, the
    split follower gradient and the HVPs give the same bits with and without; outputs are
    fresh arrays of their own shapes that share no memory; the duopoly's per-stage program
    really has no reshape left."""
    from hic_envs.games import _jaxpr_numpy

    names = (
        "payoffs",
        "leader_grad",
        "follower_grad",
        "leader_grad_y",
        "follower_grad_x",
        "follower_hess_yy",
        "follower_hess_yx",
        "leader_hess_yx",
    )
    games = (
        nonlinear,
        lambda s: array_duopoly(),
        lambda s: array_quadratic(RandomQuadraticGame(3, 2, seed=s)),
    )
    for make in games:
        elided = make(seed)
        monkeypatch.setattr(_jaxpr_numpy, "ELIDE_RESHAPES", False)
        plain = make(seed)
        x, y = _points(elided, seed, (5,))
        v = np.random.default_rng(seed).normal(size=(5, elided.d2))

        want = _all_values(plain, names, x, y, v)
        monkeypatch.setattr(_jaxpr_numpy, "ELIDE_RESHAPES", True)
        got_all = _all_values(elided, names, x, y, v)
        for n, got in got_all.items():
            ref = want[n]
            got, ref = (got, ref) if isinstance(got, tuple) else ((got,), (ref,))
            for g, w in zip(got, ref, strict=True):
                assert g.shape == w.shape and g.dtype == np.float64, (elided.name, n)
                assert np.array_equal(g, w), (elided.name, n)
                assert g.flags.writeable, (elided.name, n)
        f1, f2 = got_all["payoffs"]
        assert not np.shares_memory(f1, f2)
    duo = array_duopoly()
    x, y = _points(duo, seed, (4,))
    duo.follower_grad_given(x)(y)
    src = duo._jit[("follower_grad_given", (4, 1), (4, 1))].source
    rest = src.split("def rest(")[1]
    assert "reshape" not in rest and " - " in rest, src
    # Equal literals are one name, so the payoffs' shared 50 - x is computed once.
    duo.payoffs(x, y)
    src = duo._jit[("payoffs", (4, 1), (4, 1))].source
    assert src.count(" - in0)") == 1, src


# The NumPy program's warnings on the bad values this test feeds in on purpose (a division by
# zero, a log of a negative); what is checked is the error naming them.
@pytest.mark.filterwarnings(
    "ignore:divide by zero encountered:RuntimeWarning",
    "ignore:invalid value encountered:RuntimeWarning",
)
def test_follower_grad_given_refuses_what_is_not_finite():
    def f2(x, y):
        return -jnp.sum((y - 1.0 / x) ** 2)

    game = ArrayGame(duo_f1, f2, [0.0], [50.0], [0.0], [50.0], name="Pole")
    grad = game.follower_grad_given(np.array([[0.0], [1.0]]))
    with pytest.raises(ValueError, match="Pole: follower_grad is not finite"):
        grad(np.array([[1.0], [1.0]]))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_ascent_steps_through_the_unchecked_gradient_are_the_checked_steps():
    # ascent_steps calls the game's gradient without its finite check (the block's own check
    # sees every value): the strategies are those of one checked step at a time, bit for bit,
    # and a gradient that overflows mid-block raises the game's error at the same stage.
    from agents.rules import ascent_steps, checked_ascent_step

    def f2(x, y):  # grad_y = x + 2e-299 exp(20 y): infinite once y passes 35.5
        return y[0] * x[0] + 1e-300 * jnp.exp(20.0 * y[0])

    pole = ArrayGame(duo_f1, f2, [0.0], [50.0], [0.0], [50.0], name="Pole")
    cases = [(nonlinear(0), 300, None), (array_duopoly(), 300, None), (pole, 100, [30.0])]
    for game, stages, y_start in cases:
        x, y0 = _points(game, 0, (4,))
        if y_start is not None:
            x, y0 = np.ones_like(x), np.full_like(y0, y_start[0])
        grad = game.follower_grad_given(x)
        low, high = game.follower_low, game.follower_high
        want: tuple | str
        try:
            y1, check1 = y0, np.zeros(y0.shape)
            for _ in range(stages):
                y1, check1 = checked_ascent_step(y1, 0.1, grad(y1), low, high, check1)
            want = (y1, check1)
        except ValueError as err:
            want = str(err)
        try:
            got: tuple | str = ascent_steps(y0, 0.1, grad, low, high, stages, np.zeros(y0.shape))
        except ValueError as err:
            got = str(err)
        if isinstance(want, str):
            assert got == want and "Pole: follower_grad is not finite" in want, game.name
        else:
            assert not isinstance(got, str), (game.name, got)
            assert np.array_equal(got[0], want[0]) and not np.isnan(got[1]).any(), game.name
    assert isinstance(want, str)  # the pole's case raised, mid-block (y passes 35.5)


def test_an_operation_without_a_numpy_form_falls_back_to_jit():
    def f1(x, y):
        return jnp.sort(x)[0] * y[0]  # sort has no NumPy form in the writer

    def f2(x, y):
        return -((y[0] - x[1]) ** 2)

    game = ArrayGame(f1, f2, [-1.0, -1.0], [1.0, 1.0], [-2.0], [2.0])
    x = np.array([[0.5, -0.2], [0.1, 0.3]])
    y = np.array([[1.0], [2.0]])
    np.testing.assert_allclose(game.leader_payoff(x, y), [-0.2, 0.2], atol=1e-15)
    np.testing.assert_allclose(game.leader_grad(x, y), [[0.0, 1.0], [2.0, 0.0]], atol=1e-15)
    assert not any(hasattr(p, "source") for k, p in game._jit.items() if k[0] == "leader_grad")


def test_batch_shapes_and_broadcasting():
    game = nonlinear(0)
    x, y = _points(game, 0, (2, 3))
    assert game.follower_grad(x, y).shape == (2, 3, 2)
    assert game.leader_payoff(x[0, 0], y[0, 0]).shape == ()
    np.testing.assert_allclose(
        game.follower_hess_yx(x[0, 0], y),
        np.stack([[game.follower_hess_yx(x[0, 0], yy) for yy in row] for row in y]),
    )


def test_jax_traces_the_game():
    game = nonlinear(1)
    x, y = _points(game, 1, (4,))
    with jax.enable_x64(True):
        f = jax.jit(lambda a, b: (game.payoffs(a, b), game.follower_grad_given(a)(b)))
        (f1, f2), g = f(jnp.asarray(x), jnp.asarray(y))
        assert isinstance(g, jax.Array)
    np.testing.assert_allclose(np.asarray(f1), game.leader_payoff(x, y), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(g), game.follower_grad(x, y), rtol=1e-13)
    assert ArrayGame.jax_traceable is True


# ---------------------------------------------------------------------------- ground truth


def test_ground_truth_of_the_duopoly_written_as_array_code():
    game, ref = array_duopoly(), Duopoly()
    dse, ne = game.stackelberg(), game.nash()
    np.testing.assert_allclose(dse.x, ref.stackelberg().x, atol=1e-6)
    np.testing.assert_allclose(dse.y, ref.stackelberg().y, atol=1e-6)
    np.testing.assert_allclose(ne.x, ref.nash().x, atol=1e-6)
    x = np.array([[10.0], [30.0]])
    np.testing.assert_allclose(game.best_response(x), ref.best_response(x), atol=1e-6)


def test_a_given_best_response_is_used():
    game = ArrayGame(
        duo_f1,
        duo_f2,
        [0.0],
        [50.0],
        [0.0],
        [50.0],
        best_response=lambda x: jnp.clip((49.0 - x) / 2.0, 0.0, 50.0),
    )
    np.testing.assert_array_equal(game.best_response(np.array([[9.0]])), [[20.0]])
    assert game.stackelberg().x == pytest.approx([24.5], abs=1e-6)


# ---------------------------------------------------------------------------- errors


# The NumPy program's warnings on the bad values this test feeds in on purpose (a division by
# zero, a log of a negative); what is checked is the error naming them.
@pytest.mark.filterwarnings(
    "ignore:divide by zero encountered:RuntimeWarning",
    "ignore:invalid value encountered:RuntimeWarning",
)
def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="leader_payoff must be callable"):
        ArrayGame(1.0, duo_f2, [0.0], [1.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="must return a scalar"):
        ArrayGame(lambda x, y: x + y, duo_f2, [0.0], [1.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="CamelCase"):
        ArrayGame(duo_f1, duo_f2, [0.0], [1.0], [0.0], [1.0], name="no spaces allowed")
    with pytest.raises(ValueError, match="not finite"):
        ArrayGame(lambda x, y: jnp.log(x[0] - 5.0), duo_f2, [0.0], [1.0], [0.0], [1.0])
    game = array_duopoly()
    with pytest.raises(ValueError, match="block must be one of"):
        game.payoff_hvp("leader", "xz", np.zeros(1), np.zeros(1), np.zeros(1))
    with pytest.raises(ValueError, match="player must be one of"):
        game.payoff_hvp("referee", "xx", np.zeros(1), np.zeros(1), np.zeros(1))
    with pytest.raises(ValueError, match="shape"):
        game.payoff_hvp("leader", "xx", np.zeros(1), np.zeros(1), np.zeros(2))


def test_without_jax_constructing_one_says_how_to_install(monkeypatch):
    # A None entry in sys.modules makes `import jax` raise ImportError, as if not installed.
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.setitem(sys.modules, "jax.numpy", None)
    with pytest.raises(ImportError, match=r"pip install hic-envs\[jax\]"):
        array_duopoly()


def test_importing_the_library_does_not_import_jax():
    code = "import sys, hic_envs, hic_envs.games.array_game; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_pickles_with_module_level_functions():
    game = array_duopoly()
    clone = pickle.loads(pickle.dumps(game))
    x, y = np.array([[3.0]]), np.array([[4.0]])
    np.testing.assert_array_equal(clone.follower_grad(x, y), game.follower_grad(x, y))


# ---------------------------------------------------------------------------- both engines


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_hic_learns_the_dse_on_both_engines(backend):
    # Budget: 8 seeds x 100_000 stages with the library presets; tolerance 0.5 on x* = 24.5.
    game = ArrayGame(duo_f1, duo_f2, [0.0], [49.0], [0.0], [50.0], name="ArrayDuopoly")
    leader = HiCLeader.for_game(game, num_envs=8, check_assumptions=False)
    follower = GradientAscentFollower(game, 0.1, num_envs=8)
    h = run_batch(game, leader, follower, 100_000, seed=1, record=None, backend=backend)
    assert np.median(np.abs(h.final_leader - 24.5)) < 0.5
