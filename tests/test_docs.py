"""Every Python code block of the documentation site runs as written and prints what it says.

The sources are the Markdown pages under ``docs/`` (not the build). A
``print(...)  # text`` line whose comment starts like a value (``[``, ``(``, a digit, a sign, or
a name directly followed by ``(``) must print that text, up to the first ``:`` or ``;``. A block
that must not run is marked by a ``<!-- no-run: reason -->`` line right above it. The
third-party and vector-env pages are run by ``tests/interop/test_readme_snippets.py``, which
skips what an uninstalled extra needs. The generated pages (games, learners, API) hold no
Python blocks; the site build (``.ci/run``) checks them.
"""

from __future__ import annotations

import contextlib
import io
import pathlib
import re
import warnings

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: Run by tests/interop/test_readme_snippets.py.
INTEROP_PAGES = ("tutorials/third_party.md", "tutorials/vector_envs.md")
_SKIPPED_DIRS = ("_build", "pending", "games", "learners", "api")
_BLOCK = re.compile(r"(<!-- no-run:[^\n]*-->\n)?```python\n(.*?)```", flags=re.S)
_VALUE = re.compile(r"^([\[(\-0-9]|[A-Za-z_][\w.]*\()")


def _pages() -> list[pathlib.Path]:
    out = []
    for p in sorted(DOCS.rglob("*.md")):
        rel = p.relative_to(DOCS)
        if rel.parts[0] in _SKIPPED_DIRS or rel.as_posix() in INTEROP_PAGES:
            continue
        out.append(p)
    return out


def _blocks() -> list[tuple[str, str]]:
    blocks = []
    for page in _pages():
        rel = page.relative_to(DOCS).as_posix()
        for i, m in enumerate(_BLOCK.finditer(page.read_text())):
            if m.group(1) is None:
                blocks.append((f"{rel}#{i}", m.group(2)))
    return blocks


BLOCKS = _blocks()


def _expected(code: str) -> list[str]:
    out = []
    for line in code.splitlines():
        if line.startswith("print(") and "  # " in line:
            comment = line.split("  # ", 1)[1]
            if _VALUE.match(comment):
                out.append(re.split(r"[:;]", comment, maxsplit=1)[0].strip())
    return out


def test_the_tutorials_have_blocks_and_each_page_is_found():
    names = {name.split("#")[0] for name, _ in BLOCKS}
    assert {"tutorials/quickstart.md", "tutorials/own_game.md", "tutorials/jax.md"} <= names
    assert len(BLOCKS) >= 6


def test_no_run_marks_are_few():
    """Blocks that do not run are marked explicitly and sparingly."""
    marks = sum(p.read_text().count("<!-- no-run:") for p in _pages())
    assert marks <= 3


@pytest.mark.slow
@pytest.mark.parametrize("code", [c for _, c in BLOCKS], ids=[n for n, _ in BLOCKS])
def test_block_runs_and_prints_what_it_says(code, tmp_path, monkeypatch):
    if 'backend="jax"' in code:
        pytest.importorskip("jax", reason="jax is not installed (the jax extra)")
    from agents import catalog

    monkeypatch.chdir(tmp_path)
    buf = io.StringIO()
    # A block may register a learner; the catalog is restored after it (as conftest restores
    # the game registries), so no other test sees it.
    saved = [(table, dict(table)) for table in (catalog.LEADERS, catalog.FOLLOWERS)]
    try:
        with contextlib.redirect_stdout(buf), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            exec(compile(code, "<docs block>", "exec", dont_inherit=True), {"__name__": "__docs__"})
    finally:
        for table, snap in saved:
            table.clear()
            table.update(snap)
    printed = buf.getvalue()
    for want in _expected(code):
        assert want in printed, f"expected {want!r} in the output:\n{printed}"


def test_the_install_blocks_are_the_ones_ci_runs():
    """README's and the install page's first shell block are .ci/run's install lines verbatim."""
    ci = (ROOT / ".ci" / "run").read_text()
    lines = ci.split('# README "Install" (verbatim)\n', 1)[1].split("\n\n", 1)[0]
    for page in (ROOT / "README.md", DOCS / "install.md"):
        first = re.search(r"```bash\n(.*?)```", page.read_text(), flags=re.S)
        assert first is not None, page
        assert first.group(1).strip() == lines.strip(), page
