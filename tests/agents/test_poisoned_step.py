"""``poisoned_ascent_step``: ``ascent_step``'s values bit for bit where the step read finite
values, NaN (kept by every later step) exactly where ``checked_ascent_step``'s check turns
NaN, on NumPy and compiled by JAX (the JAX interval engine's follower steps)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.rules import ascent_step, checked_ascent_step, poisoned_ascent_step

BOXES = [  # (low, high): signed zeros on the edges too
    (np.array([0.0, -1.0]), np.array([50.0, 1.0])),
    (np.array([-0.0, -3.0]), np.array([0.0, -0.0])),
    (np.array([-2.0, 0.0]), np.array([-0.0, 2.0])),
]


def _finite_cases(rng):
    y = rng.normal(size=(64, 2)) * rng.choice([1e-300, 1e-3, 1.0, 1e3], size=(64, 2))
    grad = rng.normal(size=(64, 2)) * rng.choice([0.0, 1e-3, 1.0, 1e6], size=(64, 2))
    y[:4] = [[0.0, -0.0], [-0.0, 0.0], [1.0, -1.0], [50.0, 0.0]]
    grad[:4] = [[-0.0, 0.0], [0.0, -0.0], [-10.0, 10.0], [1e-300, -0.0]]
    return y, grad


def _bad_cases():
    y = np.array([[1.0, 0.5], [0.2, 0.1], [1.5e308, 0.0], [3.0, 0.0]])
    grad = np.array([[np.inf, 0.0], [0.0, -np.inf], [1e308, 0.0], [np.nan, 1.0]])
    return y, grad  # row 2 overflows: 1.5e308 + 0.5 * 1e308 is inf


def _xp(name):
    if name == "numpy":
        return np.asarray, lambda f: f
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    return (lambda a: jnp.asarray(a, dtype=jnp.float64)), jax.jit


@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("box", range(len(BOXES)))
def test_finite_steps_are_ascent_steps_bit_for_bit(backend, box):
    arr, jit = _xp(backend)
    low, high = BOXES[box]
    y, grad = _finite_cases(np.random.default_rng(box))
    for beta in (0.5, 1e-300, 3.0):
        want = np.asarray(jit(ascent_step)(arr(y), beta, arr(grad), arr(low), arr(high)))
        got = np.asarray(jit(poisoned_ascent_step)(arr(y), beta, arr(grad), arr(low), arr(high)))
        assert np.isfinite(got).all()
        assert got.tobytes() == want.tobytes(), (backend, box, beta)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_a_non_finite_read_poisons_the_strategy_where_the_check_turns_nan(backend):
    arr, jit = _xp(backend)
    low, high = BOXES[0]
    y, grad = _bad_cases()
    got = np.asarray(jit(poisoned_ascent_step)(arr(y), 0.5, arr(grad), arr(low), arr(high)))
    proj, check = checked_ascent_step(y, 0.5, grad, low, high, np.zeros_like(y))
    assert np.isfinite(proj[:3]).all()  # the projection alone hides the infinite ones
    assert np.array_equal(np.isnan(got), np.isnan(check))
    assert np.isnan(got).tolist() == [
        [True, False],
        [False, True],
        [True, False],
        [True, False],
    ]
    sound = ~np.isnan(got)
    assert np.array_equal(got[sound], proj[sound])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_compiled_loop_keeps_the_poison_after_a_transient_infinite_read():
    """A fori_loop of poisoned steps (as the engine runs them) against checked steps one at a
    time: the gradient is infinite at one stage only, after which the checked strategy is
    back in the box and finite; the poisoned one stays NaN, so folding it into the check at
    the end gives the same check (NaN in that row, 0 elsewhere) and the same other rows."""
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    low, high = np.array([0.0]), np.array([10.0])
    y0 = np.array([[1.0], [2.0], [3.0]])

    def grad(y, i):  # row 1 reads +inf at stage 4 only
        xp = jnp if isinstance(y, jax.Array) else np
        bad = (i == 4) & (xp.arange(3)[:, None] == 1)
        return xp.where(bad, xp.inf, 5.0 - y)

    @jax.jit
    def loop(y):
        step = lambda i, y: poisoned_ascent_step(y, 0.3, grad(y, i), low, high)  # noqa: E731
        return jax.lax.fori_loop(0, 12, step, y)

    y, check = y0, np.zeros_like(y0)
    for i in range(12):
        y, check = checked_ascent_step(y, 0.3, grad(y, i), low, high, check)
    got = np.asarray(loop(jnp.asarray(y0)))
    assert np.isfinite(y).all() and np.isnan(check[1, 0])
    folded = np.zeros_like(y0) * got  # fold_read(check, y) with the check of zeros
    assert np.array_equal(np.isnan(folded), np.isnan(check))
    assert got[[0, 2]].tobytes() == y[[0, 2]].tobytes()
