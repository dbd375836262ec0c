"""Time the hierarchical gradient per leader update: dense (Eq. 7) against matrix-free (CG).

    python scripts/coupled_timing.py [--dims 16 64 256 1024] [--seeds 8] [--stages 200]
    python scripts/coupled_timing.py --covariance 100 [--stages 200]

On ``RandomQuadraticGame(d, d, seed=0)`` with a batch of ``seeds`` rows (the scaling study's
set-up, ``scripts/scaling.py``), per update:

* ``dense``: ``Game.total_leader_grad`` of the base class (the follower's Hessian blocks and
  a batched solve: the generic coupled update the scaling table times);
* ``CG cold``: :func:`agents.rules.coupled.hierarchical_cg` from ``w = 0`` (iterations shown),
  relative residual 1e-6 (the learner's default);
* ``CG in play``: :class:`agents.HierarchicalCGLeader` against a gradient-ascent follower,
  warm-started from the previous stage's solve, mean over ``stages`` stages, with the
  largest distance ``|x - x*|`` over the rows at the end; and the same with
  ``cg_iters=2`` (two iterations per stage: the solve tracked across stages);

each with the game's own ``payoff_hvp`` (a closed form: one product with a coefficient
matrix) and with the closed-form product ``v @ H`` written in a subclass here. The relative
error of the CG direction against the dense one is shown; and, as a floor for the
two-iteration update, ``products alone``: the µs of that update's eight ``(S, d) @ (d, d)``
products by themselves, in play's order (``grad_y f1``: ``x B``, ``y C``; the first residual
and two CG iterations: three ``v (-H)``; ``grad_x f1``: ``x A``, ``y B^T``; ``f2_xy w``:
``w G``), with the follower's two (``y H``, ``x G^T``) between updates, not counted: what a
leader update costs with no Python or element-wise work at all (the products' matrices are
read from memory again at each update once the ones in play exceed the core's cache).
The last column divides the dense, in-play and two-iteration times by ``seeds``: µs per
update per seed, the unit of the scaling study's "generic coupled µs per update"
(:func:`agents.compose.engines.bench.scaling_study`, ``_generic_hierarchical_us``: the
time of a batch over its ``S``), where issue 20 measured the dense update at 1.07 ms at
``d = 256`` with 8 seeds.

``--covariance d ...`` (instead of the table above): the covariance GAN at data dimension
``d`` (``d^2`` parameters per player; ``d = 100`` is 1e4), where nothing may form a
``d^2 x d^2`` matrix:
:class:`agents.HierarchicalCGLeader` at :func:`agents.presets.gradient_leader_step`'s step
(matrix-free above ``DENSE_CURVATURE_MAX`` leader parameters) against a gradient-ascent
times ``step_scale`` against a gradient-ascent follower for ``stages`` stages, ``seeds`` rows;
printed: the time of the step's curvature estimate, µs per leader update, and the largest
(over the rows) distance to the solution set ``V V^T = S`` relative to the row's start (the
GAN study's measure, ``scripts/gan_study.py``). Measure the memory with ``/usr/bin/time -v``.

BLAS is pinned to one thread. Timings depend on the machine's load: quote them with
``uptime``.
"""

from __future__ import annotations

import dataclasses
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from agents import GradientAscentFollower, presets  # noqa: E402
from agents.compose.cli.config import parse  # noqa: E402
from agents.coupled import HierarchicalCGLeader  # noqa: E402
from agents.rules import coupled as rules  # noqa: E402
from hic_envs.games import CovarianceGAN, Game, RandomQuadraticGame  # noqa: E402


class ClosedFormHVP(RandomQuadraticGame):
    """The random quadratic game with the follower's products in closed form:
    ``f2_yy v = -v H`` and ``f2_xy v = v G`` (``H`` symmetric; ``G`` is ``grad_yx f2``)."""

    def payoff_hvp(self, player, block, x, y, v):
        x, y, v = self._hvp_args(player, block, x, y, v)
        if player == "follower" and block == "yy":
            return -(v @ self.H)
        if player == "follower" and block == "xy":
            return v @ self.G
        return super().payoff_hvp(player, block, x, y, v)


@dataclasses.dataclass(frozen=True)
class Config:
    """Command-line configuration (one flag per field, :mod:`agents.compose.cli.config`)."""

    dims: tuple[int, ...] = (16, 64, 256, 1024)
    """Dimensions d = d1 = d2 of the random quadratic games (not run with ``--covariance``)."""
    covariance: tuple[int, ...] = ()
    """Data dimensions d of covariance GANs run in play (d^2 parameters per player), instead
    of the random quadratic table."""
    seeds: int = 8
    """Batch rows."""
    stages: int = 200
    """Stages of the in-play timing."""
    dense_max: int = 1024
    """Largest d at which the dense update is timed."""
    step_scale: float = 1.0
    """``--covariance``: the leader's step is this times the preset's (the GAN study found
    0.3 stable where the preset's step diverges, d >= 4)."""

    def __post_init__(self) -> None:
        dims = self.dims + self.covariance
        if not dims or min(dims) < 1 or self.seeds < 1 or self.stages < 1 or self.step_scale <= 0:
            raise ValueError(f"dims, seeds and stages must be positive, got {self}")


def _us(fn, min_time: float = 0.2) -> float:
    fn()
    reps, t = 0, time.perf_counter()
    while True:
        fn()
        reps += 1
        el = time.perf_counter() - t
        if el >= min_time:
            return el / reps * 1e6


def _in_play_us(
    game: Game, S: int, stages: int, cg_iters: int = 50, step: float | None = None, score=None
) -> tuple[float, float]:
    """Mean µs per leader update in play, and the final largest ``score`` (default: the
    distance to x*) over the rows."""
    step = presets.gradient_leader_step(game) if step is None else step
    leader = HierarchicalCGLeader(game, step, num_envs=S, seed=0, cg_iters=cg_iters)
    follower = GradientAscentFollower(game, presets.follower_step_size(game), num_envs=S, seed=0)
    leader.reset()
    follower.reset()
    spent = 0.0
    r = np.zeros(S)
    for _ in range(stages):
        x, y = leader.strategies, follower.strategies
        t = time.perf_counter()
        leader.observe_batch(r, y)
        spent += time.perf_counter() - t
        follower.observe_batch(r, x)
    score = game.distance_to_stackelberg if score is None else score
    return spent / stages * 1e6, float(score(leader.strategies).max())


def products_us(game: RandomQuadraticGame, S: int, stages: int) -> float:
    """Mean µs of the two-iteration update's eight products alone (the module docstring), over
    ``stages`` updates with the follower's two products between them."""
    A, B, C, G, H = game.A, game.B, game.C, game.G, game.H
    Bt, Gt, neg_H = np.ascontiguousarray(B.T), np.ascontiguousarray(G.T), -H  # the game's layout
    rng = np.random.default_rng(0)
    x, y, w = (rng.standard_normal((S, n)) for n in (game.d1, game.d2, game.d2))
    spent = 0.0
    for stage in range(stages + 1):  # the first update warms up: not counted
        t = time.perf_counter()
        x @ B, y @ C, w @ neg_H, w @ neg_H, w @ neg_H, x @ A, y @ Bt, w @ G
        spent += (time.perf_counter() - t) if stage else 0.0
        y @ H, x @ Gt
    return spent / stages * 1e6


def covariance_row(d: int, cfg: Config) -> str:
    """The covariance GAN's row at data dimension ``d``."""
    game = CovarianceGAN(d)
    t = time.perf_counter()
    step = cfg.step_scale * presets.gradient_leader_step(game)
    step_s = time.perf_counter() - t
    first = HierarchicalCGLeader(game, step, num_envs=cfg.seeds, seed=0)
    first.reset()
    d0 = game.distance_to_stackelberg(first.strategies)  # the same seed: the same start
    play, end = _in_play_us(
        game, cfg.seeds, cfg.stages, step=step, score=lambda x: game.distance_to_stackelberg(x) / d0
    )
    return f"| {d} | {d * d} | {step_s:.3g} | {step:.3g} | {play:.4g} | {end:.3g} |"


def rows(d: int, cfg: Config) -> list[str]:
    """The table's two rows at dimension ``d`` (the game's HVP, then the closed form)."""
    t = time.perf_counter()
    base = RandomQuadraticGame(d, d, seed=0)
    build = time.perf_counter() - t
    closed = ClosedFormHVP(d, d, seed=0)
    rng = np.random.default_rng(0)
    S = cfg.seeds
    x = rng.uniform(base.leader_low, base.leader_high, (S, d))
    y = rng.uniform(base.follower_low, base.follower_high, (S, d))
    ref = base.total_leader_grad(x, y)  # the game's closed form (no solve per call)
    dense, dense_us = "–", None
    if d <= cfg.dense_max:
        dense_us = _us(lambda: Game.total_leader_grad(base, x, y))
        dense = f"{dense_us:.4g}"
    w0 = np.zeros((S, d))
    floor = products_us(base, S, cfg.stages)
    out = []
    for label, game in (("game's", base), ("closed form", closed)):
        D, _ = rules.hierarchical_cg(game, x, y, w0, 500, 1e-6)
        _, iters = rules.conjugate_gradient(
            lambda u, g=game: -g.payoff_hvp("follower", "yy", x, y, u),
            -game.leader_grad_y(x, y),
            w0,
            500,
            1e-6,
        )
        cold = _us(lambda g=game: rules.hierarchical_cg(g, x, y, w0, 500, 1e-6))
        play, dist = _in_play_us(game, S, cfg.stages)
        play2, dist2 = _in_play_us(game, S, cfg.stages, cg_iters=2)
        err = float(np.abs(D - ref).max() / np.abs(ref).max())
        per_seed = " / ".join("–" if v is None else f"{v / S:.3g}" for v in (dense_us, play, play2))
        out.append(
            f"| {d} | {build:.2g} | {dense} | {label} | {cold:.4g} ({iters}) | {err:.1e} | "
            f"{play:.4g} ({dist:.1e}) | {play2:.4g} ({dist2:.1e}) | {floor:.4g} | "
            f"{per_seed} |"
        )
    return out


def main(argv: list[str] | None = None) -> None:
    cfg = parse(Config, argv, prog="python scripts/coupled_timing.py")
    if cfg.covariance:
        print(
            f"| d | parameters per player | step estimate s | step | µs per update in play "
            f"| rel. distance after {cfg.stages} stages (max over rows) |\n"
            "|---:|---:|---:|---:|---:|---:|"
        )
        for d in cfg.covariance:
            print(covariance_row(d, cfg), flush=True)
        return
    print(
        "| d | build s | dense µs | HVP | CG cold µs (iters) | CG rel. error | "
        "CG in play µs (max dist.) | CG 2 iterations in play µs (max dist.) | "
        "products alone µs | per seed µs: dense / in play / 2 iterations |\n"
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"
    )
    for d in cfg.dims:
        for line in rows(d, cfg):
            print(line, flush=True)


if __name__ == "__main__":
    main()
