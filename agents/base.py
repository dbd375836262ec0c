"""The agent interface shared by leaders and followers.

An agent plays inside an ordinary PettingZoo loop::

    obs, infos = env.reset(seed=0)
    leader.reset(seed=0); follower.reset(seed=1)
    while env.agents:
        actions = {"leader_0": leader.act(obs["leader_0"]),
                   "follower_0": follower.act(obs["follower_0"])}
        obs, rewards, terms, truncs, infos = env.step(actions)
        leader.observe(rewards["leader_0"], obs["leader_0"])
        follower.observe(rewards["follower_0"], obs["follower_0"])

Every agent is also *batched*: built with ``num_envs=S`` it plays ``S`` independent copies of
itself in lockstep, taking observations of shape ``(S, d)`` and rewards of shape ``(S,)``. The
single-agent face (``num_envs=None``) runs the very same code on a batch of one, so the batched
engine (:func:`agents.run_batch`) and :func:`agents.play` share every line of every algorithm.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Agent", "SeedLike"]

SeedLike = int | np.random.SeedSequence | None


class Agent:
    """Base class of every leader and follower (template method).

    The public :meth:`act` and :meth:`observe` convert between the single-agent face and the
    batch face and then call the subclass hooks :meth:`_act` and :meth:`_observe`, which always
    see a batch axis. :meth:`reset` seeds the agent's own generator and calls :meth:`_reset`.

    Attributes:
        low, high: the agent's strategy box, shape ``(d,)``.
        num_envs: ``None`` for the single-agent face, else the batch size ``S``.
        np_random: the agent's own ``np.random.Generator`` (never the global one).
        updates: total number of strategy updates made so far, summed over the batch. Loops
            compare it before and after :meth:`observe` to know when to record a strategy.
        coupled: True when the agent reads quantities of the *other* player's payoff (a
            coupled baseline); uncoupled agents learn only from what they observe.
    """

    coupled: bool = False

    def __init__(self, low, high, *, num_envs: int | None = None, seed: SeedLike = None):
        low = np.atleast_1d(np.asarray(low, dtype=np.float64))
        high = np.atleast_1d(np.asarray(high, dtype=np.float64))
        if low.ndim != 1 or low.shape != high.shape or not np.all(low < high):
            raise ValueError(
                f"strategy bounds must be 1-D with low < high, got low={low.tolist()}, "
                f"high={high.tolist()}"
            )
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise ValueError(
                f"strategy bounds must be finite, got low={low.tolist()}, high={high.tolist()}"
            )
        if num_envs is not None and (
            isinstance(num_envs, bool)
            or not isinstance(num_envs, (int, np.integer))
            or num_envs < 1
        ):
            raise ValueError(f"num_envs must be None or a positive integer, got {num_envs!r}")
        self.low, self.high = low, high
        self.num_envs = None if num_envs is None else int(num_envs)
        self._S = 1 if num_envs is None else int(num_envs)
        self._init_seed = seed
        self.np_random: np.random.Generator | None = None
        self.updates = 0

    @property
    def dim(self) -> int:
        """Dimension of the agent's strategy."""
        return self.low.shape[0]

    # ------------------------------------------------------------------ public face
    def reset(self, seed: SeedLike = None) -> None:
        """Restart learning from scratch.

        Args:
            seed: seeds the agent's generator. ``None`` reuses the constructor's ``seed`` the
                first time and otherwise keeps the current generator running.
        """
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
        elif self.np_random is None:
            self.np_random = np.random.default_rng(self._init_seed)
        self.updates = 0
        self._reset()

    def act(self, obs) -> np.ndarray:
        """The action to play this stage, shape ``(d,)`` (or ``(S, d)`` when batched)."""
        if self.np_random is None:  # inlined _require_reset: act/observe run every stage
            self._require_reset()
        if self.num_envs is None:
            return self._act(np.asarray(obs, dtype=np.float64)[None])[0].copy()
        return self._act(np.asarray(obs, dtype=np.float64)).copy()

    def observe(self, reward, obs) -> None:
        """Learn from the stage just played: own ``reward`` and the other player's action."""
        if self.np_random is None:
            self._require_reset()
        if self.num_envs is None:
            self._observe(
                np.array([reward], dtype=np.float64), np.asarray(obs, dtype=np.float64)[None]
            )
        else:
            self._observe(np.asarray(reward, dtype=np.float64), np.asarray(obs, dtype=np.float64))

    @property
    def strategy(self) -> np.ndarray:
        """The agent's current (mean) strategy, shape ``(d,)`` (or ``(S, d)`` when batched)."""
        self._require_reset()
        s = self._strategy()
        return s[0].copy() if self.num_envs is None else s.copy()

    # ------------------------------------------------------------------ hooks for subclasses
    def _reset(self) -> None:
        """Initialise the learning state; ``self.np_random`` is ready."""

    def _act(self, obs: np.ndarray) -> np.ndarray:
        """Actions for the batch, shape ``(S, d)``. May return internal state (callers copy)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _act")

    def _observe(self, reward: np.ndarray, obs: np.ndarray) -> None:
        """Learn from rewards ``(S,)`` and observations ``(S, d_other)``."""

    def _strategy(self) -> np.ndarray:
        """Current mean strategy for the batch, shape ``(S, d)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _strategy")

    # ------------------------------------------------------------------ helpers
    def _require_reset(self) -> None:
        if self.np_random is None:
            raise RuntimeError(
                f"{type(self).__name__} used before reset(); call agent.reset(seed=...) first"
            )

    def _sample_uniform(self) -> np.ndarray:
        """Algorithm 1, line 2: ``x_0`` sampled uniformly from the box, shape ``(S, d)``."""
        return self.np_random.uniform(self.low, self.high, size=(self._S, self.dim))

    def _initial(self, init) -> np.ndarray:
        """``init`` (a point in the box) broadcast to the batch, or a uniform sample."""
        if init is None:
            return self._sample_uniform()
        x0 = np.asarray(init, dtype=np.float64)
        if x0.shape not in ((self.dim,), (self._S, self.dim)):
            raise ValueError(
                f"init must have shape ({self.dim},) or ({self._S}, {self.dim}), got {x0.shape}"
            )
        if np.any(x0 < self.low) or np.any(x0 > self.high) or not np.all(np.isfinite(x0)):
            raise ValueError(
                f"init must lie in the box [{self.low.tolist()}, {self.high.tolist()}], "
                f"got {x0.tolist()}"
            )
        return np.broadcast_to(x0, (self._S, self.dim)).copy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, num_envs={self.num_envs})"
