"""Loops that make a leader and a follower play: :func:`play` through a PettingZoo env, and
:func:`run_batch` / :class:`BatchRunner`, the same stage (:class:`hic_envs.stage.Stage`) on a
batch of seeds without the env's per-stage bookkeeping.

:func:`play` takes any two agents (:class:`agents.Agent`: ``reset/act/observe/strategy``).
The batched engine drives batched agents through their public batch face
(:meth:`~agents.BatchAgent.act_batch`, :meth:`~agents.BatchAgent.observe_batch`,
:attr:`~agents.BatchAgent.strategies`, :meth:`~agents.BatchAgent.update_counts`).

Both derive their random streams the same way from one ``seed``, so a batch of one with seed
``s`` reproduces ``play(..., seed=s)`` exactly. :class:`BatchRunner` runs in chunks (its
state is a dict of arrays, :meth:`BatchRunner.state_dict`, so a run can be checkpointed as
data and resumed) and thins what it records (:class:`Thinning`), so long many-seed runs
stream to disk in bounded memory.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from agents.base import Agent, BatchAgent, check_agent, rng_from_array, rng_to_array
from agents.compose.engines.records import (
    RECORD_FIELDS,
    BatchHistory,
    NonFiniteError,
    RecordLike,
    Thinning,
    agents_state,
    as_thinning,
    check_reads,
    chunk_history,
    derive_seeds,
    load_agents_state,
    nonfinite_read,
    saved_updates,
)
from agents.compose.engines.threads import small_product_threads
from agents.rules.protocol import RowStreams, capabilities_of
from hic_envs.env import FOLLOWER, LEADER, GameEnv
from hic_envs.games.base import Game

if TYPE_CHECKING:
    from agents.compose.engines.jax_engine import JaxRunner
    from agents.compose.engines.jax_rules import RulesRunner
from hic_envs.stage import Stage

__all__ = [
    "BatchHistory",
    "Block",
    "BatchRunner",
    "History",
    "NonFiniteError",
    "Thinning",
    "as_thinning",
    "derive_seeds",
    "make_runner",
    "nonfinite_read",
    "play",
    "run_batch",
]


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


def _check_single(agent: object, role: str, d: int) -> None:
    check_agent(agent, role)
    num_envs = getattr(agent, "num_envs", None)
    if num_envs is not None:
        raise ValueError(f"{role} was built with num_envs={num_envs}; play() takes single agents")
    dim = getattr(agent, "dim", None)
    if isinstance(dim, (int, np.integer)) and dim != d:
        raise ValueError(f"{role} has dimension {dim}, but the game's is {d}")


_BATCH_FACE = ("reset", "act_batch", "observe_batch", "strategies", "update_counts", "updates")


def _check_batched(agent: object, role: str, S: int, d: int) -> None:
    missing = [m for m in _BATCH_FACE if not hasattr(type(agent), m) and not hasattr(agent, m)]
    if missing:
        raise TypeError(
            f"{role} must be a batched agent (an agents.BatchAgent, or an object with "
            f"{', '.join(_BATCH_FACE)}); {type(agent).__name__} lacks {', '.join(missing)}"
        )
    if getattr(agent, "num_envs", None) != S:
        raise ValueError(
            f"{role} was built with num_envs={getattr(agent, 'num_envs', None)}, expected {S}"
        )
    if getattr(agent, "dim", d) != d:
        raise ValueError(
            f"{role} has dimension {getattr(agent, 'dim', None)}, but the game's is {d}"
        )


def _check_stages(stages, name: str = "stages", minimum: int = 1) -> int:
    if isinstance(stages, (float, np.floating)) and float(stages).is_integer():
        stages = int(stages)
    if isinstance(stages, bool) or not isinstance(stages, (int, np.integer)) or stages < minimum:
        word = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name} must be a {word} integer, got {stages!r}")
    return int(stages)


def play(
    env: GameEnv, leader: Agent, follower: Agent, stages: int, seed: int | None = None
) -> History:
    """Run the PettingZoo loop for ``stages`` stages and record what happened.

    The env is reset with a seed derived from ``seed`` and reset again (unseeded) whenever an
    episode is truncated; the agents carry on across episode boundaries. The agents are reset
    with their own seeds derived from ``seed``.

    Any two agents play (:class:`agents.Agent`). The leader's strategy is recorded after every
    stage at which it changed, or at which the leader's ``updates`` counter (if it has one)
    moved; so ``leader_strategies`` holds every distinct ``x_n``, whether or not the agent
    counts its updates.

    Args:
        env: a :class:`~hic_envs.GameEnv` (the parallel env).
        leader, follower: single agents (``num_envs=None`` if they have the attribute).
        stages: number of stages to play.
        seed: the run's seed.

    Raises:
        TypeError: for an object that is not an agent.
        ValueError: for batched agents, or dimensions that do not match the game's.
    """
    stages = _check_stages(stages)
    game = env.game
    _check_single(leader, "leader", game.d1)
    _check_single(follower, "follower", game.d2)
    env_seed, leader_ss, follower_ss = derive_seeds(seed)
    obs, _ = env.reset(seed=env_seed)
    leader.reset(seed=leader_ss)
    follower.reset(seed=follower_ss)
    check_agent(leader, "leader", after_reset=True)
    check_agent(follower, "follower", after_reset=True)

    xs = np.empty((stages, game.d1))
    ys = np.empty((stages, game.d2))
    r1 = np.empty(stages)
    r2 = np.empty(stages)
    last = np.array(leader.strategy, dtype=np.float64)
    upd_t, upd_x, upd_y = [0], [last.copy()], [np.array(follower.strategy, dtype=np.float64)]
    counted = isinstance(getattr(leader, "updates", None), (int, np.integer))
    # Bound methods hoisted out of the loop: this loop is the single-seed hot path.
    l_act, f_act, l_obs, f_obs = leader.act, follower.act, leader.observe, follower.observe
    step, asarray, float64 = env.step, np.asarray, np.float64
    last_bytes = last.tobytes()
    before = leader.updates if counted else 0  # type: ignore[attr-defined]  # counted
    for t in range(stages):
        if not env.agents:
            obs, _ = env.reset()
        obs, rewards, _, _, _ = step({LEADER: l_act(obs[LEADER]), FOLLOWER: f_act(obs[FOLLOWER])})
        ol, of_ = obs[LEADER], obs[FOLLOWER]
        rl, rf = rewards[LEADER], rewards[FOLLOWER]
        l_obs(rl, ol)
        f_obs(rf, of_)
        xs[t] = of_
        ys[t] = ol
        r1[t] = rl
        r2[t] = rf
        # Bitwise comparison through the bytes: several times cheaper than np.array_equal on
        # a few coordinates, and exact (a NaN or -0.0 also counts as a change).
        now = asarray(leader.strategy, dtype=float64)
        moved = False
        if counted:
            n = leader.updates  # type: ignore[attr-defined]  # counted
            moved, before = n != before, n
        if moved or now.tobytes() != last_bytes:
            last_bytes = now.tobytes()
            upd_t.append(t + 1)
            upd_x.append(now.copy())
            upd_y.append(np.array(follower.strategy, dtype=np.float64))
    return History(xs, ys, r1, r2, np.array(upd_t), np.array(upd_x), np.array(upd_y))


@dataclasses.dataclass(frozen=True)
class Block:
    """One run inside a batch of several: ``rows`` consecutive rows with their own ``seed``
    and payoff ``noise_std``. Its rows draw exactly the random numbers a :class:`BatchRunner`
    of those rows alone with that seed and noise draws (:class:`~agents.rules.protocol.
    RowStreams`), so, with per-row hyperparameters (:class:`~agents.schedules.PerRow`), a
    batch of blocks plays each run as it plays alone: this is how a sweep batches its
    configurations.

    Attributes:
        seed: the block's seed (split as in :func:`derive_seeds`).
        rows: its number of rows (seeds).
        noise_std: its payoff noise scale.
    """

    seed: int
    rows: int
    noise_std: float = 0.0


class BatchRunner:
    """``S`` independent copies of (leader, follower) playing in lockstep, run in chunks.

    Each stage is :class:`hic_envs.stage.Stage`'s, the very function
    :meth:`GameEnv.step <hic_envs.GameEnv.step>` calls, on a leading batch axis: project the
    actions onto the boxes, evaluate both payoffs, add noise, and let each agent observe its
    reward and the other's action through its public batch face. Observations at the start
    of each ``max_cycles``-stage episode are the box centres, as after ``env.reset()``. No
    algorithm is copied here: the agents do all the learning.

    :meth:`run` may be called repeatedly; ``run(a)`` then ``run(b)`` gives exactly what
    ``run(a + b)`` gives. :meth:`state_dict` is the runner's whole state as arrays (the
    agents' :meth:`~agents.BatchAgent.state_dict`, the noise generator, counters and the
    last observations): a runner built with the same arguments and given it by
    :meth:`load_state_dict` continues exactly, which is how experiments checkpoint and resume.

    After each :meth:`run` (once per chunk, not per stage) the rewards the agents read, the
    values they read from the game (their read checks, :mod:`agents.rules.protocol`: a
    gradient that overflowed, say, which the projection onto the box would hide) and the final
    strategies are checked: a NaN or infinite one raises :class:`NonFiniteError` naming the
    agent, the game, the seed row and the stages.

    Args:
        game: the stage game.
        leader, follower: batched agents built with the same ``num_envs=S``. They are reset
            here.
        seed: the run's seed (split as in :func:`play`, so ``S = 1`` reproduces it).
        noise_std: payoff noise scale (the env's ``noise_std``).
        max_cycles: episode length (the env's ``max_cycles``).
        record: which updates to record, anything :func:`as_thinning` accepts.
        blocks: several runs in one batch (:class:`Block`, rows in order, summing to ``S``),
            each with its own seed and noise; ``seed`` and ``noise_std`` are then not given.
            Such a runner has no :meth:`state_dict`; :meth:`block_state_dict` gives each
            block's (each block's run is written alone).
    """

    def __init__(
        self,
        game: Game,
        leader: BatchAgent,
        follower: BatchAgent,
        seed: int | None = None,
        *,
        noise_std: float = 0.0,
        max_cycles: int = 1000,
        record: RecordLike = "all",
        blocks: tuple[Block, ...] | list[Block] | None = None,
    ) -> None:
        if not isinstance(game, Game):
            raise TypeError(f"game must be a hic_envs.games.Game, got {type(game).__name__}")
        S = getattr(leader, "num_envs", None)
        if S is None:
            check_agent(leader, "leader")
            raise ValueError("run_batch needs agents built with num_envs=S; use play() for one")
        _check_batched(leader, "leader", S, game.d1)
        _check_batched(follower, "follower", S, game.d2)
        self.stage_game = Stage(game, noise_std)
        self.max_cycles = _check_stages(max_cycles, "max_cycles")
        self.game, self.leader, self.follower = game, leader, follower
        self.num_envs = S
        self.noise_std: float | np.ndarray = self.stage_game.noise_std
        self.thinning = as_thinning(record)
        self.blocks: tuple[Block, ...] | None = None
        self._block_noise: list[tuple[Stage, np.random.Generator, slice]] = []
        if blocks is None:
            env_seed, leader_ss, follower_ss = derive_seeds(seed)
            self.noise_rng: np.random.Generator | None = np.random.default_rng(env_seed)
            leader.reset(seed=leader_ss)
            follower.reset(seed=follower_ss)
        else:
            self._set_blocks(tuple(blocks), seed, noise_std, S)
        #: Stages played so far.
        self.stage = 0
        self._obs_l: np.ndarray | None = None
        self._obs_f: np.ndarray | None = None
        self._n_seen = np.zeros(S, dtype=np.int64)
        self._started = False

    def _set_blocks(self, blocks: tuple[Block, ...], seed, noise_std, S: int) -> None:
        if seed is not None or noise_std != 0.0:
            raise ValueError("with blocks, each Block carries its seed and noise_std")
        if not blocks or not all(isinstance(b, Block) for b in blocks):
            raise TypeError(f"blocks must be a non-empty sequence of Block, got {blocks!r}")
        sizes = [_check_stages(b.rows, "Block.rows") for b in blocks]
        if sum(sizes) != S:
            raise ValueError(f"the blocks hold {sum(sizes)} rows, the agents {S}")
        split = [derive_seeds(b.seed) for b in blocks]
        self.blocks = blocks
        self.noise_rng = None
        streams = RowStreams([np.random.default_rng(e) for e, _, _ in split], sizes)
        self._block_streams = streams
        for b, gen, sl in zip(blocks, streams.generators, streams.slices, strict=True):
            stage = Stage(self.game, b.noise_std)
            if stage.noise_std > 0.0:
                self._block_noise.append((stage, gen, sl))
        self.noise_std = np.repeat([float(b.noise_std) for b in blocks], sizes)
        self.leader.reset(seed=RowStreams.from_seeds([ls for _, ls, _ in split], sizes))
        self.follower.reset(seed=RowStreams.from_seeds([fs for _, _, fs in split], sizes))

    @property
    def updates(self) -> np.ndarray:
        """Leader updates made so far, per batch row, shape ``(S,)``."""
        return self._n_seen.copy()

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """The runner's state as a flat dict of arrays: ``leader/...`` and ``follower/...``
        (the agents' state dicts), ``noise_rng``, ``stage``, ``n_seen``, ``started`` and the
        last observations ``obs_l``/``obs_f`` (absent before the first stage).

        Raises:
            ValueError: for a runner of several :class:`Block` runs.
        """
        if self.noise_rng is None:
            raise ValueError("a runner of several blocks has no one state to save")
        out: dict[str, np.ndarray] = {
            "noise_rng": rng_to_array(self.noise_rng),
            "stage": np.asarray(self.stage, dtype=np.int64),
            "n_seen": self._n_seen.copy(),
            "started": np.asarray(self._started),
        }
        if self._obs_l is not None:
            out["obs_l"] = np.array(self._obs_l)
            out["obs_f"] = np.array(self._obs_f)
        return {**out, **agents_state(self.leader.state_dict(), self.follower.state_dict())}

    def block_state_dict(self, block: int) -> dict[str, np.ndarray]:
        """The :meth:`state_dict` of block ``block``'s run alone (a runner of several
        :class:`Block` runs): its noise generator, its rows' counters and observations, and
        its rows' learner states (:meth:`~agents.face.RuleAgent.block_state_dict`). A runner
        of that block alone, given it by :meth:`load_state_dict`, continues as the block
        does in the batch (this is what a batched sweep writes as each run's checkpoint).

        Raises:
            ValueError: for a runner without blocks, or a ``block`` it does not hold.
        """
        if self.blocks is None:
            raise ValueError("block_state_dict is for a runner of several blocks; use state_dict")
        streams = self._block_streams
        if isinstance(block, bool) or not 0 <= block < len(self.blocks):
            raise ValueError(f"block must be one of 0..{len(self.blocks) - 1}, got {block!r}")
        rows = streams.slices[block]
        out: dict[str, np.ndarray] = {
            "noise_rng": rng_to_array(streams.generators[block]),
            "stage": np.asarray(self.stage, dtype=np.int64),
            "n_seen": self._n_seen[rows].copy(),
            "started": np.asarray(self._started),
        }
        if self._obs_l is not None and self._obs_f is not None:
            out["obs_l"] = np.array(self._obs_l[rows])
            out["obs_f"] = np.array(self._obs_f[rows])
        learners = (self.leader.block_state_dict(block), self.follower.block_state_dict(block))
        return {**out, **agents_state(*learners)}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore a state saved by :meth:`state_dict` (from a runner built alike).

        Raises:
            ValueError: for a missing key or one that does not fit this runner.
        """
        keys = ("noise_rng", "stage", "n_seen", "started")
        n_seen = saved_updates(state, keys, self.num_envs, "")
        load_agents_state(state, self.leader, self.follower)
        self.noise_rng = rng_from_array(state["noise_rng"])
        self.stage = int(np.asarray(state["stage"]))
        self._n_seen = n_seen.astype(np.int64, copy=True)
        self._started = bool(np.asarray(state["started"]))
        self._obs_l = np.array(state["obs_l"]) if "obs_l" in state else None
        self._obs_f = np.array(state["obs_f"]) if "obs_f" in state else None

    def _noise_face(self) -> tuple:
        if self.blocks is None:
            return self.stage_game.play, self.stage_game.draw_noise
        return _block_noise_face(self.stage_game, self._block_noise)

    # ------------------------------------------------------------------ play
    def run(self, stages: int) -> BatchHistory:
        """Play ``stages`` more stages; return the (thinned) records of updates made in them.

        The first call also returns the initial strategies (update 0, stage 0). BLAS runs on
        one thread while the stages' products are small (:func:`~agents.compose.engines.threads.
        small_product_threads`: more threads only slow them down).

        Raises:
            NonFiniteError: if a reward, or a value an agent read from the game (a gradient,
                a best response), was NaN or infinite in the chunk, or a strategy is at its
                end; naming the agent, the game, the seed row and the stages.
        """
        stages = _check_stages(stages, minimum=0)
        with small_product_threads(self.num_envs, self.game.d1, self.game.d2):
            return self._run(stages)

    def _run(self, stages: int) -> BatchHistory:
        game, leader, follower = self.game, self.leader, self.follower
        S, thin, max_cycles = self.num_envs, self.thinning, self.max_cycles
        rec: dict[str, list] = {f: [] for f in RECORD_FIELDS}
        if not self._started:
            self._started = True
            rec["row"].append(np.arange(S))
            rec["update"].append(np.zeros(S, dtype=np.int64))
            rec["stage"].append(np.zeros(S, dtype=np.int64))
            rec["leader_strategies"].append(leader.strategies)
            rec["follower_strategies"].append(follower.strategies)
        n_seen = self._n_seen
        every_update = thin.log_digits is None and not thin.none and thin.every == 1
        noise_rng = self.noise_rng
        play_stage, draw_noise = self._noise_face()
        # None only before stage 0, whose reset observations the loop sets first.
        obs_l: np.ndarray = self._obs_l  # type: ignore[assignment]
        obs_f: np.ndarray = self._obs_f  # type: ignore[assignment]
        reset_l, reset_f = self.stage_game.reset_observations()
        l_act, f_act = leader.act_batch, follower.act_batch
        l_obs, f_obs = leader.observe_batch, follower.observe_batch
        project, project_leader = self.stage_game.project, self.stage_game.project_leader
        project_follower = self.stage_game.project_follower
        reset_l_batch = np.broadcast_to(reset_l, (S, game.d2))
        reset_f_batch = np.broadcast_to(reset_f, (S, game.d1))
        # The fast-forward face: what a rule set declares (agents.rules.protocol.Capabilities:
        # fast_forward, reward_free), else the duck-typed methods of agents.BatchAgent
        # (quiet_stages, ...); agents with neither play every stage in full.
        l_quiet, l_free, l_always = _fast_forward_face(leader)
        _, f_free, f_always = _fast_forward_face(follower)
        fast = l_quiet is not None and f_free is not None
        unpaid = l_free is not None and f_free is not None
        no_reward = np.full(S, np.nan)  # what an agent that reads no reward is given
        blind_l = np.full((S, game.d2), np.nan)  # what a quiet leader is shown to act on
        t0 = self.stage
        t, end = t0, t0 + stages
        # Every reward the agents read is summed into this; one isfinite at the chunk's end
        # then catches an overflowed or NaN reward that a projection would hide. What the
        # agents read from the game (gradients, best responses) they fold into their read
        # checks (agents.rules.protocol.fold_read), asked once at the chunk's end too.
        r_sum = np.zeros(S)
        while t < end:
            if fast:
                # Fast-forward: the leader sits out the next q stages (plays one action, reads
                # nothing) and the follower reads no rewards, so nobody needs the stages'
                # payoffs or the leader's calls; only the follower learns, against the one
                # leader action. The follower's action is needed only at the last of these
                # stages (the leader observes it before the stage after), so only there is
                # it asked to act, on what it would have observed.
                m = min(l_quiet(), end - t)
                if m > 0 and (f_always or f_free() >= m):
                    x = project_leader(l_act(blind_l))
                    draw_noise(noise_rng, m, (S,))
                    if m > 1:
                        follower.observe_repeated(x, m - 1)
                        obs_f = x  # the leader's action at the stage before the last
                    last = t + m - 1
                    if last % max_cycles == 0:
                        obs_f = reset_f_batch
                    y = project_follower(f_act(obs_f))
                    follower.observe_repeated(x, 1)
                    leader.skip_quiet(m)
                    obs_l, obs_f = y, x
                    t += m
                    continue
            if t % max_cycles == 0:
                obs_l, obs_f = reset_l_batch, reset_f_batch
            if unpaid and (l_always or l_free() > 0) and (f_always or f_free() > 0):
                # Neither player reads this stage's rewards: its payoffs are not computed
                # (the noise is still drawn, to keep the generator's stream).
                x, y = project(l_act(obs_l), f_act(obs_f))
                draw_noise(noise_rng, 1, (S,))
                r1 = r2 = no_reward
            else:
                x, y, _, _, r1, r2 = play_stage(l_act(obs_l), f_act(obs_f), noise_rng)
                r_sum += r1
                r_sum += r2
            t += 1
            before = leader.updates
            l_obs(r1, y)
            f_obs(r2, x)
            obs_l, obs_f = y, x
            if leader.updates != before:
                counts = leader.update_counts()
                rows = np.flatnonzero(counts != n_seen)
                n_seen[rows] = counts[rows]
                if not every_update:
                    rows = rows[thin.keep(n_seen[rows])]
                if rows.size == 0:
                    continue
                rec["row"].append(rows)
                rec["update"].append(n_seen[rows].copy())
                rec["stage"].append(np.full(rows.size, t))
                rec["leader_strategies"].append(leader.strategies[rows])
                rec["follower_strategies"].append(follower.strategies[rows])
        self.stage = t0 + stages
        self._obs_l, self._obs_f = obs_l, obs_f
        bad = ~np.isfinite(r_sum)
        if bad.any():
            raise nonfinite_read("a player", "reward", game, bad, t0, self.stage, "NumPy")
        check_reads(leader, follower, game, t0, self.stage, "NumPy")  # once per chunk
        return chunk_history(
            rec,
            leader.strategies,
            follower.strategies,
            game,
            self.stage,
            "a payoff or step overflowed, or an agent returned NaN; results up to the previous "
            "chunk are kept",
        )


def _block_noise_face(stage_game: Stage, noisy: list) -> tuple:
    """``play(x, y, rng)`` and ``draw_noise(rng, stages, batch)`` for a runner of blocks:
    the payoffs without noise, then each noisy block's noise from its own generator, drawn
    and added as a :class:`~hic_envs.stage.Stage` of that block alone draws and adds it."""
    base_play = stage_game.play

    def play(x, y, rng):
        res = base_play(x, y, None)
        if not noisy:
            return res
        f1, f2 = res.f1, res.f2
        r1, r2 = f1.copy(), f2.copy()
        for stage, gen, sl in noisy:
            w = gen.normal(0.0, stage.noise_std, size=(sl.stop - sl.start, 2))
            r1[sl] = f1[sl] + w[:, 0]
            r2[sl] = f2[sl] + w[:, 1]
        return res._replace(r1=r1, r2=r2)

    def draw_noise(rng, stages, batch):
        for stage, gen, sl in noisy:
            n = sl.stop - sl.start
            if stages * n * 2 <= stage.NOISE_BLOCK:  # one call: the values of `stages` calls
                gen.normal(0.0, stage.noise_std, size=(stages, n, 2))
            else:
                stage.draw_noise(gen, stages, (n,))

    return play, draw_noise


def _fast_forward_face(agent) -> tuple:
    """``(quiet_stages, reward_free_stages, always_reward_free)`` of an agent for the batched
    engine: from the capabilities its rule set declares (a method is None where the
    capability is not declared; ``always_reward_free`` where ``reward_free`` is), else the
    duck-typed methods of an agent that declares nothing (never always reward-free)."""
    caps = capabilities_of(agent)
    if caps is None or getattr(type(agent), "rules", None) is None:
        return (
            getattr(agent, "quiet_stages", None),
            getattr(agent, "reward_free_stages", None),
            False,
        )
    quiet = agent.quiet_stages if caps.fast_forward else None
    free = agent.reward_free_stages if (caps.fast_forward or caps.reward_free) else None
    return quiet, free, caps.reward_free


def run_batch(
    game: Game,
    leader: BatchAgent,
    follower: BatchAgent,
    stages: int,
    seed: int | None = None,
    *,
    noise_std: float = 0.0,
    max_cycles: int = 1000,
    record: RecordLike = "all",
    backend: str = "numpy",
) -> BatchHistory:
    """Play ``S`` independent copies of (leader, follower) in lockstep on arrays.

    The agents must be built with the same ``num_envs=S``. See :class:`BatchRunner` (this is
    ``BatchRunner(...).run(stages)``). With ``S = 1`` this reproduces :func:`play` on
    ``GameEnv(game, max_cycles, noise_std)`` with the same seed, bit for bit.

    Args:
        game, leader, follower, seed, noise_std, max_cycles: as for :class:`BatchRunner`.
        stages: stages to play.
        record: which updates to record (:func:`as_thinning`): ``"all"`` (default), ``"log"``,
            an int ``K`` (every K-th update) or ``None`` (only the start and the finals).
        backend: ``"numpy"`` (this engine) or ``"jax"`` (:mod:`agents.compose.engines.jax_engine`,
            needs the ``jax`` extra: ``pip install -e ".[jax]"``; the same distribution of
            results, not the same bits, and only for configurations with a pure form there).

    Raises:
        ValueError: for an unknown backend, or a configuration the JAX backend cannot run
            (naming what).
    """
    stages = _check_stages(stages)
    return make_runner(
        game,
        leader,
        follower,
        seed,
        noise_std=noise_std,
        max_cycles=max_cycles,
        record=record,
        backend=backend,
    ).run(stages)


def make_runner(
    game: Game,
    leader: BatchAgent,
    follower: BatchAgent,
    seed: int | None = None,
    *,
    noise_std: float = 0.0,
    max_cycles: int = 1000,
    record: RecordLike = "all",
    backend: str = "numpy",
) -> BatchRunner | JaxRunner | RulesRunner:
    """A :class:`BatchRunner` (``backend="numpy"``), or for ``backend="jax"`` the JAX engine
    with the same face: its interval loop
    (:class:`~agents.compose.engines.jax_engine.JaxRunner`) for the pairs
    :func:`~agents.compose.engines.jax_engine.fast_path` accepts (Hi-C with a fixed schedule
    against a gradient follower), else the generic stage loop over the rule sets
    (:class:`~agents.compose.engines.jax_rules.RulesRunner`), for any pair whose rule sets
    declare ``pure`` on a game that declares ``array_api``.

    Raises:
        ValueError: for an unknown backend, a missing JAX install, or a configuration the JAX
            backend cannot run (naming what).
    """
    if backend == "numpy":
        return BatchRunner(
            game,
            leader,
            follower,
            seed,
            noise_std=noise_std,
            max_cycles=max_cycles,
            record=record,
        )
    if backend != "jax":
        raise ValueError(f"backend must be 'numpy' or 'jax', got {backend!r}")
    _check_stages(max_cycles, "max_cycles")
    try:
        from agents.compose.engines import jax_engine, jax_rules
    except ImportError as err:
        raise ValueError(
            f"backend='jax' needs JAX ({err}); install the extra: pip install -e \".[jax]\""
        ) from None
    jax_rules.check_rules(game, leader, follower)
    if jax_engine.fast_path(leader, follower) is None:
        return jax_engine.JaxRunner(
            game, leader, follower, seed, noise_std=noise_std, record=record
        )
    return jax_rules.RulesRunner(
        game,
        leader,
        follower,
        seed,
        noise_std=noise_std,
        max_cycles=max_cycles,
        record=record,
    )
