"""The scaling study's bookkeeping on a tiny budget (its numbers come from scripts/scaling.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agents.compose.engines.bench import format_scaling, scaling_study

ROOT = Path(__file__).resolve().parents[2]


def test_scaling_rows_and_table():
    rows = scaling_study((1, 3), stages=1500, seeds=3, points_per_decade=20)
    assert [(r.d, r.method) for r in rows] == [
        (1, "hic"),
        (1, "hierarchical"),
        (3, "hic"),
        (3, "hierarchical"),
    ]
    for r in rows:
        assert r.budget == 1500 and r.seeds == 3 and 0 <= r.settled <= 3
        assert r.leader_us_per_stage > 0 and r.loop_us_per_stage > 0
        if r.stages_to_eps is not None:
            assert r.settled >= 2 and 1 <= r.stages_to_eps <= 1500
    hier = [r for r in rows if r.method == "hierarchical"]
    # The coupled leader reads the exact hierarchical gradient: one update per stage, and on
    # these strongly concave games it settles well inside 1500 stages on every seed.
    assert all(r.updates == 1500 and r.settled == 3 for r in hier)
    assert all(r.final_rel_distance < 0.05 and r.generic_us_per_update > 0 for r in hier)
    hic = [r for r in rows if r.method == "hic"]
    assert all(r.updates < 1500 / 2 and r.generic_us_per_update is None for r in hic)
    table = format_scaling(rows)
    lines = table.splitlines()
    assert len(lines) == 2 + 4 and lines[0].startswith("| d | leader |")
    for r in rows:
        if r.stages_to_eps is None:
            assert f"not reached within {r.budget:.0e} ({r.settled}/3 settled)" in table


def test_scaling_script_smoke(tmp_path):
    out = tmp_path / "scaling.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "scaling.py"),
            "--dims",
            "2",
            "--stages",
            "300",
            "--seeds",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "| 2 | Hi-C |" in text and "| 2 | hierarchical (coupled) |" in text
    assert "command: `python scripts/scaling.py --dims 2 --stages 300" in text
