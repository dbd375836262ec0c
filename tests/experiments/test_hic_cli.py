"""The `hic` command: run, plot, list, bench on tiny budgets; bad arguments exit with 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from agents.compose.cli.commands import RunCommand
from agents.compose.cli.main import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = ["--seeds", "3", "--stages", "2e3", "--no-progress", "--checkpoint-seconds", "0"]


def assert_png(path, min_side=200):
    import matplotlib.image as mpimg

    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    img = mpimg.imread(path)
    assert img.ndim == 3 and min(img.shape[:2]) >= min_side, img.shape
    assert float(np.std(img[..., :3])) > 0.01  # not a blank canvas


@pytest.fixture(scope="module")
def duopoly_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "duo"
    code = main(
        [
            "run",
            "hic/Duopoly-v0",
            "--out",
            str(out),
            *TINY,
            "--game-kwarg",
            "a=60",
            "--commitment",
            "8",
            "--no-baseline",
            "--step-size",
            "power:a=0.01,gamma=0.6",
        ]
    )
    assert code == 0
    return out


def test_run_writes_the_documented_files(duopoly_run, capsys):
    assert {p.name for p in duopoly_run.iterdir()} == {
        "updates.csv",
        "summary.json",
        "checkpoint.npz",
    }
    summary = json.loads((duopoly_run / "summary.json").read_text())
    assert summary["config"]["game_kwargs"] == {"a": 60}
    assert summary["game"]["stackelberg"]["x"] == [29.5]  # (a - 2 c1 + c2) / 2b with a=60
    assert summary["config"]["leader_options"] == {
        "commitment": "8",
        "step_size": "power:a=0.01,gamma=0.6",
        "no_baseline": True,
    }
    assert "PowerLaw(a=0.01, gamma=0.6" in summary["resolved"]["leader.step_size"]
    assert summary["progress"]["complete"] and summary["final"]["stage"] == 2000
    lines = (duopoly_run / "updates.csv").read_text().splitlines()
    assert lines[0] == "seed,update,stage,leader_0,follower_0,distance"
    rows = np.loadtxt(lines[1:], delimiter=",")
    # 2000 stages / 8 per interval = 250 updates per seed; the default --record log keeps
    # all updates below 100, then every 10th: 0..99, 100, 110, ..., 250.
    expected = list(range(100)) + list(range(100, 251, 10))
    for seed in range(3):
        assert rows[rows[:, 0] == seed, 1].astype(int).tolist() == expected
    assert rows[rows[:, 1] == 250, 2].tolist() == [2000.0] * 3


def test_plot_makes_valid_pngs(duopoly_run, capsys):
    assert main(["plot", str(duopoly_run)]) == 0
    printed = capsys.readouterr().out.split()
    names = {p.rsplit("/", 1)[-1] for p in printed}
    assert names == {"distance.png", "payoff.png", "trajectory.png"}
    for name in names:
        assert_png(duopoly_run / name)


def test_resume_of_a_finished_run_is_a_no_op(duopoly_run, capsys):
    before = (duopoly_run / "updates.csv").read_bytes()
    assert main(["run", "--resume", "--out", str(duopoly_run), "--no-progress"]) == 0
    assert (duopoly_run / "updates.csv").read_bytes() == before
    assert "results in" in capsys.readouterr().out


def test_list_shows_ids_dimensions_and_equilibria(capsys):
    assert main(["list", "--equilibria"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("hic/Duopoly-v0"))
    assert "x*=[24.5]" in line and "x=[16.33]" in line
    assert "hic/ZeroSum-v0" in out


def test_list_computes_no_equilibrium_unless_asked(capsys, monkeypatch):
    import hic_envs
    from hic_envs.games.base import Game

    calls = []
    for name in ("stackelberg", "nash"):
        real = getattr(Game, name)

        def counted(self, real=real, name=name):
            calls.append((type(self).__name__, name))
            return real(self)

        monkeypatch.setattr(Game, name, counted)
    for env_id in hic_envs.list_envs():  # what making the games computes (Nonlinear checks
        hic_envs.game_from_id(env_id)  # its DSE is inside the box)
    made = list(calls)
    calls.clear()
    assert main(["list"]) == 0
    assert calls == made  # making the games, nothing more
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("hic/Duopoly-v0"))
    assert line.split() == ["hic/Duopoly-v0", "Duopoly", "1", "1"]
    assert "x*=" not in out and "leaders:" in out


@pytest.mark.parametrize("columns", ["72", "120"])
def test_list_learners_by_role_within_the_width(monkeypatch, capsys, columns):
    """hic list's learner tables: a leader lists the leader's flags only (consensus runs as
    either role, and its follower's --follower-* flags are not the leader's), and every line
    fits the terminal's width, as --help does (COLUMNS less two; text columns are at least 30
    wide, which a 72-column terminal leaves)."""
    from agents.compose.experiments.experiment import learner_options

    monkeypatch.setenv("COLUMNS", columns)
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    learners = out[out.index("\nleaders:") :]
    assert all(len(ln) <= int(columns) - 2 for ln in learners.splitlines())
    leaders = learners[: learners.index("\nfollowers:")]
    followers = learners[learners.index("\nfollowers:") : learners.index("\noptions (")]

    def flags(section: str, name: str) -> set[str]:
        """The flags listed under ``name`` in one table (the options wrap onto more lines)."""
        lines = section.splitlines()
        start = next(i for i, ln in enumerate(lines) if ln.split()[:1] == [name])
        block = []
        for ln in lines[start + 1 :]:
            if ln[:3].strip():  # the next learner
                break
            block.append(ln)
        text = " ".join(block).split("options:", 1)[1]
        return {f.strip() for f in text.split(",")} - {"none"}

    opts = learner_options().values()
    for section, role in ((leaders, "leader"), (followers, "follower")):
        for name in ("consensus", "hic", "sos", "best-response"):
            if f"  {name} " not in section:
                continue
            want = {o.flag for o in opts if o.role == role and name in o.learners}
            assert flags(section, name) == want, (role, name)
    assert flags(leaders, "consensus") == {"--step-size", "--gamma"}
    assert flags(followers, "consensus") == {"--follower-step-size", "--follower-gamma"}
    assert "``" not in out  # reST literals (--damping's help) are plain text


def test_other_leaders_and_followers_run(tmp_path):
    for i, (leader, follower) in enumerate(
        [("sga", "gradient"), ("hierarchical", "best-response"), ("oracle-spsa", "stochastic")]
    ):
        out = tmp_path / str(i)
        code = main(
            [
                "run",
                "hic/Quadratic-v0",
                "--leader",
                leader,
                "--follower",
                follower,
                "--out",
                str(out),
                *TINY,
                "--step-size",
                "0.01",
            ]
        )
        assert code == 0, (leader, follower)
        summary = json.loads((out / "summary.json").read_text())
        assert summary["config"]["leader"] == leader and summary["final"]["stage"] == 2000


def test_resume_without_an_id_refuses_run_options_made_in_python_too():
    """Made in Python (not parsed), a RunCommand tells a given option by its value."""
    with pytest.raises(ValueError, match=r"options given \(--step-size, --stages\) would be"):
        RunCommand(out="x", resume=True, stages=5000, leader_options={"step_size": 0.1})
    assert RunCommand(out="x", resume=True, imports=()).env_id is None


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["run", "hic/Duopoly-v0", "--leader", "nosuch"], "unknown leader 'nosuch'"),
        (["run", "hic/Duopoly-v0", "--follower", "oracle"], "unknown follower 'oracle'"),
        (["run", "hic/Duopoly-v0", "--stages", "many"], "'many'"),
        (["run", "hic/Duopoly-v0", "--seeds", "0"], "seeds must be a positive integer, got 0"),
        (["run", "hic/Nope-v0"], "unknown environment ID 'hic/Nope-v0'"),
        (["run", "hic/Duopoly-v0", "--game-kwarg", "a=-5"], "got -5"),
        (["run", "hic/Duopoly-v0", "--game-kwarg", "q"], "expected KEY=VALUE, got 'q'"),
        (["run", "hic/Duopoly-v0", "--step-size", "powr:a=1"], "unknown schedule 'powr'"),
        (["run", "hic/Duopoly-v0", "--commitment", "2.5"], "'2.5'"),
        (["run", "hic/Duopoly-v0", "--baseline", "1.5"], "1.5"),
        (["run", "hic/Duopoly-v0", "--baseline", "0.5", "--two-sided"], "no effect with two_sided"),
        (["run", "hic/Duopoly-v0", "--adaptive"], "--adaptive was removed; write --commitment"),
        (["run", "hic/Duopoly-v0", "--adaptive-max", "9"], "write --commitment adaptive:"),
        (["run", "hic/Duopoly-v0", "--record", "often"], "'often'"),
        (["run", "--resume"], "holds no run"),
        # Options the resumed run would ignore (its config is read from --out) are refused.
        (["run", "--resume", "--stages", "5000"], "options given (--stages) would be ignored"),
        (["run", "--resume", "--step-size", "0.1"], "(--step-size) would be ignored"),
        # Given at their default values too (they would be ignored all the same), abbreviated.
        (["run", "--resume", "--stages", "1e6", "--record", "log"], "(--stages, --record) would"),
        (["run", "--resume", "--seed", "0", "--no-baseline"], "(--no-baseline, --seed) would"),
        (["run", "--resume", "--follower-st", "0.1"], "(--follower-step-size) would be"),
        (["run"], "environment ID is required"),
        (["plot", "nowhere"], "nowhere is not a run directory"),
        (["fly"], "unknown command 'fly'"),
    ],
)
def test_bad_arguments_exit_2_naming_the_value(argv, needle, tmp_path, capsys):
    if "--out" not in argv and argv[0] == "run":
        argv = [*argv, "--out", str(tmp_path / "out")]
    if argv[0] == "plot":
        argv = ["plot", str(tmp_path / argv[1])]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "updates.csv").exists()  # nothing half-written


def test_existing_output_needs_resume(duopoly_run, capsys):
    assert main(["run", "hic/Duopoly-v0", "--out", str(duopoly_run), *TINY]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_bench_quick_prints_the_table(capsys):
    args = ["bench", "--quick", "--sizes", "1", "10", "--seconds", "0.05", "--pair-seeds", "0"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "nproc=" in out and "numpy=" in out and "blas_threads=" in out
    assert "| agents.compose.play + GameEnv | 1 |" in out
    assert "| agents.compose.run_batch | 10 |" in out
    assert "record='log'" in out


def test_bench_has_a_row_per_catalog_pair_and_backend(capsys):
    from agents import catalog
    from agents.compose.engines.bench import (
        PAIR_VARIANTS,
        BenchResult,
        format_report,
        pair_benchmarks,
    )

    rows = pair_benchmarks(4, seconds=0.01, repeats=1)
    backends = {r["backend"] for r in rows}
    leaders = len(catalog.LEADERS) + len(PAIR_VARIANTS)
    assert len(rows) == leaders * len(catalog.FOLLOWERS) * len(backends)
    for r in rows:
        assert (r["result"] is None) != (r["refused"] is None)
        assert r["result"] is None or r["result"].best > 0
    assert all(r["result"] for r in rows if r["backend"] == "numpy")
    report = {"machine": {}, "workload": "", "results": [], "memory": [], "pairs": rows,
              "peak_rss_MB": 0.0}  # fmt: skip
    text = format_report(report)
    assert "| hic x gradient | numpy |" in text
    assert "| hic (adaptive) x gradient | numpy |" in text
    assert "numba limit" not in text  # no limit measured: no column
    # With the numba limit measured at the pairs' S, each row shows its rate over it.
    hic = next(r for r in rows if r["leader"] == "hic" and r["follower"] == "gradient")
    # The limit is the faster of the two numba kernels (the two ways of checking the reads).
    best = hic["result"].best
    limits = [
        BenchResult("numba limit (1 thread, check folded)", 4, 1000, 4 * best, 1.0, 1.0),
        BenchResult("numba limit (1 thread, check in y)", 4, 1000, 2 * best, 1.0, 1.0),
    ]
    text = format_report({**report, "results": limits})
    row = next(line for line in text.splitlines() if line.startswith("| hic x gradient | numpy"))
    assert row.endswith("| 0.25x |")
    refused = [line for line in text.splitlines() if "refused: " in line]
    assert all(line.count("|") == row.count("|") for line in refused)


def test_profile_stages_script_prints_every_part(capsys, load_script):
    mod = load_script("profile_stages")
    mod.main(mod.Config(number=200, repeats=1, stages=3000))
    cells = [r[2:-2].split(" | ") for r in capsys.readouterr().out.splitlines() if r[:2] == "| "]
    values = {c[0]: float(c[1]) for c in cells if c[1].replace(".", "").isdigit()}
    for part in ("env.step", "follower.observe (single face)", "whole play stage"):
        assert values[part] > 0
    assert values["whole stage"] > 0 and values["follower's repeated steps, per stage"] > 0


@pytest.mark.skipif(shutil.which("hic") is None, reason="the hic console script is not installed")
def test_console_script(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        ["hic", "run", "hic/Cooperative-v0", "--out", str(out), *TINY],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "updates.csv").exists() and (out / "summary.json").exists()
    bad = subprocess.run(
        ["hic", "run", "hic/Duopoly-v0", "--leader", "nosuch", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "unknown leader 'nosuch'" in bad.stderr


def test_module_entry_point(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "agents.compose.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "run" in proc.stdout and "bench" in proc.stdout
