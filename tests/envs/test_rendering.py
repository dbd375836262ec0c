"""GameEnv.render: the text line and the picture of the joint strategy on the payoff landscape."""

from __future__ import annotations

import numpy as np
import pettingzoo
import pytest

import hic_envs
from hic_envs import FOLLOWER, LEADER, GameEnv, rendering
from hic_envs.games import Duopoly, RandomQuadraticGame

ENV_IDS = hic_envs.list_envs()

MAGENTA = (255, 0, 200)
RED = (230, 30, 30)
WHITE = (255, 255, 255)


def _env(game=None, mode="rgb_array") -> GameEnv:
    env = GameEnv(game if game is not None else Duopoly(), render_mode=mode)
    env.reset(seed=0)
    return env


def _act(x, y) -> dict:
    return {LEADER: np.array(x, dtype=np.float64), FOLLOWER: np.array(y, dtype=np.float64)}


def _count(img, colour) -> int:
    return int(np.all(img == np.array(colour, dtype=np.uint8), axis=-1).sum())


# ---------------------------------------------------------------------- text
def test_ansi_before_and_after_a_stage():
    env = _env(mode="ansi")
    before = env.render()
    assert before.startswith("Duopoly stage 0/1000: no stage played yet")
    env.step(_act([24.5], [12.25]))
    env.step(_act([24.5 + 1e-3], [60.0]))  # the follower's action is projected to 50
    line = env.render()
    assert "\n" not in line
    f1 = float(env.game.leader_payoff(np.array([24.501]), np.array([50.0])))
    f2 = float(env.game.follower_payoff(np.array([24.501]), np.array([50.0])))
    assert line == f"Duopoly stage 2/1000: x=[24.501] y=[50] f1={f1:.8g} f2={f2:.8g}"


def test_ansi_abbreviates_long_vectors():
    game = RandomQuadraticGame(d1=8, d2=2, seed=0)
    env = _env(game, mode="ansi")
    x = np.linspace(game.leader_low[0], game.leader_high[0], 8)
    env.step({LEADER: x, FOLLOWER: np.zeros(2)})
    line = env.render()
    assert f"x=[{x[0]:.6g}, {x[1]:.6g}, {x[2]:.6g}, ..., {x[7]:.6g}] (d=8)" in line
    assert "y=[0, 0]" in line


def test_human_prints_the_ansi_line(capsys):
    env = _env(mode="human")
    env.step(_act([20.0], [10.0]))
    assert env.render() is None
    out = capsys.readouterr().out
    env.render_mode = "ansi"
    assert out == env.render() + "\n"


def test_no_render_mode_renders_nothing():
    env = _env(mode=None)
    env.step(_act([20.0], [10.0]))
    assert env.render() is None


# ---------------------------------------------------------------------- picture
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rgb_array_shape_and_markers(env_id):
    env = pettingzoo.make("parallel", env_id, render_mode="rgb_array")
    env.reset(seed=0)
    img = env.render()
    assert img.shape == (rendering.SIZE, rendering.SIZE, 3) and img.dtype == np.uint8
    assert _count(img, MAGENTA) == 0  # no stage played yet: no action marker
    g = env.game
    # The DSE, where the game knows one (a neural GAN does not: no marker, no curve).
    assert (_count(img, RED) > 0) == g.has_equilibria
    assert (_count(img, WHITE) > 0) == g.has_equilibria
    env.step(
        {
            LEADER: g.leader_low + 0.3 * (g.leader_high - g.leader_low),
            FOLLOWER: g.follower_low + 0.8 * (g.follower_high - g.follower_low),
        }
    )
    img = env.render()
    assert img.shape == (rendering.SIZE, rendering.SIZE, 3) and img.dtype == np.uint8
    assert _count(img, MAGENTA) > 0


def test_markers_and_curve_sit_where_the_game_says():
    game = Duopoly()
    env = _env(game)
    env.step(_act([10.0], [40.0]))
    img = env.render()
    n = rendering.SIZE

    def pixel(x, y):  # strategy units -> (row, col), pixel centres at (i + 0.5) / n
        return int(round((1 - y / 50.0) * n - 0.5)), int(round(x / 50.0 * n - 0.5))

    assert tuple(img[pixel(10.0, 40.0)]) == MAGENTA
    dse = game.stackelberg()
    assert tuple(img[pixel(dse.x[0], dse.y[0])]) == RED
    # the best-response curve r(x) = (49 - x) / 2, away from the markers
    for x in (2.0, 40.0, 45.0):
        assert tuple(img[pixel(x, (49.0 - x) / 2.0)]) == WHITE
    # f1 = x (49 - x - y): highest at the bottom edge below x = 24.5 (bright yellow), lowest at
    # the top-right corner (dark purple)
    assert tuple(img[n - 1, pixel(24.5, 0.0)[1]]) == (253, 231, 37)
    assert tuple(img[0, n - 1]) == (68, 1, 84)


def test_landscape_and_curve_are_computed_once_in_one_dimension(monkeypatch):
    game = Duopoly()
    calls = {"payoff": 0, "br": 0}
    payoff, br = game.payoffs, game.best_response  # the duopoly's leader_payoff calls payoffs

    def counted_payoff(x, y):
        calls["payoff"] += 1
        return payoff(x, y)

    def counted_br(x):
        calls["br"] += 1
        return br(x)

    monkeypatch.setattr(game, "payoffs", counted_payoff)
    monkeypatch.setattr(game, "best_response", counted_br)
    env = _env(game)
    first = env.render()
    after_first = dict(calls)
    assert after_first["payoff"] >= 1 and after_first["br"] >= 1
    env.step(_act([30.0], [5.0]))
    second = env.render()
    env.reset()
    env.render()
    assert calls["br"] == after_first["br"]
    # the step evaluates the payoff itself (the reset infos' payoff at the box centres was
    # computed at the first reset and is kept); the landscape is not recomputed
    assert calls["payoff"] == after_first["payoff"] + 1
    assert not np.array_equal(first, second)  # the action marker moved in


def test_higher_dimensions_slice_through_the_current_action():
    # The picture is f1 over (x_1, y_1) with the other coordinates held at the current action:
    # the landscape is recomputed when (and only when) a held coordinate moves, and the
    # best-response curve when a held leader coordinate moves.
    game = RandomQuadraticGame(d1=2, d2=3, seed=4)
    env = _env(game)
    x = 0.5 * (game.leader_low + game.leader_high)
    y = 0.5 * (game.follower_low + game.follower_high)
    env.render()
    cache = env._render_cache
    heat0, br0 = cache["heat"], cache["br"]

    env.step({LEADER: x, FOLLOWER: y})  # the box centres: the slice before any stage
    env.render()
    x1, y1 = x.copy(), y.copy()
    x1[0], y1[0] = game.leader_low[0], game.follower_high[0]
    env.step({LEADER: x1, FOLLOWER: y1})  # first coordinates only
    env.render()
    assert cache["heat"] is heat0 and cache["br"] is br0

    y2 = y1.copy()
    y2[2] = game.follower_low[2]
    env.step({LEADER: x1, FOLLOWER: y2})  # a held follower coordinate
    env.render()
    assert cache["br"] is br0
    assert not np.array_equal(cache["heat"], heat0)
    heat2 = cache["heat"]

    x3 = x1.copy()
    x3[1] = game.leader_high[1]
    env.step({LEADER: x3, FOLLOWER: y2})  # a held leader coordinate
    img = env.render()
    assert not np.array_equal(cache["heat"], heat2)
    assert not np.array_equal(cache["br"][0], br0[0])
    # the best-response curve is r(x)_1 along x_1 with x_2 held at the current action
    xs = np.array([game.leader_low[0] + 0.8 * (game.leader_high[0] - game.leader_low[0])])
    r1 = game.best_response(np.array([xs[0], x3[1]]))[0]
    row, col = rendering._pixel(game, float(xs[0]), float(r1))
    assert tuple(img[row, col]) == WHITE or _count(img[row - 1 : row + 2, col - 1 : col + 2], WHITE)
