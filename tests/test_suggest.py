"""``hic_envs.suggest``: the one rule by which error messages guess a misspelt name."""

from __future__ import annotations

import difflib

import pytest

from hic_envs.suggest import CUTOFF, did_you_mean, nearest


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def test_the_ratios_the_docstring_quotes():
    assert round(_ratio("--sed", "--seed"), 2) == 0.91
    assert round(_ratio("--timestep", "--hic-step"), 2) == 0.70
    assert 0.6 < _ratio("--timestep", "--hic-step") < CUTOFF


@pytest.mark.parametrize(
    ("word", "choices", "want"),
    [
        ("--sed", ["--seed", "--seeds", "--stages"], "--seed"),
        ("gama", ["a", "gamma", "A"], "gamma"),
        ("hic/Duoply-v0", ["hic/Duopoly-v0", "hic/Quadratic-v0"], "hic/Duopoly-v0"),
        ("--timestep", ["--hic-step", "--total-steps"], None),  # a guess below the cutoff
        ("x", ["value"], None),
        ("anything", [], None),
    ],
)
def test_nearest_takes_a_likely_typo_and_nothing_else(word, choices, want):
    assert nearest(word, choices) == want
    assert nearest(word, iter(choices)) == want  # any iterable of names (dict keys, a generator)


def test_did_you_mean_is_the_clause_or_nothing():
    assert did_you_mean("gama", ["a", "gamma", "A"]) == " (did you mean 'gamma'?)"
    assert did_you_mean("--sed", ["--seed"], str) == " (did you mean --seed?)"
    assert did_you_mean("x", ["value"]) == ""
