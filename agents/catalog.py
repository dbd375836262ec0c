"""The learners by name: one table that the CLI, sweeps, plots and the benchmark read.

Each row (:class:`LearnerSpec`) says how to build a learner from a game and its options, how
to show it in figures and tables, and which options it takes: a frozen dataclass with a
docstring under each field (:class:`HiCSettings`, ...): what a user sets, ``None`` meaning the
game's preset (the learner's own hyperparameters, such as :class:`agents.hic.HiCOptions`, are
what the factory builds from them). That class is the one declaration of a learner's options:
``hic run`` makes its flags from it, sweep files its keys, ``hic list`` its listing, and
:func:`agents.specs.build_options` checks and converts the values (text from a command line,
YAML values or Python values) to its field types.

A new learner is its module plus one row (:func:`register_leader` /
:func:`register_follower`, which users' modules may call too: a module named by
``hic ... --import MODULE`` that registers a learner makes it, and its options, available to
every command and sweep file).

Factories are called as ``factory(game, num_envs, options, partner)``: ``options`` is a dict
of the options that are set (typed values, as the options class holds them), ``partner`` the
already-built other player (a leader's factory sees the follower, e.g. to fit Corollary
4.11's commitment to a gradient follower's step), or ``None``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

from agents import presets, schedules
from agents.base import BatchAgent
from agents.baselines import HierarchicalGradientLeader, OracleSPSALeader, SGALeader
from agents.coupled import (
    ConsensusLearner,
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
from agents.rules import DIRECTIONS
from agents.specs import (
    SCHEDULE_HELP,
    CommitmentValue,
    ScheduleValue,
    build_options,
    option_fields,
    resolve_commitment,
)
from hic_envs.games.base import Game
from hic_envs.suggest import did_you_mean

__all__ = [
    "FOLLOWERS",
    "ConsensusSettings",
    "CoupledSettings",
    "ExtragradientSettings",
    "FollowerSettings",
    "HierarchicalCGSettings",
    "LolaFollowerSettings",
    "LookAheadSettings",
    "SOSSettings",
    "SymplecticSettings",
    "GradientLeaderSettings",
    "HiCSettings",
    "LolaSettings",
    "NoSettings",
    "OracleSettings",
    "StochasticFollowerSettings",
    "LEADERS",
    "LearnerSpec",
    "display_name",
    "learner_spec",
    "make_follower",
    "make_leader",
    "register_follower",
    "register_leader",
]

Factory = Callable[[Game, "int | None", dict[str, Any], Any], BatchAgent]


# ---------------------------------------------------------------------------------- presets
#: ``fill(game, partner, options)``: a field's preset; ``options`` are the learner's options
#: filled so far (the set ones, and the presets of the fields declared before this one).
Preset = Callable[[Game, Any, dict[str, Any]], Any]
#: ``fit(value, game, partner, options)``: a set value fitted to the game when it is built.
Fit = Callable[[Any, Game, Any, dict[str, Any]], Any]


def preset(fill: Preset, fit: Fit | None = None) -> Any:
    """A settings field whose unset value (None) is the game's preset: ``fill(game, partner,
    options)`` when the learner is built (:func:`fill_presets`; None: still unset). ``fit``:
    how a value the user set is fitted to the game, the partner and the options filled before
    it (a Corollary 4.11 commitment names quantities of all three). The field's default stays
    None, so the options a configuration records (and its hash) name only what a user set."""
    meta: dict[str, Any] = {"preset": fill}
    if fit is not None:
        meta["fit"] = fit
    return dataclasses.field(default=None, metadata=meta)


def fill_presets(settings: type, options: dict[str, Any], game: Game, partner: Any) -> dict:
    """``options`` (typed values of the settings class ``settings``) with every unset field that
    declares a :func:`preset` filled from it, and every set one that declares a ``fit`` fitted,
    in field order: the one place presets are filled in, which every factory of the catalog
    calls with its settings class (a user's factory may too)."""
    out = dict(options)
    for f in dataclasses.fields(settings):
        fill = f.metadata.get("preset")
        if fill is None:
            continue
        if out.get(f.name) is None:
            value = fill(game, partner, out)
            if value is not None:
                out[f.name] = value
        elif "fit" in f.metadata:
            out[f.name] = f.metadata["fit"](out[f.name], game, partner, out)
    return out


def _leader_step(game: Game, partner: Any, options: dict[str, Any]) -> Any:
    return presets.gradient_leader_step(game)


def _follower_step(game: Game, partner: Any, options: dict[str, Any]) -> Any:
    return presets.follower_step_size(game)


def _lola_partner_step(game: Game, partner: Any, options: dict[str, Any]) -> Any:
    """A LOLA pair shares its step: the LOLA follower's constant step (else unset: the LOLA
    leader's own rule)."""
    step = getattr(partner, "step_size", None)
    if isinstance(partner, LOLALearner) and isinstance(step, schedules.Constant):
        return step.value
    return None


def _follower_beta(partner: Any) -> float | None:
    """The follower's constant step ``beta`` (Corollary 4.11), or None."""
    step = getattr(partner, "step_size", None)
    return step.value if isinstance(step, schedules.Constant) else None


def _spsa_preset(key: str) -> Preset:
    """One value of the game's Hi-C preset (:func:`agents.presets.hic_leader_kwargs`). The
    commitment (Eq. 28) is fitted to the perturbation the leader uses (the preset's or the one
    set) and to the follower's constant step when it has one. The other values depend on
    neither, so a follower's step that no preset commitment suits is refused only when the
    commitment is the preset's (not for the oracle's commitment of 1, nor for a commitment the
    user sets)."""
    with_commitment = key == "commitment"

    def fill(game: Game, partner: Any, options: dict[str, Any]) -> Any:
        beta = _follower_beta(partner) if with_commitment else None
        # Eq. (28) fits k_n to delta_n: to the perturbation the leader uses (filled before).
        fit_to = options.get("perturbation") if with_commitment else None
        try:
            return presets.hic_leader_kwargs(
                game, beta=beta, commitment=with_commitment, perturbation=fit_to
            )[key]
        except ValueError as err:
            if not with_commitment or beta is None:
                raise
            raise ValueError(
                f"the preset commitment fits Corollary 4.11 to the follower's step {beta}: "
                f"{err}; set the commitment (e.g. commitment=20, --commitment 20) or give "
                "the follower a smaller step"
            ) from None

    return fill


def _spsa_baseline(game: Game, partner: Any, options: dict[str, Any]) -> Any:
    """The preset baseline, none with ``no_baseline`` or ``two_sided`` (the payoff level
    cancels in a two-sided estimate)."""
    if options.get("no_baseline") or options.get("two_sided"):
        return None
    return _spsa_preset("baseline")(game, partner, options)


def _fit_commitment(value: Any, game: Game, partner: Any, options: dict[str, Any]) -> Any:
    """A Corollary 4.11 commitment fitted to the game, the perturbation and the follower's
    constant step (:func:`agents.specs.resolve_commitment`); any other as it is."""
    return resolve_commitment(value, game, options["perturbation"], _follower_beta(partner))


# ---------------------------------------------------------------------------------- options
@dataclasses.dataclass(frozen=True)
class NoSettings:
    """A learner without options."""


@dataclasses.dataclass(frozen=True)
class HiCSettings:
    """Hi-C's options (and the oracle SPSA leader's, :class:`OracleSettings`); unset ones come
    from the game's presets."""

    step_size: ScheduleValue | None = preset(_spsa_preset("step_size"))
    """alpha_n (also the gradient baselines' step): """ + SCHEDULE_HELP
    perturbation: ScheduleValue | None = preset(_spsa_preset("perturbation"))
    """delta_n: """ + SCHEDULE_HELP
    commitment: CommitmentValue | None = preset(_spsa_preset("commitment"), _fit_commitment)
    """k_n: an integer, 'power:...'/'log:...' (rounded up), 'corollary:p=P[,beta=..,mu=..,B=..]' for Corollary 4.11, or 'adaptive:tol=T,min_length=M,max_length=N'."""  # noqa: E501
    baseline: float | None = preset(_spsa_baseline)
    """Subtract a moving-average baseline with weight LAM in [0, 1)."""
    no_baseline: bool = False
    """Turn off a default baseline."""
    two_sided: bool = False
    """Antithetic two-interval estimate (no baseline: the payoff level cancels)."""
    average_last: int | None = None
    """Average the payoff over the last M stages of each interval."""
    momentum: float | None = None
    """Step along the moving average (weight BETA in [0, 1)) of the gradient estimates."""
    directions: str | None = None
    """Perturbation distribution: 'rademacher' (Algorithm 1, the default), 'gaussian' or 'sphere'."""  # noqa: E501

    def __post_init__(self) -> None:
        if self.baseline is not None and self.no_baseline:
            raise ValueError("baseline and no_baseline exclude each other; pass one")
        if self.baseline is not None and self.two_sided:
            raise ValueError(
                f"baseline={self.baseline} has no effect with two_sided (the payoff level cancels "
                "in s+ - s-); pass one"
            )
        if self.average_last is not None and self.average_last < 1:
            raise ValueError(f"average_last must be a positive integer, got {self.average_last}")
        if self.momentum is not None and not (0.0 <= self.momentum < 1.0):
            raise ValueError(f"momentum must be a weight in [0, 1), got {self.momentum}")
        if self.directions is not None and self.directions not in DIRECTIONS:
            raise ValueError(f"directions must be one of {DIRECTIONS}, got {self.directions!r}")


@dataclasses.dataclass(frozen=True)
class OracleSettings(HiCSettings):
    """The oracle SPSA leader's options: Hi-C's, with one measurement per stage unless set."""

    commitment: CommitmentValue | None = preset(lambda game, partner, options: 1, _fit_commitment)
    """k_n (default 1, one measurement per stage: the oracle's does not wait for the follower, Eq. 10): an integer, 'power:...'/'log:...' (rounded up), 'corollary:p=P[,beta=..,mu=..,B=..]' for Corollary 4.11, or 'adaptive:tol=T,min_length=M,max_length=N'."""  # noqa: E501


@dataclasses.dataclass(frozen=True)
class GradientLeaderSettings:
    """The gradient baselines' options."""

    step_size: ScheduleValue | None = preset(_leader_step)
    """alpha_n (default: 0.1 / the largest curvature of f1(x, r(x))): """ + SCHEDULE_HELP


@dataclasses.dataclass(frozen=True)
class LolaSettings:
    """LOLA's options."""

    step_size: ScheduleValue | None = preset(_lola_partner_step)
    """alpha_n (default: a LOLA partner's constant step or the gradient rule): """ + SCHEDULE_HELP
    lookahead: float | None = None
    """LOLA's look-ahead step on the follower's gradient (default 1.0)."""
    correction: bool | None = None
    """Keep LOLA's correction term (default on)."""
    noise_std: float | None = None
    """Gaussian noise on LOLA's gradient (default 0)."""


@dataclasses.dataclass(frozen=True)
class CoupledSettings:
    """A coupled method's step (the options every coupled learner shares)."""

    step_size: ScheduleValue | None = None
    (
        """The step (default: the partner's when it runs the same method with a constant step, so
    the pair is the joint algorithm; else the gradient leader's rule or the follower preset):
    """
        + SCHEDULE_HELP
    )


@dataclasses.dataclass(frozen=True)
class LookAheadSettings(CoupledSettings):
    """LookAhead's options."""

    lookahead: float | None = None
    """The look-ahead step on the other player's gradient (default: the step size)."""


@dataclasses.dataclass(frozen=True)
class SOSSettings(LookAheadSettings):
    """SOS's options (Letcher et al. 2019)."""

    a: float | None = None
    """SOS's a in (0, 1) (default 0.5)."""
    b: float | None = None
    """SOS's b > 0 (default 0.1)."""


@dataclasses.dataclass(frozen=True)
class LolaFollowerSettings(LookAheadSettings):
    """LOLA's options for the follower."""

    lookahead: float | None = preset(lambda game, partner, options: 1.0)
    """The look-ahead step on the other player's gradient (default: the step size; LOLA's 1.0, as the LOLA leader's)."""  # noqa: E501

    correction: bool | None = None
    """Keep LOLA's shaping term (default on)."""


@dataclasses.dataclass(frozen=True)
class SymplecticSettings(CoupledSettings):
    """Symplectic gradient adjustment's options (Balduzzi et al. 2018)."""

    lam: float | None = None
    """The adjustment's weight lambda > 0 (default 1)."""
    align: bool | None = None
    """Choose the sign of lambda by alignment (default on)."""
    eps: float | None = None
    """The alignment's threshold epsilon >= 0 (default 0.1)."""


@dataclasses.dataclass(frozen=True)
class ConsensusSettings(CoupledSettings):
    """Consensus optimization's options (Mescheder et al. 2017)."""

    gamma: float | None = None
    """The weight of the consensus term gamma > 0 (default 1)."""


@dataclasses.dataclass(frozen=True)
class ExtragradientSettings(CoupledSettings):
    """Extragradient's options (Korpelevich 1976)."""

    extrapolation: float | None = None
    """The extrapolation step (default: the step size)."""
    other_extrapolation: float | None = None
    """The step assumed for the other player's extrapolation (default: this player's)."""


@dataclasses.dataclass(frozen=True)
class HierarchicalCGSettings(CoupledSettings):
    """The matrix-free hierarchical gradient's options."""

    cg_iters: int | None = None
    """Conjugate-gradient iterations per update at most (default 50)."""
    cg_tol: float | None = None
    """The conjugate gradient's relative residual tolerance (default 1e-6)."""
    damping: float | None = None
    """Levenberg/Tikhonov damping lambda >= 0 of the follower's Hessian: solve with
    ``grad_yy f2 - lambda I`` (Fiez et al.'s regularisation, for followers whose payoff is not
    concave; default 0, undamped)."""


@dataclasses.dataclass(frozen=True)
class FollowerSettings:
    """A gradient follower's options."""

    step_size: ScheduleValue | None = preset(_follower_step)
    """beta (default: the game's preset): """ + SCHEDULE_HELP


@dataclasses.dataclass(frozen=True)
class StochasticFollowerSettings(FollowerSettings):
    """The stochastic-gradient follower's options."""

    noise: float | None = preset(lambda game, partner, options: 1.0)
    """Gradient-noise scale of the stochastic follower (default 1)."""


@dataclasses.dataclass(frozen=True)
class LearnerSpec:
    """One learner of the catalog.

    Attributes:
        name: the name commands use (``"hic"``).
        role: ``"leader"`` or ``"follower"``.
        display: the name figures and tables show (``"Hi-C"``).
        factory: ``(game, num_envs, options, partner) -> agent`` (see the module docstring).
        options: the options class: a frozen dataclass, every field with a default and a
            docstring (``hic run`` flags, sweep keys and ``hic list`` are made from it). A tuple
            of names is accepted too (untyped options, passed on as given).
        summary: one line for ``--help`` and ``hic list``.
        coupled: whether it reads the other player's payoff (a coupled baseline).
    """

    name: str
    role: str
    display: str
    factory: Factory
    options: Any = NoSettings
    summary: str = ""
    coupled: bool = False

    def __post_init__(self) -> None:
        if self.role not in ("leader", "follower"):
            raise ValueError(f"role must be 'leader' or 'follower', got {self.role!r}")
        if not (isinstance(self.name, str) and self.name and " " not in self.name):
            raise ValueError(f"name must be a non-empty word, got {self.name!r}")
        if not callable(self.factory):
            raise TypeError(f"factory must be callable, got {type(self.factory).__name__}")
        if isinstance(self.options, (tuple, list)):
            fields = [(str(k), Any, None) for k in self.options]
            cls = dataclasses.make_dataclass(f"{self.name}_options", fields, frozen=True)
            object.__setattr__(self, "options", cls)
        if not (isinstance(self.options, type) and dataclasses.is_dataclass(self.options)):
            raise TypeError(f"options must be a dataclass, got {self.options!r}")

    def check_options(self, options: dict[str, Any], where: str = "options") -> dict[str, Any]:
        """The options that are set, as typed values of :attr:`options` (checked).

        Raises:
            ValueError: for options this learner does not take, or bad values, naming them.
        """
        opts = {k: v for k, v in options.items() if v is not None}
        names = [f.name for f in dataclasses.fields(self.options)]
        unknown = sorted(set(opts) - set(names))
        if unknown:
            raise ValueError(
                f"option(s) {unknown}{did_you_mean(unknown[0], names)} do not apply to "
                f"{self.role} {self.name!r} (it takes {names or 'none'})"
            )
        inst = build_options(self.options, opts, where)
        # The canonical form: the options that differ from their defaults.
        defaults = {k: d for k, (_, d) in option_fields(self.options).items()}
        return {k: getattr(inst, k) for k in opts if _differs(getattr(inst, k), defaults[k])}

    def build(
        self, game: Game, num_envs: int | None, options: dict[str, Any], partner: Any = None
    ) -> BatchAgent:
        """Build the learner, refusing options it does not take.

        Raises:
            ValueError: for unknown options or bad option values, naming them.
        """
        opts = self.check_options(options)
        try:
            return self.factory(game, num_envs, opts, partner)
        except (TypeError, ValueError) as err:
            raise ValueError(f"bad {self.name} options: {err}") from None


def _differs(value: Any, default: Any) -> bool:
    if value is None:
        return False
    try:
        return bool(value != default)
    except (TypeError, ValueError):  # an array, say
        return True


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


def learner_spec(role: str, name: str) -> LearnerSpec:
    """The registered ``role`` (``"leader"`` or ``"follower"``) called ``name``.

    Raises:
        ValueError: for an unknown name, naming the registered ones and the nearest.
    """
    table = {"leader": LEADERS, "follower": FOLLOWERS}.get(role)
    if table is None:
        raise ValueError(f"role must be 'leader' or 'follower', got {role!r}")
    if name in table:
        return table[name]
    raise ValueError(
        f"unknown {role} {name!r}{did_you_mean(str(name), table)}; expected one of {sorted(table)}"
    )


def make_leader(
    name: str, game: Game, num_envs: int | None, options: dict[str, Any], partner: Any = None
) -> BatchAgent:
    """Build the leader ``name`` of :data:`LEADERS` (``partner``: the follower, if built).

    Raises:
        ValueError: for an unknown name or bad options.
    """
    return learner_spec("leader", name).build(game, num_envs, options, partner)


def make_follower(
    name: str, game: Game, num_envs: int | None, options: dict[str, Any], partner: Any = None
) -> BatchAgent:
    """Build the follower ``name`` of :data:`FOLLOWERS`.

    Raises:
        ValueError: for an unknown name or bad options.
    """
    return learner_spec("follower", name).build(game, num_envs, options, partner)


def display_name(name: str) -> str:
    """The display name of a leader or follower (the name itself if not in the catalog)."""
    spec = LEADERS.get(name) or FOLLOWERS.get(name)
    return spec.display if spec is not None else name


# ---------------------------------------------------------------------------------- rows
def _construct(cls: Callable[..., Any], settings: type, **rename: str | None) -> Factory:
    """The factory ``cls(game, num_envs=num_envs, **options)`` of a learner whose settings
    class ``settings`` declares its presets (:func:`fill_presets`); ``rename``: a settings field
    that the constructor names otherwise (``noise="noise_std"``), or None for a field that
    only steers presets and is no constructor argument (``no_baseline=None``)."""

    def build(game: Game, num_envs: int | None, opts: dict[str, Any], partner: Any):
        kw = fill_presets(settings, opts, game, partner)
        names = {k: rename.get(k, k) for k in kw}
        return cls(game, num_envs=num_envs, **{names[k]: v for k, v in kw.items() if names[k]})

    return build


def _no_check(cls: type) -> Callable[..., Any]:
    """An SPSA leader's class built without ``check_spsa_schedules`` (no warnings about
    Assumption 4.4: a user's constant step, say, is run as given)."""
    return functools.partial(cls, check_assumptions=False)


def _lola(game: Game, num_envs: int | None, opts: dict[str, Any], partner: Any):
    return lola_leader(game, num_envs, fill_presets(LolaSettings, opts, game, partner))


def _best_response(game: Game, num_envs: int | None, opts: dict[str, Any], partner: Any):
    return BestResponseFollower(game, num_envs=num_envs)


def _coupled(cls: type, role: str, settings: type) -> Factory:
    """The factory of a coupled learner for ``role``. Unset step size: the partner's when it
    is a coupled learner of the same method with a constant step (so that two of them run the
    joint algorithm), else the gradient baselines' leader step or the follower preset."""

    def build(game: Game, num_envs: int | None, opts: dict[str, Any], partner: Any):
        kw = fill_presets(settings, opts, game, partner)
        step = kw.pop("step_size", None)
        shared = getattr(partner, "step_size", None)
        if step is None and type(partner) is cls and isinstance(shared, schedules.Constant):
            step = shared.value
        if step is None:
            step = (_leader_step if role == "leader" else _follower_step)(game, partner, kw)
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
        LookAheadSettings,
        "LookAhead (Zhang & Lesser 2010; Letcher et al. 2019's LA), coupled",
    ),
    (
        "sos",
        SOSLearner,
        "SOS",
        SOSSettings,
        "stable opponent shaping (Letcher et al. 2019), coupled",
    ),
    (
        "symplectic",
        SymplecticLearner,
        "symplectic gradient adjustment",
        SymplecticSettings,
        "symplectic gradient adjustment (Balduzzi et al. 2018; not 'sga'), coupled",
    ),
    (
        "consensus",
        ConsensusLearner,
        "consensus optimization",
        ConsensusSettings,
        "consensus optimization (Mescheder et al. 2017), coupled",
    ),
    (
        "extragradient",
        ExtragradientLearner,
        "extragradient",
        ExtragradientSettings,
        "extragradient (Korpelevich 1976), coupled",
    ),
)


for _row in (
    LearnerSpec(
        "hic",
        "leader",
        "Hi-C",
        _construct(_no_check(HiCLeader), HiCSettings, no_baseline=None),
        HiCSettings,
        "Hi-C (Algorithm 1), uncoupled; unset schedules from the game's presets",
    ),
    LearnerSpec(
        "sga",
        "leader",
        "SGA",
        _construct(SGALeader, GradientLeaderSettings),
        GradientLeaderSettings,
        "simultaneous gradient ascent (Eq. 1), uncoupled: finds the Nash equilibrium",
    ),
    LearnerSpec(
        "hierarchical",
        "leader",
        "hierarchical gradient",
        _construct(HierarchicalGradientLeader, GradientLeaderSettings),
        GradientLeaderSettings,
        "the hierarchical gradient (Eq. 8), coupled: reads the follower's Hessians",
        coupled=True,
    ),
    LearnerSpec(
        "lola",
        "leader",
        "LOLA",
        _lola,
        LolaSettings,
        "LOLA (Foerster et al. 2018), coupled: first-order look-ahead on the follower's step",
        coupled=True,
    ),
    LearnerSpec(
        "oracle-spsa",
        "leader",
        "oracle SPSA",
        _construct(_no_check(OracleSPSALeader), OracleSettings, no_baseline=None),
        OracleSettings,
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
                _coupled(_cls, _role, _opts),
                _opts,
                _summary,
                coupled=True,
            )
        )
register_follower(
    LearnerSpec(
        "lola",
        "follower",
        "LOLA",
        _coupled(LOLALearner, "follower", LolaFollowerSettings),
        LolaFollowerSettings,
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
        _coupled(HierarchicalCGLeader, "leader", HierarchicalCGSettings),
        HierarchicalCGSettings,
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
        _construct(GradientAscentFollower, FollowerSettings),
        FollowerSettings,
        "projected gradient ascent on f2 (Eq. 21)",
    ),
    LearnerSpec(
        "stochastic",
        "follower",
        "stochastic-gradient follower",
        _construct(StochasticGradientFollower, StochasticFollowerSettings, noise="noise_std"),
        StochasticFollowerSettings,
        "gradient ascent with Gaussian gradient noise (Eq. 9)",
    ),
    LearnerSpec(
        "best-response",
        "follower",
        "best-response follower",
        _best_response,
        NoSettings,
        "an oracle playing r(x) of the last leader action it saw",
    ),
):
    register_follower(_row)
del _row, _name, _cls, _display, _opts, _summary, _role, _register
