"""The HTML digest in a real browser: headless Chromium (Debian's package, installed by
.ci/run) at phone and desktop widths. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.digest import build_digest
from monitor.formats.html import render_html
from tests.test_digest import HEALTH, stored

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed; .ci/run installs it (apt-get install chromium)",
)

LONG = (
    "Azərbaycan, Türkiyə, Özbəkistan, Pakistan, Gürcüstan və İtaliyanın kinematoqrafiya agentlikləri "
    * 3
)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield instance
        instance.close()


def digest_page(tmp_path: Path) -> tuple[Path, list[str]]:
    stories = [
        stored(1, "Film agencies of six countries discuss co-production in Baku", 0.95),
        stored(2, LONG, 0.8, url="https://az.example/" + "x" * 200),  # long words and URL
        stored(3, "Киноагентства Азербайджана и Узбекистана подписали соглашение", 0.7),
    ]
    digest = build_digest(
        date(2026, 11, 26),
        ZoneInfo("Asia/Baku"),
        datetime(2026, 11, 26, 4, tzinfo=UTC),
        stories,
        HEALTH,
    )
    path = tmp_path / "digest.html"
    path.write_text(render_html(digest, "en", "aspect"), encoding="utf-8")
    return path, [s.url for s in digest.stories]


@pytest.mark.parametrize("width", [375, 1280])
def test_no_horizontal_overflow_and_every_story_link(
    browser: object, tmp_path: Path, width: int
) -> None:
    path, urls = digest_page(tmp_path)
    page = browser.new_page(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    links = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"digest-{width}px.png"), full_page=True)
    page.close()
    assert overflow <= 0, f"{overflow}px of horizontal overflow at {width}px"
    assert set(urls) <= set(links)
    assert requests == [path.as_uri()]  # nothing remote is loaded
