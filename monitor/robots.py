"""robots.txt for article pages (RFC 9309), read once per site and kept for a day.

Parsed by Protego (the parser Scrapy moved to), which implements RFC 9309 where the standard
library's RobotFileParser does not: ``*`` and ``$`` in paths, the longest matching rule winning
(``Disallow: /`` with ``Allow: /news/`` lets the news through), ``Allow`` winning a tie.

Feeds, sitemaps and listing pages are addresses the press office chose to follow, so they are
fetched as configured; article pages are crawled, so a site's robots.txt decides. Following
RFC 9309: a robots.txt that does not exist (4xx) allows everything; one that cannot be read
(5xx, network failure) disallows everything until the next attempt, which comes after
``retry`` rather than after a day.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from protego import Protego

from monitor.errors import FetchError
from monitor.fetch import Fetcher

log = logging.getLogger(__name__)

ROBOTS_ACCEPT = "text/plain, */*;q=0.1"
MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB


@dataclass(frozen=True)
class _Rules:
    parser: Protego | None  # None: everything allowed
    disallow_all: bool
    expires: float


class Robots:
    """``await robots.allowed(url)`` for a ``Fetcher``'s User-Agent. One per process is enough:
    it keeps each site's rules for ``keep`` seconds."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        keep: float = 24 * 3600,
        retry: float = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetcher = fetcher
        self._keep = keep
        self._retry = retry
        self._clock = clock
        self._rules: dict[str, _Rules] = {}
        self._pending: dict[str, asyncio.Future[_Rules]] = {}
        # The product token is the User-Agent's first word, without its version.
        self._agent = fetcher.policy.user_agent.split("/", 1)[0].split()[0]

    async def allowed(self, url: str, *, private_ok: bool = False) -> bool:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError):
            return True  # the fetch itself will report the bad URL
        origin = f"{parsed.scheme}://{parsed.netloc.decode('ascii', 'replace')}"
        rules = self._rules.get(origin)
        if rules is None or rules.expires <= self._clock():
            rules = await self._load(origin, private_ok)
        if rules.disallow_all:
            return False
        return rules.parser is None or bool(rules.parser.can_fetch(url, self._agent))

    async def _load(self, origin: str, private_ok: bool) -> _Rules:
        # Pages of one site are fetched side by side: one robots.txt request serves them all.
        pending = self._pending.get(origin)
        if pending is not None:
            return await pending
        future: asyncio.Future[_Rules] = asyncio.get_running_loop().create_future()
        self._pending[origin] = future
        try:
            rules = await self._read(origin, private_ok)
            self._rules[origin] = rules
            future.set_result(rules)
            return rules
        finally:
            del self._pending[origin]

    async def _read(self, origin: str, private_ok: bool) -> _Rules:
        now = self._clock()
        try:
            fetched = await self._fetcher.fetch(
                f"{origin}/robots.txt", accept=ROBOTS_ACCEPT, private_ok=private_ok
            )
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return _Rules(None, False, now + self._keep)
            log.info(
                "%s/robots.txt unreadable (%s): its pages are not fetched for now", origin, exc
            )
            return _Rules(None, True, now + self._retry)
        text = fetched.body[:MAX_ROBOTS_BYTES].decode("utf-8", "replace")
        return _Rules(Protego.parse(text), False, now + self._keep)
