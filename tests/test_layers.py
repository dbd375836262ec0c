"""The import contract: layers run one way, every module is in a layer, imports at the top.

The layers are the ``[tool.importlinter]`` contract of pyproject.toml (``lint-imports`` checks
them in CI); this test reads the same table, so it fails on a back edge even where
import-linter is not installed, on a new module that no layer names, and on an import circle
(two modules that import each other, through any chain, at module top, in a function or under
``TYPE_CHECKING``).
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
#: Package faces that only re-export names of the layers below them (no layer of their own).
FACES = (*PACKAGES, "agents.compose")
#: Import circles that exist and are being removed elsewhere; none may grow, none may be added.
#: (The runner <-> jax_engine circle is gone: every engine builds on engines.records.)
KNOWN_CYCLES: list[set[str]] = []
#: Function-level imports of first-party modules that are deliberate (heavy dependencies).
LAZY_ALLOWED = {
    ("agents.compose.cli.main", "agents.compose"),
    # The JAX engine (and JAX) load only when a run asks for backend="jax".
    ("agents.compose.engines.runner", "agents.compose"),
    # Likewise for a sweep's batch of configurations with backend: jax.
    ("agents.compose.sweeps.batched", "agents.compose"),
    # The bench's numba limit kernel (and numba, an optional extra) load only when installed.
    ("agents.compose.engines.bench", "agents.compose"),
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
                # `from pkg import mod` imports the module pkg.mod, not just pkg.
                subs = [f"{child.module}.{a.name}" for a in child.names]
                found = [s for s in subs if s in MODULES]
                out.extend((s, top, typing_only) for s in found or [child.module])
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
        m for m in MODULES if m not in FACES and not _is_alias(m) and _layer_of(m, LAYERS) is None
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
        if module in FACES or _is_alias(module) or src_layer is None:
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


def _cycles(modules: dict[str, Path]) -> list[set[str]]:
    """The import circles among ``modules``: strongly connected sets of more than one module
    (or a module importing itself), over every first-party import (top, lazy or typing-only)."""
    graph = {
        m: sorted({t for t, _, _ in _imports(p) if t in modules and t != m})
        for m, p in modules.items()
    }
    for m, p in modules.items():
        if any(t == m for t, _, _ in _imports(p)):
            graph[m].append(m)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def strongconnect(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.add(w)
                if w == v:
                    break
            if len(scc) > 1 or v in graph[v]:
                out.append(scc)

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return out


def test_no_import_circles():
    new = [c for c in _cycles(MODULES) if c not in KNOWN_CYCLES]
    assert not new, f"import circles (modules that import each other): {new}"


def test_an_import_circle_is_caught(tmp_path, monkeypatch):
    # a -> b at the top, b -> c in a function, c -> a under TYPE_CHECKING: one circle of three.
    files = {
        "agents.a": "import agents.b\n",
        "agents.b": "def f():\n    from agents import c\n",
        "agents.c": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import agents.a\n",
        "agents.d": "import agents.a\n",
    }
    fake = {}
    for name, text in files.items():
        fake[name] = tmp_path / f"{name}.py"
        fake[name].write_text(text)
    monkeypatch.setitem(globals(), "MODULES", fake)  # `from agents import c` resolves in fake
    assert _cycles(fake) == [{"agents.a", "agents.b", "agents.c"}]
    del fake["agents.c"]
    assert _cycles(fake) == []


#: Composition modules that still read a learner's private attributes, and why (issue 18).
KNOWN_PRIVATE_READS = {
    # The JAX engine configures itself from the NumPy agents' `_init`; issue 18's rewrite of
    # the engine over the learners' rule sets removes it.
    "agents.compose.engines.jax_engine",
}
#: Private-looking names that are public API of the standard library.
_PUBLIC_UNDERSCORE = {"_exit", "_replace", "_asdict", "_fields", "_make", "_getframe"}


def _private_reads(path: Path) -> list[str]:
    """``from first_party import _name`` and ``obj._name`` (``obj`` not self or cls)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in PACKAGES:
                found += [
                    f"from {node.module} import {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and node.attr not in _PUBLIC_UNDERSCORE
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_composition_modules_reach_no_private_names():
    bad = {
        m: _private_reads(p)
        for m, p in MODULES.items()
        if m.startswith("agents.compose") and m not in KNOWN_PRIVATE_READS
    }
    assert not {m: v for m, v in bad.items() if v}


def test_a_private_read_is_caught(tmp_path):
    fake = tmp_path / "m.py"
    fake.write_text(
        "from agents.followers import _check_game\nimport os\n\n"
        "def f(leader):\n    os._exit(0)\n    return leader._init, self._x\n"
    )
    assert _private_reads(fake) == ["from agents.followers import _check_game", "line 6: ._init"]


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
