"""The nearest name to a misspelt one, for error messages that answer "did you mean ...?".

One rule for every message that suggests (environment IDs, sweep keys, schedule fields,
command-line options): :func:`difflib.get_close_matches` with a similarity cutoff of
:data:`CUTOFF`, high enough that a guess is a likely typo (``--sed`` is ``--seed``, 0.91;
``--timestep`` is not ``--hic-step``, 0.70).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["CUTOFF", "nearest"]

#: The least :class:`difflib.SequenceMatcher` ratio of a suggestion.
CUTOFF = 0.75


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The choice nearest ``word`` if it is at least :data:`CUTOFF` similar, else None."""
    found = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=CUTOFF)
    return found[0] if found else None
