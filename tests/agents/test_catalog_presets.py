"""The catalog's presets are declared on the settings fields (``catalog.preset``) and filled
by one generic function (``catalog.fill_presets``) that every factory calls: an unset option
gets the game's preset, a set one is kept, and the built learners are what the per-learner
factories built before (the values compared here are the presets themselves)."""

from __future__ import annotations

import dataclasses

import pytest

from agents import catalog, presets, schedules
from hic_envs.registration import game_from_id


@pytest.fixture(scope="module")
def game():
    return game_from_id("hic/Quadratic-v0")


def test_fill_presets_fills_only_unset_fields_and_skips_a_none_preset(game):
    @dataclasses.dataclass(frozen=True)
    class Settings:
        a: float | None = catalog.preset(lambda g, p: 2.5)
        b: float | None = catalog.preset(lambda g, p: None)
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
