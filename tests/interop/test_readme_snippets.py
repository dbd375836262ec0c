"""Run the Python snippets of the site's third-party and vector-env pages as written.

Reads ``docs/tutorials/third_party.md`` and ``docs/tutorials/vector_envs.md``. Each
``print(...)  # expected: comment`` line must print the text before the comment's first colon.
"""

import contextlib
import io
import pathlib
import re
import warnings

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _section() -> str:
    pages = ("third_party.md", "vector_envs.md")
    return "\n".join((ROOT / "docs" / "tutorials" / p).read_text() for p in pages)


SNIPPETS = re.findall(r"```python\n(.*?)```", _section(), flags=re.S)
NEEDS = {"torchrl": "torchrl", "tianshou": "tianshou", "supersuit": "supersuit"}


def _expected(code: str) -> list[str]:
    out = []
    for line in code.splitlines():
        if line.startswith("print(") and "  # " in line:
            out.append(line.split("  # ", 1)[1].split(":", 1)[0].strip())
    return out


def test_the_section_has_the_snippets():
    assert len(SNIPPETS) == 4


@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_snippet_runs_and_prints_what_it_says(code):
    for word, module in NEEDS.items():
        if f"import {word}" in code or f"from {word}" in code:
            pytest.importorskip(module, reason=f"{module} is not installed (the interop extra)")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        # TorchRL warns that it is tested against PettingZoo 1.24.3; we run 1.27.
        warnings.filterwarnings("ignore", message="PettingZoo in TorchRL is tested")
        exec(compile(code, "<snippet>", "exec"), {"__name__": "__snippet__"})
    printed = [line for line in buf.getvalue().splitlines() if line.strip()]
    expected = _expected(code)
    assert len(printed) >= len(expected)
    for want, got in zip(expected, printed[-len(expected) :], strict=True):
        assert want in got, f"expected {want!r} in the printed line {got!r}"
