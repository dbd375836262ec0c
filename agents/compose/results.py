"""The files of a run directory: formats, atomic writes, the lock, and reading them back.

``updates.csv``
    One row per recorded leader update and seed: ``seed`` (the batch row, 0..S-1),
    ``update`` (n; 0 is the initial strategy), ``stage`` (stages played when ``x_n`` was made),
    ``leader_0..`` (the mean strategy ``x_n``), ``follower_0..`` (the follower's strategy
    then), ``distance`` (``||x_n - x*||`` to the DSE). Floats in repr precision (exact).
``summary.json``
    Strict JSON (no NaN or Infinity tokens): ``config``, ``resolved``, ``game``, ``record``,
    ``versions``, ``progress``, ``final`` (or ``current``) statistics and ``timing``.
``checkpoint.npz``
    Data only: the runner's state as arrays (:meth:`agents.BatchRunner.state_dict`) and one
    entry ``__meta__`` holding JSON text (format version, config, the CSV's length at the
    checkpoint, elapsed time). Read with ``allow_pickle=False``: resuming a directory runs no
    code from it.
``.lock``
    Held (``flock``, exclusive) by the process writing the directory; a second writer is
    refused.

Every file is written to a fresh temporary file in the same directory (created exclusively,
so a planted symlink is never followed), flushed, fsync'ed and renamed over the old one, so a
crash at any point leaves either the old or the new file, never a torn one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from agents.catalog import display_name
from agents.compose.runner import BatchHistory

__all__ = [
    "CHECKPOINT_NAME",
    "CHECKPOINT_VERSION",
    "CSV_NAME",
    "LOCK_NAME",
    "SUMMARY_NAME",
    "RunData",
    "RunDirError",
    "atomic_write",
    "csv_header",
    "csv_rows",
    "dump_json",
    "load_results",
    "lock_dir",
    "read_checkpoint",
    "read_json",
    "write_checkpoint",
]

CSV_NAME = "updates.csv"
SUMMARY_NAME = "summary.json"
CHECKPOINT_NAME = "checkpoint.npz"
LOCK_NAME = ".lock"
#: Format version of ``checkpoint.npz`` (bumped when its layout changes).
CHECKPOINT_VERSION = 1
_META = "__meta__"


class RunDirError(ValueError):
    """A run directory's file is missing, unreadable or inconsistent (names the file and what
    to do)."""


# ---------------------------------------------------------------------------------- writing
def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (exclusive temp file, fsync, rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def dump_json(obj: Any) -> bytes:
    """Strict JSON (``allow_nan=False``): a NaN or infinity raises instead of writing a token
    that strict parsers reject."""
    try:
        return (json.dumps(obj, indent=2, allow_nan=False) + "\n").encode()
    except ValueError as err:
        raise ValueError(f"refusing to write a non-finite number into JSON: {err}") from None


def csv_header(d1: int, d2: int) -> str:
    """The header line of ``updates.csv`` for dimensions ``d1``, ``d2``."""
    cols = ["seed", "update", "stage"]
    cols += [f"leader_{i}" for i in range(d1)] + [f"follower_{i}" for i in range(d2)]
    return ",".join(cols + ["distance"]) + "\n"


def csv_rows(h: BatchHistory, dist: np.ndarray) -> str:
    """CSV lines of a chunk's records (repr-precision floats: exactly the computed values)."""
    if len(h) == 0:
        return ""
    ints = np.column_stack([h.row, h.update, h.stage])
    floats = np.column_stack([h.leader_strategies, h.follower_strategies, dist])
    lines = []
    for i_row, f_row in zip(ints.tolist(), floats.tolist(), strict=True):
        lines.append(",".join(map(str, i_row)) + "," + ",".join(map(repr, f_row)))
    return "\n".join(lines) + "\n"


def write_checkpoint(path: Path, state: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write a data-only checkpoint: ``state`` arrays plus ``meta`` as JSON text."""
    arrays = {k: np.asarray(v) for k, v in state.items()}
    for k, v in arrays.items():
        if v.dtype == object:
            raise TypeError(f"checkpoint entry {k!r} is an object array; only data is saved")
    arrays[_META] = np.array(json.dumps({"version": CHECKPOINT_VERSION, **meta}, allow_nan=False))
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # NumPy's stub: allow_pickle
    atomic_write(path, buf.getvalue())


def read_checkpoint(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint written by :func:`write_checkpoint` (no pickle, no code).

    Raises:
        RunDirError: for a missing, truncated, garbled or foreign file, naming it.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise RunDirError(f"{path} is missing") from None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise RunDirError(f"{path} is not a readable checkpoint ({err})") from None
    if _META not in arrays:
        raise RunDirError(f"{path} is not a hic checkpoint (no {_META} entry)")
    try:
        meta = json.loads(str(arrays.pop(_META)))
    except json.JSONDecodeError as err:
        raise RunDirError(f"{path}: its metadata is not JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("version") != CHECKPOINT_VERSION:
        raise RunDirError(
            f"{path} has checkpoint format {meta.get('version') if isinstance(meta, dict) else '?'}"
            f", this hic-envs reads format {CHECKPOINT_VERSION}"
        )
    return arrays, meta


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON object from ``path``.

    Raises:
        RunDirError: naming the file, for a missing, empty or garbled one.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise RunDirError(f"{path} is missing") from None
    except (OSError, UnicodeDecodeError) as err:
        raise RunDirError(f"cannot read {path}: {err}") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise RunDirError(f"{path} is not valid JSON ({err})") from None
    if not isinstance(obj, dict):
        raise RunDirError(f"{path} does not hold a JSON object")
    return obj


# ---------------------------------------------------------------------------------- lock
@contextlib.contextmanager
def lock_dir(d: Path) -> Iterator[None]:
    """Hold the directory's exclusive lock for the duration (a second writer is refused).

    Raises:
        RunDirError: if another process holds it.
    """
    path = Path(d) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunDirError(
                    f"{d} is being written by another process (it holds {path}); wait for it "
                    "to finish or stop it, or choose another output directory"
                ) from None
            raise
        yield
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------- reading
@dataclasses.dataclass
class RunData:
    """The records of one run: one row per recorded (seed, update).

    Attributes:
        seed: ``(R,)`` seed (batch row) of each record.
        update: ``(R,)`` update index ``n``.
        stage: ``(R,)`` stage at which ``x_n`` was made.
        leader: ``(R, d1)`` leader mean strategies ``x_n``.
        follower: ``(R, d2)`` follower strategies at those stages.
        distance: ``(R,)`` ``||x_n - x*||``.
        summary: the run's ``summary.json`` contents (may be empty).
    """

    seed: np.ndarray
    update: np.ndarray
    stage: np.ndarray
    leader: np.ndarray
    follower: np.ndarray
    distance: np.ndarray
    summary: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def seeds(self) -> np.ndarray:
        """The distinct seeds, sorted."""
        return np.unique(self.seed)

    @property
    def label(self) -> str:
        """A short description: leader, follower, game, noise, seeds."""
        cfg = self.summary.get("config", {})
        if not cfg:
            return f"{self.seeds.size} seeds"
        leader = display_name(cfg["leader"])
        follower = display_name(cfg["follower"])
        kw = ", ".join(f"{k}={v}" for k, v in cfg.get("game_kwargs", {}).items())
        game = cfg["env_id"] + (f" ({kw})" if kw else "")
        noise = f", noise {cfg['noise_std']:g}" if cfg.get("noise_std") else ""
        return f"{leader} vs {follower} on {game}{noise}, {cfg['seeds']} seeds"


def load_results(run_dir: str | os.PathLike) -> RunData:
    """Read a run directory into a :class:`RunData` (arrays + summary).

    Only rows up to the CSV length of the last checkpoint or summary are read, so rows of a
    chunk that was being written when the run stopped are ignored.

    Raises:
        RunDirError: if ``run_dir`` is not a run directory or a file is unreadable or
            inconsistent (a CSV shorter than its summary says), naming the file.
    """
    d = Path(run_dir)
    summary_path, csv_path = d / SUMMARY_NAME, d / CSV_NAME
    if not d.is_dir():
        raise RunDirError(f"{d} is not a run directory (no such directory)")
    summary = read_json(summary_path)
    try:
        raw = csv_path.read_bytes()
    except FileNotFoundError:
        raise RunDirError(f"{csv_path} is missing; {d} is not a complete run directory") from None
    except OSError as err:
        raise RunDirError(f"cannot read {csv_path}: {err}") from None
    want = summary.get("progress", {}).get("csv_bytes")
    if isinstance(want, int):
        if len(raw) < want:
            raise RunDirError(
                f"{csv_path} has {len(raw)} bytes but {summary_path} says {want}: the CSV was "
                "truncated or replaced"
            )
        raw = raw[:want]
    if b"\0" in raw:
        raise RunDirError(f"{csv_path} contains NUL bytes: it is corrupt")
    lines = raw.decode("utf-8", errors="strict").split("\n")
    header = lines[0].split(",")
    if header[:3] != ["seed", "update", "stage"] or header[-1] != "distance":
        raise RunDirError(f"{csv_path} does not start with the updates.csv header")
    rows = [ln for ln in lines[1:-1] if ln.count(",") == len(header) - 1]
    try:
        data = np.loadtxt(rows, delimiter=",", ndmin=2) if rows else np.empty((0, len(header)))
    except ValueError as err:
        raise RunDirError(f"{csv_path} has a malformed row ({err})") from None
    li = [i for i, c in enumerate(header) if c.startswith("leader_")]
    fi = [i for i, c in enumerate(header) if c.startswith("follower_")]
    return RunData(
        seed=data[:, 0].astype(np.int64),
        update=data[:, 1].astype(np.int64),
        stage=data[:, 2].astype(np.int64),
        leader=data[:, li],
        follower=data[:, fi],
        distance=data[:, header.index("distance")],
        summary=summary,
    )
