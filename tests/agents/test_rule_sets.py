"""Issue 18: every learner is a rule set, and under NumPy it reproduces the pre-refactor
learners (``reference_learners.py``, a frozen copy) bit for bit, in the same process."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import reference_learners as R

import agents
from agents.compose.engines.runner import BatchRunner, play
from agents.face import RuleAgent
from agents.hic import AdaptiveCommitment
from agents.lola import LOLALeader
from agents.rules.protocol import Capabilities, Draw, RuleSet, capabilities_of, draw_numpy
from agents.schedules import LogLinear, PerRow, PowerLaw
from hic_envs import GameEnv
from hic_envs.games import Duopoly, QuadraticGame, SecurityGame

SEEDS = (0, 1, 7)

# Hi-C options: every option of the leader, alone and in the combinations it allows.
HIC_OPTIONS = {
    "plain": {},
    "baseline": {"baseline": 0.9},
    "baseline_init": {"baseline": 0.5, "baseline_init": 10.0},
    "average_last": {"average_last": 3},
    "two_sided": {"two_sided": True},
    "burn_in": {"burn_in": 3},
    "burn_in_baseline": {"burn_in": 4, "baseline": 0.8},
    "interval_schedules": {"interval_schedules": True, "burn_in": 2, "baseline": 0.9},
    "adaptive": {"commitment": AdaptiveCommitment(min_length=2, max_length=12)},
    "adaptive_avg": {
        "commitment": AdaptiveCommitment(tol=0.5, min_length=3, max_length=9),
        "average_last": 2,
        "baseline": 0.9,
    },
    "schedules": {
        "step_size": PowerLaw(0.5, 0.602),
        "perturbation": PowerLaw(0.8, 0.101),
        "commitment": LogLinear(1.0, 2.0, ceil=True),
        "average_last": 4,
    },
    "init": {"init": np.array([20.0])},
}


def _hic(mod, game, S, **opts):
    kw = {"step_size": 0.05, "perturbation": 0.5, "commitment": 4} | opts
    ac = kw.get("commitment")
    if isinstance(ac, AdaptiveCommitment):  # the module's own class
        kw["commitment"] = mod.AdaptiveCommitment(ac.tol, ac.min_length, ac.max_length)
    sa, pe, co = kw.pop("step_size"), kw.pop("perturbation"), kw.pop("commitment")
    return mod.HiCLeader(game, sa, pe, co, num_envs=S, check_assumptions=False, **kw)


def _followers(mod, game, S):
    return {
        "gradient": lambda: mod.GradientAscentFollower(game, 0.1, num_envs=S),
        "stochastic": lambda: mod.StochasticGradientFollower(game, 0.1, 0.3, num_envs=S),
        "best_response": lambda: mod.BestResponseFollower(game, num_envs=S),
    }


def _leaders(mod, game, S):
    return {
        "hic": lambda: _hic(mod, game, S, baseline=0.9),
        "sga": lambda: mod.SGALeader(game, 0.01, num_envs=S, noise_std=0.1),
        "hierarchical": lambda: mod.HierarchicalGradientLeader(game, 0.01, num_envs=S),
        "oracle": lambda: mod.OracleSPSALeader(
            game, 0.05, 0.5, 2, num_envs=S, check_assumptions=False
        ),
        "oracle_two_sided": lambda: mod.OracleSPSALeader(
            game, 0.05, 0.5, 1, num_envs=S, two_sided=True, check_assumptions=False
        ),
        "lola": lambda: (LOLALeader if mod is agents else R.LOLALeader)(
            game, 0.01, num_envs=S, lookahead=0.5
        ),
        "lola_original": lambda: (LOLALeader if mod is agents else R.LOLALeader)(
            game, 0.01, num_envs=S, correction=False, noise_std=0.2
        ),
    }


def _same(a, b):
    for f in ("row", "update", "stage", "leader_strategies", "follower_strategies"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    assert np.array_equal(a.final_leader, b.final_leader)
    assert np.array_equal(a.final_follower, b.final_follower)


def _run_both(make_new, make_ref, game, seed, stages=400, chunks=(150, 250), **kw):
    runs = []
    for make in (make_new, make_ref):
        leader, follower = make()
        runner = BatchRunner(game, leader, follower, seed=seed, noise_std=0.5, **kw)
        runs.append([runner.run(c) for c in chunks])
    for a, b in zip(*runs, strict=True):
        _same(a, b)


@pytest.mark.parametrize("option", sorted(HIC_OPTIONS))
@pytest.mark.parametrize("seed", SEEDS)
def test_hic_options_reproduce_the_reference_bit_for_bit(option, seed):
    game, S = Duopoly(), 5
    opts = HIC_OPTIONS[option]
    _run_both(
        lambda: (
            _hic(agents, game, S, **opts),
            agents.GradientAscentFollower(game, 0.1, num_envs=S),
        ),
        lambda: (_hic(R, game, S, **opts), R.GradientAscentFollower(game, 0.1, num_envs=S)),
        game,
        seed,
        max_cycles=97,
    )


@pytest.mark.parametrize(
    "leader", ["hic", "sga", "hierarchical", "oracle", "oracle_two_sided", "lola", "lola_original"]
)
@pytest.mark.parametrize("follower", ["gradient", "stochastic", "best_response"])
@pytest.mark.parametrize("seed", SEEDS)
def test_every_pair_reproduces_the_reference_bit_for_bit(leader, follower, seed):
    game, S = QuadraticGame(), 4
    _run_both(
        lambda: (_leaders(agents, game, S)[leader](), _followers(agents, game, S)[follower]()),
        lambda: (_leaders(R, game, S)[leader](), _followers(R, game, S)[follower]()),
        game,
        seed,
        stages=300,
        chunks=(120, 180),
        max_cycles=50,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_mirror_follower_reproduces_the_reference(seed):
    game, S = SecurityGame(), 3

    def make(mod):
        return _hic(mod, game, S, commitment=3), mod.EntropicMirrorFollower(game, 0.05, num_envs=S)

    _run_both(lambda: make(agents), lambda: make(R), game, seed, chunks=(60, 90))


@pytest.mark.parametrize("seed", SEEDS)
def test_hedge_follower_reproduces_the_reference(seed):
    game, S = QuadraticGame(), 3  # Y = [-4, 4] contains the simplex

    def make(mod):
        leader = _hic(mod, game, S, commitment=2)
        return leader, mod.EntropicMirrorFollower(game, 0.05, num_envs=S, simplex=True)

    _run_both(lambda: make(agents), lambda: make(R), game, seed, chunks=(60, 90))


@pytest.mark.parametrize("option", ["plain", "adaptive", "average_last", "two_sided", "burn_in"])
@pytest.mark.parametrize("seed", SEEDS)
def test_single_face_play_reproduces_the_reference(option, seed):
    game = Duopoly()
    out = []
    for mod in (agents, R):
        leader = _hic(mod, game, None, **HIC_OPTIONS[option])
        follower = mod.StochasticGradientFollower(game, 0.1, 0.2)
        out.append(play(GameEnv(game, max_cycles=70, noise_std=0.3), leader, follower, 300, seed))
    for f in dataclasses.fields(out[0]):
        assert np.array_equal(getattr(out[0], f.name), getattr(out[1], f.name)), f.name


# ---------------------------------------------------------------------------------- per row
def test_a_per_row_schedule_of_equal_rows_is_the_constant_bit_for_bit():
    game, S = Duopoly(), 4
    runs = []
    for commitment, step in ((PerRow((5,) * S), np.full(S, 0.05)), (5, 0.05)):
        leader = _hic(agents, game, S, commitment=commitment, step_size=step, baseline=0.9)
        follower = agents.GradientAscentFollower(game, np.full(S, 0.1), num_envs=S)
        if commitment == 5:
            follower = agents.GradientAscentFollower(game, 0.1, num_envs=S)
        runs.append(BatchRunner(game, leader, follower, seed=2, noise_std=0.4).run(400))
    _same(*runs)


def test_per_row_hyperparameters_give_each_row_its_own_run():
    """Row i of a batch whose rows run step sizes a_i (leader) and b_i (follower) is row i of
    a batch that runs (a_i, b_i) in every row: the draws do not depend on the step sizes."""
    game, S = QuadraticGame(), 3
    a, b = np.array([0.02, 0.05, 0.1]), np.array([0.05, 0.1, 0.2])

    def run(step_a, step_b):
        leader = _hic(agents, game, S, step_size=step_a, average_last=2)
        follower = agents.GradientAscentFollower(game, step_b, num_envs=S)
        return BatchRunner(game, leader, follower, seed=4, noise_std=0.2).run(300)

    mixed = run(a, b)
    for i in range(S):
        alone = run(float(a[i]), float(b[i]))
        for got, want in zip(mixed.for_row(i), alone.for_row(i), strict=True):
            assert np.array_equal(got, want)
        assert np.array_equal(mixed.final_leader[i], alone.final_leader[i])


def test_per_row_commitments_end_intervals_at_different_stages():
    game, S, k = Duopoly(), 3, (2, 3, 7)
    leader = _hic(agents, game, S, commitment=PerRow(k))
    follower = agents.GradientAscentFollower(game, 0.1, num_envs=S)
    runner = BatchRunner(game, leader, follower, seed=0)
    runner.run(210)
    assert leader.intervals.tolist() == [210 // ki for ki in k]
    assert leader.update_counts().tolist() == [210 // ki for ki in k]


def test_per_row_burn_in_and_baseline():
    game, S = Duopoly(), 2
    leader = _hic(agents, game, S, burn_in=np.array([0, 5]), baseline=np.array([0.5, 0.9]))
    leader.reset(seed=0)
    obs = np.full((S, 1), 20.0)
    for _ in range(4 * 8):
        leader.act_batch(obs)
        leader.observe_batch(np.ones(S), obs)
    # 8 intervals: row 0 warms its baseline once (7 updates), row 1 burns in 5 (3 updates).
    assert leader.update_counts().tolist() == [7, 3]


def test_per_row_schedules_must_match_the_batch():
    game = Duopoly()
    leader = _hic(agents, game, 3, commitment=PerRow((2, 3)))
    with pytest.raises(ValueError, match="PerRow"):
        leader.reset(seed=0)
    with pytest.raises(ValueError, match="per-row baseline"):
        _hic(agents, game, 3, baseline=np.array([0.5, 0.9]))


# ---------------------------------------------------------------------------------- state
@pytest.mark.parametrize("option", sorted(HIC_OPTIONS))
def test_hic_state_dict_round_trips_with_every_option(option):
    game, S = Duopoly(), 3
    runs = []
    for resume in (False, True):
        leader = _hic(agents, game, S, **HIC_OPTIONS[option])
        follower = agents.StochasticGradientFollower(game, 0.1, 0.3, num_envs=S)
        runner = BatchRunner(game, leader, follower, seed=3, noise_std=0.5)
        first = runner.run(123)
        if resume:
            state = runner.state_dict()
            assert set(leader.state) <= {k[len("leader/") :] for k in state}
            leader = _hic(agents, game, S, **HIC_OPTIONS[option])
            follower = agents.StochasticGradientFollower(game, 0.1, 0.3, num_envs=S)
            runner = BatchRunner(game, leader, follower, seed=99, noise_std=0.5)
            runner.load_state_dict(state)
        runs.append((first, runner.run(200)))
    _same(runs[0][1], runs[1][1])


def test_state_dict_is_the_rule_sets_state_plus_the_generator():
    game = Duopoly()
    for agent in (
        _hic(agents, game, 2),
        agents.SGALeader(game, 0.01, num_envs=2),
        LOLALeader(game, 0.01, num_envs=2),
        agents.BestResponseFollower(game, num_envs=2),
        agents.EntropicMirrorFollower(SecurityGame(), 0.05, num_envs=2),
    ):
        agent.reset(seed=0)
        sd = agent.state_dict()
        assert set(sd) - {"rng", "obs_dim"} == set(agent.state)
        assert all(isinstance(v, np.ndarray) and v.dtype != object for v in sd.values())


# ---------------------------------------------------------------------------------- protocol
def test_library_learners_declare_their_capabilities():
    game = Duopoly()
    hic = capabilities_of(_hic(agents, game, 2))
    assert hic.fast_forward and hic.pure and not hic.needs_game and not hic.coupled
    with pytest.warns(UserWarning, match="Assumption 4.4 may not hold"):  # constant schedules
        oracle = capabilities_of(agents.OracleSPSALeader(game, 0.05, 0.5, num_envs=2))
    assert oracle.fast_forward and oracle.needs_game and oracle.coupled
    for f in (
        agents.GradientAscentFollower(game, 0.1, num_envs=2),
        agents.BestResponseFollower(game, num_envs=2),
    ):
        caps = capabilities_of(f)
        assert caps.reward_free and caps.needs_game and not caps.coupled
    assert capabilities_of(agents.GradientAscentFollower(game, 0.1)).repeat
    assert capabilities_of(LOLALeader(game, 0.01)).coupled
    assert capabilities_of(agents.HierarchicalGradientLeader(game, 0.01)).coupled
    assert not capabilities_of(agents.SGALeader(game, 0.01)).coupled
    assert agents.SGALeader.coupled is False and LOLALeader.coupled is True
    for face in (agents.HiCLeader, agents.SGALeader, agents.GradientAscentFollower):
        assert isinstance(face.rules, RuleSet)


def test_non_rule_set_agents_declare_what_they_lack():
    from agents.sb3 import SB3Follower
    from hic_envs.games import CustomGame

    assert SB3Follower.capabilities.pure is False
    with pytest.warns(UserWarning, match="Assumption 4.4 may not hold"):  # constant schedules
        reference = R.HiCLeader(Duopoly(), 0.1, 0.5, 3)
    assert capabilities_of(reference) is None
    custom = CustomGame(
        lambda x, y: -((x - y) ** 2).sum(), lambda x, y: -((y - x) ** 2).sum(), 0, 1, 0, 1
    )
    assert custom.array_api is False and Duopoly().array_api is True


def test_draw_numpy_draws_the_rows_asked_for_in_order():
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    first = np.array([True, False, True, False])
    second = np.array([False, True, False, False])
    out = draw_numpy(
        rng_a,
        (
            Draw("D", "rademacher", (2,), first),
            Draw("D", "rademacher", (2,), second),
            Draw("w", "normal", (2,), scale=0.5),
        ),
        4,
    )
    a = 2.0 * rng_b.integers(0, 2, size=(2, 2)) - 1.0
    b = 2.0 * rng_b.integers(0, 2, size=(1, 2)) - 1.0
    w = rng_b.normal(0.0, 0.5, size=(4, 2))
    assert np.array_equal(out["D"][[0, 2]], a) and np.array_equal(out["D"][[1]], b)
    assert np.array_equal(out["D"][3], [0.0, 0.0]) and np.array_equal(out["w"], w)
    assert draw_numpy(rng_a, (Draw("D", "rademacher", (2,), np.zeros(4, bool)),), 4) == {}
    with pytest.raises(ValueError, match="kind"):
        Draw("D", "poisson", (1,))


# ---------------------------------------------------------------------------------- a user's
@dataclasses.dataclass(frozen=True)
class DampedOptions:
    """A user's follower: ``y <- clip(y + rate (x - y) + w)``; ``rate`` per row allowed."""

    rate: float | np.ndarray = 0.5
    noise_std: float = 0.0
    _cache: dict = dataclasses.field(default_factory=dict, init=False, compare=False)


class DampedRules:
    capabilities = Capabilities(reward_free=True, draws=("w",))

    def init_draws(self, options, spec, num_rows):
        return ()

    def init(self, options, spec, num_rows, draws):
        return {"y": np.broadcast_to(spec.low, (num_rows, spec.dim)).copy(), "t": 0}

    def act(self, options, spec, state, obs):
        return state["y"]

    def prepare(self, options, spec, state, reward, obs):
        if options.noise_std == 0:
            return state, ()
        return state, (Draw("w", "normal", (spec.dim,), scale=options.noise_std),)

    def observe(self, options, spec, state, reward, obs, draws):
        rate = np.asarray(options.rate)
        rate = rate[:, None] if rate.ndim else rate
        y = state["y"] + rate * (obs - state["y"]) + draws.get("w", 0.0)
        return {"y": np.clip(y, spec.low, spec.high), "t": state["t"] + 1}

    def strategy(self, options, state):
        return state["y"]

    def update_counts(self, options, state):
        return np.full(state["y"].shape[0], state["t"])

    def updates(self, options, state):
        return state["y"].shape[0] * state["t"]


class DampedFollower(RuleAgent):
    rules = DampedRules()
    options_type = DampedOptions

    def __init__(self, game, rate=0.5, noise_std=0.0, *, num_envs=None, seed=None):
        super().__init__(game.follower_low, game.follower_high, num_envs=num_envs, seed=seed)
        self._setup(DampedOptions(rate, noise_std))


def test_a_user_rule_set_runs_on_the_numpy_engine():
    game, S = Duopoly(), 3
    follower = DampedFollower(game, rate=1.0, num_envs=S)
    leader = _hic(agents, game, S, commitment=5)
    runner = BatchRunner(game, leader, follower, seed=0, max_cycles=10**6)
    runner.run(52)
    # rate 1: the follower plays the leader action it observed at the stage before.
    last_x = runner.state_dict()["obs_f"]  # the leader's action at the last stage
    want = np.clip(last_x, game.follower_low, game.follower_high)
    assert np.array_equal(follower.strategies, want)
    assert follower.update_counts().tolist() == [52] * S


def test_a_user_rule_set_has_per_row_options_noise_and_checkpoints():
    game, S = Duopoly(), 3
    make = lambda: (  # noqa: E731
        _hic(agents, game, S),
        DampedFollower(game, rate=np.array([0.1, 0.5, 0.9]), noise_std=0.5, num_envs=S),
    )
    leader, follower = make()
    runner = BatchRunner(game, leader, follower, seed=1, noise_std=0.2)
    runner.run(77)
    state = runner.state_dict()
    ref = runner.run(60)
    leader2, follower2 = make()
    runner2 = BatchRunner(game, leader2, follower2, seed=8, noise_std=0.2)
    runner2.load_state_dict(state)
    _same(ref, runner2.run(60))
    assert follower.options.rate.shape == (S,)
    assert not np.array_equal(follower.strategies[0], follower.strategies[2])


# ---------------------------------------------------------------------------------- traced
JIT_CASES = {
    "plain": {},
    "baseline_average": {"baseline": 0.9, "average_last": 2},
    "two_sided": {"two_sided": True},
    "burn_in_intervals": {"burn_in": 2, "interval_schedules": True, "baseline": 0.5},
    "adaptive": {"commitment": AdaptiveCommitment(tol=0.1, min_length=2, max_length=9)},
}


@pytest.mark.parametrize("case", sorted(JIT_CASES))
def test_the_same_rules_traced_by_jax_replay_numpy_given_the_same_draws(case):
    """The rule set is one program: under ``jax.jit`` (masks everywhere, no early exits) it
    gives NumPy's numbers when handed NumPy's draws, at every stage: counters and interval
    ends exactly, strategies to 1e-12 (XLA may fuse ``lam b + (1 - lam) s`` differently)."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    from agents.hic import HIC_RULES, HiCOptions
    from agents.rules.protocol import Spec

    game, S = Duopoly(), 4
    opts = HiCOptions(
        **({"step_size": 0.05, "perturbation": 0.5, "commitment": 3} | JIT_CASES[case])
    )
    spec = Spec(game.leader_low, game.leader_high, game.d2)
    rng = np.random.default_rng(0)
    state = HIC_RULES.init(opts, spec, S, draw_numpy(rng, HIC_RULES.init_draws(opts, spec, S), S))
    with jax.enable_x64(True):
        traced = {k: jnp.asarray(v) for k, v in state.items()}

        @jax.jit
        def stage(st, r, o, delta_draw):
            st, _ = HIC_RULES.prepare(opts, spec, st, r, o)
            return HIC_RULES.observe(opts, spec, st, r, o, {"Delta": delta_draw})

        for t in range(40):
            r = rng.normal(size=S)
            o = rng.uniform(0, 50, size=(S, 1)) if t % 3 else np.full((S, 1), 20.0)
            state, wanted = HIC_RULES.prepare(opts, spec, state, r, o)
            draws = draw_numpy(rng, wanted, S)
            state = HIC_RULES.observe(opts, spec, state, r, o, draws)
            delta_draw = draws.get("Delta", np.zeros((S, 1)))
            traced = stage(traced, jnp.asarray(r), jnp.asarray(o), jnp.asarray(delta_draw))
            for key in ("n", "j", "k", "start"):
                assert np.array_equal(np.asarray(traced[key]), state[key]), (t, key)
            for key in ("x", "xt", "delta", "b"):
                np.testing.assert_allclose(traced[key], state[key], rtol=1e-12, atol=1e-12)
