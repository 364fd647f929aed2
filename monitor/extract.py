"""Article page to ``PageText`` with trafilatura: main text and metadata, no reader comments.

Pure: bytes in, text out. The pipeline runs it in worker processes, because extraction is the
cycle's CPU cost and trafilatura is not safe to run in several threads at once.
"""

from __future__ import annotations

import os
import threading
import time as clock
from configparser import ConfigParser
from datetime import UTC, datetime, time

import trafilatura
from trafilatura.settings import Document, use_config

from monitor.content import declared_charset
from monitor.errors import ExtractError
from monitor.models import PageText
from monitor.text import squash

_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain")
# Shorter than this is a cookie notice or a teaser, not an article.
MIN_TEXT_CHARS = 80


def _config() -> ConfigParser:
    config = use_config()
    # Our own fetcher already bounded the body; trafilatura's own size limit would be a second
    # unexplained cut-off, and its per-call timeout uses signals that only work in the main thread.
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(MIN_TEXT_CHARS))
    return config


_CONFIG = _config()
# Only dates the page states (meta tags, time elements), never guesses from loose text.
_DATE_PARAMS = {
    "extensive_search": False,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}


def _as_declared(body: bytes, content_type: str | None) -> str | bytes:
    """Text decoded with the charset from Content-Type; otherwise the bytes, left to trafilatura
    (it reads ``<meta charset>`` and, without one, guesses better than a fixed UTF-8)."""
    charset = declared_charset(content_type)
    if charset:
        try:
            return body.decode(charset, errors="replace")
        except LookupError:
            pass
    return body


def extract_page(body: bytes, url: str, content_type: str | None = None) -> PageText:
    """Main text and metadata of an article page.

    Raises ExtractError ``extract.not_html`` for other content, ``extract.no_text`` when the page
    has no article text, ``extract.failed`` when the extractor itself broke.
    """
    kind = (content_type or "text/html").split(";")[0].strip().lower()
    if kind not in _HTML_TYPES:
        raise ExtractError("extract.not_html", f"page is {kind}, not HTML")
    try:
        document = trafilatura.bare_extraction(
            _as_declared(body, content_type),
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            deduplicate=False,  # its cache is process-wide: it would drop text seen in other pages
            # No second pass with readability and jusText: on the article-extraction benchmark it
            # keeps text F1 (0.956 against 0.955) at half the time (15 ms a page against 28 ms);
            # bench/extraction_quality.py measures both.
            fast=True,
            date_extraction_params=_DATE_PARAMS,
            config=_CONFIG,
        )
    except Exception as exc:  # trafilatura and lxml raise many types on odd markup
        raise ExtractError("extract.failed", f"{type(exc).__name__}: {exc}") from None
    if not isinstance(document, Document):
        raise ExtractError("extract.no_text", "no article text found on the page")
    # trafilatura puts one block per line; the rest of the monitor separates paragraphs by a blank line
    text = squash((document.text or "").replace("\n", "\n\n"))
    if len(text) < MIN_TEXT_CHARS:
        raise ExtractError("extract.no_text", "no article text found on the page")
    return PageText(
        text=text,
        title=(document.title or None),
        author=(document.author or None),
        published=_page_date(document.date),
        sitename=(document.sitename or None),
    )


def _page_date(value: str | None) -> datetime | None:
    """The page's own publication time. When it states only a day, noon UTC keeps that day in
    every time zone from -11 to +11."""
    if not value:
        return None
    try:
        stamp = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        stamp = None
    if stamp is not None and stamp.time() != time(0, 0):
        return stamp.astimezone(UTC)
    try:
        day = datetime.strptime(value[:10], "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


def watch_parent(pid: int) -> None:
    """In a worker: exit when the monitor that started us is gone. A cycle killed with SIGKILL
    cannot stop its pool, and idle workers would otherwise wait for work forever."""

    def watch() -> None:
        while True:
            clock.sleep(2)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass  # the pid exists (reused by another user's process): keep waiting

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
