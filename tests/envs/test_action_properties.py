"""Actions of every type, shape and value: a clear ValueError or a valid projected play.

Issue 10 defect 12: main played strings, bytes, booleans, complex numbers and masked arrays as
numbers. The explicit cases below failed on main; the property test draws the rest.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hic_envs.env import FOLLOWER, LEADER, GameEnv
from hic_envs.games import Duopoly, RandomQuadraticGame

GAMES = {1: Duopoly(), 3: RandomQuadraticGame(d1=3, d2=2)}


def _env(d: int) -> GameEnv:
    env = GameEnv(GAMES[d], max_cycles=10**6)
    env.reset(seed=0)
    return env


def _centre(game, who: str) -> np.ndarray:
    if who == LEADER:
        return 0.5 * (game.leader_low + game.leader_high)
    return 0.5 * (game.follower_low + game.follower_high)


@pytest.mark.parametrize(
    ("action", "what"),
    [
        (["1.5"], "an entry '1.5'"),
        ([b"1.5"], "an entry b'1.5'"),
        ([True], "an entry True"),
        ((np.True_,), f"an entry {np.True_!r}"),  # np.True_ in NumPy 2, True in 1.x
        ([1.0, True][1:], "an entry True"),
        (np.array([True]), "dtype bool"),
        (np.array(["1.5"]), "dtype <U3"),
        (np.array([b"1"]), "dtype |S1"),
        (np.array([1 + 2j]), "dtype complex128"),
        (np.array([1.5], dtype=object), "dtype object"),
        (np.ma.masked_array([1.0], mask=[True]), "a masked array"),
        (np.ma.masked_array([1.0], mask=[False]), "a masked array"),
        ([np.ma.masked], "an entry masked"),
        ([np.array(True)], "an entry array(True)"),
        ([[1.0], 2.0], "a ragged sequence"),
    ],
)
def test_non_numbers_are_refused_not_converted(action, what):
    env = _env(1)
    with pytest.raises(ValueError, match=r"'leader_0' must be an array of numbers of shape"):
        env.step({LEADER: action, FOLLOWER: [10.0]})
    try:
        env.step({LEADER: action, FOLLOWER: [10.0]})
    except ValueError as err:
        assert what in str(err)
    # a refused step plays nothing
    assert env.step({LEADER: [20.0], FOLLOWER: [10.0]})[4][LEADER]["stage"] == 1


@pytest.mark.parametrize(
    "action",
    [
        [20],
        (20.0,),
        np.array([20], dtype=np.int8),
        np.array([20], dtype=np.uint64),
        np.array([20.0], dtype=np.float32),
        [np.float32(20.0)],
        [np.int64(20)],
        memoryview(np.array([20.0])),
    ],
)
def test_real_numbers_of_any_numeric_type_are_played(action):
    env = _env(1)
    obs = env.step({LEADER: action, FOLLOWER: [10.0]})[0]
    assert obs[FOLLOWER].dtype == np.float64 and obs[FOLLOWER].tolist() == [20.0]


# ---------------------------------------------------------------------- property
_entries = st.one_of(
    st.floats(width=64),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.text(max_size=3),
    st.binary(max_size=2),
    st.none(),
    st.complex_numbers(max_magnitude=10.0),
)
_dtypes = st.sampled_from(
    [np.float64, np.float32, np.int64, np.int8, np.uint8, np.bool_, np.complex128, "U3", "S2"]
)
_arrays = hnp.arrays(_dtypes, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4))
_actions = st.one_of(
    st.lists(_entries, max_size=4),
    st.lists(_entries, max_size=4).map(tuple),
    st.lists(st.floats(width=64), min_size=1, max_size=4),
    st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3),
    _arrays,
    hnp.arrays(np.float64, st.sampled_from([(1,), (3,)])),
    _arrays.map(lambda a: np.ma.masked_array(a)),
    _entries,
)


def _expected(action, game) -> np.ndarray | None:
    """The action the env must play, or None where it must refuse with ValueError."""
    d = game.d1
    if isinstance(action, np.ma.MaskedArray):
        return None
    if type(action) is np.ndarray:
        if action.dtype.kind not in "iuf" or action.shape != (d,):
            return None
        v = action.astype(np.float64)
    elif isinstance(action, list | tuple):
        ok = all(type(e) in (int, float) for e in action)
        if not ok or len(action) != d:
            return None
        v = np.array(action, dtype=np.float64)
    else:
        return None
    if not np.all(np.isfinite(v)):
        return None
    return np.clip(v, game.leader_low, game.leader_high)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(action=_actions, d=st.sampled_from([1, 3]))
def test_any_action_is_played_projected_or_refused_clearly(action, d):
    env = _env(d)
    game = GAMES[d]
    want = _expected(action, game)
    follower = _centre(game, FOLLOWER)
    if want is None:
        with pytest.raises(ValueError, match="action for 'leader_0'"):
            env.step({LEADER: action, FOLLOWER: follower})
        return
    obs, rewards, _, _, infos = env.step({LEADER: action, FOLLOWER: follower})
    played = obs[FOLLOWER]
    assert played.dtype == np.float64 and np.array_equal(played, want)
    assert np.all(played >= game.leader_low) and np.all(played <= game.leader_high)
    assert np.isfinite(rewards[LEADER]) and np.isfinite(rewards[FOLLOWER])
    raw = np.asarray(action, dtype=np.float64)
    assert infos[LEADER]["projected"] == (not np.array_equal(raw, want))
