"""hic sweep on a real local Ray cluster (one per module): the ray executor gives the serial
executor's files, keeps a failing configuration's error without losing the others, resumes,
and brings a user game to its workers."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest
from sweep_cases import TINY, USER_GAME, WITH_FAILURE, no_temp_files, run_files

from agents.compose.sweeps import SweepSpec, run_sweep

ray = pytest.importorskip("ray", reason="ray is not installed (the ray extra)")

EXAMPLE = Path(__file__).resolve().parents[2] / "scripts" / "sweep_example.yaml"


@pytest.fixture(scope="module", autouse=True)
def ray_cluster():
    # A short temporary path: Ray's Unix sockets live there, limited to 107 bytes.
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=100 * 2**20,
        _temp_dir=f"/tmp/ray{os.getpid()}",
    )
    yield
    ray.shutdown()


@pytest.fixture
def fresh_user_module():
    sys.modules.pop("usergame_for_sweep", None)
    yield
    sys.modules.pop("usergame_for_sweep", None)


@pytest.fixture(scope="module")
def serial_tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "serial"
    run_sweep(TINY, out, executor="serial", progress=False)
    return out


# JAX warns at any os.fork() once it is imported; Ray starts its processes with
# subprocess (fork, then exec at once), which that warning does not concern.
@pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")
def test_ray_executor_gives_the_serial_results(serial_tiny, tmp_path):
    out = tmp_path / "ray"
    summary = run_sweep(TINY, out, executor="ray", progress=False)
    assert summary["counts"] == {
        "finished": 4,
        "failed": 0,
        "interrupted": 0,
        "skipped": 0,
        "pending": 0,
    }
    assert run_files(out) == run_files(serial_tiny)
    assert no_temp_files(out)
    # The connection the test opened is used, not replaced or shut down.
    assert ray.is_initialized()


def test_ray_keeps_a_failure_and_the_other_results(tmp_path):
    out = tmp_path / "f"
    summary = run_sweep(WITH_FAILURE, out, executor="ray", workers=2, progress=False)
    assert [c["status"] for c in summary["configurations"]] == ["finished", "failed", "finished"]
    kept = json.loads((out / "sweep.json").read_text())["configurations"][1]
    assert "beta * mu = 1000" in kept["error"]


def test_ray_resume_skips_finished_configurations(serial_tiny, tmp_path):
    out = tmp_path / "r"
    points = SweepSpec.from_dict(TINY).points()
    first = run_sweep({**TINY, "grid": {"step_size.gamma": [0.602]}}, out, executor="ray",
                      progress=False)  # fmt: skip
    assert first["counts"]["finished"] == 2
    before = {c["dir"]: (out / c["dir"] / "updates.csv").stat().st_mtime_ns
              for c in first["configurations"]}  # fmt: skip
    assert len(before) == 2 and not set(before) & {p.name for p in points}
    # The edited file names configurations by two keys, not one: the finished ones are found
    # by their hash and keep their directories.
    summary = run_sweep(TINY, out, executor="ray", resume=True, progress=False)
    assert summary["counts"] == {
        "finished": 4,
        "failed": 0,
        "interrupted": 0,
        "skipped": 2,
        "pending": 0,
    }
    assert len([d for d in out.iterdir() if d.is_dir()]) == 4
    for name, mtime in before.items():
        assert (out / name / "updates.csv").stat().st_mtime_ns == mtime
    assert sorted(run_files(out).values()) == sorted(run_files(serial_tiny).values())


def test_a_user_game_reaches_ray_workers(tmp_path, fresh_user_module):
    # A fresh Ray worker cannot find the module by itself: its directory is on this process's
    # path only (pytest put it there), so the sweep must hand its path to the workers. (A
    # runtime_env of its own makes Ray start a new worker, not reuse one that ran a sweep.)
    @ray.remote(num_cpus=1)
    def findable() -> bool:
        return importlib.util.find_spec("usergame_for_sweep") is not None

    fresh = findable.options(runtime_env={"env_vars": {"HIC_SWEEP_TEST_FRESH": "1"}})
    assert ray.get(fresh.remote()) is False
    out = tmp_path / "u"
    summary = run_sweep(USER_GAME, out, executor="ray", progress=False)
    assert [c["status"] for c in summary["configurations"]] == ["finished", "finished"]
    for c, target in zip(summary["configurations"], (0.0, 2.0), strict=True):
        run = json.loads((out / c["dir"] / "summary.json").read_text())
        assert run["config"]["env_id"] == "mylab/SweepTarget-v0"
        assert run["game"]["stackelberg"]["x"] == pytest.approx([(target + 1) / 2], abs=1e-9)


def test_the_readme_example_runs_on_ray(tmp_path):
    summary = run_sweep(EXAMPLE, tmp_path / "example", executor="ray", progress=False)
    assert summary["counts"]["finished"] == 4
