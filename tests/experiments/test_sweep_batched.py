"""Batched sweeps: per-configuration random streams (RowStreams, runner Blocks), the
vectorised PerRow, and a configuration that gives the same bits alone (``hic run``) and inside
any batch, through the sweep's executors, a failure, Ctrl-C and --resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from sweep_cases import TINY, run_files, run_summary_without_timing

from agents import catalog
from agents.compose.engines.runner import BatchRunner, Block, make_runner
from agents.compose.experiments.experiment import (
    ExperimentConfig,
    run_experiment,
    write_batched_run,
)
from agents.compose.experiments.results import RunDirError, read_checkpoint
from agents.compose.sweeps import (
    DamagedRunWarning,
    SweepInterrupted,
    batch_groups,
    load_sweep,
    run_sweep,
)
from agents.compose.sweeps import batched as batched_mod
from agents.compose.sweeps.batched import group_tasks, play_group
from agents.rules.protocol import Draw, RowStreams, capabilities_of, draw_numpy
from agents.schedules import Constant, PerRow, PowerLaw, ScheduleTable
from hic_envs.registration import game_from_id

STUDY = Path(__file__).resolve().parents[2] / "scripts" / "sweep_study.yaml"


# ---------------------------------------------------------------------------------- streams
def test_row_streams_draw_each_block_as_a_batch_of_that_block_alone():
    sizes, seeds = (3, 1, 4), (11, 12, 13)
    mask = np.array([1, 0, 1, 1, 0, 1, 1, 0], dtype=bool)
    requests = (
        Draw("u", "rademacher", (2,), rows=mask),
        Draw("v", "normal", (3,), scale=0.5),
        Draw("w", "uniform", (1,), rows=~mask, low=-1.0, high=2.0),
    )
    got = draw_numpy(RowStreams.from_seeds(seeds, sizes), requests, 8)
    start = 0
    for seed, n in zip(seeds, sizes, strict=True):
        sl = slice(start, start + n)
        sub = tuple(
            Draw(r.name, r.kind, r.shape, None if r.rows is None else r.rows[sl], r.loc,
                 r.scale, r.low, r.high)
            for r in requests
        )  # fmt: skip
        alone = draw_numpy(np.random.default_rng(seed), sub, n)
        for name in ("u", "v", "w"):
            want = alone.get(name, np.zeros((n, *got[name].shape[1:])))
            assert np.array_equal(got[name][sl], want), (name, seed)
        start += n
    one = draw_numpy(RowStreams.from_seeds([5], [8]), requests, 8)
    plain = draw_numpy(np.random.default_rng(5), requests, 8)
    assert all(np.array_equal(one[k], plain[k]) for k in plain) and one.keys() == plain.keys()


def test_row_streams_refuse_bad_blocks():
    with pytest.raises(ValueError, match="positive block sizes"):
        RowStreams.from_seeds([1, 2], [3])
    with pytest.raises(ValueError, match="positive block sizes"):
        RowStreams.from_seeds([1], [0])
    with pytest.raises(ValueError, match="RowStreams of 3 rows for a batch of 4"):
        draw_numpy(RowStreams.from_seeds([1], [3]), (Draw("v", "normal", (1,)),), 4)


def test_per_row_is_vectorised_and_gives_each_rows_schedule_values():
    rows = (PowerLaw(a=1.0, gamma=0.602, A=100.0), 5, PowerLaw(a=1.0, gamma=0.602, A=100.0),
            PowerLaw(a=0.3, gamma=1.0), Constant(2.0))  # fmt: skip
    """Each row reads what a run of its schedule alone reads (the schedule's table,
    :class:`~agents.schedules.ScheduleTable`; a 0-d call of a power law may differ in the
    last bit from the vectorised one, so the table is the reference)."""
    s = PerRow(rows)
    n = np.array([0, 7, 12345, 3, 99], dtype=np.int64)
    want = [ScheduleTable(sch)(np.array([i]))[0] for sch, i in zip(s.schedules, n, strict=True)]
    assert np.array_equal(s(n), np.array(want))
    assert np.array_equal(
        s(4), np.array([ScheduleTable(sch)(np.array([4]))[0] for sch in s.schedules])
    )
    assert len(s._groups) == 4  # the equal power laws share one table


# ---------------------------------------------------------------------------------- bits
def _small(p, seeds: int, stages: int = 3000) -> ExperimentConfig:
    return ExperimentConfig.from_dict({**p.config.to_dict(), "seeds": seeds, "stages": stages})


def _write_group(configs, out: Path, tag: str) -> None:
    def on_block(i, body, final, wall):
        write_batched_run(configs[i], out / f"{tag}{i}", body, final, wall)

    play_group(configs, on_block)


def _same_checkpoint(a: Path, b: Path) -> None:
    """The checkpoints of two runs hold the same arrays, key by key and bit for bit, and the
    same metadata but for ``elapsed`` (wall time)."""
    sa, ma = read_checkpoint(a / "checkpoint.npz")
    sb, mb = read_checkpoint(b / "checkpoint.npz")
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k].dtype == sb[k].dtype and sa[k].shape == sb[k].shape, k
        assert np.array_equal(sa[k], sb[k], equal_nan=sa[k].dtype.kind == "f"), k
    ma.pop("elapsed"), mb.pop("elapsed")
    assert ma == mb


def _same_run(a: Path, b: Path) -> None:
    """``hic run``'s files: the same bytes of updates.csv, the same summary but for the
    timing, the same checkpoint but for its wall time, and no other file."""
    assert (a / "updates.csv").read_bytes() == (b / "updates.csv").read_bytes()
    assert run_summary_without_timing(a) == run_summary_without_timing(b)
    _same_checkpoint(a, b)
    names = {"updates.csv", "summary.json", "checkpoint.npz"}
    assert {p.name for p in a.iterdir()} == {p.name for p in b.iterdir()} == names


@pytest.mark.parametrize("group", range(4))
def test_a_configuration_gives_the_same_bits_alone_and_in_any_batch(group, tmp_path):
    """The study's four groups (per-row step-size and perturbation exponents, commitments 5
    and 50 or Corollary 4.11's, noise 0 and 1), 6 configurations each with 2-4 seeds: each
    configuration's files from the batch equal `run_experiment`'s alone (the checkpoint's
    arrays key by key, timing aside), and a batch of the same configurations in reverse
    order, of other sizes, gives them again."""
    points = batch_groups(load_sweep(STUDY).points())[group][::5][:6]
    configs = [_small(p, 2 + i % 3) for i, p in enumerate(points)]
    _write_group(configs, tmp_path, "b")
    _write_group(configs[::-1][:4], tmp_path, "r")
    for i, c in enumerate(configs):
        run_experiment(c, tmp_path / f"a{i}", progress=False)
        _same_run(tmp_path / f"a{i}", tmp_path / f"b{i}")
    for j in range(4):
        _same_run(tmp_path / f"a{len(configs) - 1 - j}", tmp_path / f"r{j}")


def test_batched_and_unbatched_sweeps_write_the_same_runs(tmp_path):
    spec = {**TINY, "grid": {"step_size.gamma": [0.602, 0.8], "commitment": [3, 9]}}
    a = run_sweep(spec, tmp_path / "a", executor="serial", progress=False, batch=False)
    b = run_sweep(spec, tmp_path / "b", executor="serial", progress=False)
    assert a["counts"]["finished"] == b["counts"]["finished"] == 8
    assert run_files(tmp_path / "a") == run_files(tmp_path / "b")
    for c in b["configurations"]:
        _same_run(tmp_path / "a" / c["dir"], tmp_path / "b" / c["dir"])
    for ea, eb in zip(a["configurations"], b["configurations"], strict=True):
        assert ea["final"] == eb["final"]


def test_hic_run_resumes_a_batched_run_from_its_checkpoint(tmp_path):
    """`hic run --resume` of a batched sweep's run reads its checkpoint (checked against the
    run: config, arrays and CSV digests) and finds it finished: the CSV and the checkpoint's
    arrays stay what they were, and the summary is the same but for the timing."""
    summary = run_sweep(TINY, tmp_path / "s", executor="serial", progress=False)
    run_dir = tmp_path / "s" / summary["configurations"][0]["dir"]
    before = tmp_path / "before"
    shutil.copytree(run_dir, before)
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [sys.executable, "-m", "agents.compose.cli", "run", "--resume", "--out", str(run_dir),
           "--no-progress"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    _same_run(before, run_dir)


def test_a_batched_runs_checkpoint_continues_as_its_run_alone():
    """A block's state (what a batched sweep writes as the run's checkpoint), loaded into a
    runner of that configuration alone, plays on exactly as the run alone plays on: the same
    records and the same state, bit for bit, after more stages (the Hi-C leader's reductions
    over rows, ``updates`` and ``next_event``, are made again over the block's rows)."""
    points = batch_groups(load_sweep(STUDY).points())[3][::7][:3]
    configs = [_small(p, s, stages=1500) for p, s in zip(points, (2, 3, 1), strict=True)]
    states: dict[int, dict] = {}
    play_group(configs, lambda i, body, final, wall: states.__setitem__(i, final.state))
    for i, c in enumerate(configs):
        game, leader, follower = c.build()
        whole = make_runner(game, leader, follower, c.seed, noise_std=c.noise_std,
                            max_cycles=c.max_cycles, record="all")  # fmt: skip
        whole.run(1500)
        game, leader, follower = c.build()
        resumed = make_runner(game, leader, follower, c.seed, noise_std=c.noise_std,
                              max_cycles=c.max_cycles, record="all")  # fmt: skip
        resumed.load_state_dict(states[i])
        a, b = whole.run(2000), resumed.run(2000)
        for f in ("row", "update", "stage", "leader_strategies", "follower_strategies"):
            assert np.array_equal(getattr(a, f), getattr(b, f)), (i, f)
        sa, sb = whole.state_dict(), resumed.state_dict()
        assert sa.keys() == sb.keys()
        assert all(np.array_equal(sa[k], sb[k], equal_nan=True) for k in sa), i


def test_a_sweep_resume_finishes_a_batched_run_left_without_its_summary(tmp_path):
    """A batch stopped between writing a run's checkpoint and its summary: `--resume` runs
    that configuration alone from its checkpoint and writes the summary; its files are the
    ones a fresh sweep writes."""
    out = tmp_path / "s"
    summary = run_sweep(TINY, out, executor="serial", progress=False)
    cut = out / summary["configurations"][2]["dir"]
    (cut / "summary.json").unlink()
    resumed = run_sweep(TINY, out, executor="serial", progress=False, resume=True)
    assert resumed["counts"]["finished"] == 4 and resumed["counts"]["skipped"] == 3
    fresh = run_sweep(TINY, tmp_path / "f", executor="serial", progress=False)
    for c in fresh["configurations"]:
        _same_run(tmp_path / "f" / c["dir"], out / c["dir"])


_PAIRS = [(name, "gradient") for name in catalog.LEADERS if name != "hierarchical-cg"] + [
    ("hic", name) for name in catalog.FOLLOWERS if name != "gradient"
]


@pytest.mark.parametrize(("leader", "follower"), _PAIRS)
def test_each_blocks_state_is_its_run_alone_for_every_learner(leader, follower):
    """For every leader and follower of the catalog: a runner of three blocks (other seeds,
    row counts and noise) holds, for each block, the state (:meth:`BatchRunner.
    block_state_dict`) that a runner of that block alone holds (:meth:`state_dict`), key by
    key and bit for bit, after 400 stages in two chunks."""
    blocks = [Block(3, 2, 0.0), Block(11, 1, 0.5), Block(5, 3, 0.0)]
    game = game_from_id("hic/Quadratic-v0")
    S = sum(b.rows for b in blocks)
    f = catalog.make_follower(follower, game, S, {})
    ld = catalog.make_leader(leader, game, S, {}, partner=f)
    batch = BatchRunner(game, ld, f, record="none", blocks=blocks)
    batch.run(150), batch.run(250)
    for i, b in enumerate(blocks):
        f1 = catalog.make_follower(follower, game, b.rows, {})
        l1 = catalog.make_leader(leader, game, b.rows, {}, partner=f1)
        alone = BatchRunner(game, l1, f1, b.seed, noise_std=b.noise_std, record="none")
        alone.run(400)
        want, got = alone.state_dict(), batch.block_state_dict(i)
        assert want.keys() == got.keys(), (i, want.keys() ^ got.keys())
        for k in want:
            assert want[k].dtype == got[k].dtype and want[k].shape == got[k].shape, (i, k)
            assert np.array_equal(want[k], got[k], equal_nan=True), (i, k)


def test_a_learner_whose_rows_depend_on_each_other_is_not_batched(tmp_path):
    """The hierarchical CG leader's solver iterates every row until the last converges, so
    its rows depend on the batch: its rule set says so (``rows_independent=False``), a batch
    of several of its configurations is refused, and a sweep runs them one at a time, with
    hic run's files."""
    game = game_from_id("hic/Quadratic-v0")
    f = catalog.make_follower("gradient", game, 1, {})
    cg = catalog.make_leader("hierarchical-cg", game, 1, {}, partner=f)
    assert capabilities_of(cg).rows_independent is False
    others = [n for n in catalog.LEADERS if n != "hierarchical-cg"]
    for name in others:
        agent = catalog.make_leader(name, game, 1, {}, partner=f)
        caps = capabilities_of(agent)
        assert caps is None or caps.rows_independent, name
    base = {"env_id": "hic/Quadratic-v0", "leader": "hierarchical-cg", "seeds": 2,
            "stages": 300}  # fmt: skip
    configs = [ExperimentConfig(**base, seed=s) for s in (1, 2)]
    with pytest.raises(batched_mod.NotBatchable, match="rows depend on each other"):
        play_group(configs, lambda *a: None)
    spec = {"name": "cg", "base": base, "grid": {"seed": [1, 2]}}
    summary = run_sweep(spec, tmp_path / "s", executor="serial", progress=False)
    assert summary["counts"]["finished"] == 2
    for i, c in enumerate(summary["configurations"]):
        run_experiment(configs[i], tmp_path / f"a{i}", progress=False)
        _same_run(tmp_path / f"a{i}", tmp_path / "s" / c["dir"])


def test_block_state_dict_refuses_what_holds_no_blocks():
    game = game_from_id("hic/Quadratic-v0")
    f = catalog.make_follower("gradient", game, 2, {})
    ld = catalog.make_leader("hic", game, 2, {}, partner=f)
    plain = BatchRunner(game, ld, f, 0)
    with pytest.raises(ValueError, match="runner of several blocks"):
        plain.block_state_dict(0)
    with pytest.raises(ValueError, match="reset with RowStreams"):
        ld.block_state_dict(0)
    f = catalog.make_follower("gradient", game, 2, {})
    ld = catalog.make_leader("hic", game, 2, {}, partner=f)
    batch = BatchRunner(game, ld, f, blocks=[Block(1, 1), Block(2, 1)])
    with pytest.raises(ValueError, match=r"block must be one of 0\.\.1, got 2"):
        batch.block_state_dict(2)


def test_groups_are_split_into_chunks_that_fill_the_workers():
    points = load_sweep(STUDY).points()
    configs = {p.index: p.config for p in points}
    tasks = [{"index": p.index, "out_dir": f"/nonexistent/{p.name}"} for p in points]
    chunks = group_tasks(tasks, configs, workers=2)
    rows = [sum(configs[i].seeds for i in t["index"]) for t in chunks]
    assert sorted(i for t in chunks for i in t["index"]) == list(range(108))
    assert len(chunks) == 6 and max(rows) <= 3456 / 4
    assert len(group_tasks(tasks, configs, workers=0)) == 4  # serial: one batch per group


# ---------------------------------------------------------------------------------- failures
def test_a_failing_batch_runs_its_configurations_alone(tmp_path, monkeypatch):
    """A batch that fails (here: its player raises) is run again one configuration at a
    time, so the sweep still finishes every configuration, with hic run's files."""

    def broken(configs, on_block):
        raise FloatingPointError("a NaN in some configuration")

    monkeypatch.setattr(batched_mod, "play_group", broken)
    summary = run_sweep(TINY, tmp_path / "s", executor="serial", progress=False)
    assert summary["counts"]["finished"] == 4
    for c in summary["configurations"]:
        assert (tmp_path / "s" / c["dir"] / "checkpoint.npz").exists()  # run alone


def test_ctrl_c_in_a_batch_writes_nothing_and_resume_runs_it(tmp_path, monkeypatch):
    real = batched_mod.play_group

    def interrupted(configs, on_block):
        raise KeyboardInterrupt

    monkeypatch.setattr(batched_mod, "play_group", interrupted)
    out = tmp_path / "s"
    with pytest.raises(SweepInterrupted) as info:
        run_sweep(TINY, out, executor="serial", progress=False)
    counts = info.value.summary["counts"]
    assert (counts["finished"], counts["interrupted"]) == (0, 4)
    assert not list(out.glob("*/summary.json"))
    monkeypatch.setattr(batched_mod, "play_group", real)
    resumed = run_sweep(TINY, out, executor="serial", progress=False, resume=True)
    assert resumed["counts"]["finished"] == 4
    fresh = run_sweep(TINY, tmp_path / "f", executor="serial", progress=False)
    assert run_files(out) == run_files(tmp_path / "f")
    assert [c["final"] for c in fresh["configurations"]] == [
        c["final"] for c in resumed["configurations"]
    ]


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
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
            found.append(int(d.name))
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups, SIGINT")
def test_ctrl_c_on_a_pool_of_batches_stops_them_and_starts_no_other(tmp_path):
    """SIGINT to a 2-worker pool running long batches: the running batches stop, the others
    never start, nothing half-written is left and the driver exits 130."""
    spec = {
        "name": "long",
        "base": {"env_id": "hic/Duopoly-v0", "seeds": 2, "record": "none", "stages": 4e7},
        "grid": {"seed": [1, 2, 3, 4, 5, 6, 7, 8]},
    }
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    out = tmp_path / "s"
    driver = subprocess.Popen(
        [sys.executable, "-m", "agents.compose.cli", "sweep", str(path), "--out", str(out),
         "--workers", "2", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        # A batch writes nothing while it runs: wait until both pool workers have spent 5 s
        # of CPU time (start-up takes about 1 s), i.e. are inside their batches.
        t0 = time.monotonic()
        while len([p for p in _workers_of(driver.pid) if _cpu_seconds(p) > 5.0]) < 2:
            assert driver.poll() is None, driver.communicate()
            assert time.monotonic() - t0 < 300, "the two batches did not start"
            time.sleep(0.2)
        os.killpg(driver.pid, signal.SIGINT)
        _, err = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    assert driver.returncode == 130, err
    summary = json.loads((out / "sweep.json").read_text())
    status = [c["status"] for c in summary["configurations"]]
    assert status.count("interrupted") == 4 and status.count("pending") == 4, status
    assert not list(out.glob("*/summary.json"))


def test_a_worker_without_the_shared_file_system_returns_the_checkpoint_too(tmp_path):
    """A Ray worker on a node that does not see the sweep directory returns a finished run's
    files to the driver: the checkpoint with the CSV and the summary, batched or alone."""
    from agents.compose.sweeps import executors

    configs = [ExperimentConfig(env_id="hic/Duopoly-v0", seeds=2, stages=300, seed=s)
               for s in (1, 2)]  # fmt: skip
    members = [
        {"index": i, "config": c.to_dict(), "out_dir": str(tmp_path / f"b{i}"),
         "return_files": True}
        for i, c in enumerate(configs)
    ]  # fmt: skip
    out = batched_mod.run_group({"members": members}, executors._run_one)
    alone = executors._run_one(
        {**members[0], "out_dir": str(tmp_path / "a"), "sys_path": [], "imports": [],
         "checkpoint_seconds": 10.0}
    )  # fmt: skip
    for r in [*out["results"], alone]:
        assert r["status"] == "finished" and "unbatched" not in r
        assert list(r["files"]) == ["updates.csv", "checkpoint.npz", "summary.json"]
    assert alone["files"]["updates.csv"] == out["results"][0]["files"]["updates.csv"]
    _same_run(tmp_path / "a", tmp_path / "b0")


def test_resuming_a_finished_run_kept_without_a_checkpoint_says_it_is_finished(tmp_path):
    """A directory of a batched sweep of an earlier version (a finished run with no checkpoint,
    `files` naming only the CSV): --resume says there is nothing to resume, not --restart
    (which would play it again)."""
    c = ExperimentConfig(env_id="hic/Duopoly-v0", seeds=2, stages=300)
    captured = {}

    def keep(i, body, final, wall):
        final.state = None  # as such a sweep wrote it
        write_batched_run(c, tmp_path / "r", body, final, wall)
        captured["files"] = {p.name for p in (tmp_path / "r").iterdir()}

    play_group([c], keep)
    assert captured["files"] == {"updates.csv", "summary.json"}
    with pytest.raises(RunDirError, match="finished run written without a checkpoint") as err:
        run_experiment(c, tmp_path / "r", resume=True, progress=False)
    assert "--restart" not in str(err.value)


@pytest.mark.parametrize("batch", [True, False])
def test_a_damaged_finished_run_with_a_checkpoint_runs_again_from_the_start(batch, tmp_path):
    """A finished run whose CSV was truncated keeps a checkpoint that vouches for the whole
    CSV: `--resume` runs it again from the start (batched or alone), not from that checkpoint
    (which read_and_check would refuse), and writes the same files."""
    out = tmp_path / "s"
    summary = run_sweep(TINY, out, executor="serial", progress=False, batch=batch)
    run = out / summary["configurations"][1]["dir"]
    keep = tmp_path / "keep"
    shutil.copytree(run, keep)
    (run / "updates.csv").write_bytes((keep / "updates.csv").read_bytes()[:300])
    with pytest.warns(DamagedRunWarning, match="runs again"):
        resumed = run_sweep(TINY, out, executor="serial", progress=False, resume=True,
                            batch=batch)  # fmt: skip
    assert resumed["counts"]["finished"] == 4 and resumed["counts"]["skipped"] == 3
    _same_run(keep, run)
