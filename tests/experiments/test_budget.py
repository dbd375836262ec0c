"""Memory and output are estimated before a run allocates or writes anything (issue 17)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.compose.cli import main
from agents.compose.experiments import budget
from agents.compose.experiments.experiment import ExperimentConfig, run_experiment

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("seeds", ["1e9", "1e30"])
def test_a_run_that_cannot_fit_in_memory_says_how_much_it_needs(
    seeds, tmp_path, capsys, monkeypatch
):
    # 16 GiB available, whatever the machine running the suite has.
    monkeypatch.setattr(budget, "available_memory", lambda: 16 * 2**30)
    out = tmp_path / "run"
    assert main(["run", "hic/Duopoly-v0", "--seeds", seeds, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hic run: error: seeds=1e+") and "GiB of memory" in err, err
    assert "but 16 GiB is available; use fewer seeds" in err and "Traceback" not in err, err
    assert not out.exists()  # nothing allocated, nothing written


def test_a_large_csv_is_refused_unless_accepted_knowingly(tmp_path, capsys, monkeypatch):
    # The disk is said to have room (the refusal for a full disk is the next test): what is
    # checked here must not depend on how much the machine running the suite has free.
    monkeypatch.setattr(budget, "free_disk", lambda path: 2**50)
    out = tmp_path / "run"
    argv = ["run", "hic/Duopoly-v0", "--seeds", "1e6", "--stages", "1e4", "--record", "all"]
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "the run writes about" in err and "GiB of updates.csv" in err, err
    assert "--allow-large-output" in err and not out.exists()


def test_a_csv_larger_than_the_free_disk_is_refused_whatever_is_accepted(
    tmp_path, capsys, monkeypatch
):
    seen = []

    def free_disk(path):
        seen.append(path)
        return 2**30  # 1 GiB free

    monkeypatch.setattr(budget, "free_disk", free_disk)
    out = tmp_path / "new" / "run"
    argv = ["run", "hic/Duopoly-v0", "--seeds", "1e6", "--stages", "1e4", "--record", "all"]
    assert main([*argv, "--allow-large-output", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "GiB of updates.csv" in err and "but 1 GiB is free on the disk of" in err, err
    assert "--record log" in err and "--allow-large-output" not in err, err
    assert seen == [tmp_path] and not out.exists()  # the nearest existing directory is probed


@pytest.mark.parametrize(
    ("record", "leader"), [("all", "hic"), ("all", "sga"), ("log", "hic"), (10, "sga")]
)
def test_the_csv_estimate_is_close_to_what_is_written(record, leader, tmp_path, monkeypatch):
    cfg = ExperimentConfig("hic/Duopoly-v0", leader=leader, seeds=5, stages=5000, record=record)
    est = cfg.check_budget(tmp_path / "run")
    monkeypatch.setattr(budget, "LARGE_OUTPUT", est.csv_bytes // 2)
    with pytest.raises(ValueError, match="pass --allow-large-output"):
        run_experiment(cfg, tmp_path / "run", progress=False)
    run_experiment(cfg, tmp_path / "run", progress=False, allow_large_output=True)
    written = (tmp_path / "run" / "updates.csv").stat().st_size
    assert 0.8 * written <= est.csv_bytes <= 1.5 * written, (est.csv_bytes, written)


MEASURE = """
import json, sys, tracemalloc
from agents.compose.experiments.experiment import ExperimentConfig
from agents.compose.engines.runner import make_runner
cfg = ExperimentConfig("hic/Duopoly-v0", leader=sys.argv[1], seeds=100_000, stages=2000,
                       record="none")
game = cfg.game()
tracemalloc.start()
g, leader, follower = cfg.build()
make_runner(g, leader, follower, 0, record="none").run(2000)
used = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({"estimate": cfg.check_budget().memory_bytes, "used": used}))
"""


@pytest.mark.parametrize("leader", ["hic", "sga"])
def test_the_memory_estimate_bounds_a_measured_peak(leader):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, leader], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    assert m["used"] <= m["estimate"] <= 20 * m["used"], m
