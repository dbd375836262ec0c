"""The preset's curvature is computed once per game instance (an experiment builds its leader
once per budget probe and once to run; on games without closed forms each computation solves
best responses numerically)."""

from __future__ import annotations

from agents import presets
from hic_envs.games import QuadraticGame


class CountingQuadratic(QuadraticGame):
    calls = 0

    def hierarchical_hess(self, x):
        type(self).calls += 1
        return super().hierarchical_hess(x)


def test_curvature_is_computed_once_per_game_and_the_kwargs_do_not_change():
    game = CountingQuadratic()
    first = presets.hic_leader_kwargs(game)
    again = [presets.hic_leader_kwargs(game) for _ in range(3)]
    assert CountingQuadratic.calls == 1
    assert all(kw == first for kw in again)
    other = CountingQuadratic()  # another instance: its own computation, the same values
    assert presets.hic_leader_kwargs(other) == first
    assert CountingQuadratic.calls == 2
