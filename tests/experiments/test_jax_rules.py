"""The generic JAX stage loop over rule sets (agents/compose/jax_rules.py, issue 18): it replays
the NumPy engine from the same initial states, and refuses by declared capability."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")

from agents import catalog  # noqa: E402
from agents.compose.engines.jax_rules import run_rules  # noqa: E402
from agents.compose.engines.runner import BatchRunner  # noqa: E402
from hic_envs.games import CustomGame, Duopoly, RandomQuadraticGame  # noqa: E402


def _pair(game, lname, fname, S):
    follower = catalog.make_follower(fname, game, S, {})
    return catalog.make_leader(lname, game, S, {}, partner=follower), follower


@pytest.mark.parametrize("game", [Duopoly(), RandomQuadraticGame(d1=2, d2=3, seed=1)])
def test_sga_against_a_gradient_follower_replays_numpy(game):
    """No randomness after the start: the same initial states give the same strategies after
    3000 stages (3 episodes of 1000), to 1e-12."""
    S, N = 6, 3000
    leader, follower = _pair(game, "sga", "gradient", S)
    runner = BatchRunner(game, leader, follower, 5, record=None)
    runner.run(0)  # resets the faces (their initial draws)
    start_l, start_f = dict(leader.state), dict(follower.state)
    runner.run(N)
    leader2, follower2 = _pair(game, "sga", "gradient", S)
    BatchRunner(game, leader2, follower2, 5, record=None).run(0)
    for k in start_l:
        np.testing.assert_array_equal(leader2.state[k], start_l[k])
    for k in start_f:
        np.testing.assert_array_equal(follower2.state[k], start_f[k])
    sl, sf = run_rules(game, leader2, follower2, N)
    np.testing.assert_allclose(
        leader.rules.strategy(leader.options, sl), leader.strategies, rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        follower.rules.strategy(follower.options, sf), follower.strategies, rtol=1e-12, atol=1e-12
    )
    assert not np.allclose(leader.strategies, start_l["x"])  # it learnt something


def test_a_numpy_only_game_is_refused_by_its_capability():
    game = CustomGame(
        lambda x, y: float(-((x[0] - 1.0) ** 2) + x[0] * y[0]),
        lambda x, y: float(-((y[0] - x[0]) ** 2)),
        [-2.0], [2.0], [-2.0], [2.0], mu=2.0,
    )  # fmt: skip
    leader, follower = _pair(Duopoly(), "sga", "gradient", 2)
    with pytest.raises(ValueError, match="CustomGame declares array_api=False"):
        run_rules(game, leader, follower, 10)


def test_hic_through_its_rule_set_has_the_numpy_distribution():
    """Hi-C (baseline 0.9, constant schedules: the catalog's power-law tables do not trace
    yet) against a gradient follower, run generically through its rule set: over 300 seeds
    after 20000 stages (~4000 updates each) the final distances to the DSE have the NumPy
    engine's distribution (Kolmogorov-Smirnov, p > 0.001)."""
    from scipy import stats

    from agents import GradientAscentFollower, HiCLeader

    game, S = Duopoly(), 300
    x_star = game.stackelberg().x[0]
    dist = {}
    for backend in ("numpy", "jax"):
        leader = HiCLeader(game, 0.01, 0.5, 5, baseline=0.9, num_envs=S, check_assumptions=False)
        follower = GradientAscentFollower(game, 0.1, num_envs=S)
        runner = BatchRunner(game, leader, follower, 11, record=None)
        if backend == "numpy":
            runner.run(20_000)
            x = leader.strategies
        else:
            runner.run(0)
            sl, _ = run_rules(game, leader, follower, 20_000, seed=11)
            x = leader.rules.strategy(leader.options, sl)
        dist[backend] = np.abs(x[:, 0] - x_star)
    assert np.median(dist["numpy"]) < 8.0  # from a uniform start on [0, 50], x* = 24.5
    assert stats.ks_2samp(dist["numpy"], dist["jax"]).pvalue > 1e-3


def test_tabled_schedules_read_the_numpy_values_and_fall_back_outside_the_window():
    """The generic loop reads a rule set's schedules from tables of their NumPy values
    (jax_rules._Tabled): where the rows' indices lie in one window of the table the values
    are the NumPy engine's (its ScheduleTable) bit for bit; indices spread wider than the
    window, or past the table, get the schedule's own traced evaluation (bit for bit what the
    loop computed before the tables; once for all rows where their indices agree). Hi-C's
    options with adaptive commitment are rebuilt with every costly schedule tabled (the
    tolerance inside AdaptiveCommitment too)."""
    import jax
    import jax.numpy as jnp

    from agents import AdaptiveCommitment, HiCLeader
    from agents.compose.engines import jax_rules
    from agents.schedules import CommitmentSchedule, Logarithmic, LogLinear, PowerLaw, ScheduleTable

    size, W = 1 << 16, jax_rules._WINDOW
    inside = np.array([0, 1, 7, 100, W - 1], dtype=np.int64)
    shifted = inside + 50_000
    spread = np.array([3, 3 + W, 17, 40], dtype=np.int64)
    past = np.array([size - 2, size + 5, 10**9, size], dtype=np.int64)
    # Past the table, rows whose indices agree evaluate the schedule once (one pow, not one
    # a row): the same bits.
    agree = [np.full(6, v, dtype=np.int64) for v in (size, size + 5, 10**6 + 3, 10**9)]
    schedules = [
        PowerLaw(0.5, 0.602, 3.0),
        Logarithmic(2.0),
        LogLinear(9.86, 41.3, ceil=True),
        CommitmentSchedule(0.1, 2.0, 10.0, 1.0, PowerLaw(0.5, 0.101)),
    ]
    with jax.enable_x64(True):
        for s in schedules:
            tab = jax_rules._Tabled(s, jnp.asarray(np.asarray(s(np.arange(size)), np.float64)))
            numpy_table = ScheduleTable(s, "s")
            for n in (inside, shifted):
                got = np.asarray(jax.jit(tab)(jnp.asarray(n)))
                np.testing.assert_array_equal(got, numpy_table(n))
            for n in (spread, past, *agree):
                got = np.asarray(jax.jit(tab)(jnp.asarray(n)))
                own = np.asarray(jax.jit(lambda m, s=s: jnp.asarray(s(m)).astype(jnp.float64))(n))
                np.testing.assert_array_equal(got, own)
            np.testing.assert_array_equal(tab(inside), s(inside))  # NumPy: the schedule itself

    game = Duopoly()
    leader = HiCLeader(game, PowerLaw(0.1, 0.6), PowerLaw(0.5, 0.1), AdaptiveCommitment(),
                       num_envs=2, check_assumptions=False)  # fmt: skip
    tables = jax_rules._schedule_tables(leader.options, 1024)
    assert sorted(tables) == ["commitment/tol", "perturbation", "step_size"]
    opts = jax_rules._with_tables(leader.options, tables)
    assert isinstance(opts.step_size, jax_rules._Tabled)
    assert isinstance(opts.commitment.tol, jax_rules._Tabled)
    assert isinstance(opts.commitment, AdaptiveCommitment)


def test_the_generic_loop_compiles_once_across_runs():
    """Adaptive Hi-C starts with an empty ``prev_obs`` (its size is fixed by the first
    observation) and flags held as Python scalars: the runner gives the program its states in
    the carried shapes from the first call, so later runs (and long ones, whose schedule
    indices pass any table length) reuse the one compiled program."""
    from agents import AdaptiveCommitment
    from agents.compose.engines.jax_rules import RulesRunner

    game = Duopoly()
    follower = catalog.make_follower("gradient", game, 4, {})
    leader = catalog.make_leader(
        "hic", game, 4, {"commitment": AdaptiveCommitment()}, partner=follower
    )
    runner = RulesRunner(game, leader, follower, 0, record=None)
    for stages in (10, 10, 70_000, 5):
        runner.run(stages)
    assert runner._program._cache_size() == 1
    assert runner.updates.min() > 0


def test_threefry_written_out_gives_jax_bits():
    """The generic loop's Rademacher signs come from Threefry-2x32 written round by round
    (jax_rules.threefry2x32; JAX's own lowers to a rolled loop on the CPU): the same bits as
    JAX's ``threefry_2x32``, and signs of both kinds in equal shares."""
    import jax
    import jax.numpy as jnp
    from jax.extend.random import threefry_2x32

    from agents.compose.engines import jax_rules

    rng = np.random.default_rng(0)
    key = rng.integers(0, 2**32, size=2, dtype=np.uint32)
    count = rng.integers(0, 2**32, size=64, dtype=np.uint32)
    with jax.enable_x64(True):
        want = np.asarray(threefry_2x32(jnp.asarray(key), jnp.asarray(count)))
        a, b = jax.jit(jax_rules.threefry2x32)(
            jnp.uint32(key[0]), jnp.uint32(key[1]), jnp.asarray(count[:32]), jnp.asarray(count[32:])
        )
        np.testing.assert_array_equal(np.concatenate([np.asarray(a), np.asarray(b)]), want)
        # Compiled once, the stage a traced argument (a lambda made in the loop compiled 200
        # times: 24 s of this test).
        signs_at = jax.jit(lambda t: jax_rules._rademacher(
            lambda n: jax_rules._words(jnp.asarray(key), t, 1 << 16, n), (37, 3)))  # fmt: skip
        signs = np.concatenate([np.asarray(signs_at(t)) for t in range(200)])
        assert signs_at._cache_size() == 1
    assert set(np.unique(signs)) == {-1.0, 1.0}
    # 22200 fair signs: the mean is within 5 standard deviations (0.0067) of 0.
    assert abs(signs.mean()) < 5 / np.sqrt(signs.size)
    assert not np.array_equal(signs[:37], signs[37:74])  # stages draw afresh


class _EchoRules:
    """A follower whose action reads what it observed: ``(y + obs) / 2`` (obs: the leader's
    last action, the box centre at an episode's first stage); it learns ``y += (obs - y) / 10``."""

    from agents.rules.protocol import Capabilities

    capabilities = Capabilities(reward_free=True)

    def init_draws(self, options, spec, num_rows):
        return ()

    def init(self, options, spec, num_rows, draws):
        return {"y": np.broadcast_to(spec.low, (num_rows, spec.dim)).copy(), "t": 0}

    def act(self, options, spec, state, obs):
        return 0.5 * (state["y"] + obs)

    def prepare(self, options, spec, state, reward, obs):
        return state, ()

    def observe(self, options, spec, state, reward, obs, draws):
        return {"y": state["y"] + 0.1 * (obs - state["y"]), "t": state["t"] + 1}

    def strategy(self, options, state):
        return state["y"]

    def update_counts(self, options, state):
        from agents.rules.protocol import stage_counts

        return stage_counts(state["y"], state["t"])

    def updates(self, options, state):
        return state["y"].shape[0] * state["t"]


def test_a_rule_set_that_acts_on_its_observation_keeps_it_across_stages_and_chunks():
    """The generic loop carries the observations from stage to stage only for a rule set whose
    ``act`` reads them (the library's do not: their loop plays its last stage apart): a user
    follower that does replays the NumPy engine across chunks and episodes, to 1e-12."""
    import dataclasses

    import jax
    import jax.numpy as jnp

    from agents.compose.engines import jax_rules
    from agents.face import RuleAgent

    @dataclasses.dataclass(frozen=True)
    class EchoOptions:
        _cache: dict = dataclasses.field(default_factory=dict, init=False, compare=False)

    class Echo(RuleAgent):
        rules = _EchoRules()
        options_type = EchoOptions

        def __init__(self, game, *, num_envs=None, seed=None):
            super().__init__(game.follower_low, game.follower_high, num_envs=num_envs, seed=seed)
            self._setup(EchoOptions())

    game, S = Duopoly(), 5
    make = lambda: (catalog.make_leader("sga", game, S, {}), Echo(game, num_envs=S))  # noqa: E731
    leader, follower = make()
    numpy_runner = BatchRunner(game, leader, follower, 3, max_cycles=7)
    with jax.enable_x64(True):
        z = jax.ShapeDtypeStruct((S, 1), jnp.float64)
        shapes = {"y": z, "t": jax.ShapeDtypeStruct((), jnp.int64)}
        assert jax_rules._reads_obs(follower.rules, follower.options, follower.spec, shapes, z)
        lshapes = {k: jax.ShapeDtypeStruct(np.shape(v), np.asarray(v).dtype)
                   for k, v in leader.state.items()}  # fmt: skip
        assert not jax_rules._reads_obs(leader.rules, leader.options, leader.spec, lshapes, z)
    leader2, follower2 = make()
    jax_runner = jax_rules.RulesRunner(game, leader2, follower2, 3, max_cycles=7)
    for stages in (1, 12, 30):
        numpy_runner.run(stages)
        jax_runner.run(stages)
        a, b = numpy_runner.state_dict(), jax_runner.state_dict()
        for k in ("obs_l", "obs_f", "n_seen"):
            np.testing.assert_allclose(b[k], a[k], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(follower2.strategies, follower.strategies, rtol=1e-12)
        np.testing.assert_allclose(leader2.strategies, leader.strategies, rtol=1e-12)
    assert not np.allclose(follower.strategies, game.follower_low)  # it moved


def test_the_loop_without_observations_gives_the_carried_loops_records():
    """Library rule sets do not act on their observations, so the loop plays the last stage
    of each call apart and carries none; with a buffer of one stage's records (no room for
    two, so the carried form) the records, states and observations are the same, bit for
    bit, across chunks that end at buffer boundaries and between them."""
    from agents.compose.engines.jax_rules import RulesRunner

    game, S = RandomQuadraticGame(d1=2, d2=3, seed=1), 3
    out = []
    for rows in (None, S):
        leader, follower = _pair(game, "sga", "gradient", S)
        runner = RulesRunner(
            game, leader, follower, 7, record="all", buffer_rows=rows, max_cycles=50
        )
        hist = [runner.run(n) for n in (1, 2, 97, 40)]
        out.append((hist, runner.state_dict()))
    (h1, s1), (h2, s2) = out
    for a, b in zip(h1, h2, strict=True):
        np.testing.assert_array_equal(a.leader_strategies, b.leader_strategies)
        np.testing.assert_array_equal(a.follower_strategies, b.follower_strategies)
        np.testing.assert_array_equal(a.stage, b.stage)
        np.testing.assert_array_equal(a.update, b.update)
    assert sorted(s1) == sorted(s2)
    for k in s1:
        np.testing.assert_array_equal(s1[k], s2[k])
