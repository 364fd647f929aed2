"""Article extraction on fixture pages, with golden texts beside them
(``<page>.expected.txt``; REGEN_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import ExtractError
from monitor.extract import extract_page

PAGES = Path(__file__).parent / "data" / "pages"
GOLDEN = {"en-news.html": "text/html; charset=utf-8", "ru-cp1251.html": "text/html"}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_text(name: str) -> None:
    page = extract_page((PAGES / name).read_bytes(), f"https://site.example/{name}", GOLDEN[name])
    golden = PAGES / f"{name}.expected.txt"
    if os.environ.get("REGEN_GOLDEN"):
        golden.write_text(page.text + "\n", encoding="utf-8")
    assert page.text == golden.read_text(encoding="utf-8").rstrip("\n")


def test_boilerplate_and_comments_are_left_out() -> None:
    page = extract_page(
        (PAGES / "en-news.html").read_bytes(), "https://site.example/a", "text/html; charset=utf-8"
    )
    assert "co-production and co-financing" in page.text
    for noise in (
        "Most read",
        "Manat exchange rate",
        "young directors",
        "All rights reserved",
        "Breaking:",
        "analytics",
    ):
        assert noise not in page.text
    assert page.title == "Baku hosts panel on film co-production"
    assert page.author == "Nigar Aliyeva"
    assert page.published == datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
    assert "\n\n" in page.text  # paragraphs kept apart


def test_charset_from_meta_when_http_gives_none() -> None:
    page = extract_page(
        (PAGES / "ru-cp1251.html").read_bytes(), "https://site.example/ru", "text/html"
    )
    assert "Киноагентства Азербайджана и Узбекистана" in page.text


def test_charset_from_http_header_wins() -> None:
    body = (
        "<html><body><article><p>"
        + "Совместное производство фильмов. " * 10
        + "</p></article></body></html>"
    )
    page = extract_page(
        body.encode("koi8-r"), "https://site.example/ru", "text/html; charset=koi8-r"
    )
    assert "Совместное производство" in page.text


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        ((PAGES / "empty.html").read_bytes(), "text/html", "extract.no_text"),
        (b"%PDF-1.4 ...", "application/pdf", "extract.not_html"),
        (b"", "text/html", "extract.no_text"),
        (b"\xff\xfe\x00garbage\x00" * 50, "text/html", "extract.no_text"),
    ],
)
def test_pages_without_article_text(body: bytes, content_type: str, code: str) -> None:
    with pytest.raises(ExtractError) as info:
        extract_page(body, "https://site.example/x", content_type)
    assert info.value.code == code


DEMO_PAGES = sorted(
    (Path(__file__).parents[1] / "monitor" / "demo" / "outlets").glob("*/articles/*.html")
)


FIELDS = ("title", "author", "date", "sitename")


def test_page_metadata_agrees_with_trafilatura() -> None:
    """The monitor collects the four metadata fields it keeps itself (extract_metadata also
    collects categories, tags and a licence, at a quarter of the extraction's time): on real
    and demo pages they must be exactly what trafilatura's own extract_metadata finds."""
    from trafilatura.metadata import extract_metadata
    from trafilatura.utils import load_html

    from monitor.extract import page_metadata

    pages = [PAGES / "en-news.html", PAGES / "ru-cp1251.html", *DEMO_PAGES]
    assert len(pages) > 20
    found: set[str] = set()
    for path in pages:
        url = f"https://site.example/{path.name}"
        body = path.read_bytes()
        ours, theirs = (
            page_metadata(load_html(body), url),
            extract_metadata(
                load_html(body),
                url,
                {
                    "extensive_search": False,
                    "original_date": True,
                    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
                },
            ),
        )
        for field in FIELDS:
            assert getattr(ours, field) == (getattr(theirs, field) or None), (path.name, field)
        found.update(field for field in FIELDS if getattr(ours, field))
    # The comparison covers pages that state each field, not only empty ones.
    assert found == set(FIELDS)
