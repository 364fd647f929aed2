"""Find the feeds of an outlet from its homepage, so that adding a source needs no feed URL.

``feed_links`` reads what a page declares (``<link rel="alternate">``, then links that look like
feeds); ``discover_feeds`` fetches the page and those candidates, then well-known feed paths, and
keeps what parses as a feed with items.

trafilatura's ``feeds.determine_feed`` is a second opinion only, after our own reading: it
matches ``rel`` only when it is exactly "alternate" (case-sensitive, not a token list), ignores
``<base href>``, and looks at ``<a>`` links only when no ``<link>`` is declared; what it adds is
checked like every candidate (fetched and parsed). Its ``find_feed_urls`` is not used: it does
its own network I/O, which must go through our ``Fetcher`` and its limits. Its URL patterns
(Blogger, ``?feed=rss2``) informed ``_FEEDISH_PATH`` and ``COMMON_FEED_PATHS`` below.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import lxml.html
from babel import localedata
from lxml import etree
from trafilatura.feeds import FeedParameters, determine_feed

from monitor.content import PAGE_ACCEPT
from monitor.errors import SourceError
from monitor.fetch import Fetcher
from monitor.models import Fetched
from monitor.parse import parse_feed
from monitor.urls import canonical_http, canonical_or_same

__all__ = ["COMMON_FEED_PATHS", "FoundFeed", "discover_feeds", "feed_links"]

log = logging.getLogger(__name__)

# Where CMSs put a site-wide feed when the homepage does not say. Tried in this order, so the
# most common come first; each is one request to someone else's server, hence a short list.
COMMON_FEED_PATHS: tuple[str, ...] = (
    "/feed",  # WordPress (redirects to /feed/), many others
    "/rss",
    "/rss/",
    "/rss.xml",  # Drupal, static generators
    "/feed.xml",  # Jekyll
    "/atom.xml",
    "/index.xml",  # Hugo
    "/feeds/index.rss",
    "/index.rss",
    "/feed/rss",
    "/feeds/posts/default",  # Blogger
    "/?feed=rss2",  # WordPress without pretty permalinks
    "/?format=feed&type=rss",  # Joomla
)

_FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/rdf+xml",
        # Misspellings that real sites publish and browsers accept.
        "application/rss",
        "application/atom",
        "application/x-rss+xml",
        "application/x-atom+xml",
        "text/rss+xml",
        "text/atom+xml",
    }
)
# Generic XML is a feed only when its address also says so (it is as often a sitemap or oEmbed).
_XML_TYPES = frozenset({"application/xml", "text/xml"})

_FEEDISH_PATH = re.compile(
    r"(?:^|[/._-])(?:rss2?|atom|feeds?|rdf)(?:$|[/._-])|\.(?:xml|rss|atom|rdf)$|/feeds/posts/default",
    re.IGNORECASE,
)
_FEEDISH_QUERY = re.compile(
    r"(?:^|&)(?:feed|format|type)=(?:rss2?|atom|rdf|feed)(?:$|&)", re.IGNORECASE
)
_FEEDISH_HOST = re.compile(r"^(?:feeds?|rss)\.|(?:^|\.)feedburner\.com$", re.IGNORECASE)
_FEEDISH_TEXT = re.compile(r"\b(?:rss|atom|feeds?)\b", re.IGNORECASE)
_COMMENTS = re.compile(r"\bcomments?\b", re.IGNORECASE)
# A link carrying another URL in it is a share button or an online reader, not the site's feed.
_EMBEDDED_URL = re.compile(r"https?(?::|%3a)", re.IGNORECASE)

_MAX_DECLARED = 10  # candidates taken from the page; a sitemap-like page can list hundreds
_PARALLEL = 4  # candidate fetches at once; the Fetcher's per-host bound still applies


@dataclass(frozen=True)
class FoundFeed:
    url: str
    title: str
    items: int
    language: str | None  # ISO 639 code the feed declares, None when it declares none


def feed_links(html: bytes | str, base_url: str) -> list[str]:
    """Absolute http(s) feed URLs declared by a page, best first.

    Declared ``<link rel="alternate">`` feeds come before ``<a>`` links that look like feeds;
    within each, links to the page's own site come first; comment feeds come last of all.
    URLs are canonical (see ``canonical_url``) and unique; ``base_url`` is the page's final URL.
    """
    root = _parse_html(html)
    if root is None:
        return []
    base = base_url
    for href in root.xpath("//base/@href")[:1]:
        resolved = canonical_http(str(href), base_url)
        if resolved is not None:
            base = resolved
    page_host = urlsplit(base_url).hostname or ""

    found: list[tuple[str, int, bool]] = []  # (url, group, comments feed)
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "alternate" not in rel and "feed" not in rel:
            continue
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        url = canonical_http(link.get("href"), base)
        if url is None:
            continue
        if kind in _FEED_TYPES or (kind in _XML_TYPES and _looks_like_feed_url(url)):
            found.append((url, 0, _is_comments(url, link.get("title"))))
    for anchor in root.iter("a"):
        url = canonical_http(anchor.get("href"), base)
        if url is None or _EMBEDDED_URL.search(url.split("://", 1)[1]):
            continue
        # An RSS icon often has no text, only a title or the image's alt.
        words = [anchor.text_content(), anchor.get("title") or ""]
        words += [str(alt) for alt in anchor.xpath(".//img/@alt")]
        text = " ".join(words)
        if _looks_like_feed_url(url) or _FEEDISH_TEXT.search(text):
            found.append((url, 1, _is_comments(url, None)))

    self_url = canonical_or_same(base_url)
    ranked = sorted(
        found,
        key=lambda f: (f[2], f[1], not _same_site(urlsplit(f[0]).hostname or "", page_host)),
    )
    return [url for url in dict.fromkeys(url for url, _, _ in ranked) if url != self_url]


async def discover_feeds(url: str, fetcher: Fetcher, *, limit: int = 5) -> list[FoundFeed]:
    """The feeds of the site at ``url`` with at least one item, best first, at most ``limit``.

    When ``url`` is itself a feed, that feed alone. Otherwise the feeds the page declares; only
    when none of them works, ``COMMON_FEED_PATHS`` on the page's origin (a dozen guessed
    requests to a site that said where its feed is would be impolite, and slow). A candidate
    that fails to fetch or parse is skipped; a failure to fetch ``url`` itself is raised
    (``FetchError``). No feed found gives an empty list.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    now = datetime.now(UTC)
    # The address the user gave may be on this machine or network; links from it then may too.
    private_ok = await fetcher.is_private(url)
    page = await fetcher.fetch(url, accept=PAGE_ACCEPT, private_ok=private_ok)
    try:
        own = parse_feed(page.body, page.headers, page.final_url, now=now)
    except SourceError:
        pass
    else:
        # Asked for a feed by its address: an empty feed is still the answer.
        return [_found(url, page, own.title, len(own.items))]

    declared = feed_links(page.body, page.final_url)
    declared += [u for u in _trafilatura_links(page.body, page.final_url) if u not in declared]
    declared = declared[:_MAX_DECLARED]
    parts = urlsplit(page.final_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    guessed = [canonical_or_same(origin + path) for path in COMMON_FEED_PATHS]
    tried = set(declared) | {canonical_or_same(page.final_url)}

    found: list[FoundFeed] = []
    seen: set[str] = set()  # final URLs: /feed and /feed/ are one feed
    for stage in (declared, [g for g in guessed if g not in tried]):
        if found:
            break
        for result in await _check_all(stage, fetcher, now, private_ok):
            if result is not None and result[0] not in seen:
                seen.add(result[0])
                found.append(result[1])
    return found[:limit]


def _trafilatura_links(html: bytes, base_url: str) -> list[str]:
    """Feed URLs trafilatura finds in the page (its own heuristics), canonical, http(s) only."""
    parts = urlsplit(base_url)
    params = FeedParameters(f"{parts.scheme}://{parts.netloc}", parts.netloc, base_url)
    try:
        found = determine_feed(html.decode("utf-8", "replace"), params)
    except Exception:  # a second opinion: its failure must not cost the first
        log.debug("trafilatura's feed finder failed on %s", base_url, exc_info=True)
        return []
    return [canonical_or_same(u) for u in found if u.startswith(("http://", "https://"))]


async def _check_all(
    urls: Sequence[str], fetcher: Fetcher, now: datetime, private_ok: bool
) -> list[tuple[str, FoundFeed] | None]:
    """Each candidate checked, results in the candidates' order."""
    gate = asyncio.Semaphore(_PARALLEL)

    async def bounded(candidate: str) -> tuple[str, FoundFeed] | None:
        async with gate:
            return await _check(candidate, fetcher, now, private_ok)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(bounded(u)) for u in urls]
    return [t.result() for t in tasks]


async def _check(
    url: str, fetcher: Fetcher, now: datetime, private_ok: bool
) -> tuple[str, FoundFeed] | None:
    """(final canonical URL, feed) when ``url`` serves a feed with items; None otherwise."""
    try:
        fetched = await fetcher.fetch(url, private_ok=private_ok)
        parsed = parse_feed(fetched.body, fetched.headers, fetched.final_url, now=now)
    except SourceError as exc:
        log.debug("%s: not a feed: %s", url, exc)
        return None
    if not parsed.items:
        log.debug("%s: feed has no items", url)
        return None
    return canonical_or_same(fetched.final_url), _found(
        url, fetched, parsed.title, len(parsed.items)
    )


def _found(url: str, fetched: Fetched, title: str, items: int) -> FoundFeed:
    # A redirect within the site (http to https, /feed to /feed/) is where the feed now lives;
    # one to another host (a feed service, a CDN with a token) is kept as the site publishes it.
    final = fetched.final_url
    same = _same_site(urlsplit(final).hostname or "", urlsplit(url).hostname or "")
    return FoundFeed(
        url=canonical_or_same(final if same else url),
        title=title,
        items=items,
        language=_declared_language(fetched.body, fetched.headers),
    )


def _declared_language(body: bytes, headers: dict[str, str]) -> str | None:
    """The primary language subtag of a feed's <language>, dc:language or xml:lang."""
    # feedparser falls back on Content-Language, which servers send for the site, not the feed.
    clean = {k: v for k, v in headers.items() if k.lower() != "content-language"}
    parsed: Any = feedparser.parse(io.BytesIO(body), response_headers=clean)
    raw = parsed.feed.get("language") if parsed.get("feed") else None
    if not isinstance(raw, str):
        return None
    primary = re.split(r"[-_]", raw.strip(), maxsplit=1)[0].lower()
    # Only what sources.yaml accepts, so the value can be written there as it is.
    if re.fullmatch(r"[a-z]{2,3}", primary) and localedata.exists(primary):
        return primary
    return None


def _parse_html(html: bytes | str) -> Any:
    if isinstance(html, str):
        data, encoding = html.encode("utf-8"), "utf-8"
    else:
        data = html
        try:
            # Valid UTF-8 is UTF-8 whatever the page's <meta> claims; else let lxml read <meta>.
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = None
    if not data.strip():
        return None
    try:
        return lxml.html.document_fromstring(data, parser=lxml.html.HTMLParser(encoding=encoding))
    except (etree.ParserError, ValueError):
        return None


def _looks_like_feed_url(url: str) -> bool:
    parts = urlsplit(url)
    if "sitemap" in parts.path.lower():  # XML, often linked as "RSS" by mistake, never a feed
        return False
    return bool(
        _FEEDISH_PATH.search(parts.path)
        or _FEEDISH_QUERY.search(parts.query)
        or _FEEDISH_HOST.search(parts.hostname or "")
    )


def _is_comments(url: str, title: str | None) -> bool:
    return bool(_COMMENTS.search(urlsplit(url).path) or (title and _COMMENTS.search(title)))


def _same_site(host: str, other: str) -> bool:
    """Same host, ignoring ``www.``, or one a subdomain of the other (feeds.example.com)."""
    a, b = _bare(host), _bare(other)
    return bool(a) and (a == b or a.endswith("." + b) or b.endswith("." + a))


def _bare(host: str) -> str:
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host
