"""``scripts/count_converters.py``, which the CLI guide's converter count quotes, counts what it
says: every module it names exists unless declared gone, and its total is its rows' sum."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "count_converters.py"


def _run(*args: str, root: pathlib.Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "count_converters.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_total_is_the_sum_of_the_named_definitions():
    out = _run("--names")
    assert out.returncode == 0, out.stderr
    modules = [ln.split() for ln in out.stdout.splitlines() if ln.endswith(tuple("0123456789"))]
    per_module = {m[0]: int(m[1]) for m in modules if not m[0].startswith("_") and len(m) == 2}
    total = per_module.pop("total")
    assert total == sum(per_module.values()) > 0
    named = [ln.split() for ln in out.stdout.splitlines() if ln.startswith("    ")]
    assert sum(int(row[1]) for row in named) == total
    # The sweep key grammar is still counted; the flat-dict converter it replaced is gone.
    assert "_Key" in {row[0] for row in named}
    assert not {"from_flat", "_same", "config_from_options"} & {row[0] for row in named}
    with_parser = _run("--parser")
    assert int(with_parser.stdout.split()[-1]) > total


def test_a_named_module_that_moved_stops_the_script(tmp_path):
    """A module renamed away would otherwise count 0 lines: the script refuses."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "count_converters.py").write_text(SCRIPT.read_text())
    out = _run(root=tmp_path)
    assert out.returncode != 0
    assert "agents/compose/sweeps/spec.py is missing" in out.stderr
