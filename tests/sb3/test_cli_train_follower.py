"""`hic train-follower`: the CLI face of agents.compose.experiments.training.train_follower."""

import json

from agents.compose.cli.main import main


def test_train_follower_subcommand_writes_model_and_summary(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train-follower", "--total-steps", "200", "--no-progress-bar", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "distance to the DSE" in text and "best-response error" in text
    assert (out / "model.zip").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["total_steps"] == 200
    assert {"final_leader", "final_distance", "br_error"} <= set(summary)


def test_train_follower_bad_flag_exits_2(capsys):
    assert main(["train-follower", "--algo", "a2c-typo"]) == 2
    assert "a2c-typo" in capsys.readouterr().err
