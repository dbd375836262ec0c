"""Every catalog leader x follower pair on the JAX engine (issue 18): which run, which are
refused and why, replays of the NumPy engine, distributions and checkpoints.

``python -m pytest tests/experiments/test_jax_pairs.py -k runs_or_is_refused -v`` lists the
pairs (the table below is the one place that says which run).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("jax")

from agents import AdaptiveCommitment, catalog  # noqa: E402
from agents.baselines import SGALeader  # noqa: E402
from agents.compose.engines.jax_engine import JaxRunner  # noqa: E402
from agents.compose.engines.jax_rules import RulesRunner  # noqa: E402
from agents.compose.engines.runner import make_runner  # noqa: E402
from agents.followers import (  # noqa: E402
    BestResponseFollower,
    GradientAscentFollower,
    StochasticGradientFollower,
)
from agents.hic import HiCLeader  # noqa: E402
from agents.rules.protocol import capabilities_of  # noqa: E402
from agents.schedules import PerRow, PowerLaw  # noqa: E402
from hic_envs.games import Duopoly, RandomQuadraticGame  # noqa: E402

#: The catalog pairs that run on backend="jax", and by which loop (Duopoly, catalog options):
#: every rule-set leader against every rule-set follower (the games' derivatives, Hessian
#: blocks, hierarchical gradient and closed-form best responses are array-API code).
RULE_SET_LEADERS = ("hic", "sga", "hierarchical", "lola", "oracle-spsa")
RULE_SET_FOLLOWERS = ("gradient", "stochastic", "best-response")
RUNS = {
    **{
        (lname, fname): JaxRunner
        if (lname, fname) in (("hic", "gradient"), ("hic", "stochastic"))
        else RulesRunner
        for lname in RULE_SET_LEADERS
        for fname in RULE_SET_FOLLOWERS
    },
    # The coupled learners of agents/coupled.py are rule sets too, and the duopoly's
    # Hessian-vector products are array-API code: every catalog pair runs.
    **{
        (lname, fname): RulesRunner
        for lname in catalog.LEADERS
        for fname in catalog.FOLLOWERS
        if lname not in RULE_SET_LEADERS or fname not in RULE_SET_FOLLOWERS
    },
}


def _build(lname, fname, game, S, **lopts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        follower = catalog.make_follower(fname, game, S, {})
        return catalog.make_leader(lname, game, S, lopts, partner=follower), follower


@pytest.mark.parametrize("lname", list(catalog.LEADERS))
def test_every_catalog_pair_runs_or_is_refused_by_name(lname):
    """A pair runs (the loop named in RUNS) or make_runner refuses it with a ValueError naming
    why: a learner that is not a rule set, or a rule set whose trace stops at NumPy-only code
    (the games' best_response and second derivatives)."""
    game = Duopoly()
    for fname in catalog.FOLLOWERS:
        leader, follower = _build(lname, fname, game, 2)
        expected = RUNS.get((lname, fname))
        if expected is not None:
            runner = make_runner(game, leader, follower, 0, backend="jax")
            assert type(runner) is expected
            assert np.isfinite(runner.run(20).final_leader).all()
            continue
        if capabilities_of(leader) is None or capabilities_of(follower) is None:
            match = "is not a rule set"
        else:  # a rule-set pair outside RUNS (none of the 15 catalog pairs above)
            match = f"{type(leader).__name__} x {type(follower).__name__}: .* does not trace"
        with pytest.raises(ValueError, match=match):
            make_runner(game, leader, follower, 0, backend="jax")


def _both(game, make, N, seed=5, chunks=(None,), record="all"):
    out = []
    for backend in ("numpy", "jax"):
        leader, follower = make()
        runner = make_runner(game, leader, follower, seed, backend=backend, record=record)
        out.append(runner.run(N))
    return out


@pytest.mark.parametrize(
    ("game", "step"),
    [
        (Duopoly(), 0.01),
        (RandomQuadraticGame(d1=2, d2=3, seed=1), PowerLaw(0.05, 0.6)),
        (Duopoly(), PerRow((0.01, 0.02, PowerLaw(0.02, 0.5), 0.005))),
    ],
)
def test_sga_replays_the_numpy_engine(game, step):
    """SGA against a gradient follower draws nothing after the start (which both engines
    draw alike): 3000 stages (3 episodes) give the NumPy engine's records, every update
    index and stage the same and the strategies to 1e-12, with constant, power-law and
    per-row step schedules (traced in the JAX namespace)."""
    S = 4

    def make():
        follower = GradientAscentFollower(game, 0.05, num_envs=S)
        return SGALeader(game, step, num_envs=S), follower

    a, b = _both(game, make, 3000)
    _same(a, b)
    assert not np.allclose(a.final_leader, a.leader_strategies[:S])  # it moved


def test_sga_against_the_best_response_follower_replays_the_numpy_engine():
    """The best-response follower (the duopoly's array-API best_response) draws nothing after
    the start: 3000 stages replay the NumPy engine to 1e-12."""
    game, S = Duopoly(), 4

    def make():
        return SGALeader(game, 0.01, num_envs=S), BestResponseFollower(game, num_envs=S)

    a, b = _both(game, make, 3000)
    _same(a, b)


@pytest.mark.parametrize(
    ("lname", "fname", "game"),
    [
        ("hierarchical", "gradient", Duopoly()),
        pytest.param("hierarchical", "best-response", Duopoly(), marks=pytest.mark.slow),
        pytest.param("lola", "gradient", Duopoly(), marks=pytest.mark.slow),
        ("lola", "best-response", Duopoly()),
        ("hierarchical", "gradient", RandomQuadraticGame(d1=2, d2=3, seed=1)),
        ("lola", "gradient", RandomQuadraticGame(d1=2, d2=3, seed=1)),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_coupled_gradient_leaders_replay_the_numpy_engine(lname, fname, game):
    """The hierarchical and LOLA leaders (catalog options) draw nothing after the start
    against the gradient and best-response followers: 3000 stages give the NumPy engine's
    records, and strategies to 1e-12, on the duopoly and on RandomQuadratic with d2 = 3
    (the hierarchical gradient's batched solve; LOLA's closed-form grad_yx f1: a difference
    there amplified the engines' last-bit differences past 1e-12)."""
    S = 4

    def make():
        return _build(lname, fname, game, S)

    a, b = _both(game, make, 3000)
    _same(a, b)
    assert not np.allclose(a.final_leader, a.leader_strategies[:S])  # it moved


def _same(a, b):
    for f in ("row", "update", "stage"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    for f in ("leader_strategies", "follower_strategies", "final_leader", "final_follower"):
        np.testing.assert_allclose(getattr(b, f), getattr(a, f), rtol=1e-12, atol=1e-12)


#: Hi-C options that only the generic loop runs (rows' intervals may end at different stages).
HIC_OPTIONS = {
    "adaptive": dict(commitment=AdaptiveCommitment(min_length=3, max_length=50)),
    "average_last": dict(average_last=3),
    "two_sided": dict(two_sided=True, baseline=None),
    "burn_in": dict(burn_in=20, interval_schedules=True),
    "per_row": dict(step_size=PerRow((0.01, 0.005) * 4), commitment=np.array([3, 5] * 4)),
    "per_row_baseline": dict(baseline=np.array([0.5, 0.9] * 4)),
}


def _hic(game, S, **opts):
    kw = dict(step_size=0.01, perturbation=0.5, commitment=5, baseline=0.9)
    kw.update(opts)
    leader = HiCLeader(game, num_envs=S, check_assumptions=False, **kw)
    return leader, GradientAscentFollower(game, 0.1, num_envs=S)


@pytest.mark.parametrize(
    "name",
    [
        n if n in ("adaptive", "per_row") else pytest.param(n, marks=pytest.mark.slow)
        for n in HIC_OPTIONS
    ],
)
def test_hic_options_run_in_the_generic_loop_and_learn(name):
    """Every Hi-C option traces: 8 seeds, 6000 stages from a uniform start on [0, 50]; the
    generic loop's records have the NumPy engine's shape (updates 0..n per row, in order)
    and the leader ends nearer the DSE (x* = 24.5) than it started, on average."""
    game = Duopoly()
    opts = HIC_OPTIONS[name]
    leader, follower = _hic(game, 8, **opts)
    runner = make_runner(game, leader, follower, 3, backend="jax")
    assert isinstance(runner, RulesRunner)
    h = runner.run(6000)
    x_star = game.stackelberg().x[0]
    start = h.leader_strategies[h.update == 0][:, 0]
    assert np.mean(np.abs(h.final_leader[:, 0] - x_star)) < np.mean(np.abs(start - x_star))
    for i in range(8):
        _, xs, _ = h.for_row(i)
        n = h.update[h.row == i]
        np.testing.assert_array_equal(n, np.arange(n.size))
        assert n.size > 10
        np.testing.assert_array_equal(xs[-1], h.final_leader[i])
    np.testing.assert_array_equal(runner.updates, leader.update_counts())


def _final_x(backend, make, S, N, seed, runner_cls=None):
    leader, follower = make(S)
    if runner_cls is None:
        runner = make_runner(Duopoly(), leader, follower, seed, backend=backend, record=None)
    else:
        runner = runner_cls(Duopoly(), leader, follower, seed, record=None)
    runner.run(N)
    return runner.leader.strategies[:, 0]


def _ks(a, b):
    from scipy import stats

    return stats.ks_2samp(a, b).pvalue


@pytest.mark.slow
@pytest.mark.parametrize("name", list(HIC_OPTIONS))
def test_hic_options_have_the_numpy_distribution(name):
    """300 seeds, 20000 stages (per_row: rows alternate two configurations, so 150 seeds of
    each): the final leader strategies of the generic loop and of the NumPy engine have one
    distribution (two-sample Kolmogorov-Smirnov, p > 0.001, per configuration)."""
    opts = dict(HIC_OPTIONS[name])
    S = 300
    if name == "per_row":
        opts = dict(step_size=PerRow((0.01, 0.005) * 150), commitment=np.array([3, 5] * 150))
    if name == "per_row_baseline":
        opts = dict(baseline=np.array([0.5, 0.9] * 150))

    def make(S):
        return _hic(Duopoly(), S, **opts)

    a = _final_x("numpy", make, S, 20_000, 11)
    b = _final_x("jax", make, S, 20_000, 11)
    assert np.median(np.abs(a - 24.5)) < 10.0
    groups = (
        (slice(0, None, 2), slice(1, None, 2)) if name.startswith("per_row") else (slice(None),)
    )
    for g in groups:
        assert _ks(a[g], b[g]) > 1e-3


@pytest.mark.slow
def test_sga_against_a_stochastic_follower_has_the_numpy_distribution():
    """The stochastic follower's noise is drawn from JAX's keys: 300 seeds, 5000 stages, the
    final leader strategies have the NumPy engine's distribution (KS, p > 0.001)."""

    def make(S):
        game = Duopoly()
        return SGALeader(game, 0.01, num_envs=S), StochasticGradientFollower(
            game, 0.05, noise_std=2.0, num_envs=S
        )

    a = _final_x("numpy", make, 300, 5000, 4)
    b = _final_x("jax", make, 300, 5000, 4)
    assert np.std(a) > 0.01  # the noise matters
    assert _ks(a, b) > 1e-3


@pytest.mark.slow
def test_hic_against_the_best_response_follower_has_the_numpy_distribution():
    """Hi-C (catalog defaults) against the best-response follower, generic loop: 300 seeds,
    20000 stages, the final leader strategies have the NumPy engine's distribution (KS,
    p > 0.001)."""

    def make(S):
        game = Duopoly()
        follower = catalog.make_follower("best-response", game, S, {})
        return catalog.make_leader("hic", game, S, {}, partner=follower), follower

    a = _final_x("numpy", make, 300, 20_000, 12)
    b = _final_x("jax", make, 300, 20_000, 12)
    assert np.median(np.abs(a - 24.5)) < 10.0
    assert _ks(a, b) > 1e-3


#: LOLA's catalog lookahead (eta = 1) sends the duopoly's leader to the corner x = 50 in every
#: row: its direction is g = y >= 0 there (grad_x f1 = 49 - 2x - y, shaping x, correction
#: -(49 - x - 2y)), so no draw spreads the result. At eta = 1/2 (a Newton step for
#: grad_yy f2 = -2) g = 24.5 - x does not read y at all; at eta = 1/4, g = 36.75 - 1.5x - 0.5y
#: reads the follower's noisy y and settles near x = 19.6 (std 0.039 over 300 rows after 5000
#: stages, NumPy engine): the test's premise holds.
LOLA_SPREADS = {"lookahead": 0.25}


@pytest.mark.parametrize(
    ("lname", "fname", "S", "N", "lopts"),
    [
        ("oracle-spsa", "gradient", 200, 3000, {}),
        pytest.param("oracle-spsa", "best-response", 300, 20_000, {}, marks=pytest.mark.slow),
        pytest.param("oracle-spsa", "stochastic", 300, 20_000, {}, marks=pytest.mark.slow),
        pytest.param("hierarchical", "stochastic", 300, 5000, {}, marks=pytest.mark.slow),
        pytest.param("lola", "stochastic", 300, 5000, LOLA_SPREADS, marks=pytest.mark.slow),
    ],
)
def test_stochastic_coupled_pairs_have_the_numpy_distribution(lname, fname, S, N, lopts):
    """Pairs that draw after the start (the oracle's perturbation signs, the stochastic
    follower's noise) on the duopoly, catalog options (LOLA: ``lopts``, see
    :data:`LOLA_SPREADS`): over S seeds and N stages the final leader strategies of the
    generic loop have the NumPy engine's distribution (KS, p > 0.001), and they spread (the
    draws matter: the oracle's rows end within about 1e-5 of x* = 24.5 after 3000 stages, std
    8.8e-6 in one run)."""

    def make(S):
        return _build(lname, fname, Duopoly(), S, **lopts)

    a = _final_x("numpy", make, S, N, 21)
    b = _final_x("jax", make, S, N, 21)
    assert np.std(a) > 1e-7
    assert _ks(a, b) > 1e-3


@pytest.mark.slow
def test_the_interval_engine_and_the_generic_loop_have_one_distribution():
    """The interval engine (JaxRunner) is a fast path of the generic loop for Hi-C against a
    gradient follower: in one process, over 300 seeds and 20000 stages, their final leader
    strategies have one distribution (KS, p > 0.001), and each has the NumPy engine's."""

    def make(S):
        return _hic(Duopoly(), S)

    fast = _final_x("jax", make, 300, 20_000, 7, JaxRunner)
    generic = _final_x("jax", make, 300, 20_000, 7, RulesRunner)
    numpy = _final_x("numpy", make, 300, 20_000, 7)
    assert _ks(fast, generic) > 1e-3
    assert _ks(numpy, generic) > 1e-3
    assert _ks(numpy, fast) > 1e-3


CHECKPOINT_CASES = {
    **{f"{lname}x{fname}": (lname, fname, {}) for (lname, fname) in RUNS},
    "hic-adaptive-generic": ("hic", "gradient", {"commitment": AdaptiveCommitment(min_length=3)}),
    "hic-two-sided-generic": ("hic", "stochastic", {"two_sided": True, "no_baseline": True}),
}
#: Checkpoint cases in the fast suite (each compiles its loop twice); the rest are slow.
FAST_CHECKPOINTS = (
    "hicxgradient",
    "hic-adaptive-generic",
    "hierarchicalxgradient",
)


@pytest.mark.parametrize(
    "case",
    [
        c if c in FAST_CHECKPOINTS else pytest.param(c, marks=pytest.mark.slow)
        for c in CHECKPOINT_CASES
    ],
)
def test_a_jax_checkpoint_round_trips_every_running_pair(case):
    """run(a) + state_dict -> a runner built alike + load_state_dict -> run(b) gives exactly
    what the first runner's own run(b) gives (records and finals, bit for bit), with payoff
    noise."""
    lname, fname, opts = CHECKPOINT_CASES[case]
    game = Duopoly()

    def runner():
        leader, follower = _build(lname, fname, game, 3, **opts)
        return make_runner(game, leader, follower, 9, backend="jax", noise_std=0.5)

    first = runner()
    first.run(1200)
    state = {k: np.array(v) for k, v in first.state_dict().items()}
    h_first = first.run(1300)
    second = runner()
    second.load_state_dict(state)
    h2 = second.run(1300)
    assert len(h2) > 3
    for f in ("row", "update", "stage", "leader_strategies", "follower_strategies"):
        np.testing.assert_array_equal(getattr(h2, f), getattr(h_first, f))
    np.testing.assert_array_equal(h2.final_leader, h_first.final_leader)
    np.testing.assert_array_equal(h2.final_follower, h_first.final_follower)
    np.testing.assert_array_equal(second.updates, first.updates)


def test_chunks_of_the_generic_loop_change_nothing():
    """run(a) then run(b) gives what run(a + b) gives (draws are keyed by the stage)."""
    game = Duopoly()

    def runner():
        leader, follower = _hic(game, 3, two_sided=True, baseline=None)
        return RulesRunner(game, leader, follower, 2, noise_std=0.5)

    whole = runner().run(3000)
    r = runner()
    h1, h2 = r.run(1234), r.run(1766)
    for f in ("row", "update", "stage", "leader_strategies", "follower_strategies"):
        np.testing.assert_array_equal(
            np.concatenate([getattr(h1, f), getattr(h2, f)]), getattr(whole, f)
        )
    np.testing.assert_array_equal(h2.final_leader, whole.final_leader)


def test_records_thin_as_the_numpy_engine_does():
    """record='log' and record=K keep the same update indices in both engines (SGA replays
    NumPy, so the kept rows and stages are equal too), and the records buffer refills when
    full (S = 4, 20000 stages, every update: 80004 records through a 256-row buffer)."""
    game = Duopoly()

    def make():
        return SGALeader(game, 0.01, num_envs=4), GradientAscentFollower(game, 0.05, num_envs=4)

    for record in ("log", 7):
        a, b = _both(game, make, 5000, record=record)
        for f in ("row", "update", "stage"):
            np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    leader, follower = make()
    # A small buffer: the loop returns to the host 313 times.
    runner = RulesRunner(game, leader, follower, 1, buffer_rows=256)
    h = runner.run(20_000)
    assert len(h) == 4 * 20_001
    np.testing.assert_array_equal(h.stage[-4:], [20_000] * 4)
    np.testing.assert_array_equal(h.update[h.row == 2], np.arange(20_001))


def test_a_runner_refuses_mismatched_batches():
    game = Duopoly()
    leader = SGALeader(game, 0.01, num_envs=3)
    follower = GradientAscentFollower(game, 0.05, num_envs=2)
    with pytest.raises(ValueError, match="num_envs=2, the leader with 3"):
        RulesRunner(game, leader, follower, 0)


def test_library_schedules_traced_give_their_numpy_values():
    """Every library schedule evaluated on a traced index array (under jax.jit, x64) gives
    its NumPy values to 1e-15 relative; PerRow picks each row's own schedule at its own
    index; a CommitmentSchedule gives its whole lengths."""
    import jax
    import jax.numpy as jnp

    from agents.schedules import CommitmentSchedule, Constant, Logarithmic, LogLinear

    n = np.array([0, 1, 2, 7, 100, 12345, 10**9], dtype=np.int64)
    schedules = [
        Constant(0.3),
        PowerLaw(0.5, 0.602, 3.0),
        Logarithmic(2.0),
        LogLinear(9.86, 41.3, ceil=True),
        CommitmentSchedule(0.1, 2.0, 10.0, 1.0, PowerLaw(0.5, 0.101)),
        PerRow((0.1, PowerLaw(0.5, 0.6), 0.1, Logarithmic(1.0), 0.2, 0.3, PowerLaw(0.5, 0.6))),
    ]
    with jax.enable_x64(True):
        for s in schedules:
            traced = np.asarray(jax.jit(lambda m, s=s: jnp.asarray(s(m)) + 0.0 * m)(n))
            np.testing.assert_allclose(traced, np.asarray(s(n), dtype=np.float64), rtol=1e-15)
