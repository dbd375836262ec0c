"""Sphinx extension: the pages that follow the code, written at build time.

* ``games/``: one page per row of :data:`hic_envs.registration.LIBRARY_GAMES`: the class
  docstring (Description, strategy spaces, payoffs, equilibria, arguments, version history; the
  docstrings are Markdown), the ground truth the game computes at its defaults
  (``stackelberg()``, ``nash()``) and the payoff landscape drawn by the env's own
  ``render_mode="rgb_array"`` (:mod:`hic_envs.rendering`); an index with the table ``hic list
  --equilibria`` prints.
* ``learners/``: one page per row of ``agents.catalog.LEADERS`` / ``FOLLOWERS``, with the class
  the row builds (on the duopoly) and its docstring.
* ``api/``: the API reference, ``autosummary`` over the packages named by ``API_PACKAGES`` in
  ``conf.py``, recursive, so new modules appear without a list to keep.

Game docstrings are Markdown (``## Description`` ...); for autodoc, which reads reStructuredText,
their headings become rubrics and their tables literal blocks.
"""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from sphinx.application import Sphinx
from sphinx.util import logging

LOG = logging.getLogger(__name__)
#: Directories written here at build time (ignored by git).
GENERATED = ("games", "learners", "api")
_ROLE = re.compile(r":(class|func|meth|attr|mod|data|exc|obj):`")


def _fmt(v: Any) -> str:
    a = np.atleast_1d(np.asarray(v, dtype=np.float64))
    s = ", ".join(f"{t:.6g}" for t in a)
    return s if a.size == 1 else f"({s})"


def _md_docstring(doc: str) -> str:
    """A game's Markdown docstring for MyST: RST roles become MyST roles."""
    return _ROLE.sub(lambda m: "{py:" + m.group(1) + "}`", doc)


def _slug(env_id: str) -> str:
    return env_id.split("/")[-1].lower()


def _game_pages(out: Path) -> None:
    import matplotlib.image
    import pettingzoo

    import hic_envs  # noqa: F401  (registers the IDs)
    from hic_envs.registration import LIBRARY_GAMES, game_from_id

    rows, names = [], []
    for env_id, target in LIBRARY_GAMES.items():
        module, cls_name = target.split(":")
        cls = getattr(__import__(module, fromlist=[cls_name]), cls_name)
        game = game_from_id(env_id)
        slug = _slug(env_id)
        env = pettingzoo.make("parallel", env_id, render_mode="rgb_array")
        env.reset(seed=0)
        matplotlib.image.imsave(out / f"{slug}.png", env.render())
        env.close()
        doc = inspect.getdoc(cls) or ""
        summary, _, body = doc.partition("\n")
        truth, dse_s, nash_s = _truth_table(game)
        page = (
            f"# {cls_name} (`{env_id}`)\n\n{summary}\n\n"
            f"```{{image}} {slug}.png\n:alt: payoff landscape of {env_id}\n:width: 320px\n```\n\n"
            "The leader's payoff landscape at the defaults, as "
            f'`pettingzoo.make("parallel", "{env_id}", render_mode="rgb_array")` draws it after '
            "`reset`: leader strategy `x` left to right, follower `y` bottom to top; white: the "
            "best response `r(x)`; red cross: the DSE; cyan ring: the differential Nash "
            "equilibrium where there is one (no curve or markers where no equilibrium is "
            "known).\n\n"
            f"## Ground truth at the defaults\n\n`{module}.{cls_name}()`, "
            f"d1 = {game.d1}, d2 = {game.d2}; computed by the game when this page was built:\n\n"
            f"{truth}\n{_md_docstring(body).strip()}\n"
        )
        (out / f"{slug}.md").write_text(page)
        names.append(slug)
        rows.append(
            f"| [`{env_id}`]({slug}.md) | `{cls_name}` | {game.d1} | {game.d2} | "
            f"{dse_s} | {nash_s} |"
        )
    index = (
        "# Games\n\nEvery row of `hic_envs.registration.LIBRARY_GAMES`, with the ground truth "
        "each game computes at its defaults (`hic list --equilibria` prints the same table). "
        "Each page is "
        "generated from the game's class docstring and the game itself.\n\n"
        "| ID | class | d1 | d2 | DSE x\\*; y\\* | differential Nash |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "```{toctree}\n:hidden:\n\n" + "\n".join(names) + "\n```\n"
    )
    (out / "index.md").write_text(index)


def _truth_table(game: Any) -> tuple[str, str, str]:
    """The ground-truth table of a game's page, and the DSE and Nash cells of the index."""
    if not game.has_equilibria:
        return (
            "No equilibrium is known (`game.has_equilibria` is False: `stackelberg()` and "
            "`nash()` raise `ValueError`); the docstring below says how a generator is scored "
            "instead.\n",
            "unknown",
            "unknown",
        )
    dse, nash = game.stackelberg(), game.nash()
    nash_s = "none" if nash is None else f"x = {_fmt(nash.x)}, y = {_fmt(nash.y)}"
    truth = (
        "| | leader x | follower y | leader payoff f1 |\n|---|---|---|---|\n"
        f"| DSE (`game.stackelberg()`) | {_fmt(dse.x)} | {_fmt(dse.y)} | "
        f"{dse.leader_payoff:.6g} |\n"
    )
    if nash is not None:
        truth += (
            f"| differential Nash (`game.nash()`) | {_fmt(nash.x)} | {_fmt(nash.y)} | "
            f"{nash.leader_payoff:.6g} |\n"
        )
    else:
        truth += "| differential Nash (`game.nash()`) | none | | |\n"
    return truth, f"{_fmt(dse.x)}; {_fmt(dse.y)}", nash_s


def _options_table(spec: Any, flags: dict[tuple[str, str, str], str]) -> str:
    """The learner's options class as a table: `hic run` flag (= sweep key), default, help."""
    from agents.specs import field_docs, option_fields, to_text

    docs = field_docs(spec.options)
    rows = []
    for fname, (_tp, default) in option_fields(spec.options).items():
        flag = flags.get((spec.role, spec.name, fname), "")
        try:
            shown = "unset (preset)" if default is None else f"`{to_text(default)}`"
        except (TypeError, ValueError):  # booleans and the like have no schedule text form
            shown = f"`{default!r}`"
        doc = " ".join(docs.get(fname, "").split()).replace("|", "\\|")
        rows.append(f"| `{fname}` | `{flag}` | {shown} | {doc} |")
    if not rows:
        return "This learner takes no options.\n"
    return (
        f"Declared once, as `{spec.options.__module__}.{spec.options.__qualname__}`; the "
        "`hic run` flags, sweep keys (the flag without `--`, dashes as underscores) and "
        "`hic list` are made from it.\n\n"
        "| option | `hic run` flag | default | help |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )


def _learner_pages(out: Path) -> None:
    from agents import catalog
    from agents.compose.experiments.experiment import learner_options
    from hic_envs.games import Duopoly

    flags = {
        (o.role, name, o.field): o.flag for o in learner_options().values() for name in o.learners
    }

    game = Duopoly()
    partner = catalog.FOLLOWERS["gradient"].build(game, 2, {})
    rows, names = [], []
    for table in (catalog.LEADERS, catalog.FOLLOWERS):
        for name, spec in table.items():
            try:
                agent = spec.build(game, 2, {}, partner if spec.role == "leader" else None)
            except Exception as exc:  # noqa: BLE001  (reported as a build warning, -W fails)
                LOG.warning("learner %r could not be built on the duopoly: %s", name, exc)
                continue
            cls = type(agent)
            slug = re.sub(r"[^a-z0-9]+", "-", f"{spec.role}-{name}".lower())
            opts = _options_table(spec, flags)
            coupled = "yes" if spec.coupled else "no"
            page = (
                f"# {spec.display} (`{name}`)\n\n{spec.summary}\n\n"
                "| | |\n|---|---|\n"
                f"| role | {spec.role} |\n| command name | `--{spec.role} {name}` |\n"
                f"| coupled (reads the other player's payoff) | {coupled} |\n"
                f"| class built | `{cls.__module__}.{cls.__qualname__}` |\n\n"
                f"Run it: `hic run hic/Duopoly-v0 --{spec.role} {name} --out runs/{name}`.\n\n"
                f"## Options\n\n{opts}\n"
                "## The class\n\n"
                f"```{{eval-rst}}\n.. autoclass:: {cls.__module__}.{cls.__qualname__}\n"
                "   :no-index:\n   :members:\n```\n"
            )
            (out / f"{slug}.md").write_text(page)
            names.append(slug)
            rows.append(
                f"| [{spec.display}]({slug}.md) | `{name}` | {spec.role} | "
                f"{'yes' if spec.coupled else 'no'} | {spec.summary} |"
            )
    index = (
        "# Learners\n\nEvery row of `agents.catalog` (`LEADERS` and `FOLLOWERS`): what "
        "`hic run --leader NAME --follower NAME`, sweeps, plots and the benchmark accept. A "
        "learner registered with `agents.catalog.register_leader` / `register_follower` gets a "
        "page here.\n\n| learner | name | role | coupled | summary |\n|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\n```{toctree}\n:hidden:\n\n"
        + "\n".join(names)
        + "\n```\n"
    )
    (out / "index.md").write_text(index)


def _api_pages(out: Path, packages: list[str]) -> None:
    items = "\n".join(f"   {p}" for p in packages)
    (out / "index.rst").write_text(
        "API reference\n=============\n\nGenerated from the docstrings, every module of the "
        "packages below (found when the site is built).\n\n"
        f".. autosummary::\n   :toctree: generated\n   :recursive:\n\n{items}\n"
    )


def _generate(app: Sphinx, config: Any) -> None:
    src = Path(app.srcdir)
    for name in GENERATED:
        shutil.rmtree(src / name, ignore_errors=True)
        (src / name).mkdir()
    _game_pages(src / "games")
    _learner_pages(src / "learners")
    _api_pages(src / "api", list(config.api_packages))


def _markdown_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    """Make a Markdown docstring (``## Heading``, ``| table |``) readable by autodoc."""
    if not any(line.startswith("## ") for line in lines):
        return
    out: list[str] = []
    in_table = False
    for line in lines:
        if line.startswith("## "):
            out += [f".. rubric:: {line[3:].strip()}", ""]
            continue
        if line.startswith("|"):
            if not in_table:
                out += ["::", ""]
                in_table = True
            out.append("   " + line)
            continue
        if in_table:
            out.append("")
            in_table = False
        out.append(line)
    lines[:] = out


_STARRED = re.compile(r"(?<= )\*\*(kwargs|kw)\b")


def _escape_starred(app, what, name, obj, options, lines: list[str]) -> None:
    """Escape a ``**kwargs`` in the middle of a line (reST would read it as bold's start)."""
    lines[:] = [_STARRED.sub(r"\\*\\*\1", line) for line in lines]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("api_packages", ["hic_envs", "agents"], "env")
    # At config time, before Sphinx looks for source files and autosummary for its stubs.
    app.connect("config-inited", _generate)
    app.connect("autodoc-process-docstring", _markdown_docstring)
    app.connect("autodoc-process-docstring", _escape_starred)
    return {"parallel_read_safe": True, "version": "1"}
