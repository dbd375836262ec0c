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
    assert "held  t: 3" in out and "NOT HELD  u: 3" in out and "1 of 2 targets held" in out


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
