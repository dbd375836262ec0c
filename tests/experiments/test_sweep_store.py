"""The sweep directory kept as carefully as a run directory (issue 19 item 3).

One test (or a few) per finding of issue 19's "Sweep directories, probed": no lock (a
``--resume`` on a live sweep ran the same configurations twice), pool workers that outlived a
SIGKILLed driver and blocked the first resume, fixed temporary names whose planted symlinks
were followed, an unbounded YAML read (a 500-byte alias bomb), a grid expanded with no size
check or cap, ``sweep.json`` rewritten in full after every configuration, a tampered
``sweep.json`` read without naming the file and the field, and Ctrl-C on a process pool that
started another configuration.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sweep_cases import TINY, no_temp_files

from agents.compose.cli.main import main
from agents.compose.experiments.experiment import Interrupted
from agents.compose.experiments.results import RunDirError, lock_dir
from agents.compose.sweeps import (
    MAX_CONFIGURATIONS,
    DamagedRunWarning,
    SweepFileError,
    SweepInterrupted,
    SweepSpec,
    executors,
    load_sweep_summary,
    run_sweep,
)
from agents.compose.sweeps import store as sweep_store
from agents.compose.sweeps.spec import MAX_FILE_BYTES
from agents.schedules import PowerLaw

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads worker processes from /proc"
)


def _hic(*argv: str, **kwargs) -> subprocess.Popen:
    """``hic ARGV`` in a new session (its own process group, as a terminal's job is)."""
    return subprocess.Popen(
        [sys.executable, "-m", "agents.compose.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kwargs,
    )


def _wait_for(cond, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    t0 = time.monotonic()
    while not cond():
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the driver exited ({proc.returncode}) before {what}:\n{out}\n{err}")
        if time.monotonic() - t0 > timeout:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def _checkpointed(out: Path) -> list[Path]:
    return sorted(p.parent for p in out.glob("*/checkpoint.npz"))


def _workers_of(pid: int) -> list[int]:
    """The spawned pool workers whose parent is ``pid`` (/proc)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmdline = (d / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(d.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has died; only its parent has not reaped it


def _long_sweep(path: Path, stages: list[float], seeds: list[int]) -> Path:
    """Duopoly, 2 seeds per configuration; long configurations run for minutes unless stopped."""
    spec = {
        "name": "long",
        "base": {"env_id": "hic/Duopoly-v0", "seeds": 2, "record": "none"},
        "grid": {"stages": stages, "seed": seeds},
    }
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _csv_status(out: Path) -> dict[str, str]:
    with open(out / "sweep.csv") as f:
        return {row["name"]: row["status"] for row in csv.DictReader(f)}


# ---------------------------------------------------------------------------------- the lock
def test_a_resume_of_a_live_sweep_is_refused_and_changes_nothing(tmp_path, capsys):
    out = tmp_path / "s"
    run_sweep(TINY, out, executor="serial", progress=False)
    before = (out / "sweep.json").read_bytes()
    with lock_dir(out):  # a driver is running this sweep
        with pytest.raises(RunDirError, match="being written by another process"):
            run_sweep(TINY, out, executor="serial", progress=False, resume=True)
        assert main(["sweep", "--resume", "--out", str(out), "--no-progress"]) == 2
    assert "being written by another process" in capsys.readouterr().err
    assert (out / "sweep.json").read_bytes() == before
    # Once the other driver is gone, the resume runs (nothing left to do).
    assert (
        run_sweep(TINY, out, executor="serial", progress=False, resume=True)["counts"]["skipped"]
        == 4
    )


def test_a_second_fresh_sweep_into_a_live_directory_is_refused(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    with lock_dir(out), pytest.raises(RunDirError, match="another process"):
        run_sweep(TINY, out, executor="serial", progress=False)
    assert sorted(p.name for p in out.iterdir()) == []  # the lock is on the directory itself


# ---------------------------------------------------------------------------------- writes
@pytest.mark.parametrize("name", [".sweep.json.tmp", ".sweep.csv.tmp", ".sweep.jsonl.tmp"])
def test_a_planted_symlink_at_a_temporary_name_is_not_followed(tmp_path, name):
    out = tmp_path / "s"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / name).symlink_to(victim)
    run_sweep(TINY, out, executor="serial", progress=False)
    assert victim.read_text() == "keep me"
    assert load_sweep_summary(out)["counts"]["finished"] == 4


def test_a_symlink_in_place_of_the_record_is_replaced_not_followed(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / "sweep.jsonl").symlink_to(victim)
    run_sweep(TINY, out, executor="serial", progress=False)
    assert victim.read_text() == "keep me"
    assert not (out / "sweep.jsonl").is_symlink()


def test_sweep_json_is_written_twice_per_sweep_and_results_are_appended(tmp_path, monkeypatch):
    """sweep.json in full at the start and the end only (it was rewritten after every
    configuration: quadratic in the grid's size); each result is one appended line, and a
    reader sees it at once."""
    writes: list[str] = []
    seen: list[int] = []
    real_write, real_append = sweep_store.atomic_write, sweep_store.append_result
    out = tmp_path / "s"

    def counting_write(path, data):
        writes.append(Path(path).name)
        real_write(path, data)

    def checking_append(out_dir, index, entry):
        real_append(out_dir, index, entry)
        seen.append(load_sweep_summary(out)["counts"]["finished"])

    monkeypatch.setattr(sweep_store, "atomic_write", counting_write)
    monkeypatch.setattr("agents.compose.sweeps.driver.append_result", checking_append)
    spec = {**TINY, "grid": {"step_size.gamma": [0.602, 0.7, 0.8, 0.9]}}  # 8 configurations
    run_sweep(spec, out, executor="serial", progress=False)
    assert writes.count("sweep.json") == 2
    assert seen == [1, 2, 3, 4, 5, 6, 7, 8]
    assert no_temp_files(out)


def test_a_torn_last_record_line_is_ignored(tmp_path):
    out = tmp_path / "s"
    run_sweep(TINY, out, executor="serial", progress=False)
    with open(out / "sweep.jsonl", "a") as f:
        f.write('{"index": 0, "hash": "')  # power lost mid-append
    assert load_sweep_summary(out)["counts"]["finished"] == 4


# ---------------------------------------------------------------------------------- reading
def _tamper(out: Path, edit) -> None:
    summary = json.loads((out / "sweep.json").read_text())
    edit(summary)
    (out / "sweep.json").write_text(json.dumps(summary))


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("tamper") / "s"
    run_sweep(TINY, out, executor="serial", progress=False)
    return out


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda s: s["configurations"][1].update(status="done"), "configurations[1].status"),
        (lambda s: s["configurations"][2].update(dir="../../etc"), "configurations[2].dir"),
        (lambda s: s["configurations"][0].update(hash="xyz"), "configurations[0].hash"),
        (lambda s: s["configurations"][3].pop("values"), "configurations[3].values"),
        (lambda s: s["configurations"].__setitem__(0, 7), "configurations[0]"),
        (lambda s: s.update(configurations={"a": 1}), "configurations"),
        (lambda s: s.pop("spec"), "spec"),
        (
            lambda s: s["configurations"][0]["final"].update(distance_to_dse="far"),
            "configurations[0].final.distance_to_dse",
        ),
    ],
)
def test_a_tampered_sweep_json_names_the_file_and_the_field(
    finished_sweep, tmp_path, edit, field, capsys
):
    out = tmp_path / "s"
    subprocess.run(["cp", "-r", str(finished_sweep), str(out)], check=True)
    _tamper(out, edit)
    with pytest.raises(SweepFileError) as info:
        load_sweep_summary(out)
    assert str(out / "sweep.json") in str(info.value)
    assert f"{field}:" in str(info.value)
    # The commands that read it exit 2 with that message (no traceback).
    assert main(["sweep", "--resume", "--out", str(out), "--no-progress"]) == 2
    assert main(["plot", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{field}:" in err and "Traceback" not in err


def test_garbled_sweep_json_and_record_name_the_file(finished_sweep, tmp_path):
    out = tmp_path / "s"
    subprocess.run(["cp", "-r", str(finished_sweep), str(out)], check=True)
    (out / "sweep.jsonl").write_text('{"index": 99, "hash": "abc"}\n{"index": 0}\n')
    with pytest.raises(SweepFileError, match=r"sweep\.jsonl: line 1: index"):
        load_sweep_summary(out)
    (out / "sweep.json").write_text("{not json")
    with pytest.raises(SweepFileError, match=r"sweep\.json: not a readable JSON file"):
        load_sweep_summary(out)


def _copy(finished: Path, tmp_path: Path) -> Path:
    out = tmp_path / "s"
    subprocess.run(["cp", "-r", str(finished), str(out)], check=True)
    return out


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda p: p.write_text('{"spec": {}, "swept": [], "configur'), "not a readable JSON"),
        (
            lambda p: _tamper(p.parent, lambda s: s["configurations"][1].update(status=3)),
            "configurations[1].status:",
        ),
        (lambda p: p.write_bytes(b"\xff\xfe"), "not a readable JSON"),
    ],
)
def test_a_resume_with_the_sweep_file_refuses_a_damaged_sweep_json_and_says_how_to_recover(
    finished_sweep, tmp_path, capsys, edit, field
):
    # Before: `hic sweep FILE --resume` never read sweep.json and silently rebuilt it.
    out = _copy(finished_sweep, tmp_path)
    spec = tmp_path / "tiny.yaml"
    spec.write_text(yaml.safe_dump(TINY))
    runs = {p.name: p.read_bytes() for p in out.glob("*/updates.csv")}
    edit(out / "sweep.json")
    damaged = (out / "sweep.json").read_bytes()
    argv = ["sweep", str(spec), "--resume", "--out", str(out), "--no-progress"]
    assert main([*argv, "--executor", "serial"]) == 2
    err = capsys.readouterr().err
    assert f"{out / 'sweep.json'}: " in err and field in err and "Traceback" not in err
    assert f"delete {out / 'sweep.json'} and {out / 'sweep.jsonl'}" in err
    assert (out / "sweep.json").read_bytes() == damaged  # nothing rewritten
    # The recovery the message gives works: the run directories rebuild the sweep's files.
    (out / "sweep.json").unlink()
    (out / "sweep.jsonl").unlink()
    assert main([*argv, "--executor", "serial"]) == 0
    assert "4 finished (4 already done), 0 failed" in capsys.readouterr().out
    assert load_sweep_summary(out)["counts"]["finished"] == 4
    assert {p.name: p.read_bytes() for p in out.glob("*/updates.csv")} == runs


@pytest.mark.parametrize("damage", ["summary", "csv"])
def test_a_resume_runs_a_damaged_finished_run_again_naming_the_file(
    finished_sweep, tmp_path, capsys, damage
):
    out = _copy(finished_sweep, tmp_path)
    run = sorted(p.parent for p in out.glob("*/summary.json"))[1]
    before = (run / "updates.csv").read_bytes()
    if damage == "summary":
        (run / "summary.json").write_text("{garbled")
        named, why = run / "summary.json", "is not valid JSON"
    else:
        (run / "updates.csv").write_bytes(before[:300])
        named, why = run / "updates.csv", "has 300 bytes but"
    with pytest.warns(DamagedRunWarning, match="runs again") as seen:
        summary = run_sweep(TINY, out, executor="serial", progress=False, resume=True)
    assert len(seen) == 1 and f"{named} {why}" in str(seen[0].message)
    assert summary["counts"]["finished"] == 4 and summary["counts"]["skipped"] == 3
    assert (run / "updates.csv").read_bytes() == before  # the same bits, run again
    # The command line says it as its other messages: "hic sweep: warning: FILE ...".
    (run / "summary.json").write_text("{garbled")
    argv = ["sweep", "--resume", "--out", str(out), "--no-progress", "--executor", "serial"]
    assert main(argv) == 0
    assert f"hic sweep: warning: {run / 'summary.json'} is not valid JSON" in (
        capsys.readouterr().err
    )


def test_a_truncated_sweep_csv_is_rewritten_in_full_by_a_resume(finished_sweep, tmp_path):
    # Nothing reads sweep.csv back (sweep.json and the run directories are the record), so a
    # damaged table is only rewritten, whole, by the next resume.
    out = _copy(finished_sweep, tmp_path)
    (out / "sweep.csv").write_text((out / "sweep.csv").read_text()[:50])
    run_sweep(TINY, out, executor="serial", progress=False, resume=True)
    assert sorted(_csv_status(out).values()) == ["finished"] * 4


# ---------------------------------------------------------------------------------- the file
#: 9 levels of 9 aliases in a game argument: 9**9 (387 million) strings once expanded, from
#: under 500 bytes.
ALIAS_BOMB = "\n".join(
    [
        "name: bomb",
        "base:",
        "  env_id: hic/Duopoly-v0",
        "  game_kwargs:",
        "    a0: &a0 [x,x,x,x,x,x,x,x,x]",
        *(f"    a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)),
    ]
)


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path, capsys):
    assert len(ALIAS_BOMB.encode()) <= 500
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    t0 = time.perf_counter()
    with pytest.raises(SweepFileError, match="aliases"):
        SweepSpec.from_file(path)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--dry-run"]) == 2
    assert time.perf_counter() - t0 < 10  # it ran for over 100 s, growing past 650 MB
    assert "aliases" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_recursive_alias_and_an_oversized_file_are_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("base: &b {env_id: hic/Duopoly-v0, x: *b}\n")
    with pytest.raises(SweepFileError, match="refers to itself"):
        SweepSpec.from_file(path)
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_FILE_BYTES + "\nbase: {env_id: hic/Duopoly-v0}\n")
    with pytest.raises(SweepFileError, match="larger than"):
        SweepSpec.from_file(big)
    # Plain aliases within the limit still work (a shared base block, say).
    ok = tmp_path / "ok.yaml"
    ok.write_text(
        "base: {env_id: hic/Duopoly-v0, step_size: &s 'power:a=1,gamma=0.602'}\n"
        "cases: [{perturbation: *s}]\n"
    )
    assert SweepSpec.from_file(ok).cases == ((("perturbation", PowerLaw(1.0, 0.602)),),)


def _million_grid(path: Path) -> Path:
    grid = {
        "seed": list(range(10)),
        "seeds": list(range(1, 11)),
        "stages": [1000 * (i + 1) for i in range(10)],
        "noise_std": [i / 10 for i in range(10)],
        "max_cycles": list(range(1, 11)),
        "baseline": [i / 10 for i in range(10)],
    }
    path.write_text(yaml.safe_dump({"name": "huge", "base": {"env_id": "hic/Duopoly-v0"},
                                    "grid": grid}))  # fmt: skip
    return path


def test_a_million_configuration_grid_is_sized_and_refused_before_expansion(tmp_path, capsys):
    path = _million_grid(tmp_path / "huge.yaml")
    t0 = time.perf_counter()
    spec = SweepSpec.from_file(path)
    assert spec.size == 10**6
    assert spec.describe_size().startswith("1000000 configurations (10 baseline x 10 ")
    with pytest.raises(SweepFileError, match="--max-configurations 1000000"):
        spec.points()
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--dry-run"]) == 2
    assert time.perf_counter() - t0 < 10  # expanding it took about 6 minutes
    err = capsys.readouterr().err
    assert "sweep huge: 1000000 configurations" in err  # shown before anything is expanded
    assert f"more than the cap of {MAX_CONFIGURATIONS}" in err


def test_the_cap_is_a_flag_that_lifts_it(tmp_path, capsys):
    spec = SweepSpec.from_dict(TINY)
    assert spec.size == 4
    with pytest.raises(SweepFileError, match="4 configurations"):
        spec.points(3)
    assert len(spec.points(4)) == len(spec.points(None)) == 4
    with pytest.raises(SweepFileError, match="cap of 3"):
        run_sweep(TINY, tmp_path / "a", executor="serial", progress=False, max_configurations=3)
    assert not (tmp_path / "a").exists()
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--dry-run",
                 "--max-configurations", "3"]) == 2  # fmt: skip
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--dry-run",
                 "--max-configurations", "none"]) == 0  # fmt: skip
    assert "sweep tiny: 4 configurations (2 noise_std x 2 step_size.gamma)" in (
        capsys.readouterr().err
    )


# ---------------------------------------------------------------------------------- processes
@linux_only
def test_ctrl_c_starts_no_new_configuration_and_the_table_says_what_finished(tmp_path):
    """Ctrl-C (SIGINT to the terminal's process group) on a 2-worker pool running 4 long
    configurations, each alone (--no-batch; a batch: test_sweep_batched.py): the 2 running
    ones stop with a checkpoint, the other 2 never start, and
    sweep.csv says so. Meanwhile a --resume of the live sweep is refused."""
    path = _long_sweep(tmp_path / "long.yaml", [4e7], [1, 2, 3, 4])
    out = tmp_path / "s"
    driver = _hic("sweep", str(path), "--out", str(out), "--workers", "2", "--no-progress",
                  "--checkpoint-seconds", "0.5", "--no-batch")  # fmt: skip
    try:
        _wait_for(lambda: len(_checkpointed(out)) == 2, 120, "two running configurations", driver)
        second = _hic("sweep", "--resume", "--out", str(out), "--no-progress")
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2 and "being written by another process" in err
        os.killpg(driver.pid, signal.SIGINT)
        _, err = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    assert driver.returncode == 130, err
    assert "2 interrupted with a checkpoint" in err and "2 not started" in err
    started = {p.name for p in out.iterdir() if p.is_dir()}
    assert len(started) == 2  # before: the pool started a third configuration and waited
    status = _csv_status(out)
    assert sorted(status.values()) == ["interrupted", "interrupted", "pending", "pending"]
    assert {n for n, s in status.items() if s == "interrupted"} == started
    summary = load_sweep_summary(out)
    assert summary["counts"]["interrupted"] == 2 and summary["counts"]["pending"] == 2


@linux_only
def test_pool_workers_die_with_a_killed_driver_and_the_resume_is_not_blocked(tmp_path):
    """SIGKILL the driver while its workers run: they exit within seconds (they lived on for
    46 minutes and held their run directories' locks); the finished configurations are in the
    record though sweep.json was not rewritten; the next --resume runs the others."""
    path = _long_sweep(tmp_path / "long.yaml", [2000, 4e7], [1, 2])
    out = tmp_path / "s"
    driver = _hic("sweep", str(path), "--out", str(out), "--workers", "2", "--no-progress",
                  "--checkpoint-seconds", "0.5", "--no-batch")  # fmt: skip
    try:
        long_dirs = lambda: [d for d in _checkpointed(out) if "stages=40000000" in d.name]  # noqa: E731
        _wait_for(lambda: len(long_dirs()) == 2, 120, "the two long configurations", driver)
        workers = _workers_of(driver.pid)
        assert len(workers) == 2
        os.killpg(driver.pid, signal.SIGKILL)  # the driver only: the workers are not in it
        driver.wait(timeout=30)
        _wait_for(lambda: not any(_alive(p) for p in workers), 30, "the workers to exit")
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    on_disk = json.loads((out / "sweep.json").read_text())
    assert [c["status"] for c in on_disk["configurations"]] == ["pending"] * 4
    summary = load_sweep_summary(out)  # sweep.json plus the appended record
    assert [c["status"] for c in summary["configurations"]] == [
        "finished", "finished", "pending", "pending"
    ]  # fmt: skip
    stage = {d: _checkpoint_stage(d) for d in long_dirs()}
    resume = _hic("sweep", "--resume", "--out", str(out), "--workers", "2", "--no-progress",
                  "--checkpoint-seconds", "0.5")  # fmt: skip
    try:
        _wait_for(
            lambda: all(_checkpoint_stage(d) > s for d, s in stage.items()),
            120,
            "the resumed configurations to advance",
            resume,
        )
        os.killpg(resume.pid, signal.SIGINT)
        _, err = resume.communicate(timeout=120)
    finally:
        if resume.poll() is None:
            os.killpg(resume.pid, signal.SIGKILL)
    assert resume.returncode == 130, err
    assert "2 finished (2 already done), 2 interrupted" in err
    assert "being written" not in err and "failed" not in _csv_status(out).values()


def _checkpoint_stage(run_dir: Path) -> int:
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return -1
    return (summary.get("current") or summary.get("final") or {}).get("stage") or -1


def test_ctrl_c_on_a_serial_sweep_writes_what_finished(tmp_path, monkeypatch):
    """SIGINT in the driver's own run (serial, each configuration alone): that configuration
    stops with a checkpoint (run_experiment's Interrupted, a KeyboardInterrupt), no other
    starts, and the files say so (a batch: test_sweep_batched.py)."""
    real = executors.run_experiment
    ran = []

    def second_is_interrupted(config, out, **kwargs):
        ran.append(out.name)
        if len(ran) == 2:
            raise Interrupted(1000)
        return real(config, out, **kwargs)

    monkeypatch.setattr(executors, "run_experiment", second_is_interrupted)
    out = tmp_path / "s"
    with pytest.raises(SweepInterrupted) as info:
        run_sweep(TINY, out, executor="serial", progress=False, batch=False)
    assert len(ran) == 2
    counts = info.value.summary["counts"]
    assert (counts["finished"], counts["interrupted"], counts["pending"]) == (1, 1, 2)
    assert sorted(_csv_status(out).values()) == ["finished", "interrupted", "pending", "pending"]
    assert load_sweep_summary(out)["counts"] == counts


def test_the_write_measuring_script_runs(tmp_path):
    script = Path(__file__).resolve().parents[2] / "scripts" / "sweep_store_writes.py"
    out = subprocess.run(
        [sys.executable, str(script), "3"], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("N=3: sweep.csv ") and "sweep.jsonl (appended)" in out


def test_two_sweeps_started_together_one_runs_the_other_is_refused(tmp_path):
    """Both drivers start at once into one fresh directory (they crashed on a shared temporary
    file in 2 of 4 tries): exactly one runs the sweep, the other exits 2 saying why."""
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY, sort_keys=False))
    out = tmp_path / "s"
    argv = ("sweep", str(path), "--out", str(out), "--executor", "serial", "--no-progress")
    procs = [_hic(*argv), _hic(*argv)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    results = [(p.returncode, e) for p, e in zip(procs, errs, strict=True)]
    codes = sorted(rc for rc, _ in results)
    assert codes == [0, 2], results
    (err,) = [e for rc, e in results if rc == 2]
    assert "being written by another process" in err or "already holds a sweep" in err
    assert load_sweep_summary(out)["counts"]["finished"] == 4
    assert no_temp_files(out)
