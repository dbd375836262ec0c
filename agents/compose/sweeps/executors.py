"""Where a sweep's configurations run: in this process, a local process pool, or Ray.

Executors: ``serial`` (in this process), ``process`` (the default: a standard-library
:class:`~concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start method, ``workers``
processes) and ``ray`` (one Ray task per configuration with ``num_cpus=1``, results streamed
back with ``ray.wait`` as they finish; ``address=None`` lets ``ray.init`` start a local
cluster, ``"auto"`` or ``"ray://HOST:PORT"`` join one). Workers are fresh interpreters: each
one puts the driver's ``sys.path`` entries that exist on its machine on its own ``sys.path``
and imports the sweep's ``imports`` before any ID is resolved. The three executors give the
same files bit for bit, since each configuration is one deterministic ``run_experiment``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib
import multiprocessing
import os
import platform
import re
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from agents.compose.experiments.experiment import ExperimentConfig, run_experiment
from agents.compose.experiments.results import CHECKPOINT_NAME
from agents.compose.sweeps.store import RUN_CSV, RUN_SUMMARY, finished_summary, summary_digest

__all__ = ["EXECUTORS", "execute", "prepare_worker", "ray_connect", "run_task"]

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
    """Run (or resume, or skip) one configuration; never raises for the configuration's own
    errors, which come back as ``status: failed`` with the error and traceback."""
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
            resume = (out / CHECKPOINT_NAME).exists()
            if not resume:
                for name in (RUN_CSV, RUN_SUMMARY):
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
            result["files"] = {n: (out / n).read_bytes() for n in (RUN_SUMMARY, RUN_CSV)}
    except Exception as err:  # noqa: BLE001 - reported per configuration, never lost
        result.update(
            status="failed",
            error=f"{type(err).__name__}: {err}",
            traceback=traceback.format_exc(),
        )
    result["task_seconds"] = time.perf_counter() - t0
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():  # which Ray node ran it (host names repeat)
        result["node"] = ray.get_runtime_context().get_node_id()
    return result


# ---------------------------------------------------------------------------------- executors
def _execute_serial(tasks, workers, address, on_result) -> None:
    for task in tasks:
        on_result(run_task(task))


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


def _execute_process(tasks, workers, address, on_result) -> None:
    ctx = multiprocessing.get_context("spawn")
    with _one_blas_thread():
        pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        try:
            futures = {pool.submit(run_task, t): t for t in tasks}
            for fut in concurrent.futures.as_completed(futures):
                task = futures[fut]
                try:
                    result = fut.result()
                except Exception as err:  # noqa: BLE001 - e.g. a worker killed by the OS
                    result = {
                        "index": task["index"],
                        "status": "failed",
                        "error": f"{type(err).__name__}: {err} (the worker process died; "
                        "rerun with resume)",
                    }
                on_result(result)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


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
                    result = {
                        "index": task["index"],
                        "status": "failed",
                        "error": f"{type(err).__name__}: {err}",
                    }
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
