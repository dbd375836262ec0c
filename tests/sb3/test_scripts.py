"""Tiny-budget smoke tests of the RL scripts (their numbers come from the full runs)."""

from __future__ import annotations

import json

import pytest


def test_train_sb3_follower_script(tmp_path, capsys, load_script):
    out = tmp_path / "run"
    result = load_script("train_sb3_follower").main(
        [
            "--total-steps",
            "300",
            "--learning-starts",
            "100",
            "--max-episode-steps",
            "100",
            "--grid-points",
            "11",
            "--no-progress-bar",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert "distance to the DSE" in text and "best-response error" in text
    assert f"wrote {out}/model.zip" in text
    assert (out / "model.zip").is_file() and (out / "summary.json").is_file()
    assert result.config.total_steps == 300 and result.final_leader.shape == (1, 1)


def test_learned_best_response_script(tmp_path, load_script):
    out = tmp_path / "lbr"
    argv = [
        "--games",
        "Duopoly",
        "--seeds",
        "1",
        "--total-steps",
        "300",
        "--jobs",
        "1",
        "--reference-seeds",
        "3",
        "--out",
        str(out),
    ]
    table = load_script("learned_best_response").main(argv)
    assert "command: `python scripts/learned_best_response.py --games Duopoly" in table
    assert "| Duopoly (x* = [24.5]) | 0 |" in table
    assert "Hi-C vs the exact best response | 3 seeds" in table
    results = json.loads((out / "results.json").read_text())
    (run,) = results["runs"]
    assert run["game"] == "Duopoly" and len(run["frozen_distance"]) == 3
    assert len(run["frozen_leader"]) == 3 and len(run["frozen_leader"][0]) == 1
    assert len(results["oracle_distance"]["Duopoly"]) == 3
    assert (out / "Duopoly" / "seed0" / "model.zip").is_file()
    assert (out / "results.md").read_text().strip() == table


def test_experiment_config_is_validated(load_script):
    module = load_script("learned_best_response")
    with pytest.raises(ValueError, match="seeds must be a positive integer"):
        module.ExperimentConfig(seeds=0)
    with pytest.raises(ValueError, match="games"):
        module.ExperimentConfig(games=())
