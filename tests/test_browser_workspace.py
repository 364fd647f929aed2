"""The workspace in a real browser: headless Chromium (Debian's package, installed by .ci/run)
signs in, searches in Georgian and Russian, opens a story, marks it not relevant and finds it
gone from the next digest; every page at phone and desktop widths (screenshots in
test-artifacts/), checked with axe-core for serious and critical accessibility violations."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_browser import ARTIFACTS, CHROMIUM
from tests.test_e2e import EN_COOP, RU_COOP, today_digest
from tests.test_web import KA_COOP, PASSWORD, site  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Debian's chromium is not installed; .ci/run installs it (apt-get install chromium)",
    ),
    # The pages are the same on both databases (tests/test_web.py runs them on both); and the
    # workspace's cycle cannot start while the browser's event loop runs in this thread.
    pytest.mark.parametrize("site", ["sqlite"], indirect=True),
]
WIDTHS = {"phone": 375, "desktop": 1280}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"],
        )  # fmt: skip
        yield instance
        instance.close()


def checked(page: Any, name: str) -> None:
    """No serious or critical accessibility violation, no horizontal scrolling; a screenshot."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert not bad, f"{name}: {bad}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name}: {overflow}px wider than the window"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"workspace-{name}.png"), full_page=True)


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_page_reads_well(site: dict[str, Any], chromium: Any, width: str) -> None:  # noqa: F811
    context = chromium.new_context(
        viewport={"width": WIDTHS[width], "height": 800}, bypass_csp=True
    )
    page = context.new_page()
    try:
        page.goto(site["base"] + "/login")
        checked(page, f"login-{width}")
        page.fill("#name", "leyla")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(site["base"] + "/")
        checked(page, f"latest-{width}")
        page.goto(site["base"] + "/search?q=კინო")
        checked(page, f"search-{width}")
        page.goto(site["base"] + "/trends")
        checked(page, f"trends-{width}")
        page.goto(site["base"] + "/sources")
        checked(page, f"sources-{width}")
    finally:
        context.close()


def test_search_open_and_mark_not_relevant(site: dict[str, Any], chromium: Any) -> None:  # noqa: F811
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(site["base"] + "/")
        page.wait_for_url("**/login?next=*")
        page.fill("#name", "omar")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(site["base"] + "/")

        # Georgian: the word finds its inflected forms (კინოს, კინოცენტრი).
        page.fill("#q", "კინო") if page.locator("#q").count() else page.goto(
            site["base"] + "/search"
        )
        page.goto(site["base"] + "/search")
        page.fill("#q", "კინო")
        page.click("form[role=search] button[type=submit]")
        assert page.locator(f"text={KA_COOP.title}").count() == 1
        assert page.locator("mark").count() >= 1

        # Russian: фильм finds фильмов; open the story and mark it not relevant.
        page.fill("#q", "фильм")
        page.click("form[role=search] button[type=submit]")
        page.click(f"text={RU_COOP.title}")
        page.wait_for_url("**/stories/*")
        page.fill("#note", "a partner's own announcement")
        page.click("button[value='0']")
        page.wait_for_url("**/stories/*")
        assert page.locator(".banner").count() == 1
        checked(page, "story-marked-desktop")
    finally:
        context.close()

    # The next digest (its own process: Playwright's loop holds this thread) leaves it out.
    digest = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(site["config"]), "digest"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert digest.returncode == 0, digest.stderr
    titles = [story["title"] for story in today_digest(site["folder"])["stories"]]
    assert RU_COOP.title not in titles
    assert EN_COOP.title in titles  # the others stay
