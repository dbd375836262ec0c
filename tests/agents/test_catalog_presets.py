"""The catalog's presets are declared on the settings fields (``catalog.preset``) and filled
by one generic function (``catalog.fill_presets``) that every factory calls: an unset option
gets the game's preset, a set one is kept, and the built learners are what the per-learner
factories built before (the values compared here are the presets themselves)."""

from __future__ import annotations

import dataclasses

import pytest

from agents import catalog, presets, schedules
from agents.specs import Corollary, resolve_commitment
from hic_envs.registration import game_from_id


@pytest.fixture(scope="module")
def game():
    return game_from_id("hic/Quadratic-v0")


def test_fill_presets_fills_only_unset_fields_and_skips_a_none_preset(game):
    @dataclasses.dataclass(frozen=True)
    class Settings:
        a: float | None = catalog.preset(lambda g, p, o: 2.5)
        b: float | None = catalog.preset(lambda g, p, o: None)
        c: float | None = None

    assert catalog.fill_presets(Settings, {}, game, None) == {"a": 2.5}
    assert catalog.fill_presets(Settings, {"a": 1.0, "c": 3.0}, game, None) == {"a": 1.0, "c": 3.0}
    assert [f.default for f in dataclasses.fields(Settings)] == [None, None, None]


def test_unset_options_take_the_games_presets(game):
    f = catalog.make_follower("gradient", game, 2, {})
    assert f.step_size == schedules.as_schedule(presets.follower_step_size(game), "step_size")
    s = catalog.make_follower("stochastic", game, 2, {})
    assert s.noise_std == 1.0 and s.step_size == f.step_size
    assert catalog.make_follower("stochastic", game, 2, {"noise": 0.25}).noise_std == 0.25
    for name in ("sga", "hierarchical"):
        ld = catalog.make_leader(name, game, 2, {}, partner=f)
        want = schedules.as_schedule(presets.gradient_leader_step(game), "step_size")
        assert ld.step_size == want, name
        set_ = catalog.make_leader(name, game, 2, {"step_size": 0.03}, partner=f)
        assert set_.step_size == schedules.Constant(0.03), name
    # The options a configuration records stay the ones a user set (hashes do not move).
    assert catalog.LEADERS["sga"].check_options({}) == {}
    assert catalog.FOLLOWERS["stochastic"].check_options({"noise": 1.0}) == {"noise": 1.0}


def test_a_lola_pair_shares_the_followers_constant_step(game):
    f = catalog.make_follower("lola", game, 2, {"step_size": 0.02})
    assert f.options.lookahead == 1.0  # the LOLA follower's preset, as the leader's
    ld = catalog.make_leader("lola", game, 2, {}, partner=f)
    assert ld.step_size == schedules.Constant(0.02)
    g = catalog.make_follower("gradient", game, 2, {"step_size": 0.02})
    other = catalog.make_leader("lola", game, 2, {}, partner=g)
    want = schedules.as_schedule(presets.gradient_leader_step(game), "step_size")
    assert other.step_size == want  # not a LOLA partner: the gradient leaders' rule
    assert catalog.make_leader("lola", game, 2, {"step_size": 0.5}, partner=f).step_size == (
        schedules.Constant(0.5)
    )


def test_a_preset_sees_the_options_filled_before_it_and_fit_fits_a_set_value(game):
    @dataclasses.dataclass(frozen=True)
    class Settings:
        a: float | None = catalog.preset(lambda g, p, o: 2.0)
        b: float | None = catalog.preset(lambda g, p, o: o["a"] + 1, lambda v, g, p, o: v * o["a"])

    assert catalog.fill_presets(Settings, {}, game, None) == {"a": 2.0, "b": 3.0}
    assert catalog.fill_presets(Settings, {"a": 5.0}, game, None) == {"a": 5.0, "b": 6.0}
    assert catalog.fill_presets(Settings, {"b": 4.0}, game, None) == {"a": 2.0, "b": 8.0}


def test_the_spsa_leaders_take_the_hic_preset_fitted_to_the_followers_step(game):
    f = catalog.make_follower("gradient", game, 2, {"step_size": 0.05})
    want = presets.hic_leader_kwargs(game, beta=0.05)
    assert want["baseline"] is not None
    hic = catalog.make_leader("hic", game, 2, {}, partner=f).options
    assert (hic.step_size, hic.perturbation, hic.commitment, hic.baseline) == (
        want["step_size"],
        want["perturbation"],
        want["commitment"],
        want["baseline"],
    )
    # The oracle: the same schedules, one measurement per stage.
    oracle = catalog.make_leader("oracle-spsa", game, 2, {}, partner=f).options
    assert oracle.commitment == schedules.Constant(1.0)
    assert (oracle.step_size, oracle.baseline) == (want["step_size"], want["baseline"])
    # no_baseline and two_sided leave the baseline unset.
    for opts in ({"two_sided": True}, {"no_baseline": True}):
        assert catalog.make_leader("hic", game, 2, opts, partner=f).options.baseline is None
    # A Corollary 4.11 commitment is fitted to the perturbation as set and the follower's step.
    set_ = {"perturbation": 0.2, "commitment": "corollary:p=0.5"}
    for name in ("hic", "oracle-spsa"):
        got = catalog.make_leader(name, game, 2, set_, partner=f).options.commitment
        assert got == resolve_commitment(Corollary(0.5), game, schedules.Constant(0.2), 0.05)
        assert got.perturbation == schedules.Constant(0.2) and got.beta == 0.05
    with pytest.raises(ValueError, match="needs beta"):  # no constant follower step: say so
        catalog.make_leader("hic", game, 2, set_, partner=None)


def test_a_follower_step_no_preset_commitment_suits_is_refused_only_where_that_commitment_is_used():
    # The duopoly's follower has mu = 2: a step of 0.6 converges (|1 - 0.6 * 2| < 1) but no
    # Corollary 4.11 commitment suits it (beta * mu = 1.2 >= 1).
    game = game_from_id("hic/Duopoly-v0")
    f = catalog.make_follower("gradient", game, 2, {"step_size": 0.6})
    with pytest.raises(ValueError, match=r"beta \* mu"):
        catalog.make_leader("hic", game, 2, {}, partner=f)  # the preset commitment: refused
    want = presets.hic_leader_kwargs(game)  # the three values that do not depend on beta
    without = presets.hic_leader_kwargs(game, beta=0.6, commitment=False)
    assert list(without) == ["step_size", "perturbation", "baseline"]
    assert without == {k: want[k] for k in without}
    # The oracle's commitment of 1 and a commitment the user sets need no preset commitment.
    oracle = catalog.make_leader("oracle-spsa", game, 2, {}, partner=f).options
    assert oracle.commitment == schedules.Constant(1.0)
    assert (oracle.step_size, oracle.perturbation) == (want["step_size"], want["perturbation"])
    hic = catalog.make_leader("hic", game, 2, {"commitment": 20}, partner=f).options
    assert hic.commitment == schedules.Constant(20.0)
    assert (hic.step_size, hic.baseline) == (want["step_size"], want["baseline"])


def test_the_preset_commitment_is_fitted_to_the_perturbation_the_leader_uses():
    # Eq. (28): k_n = ceil(2 (ln delta_n - ln B - p ln n) / ln(1 - beta mu)) is fitted to the
    # leader's delta_n; a perturbation the user sets must not leave it fitted to the preset's.
    game = game_from_id("hic/Duopoly-v0")
    f = catalog.make_follower("gradient", game, 2, {"step_size": 0.1})
    preset = presets.hic_leader_kwargs(game, beta=0.1)
    default = catalog.make_leader("hic", game, 2, {}, partner=f).options
    assert default.commitment == preset["commitment"]  # the preset's perturbation: as before
    set_ = catalog.make_leader("hic", game, 2, {"perturbation": 0.01}, partner=f).options
    assert set_.perturbation == schedules.Constant(0.01)
    want = schedules.CommitmentSchedule(
        0.1, preset["commitment"].mu, preset["commitment"].B, preset["commitment"].p,
        schedules.Constant(0.01), K2=preset["commitment"].K2,
    )  # fmt: skip
    assert set_.commitment == want
    # A smaller delta_n asks for longer commitments (the follower must get closer to r(x)).
    assert want(100) > preset["commitment"](100)
    assert set_.step_size == preset["step_size"]  # the other values: the preset's


def test_learner_spec_finds_a_registered_learner_and_names_a_misspelt_one(game):
    assert catalog.learner_spec("leader", "hic") is catalog.LEADERS["hic"]
    assert catalog.learner_spec("follower", "gradient") is catalog.FOLLOWERS["gradient"]
    # make_leader / make_follower look their learner up the same way
    with pytest.raises(ValueError, match=r"unknown leader 'hicc' \(did you mean 'hic'\?\)"):
        catalog.make_leader("hicc", game, 2, {})
    with pytest.raises(ValueError, match=r"unknown follower 'nosuch'; expected one of \["):
        catalog.make_follower("nosuch", game, 2, {})
    with pytest.raises(ValueError, match="role must be 'leader' or 'follower', got 'referee'"):
        catalog.learner_spec("referee", "hic")
