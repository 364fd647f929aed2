"""robots.txt as RFC 9309 reads it, on the patterns real news sites write: wildcards, `$`,
the longest rule winning, Allow winning a tie, a group for our product token, percent-encoded
paths; and the unreadable-file rules (4xx allows everything, 5xx nothing until retried)."""

from __future__ import annotations

import asyncio

import pytest

from monitor.fetch import Fetcher
from monitor.localserver import LocalServer, Reply, static
from monitor.robots import Robots
from monitor.settings import FetchPolicy

QUICK = FetchPolicy(retries=0, total_timeout=3, connect_timeout=2)


def allowed(server: LocalServer, robots_txt: str | None, paths: list[str]) -> list[bool]:
    if robots_txt is not None:
        server.route("/robots.txt", static(robots_txt.encode("utf-8"), "text/plain"))

    async def go() -> list[bool]:
        async with Fetcher(QUICK) as fetcher:
            robots = Robots(fetcher)
            return [await robots.allowed(server.url(p), private_ok=True) for p in paths]

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("robots_txt", "path", "expected"),
    [
        # The longest match wins: the whole site closed but its news open (first-match parsers
        # refused every article here).
        ("User-agent: *\nDisallow: /\nAllow: /news/\n", "/news/2026/kino-festival", True),
        ("User-agent: *\nDisallow: /\nAllow: /news/\n", "/about", False),
        # `$` anchors the end; `*` matches any run of characters.
        ("User-agent: *\nDisallow: /*.pdf$\n", "/files/report.pdf", False),
        ("User-agent: *\nDisallow: /*.pdf$\n", "/files/report.pdf.html", True),
        ("User-agent: *\nDisallow: /*?utm\n", "/news/1?utm_source=tg", False),
        ("User-agent: *\nDisallow: /*?utm\n", "/news/1", True),
        ("User-agent: *\nDisallow: /*/print/\n", "/az/news/print/123", False),
        # A plain rule is a prefix.
        ("User-agent: *\nDisallow: /search\n", "/search?q=kino", False),
        ("User-agent: *\nDisallow: /search\n", "/news/search-for-stars", True),
        # Equal length: Allow wins (the least restrictive rule).
        ("User-agent: *\nAllow: /page\nDisallow: /page\n", "/page/1", True),
        # A group for our product token overrides the * group, whatever its case.
        ("User-agent: *\nAllow: /\n\nUser-agent: Film-Coop-Monitor\nDisallow: /\n", "/a", False),
        ("User-agent: *\nDisallow: /\n\nUser-agent: film-coop-monitor\nAllow: /\n", "/a", True),
        # Percent-encoded paths match the decoded ones (a Cyrillic section).
        ("User-agent: *\nDisallow: /%D0%BA%D0%B8%D0%BD%D0%BE/\n", "/кино/1", False),
        # Comments, blank lines, unknown keys and an empty Disallow are no rules.
        ("# site\nUser-agent: *\nCrawl-delay: 10\nDisallow:\n", "/anything", True),
    ],
)
def test_patterns(server: LocalServer, robots_txt: str, path: str, expected: bool) -> None:
    assert allowed(server, robots_txt, [path]) == [expected]


def test_a_missing_robots_txt_allows_everything(server: LocalServer) -> None:
    server.route("/robots.txt", lambda _r: Reply(404, b"not found"))
    assert allowed(server, None, ["/news/1", "/admin"]) == [True, True]


def test_an_unreadable_robots_txt_allows_nothing_for_now(server: LocalServer) -> None:
    server.route("/robots.txt", lambda _r: Reply(503, b"busy"))
    assert allowed(server, None, ["/news/1"]) == [False]


def test_read_once_per_site(server: LocalServer) -> None:
    assert allowed(server, "User-agent: *\nDisallow: /x\n", ["/a", "/b", "/x/1"]) == [
        True,
        True,
        False,
    ]
    assert server.hits("/robots.txt") == 1
