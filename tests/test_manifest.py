"""The reproduction manifest (docs/manifest.yaml) and ``scripts/reproduce.py --validate``."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("reproduce", ROOT / "scripts" / "reproduce.py")
reproduce = importlib.util.module_from_spec(_spec)
sys.modules["reproduce"] = reproduce  # its dataclasses look their module up
_spec.loader.exec_module(reproduce)

TARGET = {"id": "t", "page": "p", "command": "c", "pattern": r"value (\S+)", "quick": True}


def test_the_manifest_loads_and_names_pages_that_exist():
    targets = reproduce.load_manifest(ROOT / "docs" / "manifest.yaml")
    assert sum(t["quick"] for t in targets) >= 10
    for t in targets:
        assert (ROOT / t["page"]).is_file(), t["id"]


@pytest.mark.parametrize(
    ("output", "expected", "tol", "held"),
    [
        ("value 1.04", 1.0, {"rel_tol": 0.05}, True),
        ("value 1.06", 1.0, {"rel_tol": 0.05}, False),
        ("value -2", -2.0, {"abs_tol": 0.0}, True),
        ("value nan", 1.0, {"abs_tol": 1e9}, False),
        ("no number here", 1.0, {"abs_tol": 1.0}, False),
        ("value abc", 1.0, {"abs_tol": 1.0}, False),
    ],
)
def test_judge_holds_within_the_tolerance_only(output, expected, tol, held):
    ok, said = reproduce.judge({**TARGET, "expected": expected, **tol}, output)
    assert ok is held, said


def test_validate_reports_each_target_and_fails_when_one_does_not_hold(tmp_path, capsys):
    cmd = "python -c \"print('value 3.0')\""
    good = {**TARGET, "command": cmd, "expected": 3.0, "abs_tol": 1e-9}
    bad = {**good, "id": "u", "expected": 4.0}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump({"targets": [good]}))
    assert reproduce.validate(path, slow=False) == 0
    path.write_text(yaml.safe_dump({"targets": [good, bad]}))
    assert reproduce.validate(path, slow=False) == 1
    out = capsys.readouterr().out
    assert (
        "held  t: 3" in out
        and "NOT HELD  u: 3" in out
        and "1 of 2 targets and 0 of 0 table rows held" in out
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expected": float("inf")}, "finite"),
        ({"rel_tol": -1.0}, ">= 0"),
        ({"colour": "red"}, "unknown keys"),
        ({"abs_tol": None}, "finite"),
    ],
)
def test_bad_targets_are_refused_by_name(tmp_path, change, message):
    target = {**TARGET, "expected": 1.0, "abs_tol": 0.1, **change}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump({"targets": [target]}))
    with pytest.raises(ValueError, match=message):
        reproduce.load_manifest(path)


def test_duplicate_ids_are_refused(tmp_path):
    target = {**TARGET, "expected": 1.0, "abs_tol": 0.1}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump({"targets": [target, target]}))
    with pytest.raises(ValueError, match="unique"):
        reproduce.load_manifest(path)


# ---- table targets: recorded outputs, the pages written from them, fresh runs judged --------

RECORDED = """Some caption, 32 seeds.

| game | option | median | time |
|---|---|---|---|
| Duopoly | plain | 2.29e+01 | 2 s |
| Duopoly | baseline 0.9 | 1.70e-05 / 5.78e-05 | 1 s |
"""


def _table(tmp_path, monkeypatch, **change):
    """A manifest with one table target recorded in tmp_path (reproduce.ROOT pointed there)."""
    monkeypatch.setattr(reproduce, "ROOT", tmp_path)
    (tmp_path / "out.txt").write_text(RECORDED)
    (tmp_path / "page.md").write_text("# P\n\n<!-- reproduce: t -->\nold\n<!-- /reproduce -->\n")
    table = {
        "id": "t",
        "command": "python -c \"print(open('out.txt').read())\"",
        "recorded": "out.txt",
        "key": ["game", "option"],
        "measured": ["time"],
        "rel_tol": 0.01,
        "quick": True,
        "views": [{"page": "page.md", "columns": {"game": "game", "median": "median ‖x‖"}}],
        **change,
    }
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump({"targets": [{**TARGET, "expected": 1.0, "abs_tol": 1}],
                                    "tables": [table]}))  # fmt: skip
    return path, table


def test_a_page_is_written_from_its_recording_and_checked_against_it(tmp_path, monkeypatch):
    path, _ = _table(tmp_path, monkeypatch)
    assert reproduce.stale_pages(path) == ["page.md"]
    assert reproduce.write_pages(path) == ["page.md"]
    assert reproduce.stale_pages(path) == []
    text = (tmp_path / "page.md").read_text()
    assert "| game | median ‖x‖ |\n|---|---|\n| Duopoly | 2.29e+01 |" in text
    assert "command: `python -c" in text and text.endswith("<!-- /reproduce -->\n")
    (tmp_path / "page.md").write_text(text.replace("2.29e+01", "2.30e+01"))  # edited by hand
    assert reproduce.stale_pages(path) == ["page.md"]


def test_a_fresh_table_holds_within_the_tolerance_and_measured_columns_are_free(
    tmp_path, monkeypatch
):
    _, table = _table(tmp_path, monkeypatch)
    same = RECORDED.replace("| 2 s |", "| 9 s |")  # a timing changed: not a target
    assert all(ok for ok, _ in reproduce.judge_table(table, same))
    near = RECORDED.replace("2.29e+01", "2.30e+01")  # within 1 %
    assert all(ok for ok, _ in reproduce.judge_table(table, near))
    far = RECORDED.replace("5.78e-05", "6.00e-05")  # 4 % off
    held = reproduce.judge_table(table, far)
    assert [ok for ok, _ in held] == [True, False] and "5.78e-05" in held[1][1]
    gone = RECORDED.replace("| Duopoly | plain | 2.29e+01 | 2 s |\n", "")
    assert [ok for ok, _ in reproduce.judge_table(table, gone)] == [False, True]
    assert not any(ok for ok, _ in reproduce.judge_table(table, "no table at all"))


def test_validate_runs_a_table_command_and_counts_its_rows(tmp_path, monkeypatch, capsys):
    path, _ = _table(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    target = {**TARGET, "command": "python -c \"print('value 1')\"", "expected": 1.0}
    data = yaml.safe_load(path.read_text())
    data["targets"] = [{**target, "abs_tol": 0.0}]
    path.write_text(yaml.safe_dump(data))
    assert reproduce.validate(path, slow=False) == 0
    assert "1 of 1 targets and 2 of 2 table rows held" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key": ["colour"]}, "column 'colour'"),
        ({"recorded": "missing.txt"}, "does not exist"),
        ({"views": [{"columns": {}}]}, "needs 'page'"),
        ({"views": [{"page": "page.md", "columns": {"colour": "c"}}]}, "view column 'colour'"),
        ({"rel_tol": -0.1}, ">= 0"),
        ({"shape": "round"}, "unknown keys"),
    ],
)
def test_bad_tables_are_refused_by_name(tmp_path, monkeypatch, change, message):
    path, _ = _table(tmp_path, monkeypatch, **change)
    with pytest.raises(ValueError, match=message):
        reproduce.load_tables(path)


def test_the_manifest_tables_load_and_their_pages_exist():
    tables = reproduce.load_tables(ROOT / "docs" / "manifest.yaml")
    assert any(t["quick"] for t in tables) and any(not t["quick"] for t in tables)
    for t in tables:
        for view in t["views"]:
            assert (ROOT / view["page"]).is_file(), t["id"]
