"""torch threads on the SB3 paths (issue 21): one thread unless the user chose a number.

Each case runs in a fresh interpreter with the thread variables removed (the suite's conftest
sets ``OMP_NUM_THREADS=1`` for itself), so torch starts at its own default.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from agents.sb3 import _torch_defaults, limit_torch_threads


def _python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**clean, **env},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


MAKE_VIEW = (
    "import gymnasium, hic_envs; "
    "gymnasium.make('hic/Duopoly-Follower-v0'); "
    "print(torch.get_num_threads())"
)


def test_a_view_gives_torch_one_thread_by_default():
    assert _python("import torch; " + MAKE_VIEW) == "1"


def test_an_explicit_thread_count_stands():
    chosen = max(_torch_defaults()) + 1  # not a count torch starts with here
    assert _python(f"import torch; torch.set_num_threads({chosen}); " + MAKE_VIEW) == str(chosen)


def test_omp_num_threads_stands():
    code = "import torch; print(torch.get_num_threads(), end=' '); " + MAKE_VIEW
    before, after = _python(code, OMP_NUM_THREADS="2").split()
    if before == "1":
        pytest.skip("torch gives one thread for OMP_NUM_THREADS=2 here (a 1-CPU machine)")
    assert after == before


def test_torch_is_not_imported_to_set_threads():
    code = (
        "import sys, gymnasium, hic_envs; from agents.sb3 import limit_torch_threads; "
        "gymnasium.make('hic/Duopoly-Follower-v0'); "
        "print(limit_torch_threads(), 'torch' in sys.modules)"
    )
    assert _python(code) == "0 False"


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        limit_torch_threads(bad)
