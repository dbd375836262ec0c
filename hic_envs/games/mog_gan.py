"""A mixture-of-Gaussians GAN with small MLP players, after Fiez, Chasnov and Ratliff (2020)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from hic_envs.games import _checks
from hic_envs.games.array_api import namespace
from hic_envs.games.base import Equilibrium, Game

__all__ = ["MogGAN"]

_LOSSES = ("non-saturating", "saturating")


def _softplus(t: Any, xp: Any) -> Any:
    """``log(1 + exp(t))`` without overflow."""
    return xp.logaddexp(t * 0.0, t)


def _sigmoid(t: Any, xp: Any) -> Any:
    """``1 / (1 + exp(-t))`` as ``exp(-softplus(-t))``: no overflow for any finite ``t``."""
    return xp.exp(-_softplus(-t, xp))


class MogGAN(Game):
    """A GAN on a ring of 2-D Gaussians: an MLP generator against a regularised MLP discriminator.

    ## Description
    The data are a mixture of ``modes`` Gaussians of standard deviation ``sigma`` whose means
    lie evenly on a circle of radius ``radius``, mode ``k`` at ``radius (sin t_k, cos t_k)``,
    ``t_k = 2 pi k / modes``: the "circle" data set of Fiez, Chasnov and Ratliff, "Implicit
    learning dynamics in Stackelberg games" (ICML 2020), ``GAN-code/MoG.py`` of their public
    code (github.com/fiezt/ICML-2020-Implicit-Stackelberg-Learning; 8 modes, radius 1,
    ``sigma = 0.05``; their "diamond" set is ``modes=4, radius=1.2, sigma=0.15``). The
    generator (leader) is an MLP from latent noise ``z ~ N(0, I_latent)`` to the plane, the
    discriminator (follower) an MLP from the plane to a logit ``l(u)``, ``D(u) = sigmoid(l(u))``;
    both have ``depth`` hidden layers of ``hidden`` tanh units and a linear output layer (tanh,
    not ReLU, so that both payoffs are smooth and their Hessians exist everywhere).

    So that the game is a deterministic differentiable game (the ground-truth machinery and
    every learner see the same ``f1``, ``f2``), the expectations are means over a FIXED sample
    drawn from ``seed`` at construction: ``samples`` latent draws ``z_j`` and ``samples`` data
    draws ``u_i`` (mode ``i mod modes`` plus Gaussian noise, so every mode has its share). A
    learner thus trains on one mini-batch, as a full-batch GAN does.

    Strategies are the flattened weights: for each layer in order, its ``n_in x n_out`` weight
    matrix row-major, then its ``n_out`` biases. With the defaults (``latent=4, hidden=8,
    depth=2``) the generator has 130 parameters and the discriminator 105 (small, so that the
    registry's ground-truth tests, which form dense Hessians by differences, stay quick); with
    ``hidden=28`` they have 1010 and 925, the size of the study in ``docs/results/gan.md``.

    ## Strategy spaces
    | player                   | dim   | low    | high  | meaning                              |
    |--------------------------|-------|--------|-------|--------------------------------------|
    | leader (generator)       | d1    | ``-b`` | ``b`` | generator weights, ``b = bound``     |
    | follower (discriminator) | d2    | ``-b`` | ``b`` | discriminator weights                |

    ## Payoffs
    Both players maximise. With ``l_i = l(u_i)`` on the data and ``m_j = l(G(z_j))`` on the
    generated points, ``softplus(t) = log(1 + e^t)`` and means over the fixed samples:

    * ``f2(x, y) = mean_i log D(u_i) + mean_j log(1 - D(G(z_j))) - lambda_ ||y||^2 / 2``
      ``= -mean_i softplus(-l_i) - mean_j softplus(m_j) - lambda_ ||y||^2 / 2``
      (the discriminator's log-likelihood with weight decay ``lambda_ = reg``);
    * ``loss="non-saturating"`` (default): ``f1(x, y) = mean_j log D(G(z_j)) =
      -mean_j softplus(-m_j)``;
    * ``loss="saturating"``: ``f1(x, y) = -mean_j log(1 - D(G(z_j))) = mean_j softplus(m_j)``
      (then ``f1 + f2`` depends on ``y`` only: the minimax GAN plus the regulariser).

    Derivatives: :meth:`leader_grad`, :meth:`follower_grad`, :meth:`leader_grad_y` and
    :meth:`follower_grad_x` are exact, by backpropagation written out in array-API code (no
    automatic differentiation, so the core install runs it; the tests check them against JAX's
    autodiff when JAX is installed and against central differences always). Second
    derivatives, :meth:`payoff_hvp` included, are the base class's central differences of
    these exact gradients (a directional difference per product, accurate to about ``1e-10``
    relative; the dense blocks cost one gradient per column): no closed form is written.

    ## Equilibria
    None is known, and none is computed: ``f2`` is not concave in ``y`` (the discriminator is
    a neural network; the weight decay makes ``grad_yy f2`` negative definite only where the
    loss's own curvature is below ``lambda_``), so Assumption 4.8 fails and ``r(x)`` need not be
    unique; there is no closed-form DSE or Nash equilibrium, and the numeric multistart solvers
    of the base class are meaningless at this size. :meth:`stackelberg` and :meth:`nash` raise
    ``ValueError`` saying so; :attr:`has_equilibria` is False. :meth:`best_response` is the base
    class's numeric local maximiser (L-BFGS-B from the centre of ``Y``), a local best response.

    Quality is measured against the known data distribution instead, by :meth:`data_metrics`
    on ``metric_samples`` fresh latent draws (from ``seed``, apart from the training sample):
    the fraction of high-quality samples (within ``3 sigma`` of a mode's mean), the number of
    modes covered (modes that receive at least a quarter of their fair share, ``n / (4
    modes)``, of high-quality samples) and the energy distance to an equally large fixed draw
    of the true mixture (:meth:`energy_distance`; zero only for equal distributions).

    ## Arguments
    * ``modes`` (int, default 8): number of Gaussians on the ring; at least 1.
    * ``radius`` (float, default 1.0): radius of the ring of means; positive.
    * ``sigma`` (float, default 0.05): standard deviation of each Gaussian; positive.
    * ``latent`` (int, default 4): dimension of the generator's noise.
    * ``hidden`` (int, default 8): units per hidden layer, both players.
    * ``depth`` (int, default 2): hidden layers per player; at least 1.
    * ``samples`` (int, default 256): size of the fixed latent and data samples.
    * ``reg`` (float, default 0.01): the discriminator's weight decay ``lambda_``; positive.
    * ``loss`` (str, default ``"non-saturating"``): the generator's loss, or ``"saturating"``.
    * ``bound`` (float, default 5.0): half-width of both strategy boxes.
    * ``seed`` (int, default 0): seed of the fixed samples; non-negative.
    * ``metric_samples`` (int, default 1024): samples drawn by :meth:`data_metrics`.

    ## Version History
    * v0: initial version.
    """

    name = "MogGAN"
    has_equilibria = False

    def __init__(
        self,
        modes: int = 8,
        radius: float = 1.0,
        sigma: float = 0.05,
        latent: int = 4,
        hidden: int = 4,
        depth: int = 2,
        samples: int = 256,
        reg: float = 0.01,
        loss: str = "non-saturating",
        bound: float = 2.0,
        seed: int = 0,
        metric_samples: int = 1024,
    ) -> None:
        self.modes: int = _checks.positive_int("modes", modes)
        self.radius: float = _checks.positive("radius", radius)
        self.sigma: float = _checks.positive("sigma", sigma)
        self.latent: int = _checks.positive_int("latent", latent)
        self.hidden: int = _checks.positive_int("hidden", hidden)
        self.depth: int = _checks.positive_int("depth", depth)
        self.samples: int = _checks.positive_int("samples", samples)
        self.reg: float = _checks.positive("reg", reg)
        if loss not in _LOSSES:
            raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}")
        self.loss: str = loss
        self.bound: float = _checks.positive("bound", bound)
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed: int = int(seed)
        self.metric_samples: int = _checks.positive_int("metric_samples", metric_samples)

        t = 2.0 * np.pi * np.arange(self.modes) / self.modes
        self.means: np.ndarray = self.radius * np.stack([np.sin(t), np.cos(t)], axis=-1)
        rng = np.random.default_rng(self.seed)
        self.z: np.ndarray = rng.standard_normal((self.samples, self.latent))
        self.data: np.ndarray = self._draw(rng, self.samples)
        # The metric's own draws, apart from the training sample.
        self.metric_z: np.ndarray = rng.standard_normal((self.metric_samples, self.latent))
        self.metric_data: np.ndarray = self._draw(rng, self.metric_samples)
        for a in (self.means, self.z, self.data, self.metric_z, self.metric_data):
            a.flags.writeable = False

        h, n = self.hidden, self.depth
        self.gen_widths: tuple[int, ...] = (self.latent,) + (h,) * n + (2,)
        self.disc_widths: tuple[int, ...] = (2,) + (h,) * n + (1,)
        d1 = _n_params(self.gen_widths)
        d2 = _n_params(self.disc_widths)
        b = self.bound
        super().__init__(np.full(d1, -b), np.full(d1, b), np.full(d2, -b), np.full(d2, b))

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of the mixture, mode ``i mod modes`` for draw ``i``."""
        return self.means[np.arange(n) % self.modes] + self.sigma * rng.standard_normal((n, 2))

    def __repr__(self) -> str:
        return (
            f"MogGAN(modes={self.modes}, radius={self.radius!r}, sigma={self.sigma!r}, "
            f"latent={self.latent}, hidden={self.hidden}, depth={self.depth}, "
            f"samples={self.samples}, reg={self.reg!r}, loss={self.loss!r}, "
            f"bound={self.bound!r}, seed={self.seed})"
        )

    # ------------------------------------------------------------------ networks
    def _flat(self, x: Any, y: Any) -> tuple[Any, Any, tuple[int, ...], Any]:
        """``x, y`` broadcast to one batch and flattened to ``(B, d)``, the batch shape, and
        the namespace."""
        xp = namespace(x, y)
        x = xp.asarray(x, dtype=xp.float64)
        y = xp.asarray(y, dtype=xp.float64)
        batch = tuple(np.broadcast_shapes(tuple(x.shape[:-1]), tuple(y.shape[:-1])))
        size = int(np.prod(batch, dtype=np.int64))
        xb = xp.reshape(xp.broadcast_to(x, batch + (self.d1,)), (size, self.d1))
        yb = xp.reshape(xp.broadcast_to(y, batch + (self.d2,)), (size, self.d2))
        return xb, yb, batch, xp

    def generate(self, x: Any, z: Any = None) -> Any:
        """The generator's points ``G_x(z)``, shape ``(..., n, 2)``.

        Args:
            x: generator parameters ``(..., d1)``.
            z: latent draws ``(n, latent)``; the fixed training sample when None.
        """
        xp = namespace(x)
        x = xp.asarray(x, dtype=xp.float64)
        batch = tuple(x.shape[:-1])
        size = int(np.prod(batch, dtype=np.int64))
        zz = self.z if z is None else np.asarray(z, dtype=np.float64)
        if zz.ndim != 2 or zz.shape[1] != self.latent:
            raise ValueError(f"z must have shape (n, {self.latent}), got {np.shape(z)}")
        layers = _unpack(xp.reshape(x, (size, self.d1)), self.gen_widths, xp)
        out = _forward(layers, xp.asarray(zz), xp)[-1]
        return xp.reshape(out, batch + tuple(out.shape[-2:]))

    def _parts(self, x: Any, y: Any) -> tuple:
        """Forward passes: generator layers and activations, discriminator layers and
        activations on the data and on the generated points, and the logits."""
        xb, yb, batch, xp = self._flat(x, y)
        gen = _unpack(xb, self.gen_widths, xp)
        gen_acts = _forward(gen, xp.asarray(self.z), xp)
        disc = _unpack(yb, self.disc_widths, xp)
        real_acts = _forward(disc, xp.asarray(self.data), xp)
        fake_acts = _forward(disc, gen_acts[-1], xp)
        return xb, yb, batch, xp, gen, gen_acts, disc, real_acts, fake_acts

    def _f1_of_fake(self, m: Any, xp: Any) -> Any:
        """``f1`` from the logits ``m`` of the generated points, shape ``(B,)``."""
        if self.loss == "saturating":
            return xp.mean(_softplus(m, xp), axis=-1)
        return -xp.mean(_softplus(-m, xp), axis=-1)

    def _df1_dm(self, m: Any, xp: Any) -> Any:
        """``d f1 / d m_j``, shape ``(B, n)``."""
        n = m.shape[-1]
        if self.loss == "saturating":
            return _sigmoid(m, xp) / n
        return _sigmoid(-m, xp) / n

    # ------------------------------------------------------------------ payoffs
    def payoffs(self, x: Any, y: Any) -> tuple[Any, Any]:
        _, yb, batch, xp, _, _, _, real_acts, fake_acts = self._parts(x, y)
        lr, lf = real_acts[-1][..., 0], fake_acts[-1][..., 0]
        f1 = self._f1_of_fake(lf, xp)
        f2 = (
            -xp.mean(_softplus(-lr, xp), axis=-1)
            - xp.mean(_softplus(lf, xp), axis=-1)
            - 0.5 * self.reg * xp.sum(yb * yb, axis=-1)
        )
        return xp.reshape(f1, batch), xp.reshape(f2, batch)

    def leader_payoff(self, x: Any, y: Any) -> Any:
        return self.payoffs(x, y)[0]

    def follower_payoff(self, x: Any, y: Any) -> Any:
        return self.payoffs(x, y)[1]

    # ------------------------------------------------------------------ exact gradients
    def follower_grad(self, x: Any, y: Any) -> Any:
        """``grad_y f2``, exact (backpropagation), shape ``(..., d2)``."""
        _, yb, batch, xp, _, _, disc, real_acts, fake_acts = self._parts(x, y)
        lr, lf = real_acts[-1][..., 0], fake_acts[-1][..., 0]
        g_real = (_sigmoid(-lr, xp) / lr.shape[-1])[..., None]
        g_fake = (-_sigmoid(lf, xp) / lf.shape[-1])[..., None]
        gr, _ = _backward(disc, real_acts, g_real, xp, need_input=False)
        gf, _ = _backward(disc, fake_acts, g_fake, xp, need_input=False)
        return xp.reshape(gr + gf - self.reg * yb, batch + (self.d2,))

    def leader_grad_y(self, x: Any, y: Any) -> Any:
        """``grad_y f1``, exact (backpropagation), shape ``(..., d2)``."""
        _, _, batch, xp, _, _, disc, _, fake_acts = self._parts(x, y)
        lf = fake_acts[-1][..., 0]
        g, _ = _backward(disc, fake_acts, self._df1_dm(lf, xp)[..., None], xp, need_input=False)
        return xp.reshape(g, batch + (self.d2,))

    def _grad_x(self, x: Any, y: Any, player: str) -> Any:
        """``grad_x f_player``: the logits' sensitivities backpropagated through the
        discriminator to the generated points, then through the generator."""
        _, _, batch, xp, gen, gen_acts, disc, _, fake_acts = self._parts(x, y)
        lf = fake_acts[-1][..., 0]
        if player == "leader":
            dm = self._df1_dm(lf, xp)
        else:
            dm = -_sigmoid(lf, xp) / lf.shape[-1]
        _, du = _backward(disc, fake_acts, dm[..., None], xp, need_input=True)
        g, _ = _backward(gen, gen_acts, du, xp, need_input=False)
        return xp.reshape(g, batch + (self.d1,))

    def leader_grad(self, x: Any, y: Any) -> Any:
        """``grad_x f1``, exact (backpropagation), shape ``(..., d1)``."""
        return self._grad_x(x, y, "leader")

    def follower_grad_x(self, x: Any, y: Any) -> Any:
        """``grad_x f2``, exact (backpropagation), shape ``(..., d1)``."""
        return self._grad_x(x, y, "follower")

    # ------------------------------------------------------------------ ground truth
    def _no_equilibrium(self, what: str) -> ValueError:
        return ValueError(
            f"{self!r} has no known {what}: the discriminator's payoff is not concave in its "
            "weights (Assumption 4.8 fails) and no closed form exists; measure a generator "
            "against the data distribution with game.data_metrics(x) instead"
        )

    def _stackelberg(self) -> Equilibrium:
        raise self._no_equilibrium("differential Stackelberg equilibrium")

    def _nash(self) -> Equilibrium | None:
        raise self._no_equilibrium("differential Nash equilibrium")

    def distance_to_stackelberg(self, x: Any) -> Any:
        """Not defined: no DSE is known. Raises ValueError (use :meth:`data_metrics`)."""
        raise self._no_equilibrium("differential Stackelberg equilibrium to measure distance to")

    def info(self) -> dict:
        """A JSON-friendly summary: name, dimensions, bounds, and ``None`` for the unknown
        equilibria."""
        return {
            "name": self.name,
            "d1": self.d1,
            "d2": self.d2,
            "leader_bounds": [self.leader_low.tolist(), self.leader_high.tolist()],
            "follower_bounds": [self.follower_low.tolist(), self.follower_high.tolist()],
            "mu": self.mu,
            "K2": self.K2,
            "stackelberg": None,
            "nash": None,
        }

    def initial_strategies(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` initial weight vectors per player, as networks are usually initialised:
        weights ``N(0, 1 / n_in)``, biases zero (clipped to the boxes). The centre of the
        boxes, all zeros, is a stationary point of both players (every hidden unit alike).

        Returns:
            ``(x0, y0)`` of shapes ``(n, d1)`` and ``(n, d2)``.
        """
        n = _checks.positive_int("n", n)
        rng = np.random.default_rng(seed)
        out = []
        for widths, low, high in (
            (self.gen_widths, self.leader_low, self.leader_high),
            (self.disc_widths, self.follower_low, self.follower_high),
        ):
            parts = []
            for a, b in zip(widths[:-1], widths[1:], strict=True):
                parts.append(rng.standard_normal((n, a * b)) / np.sqrt(a))
                parts.append(np.zeros((n, b)))
            out.append(np.clip(np.concatenate(parts, axis=-1), low, high))
        return out[0], out[1]

    # ------------------------------------------------------------------ the data metric
    def sample_data(self, n: int, seed: int) -> np.ndarray:
        """``n`` fresh draws of the true mixture from ``seed``, shape ``(n, 2)``."""
        n = _checks.positive_int("n", n)
        return self._draw(np.random.default_rng(seed), n)

    def mode_quality(self, points: Any) -> tuple[np.ndarray, np.ndarray]:
        """High-quality fraction and modes covered of sample sets.

        Args:
            points: ``(..., n, 2)`` sample sets (generated or drawn).

        Returns:
            ``(high_quality, modes_covered)``, each of shape ``(...)``: the fraction of the
            ``n`` points within ``3 sigma`` of their nearest mode's mean, and the number of
            modes whose high-quality points number at least ``n / (4 modes)``.

        Raises:
            ValueError: for points of the wrong shape or not finite.
        """
        p = np.asarray(points, dtype=np.float64)
        if p.ndim < 2 or p.shape[-1] != 2:
            raise ValueError(f"points must have shape (..., n, 2), got {p.shape}")
        if not np.all(np.isfinite(p)):
            raise ValueError("points must be finite")
        dist = np.linalg.norm(p[..., :, None, :] - self.means, axis=-1)  # (..., n, modes)
        nearest = np.argmin(dist, axis=-1)
        good = np.min(dist, axis=-1) <= 3.0 * self.sigma
        n = p.shape[-2]
        counts = np.stack([np.sum(good & (nearest == k), axis=-1) for k in range(self.modes)])
        covered = np.sum(counts >= n / (4.0 * self.modes), axis=0)
        return np.mean(good, axis=-1), covered

    @staticmethod
    def energy_distance(points: Any, reference: Any) -> np.ndarray:
        """The energy distance ``2 E|P - Q| - E|P - P'| - E|Q - Q'|`` between sample sets.

        V-statistics (means over all pairs, the zero self-distances included), so the value is
        zero for identical sets and positive otherwise; it estimates the squared energy
        distance of the two distributions, zero only where they are equal.

        Args:
            points: ``(..., n, 2)`` sample sets.
            reference: ``(m, 2)`` reference sample.

        Returns:
            shape ``(...)``.
        """
        p = np.asarray(points, dtype=np.float64)
        q = np.asarray(reference, dtype=np.float64)
        if p.ndim < 2 or p.shape[-1] != 2 or q.ndim != 2 or q.shape[-1] != 2:
            raise ValueError(
                f"points must be (..., n, 2) and reference (m, 2), got {p.shape} and {q.shape}"
            )
        if not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
            raise ValueError("points and reference must be finite")

        def mean_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.linalg.norm(a[..., :, None, :] - b[..., None, :, :], axis=-1).mean((-2, -1))

        return 2.0 * mean_dist(p, q) - mean_dist(p, p) - mean_dist(q, q)

    def data_metrics(self, x: Any) -> dict[str, np.ndarray]:
        """The generator's quality against the true mixture, on ``metric_samples`` fixed
        latent draws (apart from the training sample).

        Args:
            x: generator parameters ``(..., d1)``.

        Returns:
            ``{"high_quality", "modes", "energy"}``, each of shape ``(...)``: see
            :meth:`mode_quality` and :meth:`energy_distance` (against the fixed draw
            ``metric_data`` of the mixture, as large as the generated set).

        Raises:
            ValueError: for a non-finite ``x`` or one of the wrong last dimension.
        """
        xa = np.asarray(x, dtype=np.float64)
        if xa.ndim < 1 or xa.shape[-1] != self.d1:
            raise ValueError(f"x must have shape (..., {self.d1}), got {xa.shape}")
        if not np.all(np.isfinite(xa)):
            raise ValueError("x must be finite")
        pts = np.asarray(self.generate(xa, self.metric_z))
        hq, modes = self.mode_quality(pts)
        return {
            "high_quality": hq,
            "modes": modes,
            "energy": self.energy_distance(pts, self.metric_data),
        }


# ---------------------------------------------------------------------------- MLP helpers


def _n_params(widths: tuple[int, ...]) -> int:
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))


def _unpack(theta: Any, widths: tuple[int, ...], xp: Any) -> list[tuple[Any, Any]]:
    """``(W, b)`` per layer from flat parameters ``(B, d)``: ``W (B, n_in, n_out)``,
    ``b (B, 1, n_out)``."""
    layers, at = [], 0
    size = theta.shape[0]
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        w = xp.reshape(theta[:, at : at + a * b], (size, a, b))
        at += a * b
        bias = xp.reshape(theta[:, at : at + b], (size, 1, b))
        at += b
        layers.append((w, bias))
    return layers


def _forward(layers: list[tuple[Any, Any]], h0: Any, xp: Any) -> list[Any]:
    """Every layer's output (tanh hidden layers, linear output), the input first: inputs
    ``(n, n_in)`` or ``(B, n, n_in)``, outputs ``(B, n, n_out)``."""
    acts = [h0]
    h = h0
    last = len(layers) - 1
    for k, (w, b) in enumerate(layers):
        a = xp.matmul(h, w) + b
        h = a if k == last else xp.tanh(a)
        acts.append(h)
    return acts


def _backward(
    layers: list[tuple[Any, Any]], acts: list[Any], g_out: Any, xp: Any, *, need_input: bool
) -> tuple[Any, Any]:
    """Backpropagation of ``g_out = dL / d(output)`` ``(B, n, n_out)``: the flat parameter
    gradient ``(B, d)`` and, if ``need_input``, ``dL / d(input)`` ``(B, n, n_in)``."""
    grads: list[Any] = []
    g = g_out
    size = layers[0][0].shape[0]
    for k in range(len(layers) - 1, -1, -1):
        w, _ = layers[k]
        h_in = acts[k]
        gw = xp.matmul(xp.matrix_transpose(h_in), g)
        gb = xp.sum(g, axis=-2)
        grads.append(xp.reshape(gb, (size, -1)))
        grads.append(xp.reshape(gw, (size, -1)))
        if k > 0 or need_input:
            g = xp.matmul(g, xp.matrix_transpose(w))
            if k > 0:
                g = g * (1.0 - h_in * h_in)
    flat = xp.concat(grads[::-1], axis=-1)
    return flat, (g if need_input else None)
