"""The registry of digest formats (monitor.formats): each format is found by name, the file
formats are the ones written to the reports folder, every format a person reads speaks the
digest's language, and all share one order of stories and one choice of evidence."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor import formats
from monitor.labels import LABELS, labels_for
from monitor.models import AlsoIn, Digest, Evidence, SourceHealth, SourceStatus, Story

BAKU = ZoneInfo("Asia/Baku")
AT = datetime(2026, 11, 26, 9, 30, tzinfo=BAKU)


def _story(n: int, score: float, *, hours: int = 0, evidence: int = 0) -> Story:
    return Story(
        url=f"https://news.example/{n}",
        title=f"Story {n}",
        source="Wire",
        language="en",
        published=AT - timedelta(hours=hours),
        topics=("film_cooperation",),
        score=score,
        aspects=("co_production",),
        countries=("AZ", "TR"),
        evidence=tuple(
            Evidence(f"term{i}", f"Sentence {i // 2} of story {n}.") for i in range(evidence)
        ),
        summary=f"Summary of story {n}.",
        also=(AlsoIn(f"https://haber.example/{n}", "Haber", "tr"),),
    )


DIGEST = Digest(
    date="2026-11-26",
    timezone="Asia/Baku",
    generated_at=AT,
    stories=(_story(1, 0.9, evidence=10), _story(2, 0.7)),
    sources=(SourceHealth("Wire", "https://news.example/rss", SourceStatus.OK, 2, None),),
)


def test_the_file_formats_are_json_markdown_and_html() -> None:
    assert [(f.name, f.suffix) for f in formats.file_formats()] == [
        ("json", ".json"),
        ("markdown", ".md"),
        ("html", ".html"),
    ]
    assert set(formats.names()) == {"json", "markdown", "html", "chat"}


def test_an_unknown_format_is_named_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match="no digest format 'pdf' \\(known: json, markdown"):
        formats.get("pdf")


@pytest.mark.parametrize("name", ["markdown", "html", "chat"])
@pytest.mark.parametrize("locale", sorted(LABELS))
def test_every_format_a_person_reads_speaks_the_digest_language(name: str, locale: str) -> None:
    text = formats.get(name).render(DIGEST, formats.View(locale))
    if name == "chat":
        text = json.loads(text)["text"]
    labels = labels_for(locale)
    assert labels.digest_title.split("{")[0] in text
    assert labels.also_in in text.casefold()
    for other in set(LABELS) - {locale}:
        assert labels_for(other).digest_title.split("—")[0].strip() not in text


def test_json_is_the_same_in_every_language() -> None:
    rendered = {formats.get("json").render(DIGEST, formats.View(loc)) for loc in LABELS}
    assert len(rendered) == 1


def test_best_first_is_score_then_newest_then_link() -> None:
    stories = [_story(3, 0.5), _story(1, 0.9, hours=5), _story(2, 0.9), _story(0, 0.5)]
    assert [s.url[-1] for s in formats.best_first(stories)] == ["2", "1", "0", "3"]


def test_a_story_shows_three_sentences_of_evidence_each_once() -> None:
    shown = formats.evidence_by_sentence(_story(1, 0.9, evidence=10))
    assert shown == [
        ("Sentence 0 of story 1.", ["term0", "term1"]),
        ("Sentence 1 of story 1.", ["term2", "term3"]),
        ("Sentence 2 of story 1.", ["term4", "term5"]),
    ]
    markdown = formats.get("markdown").render(DIGEST, formats.View())
    html = formats.get("html").render(DIGEST, formats.View())
    for text in (markdown, html):
        assert "Sentence 2 of story 1." in text and "Sentence 3 of story 1." not in text
