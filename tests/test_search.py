"""The archive search over a real store (SQLite and PostgreSQL): words inside inflected words in every script,
filters, order, pages, the marked passage, and the office's judgements."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.models import Article, Evidence, Source, Tagging, TextOrigin
from monitor.search import MARK_END, MARK_START, SearchQuery, Sort, passage, phrases, search
from monitor.store import SCHEMA_VERSION, Store
from tests.databases import DATABASES, database_url

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

# (source, language, title, text, tagged countries or None, days ago)
STORIES = [
    ("Trend", "az", "Bakıda film həftəsi", "Azərbaycan filmləri İtaliyada göstəriləcək. "
     "Festivalda yeni filmini təqdim edən rejissor danışdı.", ("AZ", "IT"), 1),
    ("Trend RU", "ru", "Неделя кино в Баку", "В Баку пройдёт показ фильмов из Грузии; "
     "совместное производство фильмов обсудят продюсеры.", ("AZ", "GE"), 2),
    ("Agenda", "ka", "კინოს კვირეული", "თბილისში აზერბაიჯანული კინოს დღეები გაიმართება.",
     ("GE", "AZ"), 3),
    ("Trend", "az", "Neft qiymətləri", "Brent markalı neftin qiyməti bahalaşıb.", None, 1),
    ("Dawn", "en", "Cricket series", "Pakistan won the series against England in Lahore.",
     None, 40),
]  # fmt: skip


def _article(source: str, language: str, title: str, text: str, countries, days: int) -> Article:
    tagging = (
        Tagging(
            ("film_cooperation",), 0.8, ("diplomacy",), countries,
            (Evidence("film", text[:40], "film"),), language,
        )
        if countries
        else Tagging(language=language)
    )  # fmt: skip
    return Article(
        source=source, url=f"https://{source.replace(' ', '').lower()}.example/{title}",
        title=title, text=text, text_origin=TextOrigin.PAGE, fetched_at=NOW,
        published=NOW - timedelta(days=days), language=language, tagging=tagging,
    )  # fmt: skip


@pytest.fixture(scope="module", params=DATABASES)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("search")
    with database_url(request.param, folder) as url, Store(url) as store:
        run = store.start_run(NOW)
        for name in sorted({s[0] for s in STORIES}):
            lang = next(s[1] for s in STORIES if s[0] == name)
            state = store.ensure_source(Source(name, f"https://{name}.example/rss", lang))
            for story in STORIES:
                if story[0] == name:
                    store.add_article(state.id, run, _article(*story))
        yield store


def titles(store: Store, **query: object) -> list[str]:
    return [hit.title for hit in search(store, SearchQuery(**query)).hits]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("film", {"Bakıda film həftəsi"}),  # finds filmləri, filmini
        ("фильм", {"Неделя кино в Баку"}),  # finds фильмов
        ("კინო", {"კინოს კვირეული"}),  # finds კინოს
        ("ФИЛЬМ", {"Неделя кино в Баку"}),  # case does not matter
        ("Baku", set()),
        ("Баку фильм", {"Неделя кино в Баку"}),  # every word must occur
        ('"совместное производство"', {"Неделя кино в Баку"}),
        ('"производство совместное"', set()),  # a phrase keeps its order
    ],
)
def test_words_are_found_inside_inflected_words(store: Store, words: str, expected: set) -> None:
    assert set(titles(store, words=words)) == expected


def test_filters(store: Store) -> None:
    assert titles(store, languages=("ru", "ka"), sort=Sort.DATE) == [
        "Неделя кино в Баку",
        "კინოს კვირეული",
    ]
    assert set(titles(store, countries=("GE",))) == {"Неделя кино в Баку", "კინოს კვირეული"}
    assert set(titles(store, countries=("IT",), aspects=("diplomacy",))) == {"Bakıda film həftəsi"}
    assert titles(store, aspects=("co_production",)) == []
    assert set(titles(store, tagged_only=True)) == {
        "Bakıda film həftəsi",
        "Неделя кино в Баку",
        "კინოს კვირეული",
    }
    assert titles(store, sources=("Dawn",)) == ["Cricket series"]
    assert titles(
        store, since=NOW - timedelta(days=10), until=NOW - timedelta(days=2, hours=12)
    ) == ["კინოს კვირეული"]
    assert titles(store, words="neft", tagged_only=True) == []


def test_short_words_are_scanned(store: Store) -> None:
    # Under three letters the trigram index cannot help; the words are still found.
    assert titles(store, words="Lahore wo") == ["Cricket series"]


def test_newest_first_and_pages(store: Store) -> None:
    everything = titles(store, sort=Sort.DATE, limit=10)
    assert everything[-1] == "Cricket series" and len(everything) == 5
    first = search(store, SearchQuery(sort=Sort.DATE, limit=2))
    second = search(store, SearchQuery(sort=Sort.DATE, limit=2, offset=2))
    assert first.total == second.total == 5
    assert [h.title for h in first.hits + second.hits] == everything[:4]


def test_passage_marks_the_match(store: Store) -> None:
    (hit,) = search(store, SearchQuery(words="filmini")).hits
    assert f"{MARK_START}filmini{MARK_END}" in hit.passage
    assert hit.countries == ("AZ", "IT") and hit.aspects == ("diplomacy",)
    assert hit.topics == ("film_cooperation",) and hit.relevant is None


@pytest.mark.parametrize(
    "words", ['"', 'AND OR "', "NEAR(", "*", "film) OR (x", "-", "'; DROP TABLE articles; --"]
)
def test_any_typed_text_is_a_search_not_a_syntax(store: Store, words: str) -> None:
    # Quotes and FTS5 operators a user may type are matched as text, never parsed.
    page = search(store, SearchQuery(words=words))
    assert page.total == len(page.hits)
    assert store.count_articles() == 5


def test_bad_pages_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        SearchQuery(limit=0)
    with pytest.raises(ValueError, match="offset"):
        SearchQuery(offset=-1)
    with pytest.raises(ValueError, match="until"):
        SearchQuery(since=NOW, until=NOW)


def test_phrases() -> None:
    assert phrases(' film  "co  production" x ') == ["film", "co production", "x"]
    assert phrases('""') == []


def test_the_index_is_filled_for_articles_stored_before_it(tmp_path: Path) -> None:
    """A database of an earlier schema gets its archive indexed when it is upgraded."""
    import sqlite3

    url = f"sqlite:///{tmp_path}/old.db"
    with Store(url) as store:
        run = store.start_run(NOW)
        state = store.ensure_source(Source("Trend", "https://trend.example/rss", "az"))
        store.add_article(state.id, run, _article(*STORIES[0]))
    db = sqlite3.connect(tmp_path / "old.db")
    db.executescript(
        "DROP TABLE articles_fts; DROP TRIGGER IF EXISTS articles_fts_insert;"
        "DROP TABLE feedback; DROP TABLE api_tokens; DROP TABLE users;"
        "DROP TABLE article_facets; DROP TRIGGER IF EXISTS article_facets_insert;"
        "UPDATE alembic_version SET version_num = '0003';"
    )
    db.close()
    with Store(url) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert titles(store, words="filmləri") == ["Bakıda film həftəsi"]
        assert titles(store, languages=("az",)) == ["Bakıda film həftəsi"]  # facets filled too


def test_beyond_the_candidates_the_newest_matches_are_searched(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With more matches than are ordered per search, the total says "more" and the page comes
    from the newest stored matches."""
    import monitor.search

    monkeypatch.setattr(monitor.search, "CANDIDATES", 2)
    page = search(store, SearchQuery(sort=Sort.DATE))
    assert (page.total, page.more) == (2, True)
    assert {hit.title for hit in page.hits} == {"Bakıda film həftəsi", "Neft qiymətləri"}
    few = search(store, SearchQuery(words="фильм"))
    assert (few.total, few.more) == (1, False)


def test_relevance_puts_headline_matches_first(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path}/r.db") as store:
        run = store.start_run(NOW)
        state = store.ensure_source(Source("Trend", "https://trend.example/rss", "az"))
        stories = [
            ("Trend", "en", "Festival news", "A film festival in Baku opens.", None, 5),
            ("Trend", "en", "Film festival opens", "The programme was announced.", None, 9),
            ("Trend", "en", "Weather", "Rain in Baku after the film festival week.", None, 1),
        ]
        for story in stories:
            store.add_article(state.id, run, _article(*story))
        relevant = [h.title for h in search(store, SearchQuery(words="film festival")).hits]
        newest = [
            h.title for h in search(store, SearchQuery(words="film festival", sort=Sort.DATE)).hits
        ]
    assert relevant == ["Film festival opens", "Weather", "Festival news"]
    assert newest == ["Weather", "Festival news", "Film festival opens"]


def test_the_passage_is_cut_around_the_first_word_and_marks_each() -> None:
    text = ("İlk söz. " * 30) + "Bakıda FİLM həftəsi: yeni filmlər və Film günləri. " + "Son. " * 60
    cut = passage(text, ["film", "günləri"])
    assert cut is not None and cut.startswith("…") and cut.endswith("…")
    assert f"{MARK_START}FİLM{MARK_END}" in cut  # case folded letter by letter, İ included
    assert f"{MARK_START}film{MARK_END}lər" in cut and f"{MARK_START}günləri{MARK_END}" in cut
    assert len(cut) < 260 and "  " not in cut
    assert passage("Nothing here", ["film"]) is None  # matched in the headline only


def test_a_deeper_search_counts_further(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.search

    monkeypatch.setattr(monitor.search, "CANDIDATES", 2)
    assert search(store, SearchQuery(sort=Sort.DATE)).total == 2
    deep = search(store, SearchQuery(sort=Sort.DATE, depth=10))
    assert (deep.total, deep.more) == (5, False)
    with pytest.raises(ValueError, match="depth"):
        SearchQuery(depth=0)


def test_postgresql_looks_among_the_newest_first_then_further_back(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the newest articles hold too few matches, the search widens to the whole archive:
    the same hits as one look at everything."""
    from monitor import search as searching

    whole = titles(store, words="film")
    monkeypatch.setattr(searching, "PG_WINDOWS", (1, 2))
    assert titles(store, words="film") == whole
    assert titles(store, words="Cricket") == ["Cricket series"]  # the oldest article


def test_the_passage_does_not_repeat_the_headline() -> None:
    from monitor.search import _without_headline

    assert _without_headline("Film week", "Film  week\nThe film week opens.") == (
        "The film week opens."
    )
    assert _without_headline("Film week", "Film week opens in Baku.") == "Film week opens in Baku."


def test_postgresql_queries_are_built_from_the_server_s_own_words() -> None:
    from monitor.search import ts_query

    # one typed word of several parts: all of them, in any order, by their beginnings
    assert ts_query("co-production", [(2, "co"), (1, "co-production"), (3, "production")]) == (
        "'co-production':* & 'co':* & 'production':*"
    )
    # a quoted phrase: its words one after another
    assert ts_query("joint project", [(2, "project"), (1, "joint")]) == (
        "'joint':* <-> 'project':*"
    )
    assert ts_query("l'a\\b", [(1, "l'a\\b")]) == "'l''a\\\\b':*"  # quoted for the parser
    assert ts_query("!!!", []) is None  # no word: matched as text instead


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("Bakı", {"Bakıda film həftəsi"}),  # a word by its beginning: Bakıda
        ('"film həftəsi"', {"Bakıda film həftəsi"}),
        ('"həftəsi film"', set()),
        ("!!!", set()),
    ],
)
def test_words_by_their_beginnings_and_phrases_in_order(
    store: Store, words: str, expected: set
) -> None:
    assert set(titles(store, words=words)) == expected
