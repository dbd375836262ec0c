"""The mixture-of-Gaussians GAN: exact gradients, Hessian-vector products, the data metric.

The hand-written backpropagation is checked against central differences of the payoffs and,
where JAX is installed, against JAX's reverse-mode autodiff of the same array-API payoffs (an
independent derivative of the same forward pass); the difference Hessian-vector products
against JAX's forward-over-reverse products. The data metric is checked on the true mixture
(near-perfect scores) and on collapsed and scattered generators (bad scores).
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from hic_envs.games import MogGAN

SMALL = dict(latent=2, hidden=5, samples=16)


def _points(game: MogGAN, rows: int, seed: int, scale: float = 0.5):
    rng = np.random.default_rng(seed)
    return rng.normal(0, scale, (rows, game.d1)), rng.normal(0, scale, (rows, game.d2))


def _central(fn, z: np.ndarray, h: float = 1e-6) -> np.ndarray:
    cols = []
    for i in range(z.shape[-1]):
        e = np.zeros_like(z)
        e[..., i] = h
        cols.append((fn(z + e) - fn(z - e)) / (2 * h))
    return np.stack(cols, axis=-1)


def test_default_sizes_are_about_a_thousand_parameters():
    game = MogGAN(hidden=28)
    assert (game.d1, game.d2) == (1010, 925)
    assert game.gen_widths == (4, 28, 28, 2) and game.disc_widths == (2, 28, 28, 1)
    assert (MogGAN().d1, MogGAN().d2) == (50, 37)


@pytest.mark.parametrize("loss", ["non-saturating", "saturating"])
@pytest.mark.parametrize("depth", [1, 2])
def test_gradients_match_central_differences(loss, depth):
    game = MogGAN(loss=loss, depth=depth, **SMALL)
    x, y = _points(game, 3, seed=depth)
    f1 = game.leader_payoff
    f2 = game.follower_payoff
    pairs = {
        "leader_grad": (game.leader_grad(x, y), _central(lambda u: f1(u, y), x)),
        "follower_grad": (game.follower_grad(x, y), _central(lambda v: f2(x, v), y)),
        "leader_grad_y": (game.leader_grad_y(x, y), _central(lambda v: f1(x, v), y)),
        "follower_grad_x": (game.follower_grad_x(x, y), _central(lambda u: f2(u, y), x)),
    }
    for name, (exact, numeric) in pairs.items():
        assert exact.shape == numeric.shape, name
        np.testing.assert_allclose(exact, numeric, rtol=1e-6, atol=1e-8, err_msg=name)


def test_saturating_loss_makes_the_sum_independent_of_the_generator():
    # f1 + f2 = -mean softplus(-l(data)) - lambda ||y||^2 / 2 with the saturating loss.
    game = MogGAN(loss="saturating", **SMALL)
    x, y = _points(game, 4, seed=3)
    x2, _ = _points(game, 4, seed=4)
    f1, f2 = game.payoffs(x, y)
    g1, g2 = game.payoffs(x2, y)
    np.testing.assert_allclose(f1 + f2, g1 + g2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(game.leader_grad(x, y), -game.follower_grad_x(x, y), atol=1e-15)


def test_batches_and_broadcasting_equal_per_row_calls():
    game = MogGAN(**SMALL)
    x, y = _points(game, 6, seed=5)
    x = x.reshape(2, 3, -1)
    y = y.reshape(2, 3, -1)
    for name in ("leader_payoff", "follower_payoff", "leader_grad", "follower_grad"):
        method = getattr(game, name)
        batched = method(x, y)
        single = np.stack([method(x[i], y[i]) for i in np.ndindex(2, 3)])
        np.testing.assert_allclose(batched.reshape(single.shape), single, rtol=1e-13, atol=1e-15)
        one_x = method(x[0, 0], y)
        np.testing.assert_allclose(one_x, method(np.broadcast_to(x[0, 0], x.shape), y))
        assert method(x[:, :1], y[:1]).shape[:2] == (2, 3)


def test_payoff_hvp_matches_dense_differences_of_the_gradients():
    game = MogGAN(**SMALL)
    x, y = _points(game, 2, seed=6)
    rng = np.random.default_rng(7)
    grads = {
        ("follower", "y"): game.follower_grad,
        ("follower", "x"): game.follower_grad_x,
        ("leader", "x"): game.leader_grad,
        ("leader", "y"): game.leader_grad_y,
    }
    for (player, a), grad in grads.items():
        for b in "xy":
            v = rng.normal(size=(2, game.d1 if b == "x" else game.d2))
            if b == "x":
                dense = _central(lambda u, grad=grad: grad(u, y), x, 1e-5)
            else:
                dense = _central(lambda w, grad=grad: grad(x, w), y, 1e-5)
            hv = game.payoff_hvp(player, a + b, x, y, v)
            np.testing.assert_allclose(
                hv, np.einsum("...ij,...j->...i", dense, v), rtol=1e-5, atol=1e-7
            )


def test_same_seed_same_bits_other_seed_other_sample():
    a, b, c = MogGAN(seed=3, **SMALL), MogGAN(seed=3, **SMALL), MogGAN(seed=4, **SMALL)
    x, y = _points(a, 2, seed=8)
    assert a.follower_grad(x, y).tobytes() == b.follower_grad(x, y).tobytes()
    assert not np.array_equal(a.data, c.data)
    clone = pickle.loads(pickle.dumps(a))
    assert clone.leader_grad(x, y).tobytes() == a.leader_grad(x, y).tobytes()


def test_fixed_data_sample_is_the_published_ring():
    game = MogGAN()
    # Means on the unit circle at angles 2 pi k / 8; every mode has 256 / 8 = 32 points.
    np.testing.assert_allclose(np.linalg.norm(game.means, axis=-1), 1.0, rtol=1e-15)
    nearest = np.argmin(np.linalg.norm(game.data[:, None] - game.means, axis=-1), axis=-1)
    np.testing.assert_array_equal(np.bincount(nearest, minlength=8), np.full(8, 32))


def test_no_equilibria_are_claimed():
    game = MogGAN(**SMALL)
    assert game.has_equilibria is False
    for call in (game.stackelberg, game.nash, lambda: game.distance_to_stackelberg(np.zeros(3))):
        with pytest.raises(ValueError, match="no known"):
            call()
    info = game.info()
    assert info["stackelberg"] is None and info["nash"] is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(modes=0), "modes"),
        (dict(sigma=-1.0), "sigma"),
        (dict(reg=0.0), "reg"),
        (dict(loss="wasserstein"), "loss"),
        (dict(seed=-1), "seed"),
        (dict(hidden=2.5), "hidden"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MogGAN(**kwargs)


# ---------------------------------------------------------------------------- the data metric


def test_the_true_mixture_scores_perfectly():
    game = MogGAN()
    n = game.metric_samples
    for seed in (11, 12, 13):
        draw = game.sample_data(n, seed=seed)
        hq, modes = game.mode_quality(draw)
        # P(|N(0, sigma^2 I_2)| <= 3 sigma) = 1 - exp(-9/2) = 0.9889.
        assert abs(float(hq) - (1 - np.exp(-4.5))) < 0.015
        assert int(modes) == game.modes
        assert float(game.energy_distance(draw, game.metric_data)) < 2e-3
    assert float(game.energy_distance(game.metric_data, game.metric_data)) == 0.0


def _collapsed(game: MogGAN, mode: int) -> np.ndarray:
    """A generator whose output layer ignores its input: every point at one mode's mean."""
    x = np.zeros(game.d1)
    x[-2:] = game.means[mode]
    return x


def test_a_collapsed_generator_scores_badly():
    game = MogGAN()
    m = game.data_metrics(np.stack([_collapsed(game, 0), _collapsed(game, 3)]))
    np.testing.assert_array_equal(m["modes"], [1, 1])
    np.testing.assert_array_equal(m["high_quality"], [1.0, 1.0])  # on a mode, but only one
    assert np.all(m["energy"] > 0.5)
    true = game.energy_distance(game.sample_data(game.metric_samples, seed=1), game.metric_data)
    assert np.all(m["energy"] > 100 * true)


def test_a_scattered_generator_scores_badly():
    game = MogGAN()
    x, _ = _points(game, 3, seed=9, scale=2.0)
    m = game.data_metrics(x)
    assert np.all(m["high_quality"] < 0.3)
    assert np.all(m["energy"] > 0.1)


def test_metric_inputs_are_checked():
    game = MogGAN(**SMALL)
    with pytest.raises(ValueError, match="shape"):
        game.data_metrics(np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        game.data_metrics(np.full(game.d1, np.nan))
    with pytest.raises(ValueError, match="shape"):
        game.mode_quality(np.zeros((4, 3)))


# ---------------------------------------------------------------------------- against JAX


def test_gradients_and_hvps_match_jax_autodiff():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    game = MogGAN(hidden=8, samples=32)
    x, y = _points(game, 1, seed=10)
    x, y = x[0], y[0]
    with jax.enable_x64(True):

        def f(i):
            return lambda a, b: game.payoffs(a, b)[i]

        xj, yj = jnp.asarray(x), jnp.asarray(y)
        np.testing.assert_allclose(
            game.payoffs(x, y), [float(f(0)(xj, yj)), float(f(1)(xj, yj))], rtol=1e-13
        )
        auto = {
            "leader_grad": jax.grad(f(0), 0)(xj, yj),
            "leader_grad_y": jax.grad(f(0), 1)(xj, yj),
            "follower_grad": jax.grad(f(1), 1)(xj, yj),
            "follower_grad_x": jax.grad(f(1), 0)(xj, yj),
        }
        for name, g in auto.items():
            np.testing.assert_allclose(
                getattr(game, name)(x, y), np.asarray(g), rtol=1e-11, atol=1e-14, err_msg=name
            )
        rng = np.random.default_rng(11)
        for player, i in (("leader", 0), ("follower", 1)):
            for block in ("xx", "xy", "yx", "yy"):
                a, b = "xy".index(block[0]), "xy".index(block[1])
                v = rng.normal(size=game.d1 if b == 0 else game.d2)
                grad_a = jax.grad(f(i), a)

                def along(t, grad_a=grad_a, b=b, v=v):
                    args = [xj, yj]
                    args[b] = args[b] + t * jnp.asarray(v)
                    return grad_a(*args)

                exact = np.asarray(jax.jvp(along, (0.0,), (1.0,))[1])
                hv = game.payoff_hvp(player, block, x, y, v)
                np.testing.assert_allclose(
                    hv, exact, rtol=1e-6, atol=1e-8 * np.abs(exact).max(), err_msg=block
                )


def test_initial_strategies_are_drawn_networks_inside_the_boxes():
    game = MogGAN(hidden=28)
    x0, y0 = game.initial_strategies(3, seed=1)
    assert x0.shape == (3, game.d1) and y0.shape == (3, game.d2)
    assert np.all(x0 >= game.leader_low) and np.all(x0 <= game.leader_high)
    assert np.all(y0 >= game.follower_low) and np.all(y0 <= game.follower_high)
    x1, y1 = game.initial_strategies(3, seed=1)
    assert x0.tobytes() == x1.tobytes() and y0.tobytes() == y1.tobytes()
    assert not np.array_equal(x0[0], x0[1])
    # First layer of the generator: latent -> 28 weights with variance 1 / latent = 0.25.
    w = x0[:, : game.latent * game.hidden]
    assert 0.2 < float(w.var()) < 0.3
    # Unlike the box centre, a drawn pair is not a stationary point of the discriminator.
    assert np.abs(game.follower_grad(x0, y0)).max() > 1e-3
    center = np.zeros(game.d2)
    g = game.follower_grad(np.zeros(game.d1), center)
    assert np.abs(g[:-1]).max() == 0.0  # only the output bias moves from the centre
