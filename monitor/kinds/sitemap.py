"""``kind: sitemap``: a news sitemap, a sitemap index, or the site's own address, whose
robots.txt names its sitemaps (``monitor.listing``). Indexes are followed within the cycle: a
few sitemaps, news first, newest first (an outlet's index lists years of archives)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from monitor.content import looks_like_html
from monitor.errors import FetchError, ParseError
from monitor.kinds import Reader
from monitor.models import Fetched, ParsedFeed, Source, SourceKind

if TYPE_CHECKING:
    from monitor.fetch import Fetcher

log = logging.getLogger(__name__)

SITEMAPS_PER_SOURCE = 3  # sitemaps read per cycle after the first


class SitemapReader(Reader):
    kind = SourceKind.SITEMAP

    def parse(self, source: Source, fetched: Fetched, *, now: datetime, tz: tzinfo) -> ParsedFeed:
        return sitemap_feed(fetched, now)

    async def expand(
        self,
        fetcher: Fetcher,
        source: Source,
        fetched: Fetched,
        first: ParsedFeed,
        *,
        now: datetime,
        private_ok: bool,
        first_read: bool,
    ) -> ParsedFeed:
        """Follow the index, or the site's robots.txt when the address is the site itself, to
        the news sitemaps. An index found on the way is followed too, within the same budget."""
        from monitor.listing import sitemaps_in_robots

        pending = list(first.children)
        if first.version == "site":
            try:
                robots = await fetcher.fetch(
                    urljoin(fetched.final_url, "/robots.txt"), private_ok=private_ok
                )
                text = robots.body.decode("utf-8", "replace")
            except FetchError as exc:
                text = ""
                log.info("%s: robots.txt not read (%s)", source.name, exc)
            pending = sitemaps_in_robots(text, fetched.final_url)
            if not pending:
                raise ParseError(
                    "parse.no_sitemap",
                    f"{source.url} is a web page and its robots.txt names no sitemap; "
                    "give the sitemap's address as url",
                )
        items = list(first.items)
        seen = {fetched.url, fetched.final_url}
        budget = SITEMAPS_PER_SOURCE
        while pending and budget > 0:
            url = news_first(pending)[0]
            pending.remove(url)
            if url in seen:
                continue
            seen.add(url)
            budget -= 1
            try:
                child = sitemap_feed(await fetcher.fetch(url, private_ok=private_ok), now)
            except (FetchError, ParseError) as exc:
                log.info("%s: sitemap %s not read (%s)", source.name, url, exc)
                continue
            items.extend(child.items)
            pending.extend(c for c in child.children if c not in seen)
        return ParsedFeed(first.title, tuple(items), "sitemap", first.warning)


def sitemap_feed(fetched: Fetched, now: datetime) -> ParsedFeed:
    """A sitemap as a feed; its child sitemaps in ``children``. A web page (the site's address
    given as url) reads as version "site", to be looked up in robots.txt."""
    from monitor.listing import parse_sitemap  # lxml: see monitor.kinds

    try:
        sitemap = parse_sitemap(fetched.body, fetched.final_url, now=now)
    except ParseError:
        if looks_like_html(fetched.body, fetched.headers.get("content-type")):
            return ParsedFeed("", (), "site")
        raise
    return ParsedFeed("", sitemap.items, "sitemap", children=sitemap.sitemaps)


def news_first(urls: Sequence[str]) -> list[str]:
    """News sitemaps before others, then in the site's order (usually newest first)."""
    return sorted(dict.fromkeys(urls), key=lambda u: "news" not in u.lower())


READER = SitemapReader()
