"""Every result number the README and the site quote is a manifest target or marked as none.

The scan and the marks are ``scripts/reproduce.py``'s (``uncovered``; the convention is on
docs/tutorials/reproduce.md): a number written with a decimal point or an exponent, outside
code, is covered when it is (at its written precision) a target's expected value for its page,
a number of a recorded table the page shows or restates, or inside a block marked
``measured`` (a timing, with its command and load), ``tested``, ``observed`` or ``inputs``.
The results pages' tables are written from the recorded outputs (``--pages``); the test that
they agree is here too, and runs nothing.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("reproduce", ROOT / "scripts" / "reproduce.py")
reproduce = importlib.util.module_from_spec(_spec)
sys.modules["reproduce"] = reproduce  # its dataclasses look their module up
_spec.loader.exec_module(reproduce)
MANIFEST = ROOT / "docs" / "manifest.yaml"

#: Pages whose quoted numbers are not all targets yet (docs/manifest.yaml's ``pending``).
PENDING = reproduce.pending(MANIFEST)


@pytest.mark.parametrize("page", reproduce.scanned_pages())
def test_every_quoted_result_is_a_target_or_marked(page):
    missing = reproduce.uncovered(MANIFEST, page)
    if page in PENDING:
        assert missing, f"{page} is fully covered now: remove it from the manifest's pending"
        pytest.skip(f"{len(missing)} numbers pending: {PENDING[page]}")
    shown = "\n".join(f"  line {no}: {token}  in: {line[:90]}" for no, token, line in missing)
    assert not missing, (
        f"{page} quotes numbers that are neither manifest targets nor marked "
        f"(docs/tutorials/reproduce.md says how):\n{shown}"
    )


def test_the_scan_reaches_the_readme_and_the_results_pages():
    pages = reproduce.scanned_pages()
    assert "README.md" in pages and "docs/results.md" in pages
    assert "docs/results/agents.md" in pages and not any("_build" in p for p in pages)


def test_the_results_pages_equal_what_their_recorded_outputs_write():
    assert reproduce.stale_pages(MANIFEST) == []


def _page(tmp_path, monkeypatch, text):
    """A one-page tree with an empty manifest table set, for the scanner."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "p.md").write_text(text)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "targets:\n  - {id: x, page: docs/p.md, command: c, pattern: '(1)', expected: 24.5,"
        " abs_tol: 0.1, quick: true}\n"
    )
    monkeypatch.setattr(reproduce, "ROOT", tmp_path)
    return manifest


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("The leader ends at 24.5 here.\n", []),  # a target's value
        ("The leader ends at 24.50 here.\n", []),  # at more digits, still the value
        ("The leader ends at 24.6 here.\n", ["24.6"]),  # another value
        ("It took 6.9 s.\n", ["6.9"]),
        ("<!-- measured: `hic run X`; load 2.1 -->\nIt took 6.9 s.\n", []),
        ("<!-- measured: `hic run X`; load 2.1 -->\nIt took 6.9 s.\n\nThen 7.1 s.\n", ["7.1"]),
        (
            "<!-- inputs: the grid -->\nA 0.1\n\nB 0.2\n<!-- /inputs -->\nC 0.3\n",
            ["0.3"],
        ),
        ("<!-- not results: versions 3.10 -->\nPython 3.10 and 3.11.\n", ["3.11"]),
        ("Corollary 4.11 and Eq. (28), with `--step 0.5` in code and 2.4.6.\n", []),
        ("```\nprint(0.5)\n```\n32 seeds x 1e6 stages\n", ["1e6"]),
    ],
)
def test_the_scan_finds_exactly_the_unmarked_numbers(tmp_path, monkeypatch, text, found):
    manifest = _page(tmp_path, monkeypatch, text)
    got = [token for _, token, _ in reproduce.uncovered(manifest, "docs/p.md")]
    assert got == found


@pytest.mark.parametrize(
    ("mark", "message"),
    [
        ("<!-- measured: it was fast -->", "names its `command` and the load"),
        ("<!-- tested: trust me -->", "names the tests/ file"),
        ("<!-- restates: nothing-like-it -->", "names no target"),
    ],
)
def test_marks_without_their_evidence_are_refused(tmp_path, monkeypatch, mark, message):
    manifest = _page(tmp_path, monkeypatch, f"{mark}\nIt took 6.9 s.\n")
    with pytest.raises(ValueError, match=message):
        reproduce.uncovered(manifest, "docs/p.md")
