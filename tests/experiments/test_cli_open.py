"""Users' games and learners reach every command (--import), runs compare from the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from agents.compose.cli.main import main

USER_MODULE = textwrap.dedent(
    """
    import hic_envs
    from agents import catalog
    from hic_envs.games import QuadraticGame


    def my_quad(**kw):
        return QuadraticGame(k=0.5, **kw)


    hic_envs.register_game("mylab/MyQuad-v0", my_quad)
    catalog.register_leader(
        catalog.LearnerSpec(
            "my-sga", "leader", "my SGA", catalog.LEADERS["sga"].factory, ("step_size",)
        )
    )
    """
)
TINY = ["--seeds", "3", "--stages", "3000", "--no-progress"]


@pytest.fixture
def user_module(tmp_path, monkeypatch, request):
    # A fresh module name per test: the registries are restored after each test, and an
    # already imported module would not register again.
    name = f"mylab_games_{os.getpid()}_{request.node.name.replace('[', '_').strip(']')}"
    (tmp_path / f"{name}.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name, tmp_path


def _env(path) -> dict:
    return {**os.environ, "PYTHONPATH": f"{path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def test_import_makes_a_user_game_and_learner_known_and_is_recorded(user_module, tmp_path):
    name, path = user_module
    out = tmp_path / "run"
    argv = ["run", "mylab/MyQuad-v0", "--import", name, "--leader", "my-sga", "--out", str(out)]
    assert main([*argv, *TINY]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["imports"] == [name]
    assert summary["config"]["leader"] == "my-sga"
    # A fresh interpreter: plot and --resume import the recorded module only when the user
    # names it too (a results file never decides what code runs, issue 17).
    resume = ["hic", "run", "--resume", "--out", str(out)]
    plot = ["hic", "plot", str(out)]
    for cmd in (resume, plot):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(path), timeout=120)
        assert proc.returncode == 2 and f"add --import {name}" in proc.stderr, proc.stderr
    for cmd in ([*plot, "--import", name], [*resume, "--import", name]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(path), timeout=120)
        assert proc.returncode == 0, proc.stderr
    assert (out / "distance.png").exists()


def test_unknown_ids_are_clear_errors_in_every_command(tmp_path, capsys):
    assert main(["run", "mylab/Nope-v0", "--out", str(tmp_path / "x")]) == 2
    assert "unknown environment ID 'mylab/Nope-v0'; known IDs: hic/Duopoly-v0" in (
        capsys.readouterr().err
    )
    assert main(["list", "--import", "no_such_module_anywhere"]) == 2
    assert "cannot import module 'no_such_module_anywhere'" in capsys.readouterr().err
    proc = subprocess.run(
        ["hic", "train-follower", "--env-id", "hic/Nope-Follower-v0", "--total-steps", "10"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 2, proc.stderr
    assert "unknown follower view 'hic/Nope-Follower-v0'" in proc.stderr
    assert "Traceback" not in proc.stderr
    from agents.compose.experiments.training import TrainConfig

    near = r"'hic/Duoply-Follower-v0' \(did you mean 'hic/Duopoly-Follower-v0'\?\); known"
    with pytest.raises(ValueError, match=near):
        TrainConfig(env_id="hic/Duoply-Follower-v0")


def test_env_and_view_keywords_are_refused_as_game_arguments(tmp_path, capsys):
    """Game arguments that are the env's or the view's own were dropped or overridden without
    a word (``hic run --game-kwarg noise_std=1`` ran without noise): refused, naming them."""
    from agents.compose.experiments.training import TrainConfig

    out = tmp_path / "r"
    assert main(["run", "hic/Duopoly-v0", "--game-kwarg", "noise_std=1", "--out", str(out)]) == 2
    assert "['noise_std'] are the env's, not the game's" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(ValueError, match=r"\['max_episode_steps', 'noise_std'\] are the follower "
                       r"view's options, not the game's; train-follower sets them itself "
                       r"\(--max-episode-steps, --noise-std where it has one\)"):  # fmt: skip
        TrainConfig(game_kwargs={"noise_std": 1.0, "max_episode_steps": 5, "a": 60})
    assert TrainConfig(game_kwargs={"a": 60}).game_kwargs == {"a": 60}


def test_list_shows_user_games_and_the_learners(user_module, capsys):
    name, _ = user_module
    assert main(["list", "--import", name]) == 0
    out = capsys.readouterr().out
    assert "mylab/MyQuad-v0" in out and "my-sga" in out and "lola" in out


def test_plot_compares_runs_labelled_by_what_differs(tmp_path, capsys):
    runs = []
    for leader in ("hic", "sga"):
        d = tmp_path / leader
        assert main(["run", "hic/Quadratic-v0", "--leader", leader, "--out", str(d), *TINY]) == 0
        runs.append(str(d))
    capsys.readouterr()
    assert main(["plot", *runs, "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert "leader=hic" in out and "leader=sga" in out and "median" in out
    for name in ("compare_distance.png", "compare_payoff.png", "compare_trajectory.png"):
        assert (tmp_path / "cmp" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_help_names_the_command(capsys):
    for cmd in ("run", "plot", "list", "bench"):
        with pytest.raises(SystemExit):
            from agents.compose.cli import config as cfgparse  # noqa: F401

            raise SystemExit(main([cmd, "--help"]))
        assert capsys.readouterr().out.startswith(f"usage: hic {cmd}")
    proc = subprocess.run(
        [sys.executable, "-m", "agents.compose.cli", "train-follower", "--help"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("usage: hic train-follower")


@pytest.mark.parametrize(
    ("argv", "extras", "hint"),
    [
        (["run", "hic/Duopoly-v0", "--step-sise", "0.1"], "--step-sise 0.1", "--step-size"),
        (["run", "hic/Duopoly-v0", "--sed", "3", "--stagse=10"], "--sed 3 --stagse=10",
         "--seed, --stages"),
        (["sweep", "s.yaml", "--wrkers", "2"], "--wrkers 2", "--workers"),
        (["run", "hic/Duopoly-v0", "--zzzz"], "--zzzz", None),  # nothing near: no hint
        # a removed option (--adaptive-tol) is not suggested for a near miss
        (["run", "hic/Duopoly-v0", "--adaptive-toll", "1"], "--adaptive-toll 1", None),
        # --hic-step is 0.70 similar (difflib), under hic_envs.suggest.CUTOFF: no guess
        (["train-follower", "--seed", "1", "--timestep", "10"], "--timestep 10", None),
    ],
)  # fmt: skip
def test_a_misspelt_option_is_answered_with_the_nearest(argv, extras, hint, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    guess = f" (did you mean {hint}?)" if hint else ""
    assert err == f"hic {argv[0]}: error: unrecognized arguments: {extras}{guess}"
    assert not (tmp_path / "o").exists()


def test_lola_runs_from_the_cli(tmp_path, capsys):
    out = tmp_path / "lola"
    assert main(["run", "hic/Quadratic-v0", "--leader", "lola", "--out", str(out), *TINY]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resolved"]["leader"] == "LOLALeader"
    assert summary["final"]["stage"] == 3000


def test_train_follower_refuses_an_existing_out_without_force(tmp_path):
    pytest.importorskip("stable_baselines3")
    from agents.compose.experiments.training import TrainConfig, train_follower

    (tmp_path / "model.zip").write_bytes(b"an earlier model")
    with pytest.raises(FileExistsError, match="pass --force"):
        train_follower(TrainConfig(out=str(tmp_path), total_steps=10, progress_bar=False))
    assert (tmp_path / "model.zip").read_bytes() == b"an earlier model"


@pytest.mark.parametrize("columns", [60, 100])
def test_run_help_lists_every_learner_within_the_terminal(columns, capsys, monkeypatch):
    """``hic run --help`` names every catalog leader and follower with its summary, the
    table filled to the terminal's width as argparse fills the rest (COLUMNS)."""
    import dataclasses

    from agents import catalog

    # A learner registered without a summary is listed too, by name alone.
    bare = dataclasses.replace(catalog.LEADERS["sga"], name="bare", summary="")
    monkeypatch.setitem(catalog.LEADERS, "bare", bare)
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["run", "--help"]) == 0
    text = capsys.readouterr().out
    head, _, rest = text.partition("leaders (--leader):\n\n")
    leaders, _, followers = rest.partition("followers (--follower):\n\n")
    followers = followers.split("\n\n")[0]
    for block, table in ((leaders, catalog.LEADERS), (followers, catalog.FOLLOWERS)):
        rows: list[list[str]] = []  # a row: a learner's name, then its summary's words
        for ln in block.strip("\n").splitlines():
            assert len(ln) <= columns, ln
            if ln[2] != " ":
                rows.append([])
            rows[-1].extend(ln.split())
        assert [r[0] for r in rows] == sorted(table)
        for name, *words in rows:  # each summary whole, wrapped beside its name
            assert words == table[name].summary.split()
