"""What a fetched body is: its declared character set, its text as a browser would decode it,
and whether it is an HTML page. One home for what the listing reader, the extractor, the feed
parser and the pipeline each need to know of a body. Pure."""

from __future__ import annotations

import codecs
import re

_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
# The HTML spec looks for <meta charset> in the first 1024 bytes; real pages put comments and
# inline scripts first, so look further, but not through the whole page.
_META_SCAN_BYTES = 8192
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))  # fmt: skip
# Labels every browser reads as windows-1252, and servers rely on that.
_WINDOWS_1252 = frozenset({"iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"})
_HTML_START = (b"<html", b"<!doctype html")

# What is asked for: a source kind's own document (monitor.kinds), and an article page.
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml, */*;q=0.1"


def declared_charset(content_type: str | None) -> str | None:
    """The charset a Content-Type header declares, lower-cased: ``text/html; charset=UTF-8``
    gives ``utf-8``; none gives None."""
    match = _CHARSET.search(content_type or "")
    return match.group(1).lower() if match else None


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode as browsers do, in order: byte-order mark, Content-Type, ``<meta>``, UTF-8."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace")
    meta = _META_CHARSET.search(body[:_META_SCAN_BYTES])
    in_meta = meta.group(1).decode("ascii", errors="replace").lower() if meta else None
    for label, from_meta in ((declared_charset(content_type), False), (in_meta, True)):
        if label is None:
            continue
        # A <meta> that was readable as ASCII cannot be UTF-16 (the HTML spec reads it as UTF-8).
        if from_meta and label.startswith("utf-16"):
            label = "utf-8"
        elif label in _WINDOWS_1252:
            label = "windows-1252"
        try:
            return body.decode(label, errors="replace")
        except LookupError:
            continue
    return body.decode("utf-8", errors="replace")


def looks_like_html(body: bytes, content_type: str | None = None) -> bool:
    """An HTML page by its Content-Type, or by how its first kilobyte begins."""
    if "html" in (content_type or "").lower():
        return True
    head = body[:1024].lower()
    return any(tag in head for tag in _HTML_START)
