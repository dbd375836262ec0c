"""Every Python snippet of the README runs as written and prints what its comments say.

A ``print(...)  # text`` line whose comment starts like a value (``[``, ``(``, a digit, a sign,
or a name directly followed by ``(``) must print that text, up to the first ``:`` or ``;``.
The documentation site's blocks are run by ``tests/test_docs.py`` and
``tests/interop/test_readme_snippets.py``.
"""

from __future__ import annotations

import contextlib
import io
import pathlib
import re
import warnings

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TEXT = (ROOT / "README.md").read_text()


SNIPPETS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
_VALUE = re.compile(r"^([\[(\-0-9]|[A-Za-z_][\w.]*\()")


def _expected(code: str) -> list[str]:
    out = []
    for line in code.splitlines():
        if line.startswith("print(") and "  # " in line:
            comment = line.split("  # ", 1)[1]
            if _VALUE.match(comment):
                out.append(re.split(r"[:;]", comment, maxsplit=1)[0].strip())
    return out


def test_the_readme_has_its_short_example():
    assert len(SNIPPETS) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_snippet_runs_and_prints_what_it_says(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        exec(compile(code, "<README snippet>", "exec"), {"__name__": "__readme__"})
    printed = buf.getvalue()
    for want in _expected(code):
        assert want in printed, f"expected {want!r} in the output:\n{printed}"
