"""Overflow never passes silently (issue 17): noise scales that make finite arithmetic
impossible are refused when given, naming the value; a reward that is NaN or infinite stops
the NumPy engine, the JAX engine and the env, although the projection onto the box would have
hidden it in the strategies."""

from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import array_namespace

from agents import GradientAscentFollower, HiCLeader, StochasticGradientFollower
from agents.compose.cli import main
from agents.compose.engines.runner import NonFiniteError, run_batch
from agents.compose.experiments.experiment import ExperimentConfig
from hic_envs import GameEnv
from hic_envs.games import Duopoly
from hic_envs.stage import MAX_NOISE_STD, Stage


class OverflowingDuopoly(Duopoly):
    """The duopoly, except that the leader's profit is infinite for ``27 < q1 < 45``: a payoff
    that overflows inside the box, away from the corners and the centre that the game's own
    construction check samples (the strategies stay finite: the SPSA step is projected back
    into the box)."""

    def payoffs(self, x, y):
        f1, f2 = super().payoffs(x, y)
        xp = array_namespace(f1)
        q1 = x[..., 0]
        return xp.where((q1 > 27.0) & (q1 < 45.0), xp.inf, f1), f2


def _pair(game, S):
    leader = HiCLeader(game, 0.5, 5.0, 3, num_envs=S, check_assumptions=False)
    return leader, GradientAscentFollower(game, 0.1, num_envs=S)


@pytest.mark.parametrize("bad", [1e308, 1e200, np.float64(1e151)])
def test_a_noise_scale_that_overflows_is_refused_naming_it(bad, capsys):
    for make in (
        lambda: ExperimentConfig("hic/Duopoly-v0", noise_std=bad),
        lambda: Stage(Duopoly(), bad),
        lambda: GameEnv(Duopoly(), noise_std=bad),
        lambda: StochasticGradientFollower(Duopoly(), 0.1, bad, num_envs=2),
    ):
        with pytest.raises(ValueError, match=r"noise_std=.* is too large: rewards and steps"):
            make()
    for flag in ("--noise-std", "--follower-noise"):
        argv = ["run", "hic/Duopoly-v0", "--out", "/nonexistent/x", flag, str(float(bad))]
        if flag == "--follower-noise":
            argv += ["--follower", "stochastic"]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "is too large" in err and repr(float(bad)) in err, err


def test_the_largest_accepted_noise_scale_runs_finite():
    game = Duopoly()
    h = run_batch(game, *_pair(game, 4), 300, seed=1, noise_std=MAX_NOISE_STD)
    assert np.isfinite(h.final_leader).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_infinite_reward_stops_the_numpy_engine():
    game = OverflowingDuopoly()
    with pytest.raises(NonFiniteError, match=r"a reward in seed row \d+ was NaN or infinite"):
        run_batch(game, *_pair(game, 4), 2000, seed=1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_infinite_reward_stops_the_jax_engine():
    pytest.importorskip("jax")
    game = OverflowingDuopoly()
    with pytest.raises(NonFiniteError, match="a reward or the follower's gradient was NaN"):
        run_batch(game, *_pair(game, 4), 2000, seed=1, backend="jax")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_infinite_reward_stops_the_env():
    env = GameEnv(OverflowingDuopoly())
    env.reset(seed=0)
    env.step({"leader_0": np.array([10.0]), "follower_0": np.array([5.0])})  # finite here
    with pytest.raises(FloatingPointError, match="stage 2: the rewards are not finite"):
        env.step({"leader_0": np.array([30.0]), "follower_0": np.array([5.0])})
