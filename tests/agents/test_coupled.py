"""The coupled learners (agents/coupled.py over agents/rules/coupled.py).

* The rules equal the published update formulas (Letcher et al. 2019's notebook, written
  here independently with torch autograd on the losses ``L = -f``) on the IPD in logits and
  the tandem game, at random points.
* Two learners of one method (leader and follower) are the joint algorithm: their steps are
  the rule's two halves from the same point.
* Behaviour where the literature knows it: on the Hamiltonian game ``f1 = xy = -f2``
  (Balduzzi et al. 2018; Letcher et al. 2019) naive learning spirals out while LookAhead,
  LOLA, SOS, symplectic gradient adjustment, consensus optimization and extragradient
  converge to the origin (16 seeds, 2000 steps at step size 0.1, final norm below 1e-3 of
  the initial one; the linear rates give at most 0.995 per step, 4.6e-5 after 2000 steps).
* The matrix-free hierarchical gradient equals the dense one and drives the leader to the
  DSE of random quadratic games.
"""

from __future__ import annotations

import numpy as np
import pytest

from agents import catalog, presets
from agents.coupled import (
    ConsensusLearner,
    ExtragradientLearner,
    HierarchicalCGLeader,
    LOLALearner,
    LookAheadLearner,
    SOSLearner,
    SymplecticLearner,
)
from agents.followers import GradientAscentFollower
from agents.rules import coupled as rules
from hic_envs.games import (
    HamiltonianGame,
    IteratedPrisonersDilemma,
    LogitGame,
    RandomQuadraticGame,
    TandemGame,
)
from hic_envs.games.ipd import OWN_TO_LEADER

GAMMA = 0.96


# ---------------------------------------------------------------------------- published formulas
def _torch_losses(name: str):
    torch = pytest.importorskip("torch")

    if name == "tandem":

        def losses(t1, t2):
            s = t1[0] + t2[0]
            return s**2 - 2 * t1[0], s**2 - 2 * t2[0]

        return losses
    r1 = torch.tensor([-1.0, -3.0, 0.0, -2.0], dtype=torch.float64)
    r2 = torch.tensor([-1.0, 0.0, -3.0, -2.0], dtype=torch.float64)
    perm = torch.as_tensor(OWN_TO_LEADER)

    def losses(t1, t2):
        p, q = torch.sigmoid(t1), torch.sigmoid(t2[perm])  # the follower in own-perspective

        def joint(a, b):
            return torch.stack([a * b, a * (1 - b), (1 - a) * b, (1 - a) * (1 - b)], dim=-1)

        d0 = joint(p[0], q[0])
        P = joint(p[1:], q[1:])
        M = torch.eye(4, dtype=torch.float64) - GAMMA * P
        v = torch.linalg.solve(M.T, d0)  # d0 M^-1
        return -(v @ r1), -(v @ r2)

    return losses


def _published(name: str, algo: str, th1, th2, alpha: float):
    """The published loss-form update ``grads`` (theta -= alpha grads) at one point."""
    torch = pytest.importorskip("torch")
    th = [torch.tensor(th1, requires_grad=True), torch.tensor(th2, requires_grad=True)]
    L = _torch_losses(name)(*th)

    def grad(f, p):
        return torch.autograd.grad(f, p, create_graph=True)[0]

    G = [[grad(L[j], th[i]) for j in range(2)] for i in range(2)]  # G[i][j] = d L_j / d th_i
    xi = [G[i][i] for i in range(2)]
    if algo in ("la", "lola", "sos"):
        la_terms = [G[1 - i][i] @ G[1 - i][1 - i].detach() for i in range(2)]
        xi0 = [xi[i] - alpha * grad(la_terms[i], th[i]) for i in range(2)]
        chi = [grad(G[1 - i][i].detach() @ G[1 - i][1 - i], th[i]) for i in range(2)]
        if algo == "la":
            out = xi0
        elif algo == "lola":
            out = [xi0[i] - alpha * chi[i] for i in range(2)]
        else:
            dot = -alpha * (chi[0] @ xi0[0] + chi[1] @ xi0[1])
            n0 = xi0[0] @ xi0[0] + xi0[1] @ xi0[1]
            p1 = 1.0 if dot >= 0 else min(1.0, float((-0.5 * n0 / dot).detach()))
            xn = float(torch.sqrt(xi[0] @ xi[0] + xi[1] @ xi[1]).detach())
            p = min(p1, xn**2 if xn < 0.1 else 1.0)
            out = [xi0[i] - p * alpha * chi[i] for i in range(2)]
    else:
        xid = [xi[i].detach() for i in range(2)]
        ham = xi[0] @ xid[0] + xi[1] @ xid[1]
        ht = [grad(ham, th[i]) for i in range(2)]  # H^T xi
        if algo == "co":
            out = [xi[i] + 1.0 * ht[i] for i in range(2)]
        else:  # symplectic gradient adjustment with alignment
            hx = [grad(G[0][i] @ xid[0] + G[1][i] @ xid[1], th[i]) for i in range(2)]  # H xi
            at = [(ht[i] - hx[i]) / 2 for i in range(2)]
            dot_xi = xid[0] @ ht[0] + xid[1] @ ht[1]
            dot_a = at[0] @ ht[0] + at[1] @ ht[1]
            lam = float(torch.sign(dot_xi * dot_a / (th1.size + th2.size) + 0.1).detach())
            out = [xi[i] + lam * at[i] for i in range(2)]
    return [o.detach().numpy() for o in out]


def _game(name: str):
    if name == "tandem":
        return TandemGame()
    return LogitGame(IteratedPrisonersDilemma(discount=GAMMA, tau=0.0), scale=1 / (1 - GAMMA))


RULES = {
    "la": lambda g, x, y, a: rules.lookahead(g, x, y, a),
    "lola": lambda g, x, y, a: rules.lola(g, x, y, a),
    "sos": lambda g, x, y, a: rules.sos(g, x, y, a),
    "co": lambda g, x, y, a: rules.consensus(g, x, y, 1.0),
    "symplectic": lambda g, x, y, a: rules.symplectic(g, x, y),
}


@pytest.mark.parametrize("name", ["ipd", "tandem"])
@pytest.mark.parametrize("algo", list(RULES))
def test_rules_equal_the_published_updates(name, algo):
    """At 6 random points (theta ~ N(0, 1), batched), each rule's ascent direction is minus
    the published loss-form update, to 1e-9 relative."""
    game = _game(name)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, game.d1))
    y = rng.normal(size=(6, game.d2))
    alpha = 1.0 if name == "ipd" else 0.1
    dx, dy = RULES[algo](game, x, y, alpha)
    for k in range(6):
        ref = _published(name, algo, x[k], y[k], alpha)
        scale = max(1.0, float(np.abs(np.concatenate(ref)).max()))
        np.testing.assert_allclose(-dx[k], ref[0], rtol=1e-9, atol=1e-9 * scale)
        np.testing.assert_allclose(-dy[k], ref[1], rtol=1e-9, atol=1e-9 * scale)


def test_lola_rule_is_the_lola_leaders_direction():
    """The leader half of the LOLA rule (HVPs) equals :class:`agents.LOLALeader`'s direction
    (dense blocks), both forms, on the IPD and the tandem game."""
    from agents.lola import LOLALeader

    for game in (IteratedPrisonersDilemma(), TandemGame()):
        rng = np.random.default_rng(9)
        x = rng.uniform(game.leader_low, game.leader_high, (4, game.d1))
        y = rng.uniform(game.follower_low, game.follower_high, (4, game.d2))
        for correction in (True, False):
            lola = LOLALeader(game, 0.1, lookahead=0.7, correction=correction)
            np.testing.assert_allclose(
                rules.lola(game, x, y, 0.7, correction=correction)[0],
                lola.direction(x, y),
                rtol=1e-12,
                atol=1e-12,
            )


# ---------------------------------------------------------------------------- joint algorithm
LEARNERS = {
    "lookahead": (LookAheadLearner, {}),
    "lola": (LOLALearner, {}),
    "sos": (SOSLearner, {}),
    "symplectic": (SymplecticLearner, {}),
    "consensus": (ConsensusLearner, {"gamma": 1.0}),
    "extragradient": (ExtragradientLearner, {}),
}


def _pair(name, game, step, x0, y0):
    cls, kw = LEARNERS[name]
    S = x0.shape[0]
    return (
        cls(game, "leader", step, num_envs=S, init=x0, **kw),
        cls(game, "follower", step, num_envs=S, init=y0, **kw),
    )


def _play(leader, follower, steps):
    leader.reset()
    follower.reset()
    for _ in range(steps):
        x, y = leader.strategies, follower.strategies
        leader.observe_batch(np.zeros(x.shape[0]), y)
        follower.observe_batch(np.zeros(x.shape[0]), x)
    return leader.strategies, follower.strategies


@pytest.mark.parametrize("name", list(LEARNERS))
def test_two_learners_are_the_joint_algorithm(name):
    """One step of a leader and a follower of one method from ``(x, y)`` is the rule's joint
    step ``(x, y) + alpha (dx, dy)`` (the IPD in logits, 5 points), bit for bit."""
    game = _game("ipd")
    rng = np.random.default_rng(4)
    x0, y0 = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    leader, follower = _pair(name, game, 0.5, x0, y0)
    x1, y1 = _play(leader, follower, 1)
    dx, dy = leader.directions(x0, y0)
    np.testing.assert_array_equal(x1, np.clip(x0 + 0.5 * dx, game.leader_low, game.leader_high))
    np.testing.assert_array_equal(y1, np.clip(y0 + 0.5 * dy, game.follower_low, game.follower_high))
    assert leader.coupled and follower.coupled


# ---------------------------------------------------------------------------- behaviour
@pytest.mark.parametrize("name", list(LEARNERS))
def test_converge_on_the_hamiltonian_game(name):
    game = HamiltonianGame(reg=0.0)
    rng = np.random.default_rng(5)
    x0, y0 = rng.uniform(-1, 1, size=(16, 1)), rng.uniform(-1, 1, size=(16, 1))
    leader, follower = _pair(name, game, 0.1, x0, y0)
    x, y = _play(leader, follower, 2000)
    # the engine's fast-forward: reward-free stages against one observed action
    assert leader.reward_free_stages() == leader.ALWAYS
    n0 = np.hypot(x0[:, 0], y0[:, 0])
    n = np.hypot(x[:, 0], y[:, 0])
    assert np.all(n <= 1e-3 * n0), (name, (n / n0).max())


def test_naive_learning_spirals_out_on_the_hamiltonian_game():
    """The contrast: simultaneous gradient ascent's norm grows by sqrt(1.01) per step."""
    game = HamiltonianGame(reg=0.0)
    rng = np.random.default_rng(5)
    x0, y0 = rng.uniform(-1, 1, size=(16, 1)), rng.uniform(-1, 1, size=(16, 1))
    z0 = np.concatenate([x0, y0], axis=1)
    z = z0
    for _ in range(100):
        dx, dy = rules.naive(game, z[:, :1], z[:, 1:])
        z = z + 0.1 * np.concatenate([dx, dy], axis=1)
    ratio = np.linalg.norm(z, axis=1) / np.linalg.norm(z0, axis=1)
    np.testing.assert_allclose(ratio, 1.01**50, rtol=1e-12)


# ---------------------------------------------------------------------------- hierarchical CG
@pytest.mark.parametrize("d", [4, 32])
def test_hierarchical_cg_equals_the_dense_hierarchical_gradient(d):
    game = RandomQuadraticGame(d, d, seed=d)
    rng = np.random.default_rng(6)
    x = rng.uniform(game.leader_low, game.leader_high, size=(8, d))
    y = rng.uniform(game.follower_low, game.follower_high, size=(8, d))
    D, w = rules.hierarchical_cg(game, x, y, np.zeros((8, d)), iters=200, tol=1e-12)
    ref = game.total_leader_grad(x, y)
    np.testing.assert_allclose(D, ref, rtol=1e-8, atol=1e-8 * np.abs(ref).max())
    # warm-started from its own answer, CG stops at once with the same direction
    D2, _ = rules.hierarchical_cg(game, x, y, w, iters=0, tol=1e-12)
    np.testing.assert_allclose(D2, D, rtol=1e-8, atol=1e-10)


def test_hierarchical_cg_leader_reaches_the_dse():
    """Against a gradient-ascent follower on a random quadratic game (d = 8, seeds 0-3 of
    the game, 8 initial points each): within 1e-3 of x* after 3000 stages at the gradient
    baselines' step (the dense hierarchical leader's budget on these games is about 50
    updates per unit of contraction, issue 20's measurement)."""

    for seed in range(4):
        game = RandomQuadraticGame(8, 8, seed=seed)
        step = presets.gradient_leader_step(game)
        leader = HierarchicalCGLeader(game, step, num_envs=8, seed=seed)
        follower = GradientAscentFollower(
            game, presets.follower_step_size(game), num_envs=8, seed=seed
        )
        x, _ = _play(leader, follower, 3000)
        dist = game.distance_to_stackelberg(x)
        assert np.all(dist < 1e-3), (seed, dist.max())


class _IndefiniteFollower(RandomQuadraticGame):
    """A random quadratic game whose follower's payoff is *not* concave: ``f2_yy = -K`` with
    ``K`` symmetric, eigenvalues drawn in ``[-1, 4]`` with both ends attained (so ``f2_yy``'s
    largest eigenvalue is exactly 1); everything else is the random quadratic game's."""

    def __init__(self, d: int, seed: int) -> None:
        rng = np.random.default_rng(100 + seed)
        q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        eig = rng.uniform(-1.0, 4.0, d)
        eig[0], eig[1] = -1.0, 4.0
        k = (q * eig) @ q.T
        self.K = 0.5 * (k + k.T)
        super().__init__(d, d, seed=seed)

    def follower_grad(self, x, y):
        return -(y @ self.K) + x @ self._Gt + self.h

    def payoff_hvp(self, player, block, x, y, v):
        if player == "follower" and block == "yy":
            return -(np.asarray(v, dtype=np.float64) @ self.K)
        return super().payoff_hvp(player, block, x, y, v)


def test_hierarchical_cg_damping_zero_is_the_undamped_solve_bit_for_bit():
    """``damping=0`` (the default) runs the undamped operations: the same bits as the
    conjugate gradient on ``-f2_yy`` written out here, in this process."""
    game = RandomQuadraticGame(16, 16, seed=3)
    rng = np.random.default_rng(2)
    x = rng.uniform(game.leader_low, game.leader_high, size=(8, 16))
    y = rng.uniform(game.follower_low, game.follower_high, size=(8, 16))
    w0 = rng.normal(size=(8, 16))
    hvp = game.payoff_hvp
    w_ref, _ = rules.conjugate_gradient(
        lambda u: -hvp("follower", "yy", x, y, u), -game.leader_grad_y(x, y), w0, 7, 1e-9
    )
    d_ref = game.leader_grad(x, y) - hvp("follower", "xy", x, y, w_ref)
    for kw in ({}, {"damping": 0.0}, {"damping": 0}):
        D, w = rules.hierarchical_cg(game, x, y, w0, 7, 1e-9, **kw)
        np.testing.assert_array_equal(w, w_ref)
        np.testing.assert_array_equal(D, d_ref)


@pytest.mark.parametrize("seed", range(4))
def test_hierarchical_cg_damping_makes_an_indefinite_follower_solve_well_posed(seed):
    """On a follower whose ``f2_yy`` is indefinite (largest eigenvalue 1, d = 16, 8 random
    points per seed), ``damping = 1.5`` solves ``(1.5 I - f2_yy) w = -grad_y f1`` (positive
    definite, smallest eigenvalue 0.5): ``w`` equals the dense solve to 1e-8 relative,
    ``grad_y f1 . w < 0`` on every row (the damped solve is a descent direction of
    ``grad_y f1``), and ``|w| <= |grad_y f1| / 0.5``. Undamped, the sign fails on some row of
    seeds 0-2 (the witness that the game is indefinite where it matters; all 8 rows of seed 3
    happen to keep it)."""
    d, S, lam = 16, 8, 1.5
    game = _IndefiniteFollower(d, seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(game.leader_low, game.leader_high, size=(S, d))
    y = rng.uniform(game.follower_low, game.follower_high, size=(S, d))
    g1y = game.leader_grad_y(x, y)
    D, w = rules.hierarchical_cg(game, x, y, np.zeros((S, d)), 200, 1e-12, damping=lam)
    ref = np.linalg.solve(lam * np.eye(d) + game.K, -g1y.T).T
    np.testing.assert_allclose(w, ref, rtol=1e-8, atol=1e-8 * np.abs(ref).max())
    np.testing.assert_allclose(D, game.leader_grad(x, y) - w @ game.G, rtol=1e-12, atol=1e-12)
    assert np.all((g1y * w).sum(axis=1) < 0)
    bound = np.linalg.norm(g1y, axis=1) / (lam - 1.0)
    assert np.all(np.linalg.norm(w, axis=1) <= bound * (1 + 1e-9))
    _, w0 = rules.hierarchical_cg(game, x, y, np.zeros((S, d)), 200, 1e-12)
    if seed < 3:
        assert np.any((g1y * w0).sum(axis=1) >= 0)


def test_hierarchical_cg_leader_with_damping_stays_bounded_on_an_indefinite_follower():
    """In play against a gradient-ascent follower on the indefinite game (d = 16, 8 rows,
    500 stages, seeds 0-3), the damped leader's solve ``w`` keeps within
    ``|grad_y f1| / (lambda - 1)`` (times ``1 + 1e-4``: CG stops at relative residual 1e-6)
    at every stage and its strategies stay finite; undamped, ``w`` exceeds that bound on some
    seed (it reaches about 30 times it on seed 2)."""
    lam, S = 1.5, 8
    undamped_over = False
    for seed in range(4):
        game = _IndefiniteFollower(16, seed)
        for damping in (lam, 0.0):
            leader = HierarchicalCGLeader(
                game, presets.gradient_leader_step(game), num_envs=S, seed=seed, damping=damping
            )
            follower = GradientAscentFollower(
                game, presets.follower_step_size(game), num_envs=S, seed=seed
            )
            leader.reset()
            follower.reset()
            worst = 0.0
            for _ in range(500):
                x, y = leader.strategies, follower.strategies
                leader.observe_batch(np.zeros(S), y)
                follower.observe_batch(np.zeros(S), x)
                g1y = game.leader_grad_y(x, y)
                ratio = np.linalg.norm(leader._w, axis=1) * (lam - 1.0)
                worst = max(worst, float((ratio / np.linalg.norm(g1y, axis=1)).max()))
            assert np.all(np.isfinite(leader.strategies))
            if damping:
                assert worst <= 1 + 1e-4, (seed, worst)
            else:
                undamped_over |= worst > 1 + 1e-4
    assert undamped_over


# ---------------------------------------------------------------------------- catalog
def test_catalog_rows_build_coupled_learners_for_both_roles():
    game = TandemGame()
    for name in LEARNERS:
        f = catalog.make_follower(name, game, 3, {"step_size": 0.1})
        l_ = catalog.make_leader(name, game, 3, {}, f)
        assert f.coupled and l_.coupled and l_.step_size.value == 0.1
        assert catalog.LEADERS[name].coupled and catalog.FOLLOWERS[name].coupled
    assert catalog.display_name("symplectic") == "symplectic gradient adjustment"
    assert catalog.display_name("sga") == "SGA"  # simultaneous gradient ascent, unchanged
    lola = catalog.make_follower("lola", game, None, {"step_size": "0.1", "lookahead": "1"})
    assert isinstance(lola, LOLALearner) and lola.lookahead == 1.0
    assert catalog.make_follower("lola", game, None, {"step_size": 0.1}).lookahead == 1.0
    cg = catalog.make_leader("hierarchical-cg", game, 2, {"cg_iters": "5", "step_size": 0.1})
    assert isinstance(cg, HierarchicalCGLeader) and cg.cg_iters == 5 and cg.damping == 0.0
    cg = catalog.make_leader("hierarchical-cg", game, 2, {"damping": "0.5", "step_size": 0.1})
    assert cg.damping == 0.5


def test_bad_options_raise():
    game = TandemGame()
    with pytest.raises(ValueError, match="role"):
        LookAheadLearner(game, "both", 0.1)
    with pytest.raises(ValueError, match="a must lie"):
        SOSLearner(game, "leader", 0.1, a=1.5)
    with pytest.raises(ValueError, match="lookahead"):
        LOLALearner(game, "leader", 0.1, lookahead=-1.0)
    with pytest.raises(TypeError, match="align"):
        SymplecticLearner(game, "leader", 0.1, align="yes")
    with pytest.raises(ValueError, match="cg_iters"):
        HierarchicalCGLeader(game, 0.1, cg_iters=0)
    with pytest.raises(ValueError, match="damping"):
        HierarchicalCGLeader(game, 0.1, damping=-1.0)
    with pytest.raises(ValueError, match="damping"):
        HierarchicalCGLeader(game, 0.1, damping=float("nan"))
    with pytest.raises(ValueError, match="constant step"):
        LookAheadLearner(game, "leader", lambda t: 0.1 / (t + 1))


def test_observe_repeated_is_repeated_observe():
    game = TandemGame()
    a = SOSLearner(game, "follower", 0.1, num_envs=3, seed=1)
    b = SOSLearner(game, "follower", 0.1, num_envs=3, seed=1)
    a.reset()
    b.reset()
    obs = np.full((3, 1), 0.3)
    a.observe_repeated(obs, 4)
    for _ in range(4):
        b.observe_batch(np.full(3, np.nan), obs)
    np.testing.assert_array_equal(a.strategies, b.strategies)
    assert a.update_counts().tolist() == [4, 4, 4]
