"""A checkpoint is checked against the run it is resumed into before anything of it is used.

:func:`state_schema` says which arrays (name, dtype, shape) a run's config implies, from two
tiny runners of the same config (one and two seeds, a few stages: a shape that grows with the
batch grows with it). :func:`read_and_check` reads ``checkpoint.npz`` member by member against
it (headers and declared sizes first, :func:`.results.read_checkpoint`) and then
checks what a header cannot say:

* the binding to its run: the config equals the run's and its recorded SHA-256 matches; the
  arrays' SHA-256 recorded at write time matches; the CSV prefix the checkpoint vouches for
  (``csv_bytes``) has the recorded SHA-256 (a checkpoint spliced from another run, or edited,
  is refused);
* counters: the stage is an integer in ``[0, stages]`` equal to the metadata's; counts are
  non-negative; ``csv_bytes`` covers at least the header and at most the CSV;
* values: floating-point arrays are finite (where the run's own state is), and after loading
  the leader's and follower's strategies lie in their boxes.

Every refusal is a :class:`~.results.RunDirError` naming the file and the field;
nothing in the directory has been written when it is raised.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import numpy as np

from agents.compose.experiments.results import (
    RunDirError,
    Schema,
    arrays_digest,
    config_digest,
    csv_header,
    open_regular,
    read_checkpoint,
)

__all__ = ["TEMPLATE_STAGES", "csv_prefix_digest", "read_and_check", "state_schema"]

#: Stages the template runners play (state entries that appear once play starts appear).
TEMPLATE_STAGES = 200
_COUNTERS = ("stage", "n_seen", "leader/n", "follower/n", "leader/updates", "follower/updates")


def _template_states(config: Any, game: Any, seeds: int) -> list[dict[str, np.ndarray]]:
    runner = config.make_runner(config.build(game, seeds), record="none")
    first = runner.state_dict()
    runner.run(min(config.stages, TEMPLATE_STAGES))
    return [first, runner.state_dict()]


def state_schema(config: Any, game: Any) -> tuple[Schema, set[str], set[str]]:
    """The arrays a checkpoint of ``config`` holds.

    Returns:
        ``(schema, required, may_be_non_finite)``: ``schema`` maps each entry a checkpoint may
        hold to its ``(dtype, shape)`` at ``config.seeds`` seeds (None for an entry whose
        shape is not affine in the batch size: only its size is bounded then);
        ``required`` the entries every checkpoint holds; ``may_be_non_finite`` the float
        entries that are NaN or infinite in the run's own state.
    """
    one, two = (_template_states(config, game, s) for s in (1, 2))
    S = config.seeds
    schema: Schema = {}
    non_finite: set[str] = set()
    for st1, st2 in zip(one, two, strict=True):
        for k in st1.keys() & st2.keys():
            a, b = st1[k], st2[k]
            if a.ndim != b.ndim or a.dtype != b.dtype:
                schema[k] = None  # not affine in the batch size: bound its size only
                continue
            schema[k] = (
                a.dtype,
                tuple(x + (y - x) * (S - 1) for x, y in zip(a.shape, b.shape, strict=True)),
            )
            if a.dtype.kind == "f" and not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
                non_finite.add(k)
    required = one[0].keys() & two[0].keys()
    return schema, required, non_finite


def csv_prefix_digest(csv_path: Path, nbytes: int) -> tuple[Any, int | None]:
    """SHA-256 (a running hash object) of the first ``nbytes`` bytes of the CSV, and the stage
    of the last row in them (None for the header alone).

    Raises:
        RunDirError: if the CSV is missing, not a regular file, or shorter.
    """
    h = hashlib.sha256()
    tail = b""
    try:
        f = open_regular(csv_path)
    except FileNotFoundError:
        raise RunDirError(f"{csv_path} is missing; the run cannot be resumed") from None
    with f:
        left = nbytes
        while left:
            block = f.read(min(left, 1 << 20))
            if not block:
                raise RunDirError(
                    f"{csv_path} has {nbytes - left} bytes but the checkpoint was taken at "
                    f"{nbytes}: the CSV was truncated or replaced, so the run cannot be resumed"
                )
            h.update(block)
            tail = (tail + block)[-4096:]
            left -= len(block)
    lines = tail.split(b"\n")
    last = lines[-2] if len(lines) >= 2 else b""
    fields = last.split(b",")
    if len(fields) > 2 and fields[2].isdigit() and nbytes > len(last) + 1:
        return h, int(fields[2])
    return h, None


def _int_field(path: Path, meta: dict, key: str) -> int:
    v = meta.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise RunDirError(f"{path}: field {key!r} must be a non-negative integer, got {v!r}")
    return v


def read_and_check(
    ckpt_path: Path,
    csv_path: Path,
    config: Any,
    cfg: dict[str, Any],
    game: Any,
    runner: Any,
) -> tuple[dict[str, Any], Any]:
    """Read ``ckpt_path`` against the run of ``config`` and load it into ``runner``.

    Args:
        ckpt_path: the checkpoint.
        csv_path: the run's ``updates.csv`` (its prefix is checked, nothing is written).
        config: the run's :class:`~agents.compose.experiments.experiment.ExperimentConfig`.
        cfg: ``config.to_dict()``.
        game: the run's game.
        runner: a freshly built runner of the config; the checkpoint is loaded into it.

    Returns:
        ``(meta, csv_hash)``: the checkpoint's metadata and the running SHA-256 of the CSV
        prefix it vouches for (the run goes on hashing what it appends).

    Raises:
        RunDirError: naming the file and the field of anything that does not fit the run.
        ValueError: for a checkpoint of another config, naming the fields that differ.
    """
    schema, required, non_finite = state_schema(config, game)
    for role in ("leader", "follower"):  # declared state that the template runs did not reach
        attrs = ("obs_dim", *getattr(getattr(runner, role), "state_attrs", ()))
        for attr in attrs:
            schema.setdefault(f"{role}/{attr.lstrip('_')}", None)
    budget = sum(math.prod(s[1]) * s[0].itemsize for s in schema.values() if s is not None)
    _, meta = read_checkpoint(ckpt_path, arrays=False)
    stored = meta.get("config")
    if stored != cfg:
        stored = stored if isinstance(stored, dict) else {}
        diff = sorted(k for k in set(cfg) | set(stored) if cfg.get(k) != stored.get(k))
        raise ValueError(
            f"cannot resume {ckpt_path.parent}: its run has a different config (fields {diff}); "
            "resume with the same options, or choose another output directory"
        )
    state, meta = read_checkpoint(ckpt_path, schema, max_bytes=4 * budget + (1 << 20))
    if meta.get("config") != cfg:
        raise RunDirError(f"{ckpt_path} changed while it was read")
    missing = sorted(required - state.keys())
    if missing:
        raise RunDirError(f"{ckpt_path}: field {missing[0]!r} is missing")
    if meta.get("config_sha256") != config_digest(cfg):
        raise RunDirError(
            f"{ckpt_path}: field 'config' does not match its recorded SHA-256: it was edited"
        )
    if meta.get("arrays_sha256") != arrays_digest(state):
        raise RunDirError(
            f"{ckpt_path}: the arrays do not match their recorded SHA-256 "
            "(field 'arrays_sha256'): the checkpoint was edited or spliced"
        )
    stage = _int_field(ckpt_path, meta, "stage")
    if stage > config.stages:
        raise RunDirError(
            f"{ckpt_path}: field 'stage' is {stage}, beyond the run's {config.stages} stages"
        )
    if int(state["stage"]) != stage:
        raise RunDirError(
            f"{ckpt_path}: field 'stage' is {int(state['stage'])} in the arrays and {stage} in "
            "the metadata"
        )
    elapsed = meta.get("elapsed")
    if not isinstance(elapsed, (int, float)) or not math.isfinite(elapsed) or elapsed < 0:
        raise RunDirError(f"{ckpt_path}: field 'elapsed' must be a finite number >= 0")
    for k in _COUNTERS:
        if k in state and np.any(state[k] < 0):
            raise RunDirError(f"{ckpt_path}: field {k!r} holds a negative count")
    for k, v in state.items():
        if v.dtype.kind in "fc" and k not in non_finite and not np.all(np.isfinite(v)):
            raise RunDirError(f"{ckpt_path}: field {k!r} holds NaN or infinite values")
    csv_bytes = _int_field(ckpt_path, meta, "csv_bytes")
    head = len(csv_header(game.d1, game.d2).encode())
    if csv_bytes < head:
        raise RunDirError(
            f"{ckpt_path}: field 'csv_bytes' is {csv_bytes}, less than the {head}-byte header "
            f"of {csv_path.name}"
        )
    try:
        size = csv_path.stat().st_size
    except FileNotFoundError:
        raise RunDirError(f"{csv_path} is missing; the run cannot be resumed") from None
    if size < csv_bytes:
        raise RunDirError(
            f"{ckpt_path}: field 'csv_bytes' is {csv_bytes} but {csv_path} has {size} bytes: the "
            "CSV was truncated or replaced, or the checkpoint belongs to another run"
        )
    csv_hash, last_stage = csv_prefix_digest(csv_path, csv_bytes)
    if meta.get("csv_sha256") != csv_hash.hexdigest():
        raise RunDirError(
            f"{ckpt_path}: field 'csv_sha256' does not match the first {csv_bytes} bytes of "
            f"{csv_path}: the checkpoint belongs to another run, or the CSV was edited"
        )
    if last_stage is not None and last_stage > stage:
        raise RunDirError(
            f"{ckpt_path}: field 'stage' is {stage}, but {csv_path.name} records an update at "
            f"stage {last_stage} before it"
        )
    if "n_seen" in state and state["n_seen"].size and int(state["n_seen"].max()) > stage:
        raise RunDirError(
            f"{ckpt_path}: field 'n_seen' counts {int(state['n_seen'].max())} updates in "
            f"{stage} stages"
        )
    try:
        runner.load_state_dict(state)
    except (ValueError, TypeError, KeyError, IndexError) as err:
        raise RunDirError(f"{ckpt_path} does not fit this run: {err}") from None
    for role in ("leader", "follower"):
        agent = getattr(runner, role)
        s = np.asarray(agent.strategies)
        if not np.all((s >= agent.low) & (s <= agent.high)):
            raise RunDirError(
                f"{ckpt_path}: the {role}'s strategies (fields '{role}/...') lie outside its "
                f"box [{agent.low.tolist()}, {agent.high.tolist()}]"
            )
    return meta, csv_hash
