"""A run directory on a shared machine (issue 17): the lock cannot be lost, results honour the
umask, a run that died before its first checkpoint restarts with one command, and a results
directory never decides what code runs."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import agents.compose.experiments.experiment as ex
from agents.compose.cli import main
from agents.compose.experiments.experiment import ExperimentConfig, run_experiment
from agents.compose.experiments.results import arrays_digest, config_digest

ROOT = Path(__file__).resolve().parents[2]
RUN = ["hic/Duopoly-v0", "--seeds", "2", "--stages", "600", "--chunk", "200", "--no-progress"]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def _hic(*args, cwd=None, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "agents.compose.cli", *args],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _long_writer(out: Path) -> subprocess.Popen:
    """A real ``hic run`` that writes ``out`` for a minute or more (a checkpoint every chunk)."""
    proc = _hic("run", "hic/Duopoly-v0", "--seeds", "64", "--stages", "1e8", "--chunk", "2000",
                "--checkpoint-seconds", "0", "--no-progress", "--out", str(out))  # fmt: skip
    deadline = time.monotonic() + 120
    while not (out / "summary.json").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return proc


def _stop(proc: subprocess.Popen) -> tuple[int, str]:
    if proc.poll() is None:
        proc.kill()
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


# ---------------------------------------------------------------------------------- lock
def test_deleting_the_lock_file_never_lets_a_second_writer_in(tmp_path):
    out = tmp_path / "run"
    writer = _long_writer(out)
    try:
        for p in out.glob(".lock*"):  # what the issue deleted (older versions' lock file)
            p.unlink()
        second = _hic("run", "--resume", "--out", str(out), "--no-progress")
        code, err = _stop_after(second, 120)
        assert code == 2 and "being written by another process" in err, err
        assert writer.poll() is None  # the first writer goes on
    finally:
        _stop(writer)


def _stop_after(proc, seconds):
    try:
        _, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        return -1, "still running: " + err
    return proc.returncode, err


def test_a_writer_whose_directory_is_replaced_stops(tmp_path):
    """Moving the directory away and putting a copy in its place gives the copy a fresh lock;
    the first writer notices at its next write and stops instead of writing alongside."""
    out = tmp_path / "run"
    writer = _long_writer(out)
    try:
        os.rename(out, tmp_path / "moved")
        shutil.copytree(tmp_path / "moved", out)
        code, err = _stop_after(writer, 120)
        assert code == 2 and "was moved or replaced while this run wrote it" in err, err
    finally:
        _stop(writer)


# ---------------------------------------------------------------------------------- umask
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_result_files_honour_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        assert main(["run", *RUN, "--out", str(tmp_path / "run")]) == 0
    finally:
        os.umask(old)
    for name in ("summary.json", "updates.csv", "checkpoint.npz"):
        mode = stat.S_IMODE((tmp_path / "run" / name).stat().st_mode)
        assert mode == 0o666 & ~umask, (name, oct(mode))


# ---------------------------------------------------------------------------------- restart
def _crash_before_first_checkpoint(monkeypatch, out):
    def crash(*a, **k):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(ex, "write_checkpoint", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_experiment(ExperimentConfig("hic/Duopoly-v0", seeds=2, stages=600), out, progress=False)
    monkeypatch.undo()
    assert (out / "updates.csv").exists() and not (out / "checkpoint.npz").exists()


def test_a_run_that_died_before_its_first_checkpoint_restarts_with_one_command(
    tmp_path, monkeypatch, capsys
):
    out = tmp_path / "run"
    _crash_before_first_checkpoint(monkeypatch, out)
    assert main(["run", *RUN, "--out", str(out)]) == 2
    assert "start it again with --restart" in capsys.readouterr().err
    assert main(["run", "--resume", "--out", str(out), "--no-progress"]) == 2
    assert "start it again with --restart" in capsys.readouterr().err
    assert main(["run", *RUN, "--out", str(out), "--restart"]) == 0
    fresh = tmp_path / "fresh"
    assert main(["run", *RUN, "--out", str(fresh)]) == 0
    assert (out / "updates.csv").read_bytes() == (fresh / "updates.csv").read_bytes()


def test_restart_never_clears_a_run_that_can_be_resumed(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", *RUN, "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["run", *RUN, "--out", str(out), "--restart"]) == 2
    assert "got past its first checkpoint; continue it with --resume" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert main(["run", *RUN, "--out", str(out), "--restart", "--resume"]) == 2


# ---------------------------------------------------------------------------------- imports
def _plant(out: Path, marker: Path) -> None:
    """A results directory whose checkpoint names a module shipped in the directory."""
    (out / "evilmod.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    path = out / "checkpoint.npz"
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    meta["config"]["imports"] = ["evilmod"]
    meta["config_sha256"] = config_digest(meta["config"])
    meta["arrays_sha256"] = arrays_digest(arrays)
    buf = io.BytesIO()
    np.savez(buf, **arrays, __meta__=np.array(json.dumps(meta)))
    path.write_bytes(buf.getvalue())


def test_resume_imports_no_module_the_user_did_not_name(tmp_path, capsys):
    out, marker = tmp_path / "run", tmp_path / "imported"
    assert main(["run", *RUN, "--out", str(out)]) == 0
    _plant(out, marker)
    assert main(["run", "--resume", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "names module(s) ['evilmod'] to import" in err and "--import evilmod" in err, err
    assert not marker.exists()


def test_resume_imports_nothing_from_the_results_directory(tmp_path):
    """``python -m`` from inside the results directory puts it first on sys.path: even a
    module the user names is not taken from there."""
    out, marker = tmp_path / "run", tmp_path / "imported"
    assert main(["run", *RUN, "--out", str(out)]) == 0
    _plant(out, marker)
    proc = _hic("run", "--resume", "--out", ".", "--import", "evilmod", "--no-progress", cwd=out)
    code, err = _stop_after(proc, 120)
    assert code == 2 and "cannot import module 'evilmod'" in err, err
    assert not marker.exists()


def _plant_summary(out: Path, marker: Path) -> None:
    """A results directory whose summary names a module shipped in the directory."""
    (out / "evilmod.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    summary = json.loads((out / "summary.json").read_text())
    summary["config"]["imports"] = ["evilmod"]
    (out / "summary.json").write_text(json.dumps(summary))


def test_plot_imports_no_module_the_user_did_not_name(tmp_path, capsys):
    out, marker = tmp_path / "run", tmp_path / "imported"
    assert main(["run", *RUN, "--out", str(out)]) == 0
    capsys.readouterr()
    _plant_summary(out, marker)
    sys.path.insert(0, str(out))  # even where the module is importable
    try:
        for argv in (["plot", str(out)], ["plot", str(tmp_path / "fresh"), str(out)]):
            if "fresh" in argv[1]:
                assert main(["run", *RUN, "--out", argv[1]]) == 0
                capsys.readouterr()
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert f"{out / 'summary.json'} names module(s) ['evilmod'] to import" in err, err
            assert "add --import evilmod" in err, err
    finally:
        sys.path.remove(str(out))
    assert not marker.exists() and not list(out.glob("*.png"))


def test_plot_imports_nothing_from_the_results_directory(tmp_path):
    """``python -m`` from inside the results directory: a module the user names is not taken
    from there, by ``hic plot .`` nor ``hic plot DIR`` with DIR the working directory."""
    out, marker = tmp_path / "run", tmp_path / "imported"
    assert main(["run", *RUN, "--out", str(out)]) == 0
    _plant_summary(out, marker)
    for where in (".", str(out)):
        code, err = _stop_after(_hic("plot", where, "--import", "evilmod", cwd=out), 120)
        assert code == 2 and "cannot import module 'evilmod'" in err, err
    assert not marker.exists()


def test_sweep_resume_imports_no_module_the_user_did_not_name(tmp_path, capsys):
    """``hic sweep --resume`` reads its spec back from sweep.json: a module it names is imported
    only when the user names it too."""
    import yaml

    here = Path(__file__).parent
    spec = {
        "name": "user",
        "imports": ["usergame_for_sweep"],
        "base": {"env_id": "mylab/SweepTarget-v0", "seeds": 2, "stages": 300},
        "grid": {"game_kwargs.c": [0.0]},
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    sys.path.insert(0, str(here))  # where the user module lives (as pytest's rootdir does)
    try:
        argv = ["--out", str(out), "--executor", "serial", "--no-progress"]
        assert main(["sweep", str(path), *argv]) == 0
        capsys.readouterr()
        assert main(["sweep", "--resume", *argv]) == 2
        err = capsys.readouterr().err
        assert "names module(s) ['usergame_for_sweep']" in err and "--import" in err, err
        assert main(["sweep", "--resume", *argv, "--import", "usergame_for_sweep"]) == 0
    finally:
        sys.path.remove(str(here))


@pytest.mark.parametrize("damage", [b'{"config": {"env_', b"", b"[1, 2]"])
def test_resume_says_it_rewrites_a_damaged_summary(tmp_path, capsys, damage):
    # summary.json is derived from the checkpoint and updates.csv: --resume rewrites it, and
    # says so where it found it damaged (garbled, empty, not an object).
    out, ref = tmp_path / "run", tmp_path / "ref"
    for d in (out, ref):
        assert main(["run", *RUN, "--out", str(d)]) == 0
    capsys.readouterr()
    (out / "summary.json").write_bytes(damage)
    assert main(["run", "--resume", "--out", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"hic run: warning: {out / 'summary.json'}" in err, err
    assert "rewritten from the checkpoint" in err
    assert main(["run", "--resume", "--out", str(ref), "--no-progress"]) == 0
    assert "warning" not in capsys.readouterr().err  # an intact one is rewritten silently
    fixed, want = (json.loads((d / "summary.json").read_text()) for d in (out, ref))
    for s in (fixed, want):
        s.pop("timing")
    assert fixed == want
    # The library says it as a RuntimeWarning.
    (out / "summary.json").write_bytes(damage)
    config = ExperimentConfig("hic/Duopoly-v0", seeds=2, stages=600)
    with pytest.warns(RuntimeWarning, match="rewritten from the checkpoint"):
        run_experiment(config, out, resume=True, progress=False, chunk=200)
