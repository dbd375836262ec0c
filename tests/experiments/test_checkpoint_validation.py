"""Damaged, forged and foreign checkpoints (issue 17): each is refused by ``hic run --resume``
with ``hic run: error:`` naming the file and the field, exit status 2, and nothing in the
directory changed; a FIFO, a zip bomb or a huge declared array is refused before anything is
expanded."""

from __future__ import annotations

import io
import json
import os
import signal
import tracemalloc
import zipfile

import numpy as np
import pytest

from agents import catalog
from agents.compose.cli import main
from agents.compose.experiments.experiment import ExperimentConfig, run_experiment
from agents.compose.experiments.results import arrays_digest, config_digest, read_checkpoint

ARGS = ["--seeds", "3", "--stages", "2000", "--seed", "3", "--noise-std", "1"]
ARGS += ["--max-cycles", "300", "--record", "log:1", "--commitment", "5"]
ARGS += ["--step-size", "power:a=0.01,gamma=0.6", "--chunk", "200", "--checkpoint-seconds", "0"]


def _run(out, stages="2000", env="hic/Duopoly-v0", extra=()):
    argv = ["run", env, "--out", str(out), *ARGS, "--no-progress", *extra]
    argv[argv.index("--stages") + 1] = stages
    assert main(argv) == 0


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A run of the command line's config stopped half way (stage 1000 of 2000)."""
    whole = tmp_path_factory.mktemp("whole") / "run"
    _run(whole)
    cfg = ExperimentConfig.from_dict(_load(whole / "checkpoint.npz")[1]["config"])
    half = tmp_path_factory.mktemp("half") / "run"

    def stop_at_1000(info):
        if info["stage"] >= 1000:
            raise KeyboardInterrupt  # after the chunk's checkpoint

    with pytest.raises(KeyboardInterrupt):
        run_experiment(cfg, half, progress=False, chunk=200, checkpoint_seconds=0.0,
                       on_chunk=stop_at_1000)  # fmt: skip
    return half


def _load(path):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    return arrays, meta


def _save(path, arrays, meta, rebind=False):
    """Write a crafted checkpoint; ``rebind`` recomputes the digests (a careful forger)."""
    meta = dict(meta)
    if rebind:
        meta["arrays_sha256"] = arrays_digest(arrays)
        meta["config_sha256"] = config_digest(meta["config"])
    buf = io.BytesIO()
    np.savez(buf, **arrays, __meta__=np.array(json.dumps(meta)))
    path.write_bytes(buf.getvalue())


def _copy(src, dst):
    dst.mkdir()
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def _snapshot(d):
    return {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}


def _edit(fn, rebind=False):
    def damage(d):
        arrays, meta = _load(d / "checkpoint.npz")
        fn(arrays, meta)
        _save(d / "checkpoint.npz", arrays, meta, rebind)

    return damage


def _set(key, value):
    def fn(arrays, meta):
        arrays[key] = value(arrays[key]) if callable(value) else value

    return fn


def _meta(key, value):
    def fn(arrays, meta):
        meta[key] = value(meta[key]) if callable(value) else value

    return fn


def _both(fn1, fn2):
    def fn(arrays, meta):
        fn1(arrays, meta)
        fn2(arrays, meta)

    return fn


def _delete(key):
    def fn(arrays, meta):
        del arrays[key]

    return fn


def _noise5(arrays, meta):
    meta["config"] = {**meta["config"], "noise_std": 5.0}


def _huge_member(d):
    """A member whose header declares 1e12 float64 (8 TB) with a few bytes of data."""
    arrays, meta = _load(d / "checkpoint.npz")
    buf = io.BytesIO()
    np.savez(buf, **{k: v for k, v in arrays.items() if k != "leader/x"},
             __meta__=np.array(json.dumps(meta)))  # fmt: skip
    with zipfile.ZipFile(buf, "a") as z:
        hdr = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            hdr, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
        )
        z.writestr("leader/x.npy", hdr.getvalue() + b"\0" * 64)
    (d / "checkpoint.npz").write_bytes(buf.getvalue())


def _zip_bomb(d, key="leader/x", nbytes=256 << 20):
    """``key`` replaced by 256 MiB of zeros deflated to a fraction of a MB."""
    arrays, meta = _load(d / "checkpoint.npz")
    shape = arrays[key].shape
    path = d / "checkpoint.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in {**arrays, "__meta__": np.array(json.dumps(meta))}.items():
            if k == key:
                continue
            b = io.BytesIO()
            np.lib.format.write_array(b, v, allow_pickle=False)
            z.writestr(k + ".npy", b.getvalue())
        with z.open(key + ".npy", "w", force_zip64=True) as f:
            # the right dtype and shape in the header, 256 MiB of data behind it
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": shape}
            )
            zeros = bytes(1 << 20)
            for _ in range(nbytes >> 20):
                f.write(zeros)
    assert path.stat().st_size < 2 << 20


def _foreign(tmp_root):
    """A checkpoint (and CSV) of a d = 3 run spliced into a d = 1 run."""

    def damage(d):
        other = tmp_root / "foreign"
        if not other.exists():
            _run(other, stages="600", env="hic/RandomQuadratic-v0",
                 extra=("--game-kwarg", "d1=3", "--game-kwarg", "d2=3"))  # fmt: skip
        (d / "checkpoint.npz").write_bytes((other / "checkpoint.npz").read_bytes())

    return damage


def _fifo(d):
    (d / "checkpoint.npz").unlink()
    os.mkfifo(d / "checkpoint.npz")


# name: (damage, resume with the ID and options too, what the message names)
CASES = {
    "float32-strategies": (
        _edit(_set("leader/x", lambda a: a.astype(np.float32))),
        False,
        "field 'leader/x' has dtype float32",
    ),
    "int64-strategies": (
        _edit(_set("leader/x", lambda a: a.astype(np.int64))),
        False,
        "field 'leader/x' has dtype int64",
    ),
    "float16-strategies": (
        _edit(_set("leader/x", lambda a: a.astype(np.float16))),
        False,
        "field 'leader/x' has dtype float16",
    ),
    "strategies-outside-the-box": (
        _edit(_set("leader/x", lambda a: a + 1e6)),
        False,
        "field 'arrays_sha256'",
    ),
    "strategies-outside-the-box-rebound": (
        _edit(_set("leader/x", lambda a: a + 1e6), True),
        False,
        "strategies (fields 'leader/...') lie outside",
    ),
    "nan-strategies-rebound": (
        _edit(_set("leader/x", lambda a: a * np.nan), True),
        False,
        "field 'leader/x' holds NaN",
    ),
    "stage-0": (
        _edit(_both(_set("stage", np.int64(0)), _meta("stage", 0)), True),
        False,
        "field 'stage' is 0, but updates.csv records an update at stage",
    ),
    "stage-minus-5": (
        _edit(_both(_set("stage", np.int64(-5)), _meta("stage", -5)), True),
        False,
        "field 'stage' must be a non-negative integer",
    ),
    "stage-1e15": (
        _edit(_both(_set("stage", np.int64(10**15)), _meta("stage", 10**15)), True),
        False,
        "field 'stage' is 1000000000000000, beyond the run's 2000 stages",
    ),
    "stage-arrays-only": (
        _edit(_set("stage", np.int64(7)), True),
        False,
        "field 'stage' is 7 in the arrays",
    ),
    "n_seen-beyond-stage": (
        _edit(_set("n_seen", lambda a: a + 10**6), True),
        False,
        "field 'n_seen' counts",
    ),
    "negative-count": (
        _edit(_set("leader/n", lambda a: a - 10**6), True),
        False,
        "field 'leader/n' holds a negative count",
    ),
    "csv-bytes-0": (_edit(_meta("csv_bytes", 0)), False, "field 'csv_bytes' is 0"),
    "csv-bytes-moved": (
        _edit(_meta("csv_bytes", lambda b: b - 10)),
        False,
        "field 'csv_sha256' does not match",
    ),
    "csv-bytes-string": (_edit(_meta("csv_bytes", "12")), False, "field 'csv_bytes' must be"),
    "config-noise-1-to-5": (_edit(_noise5), False, "field 'config' does not match its recorded"),
    "config-noise-1-to-5-with-id": (_edit(_noise5), True, "different config (fields ['noise"),
    "foreign-game": (None, False, "field 'csv_bytes' is"),
    "foreign-game-with-id": (None, True, "different config"),
    "missing-key": (_edit(_delete("leader/rng"), True), False, "field 'leader/rng' is missing"),
    "missing-meta-key": (_edit(_meta("elapsed", None)), False, "field 'elapsed' must be"),
    "scalar-for-array": (
        _edit(_set("n_seen", np.int64(3)), True),
        False,
        "field 'n_seen' has shape ()",
    ),
    "wrong-shape": (
        _edit(_set("leader/x", lambda a: np.zeros((7, 1))), True),
        False,
        "field 'leader/x' has shape (7, 1), this run expects (3, 1)",
    ),
    "unknown-key": (
        _edit(_set("leader/evil", np.zeros(3)), True),
        False,
        "field 'leader/evil' is not part of this run's state",
    ),
    "declares-1e12-elements": (_huge_member, False, "field 'leader/x' has shape (1000000000000,)"),
    "old-format-1": (_edit(_meta("version", 1)), False, "checkpoint format 1"),
    "fifo": (_fifo, False, "checkpoint.npz is a named pipe (FIFO), not a regular file"),
}


def _hung(signum, frame):
    raise AssertionError("hic run --resume hung")


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_crafted_checkpoint_is_refused_naming_the_field(name, pristine, tmp_path, capsys):
    damage, with_id, needle = CASES[name]
    if damage is None:
        damage = _foreign(tmp_path)
    d = _copy(pristine, tmp_path / "run")
    damage(d)
    before = _snapshot(d)
    argv = ["run", "--resume", "--out", str(d), "--no-progress"]
    if with_id:
        argv = ["run", "hic/Duopoly-v0", *argv[1:], *ARGS]
    old = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(60)  # a FIFO that blocked would hang here: fail instead
    try:
        code = main(argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("hic run: error:") and needle in err and "Traceback" not in err, err
    assert "checkpoint.npz" in err or "different config" in err, err
    assert _snapshot(d) == before  # nothing overwritten


def test_the_pristine_checkpoint_resumes_to_the_uninterrupted_files(pristine, tmp_path):
    d = _copy(pristine, tmp_path / "run")
    assert main(["run", "--resume", "--out", str(d), "--no-progress"]) == 0
    whole = tmp_path / "whole"
    _run(whole)
    assert (d / "updates.csv").read_bytes() == (whole / "updates.csv").read_bytes()


def test_a_zip_bomb_is_refused_before_it_is_expanded(pristine, tmp_path, capsys):
    d = _copy(pristine, tmp_path / "run")
    _zip_bomb(d)
    tracemalloc.start()
    try:
        code = main(["run", "--resume", "--out", str(d), "--no-progress"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert code == 2 and "field 'leader/x' declares 24 bytes of data but its zip entry" in err, err
    assert peak < 64 << 20, peak  # 256 MiB were never expanded


def test_read_checkpoint_bounds_members_without_a_schema(pristine, tmp_path):
    d = _copy(pristine, tmp_path / "run")
    _huge_member(d)
    with pytest.raises(ValueError, match="declares 8000000000000 bytes"):
        read_checkpoint(d / "checkpoint.npz")


PAIRS = [(L, F) for L in sorted(catalog.LEADERS) for F in sorted(catalog.FOLLOWERS)]


@pytest.mark.parametrize(("leader", "follower"), PAIRS)
def test_every_learner_pairs_checkpoint_passes_the_checks(leader, follower, tmp_path):
    """The checks refuse nothing that a run wrote: stopped at stage 600 (entries that appear
    only once play starts included), every pair resumes to the uninterrupted files."""
    cfg = ExperimentConfig(
        "hic/RandomQuadratic-v0", seeds=2, stages=1500, leader=leader, follower=follower,
        noise_std=0.3,
    )  # fmt: skip
    kw = dict(progress=False, chunk=300, checkpoint_seconds=0.0)

    def stop(info):
        if info["stage"] >= 600:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiment(cfg, tmp_path / "a", on_chunk=stop, **kw)
    run_experiment(cfg, tmp_path / "a", resume=True, **kw)
    run_experiment(cfg, tmp_path / "b", **kw)
    assert (tmp_path / "a/updates.csv").read_bytes() == (tmp_path / "b/updates.csv").read_bytes()
