"""The stage: what one play of a game is, for one seed or a batch of seeds.

One stage of the repeated game, as Algorithm 1 plays it and :class:`~hic_envs.GameEnv`
exposes it: both players' actions are projected onto their strategy boxes (the paper's
projection), each is paid its payoff at the joint action plus independent zero-mean Gaussian
noise ``w ~ N(0, noise_std^2)`` (the paper's ``w_t``), and each then observes the other's
action as played. Before the first stage of an episode each player observes the centre of the
other player's box.

:class:`Stage` holds these semantics once. :meth:`GameEnv.step <hic_envs.GameEnv.step>` calls
it on ``(d,)`` actions and the batched engine (:class:`agents.BatchRunner`) on ``(S, d)``
actions; both draw the noise of a stage as one ``normal(size=(..., 2))`` call on their own
generator, so a batch of one replays the env bit for bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hic_envs.games.base import Game

__all__ = ["MAX_NOISE_STD", "Stage", "StageResult", "check_noise_scale"]


class StageResult(NamedTuple):
    """What one stage produced (arrays with the actions' leading batch shape).

    Attributes:
        x, y: the actions as played (projected onto the boxes).
        f1, f2: the noiseless payoffs.
        r1, r2: the observed payoffs (``f + w``; the same arrays as ``f1, f2`` without noise).
    """

    x: np.ndarray
    y: np.ndarray
    f1: np.ndarray
    f2: np.ndarray
    r1: np.ndarray
    r2: np.ndarray


#: Largest noise scale accepted (payoff noise, a follower's gradient noise). A draw is at most
#: about 40 scales in size, and learners square, sum and divide what they read: above this,
#: float64 arithmetic on the rewards overflows (noise_std=1e308 made 7% of rewards infinite).
MAX_NOISE_STD = 1e150


def check_noise_scale(name: str, value: float) -> None:
    """Refuse a noise scale that makes finite arithmetic on rewards impossible.

    Raises:
        ValueError: naming ``name`` and ``value`` if ``value > MAX_NOISE_STD``.
    """
    if value > MAX_NOISE_STD:
        raise ValueError(
            f"{name}={value!r} is too large: rewards and steps would overflow float64; use a "
            f"scale of at most {MAX_NOISE_STD:g}"
        )


class Stage:
    """The stage game of ``game`` with payoff noise ``noise_std`` (see the module docstring).

    Args:
        game: the game.
        noise_std: standard deviation of the payoff noise (finite, >= 0).
    """

    def __init__(self, game: Game, noise_std: float = 0.0) -> None:
        if not isinstance(game, Game):
            raise TypeError(f"game must be a hic_envs.games.Game, got {type(game).__name__}")
        if (
            isinstance(noise_std, bool)
            or not isinstance(noise_std, (int, float, np.integer, np.floating))
            or not (np.isfinite(noise_std) and noise_std >= 0)
        ):
            raise ValueError(f"noise_std must be a finite number >= 0, got {noise_std!r}")
        check_noise_scale("noise_std", noise_std)
        self.game = game
        self.noise_std = float(noise_std)
        self._lx, self._hx = game.leader_low, game.leader_high
        self._ly, self._hy = game.follower_low, game.follower_high

    def reset_observations(self) -> tuple[np.ndarray, np.ndarray]:
        """``(leader's, follower's)`` observations before the first stage: the centre of the
        other player's box (fresh arrays)."""
        return 0.5 * (self._ly + self._hy), 0.5 * (self._lx + self._hx)

    def project(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both actions projected onto their boxes (the paper's projection, element-wise)."""
        return self.project_leader(x), self.project_follower(y)

    def project_leader(self, x: np.ndarray) -> np.ndarray:
        """The leader's action projected onto its box."""
        # np.clip's values, as two ufuncs without its wrapper's per-call cost.
        return np.minimum(np.maximum(x, self._lx), self._hx)

    def project_follower(self, y: np.ndarray) -> np.ndarray:
        """The follower's action projected onto its box."""
        return np.minimum(np.maximum(y, self._ly), self._hy)

    #: Most noise values drawn in one call by :meth:`draw_noise` (bounds its memory).
    NOISE_BLOCK = 1 << 20

    def draw_noise(self, rng: np.random.Generator, stages: int, batch: tuple[int, ...]) -> None:
        """Advance ``rng`` past the payoff noise of ``stages`` stages on a batch of shape
        ``batch``, as ``stages`` calls of :meth:`play` would, without computing payoffs.

        A stage's noise is one ``normal(0, noise_std, size=batch + (2,))`` call, and NumPy's
        normal draws in one call of size ``(k, *batch, 2)`` are the values (and leave the
        generator in the state) of ``k`` such calls in a row; so this draws them in a few
        large calls of at most :attr:`NOISE_BLOCK` values and discards them.
        """
        if self.noise_std <= 0.0 or stages <= 0:
            return
        per_stage = 2 * int(np.prod(batch, dtype=np.int64))
        block = max(1, self.NOISE_BLOCK // per_stage)
        left = int(stages)
        while left > 0:
            k = min(block, left)
            rng.normal(0.0, self.noise_std, size=(k, *batch, 2))
            left -= k

    def play(
        self,
        x: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
        *,
        in_box: bool = False,
    ) -> StageResult:
        """Play one stage with actions ``x (..., d1)`` and ``y (..., d2)``.

        Args:
            x, y: the actions (float64 arrays with the same leading shape).
            rng: the generator of the payoff noise (used only when ``noise_std > 0``).
            in_box: the caller has checked that both actions lie in their boxes, so the
                projection would change nothing and is skipped.
        """
        if not in_box:
            x, y = self.project(x, y)
        f1, f2 = self.game.payoffs(x, y)
        if self.noise_std > 0.0:
            w = rng.normal(0.0, self.noise_std, size=np.shape(f1) + (2,))
            return StageResult(x, y, f1, f2, f1 + w[..., 0], f2 + w[..., 1])
        return StageResult(x, y, f1, f2, f1, f2)
