"""``scripts/check_site.py`` finds what a reader would: a broken image, a dead link, a missing
anchor, a console error, a search that finds nothing. Needs Debian's chromium and playwright
(the docs extra); ``.ci/run`` runs the check on the real site."""

from __future__ import annotations

import importlib.util
import pathlib
import shutil
import sys

import pytest

pytest.importorskip("playwright", reason="playwright is not installed (the docs extra)")
if shutil.which("chromium") is None:
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("check_site", ROOT / "scripts" / "check_site.py")
check_site = importlib.util.module_from_spec(_spec)
sys.modules["check_site"] = check_site
_spec.loader.exec_module(check_site)

_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def _site(tmp_path: pathlib.Path, broken: bool) -> pathlib.Path:
    site = tmp_path / "html"
    (site / "games").mkdir(parents=True)
    (site / "ok.png").write_bytes(_PNG)
    img = "missing.png" if broken else "ok.png"
    link = "nowhere.html" if broken else "games/duopoly-v0.html"
    anchor = "#no-such-id" if broken else "#here"
    script = "<script>console.error('boom')</script>" if broken else ""
    (site / "index.html").write_text(
        f"<html><body id='here'><img src='{img}'><a href='{link}'>x</a>"
        f"<a href='index.html{anchor}'>y</a>{script}</body></html>"
    )
    (site / "games" / "duopoly-v0.html").write_text("<html><body>Duopoly</body></html>")
    hit = "" if broken else "<a href='games/duopoly-v0.html'>Duopoly</a>"
    (site / "search.html").write_text(
        f"<html><body><div id='search-results'>{hit}</div></body></html>"
    )
    return site


@pytest.mark.slow
@pytest.mark.parametrize("broken", [False, True])
def test_the_check_passes_a_sound_site_and_names_every_defect_of_a_broken_one(
    tmp_path, monkeypatch, broken
):
    monkeypatch.setattr(check_site, "SEARCH_TIMEOUT_MS", 3000)
    site = _site(tmp_path, broken)
    cfg = check_site.Config(site=site, screenshots=tmp_path / "shots")
    failures = check_site.check(cfg)
    assert (tmp_path / "shots" / "landing.png").stat().st_size > 0
    if not broken:
        assert failures == []
        return
    text = "\n".join(failures)
    for want in (
        "console error: boom",
        "image does not render: missing.png",
        "link to /nowhere.html: HTTP 404",
        "#no-such-id: no such anchor",
        "search for 'Duopoly'",
    ):
        assert want in text, text
