"""hic sweep: sweep files, expansion, the serial and process executors, failures, resume,
user games in spawned workers, the table and the figures (Ray: test_sweep_ray.py)."""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from sweep_cases import (
    TINY,
    USER_GAME,
    WITH_FAILURE,
    no_temp_files,
    run_files,
    run_summary_without_timing,
)

from agents import schedules
from agents.compose.cli.commands import RunCommand
from agents.compose.cli.config import parse
from agents.compose.cli.main import main
from agents.compose.experiments.experiment import ExperimentConfig, run_experiment
from agents.compose.plots.sweep_plots import plot_sweep
from agents.compose.sweeps import (
    SweepFileError,
    SweepSpec,
    config_hash,
    load_sweep,
    run_sweep,
)
from agents.hic import AdaptiveCommitment


def sweep_main(argv):
    return main(["sweep", *argv])


def _from_cli(argv):
    return parse(RunCommand, argv[1:], prog="hic run").experiment()


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def fresh_user_module():
    """The user module registers on import; the suite's registry reset undoes that after each
    test, so import it afresh in each test that needs it."""
    sys.modules.pop("usergame_for_sweep", None)
    yield
    sys.modules.pop("usergame_for_sweep", None)


# ---------------------------------------------------------------------------------- files
def test_expansion_order_names_and_values_are_deterministic():
    spec = SweepSpec.from_dict(
        {
            "base": {
                "env_id": "hic/Duopoly-v0",
                "stages": 1000,
                "step_size": "power:a=1,gamma=0.602,A=100",
                "game_kwargs": {"a": {"grid_search": [40, 50]}, "b": 1},
            },
            "grid": {"step_size.gamma": [0.7, 0.9], "seeds": [2, 4]},
            "cases": [{}, {"follower": "best-response"}],
        }
    )
    points = spec.points()
    assert spec.swept == ["game_kwargs.a", "step_size.gamma", "seeds", "follower"]
    assert len(points) == 2 * 2 * 2 * 2
    # Cases outermost, then the grid in file order with the last key fastest.
    first = [
        (p.values["game_kwargs.a"], p.values["step_size.gamma"], p.values["seeds"])
        for p in points[:8]
    ]
    assert first == [(a, g, s) for a in (40, 50) for g in (0.7, 0.9) for s in (2, 4)]
    assert {p.values["follower"] for p in points[:8]} == {"gradient"}
    assert {p.values["follower"] for p in points[8:]} == {"best-response"}
    p = points[3]  # a=40, gamma=0.9, seeds=4
    assert p.config.game_kwargs == {"a": 40, "b": 1}
    # The schedule is a structured value; its text form is what the results files hold.
    assert p.config.leader_options["step_size"] == schedules.PowerLaw(1.0, 0.9, 100.0)
    assert p.config.to_dict()["leader_options"]["step_size"] == "power:a=1,gamma=0.9,A=100"
    assert p.config.seeds == 4
    assert p.name == f"a=40_step_size.gamma=0.9_seeds=4_follower=gradient-{p.hash}"
    assert p.hash == config_hash(p.config)
    assert [q.name for q in SweepSpec.from_dict(spec.to_dict()).points()] == [
        q.name for q in points
    ]


def test_config_hash_is_pinned():
    # A stable hash of the canonical config JSON: a change here would orphan every sweep
    # directory written before it.
    config = ExperimentConfig(env_id="hic/Duopoly-v0", seeds=3, stages=3000, seed=7)
    text = json.dumps(config.to_dict(), sort_keys=True, separators=(",", ":"))
    assert config_hash(config) == hashlib.sha256(text.encode()).hexdigest()[:12]
    assert config_hash(config) == "a4049d9c6d1a"
    assert config_hash(config) == config_hash(ExperimentConfig.from_dict(config.to_dict()))


def test_sweep_options_give_the_config_hic_run_gives():
    options = {
        "env_id": "hic/Duopoly-v0",
        "seeds": "4",
        "stages": 1e4,
        "seed": 3,
        "game_kwarg": ["a=60"],
        "noise_std": 0.5,
        "max_cycles": 50,
        "step_size": "power:a=1,gamma=0.602,A=100",
        "perturbation": 0.5,
        "commitment": "adaptive:tol=0.02,max_length=500",
        "no_baseline": True,
        "follower": "stochastic",
        "follower_step_size": 0.05,
        "follower_noise": 0.3,
        "record": 10,
    }
    argv = ["run", "hic/Duopoly-v0", "--out", "unused", "--seeds", "4", "--stages", "1e4",
            "--seed", "3", "--game-kwarg", "a=60", "--noise-std", "0.5", "--max-cycles", "50",
            "--step-size", "power:a=1,gamma=0.602,A=100", "--perturbation", "0.5",
            "--commitment", "adaptive:tol=0.02,min_length=2,max_length=500", "--no-baseline",
            "--follower", "stochastic", "--follower-step-size", "0.05", "--follower-noise",
            "0.3", "--record", "10"]  # fmt: skip
    from_cli = _from_cli(argv)
    spec = SweepSpec.from_dict({"base": options})
    (point,) = spec.points()
    assert point.config.to_dict() == from_cli.to_dict()
    argv2 = ["run", "hic/Quadratic-v0", "--out", "x", "--commitment", "8", "--momentum", "0.5",
             "--two-sided", "--average-last", "3", "--leader", "hic"]  # fmt: skip
    opts2 = {"env_id": "hic/Quadratic-v0", "commitment": 8, "momentum": 0.5,
             "two-sided": True, "average-last": 3}  # fmt: skip
    (point2,) = SweepSpec.from_dict({"base": opts2}).points()
    assert point2.config.to_dict() == _from_cli(argv2).to_dict()


def test_a_learner_option_the_leader_does_not_take_is_refused_as_hic_run_refuses_it(capsys):
    """A learner's option in a sweep file is the flag on ``hic run``: given for a leader that
    does not take it, both refuse it with one message, whatever its value (its default
    too, which a sweep used to drop silently); ``null``, where the option may be null, leaves it
    unset."""
    refusal = (
        "option(s) ['two_sided'] do not apply to leader 'hierarchical' (it takes ['step_size'])"
    )
    argv = ["run", "hic/Duopoly-v0", "--out", "x", "--leader", "hierarchical", "--two-sided"]
    with pytest.raises(SystemExit) as exit_info:
        _from_cli(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().endswith(refusal)
    for value in (False, True):
        base = {"env_id": "hic/Duopoly-v0", "leader": "hierarchical", "two_sided": value}
        with pytest.raises(SweepFileError, match="configuration 0: " + re.escape(refusal)):
            SweepSpec.from_dict({"base": base}).points()
    base = {"env_id": "hic/Duopoly-v0", "leader": "hierarchical", "baseline": None}
    (point,) = SweepSpec.from_dict({"base": base}).points()
    assert point.config.leader_options == {}
    # A case that switches the leader carries the base's options to it: refused the same way.
    spec = {"base": {"env_id": "hic/Duopoly-v0", "baseline": 0.9},
            "cases": [{}, {"leader": "hierarchical"}]}  # fmt: skip
    with pytest.raises(SweepFileError, match=r"configuration 1 \(cases\[1\]\) .*'baseline'"):
        SweepSpec.from_dict(spec).points()


def test_record_as_an_integer_is_one_config_from_python_the_cli_and_a_sweep_file():
    """``ExperimentConfig(record=10)`` (Python), ``--record 10`` and a sweep file's
    ``record: 10`` are one config: equal, with one hash (the field's parser gives the text)."""
    py = ExperimentConfig(env_id="hic/Duopoly-v0", record=10)
    cli = _from_cli(["run", "hic/Duopoly-v0", "--out", "unused", "--record", "10"])
    (point,) = SweepSpec.from_dict({"base": {"env_id": "hic/Duopoly-v0", "record": 10}}).points()
    assert py.record == cli.record == point.config.record == "10"
    assert config_hash(py) == config_hash(cli) == config_hash(point.config)
    assert ExperimentConfig.from_dict(py.to_dict()) == py
    assert ExperimentConfig(env_id="hic/Duopoly-v0", record=np.int64(10)) == py  # NumPy's too
    for bad in (1.5, True, None):
        with pytest.raises(ValueError, match=rf"record: expected .* got {bad!r}"):
            ExperimentConfig(env_id="hic/Duopoly-v0", record=bad)


def test_yaml_file_with_floats_written_like_1e4(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: f\nbase:\n  env_id: hic/Duopoly-v0\n  stages: 1e4\n  seeds: 2\n"
        "  perturbation: 1e-3\ngrid:\n  noise_std: [0, 1.5e-1]\n"
    )
    points = SweepSpec.from_file(path).points()
    assert [p.config.stages for p in points] == [10_000, 10_000]
    assert [p.config.noise_std for p in points] == [0.0, 0.15]
    assert points[0].config.leader_options["perturbation"] == 0.001


def test_flat_file_in_the_published_codes_form():
    flat = {"env_id": "hic/Duopoly-v0", "seeds": {"grid_search": [2, 3]}, "stages": 100}
    assert [p.config.seeds for p in SweepSpec.from_dict(flat).points()] == [2, 3]


BAD = [
    ({"base": {"env_id": "hic/Duopoly-v0", "sedes": 3}}, "unknown option 'sedes' (did you mean "
     "'seeds'?); expected one of"),
    ({"base": {"env_id": "hic/Duopoly-v0", "seeds": "three"}}, "base.seeds: expected a number"),
    ({"base": {"env_id": "hic/Duopoly-v0", "seeds": 0}}, "seeds must be a positive integer, got 0"),
    ({"base": {"env_id": "hic/Duopoly-v0", "noise_std": -1}}, "noise_std must be a finite "
     "number >= 0"),
    ({"base": {"env_id": "hic/Duopoly-v0"}, "grid": {"seeds": []}}, "grid.seeds: expected a "
     "non-empty list"),
    ({"base": {"env_id": "hic/Duopoly-v0"}, "grid": {"seeds": [2, "x"]}}, "grid.seeds[1]"),
    ({"base": {"env_id": "hic/Duopoly-v0", "seeds": {"grid_search": 3}}}, "grid_search: expected"),
    ({"base": {"env_id": "hic/Duopoly-v0"}, "grid": {"step_size.gamma": [0.7]}},
     "step_size.gamma sets one field of a schedule, but step_size is None"),
    ({"base": {"env_id": "hic/Duopoly-v0", "step_size": "power:a=1,gamma=0.6"},
      "grid": {"step_size.gama": [0.7]}}, "configuration 0: step_size.gama: step_size 'power:a="
     "1,gamma=0.6' has no field 'gama'; its fields are a, gamma, A (did you mean "
     "step_size.gamma?)"),
    ({"base": {"env_id": "hic/Duopoly-v0", "step_size": 0.1}, "grid": {"step_size.gamma": [0.7]}},
     "step_size.gamma sets one field of a schedule, but step_size is 0.1; give step_size a "),
    ({"base": {"env_id": "hic/Duopoly-v0"}, "grid": {"seeds.x": [1]}}, "only game_kwargs.KEY"),
    ({"base": {"env_id": "hic/Duopoly-v0"}, "grid": {"record.every": [1]}},
     "only game_kwargs.KEY"),
    ({"base": {"env_id": "hic/Duopoly-v0", "record": 2.5}}, "base.record: expected 'log', 'all',"),
    ({"base": {"env_id": "hic/Duopoly-v0", "record": 0}}, "record must be 'all', 'log', 'log:<"),
    ({"base": {"env_id": "hic/Duopoly-v0", "adaptive": True}},
     "base.adaptive: 'adaptive' was removed; write commitment: adaptive:tol=T,"),
    ({"base": {"env_id": "hic/Duopoly-v0"}, "grid": {"adaptive-min": [3]}},
     "grid.adaptive-min: 'adaptive-min' was removed; write commitment: adaptive:"),
    ({"base": {"env_id": "hic/Duopoly-v0", "leader": "hicc"}}, "unknown leader 'hicc'"),
    ({"base": {"env_id": "hic/Duopoly-v0", "baseline": 0.5, "two_sided": True}},
     "baseline=0.5 has no effect with two_sided"),
    ({"base": {"env_id": "hic/Duopoly-v0", "out": "x"}}, "'out' is how hic sweep runs"),
    ({"base": {"env_id": "hic/Duopoly-v0"}, "grid": {"seeds": [2, 2.0]}}, "is the same "
     "configuration as configuration 0"),
    ({"base": {"seeds": 2}}, "the environment ID is required"),
    ({"base": {"env_id": "hic/Duopoly-v0"}, "gird": {}}, "unknown top-level key(s) ['gird']"),
    ({"base": {"env_id": "hic/Duopoly-v0"}, "grid": {"seeds": [2]}, "cases": [{"seeds": 3}]},
     "'seeds' is also a grid key"),
    ({"base": {"env_id": "hic/Duopoly-v0", "two_sided": "yes"}}, "expected true or false"),
    ({"imports": "not a module!", "base": {"env_id": "hic/Duopoly-v0"}}, "imports: expected"),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "message"), BAD)
def test_bad_sweep_files_name_the_key_and_value(spec, message):
    with pytest.raises(SweepFileError) as info:
        SweepSpec.from_dict(spec, source="sweep file s.yaml").points()
    assert message in str(info.value)
    assert str(info.value).startswith("sweep file s.yaml") or "configuration" in str(info.value)


def test_yaml_key_given_twice_is_an_error(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("base:\n  env_id: hic/Duopoly-v0\n  seeds: 2\n  seeds: 3\n")
    with pytest.raises(SweepFileError, match="key 'seeds' is given twice"):
        SweepSpec.from_file(path)


def test_unknown_id_fails_before_anything_runs(tmp_path, fresh_user_module):
    spec = copy.deepcopy(USER_GAME)
    del spec["imports"]
    with pytest.raises(SweepFileError, match="unknown environment ID 'mylab/SweepTarget-v0'; a "
                       "user game needs its module under imports:"):  # fmt: skip
        run_sweep(spec, tmp_path / "s", executor="serial", progress=False)
    assert not (tmp_path / "s").exists()


def test_a_misspelt_id_is_answered_with_the_nearest(tmp_path):
    spec = {"base": {"env_id": "hic/Duoply-v0", "seeds": 2, "stages": 10}}
    near = r"'hic/Duoply-v0' \(did you mean 'hic/Duopoly-v0'\?\); a user game"
    with pytest.raises(
        SweepFileError, match=r"configuration 0 \(.*\): unknown environment ID " + near
    ):
        run_sweep(spec, tmp_path / "s", executor="serial", progress=False)
    assert not (tmp_path / "s").exists()


# ---------------------------------------------------------------------------------- running
@pytest.fixture(scope="module")
def serial_tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "serial"
    summary = run_sweep(TINY, out, executor="serial", progress=False, checkpoint_seconds=0)
    return out, summary


def test_serial_sweep_writes_hic_runs_layout_and_table(serial_tiny, tmp_path):
    out, summary = serial_tiny
    assert summary["counts"] == {
        "finished": 4,
        "failed": 0,
        "interrupted": 0,
        "skipped": 0,
        "pending": 0,
    }
    names = [c["dir"] for c in summary["configurations"]]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*names, "sweep.csv", "sweep.json", "sweep.jsonl"]
    )
    for name in names:  # hic run's files, its checkpoint included
        assert {p.name for p in (out / name).iterdir()} == {
            "updates.csv",
            "summary.json",
            "checkpoint.npz",
        }
    assert no_temp_files(out)
    # Each configuration is exactly `hic run` with the same options.
    c = summary["configurations"][3]  # noise 0.5, gamma 0.8
    assert c["values"] == {"noise_std": 0.5, "step_size.gamma": 0.8}
    ref = tmp_path / "ref"
    argv = ["run", "hic/Duopoly-v0", "--out", str(ref), "--seeds", "3", "--stages", "3e3",
            "--seed", "7", "--step-size", "power:a=1.07,gamma=0.8,A=100", "--noise-std", "0.5",
            "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert (ref / "updates.csv").read_bytes() == (out / c["dir"] / "updates.csv").read_bytes()
    alone, batched = run_summary_without_timing(ref), run_summary_without_timing(out / c["dir"])
    assert alone["files"] == {"updates": "updates.csv", "checkpoint": "checkpoint.npz"}
    assert alone == batched
    # The table: one row per configuration, the final distance statistics of its summary.
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [r["name"] for r in rows] == names
    assert list(rows[0])[:4] == ["name", "status", "noise_std", "step_size.gamma"]
    final = json.loads((out / c["dir"] / "summary.json").read_text())["final"]
    d = final["distance_to_dse"]
    assert float(rows[3]["distance_median"]) == d["median"]
    assert float(rows[3]["distance_iqr"]) == d["q75"] - d["q25"]
    assert float(rows[3]["distance_max"]) == d["max"]
    assert int(rows[3]["stage_reached"]) == 3000 and rows[3]["status"] == "finished"
    assert float(rows[3]["wall_seconds"]) > 0


def test_process_executor_gives_the_serial_results(serial_tiny, tmp_path):
    out, _ = serial_tiny
    summary = run_sweep(TINY, tmp_path / "p", executor="process", workers=2, progress=False)
    assert summary["counts"]["finished"] == 4
    assert run_files(tmp_path / "p") == run_files(out)
    for c in summary["configurations"]:
        assert run_summary_without_timing(tmp_path / "p" / c["dir"]) == (
            run_summary_without_timing(out / c["dir"])
        )


def test_a_failing_configuration_does_not_stop_the_others(tmp_path):
    out = tmp_path / "f"
    summary = run_sweep(WITH_FAILURE, out, executor="process", workers=2, progress=False)
    status = [c["status"] for c in summary["configurations"]]
    assert status == ["finished", "failed", "finished"]
    bad = summary["configurations"][1]
    assert "beta * mu = 1000" in bad["error"] and "Traceback" in bad["traceback"]
    kept = json.loads((out / "sweep.json").read_text())["configurations"][1]
    assert kept["status"] == "failed" and kept["error"] == bad["error"]
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [r["status"] for r in rows] == status
    assert "beta * mu = 1000" in rows[1]["error"] and rows[1]["distance_median"] == ""
    for c in (summary["configurations"][0], summary["configurations"][2]):
        assert json.loads((out / c["dir"] / "summary.json").read_text())["progress"]["complete"]
    # Resuming skips the finished ones and reports the failure again.
    again = run_sweep(WITH_FAILURE, out, executor="serial", resume=True, progress=False)
    assert again["counts"] == {
        "finished": 2,
        "failed": 1,
        "interrupted": 0,
        "skipped": 2,
        "pending": 0,
    }


def test_resume_skips_finished_and_finishes_partial_configurations(serial_tiny, tmp_path):
    ref, _ = serial_tiny
    out = tmp_path / "r"
    points = SweepSpec.from_dict(TINY).points()
    # Configuration 0 finished, 1 interrupted after a checkpoint, 2 and 3 never started.
    run_experiment(points[0].config, out / points[0].name, progress=False)
    done_bytes = (out / points[0].name / "updates.csv").stat().st_mtime_ns

    class Interrupt(Exception):
        pass

    def stop(info):
        if info["stage"] >= 1500:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_experiment(points[1].config, out / points[1].name, progress=False, chunk=500,
                       checkpoint_seconds=0, on_chunk=stop)  # fmt: skip
    partial = json.loads((out / points[1].name / "summary.json").read_text())
    assert not partial["progress"]["complete"]
    with pytest.raises(FileExistsError, match="pass resume=True"):
        run_sweep(TINY, out, executor="serial", progress=False)
    summary = run_sweep(TINY, out, executor="process", workers=2, resume=True, progress=False)
    assert summary["counts"] == {
        "finished": 4,
        "failed": 0,
        "interrupted": 0,
        "skipped": 1,
        "pending": 0,
    }
    assert (out / points[0].name / "updates.csv").stat().st_mtime_ns == done_bytes
    assert run_files(out) == run_files(ref)
    # Resuming a finished sweep runs nothing.
    again = run_sweep(TINY, out, executor="serial", resume=True, progress=False)
    assert again["counts"]["skipped"] == 4


def test_a_user_game_reaches_spawned_workers(tmp_path, fresh_user_module):
    out = tmp_path / "u"
    summary = run_sweep(USER_GAME, out, executor="process", workers=2, progress=False)
    assert [c["status"] for c in summary["configurations"]] == ["finished", "finished"]
    for c, target in zip(summary["configurations"], (0.0, 2.0), strict=True):
        run = json.loads((out / c["dir"] / "summary.json").read_text())
        assert run["config"]["env_id"] == "mylab/SweepTarget-v0"
        assert run["config"]["game_kwargs"] == {"c": target}
        # The numeric DSE of this game (CustomGame maximises f1(x, r(x))): (c + 1) / 2.
        assert run["game"]["stackelberg"]["x"] == pytest.approx([(target + 1) / 2], abs=1e-9)


# ---------------------------------------------------------------------------------- command
def test_sweep_main_runs_resumes_and_reports(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(WITH_FAILURE))
    out = tmp_path / "out"
    assert sweep_main([str(path), "--out", str(out), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].split()[1].startswith(str(out / "commitment=8-"))
    assert not out.exists()
    code = sweep_main([str(path), "--out", str(out), "--executor", "serial", "--no-progress"])
    assert code == 1  # one configuration failed
    text = capsys.readouterr().out
    assert "2 finished (0 already done), 1 failed" in text and "failed" in text
    assert sweep_main([str(path), "--out", str(out), "--executor", "serial"]) == 2
    assert "already holds a sweep" in capsys.readouterr().err
    # --resume with no file reads the spec back from sweep.json.
    code = sweep_main(["--resume", "--out", str(out), "--executor", "serial", "--no-progress"])
    assert code == 1
    assert "2 finished (2 already done), 1 failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "x"], "the sweep file is required"),
        (["missing.yaml", "--out", "x"], "missing.yaml"),
        (["--resume", "--out", "nowhere"], "is not a sweep directory"),
        (["s.yaml", "--out", "x", "--workers", "0"], "--workers must be a positive integer"),
        (["s.yaml", "--out", "x", "--address", "auto"], "address applies to the ray executor"),
    ],
)
def test_sweep_main_bad_arguments_exit_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(TINY))
    assert sweep_main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_sweep_file_exits_2_naming_the_key(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("base:\n  env_id: hic/Duopoly-v0\n  seeds: many\n")
    assert sweep_main([str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"sweep file {path}: base.seeds: expected a number, got 'many'" in err


def test_a_configuration_that_does_not_validate_is_named_with_its_file(tmp_path, capsys):
    """An error found while the grid is expanded (a configuration that does not validate, a
    duplicate, the cap) names the sweep file too, as an error in one key does; and the
    spec read back from sweep.json names that file."""
    path = tmp_path / "bad.yaml"
    path.write_text(
        "base: {env_id: hic/Duopoly-v0, baseline: 0.5}\ncases: [{}, {leader: hierarchical}]\n"
    )
    for argv in ([], ["--dry-run"]):
        assert sweep_main([str(path), "--out", str(tmp_path / "o"), *argv]) == 2
        err = capsys.readouterr().err
        assert (
            f"sweep file {path}: configuration 1 (cases[1]) (leader='hierarchical'): "
            "option(s) ['baseline'] do not apply to leader 'hierarchical'"
        ) in err
    assert sweep_main([str(path), "--out", str(tmp_path / "o"), "--max-configurations", "1"]) == 2
    assert f"sweep file {path}: sweep 'sweep' has 2 configurations" in capsys.readouterr().err
    dup = tmp_path / "dup.yaml"
    dup.write_text("base: {env_id: hic/Duopoly-v0}\ngrid: {seeds: [2, 2.0]}\n")
    with pytest.raises(SweepFileError, match=f"^sweep file {re.escape(str(dup))}: configuration 1"):
        load_sweep(dup).points()
    spec = load_sweep(dup)
    assert SweepSpec.from_dict(spec.to_dict()) == spec  # the source is not part of the spec
    assert "source" not in spec.to_dict()


# ---------------------------------------------------------------------------------- figures
def test_plot_sweep_draws_both_figures(serial_tiny, tmp_path):
    import matplotlib.image as mpimg

    out, _ = serial_tiny
    paths = plot_sweep(out, tmp_path)
    assert [p.name for p in paths] == ["sweep_final.png", "sweep_curves.png"]
    for p in paths:
        assert p.read_bytes()[:8] == PNG_SIGNATURE
        img = mpimg.imread(p)
        assert min(img.shape[:2]) >= 300 and float(np.std(img[..., :3])) > 0.01


def test_the_readme_example_runs_with_the_process_executor(tmp_path):
    example = Path(__file__).resolve().parents[2] / "scripts" / "sweep_example.yaml"
    points = SweepSpec.from_file(example).points()
    assert [p.values for p in points] == [
        {"step_size.gamma": g, "noise_std": n} for g in (0.602, 0.8) for n in (0.0, 1.0)
    ]
    summary = run_sweep(example, tmp_path / "example", workers=2, progress=False)
    assert summary["counts"]["finished"] == 4


@pytest.mark.parametrize(
    ("address", "error", "message"),
    [
        ("127.0.0.1:1", RuntimeError, "cannot reach the Ray cluster at '127.0.0.1:1'"),
        ("somewhere", ValueError, "address must be 'auto', 'HOST:PORT' or 'ray://HOST:PORT'"),
    ],
)
def test_an_unreachable_ray_address_fails_fast_writing_nothing(tmp_path, address, error, message):
    pytest.importorskip("ray", reason="the ray extra")  # without Ray: 'needs Ray' comes first
    with pytest.raises(error, match=re.escape(message)):
        run_sweep(TINY, tmp_path / "s", executor="ray", address=address, progress=False)
    assert not (tmp_path / "s").exists()


def test_a_field_key_takes_the_fields_own_type():
    """``OPTION.FIELD`` goes through the one coerce with the field's declared type: an
    adaptive commitment's integer lengths take whole numbers (they were read as floats and
    refused), a non-integer is refused naming the key, and float fields are unchanged."""
    base = {
        "env_id": "hic/Quadratic-v0",
        "commitment": "adaptive:tol=0.01,min_length=2,max_length=100",
    }  # noqa: E501
    spec = {"name": "a", "base": base,
            "grid": {"commitment.min_length": [3, 5], "commitment.tol": [0.02]}}  # fmt: skip
    got = [p.config.leader_options["commitment"] for p in load_sweep(spec).points()]
    want = [AdaptiveCommitment(0.02, m, 100) for m in (3, 5)]
    assert got == want
    assert all(type(c.min_length) is int for c in got)
    direct = ExperimentConfig(
        "hic/Quadratic-v0",
        leader_options={"commitment": "adaptive:tol=0.02,min_length=3,max_length=100"},
    )
    assert config_hash(load_sweep(spec).points()[0].config) == config_hash(direct)
    bad = {**spec, "grid": {"commitment.min_length": [3.5]}}
    with pytest.raises(
        SweepFileError, match=r"commitment\.min_length: expected an integer, got 3\.5"
    ):  # noqa: E501
        load_sweep(bad).points()
