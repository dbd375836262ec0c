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
    entry ``__meta__`` holding JSON text (format version, config and its SHA-256, the CSV's
    length at the checkpoint and the SHA-256 of that prefix, the SHA-256 of the arrays, the
    stage, elapsed time). Each member's header (dtype, shape) and declared size are checked
    before its data is read, and no pickle is ever loaded: resuming a directory runs no code
    from it and expands no zip bomb (:mod:`.checkpoint` checks the rest).

The directory itself is locked (``flock`` on the directory, exclusive) by the process writing
it: there is no lock file that could be deleted from under a running writer, and a second
writer is refused. Only regular files are opened for reading: a FIFO, socket or device in
place of a result file is refused at once instead of blocking.

Every file is written to a fresh temporary file in the same directory (created exclusively,
so a planted symlink is never followed), flushed, fsync'ed, given the mode the umask gives any
new file (``0o666 & ~umask``) and renamed over the old one, so a crash at any point leaves
either the old or the new file, never a torn one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import hashlib
import io
import json
import math
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from agents.catalog import display_name
from agents.compose.engines.runner import BatchHistory

__all__ = [
    "CHECKPOINT_NAME",
    "CHECKPOINT_VERSION",
    "CSV_NAME",
    "LOCK_NAME",
    "SUMMARY_NAME",
    "DirLock",
    "Schema",
    "RunData",
    "RunDirError",
    "arrays_digest",
    "atomic_write",
    "config_digest",
    "csv_header",
    "csv_rows",
    "dump_json",
    "file_mode",
    "load_results",
    "lock_dir",
    "open_regular",
    "read_checkpoint",
    "read_json",
    "write_checkpoint",
]

CSV_NAME = "updates.csv"
SUMMARY_NAME = "summary.json"
CHECKPOINT_NAME = "checkpoint.npz"
#: A lock file of older versions (the directory itself is locked now); removed by restarts.
LOCK_NAME = ".lock"
#: Format version of ``checkpoint.npz`` (bumped when its layout changes; 2 binds it to its run;
#: 3: the learners' states hold their read checks, ``agents.rules.protocol.READ_CHECK``).
CHECKPOINT_VERSION = 3
_META = "__meta__"
#: Largest ``__meta__`` JSON text accepted (characters).
_META_MAX_CHARS = 1 << 20


class RunDirError(ValueError):
    """A run directory's file is missing, unreadable or inconsistent (names the file and what
    to do)."""


# ---------------------------------------------------------------------------------- writing
def file_mode() -> int:
    """The mode a new file gets from ``open`` under the current umask (``0o666 & ~umask``)."""
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (exclusive temp file, fsync, rename).

    The file gets the mode any file the user creates gets (``0o666 & ~umask``), not the
    private ``0o600`` of the temporary file, so collaborators can read results on a shared
    machine exactly when the user's umask says so.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), file_mode())
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


def config_digest(config: dict[str, Any]) -> str:
    """SHA-256 of a config's canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of named arrays: every name, dtype, shape and the bytes, in sorted name order."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def write_checkpoint(path: Path, state: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write a data-only checkpoint: ``state`` arrays plus ``meta`` as JSON text.

    The metadata gains the format version, ``config_sha256`` (of ``meta["config"]``, when
    given) and ``arrays_sha256`` (of ``state``), which :mod:`.checkpoint` checks
    before a resume uses anything.
    """
    arrays = {k: np.asarray(v) for k, v in state.items()}
    for k, v in arrays.items():
        if v.dtype == object:
            raise TypeError(f"checkpoint entry {k!r} is an object array; only data is saved")
    full = {"version": CHECKPOINT_VERSION, **meta, "arrays_sha256": arrays_digest(arrays)}
    if "config" in meta:
        full["config_sha256"] = config_digest(meta["config"])
    arrays[_META] = np.array(json.dumps(full, allow_nan=False))
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # NumPy's stub: allow_pickle
    atomic_write(path, buf.getvalue())


def open_regular(path: Path, mode: str = "rb") -> IO[bytes]:
    """Open ``path`` for reading (``"rb"``) or updating (``"r+b"``) only if it is a regular file.

    The file is opened without blocking and checked with ``fstat`` before anything is read, so
    a FIFO, socket or device planted in its place is refused at once instead of hanging.

    Raises:
        FileNotFoundError: if it does not exist.
        RunDirError: for anything but a regular file, or an unreadable one, naming it.
    """
    path = Path(path)
    flags = (os.O_RDWR if mode == "r+b" else os.O_RDONLY) | os.O_NONBLOCK
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as err:
        raise RunDirError(f"cannot open {path}: {err.strerror or err}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = (
                "a named pipe (FIFO)"
                if stat.S_ISFIFO(st.st_mode)
                else "a socket"
                if stat.S_ISSOCK(st.st_mode)
                else "a directory"
                if stat.S_ISDIR(st.st_mode)
                else "a device or special file"
            )
            raise RunDirError(f"{path} is {kind}, not a regular file; refusing to read it")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, mode)
    except BaseException:
        os.close(fd)
        raise


#: Expected members: name -> ``(dtype, shape)``, or None (a known name: only its size is bounded).
Schema = dict[str, "tuple[np.dtype, tuple[int, ...]] | None"]


def _read_member(
    z: zipfile.ZipFile,
    path: Path,
    key: str,
    want: tuple[np.dtype, tuple[int, ...]] | None,
    max_bytes: int,
) -> np.ndarray:
    """Read one ``.npy`` member, checking its header and declared size before its data."""
    info = z.getinfo(key + ".npy")
    field = f"{path}: field {key!r}"
    with z.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unknown .npy format version {version}")
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
            raise RunDirError(f"{field} has no readable array header ({err})") from None
        if dtype.hasobject or dtype.kind not in "biufcU":
            raise RunDirError(f"{field} has dtype {dtype}: only plain numbers or text are data")
        if want is not None:
            w_dtype, w_shape = want
            if dtype != w_dtype:
                raise RunDirError(f"{field} has dtype {dtype}, this run expects {w_dtype}")
            if tuple(shape) != tuple(w_shape):
                raise RunDirError(
                    f"{field} has shape {tuple(shape)}, this run expects {tuple(w_shape)}"
                )
        nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        if nbytes > max_bytes:
            raise RunDirError(
                f"{field} declares {nbytes} bytes ({shape} of {dtype}), more than the "
                f"{max_bytes} this run's state can hold; refusing to read it"
            )
        header = f.tell()
        if info.file_size != header + nbytes:
            raise RunDirError(
                f"{field} declares {nbytes} bytes of data but its zip entry holds "
                f"{info.file_size - header}: the file is forged or corrupt"
            )
        try:
            data = f.read(nbytes + 1)
        except (OSError, EOFError, zipfile.BadZipFile, ValueError) as err:
            raise RunDirError(f"{field} cannot be read ({err})") from None
    if len(data) != nbytes:
        raise RunDirError(f"{field} holds {len(data)} bytes, its header declares {nbytes}")
    a = np.frombuffer(data, dtype=dtype)
    return a.reshape(shape, order="F" if fortran else "C").copy()


def read_checkpoint(
    path: Path, schema: Schema | None = None, *, max_bytes: int = 1 << 32, arrays: bool = True
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint written by :func:`write_checkpoint` (no pickle, no code).

    Every member's header is checked before its data is read: with a ``schema`` (the members
    a run expects, :func:`.checkpoint.state_schema`) its dtype and shape must be
    the expected ones and no member may be missing or unknown; without one, its declared size
    must be at most ``max_bytes``. In both cases the declared size must be what the zip entry
    holds, so a forged header or a zip bomb is refused before anything is expanded. With
    ``arrays=False`` only the metadata is read (the returned dict of arrays is empty).

    Raises:
        RunDirError: for a missing, truncated, garbled, forged or foreign file, or one that is
            not a regular file, naming it and the field.
    """
    path = Path(path)
    try:
        fobj = open_regular(path)
    except FileNotFoundError:
        raise RunDirError(f"{path} is missing") from None
    out: dict[str, np.ndarray] = {}
    with fobj:
        try:
            z = zipfile.ZipFile(fobj)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            raise RunDirError(f"{path} is not a readable checkpoint ({err})") from None
        with z:
            names = [n[:-4] for n in z.namelist() if n.endswith(".npy")]
            if len(names) != len(z.namelist()) or len(set(names)) != len(names):
                raise RunDirError(f"{path} is not a readable checkpoint (unexpected entries)")
            if _META not in names:
                raise RunDirError(f"{path} is not a hic checkpoint (no {_META} entry)")
            try:
                meta_arr = _read_member(z, path, _META, None, 4 * _META_MAX_CHARS)
            except RunDirError as err:
                raise RunDirError(f"{path} is not a readable checkpoint ({err})") from None
            if meta_arr.dtype.kind != "U" or meta_arr.shape != ():
                raise RunDirError(f"{path}: field {_META!r} is not JSON text")
            try:
                meta = json.loads(str(meta_arr))
            except json.JSONDecodeError as err:
                raise RunDirError(f"{path}: its metadata is not JSON ({err})") from None
            if not isinstance(meta, dict) or meta.get("version") != CHECKPOINT_VERSION:
                v = meta.get("version") if isinstance(meta, dict) else "?"
                raise RunDirError(
                    f"{path} has checkpoint format {v}, this hic-envs reads format "
                    f"{CHECKPOINT_VERSION}"
                    + (
                        " (format 1 is not bound to its run, so it cannot be checked: start "
                        "the run again with --restart)"
                        if v == 1
                        else ""
                    )
                )
            keys = [k for k in names if k != _META] if arrays else []
            if schema is not None and arrays:
                unknown = sorted(set(keys) - set(schema))
                if unknown:
                    raise RunDirError(
                        f"{path}: field {unknown[0]!r} is not part of this run's state "
                        "(a checkpoint of another run or game?)"
                    )
            for k in keys:
                try:
                    out[k] = _read_member(
                        z, path, k, None if schema is None else schema[k], max_bytes
                    )
                except (OSError, zipfile.BadZipFile, EOFError) as err:
                    raise RunDirError(f"{path} is not a readable checkpoint ({err})") from None
    return out, meta


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON object from ``path``.

    Raises:
        RunDirError: naming the file, for a missing, empty or garbled one.
    """
    path = Path(path)
    try:
        with open_regular(path) as f:
            text = f.read().decode()
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
class DirLock:
    """The exclusive lock of a run directory, held on the directory itself.

    ``flock`` on a descriptor of the directory: nothing in the directory can be deleted to
    lose it, and it goes with the process (a crashed writer leaves no stale lock).
    :meth:`check` verifies that the path still names the locked directory (it was not moved
    away and replaced); writers call it before they write.
    """

    def __init__(self, d: Path, fd: int) -> None:
        self.path = Path(d)
        self._fd = fd
        self._id = _ident(os.fstat(fd))

    def check(self) -> None:
        """Raise :class:`RunDirError` if the path no longer names the locked directory."""
        try:
            now = _ident(os.stat(self.path))
        except OSError:
            now = None
        if now != self._id:
            raise RunDirError(
                f"{self.path} was moved or replaced while this run wrote it; stopping so that "
                "two runs never write one directory"
            )

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """:meth:`check`, then the write in the ``with`` block. A write that fails
        (``OSError``) is checked again: where the directory was moved away while it wrote
        (its temporary file went with it), the :class:`RunDirError` above says so, not the
        ``FileNotFoundError`` of the rename."""
        self.check()
        try:
            yield
        except OSError:
            self.check()
            raise


def _ident(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


@contextlib.contextmanager
def lock_dir(d: Path) -> Iterator[DirLock]:
    """Hold the directory's exclusive lock for the duration (a second writer is refused).

    Raises:
        RunDirError: if another process holds it, or ``d`` is not a directory.
    """
    d = Path(d)
    try:
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as err:
        raise RunDirError(f"cannot open the directory {d}: {err.strerror or err}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunDirError(
                    f"{d} is being written by another process (it holds the directory's lock); "
                    "wait for it to finish or stop it, or choose another output directory"
                ) from None
            raise
        yield DirLock(d, fd)
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
        with open_regular(csv_path) as f:
            raw = f.read()
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
