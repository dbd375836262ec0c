"""RLlib trains PPO on a library game through ``ParallelPettingZooEnv`` (issue 21).

``ray[rllib]`` pins an older Gymnasium than this project is developed on (Ray 2.60: 1.2.2), so
this test runs in a virtual environment of its own (``.ci/run`` makes it: CPU torch,
``ray[rllib]``, then this project, which accepts Gymnasium 1.2.2). In the main environment
RLlib's dependencies are absent and the test skips.

Budget: 3 PPO iterations of 200 env steps each on the Duopoly, one env runner in the driver
(about a minute on 2 cores, most of it Ray's start-up).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("ray.rllib.algorithms.ppo", reason="needs ray[rllib] (its own venv)")

import ray  # noqa: E402
from ray.rllib.algorithms.ppo import PPOConfig  # noqa: E402
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv  # noqa: E402
from ray.tune.registry import register_env  # noqa: E402

ENV_NAME = "hic_duopoly_rllib"


def _creator(config):
    # RLlib's env runners may be fresh interpreters: import (and so register) inside.
    import pettingzoo

    import hic_envs  # noqa: F401

    return ParallelPettingZooEnv(
        pettingzoo.make("parallel", "hic/Duopoly-v0", max_cycles=config.get("max_cycles", 50))
    )


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=100 * 2**20,
        _temp_dir=str(tmp_path_factory.mktemp("ray")),
    )
    yield
    ray.shutdown()


def test_wrapped_env_plays_the_game():
    env = _creator({"max_cycles": 3})
    obs, infos = env.reset(seed=0)
    assert set(obs) == {"leader_0", "follower_0"}
    actions = {a: env.action_space[a].sample() for a in obs}
    obs, rewards, terms, truncs, infos = env.step(actions)
    assert set(rewards) == {"leader_0", "follower_0"}
    assert all(math.isfinite(float(r)) for r in rewards.values())
    assert "__all__" in terms and "__all__" in truncs


def test_ppo_trains_a_few_iterations(ray_cluster):
    register_env(ENV_NAME, _creator)
    config = (
        PPOConfig()
        .environment(ENV_NAME, env_config={"max_cycles": 50})
        .framework("torch")
        .env_runners(num_env_runners=0, rollout_fragment_length=200)
        .training(train_batch_size=200, minibatch_size=100, num_epochs=2, lr=3e-4)
        .multi_agent(
            policies={"leader", "follower"},
            policy_mapping_fn=lambda agent_id, *args, **kwargs: agent_id.split("_")[0],
        )
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        results = [algo.train() for _ in range(3)]
    finally:
        algo.stop()
    steps = [r["num_env_steps_sampled_lifetime"] for r in results]
    assert steps[-1] >= 3 * 200 and steps == sorted(steps), steps
    learners = results[-1]["learners"]
    assert {"leader", "follower"} <= set(learners), sorted(learners)
    for pid in ("leader", "follower"):
        loss = learners[pid]["total_loss"]
        assert np.isfinite(loss), (pid, loss)
    returns = results[-1]["env_runners"]["agent_episode_returns_mean"]
    assert set(returns) == {"leader_0", "follower_0"}
    assert all(np.isfinite(v) for v in returns.values()), returns
