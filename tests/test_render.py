from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import feedparser
import pytest

from monitor.formats.atom import render_atom, story_id
from monitor.formats.html import highlight, render_html, render_index
from monitor.labels import LABELS, labels_for
from monitor.models import AlsoIn, Digest, Evidence, SourceHealth, SourceStatus, Story

BAKU = ZoneInfo("Asia/Baku")
HOSTILE_URL = "javascript:alert(1)"


def story(
    n: int,
    *,
    score: float = 0.5,
    aspects: tuple[str, ...] = ("co_production",),
    countries: tuple[str, ...] = ("AZ",),
    **changes: object,
) -> Story:
    base = Story(
        url=f"https://news.example/{n}",
        title=f"Story {n}",
        source="Caspian Wire",
        language="en",
        published=datetime(2026, 11, 26, 9 + n % 10, 30, tzinfo=BAKU),
        topics=("film_cooperation",),
        score=score,
        aspects=aspects,
        countries=countries,
        evidence=(Evidence("co-production", f"A co-production was signed ({n})."),),
        summary="One sentence. Two sentences.",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


HEALTH = (
    SourceHealth("Caspian Wire", "https://news.example/rss", SourceStatus.OK, 4, None),
    SourceHealth("Quiet", "https://quiet.example/rss", SourceStatus.NOT_MODIFIED, 0, None),
    SourceHealth(
        "Broken Outlet",
        "https://broken.example/rss",
        SourceStatus.ERROR,
        0,
        "fetch.http_500",
        "server said 500",
        datetime(2026, 11, 24, 6, 0, tzinfo=UTC),  # stored in UTC, shown in Baku time
        3,
    ),
)


def digest(*stories: Story, sources: tuple[SourceHealth, ...] = HEALTH) -> Digest:
    return Digest(
        date="2026-11-26",
        timezone="Asia/Baku",
        generated_at=datetime(2026, 11, 26, 8, 0, 3, tzinfo=BAKU),
        stories=stories,
        sources=sources,
    )


HOSTILE = story(
    1,
    url=HOSTILE_URL,
    title="<script>alert(1)</script> Co-production",
    source='"><img src=x onerror=alert(1)>',
    summary="</p><script>steal()</script><a href='javascript:x'>click</a>",
    evidence=(
        Evidence("<script>", "Before <script>alert(2)</script> after."),
        Evidence("co-production", '"><img onerror=alert(3)> co-production & more'),
    ),
    also=(
        AlsoIn("javascript:alert(4)", "<b>evil</b>", "ru"),
        AlsoIn("data:text/html,<script>x</script>", "data", "az"),
        AlsoIn("https://ru.news.example/1", "Caspian Wire RU", "ru"),
    ),
)


class _Page(HTMLParser):
    """Every start tag with its attributes, to check what a browser would act on."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parsed(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


SAFE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "div", "h1", "h2", "h3", "p", "a", "span",
    "strong", "time", "blockquote", "mark", "ul", "li", "code",
}  # fmt: skip


def assert_safe(html: str, allowed_links: set[str]) -> None:
    lowered = html.lower()
    for needle in ("<script", "<img", "<iframe", "<link", "<object", "<svg"):
        assert needle not in lowered, needle
    style = lowered[lowered.index("<style>") : lowered.index("</style>")]
    assert "@import" not in style and "url(" not in style
    assert lowered.count("<style") == 1
    page = parsed(html)
    for tag, attrs in page.tags:
        assert tag in SAFE_TAGS, tag
        assert not any(name.startswith("on") or name == "src" for name in attrs), (tag, attrs)
        assert "url(" not in (attrs.get("style") or "")
        if "href" in attrs:
            assert tag == "a"
            assert attrs["href"] in allowed_links, attrs["href"]
    # Any http(s) address in the page is one of the links (never a resource to load).
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= allowed_links


def test_hostile_feed_text_is_escaped_and_only_http_links_survive() -> None:
    ok = story(2)
    html = render_html(digest(HOSTILE, ok))
    assert_safe(html, {ok.url, "https://ru.news.example/1"})
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Co-production" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html.replace("href=&#39;javascript:x&#39;", "")
    assert "&lt;b&gt;evil&lt;/b&gt;" not in html  # the also-link with a bad scheme is dropped
    # The hostile story has no link: its headline is plain text.
    assert "<h3>&lt;script&gt;" in html
    assert "Before <mark>&lt;script&gt;</mark>alert(2)&lt;/script&gt; after." in html


@pytest.mark.parametrize("group_by", [None, "aspect", "country"])
@pytest.mark.parametrize("locale", sorted(LABELS))
def test_every_variant_is_safe(group_by: str | None, locale: str) -> None:
    html = render_html(digest(HOSTILE, story(2)), locale, group_by)  # type: ignore[arg-type]
    assert_safe(html, {"https://news.example/2", "https://ru.news.example/1"})


def test_highlight_cyrillic_case_insensitive() -> None:
    out = highlight(
        "КИНОАГЕНТСТВА обсудили совместное\nпроизводство фильмов.",
        ["киноагентства", "совместное производство"],
    )
    assert str(out) == (
        "<mark>КИНОАГЕНТСТВА</mark> обсудили <mark>совместное\nпроизводство</mark> фильмов."
    )


def test_highlight_turkish_dotted_capitals_and_apostrophes() -> None:
    out = highlight("TÜRK-AZERBAYCAN ORTAK FİLM Festivali İzmir'de", ["ortak film", "izmir'de"])
    assert str(out) == (
        "TÜRK-AZERBAYCAN <mark>ORTAK FİLM</mark> Festivali <mark>İzmir&#39;de</mark>"
    )


def test_highlight_escapes_each_piece_and_prefers_the_longest_term() -> None:
    out = highlight("R&D <b>co-production</b> fund", ["co", "co-production", "R&D", ""])
    assert str(out) == "<mark>R&amp;D</mark> &lt;b&gt;<mark>co-production</mark>&lt;/b&gt; fund"
    assert str(highlight("a < b", [])) == "a &lt; b"


def test_story_parts_in_the_page() -> None:
    dated = story(
        3,
        dated_by_fetch=True,
        language="ru",
        aspects=("co_production", "festival_market"),
        countries=("AZ", "TR"),
        also=(AlsoIn("https://ru.news.example/3", "RU", "ru"), AlsoIn("https://az.example/3", "AZ", "az")),
    )  # fmt: skip
    html = render_html(digest(dated))
    assert '<a href="https://news.example/3">Story 3</a>' in html
    assert "Caspian Wire · Russian · " in html
    assert '<time datetime="2026-11-26T12:30:00+04:00">12:30</time> (fetched)' in html
    assert ">festival / market</span>" in html and ">Türkiye</span>" in html
    assert "One sentence. Two sentences." in html
    assert "A <mark>co-production</mark> was signed (3)." in html
    assert (
        'also in: <a href="https://ru.news.example/3" title="Russian">RU (ru)</a>'
        ' · <a href="https://az.example/3" title="Azerbaijani">AZ (az)</a>'
    ) in html
    assert (
        "1 story" in html
        and "Languages: Russian 1" in html
        and "Countries: Azerbaijan 1 · Türkiye 1" in html
    )
    assert "(fetched)" not in render_html(digest(story(4)))


def test_source_health_lists_failing_sources_first() -> None:
    html = render_html(digest(story(1)))
    failing = html.index("Failing sources")
    assert failing < html.index("Other sources")
    assert "<code>fetch.http_500</code> — server said 500 · 3 failures in a row" in html
    assert "last success 2026-11-24 10:00" in html
    assert 'Quiet: <span class="status status-not_modified">no changes</span>' in html
    healthy = render_html(digest(story(1), sources=HEALTH[:2]))
    assert "Every source was checked without errors." in healthy
    assert "Failing sources" not in healthy


def test_empty_day_says_so() -> None:
    html = render_html(digest())
    assert "No film-cooperation stories were found for this day." in html
    assert 'class="story"' not in html
    assert "Sources" in html


def headings(html: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", html)


def titles(html: str) -> list[str]:
    return re.findall(r'<a href="https://news\.example/\d+">(.*?)</a>', html)


def test_group_by_aspect_uses_the_first_aspect_and_best_first() -> None:
    stories = (
        story(1, score=0.4, aspects=("financing", "co_production")),
        story(2, score=0.9, aspects=("co_production",)),
        story(3, score=0.7, aspects=("financing",)),
        story(4, score=0.95, aspects=()),
        story(5, score=0.6, aspects=("co_production", "policy")),
    )
    html = render_html(digest(*stories), group_by="aspect")
    assert headings(html) == ["Co-production", "Financing", "Other", "Sources"]
    assert titles(html) == ["Story 2", "Story 5", "Story 3", "Story 1", "Story 4"]
    assert titles(render_html(digest(*stories))) == [
        "Story 4", "Story 2", "Story 3", "Story 5", "Story 1",
    ]  # fmt: skip


def test_group_by_country_biggest_group_first() -> None:
    stories = (
        story(1, score=0.4, countries=("TR", "AZ")),
        story(2, score=0.9, countries=("AZ",)),
        story(3, score=0.7, countries=("AZ", "GE")),
        story(4, score=0.8, countries=()),
    )
    html = render_html(digest(*stories), "ru", group_by="country")
    assert headings(html) == ["Азербайджан", "Турция", "Страна не указана", "Источники"]
    assert titles(html) == ["Story 2", "Story 3", "Story 1", "Story 4"]


def test_bad_group_by_is_refused() -> None:
    with pytest.raises(ValueError, match="group_by"):
        render_html(digest(), group_by="outlet")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", ["Film cooperation digest — November 26, 2026", "also in", "(fetched)",
                "co-production", "Sources", "no changes", "3 failures in a row", "2 stories"]),
        ("ru", ["Дайджест кинематографического сотрудничества — 26 ноября 2026",
                "также на языках", "(время получения)", "совместное производство", "Источники",
                "без изменений", "3 ошибки подряд", "2 сюжета"]),
        ("az", ["Kino əməkdaşlığı icmalı — 26 noyabr 2026", "digər dillərdə", "(alınma vaxtı)",
                "birgə istehsal", "Mənbələr", "dəyişiklik yoxdur", "ardıcıl 3 xəta", "2 xəbər"]),
    ],
)  # fmt: skip
def test_each_locale_has_its_labels(locale: str, words: list[str]) -> None:
    also = (AlsoIn("https://ru.news.example/1", "RU", "ru"),)
    html = render_html(digest(story(1, dated_by_fetch=True, also=also), story(2)), locale)
    assert f'<html lang="{locale}">' in html
    for word in words:
        assert word in html, word
    assert labels_for(locale).empty_day in render_html(digest(), locale)


def test_labels_cover_every_aspect_and_status_in_every_locale() -> None:
    for labels in LABELS.values():
        assert set(labels.aspects) == set(LABELS["en"].aspects)
        assert set(labels.statuses) == {s.value for s in SourceStatus}


def test_russian_plurals() -> None:
    ru = labels_for("ru")
    assert [ru.count_stories(n) for n in (1, 3, 5, 21)] == [
        "1 сюжет", "3 сюжета", "5 сюжетов", "21 сюжет",
    ]  # fmt: skip


def test_unknown_locale_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known locales: az, en, ru"):
        labels_for("fr")
    with pytest.raises(ValueError, match="'fr'"):
        render_html(digest(), "fr")


ATOM = "http://www.w3.org/2005/Atom"
FEED_URL = "https://monitor.example/reports/feed.xml"
UPDATED = datetime(2026, 11, 26, 8, 0, 3, tzinfo=BAKU)


def parse_feed(xml: str) -> feedparser.FeedParserDict:
    ET.fromstring(xml.encode("utf-8"))  # well-formed, strictly
    return feedparser.parse(io.BytesIO(xml.encode("utf-8")))


def test_atom_feed_parses_and_holds_every_story() -> None:
    stories = (
        story(1, aspects=("co_production", "diplomacy"), countries=("AZ", "TR")),
        story(2, also=(AlsoIn("https://ru.news.example/2", "RU", "ru"),)),
        replace(HOSTILE, title="<script>x</script> & \x0b\x00bad chars"),
    )
    xml = render_atom(stories, FEED_URL, UPDATED, "Film <cooperation> & co")
    feed = parse_feed(xml)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Film <cooperation> & co"
    assert len(feed.entries) == 3
    by_id = {e.id: e for e in feed.entries}
    first = by_id["https://news.example/1"]
    assert first.link == "https://news.example/1"
    assert first.author == "Caspian Wire"
    assert first.summary == "One sentence. Two sentences."
    assert [t.term for t in first.tags] == ["co_production", "diplomacy", "AZ", "TR"]
    assert first.tags[1].label == "film diplomacy"
    assert first.published_parsed[:5] == (2026, 11, 26, 6, 30)  # UTC
    assert [link.href for link in by_id["https://news.example/2"].links] == [
        "https://news.example/2",
        "https://ru.news.example/2",
    ]
    hostile = next(e for e in feed.entries if e.id.startswith("tag:"))
    assert hostile.id.startswith("tag:monitor.example,2025:story/")
    assert all(link.href.startswith("https://") for link in hostile.get("links", []))
    hrefs = [link.get("href", "") for link in ET.fromstring(xml).iter(f"{{{ATOM}}}link")]
    assert hrefs and all(h.startswith("https://") for h in hrefs), hrefs
    assert "\x0b" not in xml and "\x00" not in xml


def test_atom_ids_are_stable() -> None:
    linkless = story(7, url="")
    assert story_id(linkless) == story_id(replace(linkless, score=0.1, summary="changed"))
    assert story_id(linkless) != story_id(replace(linkless, title="Other"))
    assert story_id(story(7)) == "https://news.example/7"


def test_empty_atom_feed_is_valid() -> None:
    feed = parse_feed(render_atom((), FEED_URL, UPDATED, "Empty"))
    assert not feed.bozo and feed.entries == []


def test_index_lists_newest_first() -> None:
    html = render_index(
        [("2026-11-24", "2026-11-24.html"), ("2026-11-26", "2026-11-26.html"),
         ("<b>2026-11-25</b>", "2026-11-25.html")],
        "en", feed_href="feed.xml",
    )  # fmt: skip
    links = re.findall(r'<li><a href="([^"]+)">', html)
    assert links == ["2026-11-26.html", "2026-11-25.html", "2026-11-24.html"]
    assert "&lt;b&gt;2026-11-25&lt;/b&gt;" in html
    assert '<a href="feed.xml" type="application/atom+xml">Atom feed</a>' in html
    assert_safe(html, {"feed.xml", *links})
    assert "Дайджестов пока нет." in render_index([], "ru")


@pytest.mark.parametrize(
    "href", ["https://x.example/a.html", "/abs.html", "//x.example/a", "javascript:x"]
)
def test_index_refuses_non_relative_links(href: str) -> None:
    with pytest.raises(ValueError, match="relative"):
        render_index([("x", href)])
