"""Rendering for :class:`~hic_envs.GameEnv`: one line of text, or a picture of the joint strategy
on the leader's payoff landscape.

NumPy only (no matplotlib), so rendering stays light and fast. The input is a :class:`Frame`
(the game, the stage count and the stage just played), which :meth:`GameEnv.render` builds from
its state; this module never sees the env, so it imports nothing of the env plumbing.

The picture (:func:`rgb_array`) is a ``SIZE x SIZE`` RGB image of the strategy boxes: the
leader's strategy ``x`` runs left to right, the follower's ``y`` bottom to top. It shows

* a heat map of the leader's payoff ``f1(x, y)`` (viridis: dark purple low, yellow high),
  coloured by rank over the picture (histogram-equalised, so the shape near the equilibria is
  visible even where payoffs elsewhere are far lower), with ``CONTOURS`` contour lines (darker
  pixels) between equally populated payoff bands;
* the follower's best-response curve ``y = r(x)``, white with a black edge;
* the differential Stackelberg equilibrium (DSE) as a red cross with a white edge, and a
  differential Nash equilibrium, where the game has one, as a cyan ring;
* the joint action of the stage just played as a magenta disc with a white edge (absent before
  the first stage).

For more than one dimension the picture is a slice through the first coordinate of each
player: the remaining coordinates of both players are held at the current joint action (the box
centres before the first stage), so the heat map is ``f1`` over ``(x_1, y_1)`` and the curve is
the first coordinate of ``r`` along ``x_1``. The equilibria are drawn at their first coordinates,
which need not lie in the slice. A game without known equilibria (``game.has_equilibria`` False:
a neural GAN, whose best response is only a local numeric one) gets the heat map and the joint
action only.

The heat map and the best-response curve are computed once per env through the game's batched
:meth:`~hic_envs.games.Game.leader_payoff` and :meth:`~hic_envs.games.Game.best_response`, and
cached in a dict the caller owns (the env keeps one); in more than one dimension they are
recomputed when the held coordinates change.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["Frame", "ansi", "rgb_array", "SIZE"]

#: Side of the picture in pixels.
SIZE = 256
#: Heat-map cells per axis (each drawn as a ``SIZE // GRID`` square of pixels).
GRID = 128
#: Points at which the best-response curve is evaluated (joined by straight segments).
BR_POINTS = 64
#: Number of equally populated payoff bands, separated by contour lines.
CONTOURS = 12
#: Largest batch (points x coordinates) evaluated at once when building the heat map.
_CHUNK = 1 << 20

# Anchors of matplotlib's viridis colour map, linearly interpolated.
_VIRIDIS = np.array(
    [
        [68, 1, 84],
        [71, 45, 123],
        [59, 82, 139],
        [44, 114, 142],
        [33, 145, 140],
        [40, 174, 128],
        [94, 201, 98],
        [173, 220, 48],
        [253, 231, 37],
    ],
    dtype=np.float64,
)
_BLACK = (0, 0, 0)
_WHITE = (255, 255, 255)
_RED = (230, 30, 30)
_CYAN = (0, 230, 255)
_MAGENTA = (255, 0, 200)


@dataclasses.dataclass(frozen=True)
class Frame:
    """What is rendered: one moment of an episode.

    Attributes:
        game: the game (a :class:`~hic_envs.games.Game`).
        stage: stages played in this episode.
        max_cycles: the episode's length.
        last: the stage just played, ``(x, y, f1, f2)`` (actions of shapes ``(d1,)`` and
            ``(d2,)``, noiseless payoffs), or None before the first stage.
    """

    game: Any
    stage: int
    max_cycles: int
    last: tuple[np.ndarray, np.ndarray, float, float] | None


# ---------------------------------------------------------------------- text
def ansi(frame: Frame) -> str:
    """One line of text describing the stage just played.

    ``"Duopoly stage 3/1000: x=[24.5] y=[12.25] f1=300.125 f2=150.0625"``; before the first
    stage of an episode, ``"Duopoly stage 0/1000: no stage played yet (...)"``. ``f1`` and ``f2``
    are the noiseless payoffs. Vectors of more than six entries are abbreviated.
    """
    head = f"{frame.game.name} stage {frame.stage}/{frame.max_cycles}"
    if frame.last is None:
        return f"{head}: no stage played yet (each player observes the centre of the other's box)"
    x, y, f1, f2 = frame.last
    return f"{head}: x={_fmt(x)} y={_fmt(y)} f1={f1:.8g} f2={f2:.8g}"


def _fmt(v: np.ndarray) -> str:
    vals = [f"{u:.6g}" for u in v.tolist()]
    if len(vals) > 6:
        return "[" + ", ".join(vals[:3]) + f", ..., {vals[-1]}] (d={len(vals)})"
    return "[" + ", ".join(vals) + "]"


# ---------------------------------------------------------------------- picture
def rgb_array(frame: Frame, cache: dict[str, Any]) -> np.ndarray:
    """The joint strategy on the leader's payoff landscape, uint8 of shape ``(SIZE, SIZE, 3)``.

    See the module docstring for what is drawn.

    Args:
        frame: what to draw.
        cache: the heat map, best-response curve and equilibria of earlier calls for the same
            game (start with an empty dict; reuse it for the same game only).
    """
    game = frame.game
    if frame.last is None:
        x = 0.5 * (game.leader_low + game.leader_high)
        y = 0.5 * (game.follower_low + game.follower_high)
    else:
        x, y = frame.last[0], frame.last[1]
    key = (x[1:].tobytes(), y[1:].tobytes())
    if cache.get("heat_key") != key:
        cache["heat"] = _heat_map(game, x, y)
        cache["heat_key"] = key
    img = cache["heat"].copy()
    if game.has_equilibria:
        _draw_ground_truth(img, game, x, key[0], cache)
    if frame.last is not None:
        r, c = _pixel(game, float(x[0]), float(y[0]))
        _stamp(img, r, c, _disc(6), _WHITE)
        _stamp(img, r, c, _disc(4), _MAGENTA)
    return img


def _draw_ground_truth(
    img: np.ndarray, game: Any, x: np.ndarray, key: bytes, cache: dict[str, Any]
) -> None:
    """Draw the best-response curve and the equilibria on ``img`` (in place)."""
    if cache.get("br_key") != key:
        cache["br"] = _best_response_curve(game, x)
        cache["br_key"] = key
    if "eq" not in cache:
        dse, ne = game.stackelberg(), game.nash()
        cache["eq"] = (
            (float(dse.x[0]), float(dse.y[0])),
            None if ne is None else (float(ne.x[0]), float(ne.y[0])),
        )
    rows, cols = cache["br"]
    _polyline(img, rows, cols, 2, _BLACK)
    _polyline(img, rows, cols, 1, _WHITE)
    dse, ne = cache["eq"]
    if ne is not None:
        r, c = _pixel(game, *ne)
        _stamp(img, r, c, _RING_OUTER, _BLACK)
        _stamp(img, r, c, _RING, _CYAN)
    r, c = _pixel(game, *dse)
    _stamp(img, r, c, _CROSS_OUTER, _WHITE)
    _stamp(img, r, c, _CROSS, _RED)


def _heat_map(game: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Colour image of ``f1`` over the ``(x_1, y_1)`` slice, with contour lines."""
    n = GRID
    xs = game.leader_low[0] + (np.arange(n) + 0.5) * (game.leader_high[0] - game.leader_low[0]) / n
    ys = (
        game.follower_high[0]
        - (np.arange(n) + 0.5) * (game.follower_high[0] - game.follower_low[0]) / n
    )  # row 0 is the top of the picture: y high
    xx = np.tile(xs, n)
    yy = np.repeat(ys, n)
    pts_x = np.broadcast_to(x, (n * n, x.shape[0])).copy()
    pts_y = np.broadcast_to(y, (n * n, y.shape[0])).copy()
    pts_x[:, 0] = xx
    pts_y[:, 0] = yy
    step = max(1, _CHUNK // (x.shape[0] + y.shape[0]))
    f = np.concatenate(
        [
            np.asarray(game.leader_payoff(pts_x[i : i + step], pts_y[i : i + step]), np.float64)
            for i in range(0, n * n, step)
        ]
    ).reshape(n, n)

    # Colour by rank (histogram equalisation): payoffs often span orders of magnitude more
    # far from the equilibria than near them, and a linear scale would flatten the region that
    # matters. Ties share a rank, so a constant payoff is one colour; non-finite values rank
    # lowest.
    flat = np.where(np.isfinite(f), f, -np.inf).ravel()
    uniq, inv = np.unique(flat, return_inverse=True)
    v = (inv / max(uniq.size - 1, 1)).reshape(n, n) if uniq.size > 1 else np.full((n, n), 0.5)
    scale = SIZE // n
    v = np.repeat(np.repeat(v, scale, axis=0), scale, axis=1)
    img = _colour(v)

    band = np.minimum((v * CONTOURS).astype(np.int64), CONTOURS - 1)
    edge = np.zeros(band.shape, dtype=bool)
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    img[edge] = (img[edge] * 0.55).astype(np.uint8)
    return img


def _colour(v: np.ndarray) -> np.ndarray:
    """Viridis colour of values in ``[0, 1]``, uint8 ``(..., 3)``."""
    t = np.clip(v, 0.0, 1.0) * (len(_VIRIDIS) - 1)
    i = np.minimum(t.astype(np.int64), len(_VIRIDIS) - 2)
    w = (t - i)[..., None]
    return np.round((1.0 - w) * _VIRIDIS[i] + w * _VIRIDIS[i + 1]).astype(np.uint8)


def _best_response_curve(game: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel ``(rows, cols)`` of ``(x_1, r(x)_1)`` at ``BR_POINTS`` leader strategies along the
    first coordinate."""
    xs = np.linspace(game.leader_low[0], game.leader_high[0], BR_POINTS)
    pts = np.broadcast_to(x, (BR_POINTS, x.shape[0])).copy()
    pts[:, 0] = xs
    return _pixels(game, xs, np.asarray(game.best_response(pts), dtype=np.float64)[:, 0])


def _pixels(game: Any, x1, y1) -> tuple[np.ndarray, np.ndarray]:
    """Continuous ``(row, column)`` of points ``(x1, y1)``, clipped to the picture; pixel
    ``(i, j)`` covers ``[i - 0.5, i + 0.5] x [j - 0.5, j + 0.5]``."""
    u = (np.asarray(x1) - game.leader_low[0]) / (game.leader_high[0] - game.leader_low[0])
    w = (np.asarray(y1) - game.follower_low[0]) / (game.follower_high[0] - game.follower_low[0])
    col = np.clip(u * SIZE - 0.5, 0.0, SIZE - 1.0)
    row = np.clip((1.0 - w) * SIZE - 0.5, 0.0, SIZE - 1.0)
    return row, col


def _pixel(game: Any, x1: float, y1: float) -> tuple[int, int]:
    """Integer ``(row, column)`` of the point ``(x1, y1)`` in the picture."""
    row, col = _pixels(game, x1, y1)
    return int(np.round(row)), int(np.round(col))


def _polyline(img: np.ndarray, rows: np.ndarray, cols: np.ndarray, half: int, colour) -> None:
    """Draw the polyline through continuous pixel coordinates ``(rows, cols)``, ``2 half + 1``
    pixels wide."""
    dr, dc = np.diff(rows), np.diff(cols)
    steps = np.maximum(np.ceil(np.maximum(np.abs(dr), np.abs(dc))).astype(np.int64), 1)
    seg = np.repeat(np.arange(dr.size), steps)
    t = (np.arange(seg.size) - np.repeat(np.cumsum(steps) - steps, steps)) / steps[seg]
    r = np.round(np.concatenate([rows[seg] + t * dr[seg], rows[-1:]])).astype(np.int64)
    c = np.round(np.concatenate([cols[seg] + t * dc[seg], cols[-1:]])).astype(np.int64)
    for oy in range(-half, half + 1):
        for ox in range(-half, half + 1):
            rr, cc = r + oy, c + ox
            ok = (rr >= 0) & (rr < SIZE) & (cc >= 0) & (cc < SIZE)
            img[rr[ok], cc[ok]] = colour


def _disc(radius: int) -> np.ndarray:
    o = np.arange(-radius, radius + 1)
    return o[:, None] ** 2 + o[None, :] ** 2 <= radius * radius + radius


def _ring_mask(r_in: int, r_out: int) -> np.ndarray:
    o = np.arange(-r_out, r_out + 1)
    d2 = o[:, None] ** 2 + o[None, :] ** 2
    return (d2 <= r_out * r_out + r_out) & (d2 > r_in * r_in + r_in)


def _cross_mask(radius: int, half: int) -> np.ndarray:
    o = np.arange(-radius, radius + 1)
    a, b = o[:, None], o[None, :]
    return (np.abs(a - b) <= half) | (np.abs(a + b) <= half)


def _stamp(img: np.ndarray, row: int, col: int, mask: np.ndarray, colour) -> None:
    """Paint ``colour`` where ``mask`` (centred on ``(row, col)``) is True, clipped to ``img``."""
    k = mask.shape[0] // 2
    r0, c0 = row - k, col - k
    rs, cs = max(r0, 0), max(c0, 0)
    re, ce = min(r0 + mask.shape[0], SIZE), min(c0 + mask.shape[1], SIZE)
    sub = mask[rs - r0 : re - r0, cs - c0 : ce - c0]
    img[rs:re, cs:ce][sub] = colour


_CROSS = _cross_mask(7, 1)
_CROSS_OUTER = _cross_mask(9, 3)
_RING = _ring_mask(4, 6)
_RING_OUTER = _ring_mask(3, 7)
