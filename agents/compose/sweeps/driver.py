"""Running a sweep: expand the spec, skip what finished, hand the rest to an executor, and
keep the sweep's files up to date as configurations finish.

Configurations that differ only in per-row values run as one batch per group
(:mod:`~agents.compose.sweeps.batched`), the others (and all with ``batch=False``) one
:func:`agents.compose.experiments.experiment.run_experiment` each; every configuration is
written in ``hic run``'s layout under
``SWEEP_DIR/<readable-name>-<hash>/``, where ``<hash>`` is the first 12 hex digits of the
SHA-256 of the configuration's canonical JSON (:meth:`ExperimentConfig.to_dict`, sorted keys),
so ``hic plot`` works on each run directory and a configuration keeps its directory across
edits of the sweep file.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hic_envs
from agents.compose.experiments.results import atomic_write, lock_dir
from agents.compose.sweeps.batched import group_tasks
from agents.compose.sweeps.executors import (
    EXECUTORS,
    execute,
    prepare_worker,
    ray_connect,
    results_of,
)
from agents.compose.sweeps.spec import (
    MAX_CONFIGURATIONS,
    SweepFileError,
    SweepPoint,
    SweepSpec,
    independent_keys,
    load_sweep,
)
from agents.compose.sweeps.store import (
    CSV_SECONDS,
    RUN_CSV,
    RUN_SUMMARY,
    SWEEP_CSV,
    SWEEP_JSON,
    append_result,
    dirs_by_hash,
    finished_summary,
    load_sweep_summary,
    summary_digest,
    write_sweep_csv,
    write_sweep_files,
)
from hic_envs.suggest import did_you_mean

__all__ = ["DamagedRunWarning", "SweepInterrupted", "run_sweep"]


class DamagedRunWarning(UserWarning):
    """A resumed sweep found a finished configuration's run files damaged (a garbled
    ``summary.json``, a truncated ``updates.csv``) and runs that configuration again."""


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C (SIGINT) after writing its files.

    Attributes:
        summary: the sweep summary as written (``counts`` says what finished, what was
            interrupted with a checkpoint and what never started).
    """

    def __init__(self, summary: dict[str, Any]) -> None:
        super().__init__("sweep interrupted")
        self.summary = summary


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for pkg in ("hic-envs", "numpy", "ray"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run_sweep(
    spec_or_path: SweepSpec | Mapping[str, Any] | str | os.PathLike,
    out_dir: str | os.PathLike,
    executor: str = "process",
    workers: int | None = None,
    address: str | None = None,
    resume: bool = False,
    progress: bool = True,
    *,
    checkpoint_seconds: float = 10.0,
    max_configurations: int | None = MAX_CONFIGURATIONS,
    batch: bool = True,
) -> dict[str, Any]:
    """Run every configuration of a sweep, writing each run and the sweep's table.

    Args:
        spec_or_path: a :class:`SweepSpec`, a parsed sweep file (dict) or a YAML file's path.
        out_dir: the sweep directory (created if needed).
        executor: ``"serial"``, ``"process"`` or ``"ray"``.
        workers: processes (``process``; default ``os.cpu_count()``), or the most Ray tasks in
            flight and the CPUs of a local Ray cluster this starts (``ray``; default: all
            tasks at once on every CPU of the cluster). Ignored by ``serial``.
        address: ``ray`` only: None (``ray.init()``: start a local cluster, or join one
            started on this machine), ``"auto"`` (join the cluster started here with
            ``ray start``) or ``"ray://HOST:PORT"`` (Ray Client; needs ``ray[client]``). When
            Ray is already initialised in this process, that connection is used as it is.
        resume: continue a sweep in ``out_dir``: configurations whose run finished are
            skipped, partial ones resume from their checkpoints, failed and pending ones run;
            a finished one whose run files are damaged runs again, with a
            :class:`DamagedRunWarning` naming the file.
            Without it, ``out_dir`` must not hold a sweep or any of its run directories.
        progress: a progress bar over configurations (done / total, rate, ETA, failures).
        checkpoint_seconds: each run's checkpoint interval (``hic run --checkpoint-seconds``).
        max_configurations: refuse a sweep of more configurations than this (None: no cap),
            checked before any configuration is built (:meth:`SweepSpec.points`).
        batch: run the configurations that differ only in per-row values as one engine run
            each group (:mod:`~agents.compose.sweeps.batched`; the same files, checkpoint
            included, bit for bit but for the timing); False runs every configuration alone
            (checkpointed every ``checkpoint_seconds`` while it runs, so a stopped one
            resumes midway).

    Returns:
        The sweep summary (what ``sweep.json`` holds): ``configurations`` (one entry per
        configuration, in expansion order, with ``status``, ``error``, ``final``,
        ``wall_seconds``), ``counts`` (``finished``, ``failed``, ``skipped``, ``pending``) and
        the spec.

    Raises:
        SweepFileError: a bad sweep file, a configuration naming an unknown ID, or (resume)
            a damaged ``sweep.json`` or ``sweep.jsonl`` (naming the file and the field, and
            how to rebuild it from the run directories).
        FileExistsError: ``out_dir`` holds a sweep or run directories and ``resume`` is False.
        RunDirError: another driver is running a sweep in ``out_dir`` (it holds the lock).
        SweepInterrupted: Ctrl-C (a :class:`KeyboardInterrupt`); the files say what finished.
        ValueError: a bad executor, workers or address.
        ImportError: a module named by ``imports`` cannot be imported here.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; expected one of {list(EXECUTORS)}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ValueError(f"workers must be a positive integer or None, got {workers!r}")
    if address is not None and executor != "ray":
        raise ValueError(f"address applies to the ray executor only, not {executor!r}")
    if not (isinstance(checkpoint_seconds, (int, float)) and checkpoint_seconds >= 0):
        raise ValueError(f"checkpoint_seconds must be a number >= 0, got {checkpoint_seconds!r}")
    spec = load_sweep(spec_or_path)
    points = spec.points(max_configurations)
    out = Path(out_dir)
    prepare_worker([], spec.imports)
    _check_ids(spec, points)
    if not resume:
        _check_fresh(out, points)  # before Ray starts: fail fast, writing nothing
    ray_started = ray_connect(address, workers) if executor == "ray" else False
    try:
        out.mkdir(parents=True, exist_ok=True)
        # One driver per sweep directory: a second one, or a --resume of a live sweep, stops
        # here instead of running the same configurations twice.
        with lock_dir(out):
            if not resume:
                _check_fresh(out, points)  # again under the lock: another driver may have begun
            return _run(spec, points, out, executor, workers, address, resume, progress,
                        checkpoint_seconds, batch)  # fmt: skip
    finally:
        if ray_started:
            import ray

            ray.shutdown()


def _check_fresh(out: Path, points: Sequence[SweepPoint]) -> None:
    by_hash = dirs_by_hash(out)
    taken = [
        by_hash.get(p.hash, p.name) for p in points if p.hash in by_hash or (out / p.name).exists()
    ]
    if (out / SWEEP_JSON).exists() or taken:
        what = SWEEP_JSON if (out / SWEEP_JSON).exists() else f"run directory {taken[0]}"
        raise FileExistsError(
            f"{out} already holds a sweep ({what}); pass resume=True (--resume) to "
            "continue it, or choose another output directory"
        )


def _run(spec, points, out, executor, workers, address, resume, progress, checkpoint_seconds,
         batch):  # fmt: skip
    # A configuration keeps its directory when edits of the sweep file rename it.
    existing = dirs_by_hash(out) if resume else {}
    if resume and (out / SWEEP_JSON).exists():
        # What the sweep recorded is checked before anything is rewritten: a damaged file is
        # reported (naming the file, the field and how to rebuild it), never silently replaced.
        load_sweep_summary(out)
    entries = []
    for p in points:
        entries.append(
            {
                "name": p.name,
                "hash": p.hash,
                "dir": existing.get(p.hash, p.name),
                "values": p.values,
                "config": p.config.to_dict(),
                "status": "pending",
                "error": None,
                "final": None,
                "wall_seconds": None,
            }
        )
    sweep: dict[str, Any] = {
        "name": spec.name,
        "spec": spec.to_dict(),
        "swept": spec.swept,
        "independent": independent_keys(spec.swept, [p.values for p in points]),
        "executor": executor,
        "workers": workers,
        "address": address,
        "versions": _versions(),
        "files": {"table": SWEEP_CSV, "run_summary": RUN_SUMMARY, "run_updates": RUN_CSV},
        "configurations": entries,
    }
    skipped = 0
    tasks = []
    for p, e in zip(points, entries, strict=True):
        damaged: list[str] = []
        done = finished_summary(out / e["dir"], e["config"], damaged) if resume else None
        for why in damaged:
            warnings.warn(
                f"{why}; configuration {p.index} ({e['name']}) runs again",
                DamagedRunWarning,
                stacklevel=3,
            )
        if done is not None:
            _record_done(e, summary_digest(done))
            skipped += 1
            continue
        tasks.append(
            {
                "index": p.index,
                "config": e["config"],
                "out_dir": str((out / e["dir"]).resolve()),
                "imports": list(spec.imports),
                "sys_path": [os.path.abspath(x or os.curdir) for x in sys.path],
                "checkpoint_seconds": float(checkpoint_seconds),
                "return_files": executor == "ray",
                # A damaged finished run runs again from the start: its checkpoint is bound
                # to files that no longer hold (or no longer show) what it vouched for.
                "restart": bool(damaged),
            }
        )
    counts = {
        "finished": skipped,
        "failed": 0,
        "interrupted": 0,
        "skipped": skipped,
        "pending": len(tasks),
    }
    sweep["counts"] = counts
    t0 = time.perf_counter()
    sweep["timing"] = {"wall_seconds": 0.0}
    write_sweep_files(out, sweep)
    csv_written = time.monotonic()

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(points),
            initial=skipped,
            unit="config",
            dynamic_ncols=True,
            desc=f"sweep {spec.name}",
        )

    def on_task(result: dict[str, Any]) -> None:
        for r in results_of(result):
            on_result(r)

    def on_result(result: dict[str, Any]) -> None:
        nonlocal csv_written
        e = entries[result["index"]]
        counts["pending"] -= 1
        if result["status"] == "finished":
            files = result.get("files")
            if files and not (out / e["dir"] / RUN_SUMMARY).exists():
                # The worker ran on a machine that does not share this file system.
                (out / e["dir"]).mkdir(parents=True, exist_ok=True)
                for fname, data in files.items():
                    atomic_write(out / e["dir"] / fname, data)
            _record_done(e, result["summary"])
            counts["finished"] += 1
        elif result["status"] == "interrupted":
            e.update(
                status="interrupted",
                error=result["error"],
                wall_seconds=result.get("task_seconds"),
            )
            counts["interrupted"] += 1
        else:
            e.update(
                status="failed",
                error=result["error"],
                traceback=result.get("traceback"),
                wall_seconds=result.get("task_seconds"),
            )
            counts["failed"] += 1
        e["host"] = result.get("host")
        if "node" in result:
            e["ray_node"] = result["node"]
        sweep["timing"]["wall_seconds"] = time.perf_counter() - t0
        # One appended line per configuration (sweep.json is written in full only at the start
        # and the end), and the small table at most every CSV_SECONDS.
        append_result(out, result["index"], e)
        if time.monotonic() - csv_written >= CSV_SECONDS:
            write_sweep_csv(out, sweep)
            csv_written = time.monotonic()
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"failed {counts['failed']}; last {e['name']}", refresh=False)

    try:
        if tasks:
            if batch:
                configs = {p.index: p.config for p in points}
                tasks = group_tasks(tasks, configs, _slots(executor, workers))
            execute(executor, tasks, workers, address, on_task)
    except KeyboardInterrupt:
        interrupted = True
    else:
        interrupted = False
    finally:
        if bar is not None:
            bar.close()
        sweep["timing"]["wall_seconds"] = time.perf_counter() - t0
        write_sweep_files(out, sweep)
    if interrupted:
        raise SweepInterrupted(sweep)
    return sweep


def _slots(executor: str, workers: int | None) -> int:
    """How many batches can run at once (0 for serial: one batch per group): the workers, or
    by default the cores here (process) or the Ray cluster's CPUs (ray)."""
    if executor == "serial":
        return 0
    if workers is not None:
        return workers
    if executor == "ray":
        import ray

        return max(1, int(ray.cluster_resources().get("CPU", 1)))
    return os.cpu_count() or 1


def _record_done(entry: dict[str, Any], digest: Mapping[str, Any]) -> None:
    entry.update(
        status="finished",
        error=None,
        final={"stage": digest["stage"], "distance_to_dse": digest["distance_to_dse"]},
        wall_seconds=digest["wall_seconds"],
    )
    entry.pop("traceback", None)


def _check_ids(spec: SweepSpec, points: Sequence[SweepPoint]) -> None:
    known = set(hic_envs.list_envs())
    for p in points:
        if p.config.env_id not in known:
            hint = did_you_mean(p.config.env_id, known)
            if not spec.imports:
                hint += "; a user game needs its module under imports:"
            raise SweepFileError(
                f"configuration {p.index} ({p.name}): unknown environment ID "
                f"{p.config.env_id!r}{hint}; known IDs: {', '.join(sorted(known))}"
            )
