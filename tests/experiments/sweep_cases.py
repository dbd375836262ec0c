"""Tiny sweep specs and checks shared by the sweep tests (serial, process and Ray)."""

from __future__ import annotations

import json
from pathlib import Path

#: Four configurations of 3 seeds x 3000 stages on the duopoly: two step-size exponents
#: (a field of a schedule spec) crossed with two noise levels (the published code's
#: grid_search form).
TINY = {
    "name": "tiny",
    "base": {
        "env_id": "hic/Duopoly-v0",
        "seeds": 3,
        "stages": "3e3",
        "seed": 7,
        "step_size": "power:a=1.07,gamma=0.602,A=100",
        "noise_std": {"grid_search": [0.0, 0.5]},
    },
    "grid": {"step_size.gamma": [0.602, 0.8]},
}

#: Three configurations, the second of which fails when its leader is built (a Corollary 4.11
#: commitment whose beta is too large for the game's mu: known only once the game is built).
WITH_FAILURE = {
    "name": "failing",
    "base": {"env_id": "hic/Quadratic-v0", "seeds": 2, "stages": 2000},
    "grid": {"commitment": [8, "corollary:p=0.5,beta=1000", 16]},
}

#: A user game registered by tests/experiments/usergame_for_sweep.py, gridded over its target.
USER_GAME = {
    "name": "user",
    "imports": ["usergame_for_sweep"],
    "base": {"env_id": "mylab/SweepTarget-v0", "seeds": 2, "stages": 2000},
    "grid": {"game_kwargs.c": [0.0, 2.0]},
}


def run_files(sweep_dir: Path) -> dict[str, bytes]:
    """Each configuration's updates.csv bytes, by directory name."""
    summary = json.loads((sweep_dir / "sweep.json").read_text())
    return {
        c["dir"]: (sweep_dir / c["dir"] / "updates.csv").read_bytes()
        for c in summary["configurations"]
        if c["status"] == "finished"
    }


def run_summary_without_timing(run_dir: Path) -> dict:
    s = json.loads((run_dir / "summary.json").read_text())
    s.pop("timing")
    return s


def no_temp_files(sweep_dir: Path) -> bool:
    return not [p for p in sweep_dir.rglob("*") if p.name.endswith(".tmp")]
