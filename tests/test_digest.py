from __future__ import annotations

import json
import os
import re
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.deliver import write_files
from monitor.digest import build_digest, day_window
from monitor.formats.jsondata import to_json
from monitor.formats.markdown import to_markdown
from monitor.models import Article, Evidence, SourceHealth, SourceStatus, Tagging, TextOrigin
from monitor.store import StoredArticle

BAKU = ZoneInfo("Asia/Baku")
GENERATED = datetime(2026, 11, 26, 4, 0, 3, tzinfo=UTC)


def stored(
    i: int,
    title: str,
    score: float,
    url: str = "",
    published: datetime | None = None,
    text: str = "",
) -> StoredArticle:
    tagging = Tagging(
        ("film_cooperation",), score, ("co_production", "diplomacy"), ("AZ", "TR"),
        tuple(Evidence(f"term{j}", f"Sentence {j}.", "film") for j in range(5)), "en",
    )  # fmt: skip
    article = Article(
        source="Trend News Agency (English)", url=url or f"https://en.trend.example/{i}", title=title,
        text=text or "First sentence here. Second sentence here. Third one. Fourth.", text_origin=TextOrigin.PAGE,
        fetched_at=datetime(2026, 11, 26, 3, 0, tzinfo=UTC), published=published, language="en", tagging=tagging,
    )  # fmt: skip
    return StoredArticle(i, article)


HEALTH = [
    SourceHealth(
        "Trend News Agency (English)", "https://en.trend.example/rss", SourceStatus.OK, 12, None
    ),
    SourceHealth(
        "Broken",
        "https://broken.example/rss",
        SourceStatus.ERROR,
        0,
        "fetch.http_500",
        "server error",
        None,
        3,
    ),
]


def test_day_window_in_time_zone() -> None:
    start, end = day_window(date(2026, 11, 26), BAKU)
    assert start.astimezone(UTC) == datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
    assert (end - start).total_seconds() == 86400


def test_json_contract() -> None:
    digest = build_digest(
        date(2026, 11, 26), BAKU, GENERATED,
        [stored(1, "Low", 0.5, published=datetime(2026, 11, 26, 6, 12, tzinfo=UTC)), stored(2, "High", 0.93)],
        HEALTH,
    )  # fmt: skip
    data = to_json(digest)
    assert data["date"] == "2026-11-26" and data["timezone"] == "Asia/Baku"
    assert data["generated_at"] == "2026-11-26T08:00:03+04:00"
    high, low = data["stories"]
    assert (high["title"], low["title"]) == ("High", "Low")  # best first
    assert low["published"] == "2026-11-26T10:12:00+04:00"
    assert high["published"] == "2026-11-26T07:00:00+04:00" and high["dated_by_fetch"] is True
    assert high["source"] == "Trend News Agency (English)" and high["language"] == "en"
    assert high["topics"] == ["film_cooperation"] and high["score"] == 0.93
    assert high["aspects"] == ["co_production", "diplomacy"] and high["countries"] == ["AZ", "TR"]
    assert (
        high["evidence"][0] == {"term": "term0", "text": "Sentence 0."}
        and len(high["evidence"]) == 5
    )
    assert high["summary"] == "First sentence here. Second sentence here. Third one."
    assert high["also"] == []
    assert data["sources"][1] == {
        "name": "Broken", "url": "https://broken.example/rss", "status": "error", "new_items": 0,
        "error": "fetch.http_500", "error_message": "server error", "last_success": None, "consecutive_failures": 3, "silent": False, "last_item": None,
    }  # fmt: skip
    json.dumps(data)


def test_markdown_escapes_feed_text_and_drops_unsafe_links() -> None:
    hostile = stored(
        1, "<script>alert(1)</script> [click](javascript:alert(1))", 0.8, url="javascript:alert(1)"
    )
    text = to_markdown(build_digest(date(2026, 11, 26), BAKU, GENERATED, [hostile], HEALTH))
    assert "<script>" not in text and "\\<script\\>" in text
    assert not re.search(r"(?<!\\)\]\(javascript:", text)  # the bracket is escaped: no link
    assert "(<javascript" not in text


def test_markdown_lists_stories_and_health() -> None:
    text = to_markdown(
        build_digest(
            date(2026, 11, 26), BAKU, GENERATED, [stored(1, "Film week opens", 0.9)], HEALTH
        )
    )
    assert "## [Film week opens](<https://en.trend.example/1>)" in text
    assert "`co-production` `film diplomacy` `Azerbaijan` `Türkiye`" in text
    assert "- **Broken**: `fetch.http_500` — server error · 3 failures in a row" in text


def test_summary_skips_a_repeated_headline_and_evidence_is_grouped_by_sentence() -> None:
    text = (
        "Film week opens\n\nThe film week opened in Tashkent. It runs for five days. Third. Fourth."
    )
    story = stored(1, "Film week opens", 0.9, text=text)
    data = to_json(build_digest(date(2026, 11, 26), BAKU, GENERATED, [story], HEALTH))
    assert (
        data["stories"][0]["summary"]
        == "The film week opened in Tashkent. It runs for five days. Third."
    )
    markdown = to_markdown(build_digest(date(2026, 11, 26), BAKU, GENERATED, [story], HEALTH))
    assert markdown.count("> Sentence 0.") == 1 and "> — **term0**" in markdown


def test_empty_day_says_so() -> None:
    text = to_markdown(build_digest(date(2026, 11, 26), BAKU, GENERATED, [], HEALTH))
    assert "No film-cooperation stories were found for this day." in text


def test_files_written_atomically(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    older = build_digest(date(2026, 11, 25), BAKU, GENERATED, [], HEALTH)
    write_files(older, reports)
    digest = build_digest(date(2026, 11, 26), BAKU, GENERATED, [stored(1, "Фильм", 0.9)], HEALTH)
    paths = write_files(digest, reports, locale="ru", feed_stories=digest.stories)
    names = ["2026-11-26.json", "2026-11-26.md", "2026-11-26.html", "index.html", "feed.xml"]
    assert [p.name for p in paths] == names
    assert json.loads(paths[0].read_text(encoding="utf-8"))["stories"][0]["title"] == "Фильм"
    assert not [
        p.name for p in reports.iterdir() if p.name.startswith(".")
    ]  # no temporary files left
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert index.index("2026-11-26.html") < index.index("2026-11-25.html")  # newest first
    assert "Фильм" in (reports / "feed.xml").read_text(encoding="utf-8")
    assert "Фильм" in paths[2].read_text(encoding="utf-8")


@pytest.mark.parametrize(("umask", "mode", "expected"), [
    (0o022, None, 0o644),  # the usual umask: everyone may read, as with any program's files
    (0o027, None, 0o640),
    (0o077, None, 0o600),
    (0o022, 0o640, 0o640),  # reports: {mode: "0640"} wins over the umask
])  # fmt: skip
def test_files_follow_the_umask_or_the_configured_mode(
    tmp_path: Path, umask: int, mode: int | None, expected: int
) -> None:
    digest = build_digest(date(2026, 11, 26), BAKU, GENERATED, [], HEALTH)
    old = os.umask(umask)
    try:
        paths = write_files(digest, tmp_path / "reports", mode=mode)
        again = write_files(digest, tmp_path / "reports", mode=mode)  # a replaced file too
    finally:
        os.umask(old)
    assert len(paths) == 5
    assert {stat.S_IMODE(p.stat().st_mode) for p in [*paths, *again]} == {expected}


def test_the_reports_mode_is_read_from_the_configuration(tmp_path: Path) -> None:
    from monitor import cli
    from tests.sites import write_config

    config = write_config(tmp_path, [{"name": "A", "url": "http://127.0.0.1:9/rss"}])
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("reports: reports/", 'reports: {path: out/, mode: "0604"}'), encoding="utf-8"
    )
    old = os.umask(0o077)
    try:
        assert cli.main(["--config", str(config), "digest"]) == 0
    finally:
        os.umask(old)
    files = list((tmp_path / "out").iterdir())
    assert files and {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o604}


def test_silent_sources_are_flagged() -> None:
    from dataclasses import replace

    from monitor.digest import is_silent
    from monitor.formats.html import render_html

    now = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    busy = replace(HEALTH[0], recent_items=300, last_item=now - timedelta(hours=30))  # ~10 a day
    quiet = replace(HEALTH[0], recent_items=4, last_item=now - timedelta(days=9))  # one a week
    new = replace(HEALTH[0], recent_items=0, last_item=None)
    assert is_silent(busy, now)  # 30 h without news from a source of ten a day
    assert not is_silent(
        replace(busy, last_item=now - timedelta(hours=12)), now
    )  # a night is not silence
    assert not is_silent(quiet, now)  # 9 days is within three of its usual 7.5-day gaps
    assert not is_silent(new, now)
    digest = build_digest(date(2026, 11, 26), BAKU, now, [], [busy])
    assert digest.sources[0].silent and to_json(digest)["sources"][0]["silent"] is True
    assert "- **Trend News Agency (English)**: nothing new since 2026-11-25 02:00" in to_markdown(
        digest
    )
    html = render_html(digest, "ru")
    assert "Молчат дольше обычного" in html and "ничего нового с 2026-11-25 02:00" in html
