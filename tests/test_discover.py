"""Feed discovery: links read from saved homepages, then whole discovery against 127.0.0.1."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.discover import COMMON_FEED_PATHS, FoundFeed, discover_feeds, feed_links
from monitor.errors import FetchError
from monitor.fetch import Fetcher
from monitor.localserver import LocalServer, Reply, static
from monitor.settings import FetchPolicy
from tests.sites import Story, rss

DATA = Path(__file__).parent / "data" / "discover"
HTML = "text/html; charset=utf-8"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


# --- feed_links -----------------------------------------------------------------------------


def test_wordpress_main_feed_before_comments_feed() -> None:
    # oEmbed (json/xml) and hreflang alternates are not feeds; the sidebar repeats the feeds.
    assert feed_links(read("wordpress.html"), "https://kinocoop.example/") == [
        "https://kinocoop.example/feed/",
        "https://kinocoop.example/comments/feed/",
    ]


def test_news_site_with_only_an_rss_anchor() -> None:
    # Not the sitemap, the mailto:, the javascript: search, nor the share link carrying /rss/.
    assert feed_links(read("news-rss-anchor.html"), "https://xeber.example/") == [
        "https://xeber.example/rss/"
    ]


def test_base_href_and_rel_token_list() -> None:
    links = feed_links(read("base-href.html"), "https://kinonews.example/")
    assert links == [
        # REL="Alternate Feed", a type with parameters, a href relative to <base>
        "https://static.kinonews.example/portal/export/atom.xml",
        # an <a> whose text says RSS
        "https://static.kinonews.example/portal/export/",
    ]


def test_mixed_hrefs_junk_and_ordering() -> None:
    links = feed_links(read("mixed.html"), "https://filmdesk.example/")
    assert links == [
        # declared, same site, canonical: no fragment, no utm_ parameter
        "https://filmdesk.example/atom.xml",
        "https://filmdesk.example/feed.json",
        # declared, protocol-relative, another site
        "https://feeds.feedburner.example/filmdesk",
        # links: by URL, by the icon's title, by an image's alt; the same site first
        "https://filmdesk.example/feeds/reviews.xml",
        "https://filmdesk.example/podcast/",
        "https://partner.example/rss.xml",
    ]
    # /atom.xml appears twice; javascript:, data:, empty href, the sitemap typed
    # application/xml, /feedback/ and the Feedly link carrying a URL are all left out.
    assert len(set(links)) == len(links)


def test_protocol_relative_takes_the_page_scheme() -> None:
    page = '<link rel="alternate" type="application/rss+xml" href="//example.org/rss">'
    assert feed_links(page, "http://example.org/") == ["http://example.org/rss"]


def test_str_input_with_xml_declaration_and_non_utf8_bytes() -> None:
    page = (
        '<?xml version="1.0" encoding="utf-8"?><html><head>'
        '<link rel="alternate" type="application/rss+xml" href="/лента.xml"></head></html>'
    )
    assert feed_links(page, "https://ru.example/") == ["https://ru.example/лента.xml"]
    cp1251 = (
        '<html><head><meta charset="windows-1251"></head><body>'
        '<a href="/export/">Новости в формате RSS</a></body></html>'
    ).encode("cp1251")
    assert feed_links(cp1251, "https://ru.example/") == ["https://ru.example/export/"]


def test_generic_xml_type_needs_a_feed_like_address() -> None:
    page = (
        '<link rel="alternate" type="text/xml" href="/oembed?format=xml">'
        '<link rel="alternate" type="text/xml" href="/news/rss.xml">'
    )
    assert feed_links(page, "https://a.example/") == ["https://a.example/news/rss.xml"]


def test_nothing_to_find() -> None:
    assert feed_links(b"", "https://a.example/") == []
    assert feed_links("   ", "https://a.example/") == []
    assert feed_links("<p>no links</p>", "https://a.example/") == []
    # a page pointing at itself is not a feed of itself
    assert feed_links('<a href="/">RSS</a>', "https://a.example/") == []


def test_common_paths_are_absolute_paths() -> None:
    assert all(p.startswith("/") for p in COMMON_FEED_PATHS)
    assert len(set(COMMON_FEED_PATHS)) == len(COMMON_FEED_PATHS)
    assert {"/feed", "/rss", "/rss.xml", "/atom.xml", "/index.xml"} <= set(COMMON_FEED_PATHS)


# --- discover_feeds against a server on 127.0.0.1 -------------------------------------------


async def _no_wait(seconds: float) -> None:
    pass


def discover(url: str, limit: int = 5) -> list[FoundFeed]:
    async def go() -> list[FoundFeed]:
        # The normal policy, retries included; only the back-off waits are skipped.
        async with Fetcher(FetchPolicy(), sleep=_no_wait) as fetcher:
            return await discover_feeds(url, fetcher, limit=limit)

    return asyncio.run(go())


def stories(n: int) -> list[Story]:
    now = datetime.now(UTC)
    return [
        Story(f"s{i}", f"Story {i}", (f"Paragraph {i}.",), now - timedelta(hours=i))
        for i in range(n)
    ]


def feed(server: LocalServer, title: str, n: int = 2, language: str = "en") -> str:
    return rss(title, server.base_url, stories(n), language=language)


def homepage(*links: str) -> str:
    head = "".join(f'<link rel="alternate" type="application/rss+xml" href="{h}">' for h in links)
    return f"<!DOCTYPE html><html><head><title>Home</title>{head}</head><body>News</body></html>"


def test_homepage_declaring_a_feed(server: LocalServer) -> None:
    server.route("/", static(homepage("/news.rss"), HTML))
    server.route("/news.rss", static(feed(server, "Kino Daily", 3, language="az-AZ")))
    found = discover(server.url("/"))
    assert found == [FoundFeed(server.url("/news.rss"), "Kino Daily", 3, "az")]
    assert server.requests[0].headers["accept"].startswith("text/html")


def test_feed_at_a_common_path(server: LocalServer) -> None:
    server.route("/", static(homepage(), HTML))
    server.route("/rss.xml", static(feed(server, "Plain Site")))
    found = discover(server.url("/"))
    assert [(f.url, f.title, f.items) for f in found] == [(server.url("/rss.xml"), "Plain Site", 2)]
    assert server.hits("/feed") == 1 and server.hits("/atom.xml") == 1


def test_url_that_is_itself_a_feed(server: LocalServer) -> None:
    server.route("/feeds/index.rss", static(feed(server, "Trend", 4, language="ru")))
    found = discover(server.url("/feeds/index.rss"))
    assert found == [FoundFeed(server.url("/feeds/index.rss"), "Trend", 4, "ru")]
    assert len(server.requests) == 1  # nothing guessed


def test_broken_candidates_are_skipped(server: LocalServer) -> None:
    server.route(
        "/",
        static(
            homepage("/missing.xml", "/page.rss", "/empty.xml", "/error.xml", "/good.xml"), HTML
        ),
    )
    server.route("/page.rss", static(homepage(), HTML))  # HTML under a feed-like name
    server.route("/empty.xml", static(feed(server, "Empty", 0)))
    server.route("/error.xml", lambda request: Reply(500, b"oops"))
    server.route("/good.xml", static(feed(server, "Good")))
    # A site answering every unknown path with its homepage ("soft 404").
    server.route("/rss", static(homepage(), HTML))
    found = discover(server.url("/"))
    assert [f.url for f in found] == [server.url("/good.xml")]
    assert server.hits("/missing.xml") == 1
    assert server.hits("/error.xml") == 3  # retried by the normal policy, then given up


def test_declared_feeds_are_used_without_guessing(server: LocalServer) -> None:
    server.route("/", static(homepage("/b.xml", "/a.xml"), HTML))
    server.route("/a.xml", static(feed(server, "A")))
    server.route("/b.xml", static(feed(server, "B")))
    server.route("/atom.xml", static(feed(server, "Guessed")))
    found = discover(server.url("/"))
    assert [f.title for f in found] == ["B", "A"]
    # The site said where its feeds are: not one guessed address asked.
    assert sorted(r.path for r in server.requests) == ["/", "/a.xml", "/b.xml"]
    assert [f.title for f in discover(server.url("/"), limit=1)] == ["B"]


def test_guessed_addresses_only_when_no_declared_feed_works(server: LocalServer) -> None:
    server.route("/", static(homepage("/gone.xml"), HTML))
    server.route("/atom.xml", static(feed(server, "Guessed")))
    assert [f.title for f in discover(server.url("/"))] == ["Guessed"]
    assert server.hits("/gone.xml") == 1


def test_redirects_to_one_feed_count_once(server: LocalServer) -> None:
    server.route("/", static(homepage("/feed/"), HTML))
    server.route("/feed", lambda request: Reply(301, headers={"Location": "/feed/"}))
    server.route("/feed/", static(feed(server, "Blog", language="")))
    found = discover(server.url("/"))
    assert found == [FoundFeed(server.url("/feed/"), "Blog", 2, None)]


def test_language_comes_from_the_feed_only(server: LocalServer) -> None:
    body = feed(server, "No language", language="").replace("<language></language>", "")
    server.route("/f.xml", static(body, headers={"Content-Language": "de"}))
    assert discover(server.url("/f.xml"))[0].language is None


def test_nothing_found(server: LocalServer) -> None:
    server.route("/", static(homepage(), HTML))
    assert discover(server.url("/")) == []


def test_homepage_failure_is_raised(server: LocalServer) -> None:
    server.route("/", lambda request: Reply(500, b"down"))
    with pytest.raises(FetchError) as info:
        discover(server.url("/"))
    assert info.value.code == "fetch.http_500"
    assert server.hits("/feed") == 0


def test_homepage_not_found_is_raised(server: LocalServer) -> None:
    with pytest.raises(FetchError) as info:
        discover(server.url("/nowhere"))
    assert info.value.code == "fetch.http_404"


def test_limit_must_be_positive(server: LocalServer) -> None:
    with pytest.raises(ValueError):
        discover(server.url("/"), limit=0)
