"""Coupled learners of the differentiable-games literature, for either player.

Each learner is a rule set (:mod:`agents.rules.protocol`): a frozen options value
(:class:`CoupledOptions` and one subclass per method) and a rules object
(:class:`CoupledRules`, parametrised by the method's direction function of
:mod:`agents.rules.coupled`; :class:`HierarchicalCGRules` adds the conjugate gradient's warm
start to the state). Every stage it steps along its half of the method's joint direction at
the joint action just played, ``(own, observed)``, projected onto its box::

    z_{t+1} = proj(z_t + alpha_t d(x_t, y_t))

The classes below are thin faces (:class:`agents.face.RuleAgent`) over those rule sets: they
build the options, hold one state (``z`` the strategies, ``t`` the stages observed,
``read_check``, and ``w`` for the hierarchical CG leader) and ``state_dict()`` is that state.

Every one is **coupled** (``coupled = True``): it reads the game's derivatives of *both*
payoffs, the other player's included, at the other's observed action. Two learners of the
same method (a leader and a follower) update simultaneously from the same ``(x_t, y_t)``, so
together they run the joint algorithm of the literature.

* :class:`LookAheadLearner` (Zhang & Lesser 2010; Letcher et al. 2019's LA);
* :class:`LOLALearner` (Foerster et al. 2018), either player;
* :class:`SOSLearner`, stable opponent shaping (Letcher et al. 2019);
* :class:`SymplecticLearner`, symplectic gradient adjustment (Balduzzi et al. 2018; the
  catalog's ``symplectic``: the project's ``sga`` is simultaneous gradient ascent);
* :class:`ConsensusLearner`, consensus optimization (Mescheder et al. 2017);
* :class:`ExtragradientLearner` (Korpelevich 1976);
* :class:`HierarchicalCGLeader`, the hierarchical gradient with conjugate gradient on
  Hessian-vector products (Fiez et al. 2020), leader only.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from agents.base import SeedLike
from agents.face import RuleAgent
from agents.followers import _check_game
from agents.rules import checked_ascent_step, namespace
from agents.rules import coupled as rules
from agents.rules.protocol import (
    READ_CHECK,
    Capabilities,
    Spec,
    StepwiseRules,
    cache_field,
    schedule_at,
)
from agents.schedules import Constant, as_schedule
from hic_envs.games.base import Game

__all__ = [
    "CONSENSUS_RULES",
    "EXTRAGRADIENT_RULES",
    "HIERARCHICAL_CG_RULES",
    "LOLA_LEARNER_RULES",
    "LOOKAHEAD_RULES",
    "SOS_RULES",
    "SYMPLECTIC_RULES",
    "ConsensusLearner",
    "ConsensusOptions",
    "CoupledLearner",
    "CoupledOptions",
    "CoupledRules",
    "ExtragradientLearner",
    "ExtragradientOptions",
    "HierarchicalCGLeader",
    "HierarchicalCGOptions",
    "HierarchicalCGRules",
    "LOLALearner",
    "LOLALearnerOptions",
    "LookAheadLearner",
    "LookAheadOptions",
    "SOSLearner",
    "SOSOptions",
    "SymplecticLearner",
    "SymplecticOptions",
]

ROLES = ("leader", "follower")


def _positive(name: str, value: Any, *, allow_zero: bool = False) -> Any:
    """A finite number > 0 (>= 0 with ``allow_zero``), or a 1-d array of them, one per row
    (returned as a read-only float64 array)."""
    bound = ">= 0" if allow_zero else "> 0"
    if isinstance(value, (np.ndarray, list, tuple)):
        v = np.asarray(value)
        if v.ndim != 1 or v.size == 0 or v.dtype.kind not in "iuf":
            raise TypeError(
                f"{name} must be a number or a 1-d array of numbers (one per row), got {value!r}"
            )
        v = v.astype(np.float64)
        if not np.all(np.isfinite(v)) or np.any(v < 0) or (not allow_zero and np.any(v == 0)):
            raise ValueError(f"{name} must hold finite numbers {bound}, got {value!r}")
        v.flags.writeable = False
        return v
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    f = float(value)
    if not math.isfinite(f) or f < 0 or (f == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return f


def _col(v: Any) -> Any:
    """A per-row option ``(S,)`` as a column ``(S, 1)`` against ``(S, d)`` arrays; a number
    as itself."""
    return v[:, None] if isinstance(v, np.ndarray) else v


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _lookahead_eta(lookahead: Any, step_size: Any, name: str = "lookahead") -> Any:
    """``eta``: the given look-ahead, or the constant step size (the published default)."""
    if lookahead is not None:
        return _positive(name, lookahead)
    step = as_schedule(step_size, "step_size")
    if not isinstance(step, Constant):
        raise ValueError(
            f"{name}=None takes the step size as the opponent's assumed step, which needs a "
            f"constant step size; got {step!r}: give {name}"
        )
    return float(step.value)


# ---------------------------------------------------------------------------------- options
@dataclasses.dataclass(frozen=True)
class CoupledOptions:
    """The options every coupled learner shares (the catalog's
    :class:`~agents.catalog.CoupledSettings` is their command-line form, unset = default).

    Every numeric option of a method (``lookahead``, ``a``, ``b``, ``lam``, ``eps``,
    ``gamma``, the extrapolations, ``cg_tol``; not ``cg_iters``) may be a number or a 1-d
    array with one value per row of the batch, so one batch runs a grid of them.

    Attributes:
        role: ``"leader"`` (strategy ``x``) or ``"follower"`` (strategy ``y``).
        step_size: ``alpha_t``, a schedule of the stage index or a number (a per-row array or
            :class:`~agents.schedules.PerRow` gives each row its own).
        init: the initial strategy (uniform over the box when None), ``(d,)`` or ``(S, d)``.
    """

    role: str
    step_size: Any
    init: Any = None
    _cache: dict = cache_field()

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be 'leader' or 'follower', got {self.role!r}")
        object.__setattr__(self, "step_size", as_schedule(self.step_size, "step_size"))


@dataclasses.dataclass(frozen=True)
class LookAheadOptions(CoupledOptions):
    """LookAhead's options.

    Attributes:
        lookahead: ``eta`` (> 0); None: the (constant) step size, as the published code does.
    """

    lookahead: Any = None

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "lookahead", _lookahead_eta(self.lookahead, self.step_size))


@dataclasses.dataclass(frozen=True)
class LOLALearnerOptions(LookAheadOptions):
    """LOLA's options (either player).

    Attributes:
        correction: keep LookAhead's term (default True); False is the original rule.
    """

    correction: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "correction", _flag("correction", self.correction))


@dataclasses.dataclass(frozen=True)
class SOSOptions(LookAheadOptions):
    """SOS's options (Letcher et al. 2019).

    Attributes:
        a: in ``(0, 1)``, default 0.5. b: > 0, default 0.1 (the published values).
    """

    a: float = 0.5
    b: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        a = _positive("a", self.a)
        if np.any(np.asarray(a) >= 1):
            raise ValueError(f"a must lie in (0, 1), got {self.a!r}")
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", _positive("b", self.b))


@dataclasses.dataclass(frozen=True)
class SymplecticOptions(CoupledOptions):
    """Symplectic gradient adjustment's options (Balduzzi et al. 2018).

    Attributes:
        lam: ``lambda``'s size (> 0, default 1).
        align: choose its sign per joint point (default True).
        eps: the alignment's offset (>= 0, default 0.1).
    """

    lam: float = 1.0
    align: bool = True
    eps: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "align", _flag("align", self.align))
        object.__setattr__(self, "lam", _positive("lam", self.lam))
        object.__setattr__(self, "eps", _positive("eps", self.eps, allow_zero=True))


@dataclasses.dataclass(frozen=True)
class ConsensusOptions(CoupledOptions):
    """Consensus optimization's options (Mescheder et al. 2017).

    Attributes:
        gamma: > 0, default 1 (the published notebook's).
    """

    gamma: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "gamma", _positive("gamma", self.gamma))


@dataclasses.dataclass(frozen=True)
class ExtragradientOptions(CoupledOptions):
    """Extragradient's options (Korpelevich 1976).

    Attributes:
        extrapolation: own extrapolation step (> 0); None: the (constant) step size.
        other_extrapolation: the step assumed for the other player; None: the same.
    """

    extrapolation: Any = None
    other_extrapolation: Any = None

    def __post_init__(self) -> None:
        super().__post_init__()
        own = _lookahead_eta(self.extrapolation, self.step_size, "extrapolation")
        other = self.other_extrapolation
        other = own if other is None else _positive("other_extrapolation", other)
        object.__setattr__(self, "extrapolation", own)
        object.__setattr__(self, "other_extrapolation", other)


@dataclasses.dataclass(frozen=True)
class HierarchicalCGOptions(CoupledOptions):
    """The matrix-free hierarchical gradient's options (``role`` is ``"leader"``).

    Attributes:
        cg_iters: conjugate-gradient iterations per stage at most (>= 1, default 50).
        cg_tol: the relative residual at which it stops (> 0, default 1e-6).
        damping: ``lambda >= 0`` added to the follower's negated Hessian in the solve, Fiez
            et al.'s regularisation (default 0: the undamped update;
            :func:`agents.rules.coupled.hierarchical_cg`).
    """

    cg_iters: int = 50
    cg_tol: float = 1e-6
    damping: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.role != "leader":
            raise ValueError(f"the hierarchical CG learner is a leader, got role {self.role!r}")
        it = self.cg_iters
        if isinstance(it, bool) or not isinstance(it, (int, np.integer)):
            raise TypeError(f"cg_iters must be a positive integer, got {it!r}")
        if it < 1:
            raise ValueError(f"cg_iters must be a positive integer, got {it!r}")
        object.__setattr__(self, "cg_iters", int(it))
        object.__setattr__(self, "cg_tol", _positive("cg_tol", self.cg_tol))
        object.__setattr__(self, "damping", _positive("damping", self.damping, allow_zero=True))


# ---------------------------------------------------------------------------------- rules
Directions = Callable[[Any, Game, Any, Any], tuple[Any, Any]]


class CoupledRules(StepwiseRules):
    """The rule set of one player of a coupled method: a projected step along its half of
    the method's joint direction ``directions(options, game, x, y) -> (dx, dy)`` at the joint
    action just played (its own strategy and the observed one).

    State: ``z`` ``(S, d)`` strategies, ``t`` stages observed, ``read_check`` ``(S, d)``
    (:data:`~agents.rules.protocol.READ_CHECK`: the unprojected step, so every direction read
    from the game, folded). Draws: the uniform initial strategy only.

    Args:
        directions: both players' directions of the method, ``((S, d1), (S, d2))``.
    """

    capabilities = Capabilities(
        reward_free=True,
        needs_game=True,
        coupled=True,
        draws=("x0",),
        reads=("derivative",),
    )

    def __init__(self, directions: Directions) -> None:
        self.directions = directions

    key, init_draw = "z", "x0"

    def init(self, options: Any, spec: Spec, num_rows: int, draws: dict) -> dict:
        for f in dataclasses.fields(options):
            v = getattr(options, f.name)
            if f.name != "init" and isinstance(v, np.ndarray) and v.shape != (num_rows,):
                raise ValueError(
                    f"the per-row option {f.name} has {v.shape[0]} values for a batch of "
                    f"{num_rows} rows"
                )
        return super().init(options, spec, num_rows, draws)

    @staticmethod
    def joint(options: Any, z: Any, obs: Any) -> tuple[Any, Any]:
        """The joint action ``(x, y)``: own strategies ``z`` and the observed ``obs``."""
        return (z, obs) if options.role == "leader" else (obs, z)

    def direction(self, options: Any, spec: Spec, state: dict, obs: Any) -> tuple[Any, dict]:
        """Own half of the method's direction at ``(z, obs)``, and the state entries it
        changes besides the step (none here)."""
        dx, dy = self.directions(options, spec.game, *self.joint(options, state["z"], obs))
        return (dx if options.role == "leader" else dy), {}

    def observe(
        self, options: Any, spec: Spec, state: dict, reward: Any, obs: Any, draws: dict
    ) -> dict:
        t = state["t"]
        alpha = schedule_at(options, "step_size", t)
        d, extra = self.direction(options, spec, state, obs)
        z, check = checked_ascent_step(state["z"], alpha, d, spec.low, spec.high, state[READ_CHECK])
        return {**state, **extra, "z": z, "t": t + 1, READ_CHECK: check}


class HierarchicalCGRules(CoupledRules):
    """The hierarchical CG leader's rule set: :class:`CoupledRules` with the conjugate
    gradient's warm start ``w`` ``(S, d2)`` (zeros at ``init``) in the state, the previous
    stage's solution (:func:`agents.rules.coupled.hierarchical_cg`)."""

    # The conjugate gradient iterates every row until the last converges: a row's direction
    # depends on the other rows of its batch.
    capabilities = dataclasses.replace(CoupledRules.capabilities, rows_independent=False)

    def __init__(self) -> None:
        super().__init__(_no_joint_directions)

    def init(self, options: Any, spec: Spec, num_rows: int, draws: dict) -> dict:
        state = super().init(options, spec, num_rows, draws)
        return {**state, "w": np.zeros((num_rows, spec.game.d2))}

    def direction(self, options: Any, spec: Spec, state: dict, obs: Any) -> tuple[Any, dict]:
        d, w = rules.hierarchical_cg(
            spec.game,
            state["z"],
            obs,
            state["w"],
            options.cg_iters,
            _col(options.cg_tol),
            _col(options.damping),
        )
        return d, {"w": w}


def _no_joint_directions(options: Any, game: Game, x: Any, y: Any) -> tuple[Any, Any]:
    raise TypeError(
        "the hierarchical CG leader has no joint directions: its direction needs its warm "
        "start (HierarchicalCGRules.direction)"
    )


def _lookahead(options: Any, game: Game, x: Any, y: Any) -> tuple[Any, Any]:
    return rules.lookahead(game, x, y, _col(options.lookahead))


def _lola(options: Any, game: Game, x: Any, y: Any) -> tuple[Any, Any]:
    return rules.lola(game, x, y, _col(options.lookahead), correction=options.correction)


def _sos(options: Any, game: Game, x: Any, y: Any) -> tuple[Any, Any]:
    o = options
    return rules.sos(game, x, y, _col(o.lookahead), _col(o.a), _col(o.b))


def _symplectic(options: Any, game: Game, x: Any, y: Any) -> tuple[Any, Any]:
    o = options
    return rules.symplectic(game, x, y, _col(o.lam), align=o.align, eps=_col(o.eps))


def _consensus(options: Any, game: Game, x: Any, y: Any) -> tuple[Any, Any]:
    return rules.consensus(game, x, y, _col(options.gamma))


def _extragradient(options: Any, game: Game, x: Any, y: Any) -> tuple[Any, Any]:
    own, other = _col(options.extrapolation), _col(options.other_extrapolation)
    ex, ey = (own, other) if options.role == "leader" else (other, own)

    def project(xh: Any, yh: Any) -> tuple[Any, Any]:  # onto the boxes (Game.project_*)
        xp = namespace(xh, yh)
        return (
            xp.clip(xh, game.leader_low, game.leader_high),
            xp.clip(yh, game.follower_low, game.follower_high),
        )

    return rules.extragradient(game, x, y, ex, ey, project)


LOOKAHEAD_RULES = CoupledRules(_lookahead)
LOLA_LEARNER_RULES = CoupledRules(_lola)
SOS_RULES = CoupledRules(_sos)
SYMPLECTIC_RULES = CoupledRules(_symplectic)
CONSENSUS_RULES = CoupledRules(_consensus)
EXTRAGRADIENT_RULES = CoupledRules(_extragradient)
HIERARCHICAL_CG_RULES = HierarchicalCGRules()


# ---------------------------------------------------------------------------------- faces
class CoupledLearner(RuleAgent):
    """One player of a coupled method: the face of a :class:`CoupledRules` rule set (the
    template for the learners here; a subclass names its ``rules`` and ``options_type``).

    Args:
        game: the game (both payoffs' derivatives and ``payoff_hvp``).
        role: ``"leader"`` (strategy ``x``) or ``"follower"`` (strategy ``y``).
        step_size: ``alpha_t``, a schedule of the stage index or a number.
        seed: seed for the initial strategy.
        num_envs: ``None`` or the batch size ``S``.
        init: initial strategy (uniform over the box when None), ``(d,)`` or ``(S, d)``.
        **options: the method's further options (fields of its ``options_type``).
    """

    coupled = True
    options_type = CoupledOptions
    settable = ("step_size",)

    def __init__(
        self,
        game: Game,
        role: str,
        step_size: Any,
        *,
        seed: SeedLike = None,
        num_envs: int | None = None,
        init: ArrayLike | None = None,
        **options: Any,
    ) -> None:
        game = _check_game(game)
        if self.rules is None:
            raise TypeError(
                f"{type(self).__name__} names no rule set: build one of the learners of "
                "agents.coupled (LookAheadLearner, LOLALearner, ...)"
            )
        opts = self.options_type(role, step_size, init=init, **options)
        low, high, other = (
            (game.leader_low, game.leader_high, game.d2)
            if opts.role == "leader"
            else (game.follower_low, game.follower_high, game.d1)
        )
        super().__init__(low, high, num_envs=num_envs, seed=seed, obs_dim=other)
        self._setup(opts, game)

    def joint(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The joint action ``(x, y)`` of this stage: own strategy and the observed one."""
        return self.rules.joint(self.options, self.state["z"], obs)

    def directions(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both players' directions of the method at ``(x, y)`` (its rule set's)."""
        return self.rules.directions(self.options, self.game, x, y)


class LookAheadLearner(CoupledLearner):
    """LookAhead (Zhang & Lesser 2010; LA in Letcher et al. 2019). **Coupled.**

    Ascends its payoff after the other player's naive step of size ``eta`` to first order,
    treating that step as fixed: ``dx = grad_x f1 + eta f1_xy grad_y f2``. See
    :func:`agents.rules.coupled.lookahead`.

    Args:
        lookahead: ``eta`` (> 0); None (default): the step size, as the published code does.
        **kwargs: :class:`CoupledLearner`'s.
    """

    rules = LOOKAHEAD_RULES
    options_type = LookAheadOptions

    def __init__(
        self, game: Game, role: str, step_size: Any, *, lookahead: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(game, role, step_size, lookahead=lookahead, **kwargs)


class LOLALearner(CoupledLearner):
    """LOLA (Foerster et al. 2018) for either player. **Coupled.**

    LookAhead plus the shaping term (how one's own move changes the other's step):
    ``dx = grad_x f1 + eta (f1_xy grad_y f2 + f2_xy grad_y f1)``; ``correction=False`` keeps
    the shaping term only (the original LOLA rule). See :func:`agents.rules.coupled.lola`
    and, for the leader in the published Hi-C code's form, :class:`agents.LOLALeader`.

    Args:
        lookahead: ``eta`` (> 0); None (default): the step size, as the published code does.
        correction: keep LookAhead's term (default True).
        **kwargs: :class:`CoupledLearner`'s.
    """

    rules = LOLA_LEARNER_RULES
    options_type = LOLALearnerOptions

    def __init__(
        self,
        game: Game,
        role: str,
        step_size: Any,
        *,
        lookahead: Any = None,
        correction: bool = True,
        **kw: Any,
    ) -> None:
        super().__init__(game, role, step_size, lookahead=lookahead, correction=correction, **kw)


class SOSLearner(CoupledLearner):
    """Stable Opponent Shaping (Letcher et al. 2019) for either player. **Coupled.**

    LookAhead plus ``p`` times LOLA's shaping term, ``p`` chosen per joint point so that the
    shaping never opposes LookAhead by more than ``a`` of its size and vanishes near fixed
    points (``|g| < b``). ``p`` needs both players' terms: this learner computes them from
    the game at the observed action. See :func:`agents.rules.coupled.sos`.

    Args:
        lookahead: ``eta`` (> 0); None (default): the step size, as the published code does.
        a: in ``(0, 1)``, default 0.5. b: > 0, default 0.1 (the published values).
        **kwargs: :class:`CoupledLearner`'s.
    """

    rules = SOS_RULES
    options_type = SOSOptions

    def __init__(
        self,
        game: Game,
        role: str,
        step_size: Any,
        *,
        lookahead: Any = None,
        a: float = 0.5,
        b: float = 0.1,
        **kw: Any,
    ) -> None:
        super().__init__(game, role, step_size, lookahead=lookahead, a=a, b=b, **kw)


class SymplecticLearner(CoupledLearner):
    """Symplectic gradient adjustment (Balduzzi et al. 2018) for either player. **Coupled.**

    ``d = g - lambda A^T g`` with ``A`` the antisymmetric part of the game's Jacobian; with
    ``align`` (default) the sign of ``lambda`` is chosen per joint point as in their
    Algorithm 1 (``eps`` 0.1). Not the project's ``sga`` leader (simultaneous gradient
    ascent). See :func:`agents.rules.coupled.symplectic`.

    Args:
        lam: ``lambda``'s size (> 0, default 1).
        align: choose its sign (default True).
        eps: the alignment's offset (>= 0, default 0.1).
        **kwargs: :class:`CoupledLearner`'s.
    """

    rules = SYMPLECTIC_RULES
    options_type = SymplecticOptions

    def __init__(
        self,
        game: Game,
        role: str,
        step_size: Any,
        *,
        lam: float = 1.0,
        align: bool = True,
        eps: float = 0.1,
        **kw: Any,
    ) -> None:
        super().__init__(game, role, step_size, lam=lam, align=align, eps=eps, **kw)


class ConsensusLearner(CoupledLearner):
    """Consensus optimization (Mescheder et al. 2017) for either player. **Coupled.**

    ``d = g - gamma J^T g``: the ascent field less ``gamma`` times the gradient of
    ``|g|^2 / 2`` (which needs the other player's gradient). See
    :func:`agents.rules.coupled.consensus`.

    Args:
        gamma: > 0, default 1 (the published notebook's).
        **kwargs: :class:`CoupledLearner`'s.
    """

    rules = CONSENSUS_RULES
    options_type = ConsensusOptions

    def __init__(
        self, game: Game, role: str, step_size: Any, *, gamma: float = 1.0, **kw: Any
    ) -> None:
        super().__init__(game, role, step_size, gamma=gamma, **kw)


class ExtragradientLearner(CoupledLearner):
    """Extragradient (Korpelevich 1976) for either player. **Coupled.**

    Extrapolates both players by a naive step (own ``extrapolation``, the other's
    ``other_extrapolation``, each projected onto its box), then steps from its own strategy
    along its gradient there. Two such learners with equal steps are the joint method. See
    :func:`agents.rules.coupled.extragradient`.

    Args:
        extrapolation: own extrapolation step (> 0); None: the (constant) step size.
        other_extrapolation: the step assumed for the other player; None: the same.
        **kwargs: :class:`CoupledLearner`'s.
    """

    rules = EXTRAGRADIENT_RULES
    options_type = ExtragradientOptions

    def __init__(
        self,
        game: Game,
        role: str,
        step_size: Any,
        *,
        extrapolation: Any = None,
        other_extrapolation: Any = None,
        **kw: Any,
    ) -> None:
        super().__init__(
            game,
            role,
            step_size,
            extrapolation=extrapolation,
            other_extrapolation=other_extrapolation,
            **kw,
        )


class HierarchicalCGLeader(CoupledLearner):
    """The hierarchical gradient leader (Fiez et al. 2020, Eq. 8) matrix-free. **Coupled.**

    ``D = grad_x f1 - f2_xy (f2_yy)^{-1} grad_y f1`` with the solve done by conjugate
    gradient on Hessian-vector products (``payoff_hvp``), warm-started from the previous
    stage's solution (kept in the state as ``w``), as Fiez et al. and Stackelberg
    actor-critic do; :class:`agents.HierarchicalGradientLeader` is the dense form. At most
    ``cg_iters`` iterations per stage, stopping at relative residual ``cg_tol``. Interior
    formula (no held coordinates at the follower's bounds). See
    :func:`agents.rules.coupled.hierarchical_cg` and :class:`HierarchicalCGRules`.

    Args:
        cg_iters: >= 1 (default 50). cg_tol: > 0 (default 1e-6: the direction to about
            1e-6 relative, far below what a step of the leader resolves).
        damping: ``lambda >= 0`` (default 0): solve with ``f2_yy - lambda I`` (Fiez et al.'s
            regularisation; well posed where the follower's payoff is not concave once
            ``lambda`` exceeds ``f2_yy``'s largest eigenvalue).
        **kwargs: :class:`CoupledLearner`'s (``role`` is ``"leader"``).
    """

    rules = HIERARCHICAL_CG_RULES
    options_type = HierarchicalCGOptions

    def __init__(
        self,
        game: Game,
        step_size: Any,
        *,
        cg_iters: int = 50,
        cg_tol: float = 1e-6,
        damping: float = 0.0,
        **kw: Any,
    ) -> None:
        super().__init__(
            game, "leader", step_size, cg_iters=cg_iters, cg_tol=cg_tol, damping=damping, **kw
        )
