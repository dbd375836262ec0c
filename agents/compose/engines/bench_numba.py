"""The single-thread numba limit of the bench's Hi-C loop (``hic bench``; issue 18).

The bench's workload (Hi-C with a payoff baseline and a fixed commitment schedule against a
gradient-ascent follower on the duopoly) written as one compiled loop per seed row, in
scalar code, with nothing but the arithmetic: the follower's projected steps within an
interval, each checking what it read as the engines' steps do, so that a NaN or infinite
gradient, which the projection would hide on the box's edge, is caught (checked once per
call, as the engines check once per chunk); at its end the leader's payoff, the baseline, the
SPSA step, a fresh sign and the commitment (Algorithm 1). It is what one core can do with
this loop, the mark the engines are measured against. The check is made either way the
library makes it, and the bench takes the faster as the limit: folding each unprojected
point into a check array (:func:`agents.rules.checked_ascent_step`, the NumPy engine's and
the generic JAX loop's way) or carrying it in the strategy
(:func:`agents.rules.poisoned_ascent_step`, the JAX interval engine's, ``in_strategy=True``).
(At 36be5e0 and before, the kernel checked nothing: a loop with less work than the
engines'.) Its first interval steps against a zero baseline
(the engines' first makes no step), and its signs come from a xorshift generator, not the
engines' streams: it is a speed reference, and its results are not compared with theirs.

Only the bench imports this module, and only when numba is installed (``pip install -e
".[bench]"``); the library never imports numba.
"""

from __future__ import annotations

import time
from typing import Any

import numba
import numpy as np

from agents.schedules import ScheduleTable
from hic_envs.games.duopoly import Duopoly

__all__ = ["NumbaHiC"]


#: Rows advanced together (their state stays in the first-level cache; the row loop inside
#: each stage is what the compiler vectorises).
_BLOCK = 64


def _kernel(in_strategy: bool) -> Any:
    """The compiled loop; the read check folded into ``check`` or, ``in_strategy``, carried
    in the follower's strategy (numba reads ``in_strategy`` as a constant: no branch is left
    in the loop)."""

    @numba.njit(cache=False, fastmath=False)
    def run(x, y, b, sgn, rng, check, n0, played0, alpha, delta, k, lam, beta, dem, slope, c1,
            c2, box, stages):  # fmt: skip
        """Play ``stages`` stages on every row (in place); Duopoly's payoffs written out, and
        the follower's unprojected points folded into ``check`` (zeros: NaN once one was not
        finite) or into ``y`` itself (``proj(u + 0 u)``, NaN from then on). Every row's
        schedule position is ``(n0, played0)`` (a fixed schedule); returns the new one."""
        S = x.shape[0]
        lo_x, hi_x, lo_y, hi_y = box[0], box[1], box[2], box[3]
        xt = np.empty(_BLOCK)
        own = np.empty(_BLOCK)
        n, played = n0, played0
        for start in range(0, S, _BLOCK):
            m = min(_BLOCK, S - start)
            n, played, left = n0, played0, stages
            for j in range(m):
                i = start + j
                xt[j] = min(max(x[i] + delta[n] * sgn[i], lo_x), hi_x)
                own[j] = dem - c2 - slope * xt[j]
            while left > 0:
                steps = min(k[n] - played - 1, left)
                yb = y[start : start + m]
                cb = check[start : start + m]
                for _ in range(steps):  # the follower's steps against the commitment
                    for j in range(m):  # selects, not branches: the compiler vectorises this
                        v = yb[j] + beta * (own[j] - 2.0 * slope * yb[j])
                        if in_strategy:
                            v = v + 0.0 * v  # agents.rules.poisoned_ascent_step
                        else:
                            cb[j] *= v  # the read check (agents.rules.fold_read)
                        v = lo_y if v < lo_y else v
                        yb[j] = hi_y if v > hi_y else v
                left -= steps
                played += steps
                if left == 0:
                    break
                for j in range(m):  # the interval's last stage (Alg. 1, lines 8-9; Eq. (11))
                    i = start + j
                    s = xt[j] * (dem - slope * (xt[j] + y[i]) - c1)
                    u = y[i] + beta * (own[j] - 2.0 * slope * y[i])
                    check[i] *= u  # the interval's last step: checked in both (as the engine)
                    y[i] = min(max(u, lo_y), hi_y)
                    x[i] = min(max(x[i] + alpha[n] * (s - b[i]) / (delta[n] * sgn[i]), lo_x), hi_x)
                    b[i] = lam * b[i] + (1.0 - lam) * s
                    r = rng[i]
                    r ^= r << np.uint64(13)
                    r ^= r >> np.uint64(7)
                    r ^= r << np.uint64(17)
                    rng[i] = r
                    sgn[i] = 1.0 if (r & np.uint64(1)) else -1.0
                    xt[j] = min(max(x[i] + delta[n + 1] * sgn[i], lo_x), hi_x)  # Alg. 1, line 5
                    own[j] = dem - c2 - slope * xt[j]
                n += 1
                played = 0
                left -= 1
        return n, played

    return run


#: The two ways of checking the reads: ``{in_strategy: kernel}``.
_RUN = {False: _kernel(False), True: _kernel(True)}


class NumbaHiC:
    """The loop for ``S`` rows of the bench's workload, run in chunks like a runner.

    Args:
        game: the :class:`~hic_envs.games.Duopoly` of the workload.
        leader, follower: the bench's Hi-C leader (with a baseline) and gradient follower;
            their schedules, boxes and step size are read through their public attributes.
        intervals: schedule table length (updates) to prepare.
        in_strategy: carry the read check of the follower's steps within an interval in its
            strategy (``proj(u + 0 u)``, as the JAX interval engine does), not in ``check``.
    """

    def __init__(
        self,
        game: Duopoly,
        leader: Any,
        follower: Any,
        intervals: int = 1 << 20,
        *,
        in_strategy: bool = False,
    ) -> None:
        self._run = _RUN[bool(in_strategy)]
        S = leader.num_envs
        rng = np.random.default_rng(0)
        n = np.arange(intervals + 1, dtype=np.int64)
        self.alpha = ScheduleTable(leader.step_size, "step_size")(n)
        self.delta = ScheduleTable(leader.perturbation, "perturbation")(n)
        self.k = ScheduleTable(leader.commitment, "commitment")(n).astype(np.int64)
        self.x = rng.uniform(leader.low[0], leader.high[0], S)
        self.y = rng.uniform(follower.low[0], follower.high[0], S)
        self.b = np.zeros(S)
        self.check = np.zeros(S)  # the read check of the follower's steps
        self.sgn = 2.0 * rng.integers(0, 2, S) - 1.0
        self.rng = rng.integers(1, 2**63, S, dtype=np.int64).astype(np.uint64)
        self.n, self.played = 0, 0
        self.box = np.array([leader.low[0], leader.high[0], follower.low[0], follower.high[0]])
        self.lam = float(leader.baseline)
        self.beta = float(follower.step_size.value)
        self.game = game
        self.run(1)  # compile

    def run(self, stages: int) -> None:
        if self.n + stages // int(self.k.min()) + 2 >= self.k.size:
            self.n, self.played = 0, 0  # the table would run out: start it over (a speed test)
        g = self.game
        self.n, self.played = self._run(
            self.x, self.y, self.b, self.sgn, self.rng, self.check, self.n, self.played,
            self.alpha, self.delta, self.k, self.lam, self.beta, g.a, g.b, g.c1, g.c2, self.box,
            int(stages),
        )  # fmt: skip
        # Once per call, as the engines check once per chunk.
        bad = np.isnan(self.check) | np.isnan(self.y)
        if bad.any():
            raise FloatingPointError(
                f"rows {np.flatnonzero(bad)[:10].tolist()}: a follower gradient read was NaN "
                "or infinite"
            )

    def timed(self, stages: int) -> tuple[float, float]:
        """Wall and CPU seconds of ``stages`` more stages."""
        t, c = time.perf_counter(), time.process_time()
        self.run(stages)
        return time.perf_counter() - t, time.process_time() - c
