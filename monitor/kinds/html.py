"""``kind: html``: a page listing articles, its links found with a CSS ``selector`` or a URL
``pattern`` (``monitor.listing``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo

from monitor.kinds import Reader
from monitor.models import Fetched, ParsedFeed, Source, SourceKind


class ListingReader(Reader):
    kind = SourceKind.HTML
    options = ("selector", "pattern")

    def problem(self, options: Mapping[str, object]) -> str | None:
        if options.get("selector") or options.get("pattern"):
            return None
        return (
            "kind html needs a 'selector' (CSS, e.g. 'h3.title a') or a 'pattern' "
            "(regular expression of article URLs) to find the article links"
        )

    def parse(self, source: Source, fetched: Fetched, *, now: datetime, tz: tzinfo) -> ParsedFeed:
        from monitor.listing import parse_listing  # lxml: see monitor.kinds

        return parse_listing(
            fetched.body,
            fetched.final_url,
            selector=source.selector,
            pattern=source.pattern,
            headers=fetched.headers,
        )


READER = ListingReader()
