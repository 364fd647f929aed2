"""Feed bytes to ``ParsedFeed``: RSS 0.9x/1.0/2.0 and Atom through feedparser.

feedparser only ever sees bytes we fetched (never a URL or path: it would do its own I/O), with
the HTTP headers so that it decodes a charset given only in Content-Type. A feed with problems
that feedparser recovers from (bozo) is used, and the problem is kept as a warning.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

import dateparser
import feedparser

from monitor.content import declared_charset
from monitor.dates import plausible
from monitor.errors import ParseError
from monitor.models import FeedItem, ParsedFeed
from monitor.text import html_to_text, short_title, squash
from monitor.urls import canonical_http, is_http_url

log = logging.getLogger(__name__)

# Dates outside this window are parse accidents (an epoch read as 1749, a typo'd year).
# feedparser reads zone names it does not know (AZT, TRT, ...) as UTC without telling us.
_KNOWN_ZONES = frozenset(
    [
        "UT",
        "UTC",
        "GMT",
        "Z",
        "EST",
        "EDT",
        "CST",
        "CDT",
        "MST",
        "MDT",
        "PST",
        "PDT",
        "A",
        "M",
        "N",
        "Y",
    ]
)  # RFC 822 names, the only ones feedparser knows
_TRAILING_ZONE = re.compile(r"\b([A-Z]{2,5})\s*$")


def parse_feed(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    *,
    language: str | None = None,
    default_tz: tzinfo = UTC,
    now: datetime,
) -> ParsedFeed:
    """Parse a fetched feed. ``url`` is the final URL (relative links resolve against it).

    Raises ParseError (``parse.empty`` or ``parse.not_a_feed``) when nothing usable is found.
    """
    if not body.strip():
        raise ParseError("parse.empty", "the server sent an empty body")
    response_headers = {k.lower(): v for k, v in headers.items()}
    response_headers["content-location"] = url
    body, repaired = _repair_utf8(body, response_headers.get("content-type", ""))
    parsed = feedparser.parse(io.BytesIO(body), response_headers=response_headers)
    warning = _bozo_reason(parsed)
    if repaired:
        warning = repaired if warning is None else f"{repaired}; {warning}"
    if not parsed.get("version") and not parsed.entries:
        content_type = response_headers.get("content-type", "unknown type")
        detail = f" ({warning})" if warning else ""
        raise ParseError("parse.not_a_feed", f"no RSS or Atom feed found in {content_type}{detail}")
    items = []
    for entry in parsed.entries:
        item = _item(entry, url, language, default_tz, now)
        if item is not None:
            items.append(item)
    feed_title = html_to_text(parsed.feed.get("title", "")) if parsed.get("feed") else ""
    return ParsedFeed(
        title=feed_title, items=tuple(items), version=parsed.get("version") or "", warning=warning
    )


_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["']""", re.I)


def _repair_utf8(body: bytes, content_type: str) -> tuple[bytes, str | None]:
    """A feed declared UTF-8 with a few invalid bytes: those bytes become U+FFFD. Left to
    itself feedparser would read the whole feed as windows-1252 and garble every word."""
    declared = _XML_ENCODING.match(body[:200])
    charset = declared_charset(content_type) or ""
    names = {charset, (declared.group(1).decode("ascii").lower() if declared else "")}
    if not names & {"utf-8", "utf8"}:
        return body, None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        repaired = body.decode("utf-8", "replace").encode("utf-8")
        return repaired, f"invalid UTF-8 replaced ({exc.reason} at byte {exc.start})"
    return body, None


def _bozo_reason(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    name = type(exc).__name__ if exc is not None else "problem"
    return f"feed is not well-formed, read leniently: {name}: {exc}"


def _item(
    entry: Any, base: str, language: str | None, tz: tzinfo, now: datetime
) -> FeedItem | None:
    title = short_title(html_to_text(entry.get("title", "")))
    summary = html_to_text(entry.get("summary", ""))
    contents = entry.get("content") or []
    content = html_to_text(contents[0].get("value", "")) if contents else ""
    link = _link(entry, base)
    guid = squash(entry.get("id", "")) or None
    if not link and guid and is_http_url(guid):
        link = canonical_http(guid, base)
    if not title and not summary and not content:
        return None  # nothing a reader could use
    if not link and not guid:
        # An item with neither link nor id still needs a stable identity across cycles.
        guid = "urn:sha1:" + hashlib.sha1(f"{title}\n{summary}".encode()).hexdigest()
    # dict.get: feedparser's own get() maps a missing "updated" to "published" with a warning
    raw_date = dict.get(entry, "published") or dict.get(entry, "updated") or None
    parsed_date = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    published = _date(raw_date, parsed_date, language, tz, now)
    author = html_to_text(entry.get("author", "")) or None
    categories = tuple(
        dict.fromkeys(
            t for t in (squash(tag.get("term") or "") for tag in entry.get("tags", [])) if t
        )
    )
    return FeedItem(
        url=link or "",
        title=title or short_title(summary, 120),
        guid=guid,
        summary=summary,
        content=content,
        published=published,
        published_raw=raw_date,
        author=author,
        categories=categories,
    )


def _link(entry: Any, base: str) -> str | None:
    """The item's http(s) link, canonical. Other schemes (javascript:, ftp:, file:) are dropped."""
    candidates = [entry.get("link")]
    candidates += [
        link.get("href")
        for link in entry.get("links", [])
        if link.get("rel", "alternate") == "alternate"
    ]
    for href in candidates:
        if href:
            url = canonical_http(href, base)
            if url:
                return url
    return None


def _date(
    raw: str | None, parsed: Any, language: str | None, tz: tzinfo, now: datetime
) -> datetime | None:
    if raw and raw.strip().isdigit():
        return plausible(datetime.fromtimestamp(int(raw.strip()), UTC), now)
    zone = _TRAILING_ZONE.search(raw or "")
    trusted = parsed is not None and not (zone and zone.group(1) not in _KNOWN_ZONES)
    if trusted:
        return plausible(datetime.fromtimestamp(calendar.timegm(parsed), UTC), now)
    if not raw:
        return None
    return plausible(fallback_date(raw, language, tz), now)


def fallback_date(raw: str, language: str | None, tz: tzinfo) -> datetime | None:
    """Dates feedparser misses: ``10.06.2025 14:05``, month names in Russian or Turkish,
    ``GMT+4``, zone abbreviations like AZT. Naive dates are taken in ``tz``."""
    settings: dict[str, Any] = {
        "TIMEZONE": getattr(tz, "key", "UTC"),
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TO_TIMEZONE": "UTC",
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "past",
    }
    languages = [language, "en"] if language and language != "en" else None
    try:
        result = dateparser.parse(raw, languages=languages, settings=settings)
    except (ValueError, OverflowError, LookupError):
        result = None
    if result is None and languages:
        result = dateparser.parse(raw, settings=settings)
    return result.astimezone(UTC) if result else None
