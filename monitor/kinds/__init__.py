"""Source kinds: how the document at a source's address becomes items.

One module per kind, each with a ``READER`` (a ``Reader``); ``_MODULES`` is the registry. Adding a
kind means a value in ``models.SourceKind``, a module here, its tests and a line in ``_MODULES``;
the cycle, ``monitor sources test`` and the configuration find it through ``reader``.

A kind module imports its parser inside ``parse``: the configuration asks every configured kind
to check its fields, and a run with nothing due must not pay for feedparser or lxml.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from monitor.content import PAGE_ACCEPT
from monitor.models import Fetched, ParsedFeed, Source, SourceKind

if TYPE_CHECKING:
    from monitor.fetch import Fetcher

__all__ = ["Reader", "check", "read_source", "reader"]

_MODULES: dict[SourceKind, str] = {
    SourceKind.FEED: "monitor.kinds.feed",
    SourceKind.SITEMAP: "monitor.kinds.sitemap",
    SourceKind.HTML: "monitor.kinds.html",
    SourceKind.TELEGRAM: "monitor.kinds.telegram",
}

# Documents larger than this are parsed in a thread so that fetches keep flowing meanwhile.
# feedparser reads about 200 KB of RSS a second on a slow core: a 200 KB feed parsed in the
# event loop held every fetch in flight for a second. A thread costs tens of microseconds.
_PARSE_IN_THREAD_BYTES = 16 * 1024


class Reader:
    """What the monitor needs to know of one kind. Subclasses set ``kind`` and implement
    ``parse``; the rest has defaults."""

    kind: SourceKind
    accept: str = PAGE_ACCEPT  # the Accept header for the source's own document
    options: tuple[str, ...] = ()  # source fields only this kind reads, in the order to name them

    def problem(self, options: Mapping[str, object]) -> str | None:
        """What is wrong with a source of this kind given these ``options`` (those set), or
        None. Called while the configuration is validated."""
        return None

    def parse(self, source: Source, fetched: Fetched, *, now: datetime, tz: tzinfo) -> ParsedFeed:
        """The items of the fetched document. Pure; may run in a thread. Raises ParseError."""
        raise NotImplementedError

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
        """The documents ``first`` leads to, read in the same cycle (a sitemap index's
        sitemaps, a channel's older messages); by default none. ``first_read``: the source has
        never been read, and a kind may read further back than on later reads."""
        return first

    def advice(self, source: Source, code: str) -> str | None:
        """A sentence for the person testing this source when reading it failed with ``code``."""
        return None


@functools.cache
def reader(kind: SourceKind) -> Reader:
    """The reader of ``kind``; its module is imported the first time."""
    found = importlib.import_module(_MODULES[kind]).READER
    assert isinstance(found, Reader) and found.kind is kind, _MODULES[kind]
    return found


def check(kind: SourceKind, given: Mapping[str, object]) -> str | None:
    """What is wrong with a source of ``kind`` given the ``given`` kind options (unset ones
    None): an option of another kind, or what the kind itself refuses."""
    own = reader(kind)
    for other in map(reader, _MODULES):
        if other is not own and any(given.get(o) is not None for o in other.options):
            names = " and ".join(repr(o) for o in other.options)
            verb = "are" if len(other.options) > 1 else "is"
            return f"{names} {verb} for kind {other.kind} only"
    return own.problem({k: v for k, v in given.items() if v is not None})


async def read_source(
    fetcher: Fetcher,
    source: Source,
    fetched: Fetched,
    *,
    now: datetime,
    timezone: tzinfo,
    private_ok: bool,
    first_read: bool = False,
) -> ParsedFeed:
    """The items of a source's fetched document and of the documents it leads to;
    ``first_read`` when the source has never been read (see ``Reader.expand``)."""
    kind = reader(source.kind)
    parse = functools.partial(kind.parse, source, fetched, now=now, tz=timezone)
    first = (
        await asyncio.to_thread(parse) if len(fetched.body) > _PARSE_IN_THREAD_BYTES else parse()
    )
    return await kind.expand(
        fetcher, source, fetched, first, now=now, private_ok=private_ok, first_read=first_read
    )
