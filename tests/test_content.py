"""One home for what a body is (charset, HTML or not) and which dates are believed: the feed
parser, the listing reader, the extractor and the pipeline agree because they share it."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, timedelta

import pytest

from monitor.content import declared_charset, decode_html, looks_like_html
from monitor.dates import EARLIEST, FUTURE_SLACK, plausible

PAGE = "<html><head><meta charset='windows-1251'></head><body>Кино</body></html>"


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/html; charset=UTF-8", "utf-8"),
        ('text/xml; charset="koi8-r"', "koi8-r"),
        ("text/html", None),
        (None, None),
    ],
)
def test_declared_charset(content_type: str | None, expected: str | None) -> None:
    assert declared_charset(content_type) == expected


def test_decoding_follows_the_browsers_order() -> None:
    body = PAGE.encode("windows-1251")
    assert "Кино" in decode_html(body, "text/html")  # the <meta>
    assert "Кино" in decode_html(body, "text/html; charset=windows-1251")  # the header
    utf8 = PAGE.replace("windows-1251", "utf-8").encode("utf-8")
    assert "Кино" in decode_html(codecs.BOM_UTF8 + utf8, "text/html; charset=latin-1")  # BOM
    assert "Кино" in decode_html(utf8.replace(b"<meta charset='utf-8'>", b""), None)  # UTF-8


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"<!DOCTYPE html><html>", None, True),
        (b"\n  <!-- x --><html lang=az>", None, True),
        (b"<?xml version='1.0'?><rss/>", "application/rss+xml", False),
        (b"{}", "text/html; charset=utf-8", True),
    ],
)
def test_looks_like_html(body: bytes, content_type: str | None, expected: bool) -> None:
    assert looks_like_html(body, content_type) is expected


def test_one_window_for_publication_dates() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert plausible(now + FUTURE_SLACK, now) == now + FUTURE_SLACK
    assert plausible(now + FUTURE_SLACK + timedelta(minutes=1), now) is None
    assert plausible(EARLIEST - timedelta(days=1), now) is None
    assert plausible(None, now) is None
