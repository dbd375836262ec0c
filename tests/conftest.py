"""Suite-wide settings.

BLAS and torch threads are pinned to one per process before NumPy or torch load: the suite's
linear algebra is on small matrices, where a 2-core machine under load runs multi-threaded
OpenBLAS calls up to ~100x slower than single-threaded ones. Results do not depend on it.
"""

import importlib.util
import os
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import gymnasium  # noqa: E402
import pettingzoo  # noqa: E402
import pytest  # noqa: E402

import hic_envs.registration  # noqa: E402

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture
def load_script(monkeypatch):
    """``load_script(name)``: ``scripts/<name>.py`` imported as a module, registered in
    ``sys.modules`` for the test (dataclasses look their module up there)."""

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, module)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(autouse=True)
def _restore_registries():
    """Undo any test's ``register_game``: tests see only the library's IDs plus their own."""
    saved = (
        dict(pettingzoo.parallel_registry),
        dict(pettingzoo.aec_registry),
        dict(gymnasium.registry),
        list(hic_envs.registration._registered),
    )
    yield
    for live, snap in zip(
        (pettingzoo.parallel_registry, pettingzoo.aec_registry, gymnasium.registry),
        saved[:3],
        strict=True,
    ):
        live.clear()
        live.update(snap)
    hic_envs.registration._registered[:] = saved[3]
