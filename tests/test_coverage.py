"""How much of the field a digest saw, and how each format says it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.codes import Cause
from monitor.coverage import banner, cause_of, coverage_of, subject
from monitor.digest import build_digest
from monitor.formats.html import render_html
from monitor.formats.jsondata import to_json
from monitor.formats.markdown import to_markdown
from monitor.labels import LABELS, labels_for
from monitor.models import SourceHealth, SourceStatus

NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
EN = labels_for("en")


def _health(
    ok: int, failed: int, code: str = "fetch.dns", unchecked: int = 0
) -> list[SourceHealth]:
    out = [
        SourceHealth(f"ok{i}", "https://a.example/", SourceStatus.OK, 1, None) for i in range(ok)
    ]
    out += [
        SourceHealth(f"bad{i}", "https://b.example/", SourceStatus.ERROR, 0, code, "x")
        for i in range(failed)
    ]
    out += [SourceHealth(f"new{i}", "", SourceStatus.SKIPPED, 0, None) for i in range(unchecked)]
    return out


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        ("fetch.dns", Cause.DNS),
        ("fetch.refused", Cause.REFUSED),
        ("fetch.timeout", Cause.TIMEOUT),
        ("fetch.tls", Cause.TLS),
        ("fetch.connect", Cause.NETWORK),
        ("fetch.http_403", Cause.BLOCKED),
        ("fetch.http_404", Cause.MOVED),
        ("fetch.http_410", Cause.MOVED),
        ("fetch.http_429", Cause.SERVER),
        ("fetch.http_503", Cause.SERVER),
        ("fetch.http_418", Cause.HTTP),
        ("parse.not_a_feed", Cause.NOT_A_FEED),
        ("fetch.robots_disallowed", Cause.POLICY),
        ("internal.error", Cause.OTHER),
        (None, Cause.OTHER),
    ],
)
def test_every_error_code_has_a_cause(code: str | None, cause: Cause) -> None:
    assert cause_of(code) is cause


def test_every_cause_has_words_in_every_locale() -> None:
    for labels in LABELS.values():
        assert set(labels.causes) == {c.value for c in Cause}, labels.locale


def test_counts_and_causes_most_first() -> None:
    health = (
        _health(3, 2, "fetch.http_404") + _health(0, 3, "fetch.dns") + _health(0, 0, unchecked=1)
    )
    coverage = coverage_of(health)
    assert (coverage.sources, coverage.ok, coverage.failed, coverage.unchecked) == (9, 3, 5, 1)
    assert [(c.cause, len(c.sources)) for c in coverage.causes] == [
        (Cause.DNS, 3),
        (Cause.MOVED, 2),
    ]


@pytest.mark.parametrize(
    ("ok", "failed", "expected"),
    [
        (36, 0, None),
        (35, 1, None),  # one feed down is a line in the sources list
        (28, 8, None),  # under a quarter
        (27, 9, "Only 27 of 36 sources could be checked"),
        (3, 33, "Only 3 of 36 sources could be checked"),
        (0, 36, "No source could be checked (36 tried)"),
        (0, 1, "No source could be checked (1 tried)"),
        (0, 0, "No sources are configured"),
    ],
)
def test_banner_when_many_or_all_sources_failed(ok: int, failed: int, expected: str | None) -> None:
    text = banner(coverage_of(_health(ok, failed)), EN)
    assert (text is None) if expected is None else (text or "").startswith(expected)


def test_subject_says_what_was_not_seen() -> None:
    title = "Film cooperation digest — 2026-11-26"
    assert subject(title, coverage_of(_health(36, 0)), EN) == title
    assert subject(title, coverage_of(_health(3, 33)), EN) == (
        f"{title} — only 3 of 36 sources checked"
    )
    assert (
        subject(title, coverage_of(_health(0, 36)), EN) == f"{title} — no source could be checked"
    )
    ru = subject("Дайджест", coverage_of(_health(0, 36)), labels_for("ru"))
    assert ru == "Дайджест — ни один источник не проверен"


@pytest.mark.parametrize("locale", sorted(LABELS))
def test_a_blind_day_in_every_format_and_locale(locale: str) -> None:
    labels = labels_for(locale)
    digest = build_digest(date(2026, 11, 26), ZoneInfo("Asia/Baku"), NOW, [], _health(0, 36))
    blind = labels.coverage_blind.format(n=36)
    dns = labels.cause("dns")
    html = render_html(digest, locale)
    markdown = to_markdown(digest, locale)
    for text in (html, markdown):
        assert blind in text and dns in text
        assert labels.empty_day not in text  # not a quiet day
        assert labels.all_sources_ok not in text
    assert to_json(digest)["coverage"]["failed"] == 36


def test_a_partial_day_shows_stories_under_the_banner() -> None:
    digest = build_digest(
        date(2026, 11, 26), ZoneInfo("Asia/Baku"), NOW, [], _health(3, 33, "fetch.timeout")
    )
    markdown = to_markdown(digest)
    assert "Only 3 of 36 sources could be checked" in markdown
    assert EN.empty_day in markdown  # among the sources that were seen
    assert "no answer in time" in markdown and "(+28)" in markdown  # 5 names shown of 33


def test_unchecked_sources_do_not_read_as_all_checked() -> None:
    digest = build_digest(
        date(2026, 11, 26), ZoneInfo("Asia/Baku"), NOW, [], _health(4, 0, unchecked=1)
    )
    assert EN.all_sources_ok not in to_markdown(digest)
    assert EN.all_sources_ok not in render_html(digest)
    complete = build_digest(date(2026, 11, 26), ZoneInfo("Asia/Baku"), NOW, [], _health(4, 0))
    assert EN.all_sources_ok in to_markdown(complete)
