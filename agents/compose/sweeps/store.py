"""The files of a sweep directory, and reading them back.

The sweep writes, atomically (temporary file, fsync, ``os.replace``):

``sweep.json``
    The normalised spec, the swept keys, and one entry per configuration: its name, hash,
    directory, swept values, full config, status (``pending``, ``finished``, ``failed``), the
    error of a failed one, its final distance statistics and its wall time. Rewritten after
    every configuration that finishes or fails.
``sweep.csv``
    One row per configuration: the swept values, status, seeds, stages, the final distance to
    the DSE over seeds (median, 25th and 75th percentiles, IQR, max), wall seconds, error.
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

from agents.compose.experiments.results import atomic_write

__all__ = [
    "CSV_STATS",
    "RUN_CSV",
    "RUN_SUMMARY",
    "SWEEP_CSV",
    "SWEEP_JSON",
    "dirs_by_hash",
    "finished_summary",
    "format_table",
    "load_sweep_summary",
    "summary_digest",
    "write_sweep_files",
]

SWEEP_JSON = "sweep.json"
SWEEP_CSV = "sweep.csv"
#: The files of one ``hic run`` directory (agents.compose.experiments.results' layout).
RUN_SUMMARY = "summary.json"
RUN_CSV = "updates.csv"


def finished_summary(out: Path, config: dict[str, Any]) -> dict[str, Any] | None:
    path = out / RUN_SUMMARY
    if not path.exists():
        return None
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if summary.get("config") == config and summary.get("progress", {}).get("complete"):
        return summary
    return None


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
    atomic_write(out / SWEEP_JSON, (json.dumps(sweep, indent=2) + "\n").encode())
    atomic_write(out / SWEEP_CSV, _csv_text(sweep).encode())


def dirs_by_hash(out: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    if out.is_dir():
        for d in sorted(out.iterdir()):
            m = re.search(r"-([0-9a-f]{12})$", d.name)
            if m and d.is_dir():
                found.setdefault(m.group(1), d.name)
    return found


def load_sweep_summary(sweep_dir: str | os.PathLike) -> dict[str, Any]:
    """Read a sweep directory's ``sweep.json``.

    Raises:
        FileNotFoundError: ``sweep_dir`` holds no sweep.
    """
    path = Path(sweep_dir) / SWEEP_JSON
    if not path.exists():
        raise FileNotFoundError(f"{sweep_dir} is not a sweep directory: {SWEEP_JSON} is missing")
    return json.loads(path.read_text())


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
