"""Schedules written as text: the spec strings of ``hic run``, sweep files and scripts.

``"0.01"`` is a constant; ``"power:a=0.001,gamma=0.1[,A=0]"`` a
:class:`~agents.schedules.PowerLaw`; ``"log:a=1[,base=2.718]"`` a
:class:`~agents.schedules.Logarithmic`; commitments also take
``"corollary:p=1[,beta=..,mu=..,B=..]"`` (Corollary 4.11, Eq. 28) and
``"adaptive:tol=0.01,min_length=2,max_length=10000"``
(:class:`~agents.hic.AdaptiveCommitment`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from agents import schedules
from agents.hic import AdaptiveCommitment
from hic_envs.games.base import Game

__all__ = ["SCHEDULE_HELP", "parse_commitment", "parse_schedule"]

#: One line of help for a schedule option.
SCHEDULE_HELP = (
    "a number (constant) or 'power:a=A,gamma=G[,A=OFFSET]' for a/(n+1+OFFSET)^G, "
    "'log:a=A[,base=B]' for a/log(n+B)"
)

_SCHEDULES: dict[str, type] = {
    "constant": schedules.Constant,
    "power": schedules.PowerLaw,
    "log": schedules.Logarithmic,
}


def _parse_fields(spec: str, option: str) -> tuple[str, dict[str, float]]:
    kind, _, rest = spec.partition(":")
    fields: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, val = item.partition("=")
        if not eq:
            raise ValueError(f"{option} {spec!r}: expected key=value, got {item!r}")
        try:
            fields[key.strip()] = float(val)
        except ValueError:
            msg = f"{option} {spec!r}: {key.strip()} must be a number, got {val!r}"
            raise ValueError(msg) from None
    return kind.strip().lower(), fields


def parse_schedule(spec: Any, option: str = "schedule") -> Any:
    """A schedule from a number or a spec string.

    ``"0.01"`` or ``0.01`` is a constant; ``"power:a=0.001,gamma=0.1[,A=0]"`` is
    :class:`~agents.schedules.PowerLaw`; ``"log:a=1[,base=2.718]"`` is
    :class:`~agents.schedules.Logarithmic`; ``"constant:value=0.1"`` a constant.

    Raises:
        ValueError: naming ``option`` and the bad spec.
    """
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        value = float(spec)
    elif isinstance(spec, str) and ":" not in spec:
        try:
            value = float(spec)
        except ValueError:
            raise ValueError(
                f"{option} must be a number or a schedule like 'power:a=0.01,gamma=0.6', "
                f"got {spec!r}"
            ) from None
    elif isinstance(spec, str):
        kind, fields = _parse_fields(spec, option)
        if kind not in _SCHEDULES:
            raise ValueError(
                f"{option} {spec!r}: unknown schedule {kind!r}; expected one of "
                f"{sorted(_SCHEDULES)}"
            )
        try:
            return _SCHEDULES[kind](**fields)
        except TypeError as err:
            raise ValueError(f"{option} {spec!r}: {err}") from None
        except ValueError as err:
            raise ValueError(f"{option} {spec!r}: {err}") from None
    else:
        raise ValueError(f"{option} must be a number or a schedule spec string, got {spec!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{option} must be a positive number, got {spec!r}")
    return value


def parse_commitment(spec: Any, game: Game, perturbation: Any, follower_step: Any) -> Any:
    """A commitment schedule from a number or spec string.

    A positive integer is a fixed commitment; ``"power:..."``/``"log:..."`` as in
    :func:`parse_schedule` (values are rounded up to whole stages);
    ``"corollary:p=1[,beta=..,mu=..,B=..]"`` is Corollary 4.11's Eq. (28) with ``beta`` the
    follower's (constant) step, ``mu`` the game's and ``B`` the follower box's diameter unless
    given; ``"adaptive:tol=0.01,min_length=1,max_length=10000"`` is
    :class:`~agents.hic.AdaptiveCommitment`.

    Raises:
        ValueError: naming the bad spec.
    """
    option = "--commitment"
    if isinstance(spec, str) and ":" in spec:
        kind, fields = _parse_fields(spec, option)
        if kind == "adaptive":
            try:
                kw: dict[str, Any] = {
                    k: (v if k == "tol" else _whole(v, option, spec)) for k, v in fields.items()
                }
                return AdaptiveCommitment(**kw)
            except (TypeError, ValueError) as err:
                raise ValueError(f"{option} {spec!r}: {err}") from None
        if kind == "corollary":
            unknown = set(fields) - {"p", "beta", "mu", "B"}
            if unknown:
                raise ValueError(f"{option} {spec!r}: unknown field(s) {sorted(unknown)}")
            beta = fields.get("beta", follower_step if isinstance(follower_step, float) else None)
            mu = fields.get("mu", game.mu)
            if beta is None or mu is None:
                raise ValueError(
                    f"{option} {spec!r}: needs beta (the follower's constant step) and mu "
                    "(the game's); give them as fields"
                )
            B = fields.get("B", float(np.linalg.norm(game.follower_high - game.follower_low)))
            try:
                return schedules.CommitmentSchedule(beta, mu, B, fields.get("p", 1.0), perturbation)
            except (TypeError, ValueError) as err:
                raise ValueError(f"{option} {spec!r}: {err}") from None
        sched = parse_schedule(spec, option)
        return _Ceil(sched)
    value = parse_schedule(spec, option)
    return _whole(value, option, spec)


def _whole(v: float, option: str, spec: Any) -> int:
    if not float(v).is_integer() or v < 1:
        raise ValueError(f"{option} {spec!r}: expected a positive whole number of stages, got {v}")
    return int(v)


@dataclasses.dataclass(frozen=True)
class _Ceil(schedules.Schedule):
    """A schedule rounded up to whole stages (for commitments given as power/log laws)."""

    inner: Any

    def __call__(self, n):
        return np.ceil(self.inner(n))
