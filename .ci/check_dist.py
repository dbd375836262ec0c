"""Check what the built wheel and sdist hold (run by .ci/run after `python -m build`).

Usage: python .ci/check_dist.py DIST_DIR
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

import hic_envs


def main(dist: Path) -> int:
    version = hic_envs.__version__
    (wheel,) = dist.glob(f"hic_envs-{version}-py3-none-any.whl")
    (sdist,) = dist.glob(f"hic_envs-{version}.tar.gz")
    problems: list[str] = []

    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    expected_tops = {"hic_envs", "agents", f"hic_envs-{version}.dist-info"}
    if tops != expected_tops:
        problems.append(f"wheel top-level entries {sorted(tops)}, expected {sorted(expected_tops)}")
    info = f"hic_envs-{version}.dist-info"
    for must in ("hic_envs/py.typed", "agents/py.typed", "hic_envs/games/base.py",
                 "agents/compose/__init__.py", f"{info}/licenses/LICENSE"):  # fmt: skip
        if must not in names:
            problems.append(f"wheel lacks {must}")
    if any("tests/" in n or n.startswith("scripts/") for n in names):
        problems.append("wheel holds tests or scripts")
    meta = zipfile.ZipFile(wheel).read(f"hic_envs-{version}.dist-info/METADATA").decode()
    for line in (f"Version: {version}", "License-Expression: MIT", "Requires-Python: >=3.10"):
        if line not in meta.splitlines():
            problems.append(f"wheel METADATA lacks {line!r}")
    entry = zipfile.ZipFile(wheel).read(f"hic_envs-{version}.dist-info/entry_points.txt").decode()
    if "hic = agents.compose" not in entry:
        problems.append(f"wheel has no hic console script: {entry!r}")

    root = f"hic_envs-{version}/"
    members = {m[len(root) :] for m in tarfile.open(sdist).getnames() if m.startswith(root)}
    for must in ("LICENSE", "README.md", "CHANGELOG.md", "CITATION.cff", "pyproject.toml",
                 "hic_envs/py.typed", "agents/py.typed", "tests/conftest.py",
                 "tests/test_readme.py", "scripts/reproduce.py"):  # fmt: skip
        if must not in members:
            problems.append(f"sdist lacks {must}")
    if any("__pycache__" in m or m.endswith(".pyc") for m in members):
        problems.append("sdist holds compiled files")
    for p in problems:
        print(f"check_dist: {p}", file=sys.stderr)
    print(f"check_dist: {wheel.name} ({len(names)} files), {sdist.name} ({len(members)} entries)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
