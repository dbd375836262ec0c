"""Where a sweep's configurations run: in this process, a local process pool, or Ray.

Executors: ``serial`` (in this process), ``process`` (the default: a standard-library
:class:`~concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start method, ``workers``
processes) and ``ray`` (one Ray task per configuration with ``num_cpus=1``, results streamed
back with ``ray.wait`` as they finish; ``address=None`` lets ``ray.init`` start a local
cluster, ``"auto"`` or ``"ray://HOST:PORT"`` join one). Workers are fresh interpreters: each
one puts the driver's ``sys.path`` entries that exist on its machine on its own ``sys.path``
and imports the sweep's ``imports`` before any ID is resolved. The three executors give the
same files bit for bit, since each configuration is one deterministic ``run_experiment``.

The process pool's workers die with their driver: each runs in its own process group and asks
the kernel for SIGKILL when the driver dies (Linux's ``PR_SET_PDEATHSIG``), with a watchdog
thread that exits when the driver's process id goes away elsewhere; a killed worker's
configuration keeps its last checkpoint, and ``--resume`` continues it. At most ``workers``
configurations are handed to the pool at a time, so Ctrl-C (SIGINT to the driver, or to the
terminal's foreground process group, which the workers are not in) starts no new configuration:
the driver forwards one SIGINT to each worker, whose run writes a checkpoint and stops, records
those configurations as ``interrupted`` and raises :class:`KeyboardInterrupt`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import importlib
import multiprocessing
import os
import platform
import queue
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from agents.compose.experiments.experiment import ExperimentConfig, run_experiment
from agents.compose.experiments.results import CHECKPOINT_NAME
from agents.compose.sweeps.batched import run_group
from agents.compose.sweeps.store import (
    RUN_FILES,
    finished_summary,
    summary_digest,
)

__all__ = ["EXECUTORS", "execute", "prepare_worker", "ray_connect", "results_of", "run_task"]

EXECUTORS = ("serial", "process", "ray")
_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def prepare_worker(sys_path: Sequence[str], imports: Sequence[str]) -> None:
    """Make a fresh interpreter see what the driver sees: its import path, then the user
    modules that register games (before any ID is resolved)."""
    missing = [p for p in sys_path if p not in sys.path and os.path.isdir(p)]
    sys.path[:0] = missing
    for name in imports:
        importlib.import_module(name)


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run (or resume, or skip) one configuration, or a group of them as one batch (a task
    with ``members``: :func:`agents.compose.sweeps.batched.run_group`, which returns
    ``{"results": [...]}``); never raises for the configurations' own errors, which come back
    as ``status: failed`` with the error and traceback."""
    if "members" in task:
        try:
            prepare_worker(task["members"][0]["sys_path"], task["members"][0]["imports"])
        except Exception as err:  # noqa: BLE001 - reported per configuration
            return _group_failed(task, f"{type(err).__name__}: {err}")
        out = run_group(task, _run_one)
        node = _ray_node()
        for r in out["results"]:
            r.setdefault("host", platform.node())
            if node is not None:
                r["node"] = node
        return out
    return _run_one(task)


def _ray_node() -> str | None:
    """Which Ray node runs this (host names repeat), or None outside Ray."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        return ray.get_runtime_context().get_node_id()
    return None


def results_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-configuration results in what a task returned (a group returns several)."""
    return result["results"] if "results" in result else [result]


def _group_failed(task: dict[str, Any], error: str) -> dict[str, Any]:
    indices = task["index"] if isinstance(task["index"], list) else [task["index"]]
    out = [{"index": i, "status": "failed", "error": error} for i in indices]
    return {"results": out} if isinstance(task["index"], list) else out[0]


def _run_one(task: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    out = Path(task["out_dir"])
    result: dict[str, Any] = {"index": task["index"], "host": platform.node()}
    try:
        prepare_worker(task["sys_path"], task["imports"])
        config = ExperimentConfig.from_dict(task["config"])
        done = finished_summary(out, task["config"])
        if done is None:
            # Continue from a checkpoint if one is there (a resumed sweep, or a Ray retry after
            # a crashed worker); otherwise start afresh. A configuration directory with files
            # but no checkpoint was stopped before its first checkpoint (which is written
            # before any stage is played): nothing in it is worth keeping.
            # A damaged finished run ("restart", from a resumed sweep) starts again.
            resume = not task.get("restart") and (out / CHECKPOINT_NAME).exists()
            if not resume:
                for name in RUN_FILES:
                    with contextlib.suppress(FileNotFoundError):
                        (out / name).unlink()
            done = run_experiment(
                config,
                out,
                resume=resume,
                progress=False,
                checkpoint_seconds=task["checkpoint_seconds"],
            )
            result["ran"] = True
        result.update(status="finished", summary=summary_digest(done))
        if task.get("return_files"):
            result["files"] = {n: (out / n).read_bytes() for n in RUN_FILES if (out / n).is_file()}
    except Exception as err:  # noqa: BLE001 - reported per configuration, never lost
        result.update(
            status="failed",
            error=f"{type(err).__name__}: {err}",
            traceback=traceback.format_exc(),
        )
    except KeyboardInterrupt as err:  # SIGINT: the run wrote a checkpoint and stopped
        result.update(status="interrupted", error=f"interrupted ({err}); --resume continues it")
    result["task_seconds"] = time.perf_counter() - t0
    node = _ray_node()
    if node is not None:
        result["node"] = node
    return result


# ---------------------------------------------------------------------------------- executors
def _execute_serial(tasks, workers, address, on_result) -> None:
    for task in tasks:
        result = run_task(task)
        on_result(result)
        if any(r["status"] == "interrupted" for r in results_of(result)):
            raise KeyboardInterrupt


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Spawned workers inherit the environment at start-up: give them one BLAS thread each
    (the runs are many small matrices, and ``workers`` processes already fill the cores),
    unless the user set a thread count."""
    saved = {v: os.environ.get(v) for v in _BLAS_VARS}
    for v in _BLAS_VARS:
        os.environ.setdefault(v, "1")
    try:
        yield
    finally:
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old


#: Seconds between a worker's checks that its driver is alive (where PR_SET_PDEATHSIG is not).
WATCHDOG_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1


def _init_worker(driver_pid: int, pids: Any) -> None:
    """A pool worker's start: leave the driver's process group (a terminal's Ctrl-C reaches
    the driver only, which forwards it once), die with the driver, and report its pid."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != driver_pid:  # the driver died before the line above
        os._exit(1)
    threading.Thread(target=_watch_driver, args=(driver_pid,), daemon=True).start()
    pids.put(os.getpid())


def _watch_driver(driver_pid: int) -> None:
    while True:
        time.sleep(WATCHDOG_SECONDS)
        if os.getppid() != driver_pid:
            os._exit(1)


def _worker_died(task: dict[str, Any], err: BaseException) -> dict[str, Any]:
    return _group_failed(
        task, f"{type(err).__name__}: {err} (the worker process died; rerun with resume)"
    )


def _execute_process(tasks, workers, address, on_result) -> None:
    ctx = multiprocessing.get_context("spawn")
    limit = workers or os.cpu_count() or 1
    pids = ctx.Queue()
    todo = list(tasks)
    running: dict[concurrent.futures.Future, dict[str, Any]] = {}
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=limit, mp_context=ctx, initializer=_init_worker, initargs=(os.getpid(), pids)
    )
    # Workers start (and read the environment) as tasks are submitted.
    with _one_blas_thread():
        try:
            try:
                while todo or running:
                    # At most `limit` configurations are in the pool: none waits in its queue,
                    # so none starts after an interrupt.
                    while todo and len(running) < limit:
                        task = todo.pop(0)
                        try:
                            running[pool.submit(_pool_task, task)] = task
                        except concurrent.futures.BrokenExecutor as err:
                            on_result(_worker_died(task, err))
                    done, _ = concurrent.futures.wait(
                        running, return_when=concurrent.futures.FIRST_COMPLETED
                    )
                    for fut in done:
                        on_result(_outcome(fut, running.pop(fut)))
            except KeyboardInterrupt:
                _interrupt_workers(pids)
                for fut in concurrent.futures.as_completed(running):
                    on_result(_outcome(fut, running[fut]))
                running.clear()
                raise
        finally:
            pool.shutdown(wait=not running, cancel_futures=True)
            pids.close()


def _pool_task(task: dict[str, Any]) -> dict[str, Any]:
    """:func:`run_task` in a pool worker, which takes SIGINT only while it runs a task (an idle
    worker that died of one would break the pool for the others)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return run_task(task)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _outcome(fut: concurrent.futures.Future, task: dict[str, Any]) -> dict[str, Any]:
    try:
        return fut.result()
    except Exception as err:  # noqa: BLE001 - e.g. a worker killed by the OS
        return _worker_died(task, err)


def _interrupt_workers(pids: Any) -> None:
    """One SIGINT to each live worker: its run finishes the chunk, writes a checkpoint and
    stops (run_experiment's handling), and the worker reports it back."""
    while True:
        try:
            pid = pids.get_nowait()
        except (queue.Empty, OSError, ValueError):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGINT)


def ray_connect(address: str | None, workers: int | None) -> bool:
    """Connect to Ray (or start a local cluster) before the sweep writes anything. Returns
    whether this call initialised Ray (and so must shut it down)."""
    try:
        import ray
    except ImportError:
        raise RuntimeError(
            "executor 'ray' needs Ray: pip install -e \".[ray]\" (or pip install ray)"
        ) from None
    if ray.is_initialized():
        return False
    _check_reachable(address)
    kwargs: dict[str, Any] = {}
    if address is None:  # a local cluster (ray.init may also join one started here)
        kwargs = {"include_dashboard": False}
        if workers is not None:
            kwargs["num_cpus"] = workers
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError) as err:
        raise RuntimeError(
            f"cannot connect to the Ray cluster at {address!r}: {err}. A cluster started with "
            "`ray start` may use token authentication: set RAY_AUTH_MODE=token, with the "
            "cluster's token in ~/.ray/auth_token or RAY_AUTH_TOKEN"
        ) from None
    return True


def _check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """Fail fast on a ``HOST:PORT`` (or ``ray://HOST:PORT``) nobody listens on: ``ray.init``
    retries such an address without end (Ray 2.60: still waiting after 11 minutes)."""
    if address is None or address == "auto":
        return
    m = re.fullmatch(r"(?:ray://)?\[?([^\]]+?)\]?:(\d+)", address)
    if m is None:
        raise ValueError(
            f"address must be 'auto', 'HOST:PORT' or 'ray://HOST:PORT', got {address!r}"
        )
    try:
        with socket.create_connection((m.group(1), int(m.group(2))), timeout=timeout):
            pass
    except OSError as err:
        raise RuntimeError(
            f"cannot reach the Ray cluster at {address!r} ({err}); is `ray start --head` "
            "running there, and is the port right?"
        ) from None


def _execute_ray(tasks, workers, address, on_result) -> None:
    """One Ray task per configuration (``num_cpus=1``), at most ``workers`` in flight,
    results handled as each finishes (``ray.wait``). Ray is connected by :func:`ray_connect`."""
    import ray

    # SPREAD: configurations go to the least loaded nodes first, so a cluster's nodes share a
    # sweep from the start instead of the driver's node taking every task it has room for.
    remote = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(run_task)
    queue = list(tasks)
    pending: dict[Any, dict[str, Any]] = {}
    limit = workers or len(queue)
    try:
        while queue or pending:
            while queue and len(pending) < limit:
                task = queue.pop(0)
                pending[remote.remote(task)] = task
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                task = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as err:  # noqa: BLE001 - a lost worker or node
                    result = _group_failed(task, f"{type(err).__name__}: {err}")
                on_result(result)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise


_EXECUTE = {"serial": _execute_serial, "process": _execute_process, "ray": _execute_ray}


def execute(
    executor: str,
    tasks: Sequence[dict[str, Any]],
    workers: int | None,
    address: str | None,
    on_result: Callable[[dict[str, Any]], None],
) -> None:
    """Run ``tasks`` (each handed to :func:`run_task`) on ``executor``, calling ``on_result``
    in the driver with each result as it comes back."""
    _EXECUTE[executor](tasks, workers, address, on_result)
