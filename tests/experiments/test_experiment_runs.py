"""Experiment runs: files written as they go, interrupted runs resume to the same result."""

from __future__ import annotations

import json

import numpy as np
import pytest

import agents.compose.experiments.experiment as ex
from agents import schedules
from agents.compose.experiments.experiment import ExperimentConfig, run_experiment
from agents.compose.experiments.results import load_results
from agents.hic import AdaptiveCommitment
from agents.specs import parse_commitment, parse_schedule, resolve_commitment
from hic_envs.games import Duopoly

CONFIG = ExperimentConfig(
    "hic/Duopoly-v0",
    leader_options={"commitment": 5, "step_size": "power:a=0.01,gamma=0.6"},
    seeds=4,
    stages=3000,
    seed=7,
    noise_std=0.5,
    max_cycles=400,
    record="log:1",
)
KW = dict(progress=False, chunk=250, checkpoint_seconds=0.0)


class Stop(Exception):
    """Stands for an interruption (Ctrl-C, a killed job)."""


def _without_timing(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "timing"}


def _files(d):
    return (d / "updates.csv").read_bytes(), _without_timing(
        json.loads((d / "summary.json").read_text())
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("whole")
    run_experiment(CONFIG, d, **KW)
    return _files(d)


def test_writes_the_documented_files(reference, tmp_path):
    csv, summary = reference
    header = csv.decode().splitlines()[0]
    assert header == "seed,update,stage,leader_0,follower_0,distance"
    assert summary["progress"] == {
        "stage": 3000,
        "stages": 3000,
        "complete": True,
        "csv_bytes": len(csv),
    }
    assert summary["config"] == CONFIG.to_dict()
    assert {"numpy", "scipy", "gymnasium", "pettingzoo", "hic-envs"} <= set(summary["versions"])
    final = summary["final"]
    assert set(final["distance_to_dse"]) == {"min", "q25", "median", "q75", "max", "mean"}
    assert summary["game"]["stackelberg"]["x"] == [24.5]
    rows = np.loadtxt(csv.decode().splitlines()[1:], delimiter=",")
    # distance column is ||x - x*|| of the leader column
    np.testing.assert_allclose(rows[:, 5], np.abs(rows[:, 3] - 24.5), rtol=0, atol=1e-12)
    assert sorted(set(rows[:, 0].astype(int))) == [0, 1, 2, 3]
    run = load_results(_dir_of(reference, tmp_path))
    assert run.leader.shape == (rows.shape[0], 1) and run.summary["final"] == final


def _dir_of(reference, tmp_path):
    csv, summary = reference
    (tmp_path / "updates.csv").write_bytes(csv)
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    return tmp_path


def test_stopped_run_resumes_to_the_same_files(reference, tmp_path):
    calls = []

    def stop_after_five(info):
        calls.append(info["stage"])
        if len(calls) == 5:
            raise Stop

    with pytest.raises(Stop):
        run_experiment(CONFIG, tmp_path, on_chunk=stop_after_five, **KW)
    partial = json.loads((tmp_path / "summary.json").read_text())
    assert partial["progress"]["stage"] == 1250 and not partial["progress"]["complete"]
    assert "current" in partial and "final" not in partial
    assert load_results(tmp_path).stage.max() <= 1250  # what was computed is on disk
    run_experiment(CONFIG, tmp_path, resume=True, **KW)
    assert _files(tmp_path) == reference


def test_crash_between_csv_append_and_checkpoint(reference, tmp_path, monkeypatch):
    real = ex.write_checkpoint
    count = {"n": 0}

    def failing(*args):
        count["n"] += 1
        if count["n"] == 4:  # the 1st is at stage 0; rows of chunk 3 are already appended
            raise Stop
        real(*args)

    monkeypatch.setattr(ex, "write_checkpoint", failing)
    with pytest.raises(Stop):
        run_experiment(CONFIG, tmp_path, **KW)
    monkeypatch.setattr(ex, "write_checkpoint", real)
    stored = json.loads((tmp_path / "summary.json").read_text())["progress"]
    assert (tmp_path / "updates.csv").stat().st_size > stored["csv_bytes"]  # orphan rows
    # A different chunking on resume must not matter either.
    run_experiment(
        CONFIG, tmp_path, resume=True, progress=False, chunk=1000, checkpoint_seconds=0.0
    )
    assert _files(tmp_path) == reference


def test_resume_of_a_complete_run_changes_nothing(reference, tmp_path):
    run_experiment(CONFIG, tmp_path, **KW)
    before = (tmp_path / "updates.csv").read_bytes()
    run_experiment(CONFIG, tmp_path, resume=True, **KW)
    assert (tmp_path / "updates.csv").read_bytes() == before == reference[0]


def test_resume_refuses_another_config_and_runs_refuse_to_overwrite(tmp_path):
    small = ExperimentConfig("hic/Duopoly-v0", seeds=2, stages=200)
    run_experiment(small, tmp_path, **KW)
    with pytest.raises(FileExistsError, match="already holds a run"):
        run_experiment(small, tmp_path, **KW)
    other = ExperimentConfig("hic/Duopoly-v0", seeds=3, stages=200)
    with pytest.raises(ValueError, match=r"different config \(fields \['seeds'\]\)"):
        run_experiment(other, tmp_path, resume=True, **KW)


def test_schedule_specs():
    assert parse_schedule("0.5") == 0.5 and parse_schedule(2) == 2.0
    assert parse_schedule("power:a=0.01,gamma=0.6,A=5") == schedules.PowerLaw(0.01, 0.6, 5.0)
    assert parse_schedule("log:a=2") == schedules.Logarithmic(2.0)
    game = Duopoly()
    delta = schedules.PowerLaw(1.0, 0.6)
    assert resolve_commitment(parse_commitment("12"), game, delta, 0.1) == 12
    k = resolve_commitment(parse_commitment("corollary:p=1"), game, delta, 0.1)
    assert k == schedules.CommitmentSchedule(0.1, 2.0, 50.0, 1.0, delta)
    ad = parse_commitment("adaptive:tol=0.05,min_length=3,max_length=99")
    assert isinstance(ad, AdaptiveCommitment) and (ad.min_length, ad.max_length) == (3, 99)
    ceil = parse_commitment("power:a=10,gamma=0.5")
    assert ceil(np.array([0, 3, 4])).tolist() == [10.0, 5.0, 5.0]


@pytest.mark.parametrize(
    "spec, match",
    [
        ("fast", "got 'fast'"),
        ("-1", "positive number, got '-1'"),
        ("powr:a=1", "unknown schedule 'powr'"),
        ("power:a=1,gamma=x", "gamma must be a number, got 'x'"),
        ("power:a=1", "power:a=1"),
        ("power:a=1,gamma", "expected key=value"),
        # A misspelt or missing field is named with the schedule's fields.
        (
            "power:a=1,gama=0.6",
            r"unknown field\(s\) \['gama'\]; expected a, gamma, A \(did you mean 'gamma'\?\)",
        ),
        ("power:gamma=0.6", r"missing field\(s\) \['a'\]"),
        ("log:a=1,bas=2", r"\['bas'\]; expected a, base \(did you mean 'base'\?\)"),
        ("constant:x=1", r"unknown field\(s\) \['x'\]; expected value$"),
    ],
)
def test_bad_schedule_specs_are_named(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_schedule(spec, "--step-size")


@pytest.mark.parametrize(
    "spec, match",
    [
        ("2.5", "whole number of stages"),
        ("corollary:q=1", r"unknown field\(s\) \['q'\]; expected p, beta, mu, B$"),
        ("adaptive:tol=0.1,min_length=1", "min_length"),
        ("adaptive:tol=0.1,min_len=3", r"\['min_len'\].*\(did you mean 'min_length'\?\)"),
        ("power:a=2", r"missing field\(s\) \['gamma'\]"),
    ],
)
def test_bad_commitments_are_named(spec, match):
    with pytest.raises(ValueError, match=match):
        resolve_commitment(parse_commitment(spec), Duopoly(), 0.5, 0.1)


def test_bad_configs_are_named():
    with pytest.raises(ValueError, match=r"unknown leader 'nosuch'; expected one of \["):
        ExperimentConfig("hic/Duopoly-v0", leader="nosuch")
    with pytest.raises(ValueError, match=r"unknown follower 'gradiant' \(did you mean 'gradient'"):
        ExperimentConfig("hic/Duopoly-v0", follower="gradiant")
    # A learner option misspelt in Python is answered with the nearest the learner takes; one
    # that another learner takes is not guessed at.
    with pytest.raises(ValueError, match=r"\['step_sise'\] \(did you mean 'step_size'\?\) do "
                       r"not apply to leader 'hic' \(it takes \[.*\]\)$"):  # fmt: skip
        ExperimentConfig("hic/Duopoly-v0", leader_options={"step_sise": 0.1})
    with pytest.raises(ValueError, match=r"'hierarchical' \(it takes \['step_size'\]\)$"):
        ExperimentConfig("hic/Duopoly-v0", leader="hierarchical", leader_options={"baseline": 0.5})
    with pytest.raises(ValueError, match="seeds must be a positive integer, got 0"):
        ExperimentConfig("hic/Duopoly-v0", seeds=0)
    with pytest.raises(ValueError, match="unknown environment ID 'hic/Nope-v0'"):
        ExperimentConfig("hic/Nope-v0").build()
    # A misspelt ID is answered with the nearest registered one.
    with pytest.raises(ValueError, match=r"'hic/Duoply-v0' \(did you mean 'hic/Duopoly-v0'\?\)"):
        ExperimentConfig("hic/Duoply-v0").build()
    with pytest.raises(ValueError, match=r"bad game arguments \{'a': -5\}.*got -5"):
        ExperimentConfig("hic/Duopoly-v0", game_kwargs={"a": -5}).build()
    with pytest.raises(ValueError, match=r"do not apply to leader 'sga'"):
        ExperimentConfig("hic/Duopoly-v0", leader="sga", leader_options={"commitment": 3}).build()


def test_build_at_other_batch_sizes_and_the_configs_runner():
    """build(game, seeds) and make_runner(built) are what the run, the memory estimate and
    the checkpoint schema each build: the config's learners, seed, noise and episode length,
    at any batch size, recording as the config says unless told otherwise."""
    config = ExperimentConfig(
        env_id="hic/Duopoly-v0", seeds=3, stages=200, noise_std=0.5, max_cycles=50, record="log"
    )
    game, leader, follower = config.build()
    assert (leader.num_envs, follower.num_envs) == (3, 3)
    game2, leader2, follower2 = config.build(game, seeds=2)
    assert game2 is game and (leader2.num_envs, follower2.num_envs) == (2, 2)
    runner = config.make_runner((game, leader, follower))
    assert runner.thinning == ex.as_thinning("log")
    assert (runner.noise_std, runner.max_cycles, runner.num_envs) == (0.5, 50, 3)
    other = config.make_runner(config.build(game, 2), record="none")
    assert other.thinning.none and other.num_envs == 2
    # The same seed, the same bits: the config's runner plays as run_batch with its fields.
    a = config.make_runner(config.build(game, 2), record="none")
    a.run(100)
    other.run(100)
    np.testing.assert_array_equal(a.leader.strategies, other.leader.strategies)
    assert np.isfinite(a.leader.strategies).all()
