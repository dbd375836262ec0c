"""Sphinx configuration of the hic-envs site.

Pages that follow the code (one per game, one per learner, the API reference) are generated at
build time by ``docs/_ext/hic_pages.py`` from ``hic_envs.registration.LIBRARY_GAMES``,
``agents.catalog`` and the packages found on disk, so a new game, learner or module appears
without editing this file. Build: ``sphinx-build -W -b html docs docs/_build/html``.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS / "_ext"))

project = "hic-envs"
author = "hic-envs contributors"
copyright = "hic-envs contributors"  # noqa: A001

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "hic_pages",
]

#: The packages whose modules the API reference documents (found recursively at build time).
api_packages = ["hic_envs", "agents"]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3
templates_path = ["_templates"]
exclude_patterns = ["_build", "pending", "results/gan_study", "README.md", "Thumbs.db", ".DS_Store"]

autosummary_generate = True
autosummary_imported_members = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# Annotated option types by their names (their parsers' reprs hold memory addresses).
autodoc_type_aliases = {
    "RecordText": "agents.compose.experiments.experiment.RecordText",
    "ScheduleValue": "agents.specs.ScheduleValue",
    "CommitmentValue": "agents.specs.CommitmentValue",
}
# Each object once, where it is defined (packages re-export names through __all__).
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_attr_annotations = True
# Attributes sections as fields: a dataclass field is then described once (autodoc's member).
napoleon_use_ivar = True

html_theme = "furo"
html_title = "hic-envs"
html_static_path: list[str] = []
