"""The JAX backend (issue 9): it replays the NumPy engine when given the same randomness, has
the same distribution of results otherwise, and refuses plainly what it cannot run.

Skipped when JAX is not installed (``pip install -e ".[jax]"`` installs it).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")

from scipy import stats  # noqa: E402

from agents import (  # noqa: E402
    GradientAscentFollower,
    HiCLeader,
    HierarchicalGradientLeader,
    SGALeader,
    StochasticGradientFollower,
)
from agents.compose.engines.jax_engine import JaxRunner  # noqa: E402
from agents.compose.engines.runner import derive_seeds, make_runner, run_batch  # noqa: E402
from agents.hic import AdaptiveCommitment  # noqa: E402
from agents.presets import follower_step_size  # noqa: E402
from hic_envs.games import CustomGame, Duopoly, RandomQuadraticGame  # noqa: E402
from hic_envs.registration import LIBRARY_GAMES, game_from_id  # noqa: E402


def _pair(game, S, **leader_kw):
    leader = HiCLeader.for_game(game, num_envs=S, check_assumptions=False, **leader_kw)
    return leader, GradientAscentFollower(game, follower_step_size(game), num_envs=S)


def _numpy_randomness(leader, follower, seed, S, intervals):
    """The NumPy run's initial strategies and perturbation signs, from the agents' seeds as
    the engine derives them (the leader draws x_0, then one sign block per interval)."""
    _, lss, fss = derive_seeds(seed)
    rng = np.random.default_rng(lss)
    x0 = rng.uniform(leader.low, leader.high, size=(S, leader.dim))
    signs = np.stack(
        [2.0 * rng.integers(0, 2, size=(S, leader.dim)) - 1.0 for _ in range(intervals)]
    )
    y0 = np.random.default_rng(fss).uniform(follower.low, follower.high, size=(S, follower.dim))
    return x0, y0, signs


@pytest.mark.parametrize(
    ("game", "leader_kw", "N"),
    [
        (Duopoly(), {}, 15_000),  # the preset: baseline 0.9, Corollary 4.11's commitment
        # Plain Hi-C divides the payoff level (~300) by delta_n, so one ulp of a payoff grows
        # by ~300 alpha_n / delta_n per update (its strategies jump across the box): with the
        # duopoly's preset step 0.8046/(n+101)^0.602 one seed's runs part by 2e-12 at update
        # 81 (stage 4358), so the replay is checked over 4000 stages.
        (Duopoly(), {"baseline": None}, 4_000),
        (Duopoly(), {"baseline": 0.5, "baseline_init": 0.0, "commitment": 9}, 15_000),
        # Matrix products round differently in XLA and OpenBLAS (1 ulp), and SPSA amplifies a
        # payoff's rounding by alpha_n / delta_n at every update: after ~100 updates here the
        # runs differ by 1e-10 and after ~20 by 2e-12, so the replay is checked over ~10.
        (RandomQuadraticGame(d1=2, d2=3, seed=4), {}, 1_000),
    ],
)
def test_jax_replays_numpy_given_its_randomness(game, leader_kw, N):
    """The same x_0, y_0 and perturbation signs: the same records and strategies to 1e-12
    (relative, or absolute below 1)."""
    S, seed = 4, 3
    leader, follower = _pair(game, S, **leader_kw)
    h_np = run_batch(game, leader, follower, N, seed=seed)
    leader, follower = _pair(game, S, **leader_kw)
    x0, y0, signs = _numpy_randomness(leader, follower, seed, S, 3000)
    np.testing.assert_array_equal(x0, h_np.leader_strategies[:S])  # the stream is NumPy's
    np.testing.assert_array_equal(y0, h_np.follower_strategies[:S])
    h_jx = JaxRunner(game, leader, follower, seed, signs=signs, x0=x0, y0=y0).run(N)
    assert len(h_np) > 10 * S
    for f in ("row", "update", "stage"):
        np.testing.assert_array_equal(getattr(h_jx, f), getattr(h_np, f), err_msg=f)
    for f in ("leader_strategies", "follower_strategies", "final_leader", "final_follower"):
        np.testing.assert_allclose(getattr(h_jx, f), getattr(h_np, f), rtol=1e-12, atol=1e-12)


def _library_pair(game, S):
    """The preset pair where the game meets Assumption 4.8 everywhere; otherwise (Bimatrix's
    follower is concave only near its response) a plain Hi-C schedule and follower step."""
    try:
        return _pair(game, S)
    except ValueError:
        leader = HiCLeader(game, 0.01, 0.1, 5, num_envs=S, check_assumptions=False)
        return leader, GradientAscentFollower(game, 0.1, num_envs=S)


@pytest.mark.parametrize("env_id", list(LIBRARY_GAMES))
def test_every_library_game_runs_and_replays_numpy(env_id):
    """Issue 18: all 18 library games run on the JAX engine. Given the NumPy run's randomness
    the JAX run has the same records and strategies to 1e-12 over 400 stages (2000 for the
    IPD, whose preset commitment is long: at least 4 updates per row). Longer runs part
    further: SPSA amplifies a payoff's last-bit rounding, which XLA's transcendental functions
    and products do differently from NumPy's."""
    game = game_from_id(env_id)
    S, seed = 4, 3
    N = 2000 if env_id == "hic/IteratedPrisonersDilemma-v0" else 400
    leader, follower = _library_pair(game, S)
    h_np = run_batch(game, leader, follower, N, seed=seed)
    leader, follower = _library_pair(game, S)
    x0, y0, signs = _numpy_randomness(leader, follower, seed, S, N + 1)
    h_jx = JaxRunner(game, leader, follower, seed, signs=signs, x0=x0, y0=y0).run(N)
    assert len(h_np) >= 4 * S
    for f in ("row", "update", "stage"):
        np.testing.assert_array_equal(getattr(h_jx, f), getattr(h_np, f), err_msg=f)
    for f in ("leader_strategies", "follower_strategies"):
        np.testing.assert_allclose(getattr(h_jx, f), getattr(h_np, f), rtol=1e-12, atol=1e-12)
    h = run_batch(game, *_library_pair(game, 8), 1000, seed=1, noise_std=0.1, backend="jax")
    assert np.all(np.isfinite(h.final_leader)) and np.all(np.isfinite(h.final_follower))


@pytest.mark.parametrize("noise_std", [0.0, 5.0])
def test_final_distances_have_the_numpy_distribution(noise_std):
    """Kolmogorov-Smirnov over 1000 seeds (6000 stages, ~130 updates each): the two backends'
    final distances to the DSE are one distribution (p > 0.001), and both have learnt."""
    game = Duopoly()
    x_star = game.stackelberg().x
    dist = {}
    for backend in ("numpy", "jax"):
        leader, follower = _pair(game, 1000)
        h = run_batch(
            game,
            leader,
            follower,
            6000,
            seed=7,
            noise_std=noise_std,
            record=None,
            backend=backend,
        )
        dist[backend] = np.abs(h.final_leader - x_star).max(axis=1)
    assert np.median(dist["numpy"]) < 2.0  # from a uniform start on [0, 50], x* = 24.5
    res = stats.ks_2samp(dist["numpy"], dist["jax"])
    assert res.pvalue > 1e-3, res


def test_chunks_change_nothing():
    game = Duopoly()
    leader, follower = _pair(game, 3)
    whole = JaxRunner(game, leader, follower, 1, noise_std=1.0).run(5000)
    leader, follower = _pair(game, 3)
    runner = JaxRunner(game, leader, follower, 1, noise_std=1.0)
    parts = [runner.run(n) for n in (1, 36, 1000, 3963)]
    np.testing.assert_array_equal(np.concatenate([p.stage for p in parts]), whole.stage)
    np.testing.assert_allclose(parts[-1].final_leader, whole.final_leader, rtol=0, atol=1e-12)
    assert runner.stage == 5000 and (runner.updates == whole.update.max()).all()


def _reference_plan(k_of, n, played, ready, stages):
    """The schedule walked one interval at a time: (offsets, update indices, n, played,
    ready)."""
    out, off = [], 0
    while True:
        rem = k_of(n) - played
        if rem > stages - off:
            return out, n, played + stages - off, ready
        off += rem
        played = 0
        if ready:
            n += 1
            out.append((off, n))
        ready = True


@pytest.mark.parametrize(
    ("commitment", "baseline_init", "chunks"),
    [
        (None, None, (1, 36, 999, 7000, 3)),  # the preset (k_n from 36), baseline warm-up
        (2, 0.0, (1, 1, 5, 10_000)),
        (lambda n: 1.0 + (n % 3), 0.0, (4, 9000, 2, 17)),  # a plain callable, k in {1, 2, 3}
    ],
)
def test_host_plan_is_the_interval_by_interval_walk(commitment, baseline_init, chunks):
    from agents.schedules import evaluate

    game = Duopoly()
    kw = {} if commitment is None else {"commitment": commitment}
    leader, follower = _pair(game, 2, baseline_init=baseline_init, **kw)
    runner = JaxRunner(game, leader, follower, 0)
    n, played, ready = 0, 0, baseline_init is not None
    for c in chunks:
        offs, ns = runner._plan(c)
        want, n, played, ready = _reference_plan(
            lambda i: int(evaluate(leader.commitment, np.array([i]))[0]), n, played, ready, c
        )
        assert list(zip(offs.tolist(), ns.tolist(), strict=True)) == want
        assert (runner._n, runner._played) == (n, played)


def test_a_bad_commitment_is_refused_where_it_is_reached():
    game = Duopoly()
    leader, follower = _pair(game, 2, commitment=lambda n: 3.0 if n < 50 else 3.5)
    runner = JaxRunner(game, leader, follower, 0)
    runner.run(100)  # 33 updates: the bad lengths from n = 50 on are not reached
    with pytest.raises(ValueError, match=r"whole numbers of stages, got 3.5 at n=50"):
        runner.run(100)


def test_one_compile_per_shape():
    # The state the program returns has the types it was given (no weak types), so chunks of
    # any length reuse one compiled program.
    from agents.compose.engines import jax_engine

    game = Duopoly()
    leader, follower = _pair(game, 7)
    runner = JaxRunner(game, leader, follower, 2)
    before = jax_engine._advance._cache_size()
    for n in (10, 333, 4000, 1):
        runner.run(n)
    assert jax_engine._advance._cache_size() == before + 1


def test_sign_blocks_are_fair_coins_per_row_and_interval():
    import jax

    from agents.compose.engines import jax_engine

    assert [
        jax_engine._sign_block_len(S, d) for S, d in ((1, 1), (32, 1), (1000, 2), (10**5, 1))
    ] == [
        64,
        64,
        2,
        1,
    ]
    with jax.enable_x64(True):
        key = jax.random.wrap_key_data(np.array([3, 4], dtype=np.uint32))
        keys = {"signs": key}
        a = np.asarray(jax_engine._sign_block(keys, 0, 64, (512, 2)))
        b = np.asarray(jax_engine._sign_block(keys, 1, 64, (512, 2)))
    assert a.shape == (64, 512, 2) and a.dtype == np.float64
    assert set(np.unique(a)) == {-1.0, 1.0}
    # 65536 fair +-1 coins: the mean is within 4.5 standard errors (1/256) of 0.
    assert abs(a.mean()) < 4.5 / 256 and abs(b.mean()) < 4.5 / 256
    # Intervals, rows, coordinates and blocks are not copies of each other.
    assert abs(np.mean(a[1:] * a[:-1])) < 4.5 / 253
    assert abs(np.mean(a[:, 1:] * a[:, :-1])) < 4.5 / 255
    assert abs(np.mean(a[..., 0] * a[..., 1])) < 4.5 / 181
    assert abs(np.mean(a * b)) < 4.5 / 256


def test_stochastic_follower_runs_and_learns():
    game = Duopoly()
    leader = HiCLeader.for_game(game, num_envs=64, check_assumptions=False)
    follower = StochasticGradientFollower(game, 0.1, 0.5, num_envs=64)
    h = run_batch(game, leader, follower, 20_000, seed=2, record=None, backend="jax")
    assert np.median(np.abs(h.final_leader - game.stackelberg().x)) < 1.0


def _numpy_only_game():
    return CustomGame(
        leader_payoff=lambda x, y: np.asarray(-((x[..., 0] - 1.0) ** 2) + x[..., 0] * y[..., 0]),
        follower_payoff=lambda x, y: np.asarray(-((y[..., 0] - x[..., 0]) ** 2)),
        leader_low=[-2.0],
        leader_high=[2.0],
        follower_low=[-2.0],
        follower_high=[2.0],
        mu=2.0,
    )


@pytest.mark.parametrize(
    ("build", "why"),
    [
        (
            lambda g: (
                HiCLeader.for_game(g, num_envs=2, commitment=AdaptiveCommitment()),
                GradientAscentFollower(g, 0.1, num_envs=2),
            ),
            "adaptive commitment",
        ),
        (lambda g: _pair(g, 2, average_last=3), "average_last=3"),
        (lambda g: _pair(g, 2, two_sided=True), "two_sided=True"),
        (
            lambda g: (SGALeader(g, 0.01, num_envs=2), GradientAscentFollower(g, 0.1, num_envs=2)),
            "leader's rule set is not Hi-C's",
        ),
    ],
)
def test_what_the_interval_loop_does_not_take_runs_in_the_generic_loop(build, why):
    """The interval engine names why it does not take a pair; make_runner then runs the pair
    in the generic stage loop over its rule sets."""
    from agents.compose.engines.jax_engine import check_supported
    from agents.compose.engines.jax_rules import RulesRunner

    game = Duopoly()
    leader, follower = build(game)
    with pytest.raises(ValueError, match=why):
        check_supported(game, leader, follower)
    runner = make_runner(game, leader, follower, 0, backend="jax")
    assert isinstance(runner, RulesRunner)
    h = runner.run(50)
    assert np.isfinite(h.final_leader).all()


class _NumPyDerivativeDuopoly(Duopoly):
    """A user's game that declares array_api but whose grad_y f1 is NumPy code."""

    def leader_grad_y(self, x, y):
        return np.asarray(super().leader_grad_y(x, y))


def test_a_rule_set_that_does_not_trace_is_refused_by_make_runner():
    """The hierarchical leader reads the game's leader_grad_y; a game whose leader_grad_y is
    NumPy code (although it declares array_api) is refused when the runner is made, naming
    the pair and the innermost library function on the way (total_leader_grad, which called
    it); the library's Duopoly runs."""
    for game, refused in ((_NumPyDerivativeDuopoly(), True), (Duopoly(), False)):
        leader = HierarchicalGradientLeader(game, 0.01, num_envs=2)
        follower = GradientAscentFollower(game, 0.1, num_envs=2)
        if not refused:
            assert np.isfinite(
                make_runner(game, leader, follower, 0, backend="jax").run(20).final_leader
            ).all()
            continue
        match = (
            r"HierarchicalGradientLeader x GradientAscentFollower: .*"
            r"hic_envs\.games\.base\.Game\.total_leader_grad calls NumPy-only code"
        )
        with pytest.raises(ValueError, match=match):
            make_runner(game, leader, follower, 0, backend="jax")


def test_numpy_only_custom_game_is_refused():
    game = _numpy_only_game()
    leader = HiCLeader(game, 0.01, 0.3, 10, num_envs=2, check_assumptions=False)
    follower = GradientAscentFollower(game, 0.1, num_envs=2)
    with pytest.raises(ValueError, match="CustomGame declares array_api=False"):
        run_batch(game, leader, follower, 10, backend="jax")
    run_batch(game, leader, follower, 10, backend="numpy")  # the NumPy engine runs it


def test_unknown_backend():
    game = Duopoly()
    leader, follower = _pair(game, 2)
    with pytest.raises(ValueError, match="backend must be 'numpy' or 'jax', got 'torch'"):
        run_batch(game, leader, follower, 10, backend="torch")


@pytest.mark.parametrize("flags", [None, "--xla_cpu_enable_fast_math=false"])
def test_the_small_loop_option_leaves_xla_flags_as_found(flags):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    if flags is not None:
        env["XLA_FLAGS"] = flags
    code = (
        "import os, agents.compose.engines.jax_rules, agents.compose.engines.jax_engine; "
        "print(repr(os.environ.get('XLA_FLAGS')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == repr(flags)


def test_a_jax_experiment_stopped_at_a_checkpoint_resumes_to_the_same_files(tmp_path):
    import json

    from agents.compose.experiments.experiment import ExperimentConfig, run_experiment

    cfg = ExperimentConfig(
        "hic/Duopoly-v0", seeds=4, stages=60_000, seed=2, noise_std=0.5, backend="jax"
    )
    kw = dict(progress=False, chunk=7_000, checkpoint_seconds=0.0)

    def files(d):
        summary = json.loads((d / "summary.json").read_text())
        summary.pop("timing")
        return (d / "updates.csv").read_bytes(), summary

    run_experiment(cfg, tmp_path / "whole", **kw)

    class Stop(Exception):
        pass

    def stop_at(info):
        if info["stage"] >= 21_000:
            raise Stop  # the process dies after a checkpointed chunk

    with pytest.raises(Stop):
        run_experiment(cfg, tmp_path / "parts", on_chunk=stop_at, **kw)
    run_experiment(cfg, tmp_path / "parts", resume=True, **kw)
    assert files(tmp_path / "parts") == files(tmp_path / "whole")


@pytest.mark.parametrize("K", [1, 4, 16, 17])
def test_small_dots_are_multiply_adds_with_the_products_values(K):
    """Issue 18: short products are lowered as multiply-adds (no dot_general left in the
    program), long ones (K > 16) keep the library kernel; the values agree to 1e-13."""
    import jax
    import jax.numpy as jnp

    from agents.compose.engines.jax_small_dots import MAX_CONTRACTION, small_dots

    rng = np.random.default_rng(K)
    a, B, v = rng.normal(size=(5, K)), rng.normal(size=(K, 3)), rng.normal(size=K)
    C = rng.normal(size=(3, K))

    def f(a, B, C, v):
        return -(a @ B) + jnp.matmul(a, C.T).sum(-1, keepdims=True) + (a @ v)[:, None]

    with jax.enable_x64(True):
        want = np.asarray(f(a, B, C, v))
        got = np.asarray(jax.jit(small_dots(f))(a, B, C, v))
        text = str(jax.make_jaxpr(small_dots(f))(a, B, C, v))
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    assert ("dot_general" in text) == (K > MAX_CONTRACTION)


def test_jax_replays_numpy_with_per_row_step_sizes_and_perturbations():
    """A sweep's batch of configurations on the interval engine: each row reads its own
    step-size and perturbation schedule (``PerRow``; one table column per distinct schedule),
    and the run replays the NumPy engine's given its randomness, as a shared schedule does."""
    from agents.compose.engines.jax_engine import fast_path
    from agents.schedules import PerRow, PowerLaw

    # Each row's pair of schedules is one whose shared run replays NumPy over these stages (a
    # large step with a small perturbation amplifies a payoff's last-bit rounding, see above,
    # and parts by 1e-11 within 300 stages shared or not). A row that read another row's
    # schedule would part at its first update.
    game, S, seed, N = Duopoly(), 4, 3, 4_000
    kw = {
        "step_size": PerRow((PowerLaw(1.07, 0.602, 100), PowerLaw(0.5, 0.8, 100)) * 2),
        "perturbation": PerRow((PowerLaw(1.0, 0.101), PowerLaw(0.5, 0.35)) * 2),
        "baseline": 0.5,
        "baseline_init": 0.0,
        "commitment": 9,
    }
    leader, follower = _pair(game, S, **kw)
    assert fast_path(leader, follower) is None
    h_np = run_batch(game, leader, follower, N, seed=seed)
    leader, follower = _pair(game, S, **kw)
    x0, y0, signs = _numpy_randomness(leader, follower, seed, S, 3000)
    h_jx = JaxRunner(game, leader, follower, seed, signs=signs, x0=x0, y0=y0).run(N)
    for f in ("row", "update", "stage"):
        np.testing.assert_array_equal(getattr(h_jx, f), getattr(h_np, f), err_msg=f)
    for f in ("leader_strategies", "follower_strategies", "final_leader", "final_follower"):
        np.testing.assert_allclose(getattr(h_jx, f), getattr(h_np, f), rtol=1e-12, atol=1e-12)
    # The rows' schedules differ, so their runs do: the per-row values were read.
    assert not np.allclose(h_jx.final_leader[0], h_jx.final_leader[1])


@pytest.mark.parametrize(
    ("game", "S", "chunk"),
    [
        (Duopoly(), 3000, 1000),  # 3 blocks of 1000 rows
        (RandomQuadraticGame(d1=2, d2=3, seed=4), 1200, 300),  # 4 blocks of 300 rows (900 values)
    ],
)
def test_blocks_of_rows_give_the_bits_of_one_block(monkeypatch, game, S, chunk):
    """Past ROW_CHUNK_VALUES values the follower's steps run in blocks of rows (each through
    the interval's stages): the same strategies, bit for bit, as all rows at once (compared
    in one process), and the same records."""
    from agents.compose.engines import jax_engine

    def run(values):
        monkeypatch.setattr(jax_engine, "ROW_CHUNK_VALUES", values)
        jax_engine._advance.clear_cache()  # the block size is read when the loop is traced
        leader, follower = _pair(game, S)
        return JaxRunner(game, leader, follower, 7).run(3000)

    try:
        whole = run(10**9)
        assert jax_engine._row_chunk(S, game.d2) == S  # one block
        blocks = run(chunk * game.d2)
        assert jax_engine._row_chunk(S, game.d2) == chunk
    finally:
        jax_engine._advance.clear_cache()  # no program of a patched size outlives the test
    assert len(whole) > 10 * S
    for f in ("row", "update", "stage", "leader_strategies", "follower_strategies"):
        np.testing.assert_array_equal(getattr(blocks, f), getattr(whole, f), err_msg=f)
    np.testing.assert_array_equal(blocks.final_follower, whole.final_follower)


def test_row_blocks_divide_the_batch():
    from agents.compose.engines.jax_engine import ROW_CHUNK_VALUES, _row_chunk

    assert _row_chunk(32, 1) == 32 and _row_chunk(ROW_CHUNK_VALUES, 1) == ROW_CHUNK_VALUES
    assert _row_chunk(100_000, 1) == 1000  # the largest divisor within 1024 values
    assert _row_chunk(100_000, 4) == 250
    assert _row_chunk(100_003, 1) == 100_003  # a prime: no divisor, one block
    # Wider followers keep the batch whole (their products over fewer rows would lose).
    assert _row_chunk(32, 256) == 32 and _row_chunk(100_000, 8) == 100_000
    for S, d2 in ((5000, 1), (4096, 3), (10**6, 2)):
        C = _row_chunk(S, d2)
        assert S % C == 0 and C * d2 <= ROW_CHUNK_VALUES
