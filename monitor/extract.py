"""Article page to ``PageText`` with trafilatura: main text and metadata, no reader comments.

Pure: bytes in, text out. The pipeline runs it in worker processes, because extraction is the
cycle's CPU cost and trafilatura is not safe to run in several threads at once.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time as clock
from configparser import ConfigParser
from datetime import UTC, datetime, time

import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, use_config
from trafilatura.utils import load_html

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
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


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
        tree = load_html(_as_declared(body, content_type))
        if tree is None:
            raise ExtractError("extract.no_text", "no article text found on the page")
        meta = page_metadata(tree, url)
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=False,  # page_metadata above: what the monitor keeps, and only that
            include_comments=False,
            include_tables=True,
            deduplicate=False,  # its cache is process-wide: it would drop text seen in other pages
            # No second pass with readability and jusText: on the article-extraction benchmark it
            # keeps text F1 (0.956 against 0.955) at half the time (15 ms a page against 28 ms);
            # bench/extraction_quality.py measures both.
            fast=True,
            config=_CONFIG,
        )
    except ExtractError:
        raise
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
        title=meta.title,
        author=meta.author,
        published=_page_date(meta.date),
        sitename=meta.sitename,
    )


def page_metadata(tree: HtmlElement, url: str) -> Document:
    """Title, author, date and site name of a parsed page, found as trafilatura's
    ``extract_metadata`` finds them, without the categories, tags and licence it also collects:
    the monitor keeps none of them, and on news pages with large menus they took a quarter of
    the extraction time (``bench/extraction_quality.py`` times it; ``tests/test_extract.py``
    checks that the four fields agree with ``extract_metadata`` on real pages)."""
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # a single word in a meta tag is a handle, not a byline
    with contextlib.suppress(Exception):  # malformed JSON-LD: the meta tags stand
        meta = extract_meta_json(tree, meta)
    meta.title = meta.title or extract_title(tree)
    meta.author = meta.author or extract_author(tree)
    meta.url = meta.url or extract_url(tree, url)
    # Only dates the page states (meta tags, time elements), never guesses from loose text.
    meta.date = find_date(
        tree,
        url=meta.url,
        extensive_search=False,
        original_date=True,
        outputformat=_DATE_FORMAT,
    )
    sitename = (meta.sitename or extract_sitename(tree) or "").lstrip("@")
    if sitename and "." not in sitename and not sitename[0].isupper():
        sitename = sitename.title()
    if not sitename and meta.url and (match := META_URL.match(meta.url)):
        sitename = match[1]
    meta.sitename = sitename
    meta.clean_and_trim()  # entities, spaces and control characters, as extract_metadata does
    meta.title = meta.title or None
    meta.author = meta.author or None
    meta.sitename = meta.sitename or None
    return meta


def _page_date(value: str | None) -> datetime | None:
    """The page's own publication time. When it states only a day, noon UTC keeps that day in
    every time zone from -11 to +11."""
    if not value:
        return None
    try:
        stamp = datetime.strptime(value, _DATE_FORMAT)
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
