"""One typed home per option (issue 19 item 1): the options classes make the CLI flags, the
sweep keys, the validation and the listings; schedules are structured values with one text
form; a user's learner gets its own options on ``hic run`` and in sweep files for free."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import numpy as np
import pytest
import yaml

from agents import catalog, schedules
from agents.compose.cli import config as cfgparse
from agents.compose.cli.main import COMMANDS, main
from agents.compose.experiments.experiment import ExperimentConfig, learner_options
from agents.compose.sweeps import SweepFileError, SweepSpec, config_hash, run_sweep, sweep_keys
from agents.hic import AdaptiveCommitment
from agents.specs import (
    Ceil,
    Corollary,
    coerce,
    parse_commitment,
    parse_schedule,
    to_text,
)

#: A user's learner with an options class of its own: SGA whose step is ``gain / (n + 1)``.
USER_LEARNER = textwrap.dedent(
    '''
    import dataclasses

    from agents import catalog, schedules
    from agents.baselines import SGALeader


    @dataclasses.dataclass(frozen=True)
    class DampedOptions:
        """The damped leader's options."""

        gain: float = 0.05
        """Step scale: the step is gain / (n + 1)."""
        tag: str | None = None
        """A free-text label (recorded, unused)."""


    def damped(game, num_envs, options, partner):
        gain = options.get("gain", 0.05)
        return SGALeader(game, num_envs=num_envs, step_size=schedules.PowerLaw(gain, 1.0))


    catalog.register_leader(
        catalog.LearnerSpec(
            "damped", "leader", "damped SGA", damped, DampedOptions, "SGA with a 1/n step"
        )
    )
    '''
)
TINY = ["--seeds", "3", "--stages", "2000", "--no-progress"]


@pytest.fixture
def user_learner(tmp_path, monkeypatch, request):
    name = f"userlearner_{os.getpid()}_{request.node.name.replace('[', '_').strip(']')}"
    (tmp_path / f"{name}.py").write_text(USER_LEARNER)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


# ---------------------------------------------------------------------------------- schedules
@pytest.mark.parametrize(
    "text, value",
    [
        ("0.01", 0.01),
        ("power:a=1.0728,gamma=0.602,A=100", schedules.PowerLaw(1.0728, 0.602, 100.0)),
        ("power:a=1,gamma=0.101", schedules.PowerLaw(1.0, 0.101)),
        ("log:a=2", schedules.Logarithmic(2.0)),
        ("log:a=2,base=3", schedules.Logarithmic(2.0, 3.0)),
    ],
)
def test_a_schedule_has_one_text_form(text, value):
    assert parse_schedule(text) == value
    assert to_text(value) == text
    assert parse_schedule(value) is value  # a typed value passes through the parser


@pytest.mark.parametrize(
    "text, value",
    [
        ("12", 12),
        ("corollary:p=0.5", Corollary(0.5)),
        ("corollary:p=1,beta=0.1,mu=2", Corollary(1.0, 0.1, 2.0)),
        ("power:a=10,gamma=0.5", Ceil(schedules.PowerLaw(10.0, 0.5))),
        ("adaptive:tol=0.05,min_length=3,max_length=99", AdaptiveCommitment(0.05, 3, 99)),
        # The default tol (a decaying schedule) is left out of the text: it had no text form,
        # so hic run --commitment adaptive:min_length=3 failed writing its config.
        ("adaptive:min_length=3,max_length=10000", AdaptiveCommitment(min_length=3)),
    ],
)
def test_a_commitment_has_one_text_form(text, value):
    assert parse_commitment(text) == value
    assert to_text(value) == text


def test_an_adaptive_commitment_with_another_schedule_tol_has_no_text_form():
    with pytest.raises(TypeError, match="has no text form"):
        to_text(AdaptiveCommitment(tol=schedules.PowerLaw(0.5, 1.0)))


def test_hic_run_takes_an_adaptive_commitment_with_its_default_tol(tmp_path):
    out = tmp_path / "run"
    argv = ["run", "hic/Duopoly-v0", "--seeds", "2", "--stages", "200", "--no-progress"]
    assert main([*argv, "--commitment", "adaptive:min_length=3", "--out", str(out)]) == 0
    saved = json.loads((out / "summary.json").read_text())["config"]["leader_options"]
    assert saved["commitment"] == "adaptive:min_length=3,max_length=10000"
    assert (
        main([*argv, "--commitment", "adaptive:min_length=3", "--out", str(out), "--resume"]) == 0
    )


def test_coerce_names_the_option_and_the_value():
    with pytest.raises(ValueError, match=r"--seeds: expected an integer, got 2\.5"):
        coerce(int, 2.5, "--seeds")
    with pytest.raises(ValueError, match=r"x: expected a finite number, got nan"):
        coerce(float, float("nan"), "x")
    with pytest.raises(ValueError, match=r"--game-kwarg\[0\]: expected KEY=VALUE"):
        coerce(dict[str, object], ["a"], "--game-kwarg")
    assert coerce(int, "1e6", "n") == 1_000_000 and coerce(int | None, "none", "n") is None


# ---------------------------------------------------------------------------------- one model
def test_an_adaptive_commitment_is_a_typed_value_with_one_spelling():
    config = ExperimentConfig(
        env_id="hic/Duopoly-v0", leader_options={"commitment": "adaptive:tol=0.01,min_length=3"}
    )
    commitment = config.leader_options["commitment"]
    assert commitment == AdaptiveCommitment(0.01, 3, 10_000)
    assert config.to_dict()["leader_options"]["commitment"] == (
        "adaptive:tol=0.01,min_length=3,max_length=10000"
    )
    assert ExperimentConfig.from_dict(config.to_dict()) == config
    # A config that the removed --adaptive --adaptive-min 3 wrote (ExperimentConfig held only
    # the commitment's text) still loads, as the same config with the same hash.
    # (the to_dict() of RunOptions(env_id="hic/Duopoly-v0", adaptive=True, adaptive_min=3)
    # .experiment() at commit e87d076).
    written = {"env_id": "hic/Duopoly-v0", "game_kwargs": {}, "leader": "hic", "leader_options":
               {"commitment": "adaptive:tol=0.01,min_length=3,max_length=10000"},
               "follower": "gradient", "follower_options": {}, "seeds": 32, "stages": 1000000,
               "seed": 0, "noise_std": 0.0, "max_cycles": 1000, "record": "log"}  # fmt: skip
    assert ExperimentConfig.from_dict(written) == config
    assert config_hash(ExperimentConfig.from_dict(written)) == config_hash(config)


def test_the_command_line_and_a_sweep_file_give_equal_configs(tmp_path):
    argv = [
        "hic/Quadratic-v0",
        "--out",
        "o",
        "--step-size",
        "power:a=0.8046,gamma=0.8,A=100",
        "--commitment",
        "corollary:p=0.5",
        "--baseline",
        "0.9",
        "--follower-step-size",
        "0.05",
        "--game-kwarg",
        "k=0.5",
    ]
    from_cli = cfgparse.parse(COMMANDS["run"][0], argv).experiment()
    spec = SweepSpec.from_dict(
        {
            "base": {
                "env_id": "hic/Quadratic-v0",
                "step_size": "power:a=0.8046,gamma=0.602,A=100",
                "baseline": 0.9,
                "follower_step_size": 0.05,
                "game_kwargs": {"k": 0.5},
            },
            "grid": {"step_size.gamma": [0.8], "commitment": ["corollary:p=0.5"]},
        }
    )
    assert spec.points()[0].config == from_cli


def test_every_option_of_every_command_has_help_text():
    for name, (cls, _, _) in COMMANDS.items():
        if not isinstance(cls, type):
            cls = cls()
        parser = cfgparse.parser_for(cls, prog=f"hic {name}")
        for action in parser._actions:
            if action.dest == "help":
                continue
            assert action.help and action.help.strip(), (name, action.option_strings)


def test_given_dests_names_what_the_command_line_gave_at_any_value():
    """Given at its default value, abbreviated, as a learner's flag, as a switch: each counts;
    what was not given does not."""
    from agents.compose.cli.commands import RunCommand

    argv = ["--out", "o", "--stages", "1e6", "--rec", "log", "--step-size", "0.1",
            "--no-baseline", "--game-kwarg", "a=60"]  # fmt: skip
    assert cfgparse.given_dests(RunCommand, argv) == {
        "out", "stages", "record", "leader_options.step_size", "leader_options.no_baseline",
        "game_kwargs",
    }  # fmt: skip
    assert cfgparse.given_dests(RunCommand, ["hic/Duopoly-v0", "--out", "o"]) == {
        "env_id", "out",
    }  # fmt: skip


def test_learner_options_are_declared_once_in_their_class():
    opts = learner_options()
    # Each catalog learner's fields, and nothing else, are its flags.
    # (A name may be both a leader and a follower, e.g. "lola": compare within a role.)
    for role, table in (("leader", catalog.LEADERS), ("follower", catalog.FOLLOWERS)):
        for name, spec in table.items():
            mine = {o.field for o in opts.values() if name in o.learners and o.role == role}
            assert mine == {f for f in spec.options.__dataclass_fields__}, (role, name)
    assert opts["follower_noise"].field == "noise" and opts["follower_noise"].role == "follower"
    # LOLA's noise_std would clash with the payoff noise: it is --leader-noise-std.
    assert opts["leader_noise_std"].learners == ("lola",)
    assert set(opts) <= set(sweep_keys())


def test_an_option_the_leader_does_not_take_is_refused_with_its_name():
    with pytest.raises(ValueError, match=r"\['lookahead'\] do not apply to leader 'hic'"):
        ExperimentConfig(env_id="hic/Duopoly-v0", leader_options={"lookahead": 2.0})
    spec = {"base": {"env_id": "hic/Duopoly-v0", "leader": "sga", "perturbation": 0.1}}
    with pytest.raises(SweepFileError, match=r"\['perturbation'\] do not apply to leader 'sga'"):
        SweepSpec.from_dict(spec).points()


def test_a_field_key_needs_a_schedule_with_that_field():
    spec = {
        "base": {"env_id": "hic/Duopoly-v0", "step_size": "log:a=1"},
        "grid": {"step_size.gamma": [0.7]},
    }
    # (no near name: gamma is a PowerLaw's field, and log has a and base)
    with pytest.raises(SweepFileError, match=r"has no field 'gamma'; its fields are a, base$"):
        SweepSpec.from_dict(spec).points()


# ---------------------------------------------------------------------------------- user learner
def test_a_user_learner_gets_its_options_on_hic_run(user_learner, tmp_path, capsys):
    runs = {}
    for gain in ("0.02", "0.2"):
        out = tmp_path / f"g{gain}"
        argv = ["run", "hic/Duopoly-v0", "--import", user_learner, "--leader", "damped"]
        assert main([*argv, "--gain", gain, "--tag", "x", "--out", str(out), *TINY]) == 0
        summary = json.loads((out / "summary.json").read_text())
        assert summary["config"]["leader_options"] == {"gain": float(gain), "tag": "x"}
        runs[gain] = summary["final"]["leader_strategy"]["median"]
    assert not np.allclose(runs["0.02"], runs["0.2"])  # the option reaches the factory
    capsys.readouterr()
    # Its flags have their docstrings as help, and hic list lists them.
    assert main(["run", "--import", user_learner, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help
    assert "--gain VALUE Step scale: the step is gain / (n + 1). [leaders: damped]" in text
    assert main(["list", "--import", user_learner]) == 0
    assert "options: --gain, --tag" in capsys.readouterr().out
    # A bad value is named by its flag; a flag the chosen leader does not take is refused.
    bad = ["run", "hic/Duopoly-v0", "--import", user_learner, "--out", str(tmp_path / "b")]
    assert main([*bad, "--leader", "damped", "--gain", "fast", *TINY]) == 2
    assert "leader_options.gain: expected a number, got 'fast'" in capsys.readouterr().err
    assert main([*bad, "--gain", "0.1", *TINY]) == 2
    assert "['gain'] do not apply to leader 'hic'" in capsys.readouterr().err


def test_a_user_learner_gets_its_options_in_a_sweep_file(user_learner, tmp_path):
    spec = {
        "name": "user",
        "imports": [user_learner],
        "base": {"env_id": "hic/Duopoly-v0", "leader": "damped", "seeds": 2, "stages": 1000},
        "grid": {"gain": [0.02, 0.2]},
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    summary = run_sweep(path, tmp_path / "out", executor="serial", progress=False)
    assert [c["status"] for c in summary["configurations"]] == ["finished", "finished"]
    gains = []
    for c in summary["configurations"]:
        run = json.loads((tmp_path / "out" / c["dir"] / "summary.json").read_text())
        gains.append(run["config"]["leader_options"]["gain"])
        assert c["dir"].startswith(f"gain={run['config']['leader_options']['gain']}-")
    assert gains == [0.02, 0.2]
    bad = {**spec, "grid": {"gain": [0.02, "fast"]}}
    with pytest.raises(SweepFileError, match=r"grid\.gain\[1\]: expected a number, got 'fast'"):
        SweepSpec.from_dict(bad, source="s.yaml").points()


# ---------------------------------------------------------------------------------- cli
def test_import_finds_a_module_in_the_working_directory(tmp_path, monkeypatch, request):
    name = f"cwdlearner_{os.getpid()}"
    (tmp_path / f"{name}.py").write_text(USER_LEARNER.replace('"damped"', '"damped-cwd"'))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    argv = ["run", "hic/Duopoly-v0", "--import", name, "--leader", "damped-cwd"]
    assert main([*argv, "--out", str(tmp_path / "r"), *TINY]) == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["config"]["imports"] == [name]


def test_run_force_replaces_a_run_and_excludes_resume(tmp_path, capsys):
    out = str(tmp_path / "r")
    argv = ["run", "hic/Duopoly-v0", "--out", out, *TINY]
    assert main(argv) == 0
    assert main(argv) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert main([*argv, "--seeds", "2", "--force"]) == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["config"]["seeds"] == 2
    assert main([*argv, "--force", "--resume"]) == 2
    assert "--force and --resume exclude each other" in capsys.readouterr().err


def test_bad_options_known_only_with_the_game_write_nothing(tmp_path, capsys):
    # The experiment is built once, by the run, before its directory is made.
    out = tmp_path / "never"
    argv = ["run", "hic/Quadratic-v0", "--commitment", "corollary:p=0.5,beta=1000"]
    assert main([*argv, "--out", str(out), *TINY]) == 2
    assert "beta * mu = 1000" in capsys.readouterr().err
    assert not out.exists()


def test_batch_groups_split_on_structure_not_on_per_row_values():
    from agents.compose.sweeps import batch_groups

    spec = SweepSpec.from_dict(
        {
            "base": {
                "env_id": "hic/Duopoly-v0",
                "stages": 100,
                "step_size": "power:a=1,gamma=0.602,A=100",
            },
            "grid": {
                "step_size.gamma": [0.602, 0.8],  # a schedule's values: per row
                "commitment": [5, 50, "corollary:p=0.5"],  # a number, or another kind
                "noise_std": [0, 1],  # per row
                "seeds": [2, 3],  # rows
            },
            "cases": [{}, {"two_sided": True}],  # a switch: another program
        }
    )
    groups = batch_groups(spec.points())
    assert [len(g) for g in groups] == [16, 8, 16, 8]
    for g in groups:
        kinds = {type(p.config.leader_options["commitment"]).__name__ for p in g}
        assert len(kinds) == 1 and len({p.config.leader_options.get("two_sided") for p in g}) == 1
    # Every configuration is in exactly one group, in expansion order within it.
    indices = [p.index for g in groups for p in g]
    assert sorted(indices) == list(range(48))
    assert all([p.index for p in g] == sorted(p.index for p in g) for g in groups)


def test_sweep_dry_run_shows_the_batch_groups(tmp_path, capsys):
    spec = {
        "base": {"env_id": "hic/Duopoly-v0", "seeds": 4, "stages": 100},
        "grid": {"commitment": [5, 50, "corollary:p=0.5"], "noise_std": [0, 1]},
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 6
    assert "2 group(s) of configurations that differ only in per-row values" in captured.err
    assert "16, 8 (configuration, seed) rows" in captured.err
