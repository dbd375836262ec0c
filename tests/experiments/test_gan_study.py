"""Smoke test of scripts/gan_study.py (the covariance-GAN study) with a tiny budget."""

from __future__ import annotations

import json

import pytest


def test_smoke_writes_table_curves_and_figures(load_script, tmp_path, capsys):
    mod = load_script("gan_study")
    args = ["--dims", "2", "--seeds", "2", "--hic-stages", "1500", "--coupled-stages", "300"]
    args += ["--methods", "hic", "hic-two-sided", "hierarchical-cg", "lola", "sga"]
    assert mod.main([*args, "--out", str(tmp_path), "--figures", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| 2 | 4 | hierarchical-cg | yes | 300 | 300 |" in out
    rows = {r["method"]: r for r in json.loads((tmp_path / "gan_study.json").read_text())["rows"]}
    assert set(rows) == {"hic", "hic-two-sided", "hierarchical-cg", "lola", "sga"}
    # The two-sided estimate spends two intervals per update: half the updates of the preset.
    assert rows["hic-two-sided"]["updates"] < 0.6 * rows["hic"]["updates"]
    # Behaviour at d = 2 (4 parameters per player), both seeds: the coupled learners and SGA
    # end within 0.1 of the start's distance to {V V^T = S} in 300 stages (measured about
    # 5e-4, 5e-3 and 1.5e-2 medians); Hi-C, at 1500 stages, has not got there yet.
    for m in ("hierarchical-cg", "lola", "sga"):
        assert rows[m]["settled"] == 2, rows[m]
        assert rows[m]["final_median"] < 0.1, rows[m]
    assert rows["hic"]["final_median"] > 0.1
    for r in rows.values():
        assert r["stages"][-1] == (1500 if r["method"].startswith("hic") else 300)
        assert all(a <= b for a, b in zip(r["seconds"], r["seconds"][1:], strict=False))
    for name in ("gan_study_curves.png", "gan_study_dimension.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (
        "command: `python scripts/gan_study.py --dims 2" in (tmp_path / "gan_study.md").read_text()
    )


def test_bad_config_raises(load_script):
    mod = load_script("gan_study")
    with pytest.raises(ValueError, match="epsilon"):
        mod.Config(epsilon=1.5)
    with pytest.raises(ValueError, match="methods"):
        mod.Config(methods=("hic", "gd"))
    with pytest.raises(ValueError, match="seeds"):
        mod.Config(seeds=0)
