"""Every public function and method of ``hic_envs`` and ``agents`` has type hints (issue 21).

Public: a module whose dotted name has no part starting with ``_``, and in it a function or
class defined there whose name does not start with ``_`` (with the public methods,
properties and ``__init__`` of such classes). mypy (``[tool.mypy]`` in pyproject, run by
``.ci/run``) checks the bodies against these hints; this test checks that the hints exist, so a
new module or function is covered without a list to update.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import agents
import hic_envs

#: Optional dependencies whose absence lets a module that needs them be skipped.
OPTIONAL = {"jax", "ray", "torch", "stable_baselines3", "numba"}


def _unannotated(fn, is_method: bool) -> list[str]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature
        return []
    params = list(sig.parameters.values())[1 if is_method else 0 :]
    bad = [p.name for p in params if p.annotation is inspect.Parameter.empty]
    if sig.return_annotation is inspect.Signature.empty and fn.__name__ != "__init__":
        bad.append("return")
    return bad


def _public_callables():
    for pkg in (hic_envs, agents):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if any(part.startswith("_") for part in info.name.split(".")):
                continue
            try:
                module = importlib.import_module(info.name)
            except ModuleNotFoundError as err:
                if err.name and err.name.split(".")[0] in OPTIONAL:
                    continue
                raise
            for name, obj in vars(module).items():
                if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                    continue
                if inspect.isfunction(obj):
                    yield f"{module.__name__}.{name}", obj, False
                elif inspect.isclass(obj) and not getattr(obj, "_is_protocol", False):
                    for attr, member in vars(obj).items():
                        if attr.startswith("_") and attr != "__init__":
                            continue
                        where = f"{module.__name__}.{name}.{attr}"
                        if isinstance(member, staticmethod):
                            yield where, member.__func__, False
                        elif isinstance(member, classmethod):
                            yield where, member.__func__, True
                        elif inspect.isfunction(member):
                            yield where, member, True
                        elif isinstance(member, property) and member.fget is not None:
                            yield where, member.fget, True


def test_every_public_function_is_annotated():
    found = list(_public_callables())
    assert len(found) > 300  # the walk found the API (422 callables when this was written)
    missing = {where: bad for where, fn, method in found if (bad := _unannotated(fn, method))}
    assert not missing, "public functions without type hints (name: parameters):\n" + "\n".join(
        f"  {w}: {', '.join(b)}" for w, b in sorted(missing.items())
    )
