"""Overflow never passes silently (issue 17): noise scales that make finite arithmetic
impossible are refused when given, naming the value; a reward, or a gradient a learner reads,
that is NaN or infinite stops the NumPy engine, the JAX engine, the env and the single face,
although the projection onto the box would have hidden it in the strategies."""

from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import array_namespace

from agents import (
    BestResponseFollower,
    EntropicMirrorFollower,
    GradientAscentFollower,
    HiCLeader,
    SGALeader,
    StochasticGradientFollower,
)
from agents.compose.cli import main
from agents.compose.engines.runner import BatchRunner, NonFiniteError, play, run_batch
from agents.compose.experiments.experiment import ExperimentConfig
from agents.rules.protocol import fold_read, nonfinite_rows
from agents.schedules import PowerLaw
from hic_envs import GameEnv
from hic_envs.games import Duopoly
from hic_envs.games.base import Equilibrium, Game
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
    with pytest.raises(
        NonFiniteError,
        match=r"a player read a NaN or infinite reward of the game Duopoly in seed row \d+ in "
        r"stages 1\.\.2000 .*NumPy engine",
    ):
        run_batch(game, *_pair(game, 4), 2000, seed=1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_infinite_reward_stops_the_jax_engine():
    pytest.importorskip("jax")
    game = OverflowingDuopoly()
    with pytest.raises(
        NonFiniteError,
        match=r"the leader HiCLeader read a NaN or infinite reward of the game Duopoly in seed "
        r"row \d+ in stages 1\.\.2000 .*JAX engine",
    ):
        run_batch(game, *_pair(game, 4), 2000, seed=1, backend="jax")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_infinite_reward_stops_the_env():
    env = GameEnv(OverflowingDuopoly())
    env.reset(seed=0)
    env.step({"leader_0": np.array([10.0]), "follower_0": np.array([5.0])})  # finite here
    with pytest.raises(FloatingPointError, match="stage 2: the rewards are not finite"):
        env.step({"leader_0": np.array([30.0]), "follower_0": np.array([5.0])})


# ------------------------------------------------------------------ gradients a learner reads
class CuspGame(Game):
    """A user's game whose follower gradient is infinite at the edge of its box: on
    ``X = [0, 1]``, ``Y = [0.5, 1]``, ``f1 = -(x - y / 2)^2`` and ``f2 = x y - 2 k sqrt(1 - y)``,
    so
    ``grad_y f2 = x + k / sqrt(1 - y)``, sqrt-like, ``+inf`` at ``y = 1`` (a division by zero).

    A gradient step lands the follower on that edge (the projection clips it there) and every
    gradient read there is ``+inf``: the projection puts the follower back on the edge, so
    without a check of what is read the run ends finite with every follower on the edge. The
    payoffs stay finite (``sqrt(0) = 0``). Array-API code, so the JAX engine runs it too."""

    name = "CuspGame"

    def __init__(self, k: float = 10.0) -> None:
        super().__init__([0.0], [1.0], [0.5], [1.0])
        self.k = k

    def leader_payoff(self, x, y):
        return -((x[..., 0] - 0.5 * y[..., 0]) ** 2)

    def follower_payoff(self, x, y):
        xp = array_namespace(x, y)
        return x[..., 0] * y[..., 0] - 2.0 * self.k * xp.sqrt(1.0 - y[..., 0])

    def leader_grad(self, x, y):
        return -2.0 * (x - 0.5 * y)

    def follower_grad(self, x, y):
        xp = array_namespace(x, y)
        return x + self.k / xp.sqrt(1.0 - y)

    def best_response(self, x):
        return np.ones(np.shape(x)[:-1] + (1,))  # f2 increases in y

    def stackelberg(self):
        return Equilibrium(np.array([0.5]), np.array([1.0]), 0.0, 0.5)

    def nash(self):
        return self.stackelberg()


_CUSP_FOLLOWERS = {
    "gradient": lambda g, S: GradientAscentFollower(g, 0.1, num_envs=S),
    "gradient, step schedule": lambda g, S: GradientAscentFollower(
        g, PowerLaw(0.1, 0.5), num_envs=S
    ),
    "stochastic": lambda g, S: StochasticGradientFollower(g, 0.1, 1.0, num_envs=S),
    "mirror": lambda g, S: EntropicMirrorFollower(g, 0.01, num_envs=S),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("leader", ["hic", "sga"])
@pytest.mark.parametrize("follower", sorted(_CUSP_FOLLOWERS))
def test_an_infinite_follower_gradient_stops_the_numpy_engine(leader, follower):
    # Hi-C: the follower steps on the engine's fast-forward path (observe_repeated); SGA: at
    # every stage through observe_batch.
    game, S = CuspGame(), 4
    f = _CUSP_FOLLOWERS[follower](game, S)
    if leader == "hic":
        lead = HiCLeader(game, 0.5, 5.0, 3, num_envs=S, check_assumptions=False)
    else:
        lead = SGALeader(game, 0.01, num_envs=S)
    name = type(f).__name__
    with pytest.raises(
        NonFiniteError,
        match=rf"the follower {name} read a NaN or infinite gradient of the game CuspGame "
        r"in seed row \d+ in stages 1\.\.500 \(or the step made with it overflowed; the "
        r"projection onto the box would have hidden it; NumPy engine\)",
    ):
        run_batch(game, lead, f, 500, seed=1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_the_check_is_once_per_chunk_and_names_the_chunk():
    # Chunks before the first infinite read pass; the error names the chunk it was read in.
    game, S = CuspGame(), 2
    leader = HiCLeader(game, 0.05, 0.1, 3, num_envs=S, check_assumptions=False, init=[0.5])
    follower = GradientAscentFollower(game, 0.001, num_envs=S, init=[0.5])
    runner = BatchRunner(game, leader, follower, seed=1)
    runner.run(10)  # y climbs by about 0.001 * (x + 10) a stage: inside the box
    assert np.all(runner.follower.strategies < game.follower_high)
    with pytest.raises(NonFiniteError, match=r"in stages 11\.\.2000"):
        runner.run(1990)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_infinite_follower_gradient_stops_the_jax_engine():
    pytest.importorskip("jax")
    game = CuspGame()
    with pytest.raises(
        NonFiniteError,
        match=r"the follower GradientAscentFollower read a NaN or infinite gradient of the game "
        r"CuspGame in seed row \d+ in stages 1\.\.500 .*JAX engine",
    ):
        run_batch(game, *_pair(game, 4), 500, seed=1, backend="jax")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("follower", ["gradient", "stochastic"])
def test_an_infinite_follower_gradient_stops_the_generic_jax_loop(follower):
    # SGA is not the interval loop's pair: make_runner gives it to the generic rule-set loop,
    # which folds the rule sets' read checks in its program and asks the faces once per chunk.
    pytest.importorskip("jax")
    from agents.compose.engines.runner import make_runner

    game, S = CuspGame(), 4
    f = _CUSP_FOLLOWERS[follower](game, S)
    runner = make_runner(game, SGALeader(game, 0.01, num_envs=S), f, 1, backend="jax")
    assert type(runner).__name__ == "RulesRunner"
    with pytest.raises(
        NonFiniteError,
        match=rf"the follower {type(f).__name__} read a NaN or infinite gradient of the game "
        r"CuspGame in seed row \d+ in stages 1\.\.500 .*JAX engine",
    ):
        runner.run(500)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("follower", ["gradient", "mirror"])
def test_an_infinite_gradient_stops_a_follower_in_the_env_loop(follower):
    # The PettingZoo path: the env's rewards are finite, the follower's single face checks
    # what it read at every observation.
    game = CuspGame()
    f = _CUSP_FOLLOWERS[follower](game, None)
    leader = HiCLeader(game, 0.5, 5.0, 3, check_assumptions=False)
    with pytest.raises(
        NonFiniteError,
        match=rf"{type(f).__name__} read a NaN or infinite gradient of the game CuspGame in "
        r"its observation \d+",
    ):
        play(GameEnv(game), leader, f, 200, seed=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_infinite_best_response_is_not_clipped_away():
    game = Duopoly()
    game.best_response = lambda x: np.full(np.shape(x), np.inf)  # a broken oracle
    f = BestResponseFollower(game, num_envs=3)
    with pytest.raises(NonFiniteError, match="read a NaN or infinite best response"):
        run_batch(game, SGALeader(game, 0.01, num_envs=3), f, 10, seed=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_run_stopped_by_an_infinite_gradient_writes_no_checkpoint_of_it(tmp_path):
    import re

    import hic_envs
    from agents.compose.experiments.experiment import run_experiment
    from agents.compose.experiments.results import read_checkpoint, read_json

    hic_envs.register_game("test/CuspGame-v0", CuspGame)
    # A slow follower (it climbs about beta x = 1e-4 * 0.25..0.5 a stage, the leader near
    # y / 2): with this seed every row reaches the edge after the first chunk.
    config = ExperimentConfig(
        "test/CuspGame-v0",
        game_kwargs={"k": 0.01},
        leader="sga",
        leader_options={"step_size": 0.05},
        follower_options={"step_size": 1e-4},
        seeds=4,
        stages=30_000,
        seed=1,
    )
    out = tmp_path / "run"
    with pytest.raises(NonFiniteError, match="gradient of the game CuspGame") as err:
        run_experiment(config, out, progress=False, chunk=2000, checkpoint_seconds=0)
    first = int(re.search(r"in stages (\d+)\.\.", str(err.value)).group(1))
    assert first > 2000  # earlier chunks passed and were checkpointed
    _, meta = read_checkpoint(out / "checkpoint.npz", arrays=False)
    assert meta["stage"] == first - 1  # the last good chunk's; none of the failing one
    assert "gradient of the game CuspGame" in read_json(out / "summary.json")["error"]


# NumPy's floating-point warnings on the non-finite values this test feeds in on purpose
# (whether NumPy raises them can differ by CPU; what is checked is the error or the record).
@pytest.mark.filterwarnings(
    "ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning"
)
def test_fold_read_records_any_non_finite_value_and_never_overflows():
    check = np.zeros((2, 3))
    for value in ([1e308, -1e308, 5.0], [1e308, 1e308, 0.0]):  # a sum would overflow
        check = fold_read(check, np.array(value))
    assert not np.isnan(check).any()
    check = fold_read(check, np.array([[1.0, np.inf, 2.0], [3.0, 4.0, 5.0]]))
    check = fold_read(check, np.array([1.0, 2.0, 3.0]))  # a NaN stays NaN
    assert np.isnan(check).tolist() == [[False, True, False], [False, False, False]]
    assert nonfinite_rows({"read_check": check}).tolist() == [True, False]
    assert fold_read(np.zeros(1), np.array([np.nan])).tolist() != [0.0]


# NumPy's floating-point warnings on the non-finite values this test feeds in on purpose
# (whether NumPy raises them can differ by CPU; what is checked is the error or the record).
@pytest.mark.filterwarnings(
    "ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning"
)
def test_ascent_steps_checks_what_its_single_steps_check():
    # The in-place loop folds its unprojected points block by block; the strategies and the
    # read check equal those of one checked step at a time, across block boundaries, with an
    # infinite gradient in one row and finite points whose block sum overflows in another.
    from agents.rules import ascent_steps, checked_ascent_step
    from agents.rules.gradient import _BLOCK_VALUES

    S, d = 3, 2
    stages = 2 * (_BLOCK_VALUES // (S * d)) + 7
    calls = {"n": 0}

    def grad(y):
        calls["n"] += 1
        g = 1.0 - y
        if calls["n"] == stages - 3:
            g = g.copy()
            g[1, 0] = np.inf
        if calls["n"] == 5:
            g = np.full_like(y, 1.5e308)  # finite points, a block sum that overflows
        return g

    y0 = np.full((S, d), 0.25)
    low, high = np.zeros(d), np.full(d, 1e308)
    y, check = ascent_steps(y0, 1.0, grad, low, high, stages, np.zeros((S, d)))
    calls["n"] = 0
    y1, check1 = y0, np.zeros((S, d))
    for _ in range(stages):
        y1, check1 = checked_ascent_step(y1, 1.0, grad(y1), low, high, check1)
    assert np.array_equal(y, y1)
    assert np.array_equal(np.isnan(check), np.isnan(check1))
    assert np.isnan(check).tolist() == [[False, False], [True, False], [False, False]]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_batched_follower_observed_through_its_face_raises_at_once():
    # The vector views drive a batched partner through observe(): checked at every call.
    game = CuspGame()
    f = GradientAscentFollower(game, 0.1, num_envs=3, init=[1.0])  # on the edge: grad = +inf
    f.reset(seed=0)
    with pytest.raises(
        NonFiniteError,
        match=r"GradientAscentFollower read a NaN or infinite gradient of the game CuspGame in "
        r"seed row 0 in its observation 1",
    ):
        f.observe(np.zeros(3), np.full((3, 1), 0.5))
