"""``kind: feed``: RSS, Atom or JSON Feed, read by ``monitor.parse``."""

from __future__ import annotations

from datetime import datetime, tzinfo

from monitor.content import FEED_ACCEPT
from monitor.kinds import Reader
from monitor.models import Fetched, ParsedFeed, Source, SourceKind


class FeedReader(Reader):
    kind = SourceKind.FEED
    accept = FEED_ACCEPT

    def parse(self, source: Source, fetched: Fetched, *, now: datetime, tz: tzinfo) -> ParsedFeed:
        from monitor.parse import parse_feed  # feedparser and dateparser: see monitor.kinds

        return parse_feed(
            fetched.body,
            fetched.headers,
            fetched.final_url,
            language=source.language,
            default_tz=tz,
            now=now,
        )

    def advice(self, source: Source, code: str) -> str | None:
        if code != "parse.not_a_feed":
            return None
        return (
            f"{source.url} is a web page, not a feed: to find the feeds it declares and add "
            f"one, run: monitor sources add {source.url}"
        )


READER = FeedReader()
