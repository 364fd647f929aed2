"""One item of a source, from its link to a tagged ``Article`` ready to be stored. The cycle,
``monitor sources test`` and anything later take this one path, so the checks come in one order
everywhere: no link, a private address (said first: robots.txt would hide it), robots.txt, then
the page, fetched in the host's turn and extracted; the text chosen, then tagged. An item that
carries its whole story (``FeedItem.page`` false: a Telegram message) skips the page."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.content import PAGE_ACCEPT
from monitor.errors import SourceError
from monitor.models import Article, FeedItem, PageText, Source, Tagging, TextOrigin
from monitor.tag import TagInput
from monitor.urls import is_http_url

if TYPE_CHECKING:
    import asyncio

    from monitor.extractors import Extractor
    from monitor.fetch import Fetcher
    from monitor.robots import Robots

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemTools:
    """What the per-item path works with."""

    fetcher: Fetcher
    extract: Extractor
    tag: Callable[[TagInput], Awaitable[Tagging]]  # off the event loop: a thread
    clock: Callable[[], datetime]
    robots: Robots | None = None  # None: robots.txt not consulted
    pages: asyncio.Semaphore | None = None  # bounds page bodies in flight, when given


async def private_ok(fetcher: Fetcher, source: Source) -> bool:
    """Whether a source's items may link to private addresses: a source on this machine or its
    network may, one on the internet may not (unless the fetch policy allows it everywhere)."""
    return fetcher.policy.allow_private or await fetcher.is_private(source.url)


async def process_item(
    tools: ItemTools, source: Source, item: FeedItem, *, private: bool
) -> Article:
    """The item as an article: its page's text when it can be had, else the feed's; tagged.
    Failures of the page are recorded in ``extract_error``, never raised."""
    page, error = await _page(tools, source, item, private)
    text, origin = choose_text(item, page)
    doc = TagInput(
        item.title, text, lead=item.summary, language=source.language, country=source.country
    )
    tagging = await tools.tag(doc)
    return Article(
        source=source.name,
        url=item.url,
        title=item.title or (page.title if page and page.title else ""),
        text=text,
        text_origin=origin,
        fetched_at=tools.clock(),
        guid=item.guid,
        summary=item.summary,
        published=item.published or (page.published if page else None),
        author=item.author or (page.author if page else None),
        categories=item.categories,
        language=tagging.language or source.language,
        extract_error=error,
        tagging=tagging,
    )


async def _page(
    tools: ItemTools, source: Source, item: FeedItem, private: bool
) -> tuple[PageText | None, str | None]:
    """The item's page text, or why there is none (a stable code); neither for an item that
    is its own story."""
    if not item.page:
        return None, None
    url = item.url
    if not url or not is_http_url(url):
        return None, "extract.no_link"
    fetcher = tools.fetcher
    if not private and await fetcher.is_private(url):
        return None, "fetch.private_address"
    robots = tools.robots if source.robots else None
    if robots is not None and not await robots.allowed(url, private_ok=private):
        return None, "fetch.robots_disallowed"
    # The host's turn first, then a page slot: see Fetcher.take_turn.
    await fetcher.take_turn(url)
    async with tools.pages or contextlib.nullcontext():
        try:
            fetched = await fetcher.fetch(url, accept=PAGE_ACCEPT, private_ok=private)
            page = await tools.extract(
                fetched.body, fetched.final_url, fetched.headers.get("content-type")
            )
        except SourceError as exc:
            log.info("%s: page %s not used (%s), text taken from the feed", source.name, url, exc)
            return None, exc.code
    return page, None


def choose_text(item: FeedItem, page: PageText | None) -> tuple[str, TextOrigin]:
    """The page's text when extraction found one; otherwise the best the feed offers."""
    if page is not None and page.text:
        return page.text, TextOrigin.PAGE
    if item.content and len(item.content) >= len(item.summary):
        return item.content, TextOrigin.FEED_CONTENT
    if item.summary:
        return item.summary, TextOrigin.FEED_SUMMARY
    return item.title, TextOrigin.TITLE_ONLY
