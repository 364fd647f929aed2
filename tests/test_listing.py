"""Sitemaps, robots.txt and HTML listing pages on fixture files in ``tests/data/listing``."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from monitor.errors import ParseError
from monitor.listing import (
    MAX_SITEMAP_BYTES,
    _text,
    _xml_parser,
    check_pattern,
    check_selector,
    parse_listing,
    parse_sitemap,
    sitemaps_in_robots,
)
from monitor.models import FeedItem

DATA = Path(__file__).parent / "data" / "listing"
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
KR = "https://kinoreporter.example"
SECTION_URL = f"{KR}/news/industry/"


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _sitemap(body: bytes, **kwargs: int):
    return parse_sitemap(body, f"{KR}/news-sitemap.xml", now=NOW, **kwargs)


def _section(**kwargs):
    return parse_listing(_read("section.html"), SECTION_URL, **kwargs)


# --- sitemaps ----------------------------------------------------------------------------------

NEWS_EXPECTED = [
    (
        f"{KR}/news/2026/11/26/eurimages-funds/",
        "Eurimages backs 12 films & two series",
        datetime(2026, 11, 26, 7, 15, tzinfo=UTC),
        "2026-11-26T07:15:00Z",
    ),
    (
        f"{KR}/news/2026/11/25/georgia-armenia-coproduction-treaty/",
        "Georgia and Armenia sign a film co-production treaty",
        datetime(2026, 11, 25, 14, 30, tzinfo=UTC),
        "2026-11-25T18:30:00+04:00",
    ),
    (
        f"{KR}/news/2026/11/25/tashkent-film-commission/",
        "Tashkent opens a film commission",
        datetime(2026, 11, 25, 9, 0, tzinfo=UTC),  # no zone: UTC
        "2026-11-25T09:00:00",
    ),
    (
        f"{KR}/news/2026/11/24/baku-festival-lineup/",
        "Baku festival announces its competition lineup",
        datetime(2026, 11, 24, 12, 0, tzinfo=UTC),  # a bare day: noon UTC
        "2026-11-24",
    ),
    (
        f"{KR}/ru/news/2026/11/23/kazakhfilm-partnership/",
        "«Казахфильм» подписал соглашение о партнёрстве",
        datetime(2026, 11, 23, 7, 0, tzinfo=UTC),
        "2026-11-23T10:00:00.000+03:00",
    ),
    (
        "https://cdn.kinoreporter-media.example/amp/story-123.html",
        "Uzbek and Turkish producers team up",
        datetime(2026, 11, 22, 7, 0, tzinfo=UTC),
        "2026-11-22T12:00+05:00",
    ),
    (
        # publication_date is days ahead (scheduled post): lastmod dates it instead
        f"{KR}/news/2026/11/28/embargoed-awards/",
        "Awards shortlist (embargoed)",
        datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        "2026-11-20T10:00:00Z",
    ),
    (
        f"{KR}/news/2026/11/16/rfc822-dated/",
        "A story dated the RSS way",
        datetime(2026, 11, 16, 6, 30, tzinfo=UTC),
        "Mon, 16 Nov 2026 09:30:00 +0300",
    ),
    (
        # a week ahead and nothing else: undated, after every dated item
        f"{KR}/news/2026/12/01/far-future/",
        "Dated next week",
        None,
        "2026-12-01T00:00:00Z",
    ),
]


def _rows(items: tuple[FeedItem, ...]) -> list[tuple[str, str, datetime | None, str | None]]:
    return [(i.url, i.title, i.published, i.published_raw) for i in items]


def test_google_news_sitemap() -> None:
    result = _sitemap(_read("news-sitemap.xml"))
    assert _rows(result.items) == NEWS_EXPECTED
    assert result.sitemaps == ()
    assert result.language == "en"  # eight entries say en, one says ru
    assert all(i.guid is None and i.summary == "" for i in result.items)


def test_news_sitemap_keeps_the_newest_when_capped() -> None:
    result = _sitemap(_read("news-sitemap.xml"), max_items=3)
    assert _rows(result.items) == NEWS_EXPECTED[:3]


def test_plain_sitemap_with_lastmod() -> None:
    result = parse_sitemap(_read("sitemap.xml"), "https://cinema-news.example/sitemap.xml", now=NOW)
    base = "https://cinema-news.example"
    assert _rows(result.items) == [
        (
            f"{base}/articles/1043-new-studio-in-tbilisi",
            "",
            datetime(2026, 11, 25, 15, 45, 10, tzinfo=UTC),
            "2026-11-25T16:45:10+01:00",
        ),
        (
            f"{base}/articles/1042-animation-fund",
            "",
            datetime(2026, 11, 22, 8, 0, tzinfo=UTC),
            "2026-11-22T08:00:00+00:00",
        ),
        (
            f"{base}/articles/1041-festival-of-the-silk-road",
            "",  # image:title describes the picture, not the article
            datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
            "2026-11-20",
        ),
        # undated, in document order: none, before 1995, unreadable
        (f"{base}/about", "", None, None),
        (f"{base}/contacts", "", None, "1970-01-01T00:00:00+00:00"),
        (f"{base}/articles/1040-archive-restoration?lang=en", "", None, "not a date"),
    ]
    assert result.language is None


def test_sitemap_index_lists_children_newest_first() -> None:
    result = parse_sitemap(_read("sitemap-index.xml"), f"{KR}/sitemap_index.xml", now=NOW)
    assert result.items == ()
    assert result.sitemaps == (
        f"{KR}/sitemap-posts-2026-11.xml.gz",
        "https://news-cdn.example/kinoreporter/sitemap-news.xml",
        f"{KR}/sitemap-posts-2026-10.xml",
        f"{KR}/sitemap-posts-2026-09.xml",
        f"{KR}/sitemap-pages.xml",  # no lastmod: last
    )


def test_sitemap_index_capped() -> None:
    result = parse_sitemap(_read("sitemap-index.xml"), f"{KR}/s.xml", now=NOW, max_items=2)
    assert result.sitemaps == (
        f"{KR}/sitemap-posts-2026-11.xml.gz",
        "https://news-cdn.example/kinoreporter/sitemap-news.xml",
    )


def test_gzipped_sitemap_reads_like_the_plain_one() -> None:
    plain = _read("news-sitemap.xml")
    assert _sitemap(gzip.compress(plain, mtime=0)) == _sitemap(plain)


def test_concatenated_gzip_members_are_one_file() -> None:
    plain = _read("sitemap-index.xml")
    cut = plain.index(b"  <sitemap>\n    <loc>https://kinoreporter.example/sitemap-posts-2026-10")
    body = gzip.compress(plain[:cut], mtime=0) + gzip.compress(plain[cut:], mtime=0)
    result = parse_sitemap(body, f"{KR}/s.xml.gz", now=NOW)
    assert result.sitemaps[0] == f"{KR}/sitemap-posts-2026-11.xml.gz"
    assert len(result.sitemaps) == 5


def test_truncated_gzip_is_rejected() -> None:
    body = gzip.compress(_read("news-sitemap.xml"), mtime=0)
    with pytest.raises(ParseError) as caught:
        _sitemap(body[: len(body) // 2])
    assert caught.value.code == "parse.not_a_sitemap"
    assert caught.value.message == f"{KR}/news-sitemap.xml: found truncated gzip data"


def test_corrupt_gzip_is_rejected() -> None:
    body = b"\x1f\x8b\x08\x00" + b"\xff" * 64
    with pytest.raises(ParseError) as caught:
        _sitemap(body)
    assert caught.value.code == "parse.not_a_sitemap"
    assert caught.value.message.startswith(f"{KR}/news-sitemap.xml: found corrupt gzip data: ")


def test_gzip_bomb_stops_at_the_cap() -> None:
    # 80 MB of spaces (valid XML whitespace, so only the cap can stop it) in ~80 KB.
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b" " * (1024 * 1024)
    bomb = packer.compress(b"<urlset>") + b"".join(packer.compress(chunk) for _ in range(80))
    bomb += packer.flush()
    assert len(bomb) < 200_000
    with pytest.raises(ParseError) as caught:
        _sitemap(bomb)
    assert caught.value.code == "parse.too_large"
    assert caught.value.message == (
        f"{KR}/news-sitemap.xml: gzip data inflates to more than {MAX_SITEMAP_BYTES} bytes"
    )


def test_size_cap_applies_to_plain_and_gzipped_bodies() -> None:
    plain = _read("sitemap.xml")
    for body in (plain, gzip.compress(plain, mtime=0)):
        with pytest.raises(ParseError) as caught:
            _sitemap(body, max_bytes=len(plain) - 1)
        assert caught.value.code == "parse.too_large"
    assert len(_sitemap(gzip.compress(plain), max_bytes=len(plain)).items) == 6


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(ParseError) as caught:
        _sitemap(_read("billion-laughs.xml"))
    assert caught.value.code == "parse.unsafe_xml"
    assert caught.value.message == (
        f"{KR}/news-sitemap.xml: the document declares XML entities (lol, lol1, lol2, lol3, lol4), "
        "which no sitemap needs; refused"
    )
    assert "lollol" not in caught.value.message


def test_xxe_is_refused_without_reading_the_file() -> None:
    with pytest.raises(ParseError) as caught:
        _sitemap(_read("xxe.xml"))
    assert caught.value.code == "parse.unsafe_xml"
    assert "(xxe)" in caught.value.message
    assert "root:" not in str(caught.value)


def test_external_parameter_entity_is_refused(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "LEAKED-SECRET">', encoding="utf-8")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY % ext SYSTEM "{dtd.as_uri()}"> %ext;]>'
        "<urlset><url><loc>https://a.example/x</loc></url></urlset>"
    ).encode()
    with pytest.raises(ParseError) as caught:
        _sitemap(body)
    assert caught.value.code == "parse.unsafe_xml"
    assert "LEAKED" not in str(caught.value)


def test_external_dtd_is_not_loaded(tmp_path: Path) -> None:
    # No entity declared in the document itself, so nothing is refused: the parser must simply
    # not read the DTD file that would define &leak;.
    dtd = tmp_path / "sitemap.dtd"
    dtd.write_text('<!ENTITY leak "LEAKED-SECRET">', encoding="utf-8")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE urlset SYSTEM "{dtd.as_uri()}">'
        '<urlset xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url>'
        "<loc>https://a.example/story</loc>"
        "<news:news><news:title>Title &leak;</news:title></news:news>"
        "</url></urlset>"
    ).encode()
    result = _sitemap(body)
    assert _rows(result.items) == [("https://a.example/story", "Title", None, None)]


def test_parser_and_text_reader_expand_nothing() -> None:
    # Defence in depth, below the refusal: the parser keeps entity references as references,
    # loads no external entity, and the text reader skips references instead of expanding them.
    laughs = (
        b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><r><t>x&c;&c;y<!-- note -->z</t></r>'
    )
    root = etree.fromstring(laughs, _xml_parser())
    assert etree.tostring(root) == b"<r><t>x&c;&c;y<!-- note -->z</t></r>"
    assert _text(root, "t") == "xyz"
    root = etree.fromstring(_read("xxe.xml"), _xml_parser())
    assert b"root:" not in etree.tostring(root)
    assert _text(root[0], "news", "title") == ""


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (b"", "found an empty body"),
        (b"  \n\t ", "found an empty body"),
        (_read("section.html"), "found an HTML page"),
        (
            b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
            "found an HTML page",
        ),
        (
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>',
            "found an RSS feed",
        ),
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title></feed>',
            "found an Atom feed",
        ),
        (
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
            "found an RSS 1.0 (RDF) feed",
        ),
        (b"<catalog><book/></catalog>", "found an XML document with root <catalog>"),
        (_read("news-sitemap.xml")[:1500], "found malformed or truncated XML"),
        (b'{"urls": ["https://a.example/"]}', "found malformed or truncated XML"),
    ],
    ids=["empty", "blank", "html", "xhtml", "rss", "atom", "rdf", "other-xml", "truncated", "json"],
)
def test_not_a_sitemap(body: bytes, found: str) -> None:
    with pytest.raises(ParseError) as caught:
        _sitemap(body)
    assert caught.value.code == "parse.not_a_sitemap"
    assert caught.value.message.startswith(f"{KR}/news-sitemap.xml: {found}")


def test_sitemap_without_namespace_and_duplicates_completed() -> None:
    # Old generators omit the namespace; a repeated URL fills in what its first entry lacked.
    body = b"""<urlset>
      <url><loc>https://a.example/one</loc></url>
      <url><loc>https://a.example/two</loc><lastmod>2026-11-01</lastmod></url>
      <url><loc>https://a.example/one?utm_campaign=x</loc><lastmod>2026-11-02</lastmod></url>
    </urlset>"""
    assert _rows(_sitemap(body).items) == [
        ("https://a.example/one", "", datetime(2026, 11, 2, 12, 0, tzinfo=UTC), "2026-11-02"),
        ("https://a.example/two", "", datetime(2026, 11, 1, 12, 0, tzinfo=UTC), "2026-11-01"),
    ]


# --- robots.txt --------------------------------------------------------------------------------


def test_sitemaps_in_robots() -> None:
    text = _read("robots.txt").decode("utf-8")
    assert sitemaps_in_robots(text, f"{KR}/robots.txt") == [
        f"{KR}/sitemap_index.xml",
        f"{KR}/news-sitemap.xml",
        f"{KR}/sitemap-video.xml",
        "https://cdn.kinoreporter-media.example/sitemaps/amp.xml",
    ]


def test_robots_without_sitemaps() -> None:
    assert sitemaps_in_robots("User-agent: *\nDisallow: /\n", f"{KR}/robots.txt") == []
    assert sitemaps_in_robots("", f"{KR}/robots.txt") == []


# --- HTML listings -----------------------------------------------------------------------------

SECTION_TITLES = [
    (f"{KR}/news/2026/11/26/eurimages-funds/", "Eurimages backs 12 films & two series"),
    (
        f"{KR}/news/2026/11/25/georgia-armenia-treaty/",
        "Exclusive Georgia and Armenia sign a co-production treaty",
    ),
    (f"{KR}/news/2026/11/25/tashkent-film-commission/", "Tashkent opens a film commission"),
    (f"{KR}/news/2026/11/24/baku-festival-lineup/", "Baku festival announces its lineup"),
    (f"{KR}/news/2026/11/23/kazakh-fund-call/", "Kazakhstan's film fund opens a call"),
    (
        "https://partner-cdn.example/kinoreporter/amp/uzbek-turkish-producers.html",
        "Uzbek and Turkish producers team up",
    ),
]


def _pairs(items: tuple[FeedItem, ...]) -> list[tuple[str, str]]:
    return [(i.url, i.title) for i in items]


@pytest.mark.parametrize("selector", ["h3.title", "h3.title a", "article.teaser h3 > a[href]"])
def test_listing_by_selector(selector: str) -> None:
    feed = _section(selector=selector)
    assert feed.title == "Industry News — KinoReporter"
    assert feed.version == "html"
    assert feed.warning is None
    assert _pairs(feed.items) == SECTION_TITLES
    assert all(i.published is None and i.guid is None for i in feed.items)


def test_listing_by_pattern_over_the_whole_page() -> None:
    feed = _section(pattern=r"/news/\d{4}/\d{2}/\d{2}/")
    # The picture link comes first with no text; the headline below gives the title. The
    # "Most read" box adds one story; nav, footer, mailto: and javascript: links never match.
    assert _pairs(feed.items) == [
        *SECTION_TITLES[:5],
        (
            f"{KR}/news/2026/11/20/armenian-animation-studio/",
            "Armenian animation studio opens in Yerevan",
        ),
    ]


def test_listing_by_selector_and_pattern() -> None:
    feed = _section(
        selector="h3.title a", pattern=r"^https://kinoreporter\.example/news/2026/11/2[45]/"
    )
    assert _pairs(feed.items) == SECTION_TITLES[1:4]


def test_listing_without_a_selector_drops_non_http_and_self_links() -> None:
    feed = _section(pattern=r".")
    # Gone: the "Industry" menu entry and "#main" (the page itself), javascript: and mailto:
    # links, and the second Eurimages and Tashkent links. The logo link has no text at all.
    assert _pairs(feed.items) == [
        (f"{KR}/", ""),
        (f"{KR}/news/", "News"),
        (f"{KR}/festivals/", "Festivals"),
        *SECTION_TITLES,
        (
            f"{KR}/news/2026/11/20/armenian-animation-studio/",
            "Armenian animation studio opens in Yerevan",
        ),
        (f"{KR}/news/industry/?page=2", "Next page"),
        (f"{KR}/about/", "About"),
        (f"{KR}/privacy/", "Privacy"),
        ("https://twitter.example/kinoreporter", "Twitter"),
    ]


def test_listing_capped_in_document_order() -> None:
    assert _pairs(_section(selector="h3.title", max_items=2).items) == SECTION_TITLES[:2]


def test_listing_with_no_match_warns() -> None:
    feed = _section(selector="div.story-card a", pattern="/story/")
    assert feed.items == ()
    assert feed.title == "Industry News — KinoReporter"
    assert feed.warning == (
        "no article links matched selector 'div.story-card a' and pattern '/story/'; "
        "the page layout may have changed"
    )


RU_EXPECTED = [
    (
        "https://kinonovosti.example/ru/news/12345-sovmestnoe-proizvodstvo/",
        "Россия и Казахстан договорились о совместном производстве",
    ),
    (
        "https://kinonovosti.example/ru/news/12344-festival-v-almaty/",
        "Фестиваль «Евразия» объявил программу",
    ),
    (
        "https://kinonovosti.example/ru/news/12343-%D0%BA%D0%B8%D0%BD%D0%BE/",
        "Грузинское кино в Москве: неделя показов",
    ),
]


def test_windows_1251_page_declared_in_meta_with_base_href() -> None:
    # Fetched from another address: <base href> decides where relative links point.
    feed = parse_listing(
        _read("ru-cp1251.html"), "https://mirror.example/list.php?id=7", selector=".news-item h3"
    )
    assert feed.title == "Новости кино — Киноновости"
    assert _pairs(feed.items) == RU_EXPECTED


def test_content_type_charset_wins_over_meta() -> None:
    body = _read("ru-cp1251.html")
    url = "https://kinonovosti.example/ru/"
    right = parse_listing(
        body, url, selector="h3.title", headers={"content-type": "text/html; charset=Windows-1251"}
    )
    assert _pairs(right.items) == RU_EXPECTED
    wrong = parse_listing(
        body, url, selector="h3.title", headers={"Content-Type": "text/html; charset=utf-8"}
    )
    assert [u for u, _ in _pairs(wrong.items)] == [u for u, _ in RU_EXPECTED]
    # Cyrillic windows-1251 bytes are not UTF-8: every title comes out replaced, not guessed.
    assert all(t.count("\ufffd") > 10 for _, t in _pairs(wrong.items))
    assert wrong.title.count("\ufffd") > 10


def test_undeclared_encoding_is_utf8_with_replacement() -> None:
    body = "<title>Кино</title><h3 class=title><a href=/a>Фильм</a></h3>".encode() + b"\xff"
    feed = parse_listing(body, "https://a.example/", selector="h3.title")
    assert feed.title == "Кино"
    assert _pairs(feed.items) == [("https://a.example/a", "Фильм")]


def test_xml_declaration_and_latin1_label() -> None:
    # lxml rejects str input with an encoding declaration; "iso-8859-1" means windows-1252.
    body = (
        b'<?xml version="1.0" encoding="iso-8859-1"?>\n'
        b'<html><head><meta charset="iso-8859-1"><title>Caf\xe9</title></head>'
        b'<body><h3 class="title"><a href="/n/1">\x93Quoted\x94 na\xefve</a></h3></body></html>'
    )
    feed = parse_listing(body, "https://a.example/list", selector="h3.title")
    assert feed.title == "Café"
    assert _pairs(feed.items) == [("https://a.example/n/1", "“Quoted” naïve")]


def test_listing_errors() -> None:
    with pytest.raises(ValueError, match="selector, a URL pattern, or both"):
        _section()
    with pytest.raises(ValueError, match=r"invalid CSS selector 'h3\.title >> a'"):
        _section(selector="h3.title >> a")
    with pytest.raises(ValueError, match=r"invalid URL pattern '/news/\(\\d\+'"):
        _section(pattern=r"/news/(\d+")
    with pytest.raises(ParseError) as caught:
        parse_listing(b" \n", SECTION_URL, selector="a")
    assert caught.value.code == "parse.empty"


def test_check_selector() -> None:
    assert check_selector("h3.title > a[href^='/news/']") is None
    assert check_selector("article:not(.promo) a") is None
    for bad, message in [
        ("a[", "invalid CSS selector 'a['"),
        ("a::text", "invalid CSS selector 'a::text': Pseudo-elements are not supported"),
        ("li:nth-child(odd-ish)", "invalid CSS selector 'li:nth-child(odd-ish)'"),
        ("   ", "the CSS selector is empty"),
    ]:
        with pytest.raises(ValueError) as caught:
            check_selector(bad)
        assert str(caught.value).startswith(message)


def test_check_pattern() -> None:
    assert check_pattern(r"/news/\d{4}/") is None
    for bad, message in [
        ("[a-", "invalid URL pattern '[a-': unterminated character set"),
        ("(?P<x>a)(?P<x>b)", "invalid URL pattern '(?P<x>a)(?P<x>b)': redefinition of group name"),
        ("", "the URL pattern is empty"),
    ]:
        with pytest.raises(ValueError) as caught:
            check_pattern(bad)
        assert str(caught.value).startswith(message)
