"""Schedules: values, validation, Corollary 4.11 against hand-computed values, Assumption 4.4."""

import math
import warnings

import numpy as np
import pytest
from gymnasium import spaces

from agents import HiCLeader
from agents.schedules import (
    CommitmentSchedule,
    Constant,
    Logarithmic,
    PowerLaw,
    as_schedule,
    check_spsa_schedules,
    evaluate,
)
from hic_envs.games import Duopoly, QuadraticGame


def test_values_scalar_and_vectorised():
    assert Constant(0.5)(7) == 0.5
    np.testing.assert_array_equal(Constant(0.5)(np.arange(3)), [0.5, 0.5, 0.5])
    # a / (n + 1 + A)^gamma: 2 / (3 + 1 + 4)^0.5 = 2 / sqrt(8)
    assert PowerLaw(2.0, 0.5, 4.0)(3) == pytest.approx(2.0 / math.sqrt(8.0), rel=1e-15)
    np.testing.assert_allclose(PowerLaw(1.0, 1.0)(np.array([0, 1, 9])), [1.0, 0.5, 0.1])
    assert Logarithmic(3.0, base=2.0)(6) == pytest.approx(3.0 / math.log(8.0), rel=1e-15)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Constant(0.0),
        lambda: Constant(-1.0),
        lambda: Constant(float("nan")),
        lambda: PowerLaw(0.0, 0.6),
        lambda: PowerLaw(1.0, -0.1),
        lambda: PowerLaw(1.0, 0.6, A=-1.0),
        lambda: Logarithmic(1.0, base=1.0),
        lambda: as_schedule(-2, "step_size"),
    ],
)
def test_bad_values_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("bad", ["0.1", None, True, [0.1]])
def test_non_schedules_raise_type_error(bad):
    with pytest.raises(TypeError, match="step_size"):
        as_schedule(bad, "step_size")


def test_evaluate_names_the_bad_index():
    with pytest.raises(ValueError, match="n=3"):
        evaluate(lambda n: 1.0 if n < 3 else -1.0, np.arange(5), "perturbation")


def test_commitment_schedule_matches_hand_computed_values():
    # Eq. (28) by hand, beta = 0.1, mu = 2, B = 50, p = 1, delta_n = 1:
    # ln 50 = 3.912023, ln 0.8 = -0.223144.
    # k_0 = k_1 = ceil(2 * 3.912023 / 0.223144) = ceil(35.063) = 36   (ln n := 0 at n = 0)
    # k_10 = ceil(2 * (3.912023 + 2.302585) / 0.223144) = ceil(55.701) = 56
    # k_100 = ceil(2 * (3.912023 + 4.605170) / 0.223144) = ceil(76.338) = 77
    k = CommitmentSchedule(beta=0.1, mu=2.0, B=50.0, p=1.0, perturbation=1.0)
    assert [k(0), k(1), k(10), k(100)] == [36, 36, 56, 77]
    np.testing.assert_array_equal(k(np.array([0, 1, 10, 100])), [36, 36, 56, 77])
    # delta_n = 1 / (n + 1)^0.101 at n = 10: ln delta = -0.101 ln 11 = -0.242185;
    # k_10 = ceil(2 * (0.242185 + 3.912023 + 2.302585) / 0.223144) = ceil(57.871) = 58.
    k2 = CommitmentSchedule(0.1, 2.0, 50.0, 1.0, PowerLaw(1.0, 0.101))
    assert k2(10) == 58
    # beta = 0.25, mu = 1, B = 10, p = 0.5, delta = 0.5, n = 1000:
    # ceil(2 * (0.693147 + 2.302585 + 0.5 * 6.907755) / 0.287682) = ceil(44.838) = 45.
    assert CommitmentSchedule(0.25, 1.0, 10.0, 0.5, 0.5)(1000) == 45
    # A perturbation larger than B gives a negative right-hand side: k_n is at least 1.
    assert CommitmentSchedule(0.5, 1.0, 1.0, 1.0, 10.0)(0) == 1


def test_commitment_schedule_for_game_reads_mu_K2_and_the_box_diameter():
    game = Duopoly()  # mu = K2 = 2, Y = [0, 50]
    k = CommitmentSchedule.for_game(game, beta=0.1, perturbation=1.0, p=1.0)
    assert (k.mu, k.K2, k.B) == (2.0, 2.0, 50.0)
    assert k(10) == 56
    assert k.ratio_bound(100) == pytest.approx(0.01 / math.sqrt(0.8))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"beta": 0.5, "mu": 2.0}, "beta \\* mu"),
        ({"beta": 1.0, "mu": 1.0}, "beta \\* mu"),
        ({"beta": 0.6, "mu": 1.0, "K2": 2.0}, "1 / K2"),
        ({"beta": -0.1, "mu": 1.0}, "beta"),
        ({"beta": 0.1, "mu": 0.0}, "mu"),
        ({"beta": 0.1, "mu": 1.0, "B": 0.0}, "B"),
        ({"beta": 0.1, "mu": 1.0, "p": 0.0}, "p"),
        ({"beta": 0.1, "mu": 1.0, "perturbation": -1.0}, "perturbation"),
    ],
)
def test_commitment_schedule_validation(kwargs, match):
    args = {"B": 1.0, "p": 1.0, "perturbation": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        CommitmentSchedule(**args)


def test_for_game_needs_mu():
    class NoMu(QuadraticGame):
        def __init__(self):
            super().__init__()
            self.mu = None

    with pytest.raises(ValueError, match="mu"):
        CommitmentSchedule.for_game(NoMu(), beta=0.1, perturbation=1.0)


@pytest.mark.parametrize(
    ("alpha", "delta", "expected"),
    [
        (PowerLaw(1.0, 0.602), PowerLaw(1.0, 0.101), []),  # Spall's pair: 2 (0.501) > 1
        (PowerLaw(1.0, 0.602), Logarithmic(1.0), []),  # n^-1.204 (ln n)^2 converges
        (PowerLaw(1.0, 1.0), Logarithmic(1.0), []),  # sum 1/n diverges; n^-2 (ln n)^2 sums
        (Constant(0.1), PowerLaw(1.0, 0.101), ["does not decay", "diverges"]),
        (PowerLaw(1.0, 0.602), Constant(1.0), ["perturbation does not decay"]),
        (PowerLaw(1.0, 1.2), PowerLaw(1.0, 0.1), ["finite"]),
        (PowerLaw(1.0, 0.5), PowerLaw(1.0, 0.101), ["diverges"]),  # 2 (0.399) < 1
        (PowerLaw(1.0, 0.6), PowerLaw(1.0, 0.1), ["diverges"]),  # exactly 1: n^-1 diverges
        (Logarithmic(1.0), PowerLaw(1.0, 0.101), ["diverges"]),
        # The published Hi-C Cournot code: alpha ~ n^-0.1, delta ~ n^-0.6.
        (PowerLaw(0.001, 0.1), PowerLaw(1.0, 0.6), ["diverges"]),
    ],
)
def test_assumption_4_4_exact_for_known_schedules(alpha, delta, expected):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        msgs = check_spsa_schedules(alpha, delta)
    assert len(msgs) == len(expected)
    for m, e in zip(msgs, expected, strict=True):
        assert e in m
    assert len(caught) == len(expected)
    assert all("Assumption 4.4" in str(w.message) for w in caught)


def test_assumption_4_4_numeric_for_other_callables():
    good = check_spsa_schedules(lambda n: 1 / (n + 1) ** 0.602, lambda n: 1 / (n + 1) ** 0.101)
    assert good == []
    with pytest.warns(UserWarning, match="Assumption 4.4"):
        bad = check_spsa_schedules(lambda n: 0.1, lambda n: 1 / (n + 1) ** 0.101)
    assert any("does not appear to decay" in m for m in bad)


def test_hic_leader_warns_on_construction_and_can_be_silenced():
    box = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float64)
    with pytest.warns(UserWarning, match="Assumption 4.4"):
        HiCLeader(box, 0.1, 0.1, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        HiCLeader(box, 0.1, 0.1, 5, check_assumptions=False)
        HiCLeader(box, PowerLaw(0.1, 0.602), PowerLaw(0.1, 0.101), 5)


def test_per_row_at_a_huge_index_allocates_no_table_and_keeps_the_values():
    # A PerRow group reads its schedule's table only below 2**20: at a stage count of 1e9 a
    # table would hold 8 GB (the full suite was killed for memory before this bound).
    import tracemalloc

    from agents.schedules import PerRow, PowerLaw

    p = PowerLaw(0.5, 0.602, 3.0)
    sched = PerRow((p, 0.1, p))
    n = np.array([10**9, 10**9 + 1, 7], dtype=np.int64)
    tracemalloc.start()
    try:
        got = sched(n)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, peak
    want = np.array([p(n[:1])[0], 0.1, p(n[2:])[0]])
    np.testing.assert_array_equal(got, want)
