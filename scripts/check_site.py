"""Open the built documentation site in headless Chromium and check it as a reader sees it.

Usage::

    sphinx-build -W -b html docs docs/_build/html
    python scripts/check_site.py                      # serves docs/_build/html on 127.0.0.1

Serves the built site over HTTP on 127.0.0.1 and, with Debian's ``chromium`` driven by the
``playwright`` Python package (``executable_path``; no browser download), checks that

* every HTML page loads (HTTP 200) without console errors or uncaught page errors,
* every image on every page has rendered (``naturalWidth > 0``),
* every internal link (``href`` to this site, anchors included) resolves to a page that
  exists and, for ``#anchor``, an element with that id,
* the site search finds a game by name (``search.html?q=Duopoly`` lists the game's page).

Screenshots of the landing page and one game page go to ``--screenshots``. Exits 1 and lists
every failure when anything is wrong.
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import shutil
import sys
import tempfile
import threading
import urllib.parse
from pathlib import Path

from playwright.sync_api import sync_playwright

from agents.compose.cli.config import parse

ROOT = Path(__file__).resolve().parents[1]
#: How long the search may take to list its results.
SEARCH_TIMEOUT_MS = 20_000
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclasses.dataclass(frozen=True)
class Config:
    """Check the built documentation site in headless Chromium."""

    site: Path = ROOT / "docs" / "_build" / "html"
    """The built HTML site (sphinx-build's output directory)."""
    screenshots: Path = ROOT / "docs" / "_build" / "screenshots"
    """Where the screenshots of the landing page and a game page go."""
    chromium: Path = Path("/usr/bin/chromium")
    """The Chromium executable (Debian's package)."""
    game: str = "Duopoly"
    """The game the search must find (its page is also the one photographed)."""

    def __post_init__(self) -> None:
        if not (self.site / "index.html").is_file():
            raise ValueError(f"--site {self.site} has no index.html; build the site first")
        if not self.chromium.is_file():
            raise ValueError(
                f"--chromium {self.chromium} does not exist (apt-get install chromium)"
            )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def check(cfg: Config) -> list[str]:
    """Every failure found, as one line each (empty when the site is sound)."""
    pages = sorted(p.relative_to(cfg.site).as_posix() for p in cfg.site.rglob("*.html"))
    server, base = _serve(cfg.site)
    failures: list[str] = []
    cfg.screenshots.mkdir(parents=True, exist_ok=True)
    user_data = tempfile.mkdtemp(prefix="hic-site-chromium-")  # a fresh profile each run
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                user_data,
                executable_path=str(cfg.chromium),
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1280, "height": 900},
            )
            page = ctx.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            # Screenshots first: a search leaves its terms highlighted on later pages.
            page.goto(base + "index.html", wait_until="load")
            page.screenshot(path=str(cfg.screenshots / "landing.png"), full_page=False)
            game_page = f"games/{cfg.game.lower()}-v0.html"
            resp = page.goto(base + game_page, wait_until="load")
            if resp is None or resp.status != 200:
                failures.append(f"{game_page}: no such page to photograph")
            page.screenshot(
                path=str(cfg.screenshots / f"game_{cfg.game.lower()}.png"), full_page=True
            )
            links: set[str] = set()
            for rel in pages:
                errors.clear()
                resp = page.goto(base + rel, wait_until="load")
                if resp is None or resp.status != 200:
                    failures.append(f"{rel}: HTTP {None if resp is None else resp.status}")
                    continue
                failures += [f"{rel}: console error: {e}" for e in errors]
                broken = page.eval_on_selector_all(
                    "img",
                    "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0))"
                    ".map(i => i.getAttribute('src'))",
                )
                failures += [f"{rel}: image does not render: {src}" for src in broken]
                for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
                    if href.startswith(base):
                        links.add(href)
            failures += _check_links(page, base, links)
            failures += _check_search(page, base, cfg.game)
            ctx.close()
    finally:
        server.shutdown()
        shutil.rmtree(user_data, ignore_errors=True)
    print(
        f"{len(pages)} pages, {len(links)} internal links checked; screenshots in {cfg.screenshots}"
    )
    return failures


def _check_links(page, base: str, links: set[str]) -> list[str]:
    failures = []
    by_page: dict[str, set[str]] = {}
    for href in links:
        url, _, anchor = href.partition("#")
        by_page.setdefault(url, set()).add(anchor)
    for url, anchors in sorted(by_page.items()):
        path = urllib.parse.unquote(urllib.parse.urlparse(url).path)
        resp = page.goto(url, wait_until="domcontentloaded")
        if resp is None or resp.status != 200:
            failures.append(f"link to {path}: HTTP {None if resp is None else resp.status}")
            continue
        ids = set(page.eval_on_selector_all("[id]", "es => es.map(e => e.id)"))
        failures += [f"link to {path}#{a}: no such anchor" for a in sorted(anchors - {""} - ids)]
    return failures


def _check_search(page, base: str, game: str) -> list[str]:
    page.goto(base + f"search.html?q={game}", wait_until="load")
    try:
        page.wait_for_selector(
            f"#search-results a[href*='games/{game.lower()}-v']", timeout=SEARCH_TIMEOUT_MS
        )
    except Exception:  # noqa: BLE001  (playwright's TimeoutError; reported as a failure)
        return [f"search for {game!r} did not list games/{game.lower()}.html"]
    return []


def main(argv: list[str] | None = None) -> int:
    cfg = parse(Config, argv, prog="python scripts/check_site.py")
    failures = check(cfg)
    for f in failures:
        print("FAIL", f)
    print("site check:", "FAILED" if failures else "passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
