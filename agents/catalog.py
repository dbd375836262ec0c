"""The learners by name: one table that the CLI, sweeps, plots and the benchmark read.

Each row (:class:`LearnerSpec`) says how to build a learner from a game and textual options
(what ``hic run --leader NAME --step-size ...`` and sweep files give), how to show it in
figures and tables, and which options it takes. A new learner is its module plus one row
(:func:`register_leader` / :func:`register_follower`, which users' modules may call too: a
module named by ``hic ... --import MODULE`` that registers a learner makes it available to
every command).

Factories are called as ``factory(game, num_envs, options, partner)``: ``options`` is a dict
of the learner's own options (values as parsed from text or given in Python), ``partner`` the
already-built other player (a leader's factory sees the follower, e.g. to fit Corollary
4.11's commitment to a gradient follower's step), or ``None``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from agents import presets, schedules
from agents.base import BatchAgent
from agents.baselines import HierarchicalGradientLeader, OracleSPSALeader, SGALeader
from agents.coupled import (
    ConsensusLearner,
    CoupledLearner,
    ExtragradientLearner,
    HierarchicalCGLeader,
    LOLALearner,
    LookAheadLearner,
    SOSLearner,
    SymplecticLearner,
)
from agents.followers import (
    BestResponseFollower,
    GradientAscentFollower,
    StochasticGradientFollower,
)
from agents.hic import HiCLeader
from agents.lola import lola_leader
from agents.specs import parse_commitment, parse_schedule
from hic_envs.games.base import Game

__all__ = [
    "FOLLOWERS",
    "LEADERS",
    "LearnerSpec",
    "display_name",
    "make_follower",
    "make_leader",
    "register_follower",
    "register_leader",
]

Factory = Callable[[Game, "int | None", dict[str, Any], Any], BatchAgent]


@dataclasses.dataclass(frozen=True)
class LearnerSpec:
    """One learner of the catalog.

    Attributes:
        name: the name commands use (``"hic"``).
        role: ``"leader"`` or ``"follower"``.
        display: the name figures and tables show (``"Hi-C"``).
        factory: ``(game, num_envs, options, partner) -> agent`` (see the module docstring).
        options: the option keys the factory accepts (others are refused with a message).
        summary: one line for ``--help`` and ``hic list``.
        coupled: whether it reads the other player's payoff (a coupled baseline).
    """

    name: str
    role: str
    display: str
    factory: Factory
    options: tuple[str, ...] = ()
    summary: str = ""
    coupled: bool = False

    def __post_init__(self) -> None:
        if self.role not in ("leader", "follower"):
            raise ValueError(f"role must be 'leader' or 'follower', got {self.role!r}")
        if not (isinstance(self.name, str) and self.name and " " not in self.name):
            raise ValueError(f"name must be a non-empty word, got {self.name!r}")
        if not callable(self.factory):
            raise TypeError(f"factory must be callable, got {type(self.factory).__name__}")

    def build(
        self, game: Game, num_envs: int | None, options: dict[str, Any], partner: Any = None
    ) -> BatchAgent:
        """Build the learner, refusing options it does not take.

        Raises:
            ValueError: for unknown options or bad option values, naming them.
        """
        opts = {k: v for k, v in options.items() if v is not None}
        unknown = sorted(set(opts) - set(self.options))
        if unknown:
            raise ValueError(
                f"option(s) {unknown} do not apply to {self.role} {self.name!r} (it takes "
                f"{list(self.options) or 'none'})"
            )
        try:
            return self.factory(game, num_envs, opts, partner)
        except (TypeError, ValueError) as err:
            raise ValueError(f"bad {self.name} options: {err}") from None


LEADERS: dict[str, LearnerSpec] = {}
FOLLOWERS: dict[str, LearnerSpec] = {}


def register_leader(spec: LearnerSpec) -> None:
    """Add (or replace) a leader row."""
    if spec.role != "leader":
        raise ValueError(f"{spec.name!r} is a {spec.role}, not a leader")
    LEADERS[spec.name] = spec


def register_follower(spec: LearnerSpec) -> None:
    """Add (or replace) a follower row."""
    if spec.role != "follower":
        raise ValueError(f"{spec.name!r} is a {spec.role}, not a follower")
    FOLLOWERS[spec.name] = spec


def _spec(table: dict[str, LearnerSpec], role: str, name: str) -> LearnerSpec:
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"unknown {role} {name!r}; expected one of {sorted(table)}") from None


def make_leader(
    name: str, game: Game, num_envs: int | None, options: dict[str, Any], partner: Any = None
) -> BatchAgent:
    """Build the leader ``name`` of :data:`LEADERS` (``partner``: the follower, if built).

    Raises:
        ValueError: for an unknown name or bad options.
    """
    return _spec(LEADERS, "leader", name).build(game, num_envs, options, partner)


def make_follower(
    name: str, game: Game, num_envs: int | None, options: dict[str, Any], partner: Any = None
) -> BatchAgent:
    """Build the follower ``name`` of :data:`FOLLOWERS`.

    Raises:
        ValueError: for an unknown name or bad options.
    """
    return _spec(FOLLOWERS, "follower", name).build(game, num_envs, options, partner)


def display_name(name: str) -> str:
    """The display name of a leader or follower (the name itself if not in the catalog)."""
    spec = LEADERS.get(name) or FOLLOWERS.get(name)
    return spec.display if spec is not None else name


# ---------------------------------------------------------------------------------- rows
def _follower_beta(partner: Any) -> float | None:
    step = getattr(partner, "step_size", None)
    return step.value if isinstance(step, schedules.Constant) else None


def _spsa_kwargs(game: Game, opts: dict[str, Any], partner: Any, oracle: bool) -> dict[str, Any]:
    follower_step = opts.pop("follower_step", None)
    if follower_step is None:
        follower_step = _follower_beta(partner)
    beta = follower_step if isinstance(follower_step, float) else None
    kw = dict(presets.hic_leader_kwargs(game, beta=beta))
    if oracle:
        kw["commitment"] = 1  # the oracle needs no commitment (Eq. 10)
        kw.pop("average_last", None)
    if "step_size" in opts:
        kw["step_size"] = parse_schedule(opts.pop("step_size"), "--step-size")
    if "perturbation" in opts:
        kw["perturbation"] = parse_schedule(opts.pop("perturbation"), "--perturbation")
    if "commitment" in opts:
        kw["commitment"] = parse_commitment(
            opts.pop("commitment"), game, kw["perturbation"], follower_step
        )
    if opts.pop("no_baseline", False):
        kw.pop("baseline", None)
    for key in ("baseline", "average_last", "two_sided"):
        if key in opts:
            kw[key] = opts.pop(key)
    if kw.get("two_sided"):
        kw.pop("baseline", None)  # the payoff level cancels in a two-sided estimate
    return kw


def _hic(game: Game, num_envs: int | None, opts: dict[str, Any], partner: Any) -> HiCLeader:
    kw = _spsa_kwargs(game, dict(opts), partner, oracle=False)
    return HiCLeader(game, num_envs=num_envs, check_assumptions=False, **kw)


def _oracle(game: Game, num_envs: int | None, opts: dict[str, Any], partner: Any):
    kw = _spsa_kwargs(game, dict(opts), partner, oracle=True)
    return OracleSPSALeader(game, num_envs=num_envs, check_assumptions=False, **kw)


def _gradient_leader(cls: type) -> Factory:
    def build(game: Game, num_envs: int | None, opts: dict[str, Any], partner: Any):
        if "step_size" in opts:
            step = parse_schedule(opts["step_size"], "--step-size")
        else:
            step = presets.gradient_leader_step(game)
        return cls(game, num_envs=num_envs, step_size=step)

    return build


def _lola(game: Game, num_envs: int | None, opts: dict[str, Any], partner: Any):
    opts = dict(opts)
    if isinstance(opts.get("step_size"), str):
        opts["step_size"] = parse_schedule(opts["step_size"], "--step-size")
    if (
        "step_size" not in opts
        and isinstance(partner, LOLALearner)
        and isinstance(partner.step_size, schedules.Constant)
    ):
        opts["step_size"] = partner.step_size.value  # a LOLA pair shares its step
    return lola_leader(game, num_envs, opts)


def _follower_step(game: Game, opts: dict[str, Any]) -> Any:
    if "step_size" in opts:
        return parse_schedule(opts["step_size"], "--follower-step-size")
    return presets.follower_step_size(game)


def _gradient(game: Game, num_envs: int | None, opts: dict[str, Any], partner: Any):
    return GradientAscentFollower(game, _follower_step(game, opts), num_envs=num_envs)


def _stochastic(game: Game, num_envs: int | None, opts: dict[str, Any], partner: Any):
    noise = opts.get("noise")
    return StochasticGradientFollower(
        game,
        _follower_step(game, opts),
        noise_std=1.0 if noise is None else noise,
        num_envs=num_envs,
    )


def _best_response(game: Game, num_envs: int | None, opts: dict[str, Any], partner: Any):
    return BestResponseFollower(game, num_envs=num_envs)


def _option(value: Any) -> Any:
    """A textual option value as a number or a bool (Python values pass through)."""
    if not isinstance(value, str):
        return value
    low = value.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(low) if low.lstrip("+-").isdigit() else float(low)
    except ValueError:
        raise ValueError(f"expected a number or true/false, got {value!r}") from None


def _coupled(cls: type, role: str) -> Factory:
    """The factory of a coupled learner for ``role``. Unset step size: the partner's when it
    is a coupled learner of the same method with a constant step (so that two of them run the
    joint algorithm), else the gradient baselines' leader step or the follower preset."""

    def build(game: Game, num_envs: int | None, opts: dict[str, Any], partner: Any):
        kw = {k: _option(v) for k, v in opts.items() if k != "step_size"}
        if "step_size" in opts:
            step = parse_schedule(opts["step_size"], "--step-size")
        elif (
            isinstance(partner, CoupledLearner)
            and type(partner) is cls
            and isinstance(partner.step_size, schedules.Constant)
        ):
            step = partner.step_size.value
        elif role == "leader":
            step = presets.gradient_leader_step(game)
        else:
            step = presets.follower_step_size(game)
        if cls is LOLALearner:
            kw.setdefault("lookahead", 1.0)  # the "lola" leader's default (LOLALeader)
        if cls is HierarchicalCGLeader:
            return cls(game, step, num_envs=num_envs, **kw)
        return cls(game, role, step, num_envs=num_envs, **kw)

    return build


#: The coupled methods for either player: (catalog name, class, display, options, summary).
_COUPLED = (
    (
        "lookahead",
        LookAheadLearner,
        "LookAhead",
        ("lookahead",),
        "LookAhead (Zhang & Lesser 2010; Letcher et al. 2019's LA), coupled",
    ),
    (
        "sos",
        SOSLearner,
        "SOS",
        ("lookahead", "a", "b"),
        "stable opponent shaping (Letcher et al. 2019), coupled",
    ),
    (
        "symplectic",
        SymplecticLearner,
        "symplectic gradient adjustment",
        ("lam", "align", "eps"),
        "symplectic gradient adjustment (Balduzzi et al. 2018; not 'sga'), coupled",
    ),
    (
        "consensus",
        ConsensusLearner,
        "consensus optimization",
        ("gamma",),
        "consensus optimization (Mescheder et al. 2017), coupled",
    ),
    (
        "extragradient",
        ExtragradientLearner,
        "extragradient",
        ("extrapolation", "other_extrapolation"),
        "extragradient (Korpelevich 1976), coupled",
    ),
)


_SPSA_OPTIONS = (
    "step_size",
    "perturbation",
    "commitment",
    "baseline",
    "no_baseline",
    "average_last",
    "two_sided",
    "follower_step",
)

for _row in (
    LearnerSpec(
        "hic",
        "leader",
        "Hi-C",
        _hic,
        _SPSA_OPTIONS,
        "Hi-C (Algorithm 1), uncoupled; unset schedules from the game's presets",
    ),
    LearnerSpec(
        "sga",
        "leader",
        "SGA",
        _gradient_leader(SGALeader),
        ("step_size",),
        "simultaneous gradient ascent (Eq. 1), uncoupled: finds the Nash equilibrium",
    ),
    LearnerSpec(
        "hierarchical",
        "leader",
        "hierarchical gradient",
        _gradient_leader(HierarchicalGradientLeader),
        ("step_size",),
        "the hierarchical gradient (Eq. 8), coupled: reads the follower's Hessians",
        coupled=True,
    ),
    LearnerSpec(
        "lola",
        "leader",
        "LOLA",
        _lola,
        ("step_size", "lookahead", "correction", "noise_std"),
        "LOLA (Foerster et al. 2018), coupled: first-order look-ahead on the follower's step",
        coupled=True,
    ),
    LearnerSpec(
        "oracle-spsa",
        "leader",
        "oracle SPSA",
        _oracle,
        _SPSA_OPTIONS,
        "SPSA on f1(x, r(x)) (Eq. 10), a coupled oracle",
        coupled=True,
    ),
):
    register_leader(_row)

for _name, _cls, _display, _opts, _summary in _COUPLED:
    for _role, _register in (("leader", register_leader), ("follower", register_follower)):
        _register(
            LearnerSpec(
                _name,
                _role,
                _display,
                _coupled(_cls, _role),
                ("step_size", *_opts),
                _summary,
                coupled=True,
            )
        )
register_follower(
    LearnerSpec(
        "lola",
        "follower",
        "LOLA",
        _coupled(LOLALearner, "follower"),
        ("step_size", "lookahead", "correction"),
        "LOLA (Foerster et al. 2018) for the follower, coupled: first-order look-ahead on "
        "the leader's step plus shaping (lookahead default 1, as the leader's)",
        coupled=True,
    )
)
register_leader(
    LearnerSpec(
        "hierarchical-cg",
        "leader",
        "hierarchical gradient (CG)",
        _coupled(HierarchicalCGLeader, "leader"),
        ("step_size", "cg_iters", "cg_tol"),
        "the hierarchical gradient (Eq. 8) matrix-free: conjugate gradient on Hessian-vector "
        "products, coupled",
        coupled=True,
    )
)

for _row in (
    LearnerSpec(
        "gradient",
        "follower",
        "gradient-ascent follower",
        _gradient,
        ("step_size",),
        "projected gradient ascent on f2 (Eq. 21)",
    ),
    LearnerSpec(
        "stochastic",
        "follower",
        "stochastic-gradient follower",
        _stochastic,
        ("step_size", "noise"),
        "gradient ascent with Gaussian gradient noise (Eq. 9)",
    ),
    LearnerSpec(
        "best-response",
        "follower",
        "best-response follower",
        _best_response,
        (),
        "an oracle playing r(x) of the last leader action it saw",
    ),
):
    register_follower(_row)
del _row, _name, _cls, _display, _opts, _summary, _role, _register
