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


def test_hic_list_computes_nothing_it_does_not_print():
    """``hic list`` constructs every registered game for its name and dimensions (issue 21):
    no constructor imports SciPy's special functions or optimisers or solves for an
    equilibrium, so the command starts about as fast as ``import agents``
    (``python scripts/startup_time.py``)."""
    code = (
        "import sys, io, contextlib; from agents.compose.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out: main(['list'])\n"
        "assert 'hic/Nonlinear-v0' in out.getvalue()\n"
        "import hic_envs\n"
        "game = hic_envs.game_from_id('hic/Nonlinear-v0')\n"
        "print(sorted(m for m in ('scipy.optimize', 'scipy.special', 'scipy.linalg') "
        "if m in sys.modules), game._stackelberg_cache is None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] True", out.stderr


def test_the_boxes_logistic_is_scipys_bit_for_bit():
    # The matrix games' and the IPD's boxes come from a scalar logistic that spares the
    # constructors the import of scipy.special; it must give expit's bits (same process).
    import math

    import numpy as np
    import scipy.special

    from hic_envs.games.matrix import _expit

    rng = np.random.default_rng(0)
    z = np.concatenate(
        [rng.normal(0, 1, 20_000), rng.normal(0, 40, 20_000), rng.uniform(-760, 760, 20_000)]
    )
    z = np.concatenate([z, [0.0, -0.0, 709.78, -709.78, -745.2, -800.0, 1e-300, -1e-300]])
    ours = np.array([_expit(float(v)) for v in z])
    assert np.array_equal(ours, scipy.special.expit(z))
    assert _expit(-math.inf) == 0.0 and _expit(math.inf) == 1.0
