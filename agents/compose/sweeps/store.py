"""The files of a sweep directory, and reading them back.

``sweep.json``
    The normalised spec, the swept keys, and one entry per configuration: its name, hash,
    directory, swept values, full config, status (``pending``, ``finished``, ``failed`` or
    ``interrupted``: stopped with a checkpoint that ``--resume`` continues), the error of a
    failed one, its final distance statistics and its wall time. Written when a sweep starts
    and when it ends (or is interrupted), not after every configuration.
``sweep.jsonl``
    The record of configurations done since ``sweep.json`` was written: one JSON line per
    configuration that finished, failed or was interrupted, appended (and fsync'ed) as each one
    comes back. :func:`load_sweep_summary` applies it to ``sweep.json``, so a reader (or a
    driver killed with SIGKILL) always sees every result that came back; a torn last line
    (power loss mid-append) is ignored.
``sweep.csv``
    One row per configuration: the swept values, status, seeds, stages, the final distance to
    the DSE over seeds (median, 25th and 75th percentiles, IQR, max), wall seconds, error.
    Written at the start and the end, and at most every :data:`CSV_SECONDS` in between.

No lock file: the driver holds an exclusive ``flock`` on the sweep directory itself for the
whole sweep (:func:`agents.compose.experiments.results.lock_dir`, the run directories' lock),
so a second driver, or a ``--resume`` of a sweep that is still running, is refused, and there
is no file whose deletion could let a second driver in.

``sweep.json`` and ``sweep.csv`` are written with the run files' one helper,
:func:`agents.compose.experiments.results.atomic_write` (a fresh temporary file created
exclusively, so a planted symlink is never followed; fsync; rename), so a reader sees the old
file or the new one, never part of one. ``sweep.jsonl`` is replaced the same way when
``sweep.json`` is written, and appended to with ``O_NOFOLLOW``. Reading ``sweep.json`` back
validates it: an error names the file and the field.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agents.compose.experiments.results import (
    CHECKPOINT_NAME,
    RunDirError,
    atomic_write,
    read_json,
)
from agents.compose.sweeps.spec import SweepFileError

__all__ = [
    "CSV_SECONDS",
    "CSV_STATS",
    "RUN_CSV",
    "RUN_FILES",
    "RUN_SUMMARY",
    "SWEEP_CSV",
    "SWEEP_JSON",
    "SWEEP_LOG",
    "STATUSES",
    "append_result",
    "dirs_by_hash",
    "finished_summary",
    "format_table",
    "load_sweep_summary",
    "recovery_hint",
    "summary_digest",
    "validate_summary",
    "write_sweep_csv",
    "write_sweep_files",
]

SWEEP_JSON = "sweep.json"
SWEEP_CSV = "sweep.csv"
SWEEP_LOG = "sweep.jsonl"
STATUSES = ("pending", "finished", "failed", "interrupted")
#: Least seconds between two writes of sweep.csv while a sweep runs.
CSV_SECONDS = 5.0
#: What a result line of sweep.jsonl may set in a configuration's entry.
_RESULT_FIELDS = ("status", "error", "traceback", "final", "wall_seconds", "host", "ray_node")
#: The files of one ``hic run`` directory (agents.compose.experiments.results' layout).
RUN_SUMMARY = "summary.json"
RUN_CSV = "updates.csv"
#: The files a finished run's directory holds, in the order a copy writes them (the summary,
#: which marks the run finished, last): what a Ray worker without a shared file system
#: returns to the driver.
RUN_FILES = (RUN_CSV, CHECKPOINT_NAME, RUN_SUMMARY)


def finished_summary(
    out: Path, config: dict[str, Any], damaged: list[str] | None = None
) -> dict[str, Any] | None:
    """The ``summary.json`` of the finished run of ``config`` in ``out``, or None.

    A run directory whose files are damaged (a garbled ``summary.json``, an ``updates.csv``
    shorter than its summary says) holds no finished run: the configuration runs again (same
    seeds, same bits), and the reason, naming the file, is appended to ``damaged``.
    """
    path = out / RUN_SUMMARY
    if not path.exists():
        return None
    try:
        summary = read_json(path)
    except RunDirError as err:
        if damaged is not None:
            damaged.append(str(err))
        return None
    if summary.get("config") != config or not summary.get("progress", {}).get("complete"):
        return None
    want = summary["progress"].get("csv_bytes")
    have = (out / RUN_CSV).stat().st_size if (out / RUN_CSV).is_file() else None
    if isinstance(want, int) and (have is None or have < want):
        if damaged is not None:
            got = "is missing" if have is None else f"has {have} bytes"
            damaged.append(f"{out / RUN_CSV} {got} but {path} says {want}")
        return None
    return summary


def summary_digest(summary: Mapping[str, Any]) -> dict[str, Any]:
    final = summary.get("final") or summary.get("current") or {}
    return {
        "complete": bool(summary.get("progress", {}).get("complete")),
        "stage": final.get("stage"),
        "distance_to_dse": final.get("distance_to_dse"),
        "wall_seconds": summary.get("timing", {}).get("wall_seconds"),
    }


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    if isinstance(v, float):
        return repr(v)
    return str(v)


CSV_STATS = ("distance_median", "distance_q25", "distance_q75", "distance_iqr", "distance_max")


def _csv_text(sweep: Mapping[str, Any]) -> str:
    swept = sweep["swept"]
    head = [
        "name",
        "status",
        *swept,
        "seeds",
        "stages",
        "stage_reached",
        *CSV_STATS,
        "wall_seconds",
        "error",
    ]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    for c in sweep["configurations"]:
        d = (c.get("final") or {}).get("distance_to_dse") or {}
        stats = [
            d.get("median"),
            d.get("q25"),
            d.get("q75"),
            d["q75"] - d["q25"] if d else None,
            d.get("max"),
        ]
        row = [
            c["name"],
            c["status"],
            *(c["values"].get(k) for k in swept),
            c["config"]["seeds"],
            c["config"]["stages"],
            (c.get("final") or {}).get("stage"),
            *stats,
            c.get("wall_seconds"),
            (c.get("error") or "").splitlines()[0] if c.get("error") else None,
        ]
        w.writerow([_csv_value(v) for v in row])
    return buf.getvalue()


def write_sweep_files(out: Path, sweep: Mapping[str, Any]) -> None:
    """Write ``sweep.json`` and ``sweep.csv`` in full, and start an empty ``sweep.jsonl``
    (the results it held are in the new ``sweep.json``)."""
    atomic_write(out / SWEEP_JSON, (json.dumps(sweep, indent=2) + "\n").encode())
    atomic_write(out / SWEEP_CSV, _csv_text(sweep).encode())
    atomic_write(out / SWEEP_LOG, b"")


def write_sweep_csv(out: Path, sweep: Mapping[str, Any]) -> None:
    """Write ``sweep.csv`` in full (one row per configuration: small)."""
    atomic_write(out / SWEEP_CSV, _csv_text(sweep).encode())


def append_result(out: Path, index: int, entry: Mapping[str, Any]) -> None:
    """Append configuration ``index``'s result (its entry's result fields and hash) to
    ``sweep.jsonl`` and fsync it."""
    line = {"index": index, "hash": entry["hash"]}
    line.update({k: entry[k] for k in _RESULT_FIELDS if k in entry})
    data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
    fd = os.open(out / SWEEP_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def dirs_by_hash(out: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    if out.is_dir():
        for d in sorted(out.iterdir()):
            m = re.search(r"-([0-9a-f]{12})$", d.name)
            if m and d.is_dir():
                found.setdefault(m.group(1), d.name)
    return found


def load_sweep_summary(sweep_dir: str | os.PathLike) -> dict[str, Any]:
    """Read a sweep directory's ``sweep.json``, validated, with the results recorded in
    ``sweep.jsonl`` since it was written applied (and ``counts`` recomputed).

    Raises:
        FileNotFoundError: ``sweep_dir`` holds no sweep.
        SweepFileError: a garbled or tampered file, naming the file and the field, and how to
            rebuild the sweep's files from its run directories (:func:`recovery_hint`).
    """
    path = Path(sweep_dir) / SWEEP_JSON
    if not path.exists():
        raise FileNotFoundError(f"{sweep_dir} is not a sweep directory: {SWEEP_JSON} is missing")
    try:
        return _load_summary(path, Path(sweep_dir) / SWEEP_LOG)
    except SweepFileError as err:
        raise SweepFileError(f"{err}; {recovery_hint(sweep_dir)}") from None


def recovery_hint(sweep_dir: str | os.PathLike) -> str:
    """How to rebuild a sweep's damaged ``sweep.json``/``sweep.jsonl``: every finished result
    is also in its run directory, which ``--resume`` reads when the sweep's files are gone."""
    out = Path(sweep_dir)
    return (
        f"every finished configuration is also recorded in its run directory: delete "
        f"{out / SWEEP_JSON} and {out / SWEEP_LOG}, then rebuild them with "
        f"`hic sweep SWEEP_FILE --resume --out {out}` (SWEEP_FILE: the sweep's YAML file)"
    )


def _load_summary(path: Path, log: Path) -> dict[str, Any]:
    try:
        summary = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise SweepFileError(f"{path}: not a readable JSON file ({err})") from None
    validate_summary(summary, str(path))
    if log.exists():
        entries = summary["configurations"]
        lines = log.read_bytes().split(b"\n")
        for n, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                if n == len(lines):  # a torn last line: the append did not finish
                    break
                raise SweepFileError(f"{log}: line {n}: not valid JSON") from None
            _apply_result(entries, line, f"{log}: line {n}")
        summary["counts"] = _counts(entries, summary.get("counts"))
    return summary


def _apply_result(entries: list[dict[str, Any]], line: Any, where: str) -> None:
    if not isinstance(line, dict):
        raise SweepFileError(f"{where}: expected a JSON object, got {_short(line)}")
    i = line.get("index")
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(entries):
        raise SweepFileError(f"{where}: index: expected 0..{len(entries) - 1}, got {_short(i)}")
    if line.get("hash") != entries[i]["hash"]:
        raise SweepFileError(
            f"{where}: hash: {_short(line.get('hash'))} is not configuration {i}'s "
            f"({entries[i]['hash']})"
        )
    update = {k: line[k] for k in _RESULT_FIELDS if k in line}
    _check_entry({**entries[i], **update}, f"{where}: ")
    entries[i].update(update)
    if entries[i]["status"] == "finished":
        entries[i].pop("traceback", None)


def _counts(entries: list[dict[str, Any]], old: Any) -> dict[str, int]:
    skipped = old.get("skipped", 0) if isinstance(old, dict) else 0
    by = {s: sum(e["status"] == s for e in entries) for s in STATUSES}
    return {
        "finished": by["finished"],
        "failed": by["failed"],
        "interrupted": by["interrupted"],
        "skipped": skipped,
        "pending": by["pending"],
    }


_HASH = re.compile(r"[0-9a-f]{12}")
_DIR = re.compile(r"[A-Za-z0-9._=+-]+")


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def validate_summary(summary: Any, source: str) -> None:
    """Check what a sweep's readers rely on in a ``sweep.json`` (types, statuses, hashes, and
    run directory names that stay inside the sweep directory).

    Raises:
        SweepFileError: ``"<source>: <field>: expected ..., got ..."``.
    """
    if not isinstance(summary, dict):
        raise SweepFileError(f"{source}: expected a JSON object, got {_short(summary)}")
    for key, kind, what in (
        ("spec", dict, "an object"),
        ("swept", list, "a list of keys"),
        ("configurations", list, "a list of configurations"),
    ):
        if not isinstance(summary.get(key), kind):
            got = "nothing" if key not in summary else _short(summary[key])
            raise SweepFileError(f"{source}: {key}: expected {what}, got {got}")
    if not all(isinstance(k, str) for k in summary["swept"]):
        raise SweepFileError(f"{source}: swept: expected a list of strings")
    for i, c in enumerate(summary["configurations"]):
        _check_entry(c, f"{source}: configurations[{i}].")


def _check_entry(c: Any, where: str) -> None:
    if not isinstance(c, dict):
        raise SweepFileError(f"{where.rstrip('.')}: expected an object, got {_short(c)}")
    checks = (
        ("name", lambda v: isinstance(v, str) and bool(v), "a non-empty string"),
        ("hash", lambda v: isinstance(v, str) and _HASH.fullmatch(v), "12 hex digits"),
        (
            "dir",
            lambda v: isinstance(v, str) and _DIR.fullmatch(v) and v not in (".", ".."),
            "a directory name inside the sweep directory",
        ),
        ("values", lambda v: isinstance(v, dict), "an object"),
        ("config", lambda v: isinstance(v, dict), "an object"),
        ("status", lambda v: v in STATUSES, f"one of {list(STATUSES)}"),
        ("error", lambda v: v is None or isinstance(v, str), "a string or null"),
        ("final", lambda v: v is None or isinstance(v, dict), "an object or null"),
        (
            "wall_seconds",
            lambda v: v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)),
            "a number or null",
        ),
    )
    for key, ok, what in checks:
        if key not in c:
            raise SweepFileError(f"{where}{key}: missing (expected {what})")
        if not ok(c[key]):
            raise SweepFileError(f"{where}{key}: expected {what}, got {_short(c[key])}")
    final = c["final"]
    if final is not None:
        d = final.get("distance_to_dse")
        if d is not None and not (
            isinstance(d, dict)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in d.values())
        ):
            raise SweepFileError(
                f"{where}final.distance_to_dse: expected an object of numbers, got {_short(d)}"
            )


def format_table(summary: Mapping[str, Any]) -> str:
    """A plain-text table of a sweep summary: one line per configuration (swept values,
    status, final distance to the DSE median / IQR / max, wall seconds)."""
    swept = summary["swept"]
    head = [*swept, "status", "median", "q25", "q75", "max", "wall s"]
    rows = [head]
    for c in summary["configurations"]:
        d = (c.get("final") or {}).get("distance_to_dse") or {}

        def g(k: str, d: Mapping[str, float] = d) -> str:
            return f"{d[k]:.3g}" if k in d else "-"

        wall = c.get("wall_seconds")
        rows.append(
            [
                *(_csv_value(c["values"].get(k)) for k in swept),
                c["status"],
                g("median"),
                g("q25"),
                g("q75"),
                g("max"),
                f"{wall:.1f}" if wall is not None else "-",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )
