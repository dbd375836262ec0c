"""Start-up imports only what a run needs (issue 9): SciPy's optimisers and special functions
load on first use, not at ``import hic_envs`` / ``import agents``."""

from __future__ import annotations

import subprocess
import sys


def test_import_does_not_load_scipy_submodules():
    code = (
        "import sys, hic_envs, agents, agents.compose.engines.runner; "
        "print(sorted(m for m in ('scipy.optimize', 'scipy.special', 'scipy.linalg') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_scipy_loads_on_first_use():
    from hic_envs.games import MatchingPennies

    eq = MatchingPennies().stackelberg()  # a linear program: scipy.optimize.linprog
    assert eq.x.shape == (1,)
