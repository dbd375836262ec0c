"""LOLA (Foerster et al., 2018) as a leader baseline, in the published Hi-C code's form.

The published Hi-C code (rtloftin/Hi-C, branch aamas2024, ``hi_c/learners/lola.py``) ships a
first-order LOLA learner; :class:`LOLALeader` is that learner as a batched, coupled leader.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from agents.base import SeedLike
from agents.baselines import GradientLeader, GradientLeaderRules
from agents.presets import gradient_leader_step
from agents.rules import namespace
from agents.schedules import as_schedule
from hic_envs.games.base import Game

__all__ = ["LOLA_RULES", "LOLALeader", "lola_direction", "lola_leader"]


def lola_direction(options: Any, game: Game, x: Any, y: Any) -> Any:
    """``g(x, y)``, the LOLA ascent direction (see :class:`LOLALeader`), shape ``(S, d1)``;
    ``options.lookahead`` is ``eta`` and ``options.correction`` selects the corrected form."""
    xp = namespace(x, y)
    g1y = game.leader_grad_y(x, y)
    # (grad_yx f2)^T grad_y f1: the shaping term (Foerster et al., 2018, Eq. 4.2).
    shaping = _tmatvec(xp, game.follower_hess_yx(x, y), g1y)
    if options.correction:
        # (grad_yx f1)^T grad_y f2: the other half of grad_x (grad_y f1 . grad_y f2).
        shaping = shaping + _tmatvec(xp, game.leader_hess_yx(x, y), game.follower_grad(x, y))
    return game.leader_grad(x, y) + options.lookahead * shaping


def _tmatvec(xp: Any, m: Any, v: Any) -> Any:
    """``einsum("...ij,...i->...j", m, v)``."""
    if xp is np:
        return np.einsum("...ij,...i->...j", m, v)
    return xp.sum(m * v[..., :, None], axis=-2)


#: LOLA's rule set: a gradient leader along :func:`lola_direction`.
LOLA_RULES = GradientLeaderRules(lola_direction, coupled=True)


class LOLALeader(GradientLeader):
    """First-order LOLA for the leader (Foerster et al., 2018). **Coupled.**

    LOLA assumes the follower takes one naive gradient step of size ``eta`` (``lookahead``),
    ``y -> y + eta grad_y f2(x, y)``, and ascends its own payoff *after* that step. To first
    order in ``eta`` (Taylor expansion in the follower's step)::

        f1(x, y + eta grad_y f2) ~ f1(x, y) + eta (grad_y f1)^T grad_y f2        (LOLA, Eq. 4.1)

    and the leader ascends the gradient in ``x`` of the right-hand side, projected onto ``X``::

        x_{t+1} = proj_X(x_t + alpha_t g(x_t, y_t)), with
        g = grad_x f1 + eta [ (grad_yx f2)^T grad_y f1 + (grad_yx f1)^T grad_y f2 ]   (correction)
        g = grad_x f1 + eta (grad_yx f2)^T grad_y f1                                   (original)

    where ``grad_yx f`` is the ``(d2, d1)`` Jacobian of ``grad_y f`` w.r.t. ``x``. Kept: the
    zeroth-order term and the first-order term in ``eta``; dropped: every term of order
    ``eta^2`` and higher (LOLA's Taylor expansion is first order). The *original* LOLA rule
    (Foerster et al., 2018, Eq. 4.2; ``correction=False``) further drops the first-order term
    ``(grad_yx f1)^T grad_y f2`` (how the leader's own sensitivity to ``y`` changes with ``x``)
    and keeps only the *shaping* term ``(grad_yx f2)^T grad_y f1`` (how moving ``x`` changes the
    follower's step, weighted by what that step is worth to the leader). The published code's
    default, ``correction=True``, keeps both: it differentiates ``grad_y f1 . grad_y f2`` in
    ``x`` through both factors (its ``corrected_lola``); ``correction=False`` is its
    ``original_lola``.

    One difference from the published learner: it does not project; this leader clips to
    ``X`` after every step, as the project's other gradient baselines do.

    Each stage it evaluates ``g`` at its own ``x_t`` and the follower action ``y_t`` it observed
    at the stage just played, reading ``grad_y f2``, ``grad_yx f2`` (the follower's derivatives)
    from the game: coupled by design (``coupled = True``).

    Where it goes. Against a follower at ``y = r(x)`` (``grad_y f2 = 0``) both forms reduce to
    ``grad_x f1 + eta (grad_yx f2)^T grad_y f1``, while the DSE's hierarchical gradient is
    ``grad_x f1 - (grad_yx f2)^T (grad_yy f2)^{-T} grad_y f1``: LOLA's fixed points are the
    DSE's exactly where ``eta I`` stands in for ``-(grad_yy f2)^{-1}``, e.g. in a quadratic game
    with ``grad_yy f2 = -m I`` and ``eta = 1 / m`` (a Newton step); elsewhere they differ.
    On the duopoly (``m = 2``) the default ``eta = 1`` gives ``g = y >= 0``: the leader climbs
    until the follower's best response is 0 (``x >= 49``), far from the DSE ``x = 24.5``,
    which ``eta = 1/2`` reaches (tested: ``test_where_lola_goes_on_the_duopoly`` in
    ``tests/agents/test_lola.py``).

    Args:
        game: the game (``leader_grad``, ``leader_grad_y``, ``follower_grad``,
            ``follower_hess_yx`` and, with ``correction``, ``leader_hess_yx``).
        step_size: ``alpha_t``, a schedule of the stage index or a number.
        lookahead: ``eta``, the follower's step LOLA assumes (> 0; the published default 1).
        correction: keep the ``(grad_yx f1)^T grad_y f2`` term (the published default True).
        noise_std: standard deviation of Gaussian noise added to each coordinate of ``g``.
        seed: seed for ``x_0`` and the noise.
        num_envs: ``None`` or the batch size ``S``.
        init: initial strategy ``x_0`` (uniform over ``X`` when None).
    """

    rules = LOLA_RULES

    def __init__(
        self,
        game: Game,
        step_size: Any,
        *,
        lookahead: float = 1.0,
        correction: bool = True,
        noise_std: float = 0.0,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init: ArrayLike | None = None,
    ) -> None:
        super().__init__(
            game,
            step_size,
            noise_std=noise_std,
            seed=seed,
            num_envs=num_envs,
            init=init,
            lookahead=lookahead,
            correction=correction,
        )

    def direction(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``g(x, y)``, the LOLA ascent direction (see the class docstring), shape ``(S, d1)``."""
        return lola_direction(self.options, self.game, x, y)


def lola_leader(game: Game, num_envs: int | None, options: dict[str, Any]) -> LOLALeader:
    """The catalog's factory: a :class:`LOLALeader` for ``game`` from an options dict.

    Options (every key optional): ``step_size`` (a number or schedule; default ``0.1 / H`` with
    ``H`` the largest curvature of ``f1(x, r(x))`` at the centre of ``X`` and the DSE, the
    gradient baselines' rule), ``lookahead`` (default 1.0), ``correction`` (default True),
    ``noise_std`` (default 0), ``init``, ``seed``.

    Raises:
        ValueError: for an unknown option or a bad value (naming it).
    """
    allowed = {"step_size", "lookahead", "correction", "noise_std", "init", "seed"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(
            f"option(s) {unknown} do not apply to leader 'lola'; known: {sorted(allowed)}"
        )
    kw = dict(options)
    step = kw.pop("step_size", None)
    step = gradient_leader_step(game) if step is None else as_schedule(step, "step_size")
    return LOLALeader(game, step, num_envs=num_envs, **kw)
