"""Issue 18: the coupled learners (agents/coupled.py) are rule sets, and under NumPy they
reproduce the stateful classes they replaced (``reference_coupled.py``, a frozen copy) bit
for bit, in the same process: every method in both roles (a pair of one method: the joint
algorithm) and as a leader against a gradient follower, on the covariance GAN, a random
quadratic game and the tandem game, through the NumPy engine (its fast-forward included)
and the single face; their checkpoints round-trip."""

from __future__ import annotations

import numpy as np
import pytest
import reference_coupled as R

from agents import coupled as C
from agents.compose.engines.runner import BatchRunner, play
from agents.face import RuleAgent
from agents.followers import GradientAscentFollower
from agents.rules.protocol import READ_CHECK, RuleSet, capabilities_of
from agents.schedules import PowerLaw
from hic_envs import GameEnv
from hic_envs.games import CovarianceGAN, RandomQuadraticGame, TandemGame

SEEDS = (0, 3)

#: name -> (class name in both modules, options).
METHODS = {
    "lookahead": ("LookAheadLearner", {}),
    "lookahead_eta": ("LookAheadLearner", {"lookahead": 0.3}),
    "lola": ("LOLALearner", {"lookahead": 0.5}),
    "lola_original": ("LOLALearner", {"correction": False}),
    "sos": ("SOSLearner", {"a": 0.3, "b": 0.5}),
    "symplectic": ("SymplecticLearner", {}),
    "symplectic_plain": ("SymplecticLearner", {"align": False, "lam": 0.5}),
    "consensus": ("ConsensusLearner", {"gamma": 0.5}),
    "extragradient": ("ExtragradientLearner", {}),
    "extragradient_other": ("ExtragradientLearner", {"other_extrapolation": 0.02}),
}

GAMES = {
    "covariance_gan": lambda: CovarianceGAN(d=2, seed=1),
    "random_quadratic": lambda: RandomQuadraticGame(3, 2, seed=2),
    "tandem": TandemGame,
}


def _learner(mod, method, game, role, S, step=0.05):
    cls_name, opts = METHODS[method]
    return getattr(mod, cls_name)(game, role, step, num_envs=S, **opts)


def _same(a, b):
    for f in ("row", "update", "stage", "leader_strategies", "follower_strategies"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    assert np.array_equal(a.final_leader, b.final_leader)
    assert np.array_equal(a.final_follower, b.final_follower)


def _run_both(make, game, seed, chunks=(70, 130), **kw):
    """``make(mod) -> (leader, follower)`` for the library (C) and the reference (R)."""
    runs, agents = [], []
    for mod in (C, R):
        leader, follower = make(mod)
        runner = BatchRunner(game, leader, follower, seed=seed, max_cycles=60, **kw)
        runs.append([runner.run(c) for c in chunks])
        agents.append((leader, follower))
    for a, b in zip(*runs, strict=True):
        _same(a, b)
    return agents


def _same_state(new, old):
    """The new state dict holds the old one's learning state under the same names."""
    a, b = new.state_dict(), old.state_dict()
    for k in ("z", "w"):
        assert (k in a) == (k in b), k
        if k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert int(a["t"]) == int(b["t"])
    np.testing.assert_array_equal(a["rng"], b["rng"])
    assert new.updates == old.updates
    np.testing.assert_array_equal(new.update_counts(), old.update_counts())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("game_name", sorted(GAMES))
@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_pair_of_one_method_reproduces_the_reference_bit_for_bit(method, game_name, seed):
    """Leader and follower of one method (the joint algorithm), both roles under test."""
    game, S = GAMES[game_name](), 3

    def make(mod):
        return (
            _learner(mod, method, game, "leader", S),
            _learner(mod, method, game, "follower", S),
        )

    (nl, nf), (ol, of) = _run_both(make, game, seed)
    _same_state(nl, ol)
    _same_state(nf, of)


LEADER_OPTIONS = {
    "lola": {"lookahead": 0.5},
    "sos": {"lookahead": 0.1, "a": 0.3, "b": 0.5},
    "extragradient": {"extrapolation": 0.1},
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("game_name", sorted(GAMES))
@pytest.mark.parametrize("method", ["lola", "sos", "extragradient", "hierarchical_cg"])
def test_a_leader_against_a_gradient_follower_reproduces_the_reference(method, game_name, seed):
    """As a leader against a gradient follower (the engine's fast-forward runs the follower
    and the coupled leader over reward-free stages), with a power-law step."""
    game, S = GAMES[game_name](), 4
    step = PowerLaw(0.05, 0.6)

    def make(mod):
        if method == "hierarchical_cg":
            leader = mod.HierarchicalCGLeader(game, step, num_envs=S, cg_iters=7, cg_tol=1e-9)
        else:
            cls_name = METHODS[method][0]
            opts = LEADER_OPTIONS[method]  # eta given: a power-law step is not eta's default
            leader = getattr(mod, cls_name)(game, "leader", step, num_envs=S, **opts)
        return leader, GradientAscentFollower(game, 0.05, num_envs=S)

    (nl, _), (ol, _) = _run_both(make, game, seed, noise_std=0.3)
    _same_state(nl, ol)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("game_name", sorted(GAMES))
def test_hierarchical_cg_keeps_its_warm_start_bit_for_bit(game_name, seed):
    """The CG warm start is state: the default 50 iterations and a budget of 2 (where the
    warm start carries the solve across stages) give the reference's strategies and ``w``."""
    game, S = GAMES[game_name](), 3
    for iters in (50, 2):

        def make(mod, iters=iters):
            leader = mod.HierarchicalCGLeader(game, 0.02, num_envs=S, cg_iters=iters)
            return leader, GradientAscentFollower(game, 0.1, num_envs=S)

        (nl, _), (ol, _) = _run_both(make, game, seed)
        _same_state(nl, ol)
        assert np.any(nl.state["w"] != 0.0)


@pytest.mark.parametrize("method", ["lola", "symplectic", "extragradient"])
def test_the_single_face_reproduces_the_reference(method):
    game = TandemGame()
    out = []
    for mod in (C, R):
        leader = _learner(mod, method, game, "leader", None)
        follower = _learner(mod, method, game, "follower", None)
        out.append(play(GameEnv(game, max_cycles=40, noise_std=0.2), leader, follower, 150, 5))
    for f in out[0].__dataclass_fields__:
        assert np.array_equal(getattr(out[0], f), getattr(out[1], f)), f


def _every_learner(game, S):
    for method in sorted(METHODS):
        for role in ("leader", "follower"):
            yield f"{method}-{role}", _learner(C, method, game, role, S)
    yield "hierarchical_cg", C.HierarchicalCGLeader(game, 0.02, num_envs=S, cg_iters=3)


def test_every_coupled_learner_is_a_rule_set_face():
    game = CovarianceGAN(d=2, seed=1)
    for name, agent in _every_learner(game, 2):
        assert isinstance(agent, RuleAgent), name
        assert isinstance(agent.rules, RuleSet), name
        caps = capabilities_of(agent)
        assert caps.coupled and caps.needs_game and caps.reward_free and caps.pure, name
        assert agent.coupled and caps.reads and caps.draws == ("x0",), name
        agent.reset(seed=0)
        assert set(agent.state) == {"z", "t", READ_CHECK} | (
            {"w"} if name == "hierarchical_cg" else set()
        )


def _checkpoint_pair(name, game, S):
    if name == "hierarchical_cg":
        leader = C.HierarchicalCGLeader(game, 0.02, num_envs=S, cg_iters=2)
        return leader, GradientAscentFollower(game, 0.1, num_envs=S)
    method, role = name.rsplit("-", 1)
    learner = _learner(C, method, game, role, S)
    other = GradientAscentFollower(game, 0.1, num_envs=S)
    if role == "leader":
        return learner, other
    from agents.baselines import SGALeader

    return SGALeader(game, 0.02, num_envs=S), learner


@pytest.mark.parametrize(
    "name",
    [f"{m}-{r}" for m in sorted(METHODS) for r in ("leader", "follower")] + ["hierarchical_cg"],
)
def test_a_checkpoint_round_trips_for_every_coupled_learner(name):
    """run(a) + the runner's state_dict -> a runner built alike (another seed) +
    load_state_dict -> run(b) equals the first runner's run(b), bit for bit (with payoff
    noise), on the covariance GAN."""
    game, S = CovarianceGAN(d=2, seed=1), 3
    runs = []
    for resume in (False, True):
        leader, follower = _checkpoint_pair(name, game, S)
        runner = BatchRunner(game, leader, follower, seed=3, noise_std=0.5, max_cycles=50)
        runner.run(77)
        if resume:
            state = {k: np.array(v) for k, v in runner.state_dict().items()}
            leader, follower = _checkpoint_pair(name, game, S)
            runner = BatchRunner(game, leader, follower, seed=99, noise_std=0.5, max_cycles=50)
            runner.load_state_dict(state)
        runs.append(runner.run(120))
    _same(*runs)


# NumPy's floating-point warnings on the non-finite values this test feeds in on purpose
# (whether NumPy raises them can differ by CPU; what is checked is the error or the record).
@pytest.mark.filterwarnings(
    "ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning"
)
def test_a_nonfinite_direction_is_an_error_naming_the_learner():
    """A direction that overflows is caught by the read check, not hidden by the box."""
    game = RandomQuadraticGame(2, 2, seed=0)
    leader = C.LOLALearner(game, "leader", 1e308, num_envs=2, lookahead=1.0)
    follower = GradientAscentFollower(game, 0.1, num_envs=2)
    with pytest.raises(ValueError, match="LOLALearner read a NaN or infinite derivative"):
        BatchRunner(game, leader, follower, seed=0).run(5)


def test_bad_options_raise_naming_them():
    game = TandemGame()
    with pytest.raises(ValueError, match="role"):
        C.CoupledOptions("both", 0.1)
    with pytest.raises(ValueError, match="constant step"):
        C.ExtragradientOptions("leader", PowerLaw(0.1, 0.5))
    with pytest.raises(ValueError, match="other_extrapolation"):
        C.ExtragradientLearner(game, "leader", 0.1, other_extrapolation=-1.0)
    with pytest.raises(TypeError, match="correction"):
        C.LOLALearner(game, "leader", 0.1, correction="yes")
    with pytest.raises(ValueError, match="eps"):
        C.SymplecticLearner(game, "leader", 0.1, eps=float("nan"))
    with pytest.raises(ValueError, match="is a leader"):
        C.HierarchicalCGOptions("follower", 0.1)
    with pytest.raises(TypeError, match="warm start"):
        C.HierarchicalCGLeader(game, 0.1).directions(np.zeros((1, 1)), np.zeros((1, 1)))
    with pytest.raises(AttributeError, match="fixed at construction"):
        C.SOSLearner(game, "leader", 0.1).a = 0.2


def test_the_step_size_is_settable_and_the_options_readable():
    game = TandemGame()
    sos = C.SOSLearner(game, "follower", 0.1, a=0.25)
    assert (sos.role, sos.a, sos.b, sos.lookahead, sos.step_size.value) == (
        "follower",
        0.25,
        0.1,
        0.1,
        0.1,
    )
    sos.step_size = 0.2
    assert sos.step_size.value == 0.2 and sos.lookahead == 0.1  # eta was fixed at 0.1


@pytest.mark.parametrize(
    ("leader", "follower", "coupled_role"),
    [
        ("hierarchical-cg", "gradient", "leader"),
        ("lola", "lola", "follower"),  # the "lola" leader is LOLALeader, a gradient leader
        ("sos", "sos", "leader"),
        ("sga", "extragradient", "follower"),
    ],
)
def test_an_interrupted_run_resumes_to_the_same_files(
    leader, follower, coupled_role, tmp_path, monkeypatch
):
    """``hic run``'s path (run_experiment): a run that dies at its third checkpoint write and
    is resumed from the second gives the files of an uninterrupted run."""
    import json

    import agents.compose.experiments.experiment as ex
    from agents.compose.experiments.experiment import ExperimentConfig, run_experiment
    from agents.compose.experiments.results import read_checkpoint

    config = ExperimentConfig(
        "hic/CovarianceGAN-v0",
        leader=leader,
        follower=follower,
        seeds=3,
        stages=1000,
        seed=3,
        noise_std=0.5,
        max_cycles=300,
        record="log:1",
    )
    kw = dict(progress=False, chunk=200, checkpoint_seconds=0.0)

    def files(d):
        summary = json.loads((d / "summary.json").read_text())
        summary.pop("timing")
        return (d / "updates.csv").read_bytes(), summary

    run_experiment(config, tmp_path / "whole", **kw)
    real, count = ex.write_checkpoint, {"n": 0}

    class Crash(Exception):
        pass

    def crashing(*args):
        count["n"] += 1
        if count["n"] == 3:
            raise Crash
        real(*args)

    monkeypatch.setattr(ex, "write_checkpoint", crashing)
    with pytest.raises(Crash):
        run_experiment(config, tmp_path / "cut", **kw)
    monkeypatch.setattr(ex, "write_checkpoint", real)
    state, _ = read_checkpoint(tmp_path / "cut" / "checkpoint.npz")
    assert {f"{coupled_role}/z", f"{coupled_role}/t", f"{coupled_role}/read_check"} <= set(state)
    assert (f"{coupled_role}/w" in state) == (leader == "hierarchical-cg")
    run_experiment(config, tmp_path / "cut", resume=True, **kw)
    assert files(tmp_path / "cut") == files(tmp_path / "whole")


#: Per-row values of each method's numeric options (3 rows).
PER_ROW = {
    "LookAheadLearner": {"lookahead": [0.02, 0.05, 0.1]},
    "LOLALearner": {"lookahead": [0.02, 0.05, 0.1]},
    "SOSLearner": {"lookahead": [0.05, 0.05, 0.1], "a": [0.2, 0.5, 0.9], "b": [0.05, 1.0, 0.1]},
    "SymplecticLearner": {"lam": [0.5, 1.0, 2.0], "eps": [0.0, 0.1, 1.0]},
    "ConsensusLearner": {"gamma": [0.1, 0.5, 1.0]},
    "ExtragradientLearner": {
        "extrapolation": [0.02, 0.05, 0.1],
        "other_extrapolation": [0.1, 0.02, 0.05],
    },
}


@pytest.mark.parametrize("cls_name", sorted(PER_ROW))
def test_per_row_options_give_each_row_its_own_run(cls_name):
    """Row i of a pair whose options hold one value per row is row i of the pair that runs
    row i's values in every row (the covariance GAN, 150 stages), bit for bit."""
    game, S = CovarianceGAN(d=2, seed=1), 3
    rows = PER_ROW[cls_name]

    def run(opts):
        cls = getattr(C, cls_name)
        leader = cls(game, "leader", 0.02, num_envs=S, **opts)
        follower = cls(game, "follower", 0.02, num_envs=S, **opts)
        return BatchRunner(game, leader, follower, seed=4, max_cycles=80).run(150)

    mixed = run({k: np.array(v) for k, v in rows.items()})
    for i in range(S):
        alone = run({k: v[i] for k, v in rows.items()})
        np.testing.assert_array_equal(mixed.final_leader[i], alone.final_leader[i])
        np.testing.assert_array_equal(mixed.final_follower[i], alone.final_follower[i])
    assert not np.array_equal(mixed.final_leader[0], mixed.final_leader[2])  # rows differ


def test_per_row_cg_tolerance_and_bad_per_row_options():
    """A per-row cg_tol of equal values is the number, bit for bit (CG's rows iterate
    together until the last converges, so rows of other tolerances are not independent
    runs: that is CG's batch, not a per-row option's, property)."""
    game, S = RandomQuadraticGame(3, 2, seed=2), 2
    runs = []
    for tol in (np.full(S, 1e-4), 1e-4):
        leader = C.HierarchicalCGLeader(game, 0.02, num_envs=S, cg_tol=tol, cg_iters=1)
        follower = GradientAscentFollower(game, 0.1, num_envs=S)
        runs.append(BatchRunner(game, leader, follower, seed=1).run(50))
    _same(*runs)
    with pytest.raises(ValueError, match="per-row option gamma has 3 values for a batch of 2"):
        C.ConsensusLearner(game, "leader", 0.1, num_envs=2, gamma=[0.1, 0.2, 0.3]).reset(seed=0)
    with pytest.raises(ValueError, match="a must lie in"):
        C.SOSLearner(game, "leader", 0.1, a=[0.5, 1.0])
    with pytest.raises(ValueError, match="lam must hold finite numbers > 0"):
        C.SymplecticLearner(game, "leader", 0.1, lam=[1.0, np.nan])
    with pytest.raises(TypeError, match="one per row"):
        C.ConsensusLearner(game, "leader", 0.1, gamma=[[0.1]])
