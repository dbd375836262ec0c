"""A generic JAX stage loop over any two rule sets (issue 18, Phase B: a first step).

:func:`run_rules` plays ``stages`` stages of a leader and a follower whose learning is a rule
set (:mod:`agents.rules.protocol`), from their current states, as one ``lax.fori_loop``: at
every stage both rule sets ``act``, the actions are projected onto the boxes, the game's
``payoffs`` are evaluated (with payoff noise if asked), and each rule set ``prepare``\\ s and
``observe``\\ s, with the draws it asks for made for every row from a key (a rule set reads a
draw only where it asked for it). Observations at the start of each ``max_cycles``-stage
episode are the box centres, as in the NumPy engine. It asks the rule sets' capabilities
(``pure``) and the game's (``array_api``), never their types, and re-implements no learning
rule: it calls the rule sets' own functions.

It is not yet :func:`~agents.compose.engines.runner.make_runner`'s ``backend="jax"`` (which runs the
specialised Hi-C interval loop of :mod:`agents.compose.engines.jax_engine`): it runs every stage in
full (no interval loop, no fast-forward) and keeps no records; it runs the pairs whose rule
sets trace under ``jax.jit``: today SGA against the gradient and stochastic-gradient
followers, and Hi-C with constant schedules (with or without a baseline); the catalog's
power-law schedule tables, adaptive commitment (a state array that starts empty), the
best-response follower and the leaders that read the game's other derivatives do not trace
yet, and are refused with the error that stopped them.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from agents.compose.engines.jax_small_dots import small_dots

__all__ = ["check_rules", "run_rules"]


def _draws(key: Any, requests: tuple, S: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, r in enumerate(requests):
        if r.rows is False or r.name in out:
            continue  # one array per name, drawn for every row
        k = jax.random.fold_in(key, i)
        shape = (S, *r.shape)
        if r.kind == "rademacher":
            v = jnp.where(jax.random.bernoulli(k, 0.5, shape), 1.0, -1.0)
        elif r.kind == "normal":
            v = r.loc + r.scale * jax.random.normal(k, shape, jnp.float64)
        else:
            v = jax.random.uniform(k, shape, jnp.float64, r.low, r.high)
        out[r.name] = v.astype(jnp.float64)
    return out


def _like(new: dict, old: dict) -> dict:
    """``new`` with ``old``'s dtypes (a loop carry keeps its types; a rule set may return a
    Python number or a weakly typed value where its state held an array)."""
    return {k: jnp.asarray(v).astype(old[k].dtype) for k, v in new.items()}


def check_rules(game: Any, leader: Any, follower: Any) -> None:
    """Raise a ``ValueError`` naming what cannot run here, by declared capability."""
    if not game.array_api:
        raise ValueError(
            f"{type(game).__name__} declares array_api=False (NumPy payoffs); use backend='numpy'"
        )
    for role, agent in (("leader", leader), ("follower", follower)):
        caps = getattr(agent, "capabilities", None)
        if caps is None:
            raise ValueError(
                f"the {role} {type(agent).__name__} is not a rule set (it has no capabilities); "
                "use backend='numpy'"
            )
        if not caps.pure:
            raise ValueError(
                f"the {role} {type(agent).__name__}'s rule set declares pure=False; use "
                "backend='numpy'"
            )


def run_rules(
    game: Any,
    leader: Any,
    follower: Any,
    stages: int,
    *,
    seed: int = 0,
    t0: int = 0,
    noise_std: float = 0.0,
    max_cycles: int = 1000,
) -> tuple[dict, dict]:
    """Play ``stages`` stages from the faces' current states (they must have been reset);
    returns the final states ``(leader_state, follower_state)`` as dicts of NumPy arrays.

    Args:
        game, leader, follower: the game and two rule-set faces (:class:`agents.face.RuleAgent`)
            built with the same ``num_envs``.
        stages: stages to play.
        seed: keys the draws and the payoff noise.
        t0: the stage count at the start (episode boundaries fall where ``t % max_cycles``
            is 0).
        noise_std, max_cycles: as for the NumPy engine.

    Raises:
        ValueError: for a game or rule set that declares it cannot be traced, or one that
            fails to trace although it declares it can (the error's type and first line).
    """
    check_rules(game, leader, follower)
    L, F = leader.rules, follower.rules
    Lo, Fo, Ls, Fs = leader.options, follower.options, leader.spec, follower.spec
    S = leader.num_envs
    xl, xh = (np.asarray(a, np.float64) for a in (game.leader_low, game.leader_high))
    yl, yh = (np.asarray(a, np.float64) for a in (game.follower_low, game.follower_high))
    centre_x, centre_y = 0.5 * (xl + xh), 0.5 * (yl + yh)
    payoffs = small_dots(game.payoffs)

    def stage(t, carry):
        sl, sf, obs_l, obs_f, key = carry
        start = (t % max_cycles) == 0
        obs_l = jnp.where(start, jnp.broadcast_to(centre_y, obs_l.shape), obs_l)
        obs_f = jnp.where(start, jnp.broadcast_to(centre_x, obs_f.shape), obs_f)
        x = jnp.clip(L.act(Lo, Ls, sl, obs_l), xl, xh)
        y = jnp.clip(F.act(Fo, Fs, sf, obs_f), yl, yh)
        r1, r2 = payoffs(x, y)
        k = jax.random.fold_in(key, t)
        if noise_std > 0.0:
            w = jax.random.normal(jax.random.fold_in(k, 0), (2, S), jnp.float64)
            r1, r2 = r1 + noise_std * w[0], r2 + noise_std * w[1]
        sl, req = L.prepare(Lo, Ls, sl, r1, y)
        sl = L.observe(Lo, Ls, sl, r1, y, _draws(jax.random.fold_in(k, 1), req, S))
        sf, req = F.prepare(Fo, Fs, sf, r2, x)
        sf = F.observe(Fo, Fs, sf, r2, x, _draws(jax.random.fold_in(k, 2), req, S))
        return _like(sl, carry[0]), _like(sf, carry[1]), y, x, key

    def program(sl, sf, key):
        obs_l = jnp.zeros((S, game.d2))
        obs_f = jnp.zeros((S, game.d1))
        carry = (sl, sf, obs_l, obs_f, key)
        # A rule set's NumPy state may hold a scalar where its traced stage returns one per row
        # (a flag every row agrees on, in NumPy): the carry takes the stage's own types.
        out = jax.eval_shape(stage, t0, carry)
        sl, sf = (
            {
                k: jnp.broadcast_to(jnp.asarray(v), o[k].shape).astype(o[k].dtype)
                for k, v in st.items()
            }
            for st, o in ((sl, out[0]), (sf, out[1]))
        )
        carry = (sl, sf, obs_l, obs_f, key)
        sl, sf, *_ = jax.lax.fori_loop(t0, t0 + stages, stage, carry)
        return sl, sf

    with jax.enable_x64(True):
        put = lambda st: {k: jnp.asarray(v) for k, v in st.items()}  # noqa: E731
        try:
            sl, sf = jax.jit(program)(put(leader.state), put(follower.state), jax.random.key(seed))
        except (jax.errors.JAXTypeError, TypeError) as err:
            raise ValueError(
                f"{type(leader).__name__} x {type(follower).__name__}: a rule set declares "
                f"pure=True but does not trace under jax.jit ({type(err).__name__}: "
                f"{str(err).splitlines()[0][:160]}); use backend='numpy'"
            ) from None
        return (
            {k: np.asarray(v) for k, v in sl.items()},
            {k: np.asarray(v) for k, v in sf.items()},
        )
