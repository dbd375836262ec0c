"""Game arguments whose ground truth cannot be computed are clear errors, and a slow ground
truth says how long it will take (issue 17)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from hic_envs.games import Bimatrix, IteratedPrisonersDilemma, SecurityGame, _checks
from hic_envs.games.matrix import MAX_PAYOFF, strong_stackelberg


@pytest.mark.parametrize(
    ("A", "B", "name"),
    [
        ([[1e308, -1e308], [0, 1]], [[1, 0], [0, 1]], "A"),
        ([[1e20, 0], [0, 1]], [[1, 0], [0, 1]], "A"),
        ([[1, 0], [0, 1]], [[1, 0], [0, -1e16]], "B"),
    ],
)
def test_bimatrix_entries_beyond_the_lp_solver_are_refused(A, B, name):
    with pytest.raises(ValueError, match=rf"^{name} has an entry of magnitude .* rescale"):
        Bimatrix(A=A, B=B)


def test_the_largest_accepted_entries_solve():
    g = Bimatrix(A=[[MAX_PAYOFF, -MAX_PAYOFF], [0, 1]], B=[[1, 0], [0, 1]])
    assert strong_stackelberg(g.A, g.B).leader_value == MAX_PAYOFF


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("tau", [1e-30, 1e-300])
def test_ipd_with_a_tiny_tau_is_a_clear_error(tau):
    with pytest.raises(ValueError, match=rf"IteratedPrisonersDilemma\(tau={tau!r}\).*larger tau"):
        IteratedPrisonersDilemma(tau=tau).stackelberg()


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: SecurityGame(n=20), r"Security\(d1=20, d2=20\): solving for the DSE"),
        (lambda: Bimatrix(A=np.eye(3), B=np.ones((3, 3)) - np.eye(3)), r"Bimatrix\(n=3, m=3\)"),
        (lambda: _Strong(), r"strong_stackelberg\(n=4, m=4\): the multiple-LP method"),
    ],
)
def test_a_slow_ground_truth_says_how_long_it_will_take(make, needle, monkeypatch):
    monkeypatch.setattr(_checks.SolveProgress, "AFTER", 0.0)  # every solve counts as slow
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make().stackelberg()
    msgs = [str(w.message) for w in caught if re.search(needle, str(w.message))]
    assert len(msgs) == 1 and " s so far, " in msgs[0] and " s in all" in msgs[0], msgs


class _Strong:
    """Only the LP part of the ground truth."""

    def stackelberg(self):
        return strong_stackelberg(np.eye(4), np.ones((4, 4)) - np.eye(4))
