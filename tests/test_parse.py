"""Feed parsing on fixture files: each ``tests/data/feeds/<name>`` has a golden
``<name>.expected.json`` beside it. Set REGEN_GOLDEN=1 to rewrite them after a deliberate change,
then review the diff."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.errors import ParseError
from monitor.parse import fallback_date, parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
HEADERS = {
    "windows-1251.xml": {"Content-Type": "application/rss+xml; charset=windows-1251"},
    "atom.xml": {"Content-Type": "application/atom+xml"},
}
FIXTURES = sorted(p for p in FEEDS.iterdir() if p.suffix in (".xml", ".rdf"))


def _parse(path: Path, language: str | None = None):
    headers = HEADERS.get(path.name, {"Content-Type": "application/rss+xml"})
    return parse_feed(
        path.read_bytes(),
        headers,
        f"https://feeds.example/{path.name}",
        language=language,
        default_tz=ZoneInfo("Asia/Baku"),
        now=NOW,
    )


def _jsonable(value):
    return json.loads(json.dumps(asdict(value), default=str, ensure_ascii=False))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_golden(path: Path) -> None:
    result = _jsonable(_parse(path))
    golden = path.with_name(path.name + ".expected.json")
    if os.environ.get("REGEN_GOLDEN"):
        golden.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert result == json.loads(golden.read_text(encoding="utf-8"))


def test_versions_are_recognised() -> None:
    versions = {p.name: _parse(p).version for p in FIXTURES}
    assert versions["rss091.xml"] == "rss091u"
    assert versions["rss10.rdf"] == "rss10"
    assert versions["rss20.xml"] == "rss20"
    assert versions["atom.xml"] == "atom10"


def test_windows_1251_without_declaration_decodes_with_http_charset() -> None:
    feed = _parse(FEEDS / "windows-1251.xml")
    assert feed.title == "Новости кино"
    assert feed.items[0].title.startswith("Азербайджан и Узбекистан")


def test_windows_1251_without_headers_would_be_mojibake() -> None:
    # Why the HTTP headers must reach feedparser: without them the bytes decode as cp1252.
    feed = parse_feed((FEEDS / "windows-1251.xml").read_bytes(), {}, "https://x.example/", now=NOW)
    assert "Азербайджан" not in feed.items[0].title


def test_link_is_absolute_and_canonical() -> None:
    item = _parse(FEEDS / "rss20.xml").items[0]
    assert item.url == "https://feeds.example/culture/film-week.html?id=7"
    assert item.guid == "news-7"


def test_summary_is_plain_text_without_script() -> None:
    item = _parse(FEEDS / "rss20.xml").items[0]
    assert item.summary == "A week of Azerbaijani films opened."
    assert "alert" not in item.summary and "<" not in item.summary
    assert "agreed by the two film agencies" in item.content


def test_non_http_link_is_dropped_but_item_kept() -> None:
    items = _parse(FEEDS / "rss20.xml").items
    unsafe = next(i for i in items if i.title == "Unsafe link")
    assert unsafe.url == ""
    assert unsafe.guid and unsafe.guid.startswith("urn:sha1:")


def test_date_fallback_for_day_first_format_in_source_zone() -> None:
    item = _parse(FEEDS / "rss20.xml").items[1]
    assert item.published_raw == "24.11.2026 12:40"
    assert item.published == datetime(2026, 11, 24, 8, 40, tzinfo=UTC)  # 12:40 in Baku (+4)


def test_recoverable_feed_is_used_and_problem_recorded() -> None:
    feed = _parse(FEEDS / "bozo.xml")
    assert len(feed.items) == 2
    assert feed.warning and "not well-formed" in feed.warning


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "parse.empty"),
        (b"   \n", "parse.empty"),
        ((FEEDS / "not-a-feed.html").read_bytes(), "parse.not_a_feed"),
    ],
)
def test_unusable_bodies(body: bytes, code: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_feed(body, {"Content-Type": "text/html"}, "https://x.example/", now=NOW)
    assert info.value.code == code


def test_truncated_xml_keeps_what_was_complete() -> None:
    body = (FEEDS / "rss20.xml").read_bytes()
    cut = body[: body.index(b"<item>", body.index(b"<item>") + 1) + 40]
    feed = parse_feed(cut, {}, "https://x.example/", now=NOW)
    assert feed.items[0].title.startswith("Film week")
    assert feed.warning


def test_entities_are_not_expanded() -> None:
    body = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>&c; &xxe;</title>
<link>https://x.example/1</link></item></channel></rss>"""
    feed = parse_feed(body, {}, "https://x.example/", now=NOW)
    title = feed.items[0].title if feed.items else ""
    assert "aaaaaaaaaa" not in title and "root:" not in title


@pytest.mark.parametrize(
    ("raw", "language", "expected"),
    [
        ("26 ноября 2026, 10:15", "ru", datetime(2026, 11, 26, 6, 15, tzinfo=UTC)),
        ("26 Kasım 2026 10:15", "tr", datetime(2026, 11, 26, 6, 15, tzinfo=UTC)),
        ("Thu, 26 Nov 2026 10:15:00 GMT+4", "en", datetime(2026, 11, 26, 6, 15, tzinfo=UTC)),
        ("10.06.2025 14:05", None, datetime(2025, 6, 10, 10, 5, tzinfo=UTC)),
    ],
)
def test_fallback_dates(raw: str, language: str | None, expected: datetime) -> None:
    assert fallback_date(raw, language, ZoneInfo("Asia/Baku")) == expected


def test_unknown_zone_name_is_not_taken_as_utc() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title><item><title>x</title>
<link>https://x.example/1</link><pubDate>Thu, 26 Nov 2026 10:15:00 AZT</pubDate></item></channel></rss>"""
    item = parse_feed(body, {}, "https://x.example/", language="en", now=NOW).items[0]
    assert item.published == datetime(2026, 11, 26, 6, 15, tzinfo=UTC)


def test_epoch_string_is_not_1749_and_future_dates_are_dropped() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title>
<item><title>a</title><link>https://x.example/1</link><pubDate>1764145800</pubDate></item>
<item><title>b</title><link>https://x.example/2</link><pubDate>Mon, 01 Jan 2035 00:00:00 +0000</pubDate></item>
</channel></rss>"""
    first, second = parse_feed(body, {}, "https://x.example/", now=NOW).items
    assert first.published == datetime.fromtimestamp(1764145800, UTC)
    assert second.published is None and second.published_raw
