"""The import contract: layers run one way, every module is in a layer, imports at the top.

The layers are the ``[tool.importlinter]`` contract of pyproject.toml (``lint-imports`` checks
them in CI); this test reads the same table, so it fails on a back edge even where
import-linter is not installed, and on a new module that no layer names.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hic_envs", "agents")
#: Function-level imports of first-party modules that are deliberate (heavy dependencies).
LAZY_ALLOWED = {
    ("agents.compose.cli", "agents.compose"),
    # The JAX engine (and JAX) load only when a run asks for backend="jax".
    ("agents.compose.runner", "agents.compose"),
    # The bench's numba limit kernel (and numba, an optional extra) load only when installed.
    ("agents.compose.bench", "agents.compose"),
}


def _layers() -> list[list[str]]:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in conf["contracts"] if c["type"] == "layers"]
    return [[m.strip() for m in layer.replace("|", ":").split(":")] for layer in contract["layers"]]


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _layer_of(module: str, layers: list[list[str]]) -> int | None:
    """Index of the layer holding ``module`` (or a package above it); None if unlisted."""
    best = None
    for i, layer in enumerate(layers):
        for name in layer:
            if module == name or module.startswith(name + "."):
                if best is None or len(name) > best[1]:
                    best = (i, len(name))
    return None if best is None else best[0]


def _imports(path: Path) -> list[tuple[str, bool, bool]]:
    """(module imported, at module top, under TYPE_CHECKING) for first-party imports."""
    tree = ast.parse(path.read_text())
    out = []

    def visit(node: ast.AST, top: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            is_tc = (
                isinstance(child, ast.If)
                and isinstance(child.test, ast.Name)
                and child.test.id == "TYPE_CHECKING"
            )
            if isinstance(child, ast.Import):
                out.extend((a.name, top, typing_only) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                out.append((child.module, top, typing_only))
            inner_top = top and not isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            )
            visit(child, inner_top, typing_only or is_tc)

    visit(tree, True, False)
    return [i for i in out if i[0].split(".")[0] in PACKAGES]


MODULES = _modules()
LAYERS = _layers()


def _is_alias(module: str) -> bool:
    # hic_envs.<game>_v0: thin re-export modules (PettingZoo's convention), importing only the
    # registration layer; they sit above it and nothing imports them.
    return module.startswith("hic_envs.") and module.rsplit(".", 1)[-1].endswith("_v0")


def test_every_module_is_in_a_layer():
    unlisted = [
        m
        for m in MODULES
        if m not in PACKAGES and not _is_alias(m) and _layer_of(m, LAYERS) is None
    ]
    assert not unlisted, f"add these modules to a layer in pyproject.toml: {unlisted}"


def _violations(module: str, path: Path) -> list[str]:
    src_layer = _layer_of(module, LAYERS)
    found = []
    for target, top, typing_only in _imports(path):
        if typing_only:
            continue
        if not top and (module, ".".join(target.split(".")[:2])) not in LAZY_ALLOWED:
            found.append(f"{module} imports {target} inside a function: imports belong at top")
        if module in PACKAGES or _is_alias(module) or src_layer is None:
            continue  # package faces re-export from the layers below them
        dst_layer = _layer_of(target, LAYERS)
        if dst_layer is not None and dst_layer < src_layer:
            found.append(
                f"{module} (layer {LAYERS[src_layer]}) imports {target} (layer "
                f"{LAYERS[dst_layer]}): an upward edge"
            )
    return found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_downwards_and_sit_at_the_top(module):
    assert _violations(module, MODULES[module]) == []


def test_a_back_edge_and_a_buried_import_are_caught(tmp_path):
    fake = tmp_path / "env.py"
    fake.write_text("from agents.hic import HiCLeader\n\ndef f():\n    import hic_envs.stage\n")
    found = _violations("hic_envs.env", fake)
    assert len(found) == 2
    assert "upward edge" in found[0] and "inside a function" in found[1]


def test_hic_envs_imports_nothing_from_agents():
    for module, path in MODULES.items():
        if module.split(".")[0] != "hic_envs":
            continue
        bad = [t for t, _, _ in _imports(path) if t.split(".")[0] == "agents"]
        assert not bad, f"{module} imports {bad}: hic_envs must not import agents"


def test_game_math_imports_no_env_library():
    for module, path in MODULES.items():
        if not module.startswith("hic_envs.games"):
            continue
        names = {n.split(".")[0] for n in _external_imports(path)}
        assert not names & {"gymnasium", "pettingzoo", "torch", "stable_baselines3"}, module


def _external_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out
