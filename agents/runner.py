"""Loops that make a leader and a follower play: :func:`play` through a PettingZoo env, and
:func:`run_batch`, the same loop on a batch of seeds without the env's per-stage bookkeeping.

Both derive their random streams the same way from one ``seed``, so a batch of one with seed
``s`` reproduces ``play(..., seed=s)`` exactly.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agents.base import Agent
from hic_envs.env import FOLLOWER, LEADER, GameEnv
from hic_envs.games.base import Game

__all__ = ["BatchHistory", "History", "derive_seeds", "play", "run_batch"]


def derive_seeds(seed: int | None) -> tuple[int, np.random.SeedSequence, np.random.SeedSequence]:
    """Split ``seed`` into the env's seed and the leader's and follower's seed sequences."""
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
    ):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    env_ss, leader_ss, follower_ss = np.random.SeedSequence(seed).spawn(3)
    return int(env_ss.generate_state(1, dtype=np.uint64)[0]), leader_ss, follower_ss


@dataclasses.dataclass
class History:
    """What happened in :func:`play`.

    Attributes:
        leader_actions: ``(N, d1)`` leader actions as played (after the env's projection).
        follower_actions: ``(N, d2)`` follower actions as played.
        leader_rewards, follower_rewards: ``(N,)`` observed (noisy) payoffs.
        update_stages: ``(U + 1,)`` stage at which each leader strategy ``x_n`` was made
            (``x_0`` at stage 0; ``x_n`` after ``update_stages[n]`` stages).
        leader_strategies: ``(U + 1, d1)`` the leader's mean strategies ``x_n``.
        follower_strategies: ``(U + 1, d2)`` the follower's strategy at those stages.
    """

    leader_actions: np.ndarray
    follower_actions: np.ndarray
    leader_rewards: np.ndarray
    follower_rewards: np.ndarray
    update_stages: np.ndarray
    leader_strategies: np.ndarray
    follower_strategies: np.ndarray

    @property
    def stages(self) -> int:
        """Number of stages played."""
        return self.leader_actions.shape[0]


def _check_pair(leader: Agent, follower: Agent, num_envs: int | None, d1: int, d2: int) -> None:
    for role, agent, d in (("leader", leader, d1), ("follower", follower, d2)):
        if not isinstance(agent, Agent):
            raise TypeError(f"{role} must be an agents.Agent, got {type(agent).__name__}")
        if agent.num_envs != num_envs:
            raise ValueError(
                f"{role} was built with num_envs={agent.num_envs}, expected {num_envs}"
            )
        if agent.dim != d:
            raise ValueError(f"{role} has dimension {agent.dim}, but the game's is {d}")


def _check_stages(stages) -> int:
    if isinstance(stages, float) and stages.is_integer():
        stages = int(stages)
    if isinstance(stages, bool) or not isinstance(stages, (int, np.integer)) or stages < 1:
        raise ValueError(f"stages must be a positive integer, got {stages!r}")
    return int(stages)


def play(
    env: GameEnv, leader: Agent, follower: Agent, stages: int, seed: int | None = None
) -> History:
    """Run the PettingZoo loop for ``stages`` stages and record what happened.

    The env is reset with a seed derived from ``seed`` and reset again (unseeded) whenever an
    episode is truncated; the agents carry on across episode boundaries. The agents are reset
    with their own seeds derived from ``seed``.

    Args:
        env: a :class:`~hic_envs.GameEnv` (the parallel env).
        leader, follower: single agents (``num_envs=None``).
        stages: number of stages to play.
        seed: the run's seed.
    """
    stages = _check_stages(stages)
    game = env.game
    _check_pair(leader, follower, None, game.d1, game.d2)
    env_seed, leader_ss, follower_ss = derive_seeds(seed)
    obs, _ = env.reset(seed=env_seed)
    leader.reset(seed=leader_ss)
    follower.reset(seed=follower_ss)

    xs = np.empty((stages, game.d1))
    ys = np.empty((stages, game.d2))
    r1 = np.empty(stages)
    r2 = np.empty(stages)
    upd_t, upd_x, upd_y = [0], [leader.strategy], [follower.strategy]
    for t in range(stages):
        if not env.agents:
            obs, _ = env.reset()
        actions = {LEADER: leader.act(obs[LEADER]), FOLLOWER: follower.act(obs[FOLLOWER])}
        obs, rewards, _, _, _ = env.step(actions)
        before = leader.updates
        leader.observe(rewards[LEADER], obs[LEADER])
        follower.observe(rewards[FOLLOWER], obs[FOLLOWER])
        xs[t] = obs[FOLLOWER]
        ys[t] = obs[LEADER]
        r1[t] = rewards[LEADER]
        r2[t] = rewards[FOLLOWER]
        if leader.updates != before:
            upd_t.append(t + 1)
            upd_x.append(leader.strategy)
            upd_y.append(follower.strategy)
    return History(xs, ys, r1, r2, np.array(upd_t), np.array(upd_x), np.array(upd_y))


@dataclasses.dataclass
class BatchHistory:
    """Per-update records of :func:`run_batch`, one row per (seed row, update).

    Attributes:
        row: ``(R,)`` batch row of each record.
        update: ``(R,)`` update index ``n`` (0 is the initial strategy).
        stage: ``(R,)`` stage at which ``x_n`` was made.
        leader_strategies: ``(R, d1)``; follower_strategies: ``(R, d2)``.
        final_leader: ``(S, d1)`` and final_follower ``(S, d2)`` strategies at the end.
    """

    row: np.ndarray
    update: np.ndarray
    stage: np.ndarray
    leader_strategies: np.ndarray
    follower_strategies: np.ndarray
    final_leader: np.ndarray
    final_follower: np.ndarray

    def for_row(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(stages, leader_strategies, follower_strategies)`` of batch row ``i``."""
        m = self.row == i
        return self.stage[m], self.leader_strategies[m], self.follower_strategies[m]


def run_batch(
    game: Game,
    leader: Agent,
    follower: Agent,
    stages: int,
    seed: int | None = None,
    *,
    noise_std: float = 0.0,
    max_cycles: int = 1000,
) -> BatchHistory:
    """Play ``S`` independent copies of (leader, follower) in lockstep on arrays.

    The agents must be built with the same ``num_envs=S``. Each stage is what
    :class:`~hic_envs.GameEnv` does for one seed, on a leading batch axis: project the
    actions onto the boxes, evaluate both payoffs through ``game``, add noise, and let each
    agent observe its reward and the other's action. Observations at the start of each
    ``max_cycles``-stage episode are the box centres, as after ``env.reset()``.

    With ``S = 1`` this reproduces :func:`play` on ``GameEnv(game, max_cycles, noise_std)``
    with the same seed, bit for bit.
    """
    stages = _check_stages(stages)
    S = leader.num_envs
    if S is None:
        raise ValueError("run_batch needs agents built with num_envs=S; use play() for one")
    _check_pair(leader, follower, S, game.d1, game.d2)
    if not (np.isfinite(noise_std) and noise_std >= 0):
        raise ValueError(f"noise_std must be a finite number >= 0, got {noise_std!r}")
    env_seed, leader_ss, follower_ss = derive_seeds(seed)
    noise_rng = np.random.default_rng(env_seed)
    leader.reset(seed=leader_ss)
    follower.reset(seed=follower_ss)

    x_centre = np.broadcast_to(0.5 * (game.leader_low + game.leader_high), (S, game.d1))
    y_centre = np.broadcast_to(0.5 * (game.follower_low + game.follower_high), (S, game.d2))
    rec_row = [np.arange(S)]
    rec_n = [np.zeros(S, dtype=np.int64)]
    rec_t = [np.zeros(S, dtype=np.int64)]
    rec_x = [leader._strategy().copy()]
    rec_y = [follower._strategy().copy()]
    n_seen = np.zeros(S, dtype=np.int64)
    track_n = hasattr(leader, "_n")
    obs_l, obs_f = y_centre, x_centre
    for t in range(stages):
        if t % max_cycles == 0:
            obs_l, obs_f = y_centre, x_centre
        x = np.clip(leader._act(obs_l), game.leader_low, game.leader_high)
        y = np.clip(follower._act(obs_f), game.follower_low, game.follower_high)
        f1, f2 = game.payoffs(x, y)
        if noise_std > 0.0:
            w = noise_rng.normal(0.0, noise_std, size=(S, 2))
            f1 = f1 + w[:, 0]
            f2 = f2 + w[:, 1]
        before = leader.updates
        leader._observe(f1, y)
        follower._observe(f2, x)
        obs_l, obs_f = y, x
        if leader.updates != before:
            if track_n:
                rows = np.flatnonzero(leader._n != n_seen)
                n_seen[rows] = leader._n[rows]
            else:
                rows = np.arange(S)
                n_seen += 1
            rec_row.append(rows)
            rec_n.append(n_seen[rows].copy())
            rec_t.append(np.full(rows.size, t + 1))
            rec_x.append(leader._strategy()[rows].copy())
            rec_y.append(follower._strategy()[rows].copy())
    return BatchHistory(
        np.concatenate(rec_row),
        np.concatenate(rec_n),
        np.concatenate(rec_t),
        np.concatenate(rec_x),
        np.concatenate(rec_y),
        leader._strategy().copy(),
        follower._strategy().copy(),
    )
