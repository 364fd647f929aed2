"""The same story in several outlets and languages is grouped; different stories are not."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

import pytest

from monitor.grouping import anchors, compare, group_stories
from monitor.models import AlsoIn, Story
from monitor.yamlfile import read_yaml

DATA = Path(__file__).parent / "data" / "grouping" / "stories.yaml"


def load() -> tuple[list[Story], dict[str, str]]:
    """The fixture's stories (best first, as the digest sorts them) and each URL's group."""
    stories: list[Story] = []
    labels: dict[str, str] = {}
    for n, item in enumerate(read_yaml(DATA)["stories"]):
        url = f"https://example.org/{item['id']}"
        labels[url] = item["group"]
        stories.append(
            Story(
                url=url,
                title=item["title"],
                source=item["source"],
                language=item["language"],
                published=datetime.fromisoformat(item["published"]),
                topics=("film_cooperation",),
                score=round(1 - n / 100, 2),
                aspects=(),
                countries=tuple(item["countries"]),
                evidence=(),
                summary=item["summary"],
            )
        )
    return stories, labels


def pairs_of(groups: list[set[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for g in groups for p in combinations(sorted(g), 2)}


def _groups(result: tuple[Story, ...]) -> list[set[str]]:
    return [{s.url, *(a.url for a in s.also)} for s in result]


def _story(url: str, source: str, **changes: object) -> Story:
    base = Story(
        url=url,
        title="Title",
        source=source,
        language="en",
        published=datetime.fromisoformat("2026-11-26T10:00:00+00:00"),
        topics=("film_cooperation",),
        score=0.5,
        aspects=(),
        countries=("AZ", "UZ"),
        evidence=(),
        summary="Director Nigora Saidova started shooting Karvan in Sheki with 40 crew members.",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_fixture_groups_exactly() -> None:
    stories, labels = load()
    expected: dict[str, set[str]] = {}
    for url, group in labels.items():
        expected.setdefault(group, set()).add(url)
    got = _groups(group_stories(stories))
    assert sorted(map(sorted, got)) == sorted(map(sorted, expected.values()))


def test_every_input_story_appears_once() -> None:
    stories, _ = load()
    urls = [u for g in _groups(group_stories(stories)) for u in g]
    assert sorted(urls) == sorted(s.url for s in stories)


def test_order_is_best_first_and_representative_is_the_best_by_default() -> None:
    stories, _ = load()
    result = group_stories(stories)
    positions = {s.url: n for n, s in enumerate(stories)}
    firsts = [positions[s.url] for s in result]
    assert firsts == sorted(firsts)
    treaty = next(s for s in result if s.url.endswith("treaty-en"))
    assert [a.language for a in treaty.also] == ["ru", "az", "tr"]


def test_preferred_language_becomes_the_representative() -> None:
    stories, _ = load()
    result = group_stories(stories, prefer_languages=("ru", "en"))
    karvan = next(s for s in result if "karvan" in s.url)
    assert karvan.language == "ru"
    assert {a.language for a in karvan.also} == {"az", "en"}
    assert AlsoIn("https://example.org/karvan-az", karvan.also[0].source, "az") in karvan.also


@pytest.mark.parametrize(
    ("left", "right", "reason"),
    [
        ("treaty-en", "school-en", None),  # one country pair, one week, two agreements
        ("vfx-en", "geweek-en", None),  # one country pair, two topics
        ("fest26-en", "fest27-en", "years differ"),  # one festival, two editions
    ],
)
def test_hard_non_pairs_stay_apart(left: str, right: str, reason: str | None) -> None:
    stories, _ = load()
    by_id = {s.url.rsplit("/", 1)[1]: s for s in stories}
    match = compare(anchors(by_id[left]), anchors(by_id[right]))
    assert not match.same
    assert match.vetoed == reason


def test_names_meet_across_scripts() -> None:
    stories, _ = load()
    by_id = {s.url.rsplit("/", 1)[1]: s for s in stories}
    ru, az, ka, tr = (anchors(by_id[k]) for k in ("karvan-ru", "karvan-az", "vfx-ka", "vfx-tr"))
    assert "karvan" in ru.names & az.names
    assert {"5000000", "1.2"} & ru.numbers == set() and "1200000" in ru.numbers & az.numbers
    assert ka.names == frozenset() and ka.soft  # Georgian has no capitals: soft words only
    assert compare(ka, tr).same


def test_same_outlet_never_grouped_even_through_a_third_story() -> None:
    a1 = _story("https://a.example/1", "Outlet A")
    a2 = _story("https://a.example/2", "Outlet A", score=0.4)
    b = _story("https://b.example/1", "Outlet B", language="ru", score=0.45)
    result = group_stories([a1, b, a2])
    assert len(result) == 2
    assert result[0].url == a1.url and [x.url for x in result[0].also] == [b.url]


def test_same_url_is_the_same_story() -> None:
    a = _story("https://a.example/1", "Outlet A", summary="Nothing in common.")
    again = _story("https://a.example/1", "Outlet A", summary="Nothing alike.", score=0.1)
    assert group_stories([a, again]) == (a,)


def test_window_keeps_far_apart_stories_apart() -> None:
    a = _story("https://a.example/1", "Outlet A")
    b = _story("https://b.example/1", "Outlet B", published=a.published + timedelta(hours=40))
    assert len(group_stories([a, b])) == 2
    assert len(group_stories([a, b], window=timedelta(hours=48))) == 1


def test_article_text_adds_anchors() -> None:
    a = _story("https://a.example/1", "Outlet A", summary="", title="A panel in Baku")
    b = _story("https://b.example/1", "Outlet B", summary="", title="Панель в Баку")
    assert len(group_stories([a, b])) == 2
    texts = {
        a.url: "The panel Screens Without Borders drew 150 producers at the Baku Film Days.",
        b.url: "Панель «Экраны без границ» собрала 150 продюсеров на Бакинских днях кино.",
    }
    assert len(group_stories([a, b], texts=texts)) == 1


def test_empty_input() -> None:
    assert group_stories([]) == ()
