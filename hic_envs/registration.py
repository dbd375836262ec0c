"""Environment factories and the registration table.

Library games are registered by ``import hic_envs`` under ``hic/<Name>-v0`` in PettingZoo's
parallel and AEC registries. Users add their own with :func:`register_game`.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium
import numpy as np
import pettingzoo
from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from hic_envs.env import GameEnv, _snake
from hic_envs.games.base import Game
from hic_envs.suggest import did_you_mean

__all__ = [
    "DEFAULT_MAX_EPISODE_STEPS",
    "ENV_KWARGS",
    "LIBRARY_GAMES",
    "LIBRARY_WITHOUT_VIEWS",
    "alias_module",
    "build_game",
    "game_from_id",
    "list_envs",
    "make_env_fns",
    "register_game",
    "view_ids",
]

#: Episode length of the registered Gymnasium views (gymnasium's ``TimeLimit``), like
#: ``GameEnv``'s default.
DEFAULT_MAX_EPISODE_STEPS = 1000

#: Entry points of the Gymnasium views, by string (as Gymnasium's own table names its envs):
#: the views embed a learning partner from ``agents``, a layer above this package, imported
#: only when a view is made.
VIEW_ENTRY_POINTS = {
    "Follower": "agents.compose.views.single:follower_view",
    "Leader": "agents.compose.views.single:leader_view",
}
#: Their native vector envs (``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")``).
VECTOR_ENTRY_POINTS = {
    "Follower": "agents.compose.views.vector:follower_vector_view",
    "Leader": "agents.compose.views.vector:leader_vector_view",
}

#: The library's registration table: environment ID -> ``"module:GameClass"``.
LIBRARY_GAMES: dict[str, str] = {
    "hic/Duopoly-v0": "hic_envs.games.duopoly:Duopoly",
    "hic/Quadratic-v0": "hic_envs.games.quadratic:QuadraticGame",
    "hic/ZeroSum-v0": "hic_envs.games.zero_sum:ZeroSumNoNash",
    "hic/Cooperative-v0": "hic_envs.games.cooperative:CooperativeGame",
    "hic/DiracGAN-v0": "hic_envs.games.dirac_gan:DiracGAN",
    "hic/Security-v0": "hic_envs.games.security:SecurityGame",
    "hic/RandomQuadratic-v0": "hic_envs.games.random_quadratic:RandomQuadraticGame",
    "hic/Nonlinear-v0": "hic_envs.games.nonlinear:NonlinearGame",
    "hic/Tandem-v0": "hic_envs.games.tandem:TandemGame",
    "hic/Hamiltonian-v0": "hic_envs.games.hamiltonian:HamiltonianGame",
    "hic/PrisonersDilemma-v0": "hic_envs.games.matrix:PrisonersDilemma",
    "hic/MatchingPennies-v0": "hic_envs.games.matrix:MatchingPennies",
    "hic/Coordination-v0": "hic_envs.games.matrix:Coordination",
    "hic/StagHunt-v0": "hic_envs.games.matrix:StagHunt",
    "hic/Chicken-v0": "hic_envs.games.matrix:Chicken",
    "hic/BattleOfSexes-v0": "hic_envs.games.matrix:BattleOfSexes",
    "hic/Bimatrix-v0": "hic_envs.games.bimatrix:Bimatrix",
    "hic/IteratedPrisonersDilemma-v0": "hic_envs.games.ipd:IteratedPrisonersDilemma",
    "hic/CovarianceGAN-v0": "hic_envs.games.covariance_gan:CovarianceGAN",
    "hic/MogGAN-v0": "hic_envs.games.mog_gan:MogGAN",
}

_ID_RE = re.compile(r"^(?:[\w.-]+/)?[A-Za-z][\w.]*-v\d+$")
_registered: list[str] = []


def build_game(
    game_factory: Callable[..., Game], game_kwargs: dict[str, Any], kept: Sequence[str] = ()
) -> Game:
    """``game_factory(**game_kwargs)``, checked to be a :class:`Game`.

    A keyword the factory does not take (one without ``**kwargs``) is refused naming the
    factory's keywords, those the caller keeps for itself (``kept``: the env's, a view's) and
    the nearest of them, rather than with Python's "unexpected keyword argument".
    """
    try:
        params = inspect.signature(game_factory).parameters.values()
    except (TypeError, ValueError):  # a callable without a signature: let it check its own
        params = None
    if params is not None and not any(p.kind is p.VAR_KEYWORD for p in params):
        names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        unknown = [k for k in game_kwargs if k not in names]
        if unknown:
            raise TypeError(
                f"{getattr(game_factory, '__name__', game_factory)} takes no argument(s) "
                f"{unknown}{did_you_mean(unknown[0], [*names, *kept])}"
                + f"; its arguments are {names}"
                + (f", besides {sorted(kept)} for the env" if kept else "")
            )  # fmt: skip
    game = game_factory(**game_kwargs)
    if not isinstance(game, Game):
        raise TypeError(
            f"game factory {game_factory!r} returned {type(game).__name__}, expected a "
            "hic_envs.games.Game"
        )
    return game


def _parallel_env(
    game_factory: Callable[..., Game],
    max_cycles: int = 1000,
    noise_std: float = 0.0,
    render_mode: str | None = None,
    **game_kwargs: Any,
) -> GameEnv:
    return GameEnv(
        build_game(game_factory, game_kwargs, ENV_KWARGS),
        max_cycles=max_cycles,
        noise_std=noise_std,
        render_mode=render_mode,
    )


#: The keyword arguments that the env factories keep for the env (the rest go to the game):
#: ``_parallel_env``'s own.
ENV_KWARGS = tuple(inspect.signature(_parallel_env).parameters)[1:-1]


def _raw_env(game_factory: Callable[..., Game], **kwargs: Any):
    return parallel_to_aec_wrapper(_parallel_env(game_factory, **kwargs))


def _env(game_factory: Callable[..., Game], **kwargs: Any):
    return OrderEnforcingWrapper(_raw_env(game_factory, **kwargs))


def make_env_fns(game_factory: Callable[..., Game]) -> tuple[Callable, Callable, Callable]:
    """The ``(env, parallel_env, raw_env)`` factories of a game, as PettingZoo modules expose.

    Each takes ``max_cycles``, ``noise_std`` and ``render_mode`` for the env; every other
    keyword argument goes to ``game_factory``. ``env`` is the AEC face with order enforcement,
    ``raw_env`` the unwrapped AEC face, ``parallel_env`` the :class:`GameEnv`.
    """
    return (
        functools.partial(_env, game_factory),
        functools.partial(_parallel_env, game_factory),
        functools.partial(_raw_env, game_factory),
    )


def register_game(
    env_id: str,
    game_factory: Callable[..., Game],
    *,
    max_cycles: int | None = None,
    views: bool = True,
) -> None:
    """Register a game under ``env_id`` in PettingZoo's parallel and AEC registries, and its
    Gymnasium single-agent views ``<Name>-Follower-vN`` and ``<Name>-Leader-vN``
    (:class:`agents.compose.views.single.FollowerView` / ``LeaderView``, by string entry point).

    Args:
        env_id: ``"namespace/Name-vN"``, e.g. ``"mylab/Bargain-v0"``.
        game_factory: a callable returning a :class:`~hic_envs.games.Game` (a class, or a
            function building a :class:`~hic_envs.games.CustomGame`); keyword arguments given to
            ``pettingzoo.make`` that are not env arguments reach it.
        max_cycles: default episode length for this ID (the env's default when None).
        views: also register the Gymnasium views (False for a game whose views have no
            default partner, such as Bimatrix: they are made with an explicit one,
            ``agents.compose.views.follower_view(game_factory=..., leader=...)``).

    Raises:
        ValueError: if ``env_id`` is not of the form ``[namespace/]Name-vN``, or
            ``max_cycles`` is not None or a positive integer.
        TypeError: if ``game_factory`` is not callable.
    """
    if not isinstance(env_id, str) or not _ID_RE.match(env_id):
        raise ValueError(f"env_id must look like 'namespace/Name-v0', got {env_id!r}")
    if not callable(game_factory):
        raise TypeError(
            f"game_factory must be callable (a Game class, or a function returning a Game such "
            f"as `lambda: game`), got {type(game_factory).__name__}"
        )
    if max_cycles is not None and (
        isinstance(max_cycles, bool)
        or not isinstance(max_cycles, (int, np.integer))
        or max_cycles < 1
    ):
        raise ValueError(f"max_cycles must be None or a positive integer, got {max_cycles!r}")
    env_fn, parallel_fn, _ = make_env_fns(game_factory)
    # The spec's default is explicit, so pettingzoo.make always passes an episode length,
    # except for max_cycles=-1 (PettingZoo's "pass none"), which the entry point then refuses
    # instead of silently giving 1000-stage episodes.
    default = max_cycles or DEFAULT_MAX_EPISODE_STEPS
    for env_type, fn in (("parallel", parallel_fn), ("aec", env_fn)):
        entry = functools.partial(_registry_entry, fn)
        pettingzoo.register(env_type, env_id, entry_point=entry, max_cycles=default)
    if not views:
        return _remember(env_id)
    for role, view_id in zip(("Follower", "Leader"), view_ids(env_id), strict=True):
        gymnasium.register(
            view_id,
            entry_point=VIEW_ENTRY_POINTS[role],
            vector_entry_point=VECTOR_ENTRY_POINTS[role],
            max_episode_steps=max_cycles or DEFAULT_MAX_EPISODE_STEPS,
            kwargs={"game_factory": game_factory},
        )
    _remember(env_id)


def _remember(env_id: str) -> None:
    if env_id not in _registered:
        _registered.append(env_id)


def _registry_entry(fn: Callable, **kwargs: Any):
    """A registry entry point: ``fn(**kwargs)``, refusing a make without an episode length."""
    if "max_cycles" not in kwargs:
        raise ValueError(
            "max_cycles=-1 is not an episode length: the game's episodes need a positive "
            "number of stages (e.g. max_cycles=1000); there is no unlimited episode"
        )
    return fn(**kwargs)


_VERSION_RE = re.compile(r"^(?P<head>.+?)-(?P<version>v\d+)$")


def view_ids(env_id: str) -> tuple[str, str]:
    """The ``(follower, leader)`` Gymnasium view IDs of a game ID: ``ns/Name-v0`` gives
    ``ns/Name-Follower-v0`` and ``ns/Name-Leader-v0``."""
    m = _VERSION_RE.match(env_id) if isinstance(env_id, str) else None
    if m is None:
        raise ValueError(f"env_id must look like 'namespace/Name-v0', got {env_id!r}")
    head, version = m["head"], m["version"]
    return f"{head}-Follower-{version}", f"{head}-Leader-{version}"


def alias_module(env_id: str) -> str:
    """The thin alias module of a library game's ID.

    The module is named after the ID's CamelCase name in snake case plus the version, as
    PettingZoo names its modules: ``"hic/Duopoly-v0"`` -> ``"hic_envs.duopoly_v0"``,
    ``"hic/DiracGAN-v0"`` -> ``"hic_envs.dirac_gan_v0"``. Every ID in :data:`LIBRARY_GAMES` has
    one, exposing ``env``, ``parallel_env`` and ``raw_env``.

    Raises:
        ValueError: if ``env_id`` is not a library game's ID.
    """
    if env_id not in LIBRARY_GAMES:
        raise ValueError(
            f"{env_id!r} is not a library game's ID; library IDs are {list(LIBRARY_GAMES)}"
        )
    name, _, version = env_id.split("/", 1)[-1].rpartition("-v")
    return f"hic_envs.{_snake(name)}_v{version}"


def game_from_id(env_id: str, game_kwargs: dict[str, Any] | None = None) -> Game:
    """The :class:`~hic_envs.games.Game` behind a registered environment ID.

    Raises:
        ValueError: for an unknown ID (listing the known ones) or bad game arguments.
    """
    known = list_envs()
    if env_id not in known:
        raise ValueError(
            f"unknown environment ID {env_id!r}"
            + did_you_mean(str(env_id), known)
            + f"; known IDs: {', '.join(known)} (a game of your own must be registered first: "
            "hic_envs.register_game, or hic --import MODULE)"
        )
    # The env's own keywords would build an env with them and return its game without them.
    kept = sorted(set(game_kwargs or {}) & set(ENV_KWARGS))
    if kept:
        raise ValueError(
            f"bad game arguments {game_kwargs!r} for {env_id}: {kept} are the env's, not the "
            "game's, and game_from_id returns the game alone (they are options of the run: "
            "hic run --noise-std / --max-cycles, noise_std / max_cycles in a sweep file)"
        )
    try:
        env = pettingzoo.make("parallel", env_id, **(game_kwargs or {}))
    except (TypeError, ValueError) as err:
        raise ValueError(f"bad game arguments {game_kwargs!r} for {env_id}: {err}") from err
    return env.unwrapped.game if hasattr(env, "unwrapped") else env.game


def list_envs() -> list[str]:
    """The IDs registered through hic_envs (library games first, then users' games)."""
    return list(_registered)


#: Library games whose Gymnasium views are not registered: no default partner can be made
#: (the presets refuse Bimatrix, whose follower breaks Assumption 4.8 in the logits, and
#: MogGAN, whose neural discriminator breaks it), so ``gymnasium.make`` of their view IDs
#: would fail with the defaults.
LIBRARY_WITHOUT_VIEWS = frozenset({"hic/Bimatrix-v0", "hic/MogGAN-v0"})


def _register_library() -> None:
    for env_id, target in LIBRARY_GAMES.items():
        module, _, attr = target.partition(":")
        game_cls = getattr(__import__(module, fromlist=[attr]), attr)
        register_game(env_id, game_cls, views=env_id not in LIBRARY_WITHOUT_VIEWS)
