"""Smoke test of scripts/coupled_timing.py on a tiny budget (its timings are in
docs/results/coupled.md with their load)."""

from __future__ import annotations

import pytest


def test_rows_time_both_products_and_agree_with_the_dense_update(load_script):
    mod = load_script("coupled_timing")
    lines = mod.rows(6, mod.Config(dims=(6,), seeds=2, stages=5))
    assert len(lines) == 2 and "game's" in lines[0] and "closed form" in lines[1]
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert float(cells[5]) < 1e-5  # CG direction vs the dense one, relative
        assert len(cells) == 10 and float(cells[8]) > 0  # the products alone, µs
        dense, play, play2 = (float(v) for v in cells[9].split(" / "))  # per seed: / S
        assert dense == pytest.approx(float(cells[2]) / 2, rel=1e-2)
        assert play == pytest.approx(float(cells[6].split()[0]) / 2, rel=1e-2)
        assert play2 == pytest.approx(float(cells[7].split()[0]) / 2, rel=1e-2)


def test_closed_form_hvp_equals_the_game_default(load_script):
    import numpy as np

    mod = load_script("coupled_timing")
    game = mod.ClosedFormHVP(5, 5, seed=3)
    rng = np.random.default_rng(0)
    x, y, v = rng.normal(size=(3, 2, 5))
    for block in ("yy", "xy"):
        np.testing.assert_allclose(
            game.payoff_hvp("follower", block, x, y, v),
            super(mod.ClosedFormHVP, game).payoff_hvp("follower", block, x, y, v),
            rtol=1e-12,
            atol=1e-12,
        )


def test_bad_config_raises(load_script):
    mod = load_script("coupled_timing")
    with pytest.raises(ValueError, match="positive"):
        mod.Config(dims=(0,))
