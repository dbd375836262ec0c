"""The nearest name to a misspelt one, for error messages that answer "did you mean ...?".

One rule for every message that suggests (environment IDs, sweep keys, schedule fields,
command-line options): :func:`difflib.get_close_matches` with a similarity cutoff of
:data:`CUTOFF`, high enough that a guess is a likely typo: ``--sed`` is taken for ``--seed``
(ratio 0.91), while ``--timestep`` is not taken for ``--hic-step`` (0.70), where difflib's
default cutoff of 0.6 took it (the ratios are ``difflib.SequenceMatcher(None, a, b).ratio()``;
``tests/test_suggest.py`` checks them).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

__all__ = ["CUTOFF", "did_you_mean", "nearest"]

#: The least :class:`difflib.SequenceMatcher` ratio of a suggestion.
CUTOFF = 0.75


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The choice nearest ``word`` if it is at least :data:`CUTOFF` similar, else None."""
    found = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=CUTOFF)
    return found[0] if found else None


def did_you_mean(word: str, choices: Iterable[str], show: Callable[[str], str] = repr) -> str:
    """``" (did you mean X?)"`` with ``X`` the :func:`nearest` choice as ``show`` writes it
    (``repr`` by default), or ``""`` when none is near: the clause every message appends."""
    near = nearest(word, choices)
    return "" if near is None else f" (did you mean {show(near)}?)"
