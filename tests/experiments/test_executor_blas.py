"""The sweep's executors run every configuration with the same BLAS threading (issue 17):
serial (in the driver's process) and process (spawned workers) gave other bits on
RandomQuadratic(d = 128) when the driver's OpenBLAS ran two threads and the workers one."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from agents.compose.sweeps import run_sweep
    sys.path.insert(0, {here!r})
    from sweep_cases import run_files

    spec = {{
        "name": "blas",
        "base": {{
            "env_id": "hic/RandomQuadratic-v0",
            "game_kwargs": {{"d1": 128, "d2": 128, "seed": 0}},
            "leader": "hierarchical",
            "seeds": 3,
            "stages": 300,
            "record": "all",
        }},
        "grid": {{"seed": [1, 2]}},
    }}
    out = Path({out!r})
    serial = run_sweep(spec, out / "serial", executor="serial", progress=False)
    process = run_sweep(spec, out / "process", executor="process", workers=2, progress=False)
    assert serial["counts"]["finished"] == process["counts"]["finished"] == 2
    same = run_files(out / "serial") == run_files(out / "process")
    print("same" if same else "different")
    """
)


def test_serial_and_process_executors_give_the_same_bits_without_thread_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    code = SCRIPT.format(here=str(Path(__file__).parent), out=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "same", proc.stdout
