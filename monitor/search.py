"""The archive search: stored articles by words and filters, a page at a time, with the matched
passage marked. Pure query building here; the store runs it.

Words are matched at the start of longer words: ``film`` finds ``filmlər`` and ``filmini``,
``фильм`` finds ``фильмов``, ``კინო`` finds ``კინოს`` — what agglutinative and inflected
languages need, and what a whole-word index cannot do. On SQLite, FTS5's trigram tokenizer (see
``monitor.store``) finds a word inside longer words too (``фильм`` in ``мультфильм``); on
PostgreSQL, the full-text index over title and text (``to_tsvector('simple', ...)`` in a column
of its own, no stemming, Alembic revision 0011) finds words by their beginning, checked against
the stored words rather than the text, so that a common word costs no reading of texts. Every
word must occur (in the title or the text); words in double quotes must occur together, in
that order. On SQLite a word shorter than three letters is matched by a scan, not the index.

The passage is marked with ``MARK_START`` and ``MARK_END`` (control characters), so that
whoever shows it escapes the text first and turns the marks into highlighting after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Select,
    Text,
    and_,
    case,
    cast,
    column,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.sql.elements import ColumnElement

from monitor.errors import StorageError
from monitor.store import Store, articles, sources, tags
from monitor.store import article_facets as facets

MARK_START, MARK_END = "\x02", "\x03"
# The index (see monitor.store): rowid is the article's id, rank its BM25 order for a MATCH.
_FTS = table("articles_fts", column("rowid"), column("rank"), column("title"), column("text"))
MAX_LIMIT = 200
# Matches counted and ordered per search (see build): a page of results on screen; an export
# or a script paging far asks for more (SearchQuery.depth), up to DEEPEST.
CANDIDATES = 1_000
DEEPEST = 10_000
SCANNED_PER_CANDIDATE = 10  # newest matches a filter is applied to, per candidate (see build)
_OPENING_CHARS = 240
# PostgreSQL: how many of the newest articles a search looks among first, then next; then all.
# Each look costs about as many rows as it has matches, so a common word (or a rare filter on
# one) stops early, and a rare word costs three small looks.
PG_WINDOWS = (20_000, 200_000)
_PASSAGE_CHARS = 200  # a passage around the words: about two lines
_BEFORE_MATCH = 60
_MIN_INDEXED = 3  # the trigram index finds words of three letters or more
_PHRASE = re.compile(r'"([^"]*)"|([^\s"]+)')


class Sort(StrEnum):
    RELEVANCE = "relevance"  # headline matches first, then the newest; newest without words
    DATE = "date"  # newest first


@dataclass(frozen=True)
class SearchQuery:
    words: str = ""
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    aspects: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: datetime | None = None  # dated at or after
    until: datetime | None = None  # dated before
    tagged_only: bool = False
    sort: Sort = Sort.RELEVANCE
    limit: int = 20
    offset: int = 0
    depth: int | None = None  # the newest matches ordered and counted: CANDIDATES by default

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {self.limit}")
        if self.depth is not None and not 1 <= self.depth <= DEEPEST:
            raise ValueError(f"depth must be between 1 and {DEEPEST}, not {self.depth}")
        if self.offset < 0:
            raise ValueError(f"offset must not be negative, not {self.offset}")
        if self.since and self.until and self.until <= self.since:
            raise ValueError("until must be after since")


@dataclass(frozen=True)
class SearchHit:
    id: int
    url: str
    title: str
    source: str
    language: str | None
    dated_at: datetime
    topics: tuple[str, ...]
    score: float | None
    aspects: tuple[str, ...]
    countries: tuple[str, ...]
    summary: str
    passage: str  # the text around the first match, marked; the opening without words
    relevant: bool | None  # the office's judgement: None unjudged, False when anyone said not


@dataclass(frozen=True)
class SearchPage:
    total: int  # matches, counted up to the query's depth
    hits: tuple[SearchHit, ...]
    more: bool = False  # more than that match: the total is a lower bound


def phrases(words: str) -> list[str]:
    """The query's words and quoted phrases, in order, without empty ones."""
    found = []
    for quoted, bare in _PHRASE.findall(words):
        phrase = " ".join((quoted or bare).split())
        if phrase:
            found.append(phrase)
    return found


def fts_query(indexed: list[str]) -> str:
    """An FTS5 query requiring every phrase: each one a string, quotes doubled."""
    return " AND ".join('"' + phrase.replace('"', '""') + '"' for phrase in indexed)


def build(query: SearchQuery) -> tuple[Select[Any], Select[Any]]:
    """(the page's rows, the count of candidates) as SQLite SELECTs. Each row
    of the page carries the count too (``total``), so the count is run on its own only when the
    page is empty.

    The candidates are the newest ``depth`` matches that pass the filters, found in the index's
    own order (newest stored first), which costs about the same for a rare word and for one in
    every article; the page is ordered among them, by date or by relevance (headline matches
    first, then the newest). An archive with more matches says so (``SearchPage.more``): the
    order is exact up to that number and favours recent matches beyond."""
    depth = query.depth or CANDIDATES
    found = phrases(query.words)
    indexed = [p for p in found if len(p) >= _MIN_INDEXED]
    short = [p for p in found if len(p) < _MIN_INDEXED]
    match = fts_query(indexed) if indexed else None
    # Conditions on the article's facets (language, source, date: article_facets, apart from the
    # long rows), on its tags, and for phrases too short for the index on its text. With words
    # and no other condition the candidates come from the index alone.
    conditions: list[ColumnElement[bool]] = []
    for phrase in short:
        pattern = _anywhere(phrase)
        conditions.append(
            or_(
                articles.c.title.ilike(pattern, escape="\\"),
                articles.c.text.ilike(pattern, escape="\\"),
            )
        )
    row_needed = bool(conditions)  # the phrases too short for the index scan the text
    conditions += _facet_conditions(query, facets)
    # With words and a filter, the filter is applied to the newest matches only, up to
    # SCANNED_PER_CANDIDATE times the depth: a rare filter on a common word would otherwise have
    # the whole index read (every article naming Cannes, to find the few tagged with Italy).
    scanned = None
    if match is not None:
        newest_matches = select(_FTS.c.rowid.label("id")).where(_matching(match))
        if query.tagged_only or query.countries or query.aspects or conditions:
            limit = depth * SCANNED_PER_CANDIDATE
            scanned = newest_matches.order_by(_FTS.c.rowid.desc()).limit(limit).cte("scanned")
            scanned = scanned.prefix_with("MATERIALIZED")
            key = scanned.c.id
        else:
            key = _FTS.c.rowid
    else:
        key = facets.c.id
    if query.tagged_only or query.countries or query.aspects:
        conditions.append(_tagged(query, key, postgres=False))

    if scanned is not None:
        source: Any = scanned
        if query.languages or query.sources or query.since or query.until:
            source = source.join(facets, facets.c.id == scanned.c.id)
        if row_needed:
            source = source.join(articles, articles.c.id == scanned.c.id)
        newest = (
            select(scanned.c.id)
            .select_from(source)
            .where(and_(*conditions))
            .order_by(scanned.c.id.desc())
        )
    elif match is not None:
        newest = newest_matches.order_by(_FTS.c.rowid.desc())
    else:
        source = facets.join(articles, articles.c.id == facets.c.id) if row_needed else facets
        newest = (
            select(facets.c.id)
            .select_from(source)
            .where(and_(true(), *conditions))
            .order_by(facets.c.dated_at.desc(), facets.c.id.desc())
        )
    # Read once however often the page's statement names it (the count, the headline bound).
    candidates = newest.limit(depth).cte("candidates").prefix_with("MATERIALIZED")
    # Whether the filters saw only the newest matches: then more may pass them further back.
    cut: Any = false()
    if scanned is not None:
        cut = select(func.count()).select_from(scanned).scalar_subquery() >= limit
    count = select(func.count().label("total"), cut.label("cut")).select_from(candidates)
    # The page is chosen from the candidates by the facets' date (and the headline) alone; the
    # article rows are read for its twenty only.
    ordered = facets.alias("ordered")
    columns: list[Any] = [
        candidates.c.id,
        ordered.c.dated_at,
        func.count().over().label("total"),
        cut.label("cut"),
    ]
    order: list[Any] = [ordered.c.dated_at.desc(), candidates.c.id.desc()]
    ranked = match is not None and query.sort is Sort.RELEVANCE
    if ranked:
        # Relevance: a story whose headline has every word first, then the newest. Headline
        # matches are looked for among the candidates' ids only: a word common in texts and
        # rare in headlines would otherwise have the index read far back. (BM25 over a
        # trigram index reads every matching document's statistics: with a common word in a
        # million articles that alone took most of a second.)
        oldest = select(func.min(candidates.c.id)).scalar_subquery()
        in_headline = (
            select(_FTS.c.rowid)
            .where(_matching(f"{{title}} : ({match})"))
            .where(_FTS.c.rowid >= oldest)
        )
        later = candidates.c.id.not_in(in_headline).label("later")
        columns.append(later)
        order.insert(0, later)
    page = (
        select(*columns)
        .select_from(candidates.join(ordered, ordered.c.id == candidates.c.id))
        .order_by(*order)
        .limit(query.limit)
        .offset(query.offset)
        .subquery("page")
    )
    rows = (
        select(*_hit_columns(whole_text=match is not None), page.c.total, page.c.cut)
        .select_from(
            page.join(articles, articles.c.id == page.c.id).join(
                sources, sources.c.id == articles.c.source_id
            )
        )
        .order_by(
            *([page.c.later] if ranked else []),
            page.c.dated_at.desc(),
            page.c.id.desc(),
        )
    )
    return rows, count


def searched_text() -> ColumnElement[str]:
    """What a PostgreSQL search looks in: the title and the text as one string."""
    space: Any = literal_column("' '")
    return articles.c.title.concat(space).concat(articles.c.text)


def searched_words() -> ColumnElement[Any]:
    """The words of an article's title and text as PostgreSQL stores and indexes them
    (``articles.words``, computed by the server: Alembic revision 0011)."""
    return literal_column("articles.words", TSVECTOR)


def ts_query(phrase: str, lexemes: list[tuple[int, str]]) -> str | None:
    """A phrase as PostgreSQL text-search query text: ``lexemes`` are its words as the server's
    parser read them, with their positions (``to_tsvector('simple', phrase)``), so that they are
    the index's own; each matches a word by its beginning. The words of a phrase with spaces (a
    quoted one) must follow one another; the parts of one typed word (co-production, O‘zbek)
    need only all occur, which the index answers without reading a text. None when the phrase
    has no word (punctuation only)."""
    if not lexemes:
        return None
    quoted = [
        "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "':*"
        for _, lexeme in sorted(lexemes)
    ]
    return (" <-> " if any(c.isspace() for c in phrase) else " & ").join(quoted)


def postgres_words(conn: Any, found: list[str]) -> list[tuple[str, str | None]]:
    """Each phrase with its :func:`ts_query`, the server parsing all of them in one statement."""
    if not found:
        return []
    rows = conn.execute(
        text(
            "SELECT p.n, w.lexeme, o.position "
            "FROM unnest(CAST(:phrases AS text[])) WITH ORDINALITY AS p(phrase, n), "
            "unnest(to_tsvector('simple', p.phrase)) AS w, unnest(w.positions) AS o(position)"
        ),
        {"phrases": found},
    ).all()
    lexemes: dict[int, list[tuple[int, str]]] = {}
    for row in rows:
        lexemes.setdefault(int(row.n) - 1, []).append((int(row.position), str(row.lexeme)))
    return [(phrase, ts_query(phrase, lexemes.get(i, []))) for i, phrase in enumerate(found)]


def build_postgres(
    query: SearchQuery, above: int | None, words: list[tuple[str, str | None]]
) -> tuple[Select[Any], Select[Any]]:
    """:func:`build` for PostgreSQL: every phrase matched by the full-text index over title and
    text (``words``: each phrase with its :func:`ts_query`; a phrase without one, punctuation
    alone, is looked for with ILIKE); the candidates are the newest ``depth`` matches that pass
    the filters among the articles whose id is ``above`` (all without), the page ordered among
    them as on SQLite. The index's matches come in no order and each must be read for its date:
    :func:`search` looks among the newest articles first (:data:`PG_WINDOWS`) so that a common
    word is not dated across the whole archive."""
    depth = query.depth or CANDIDATES
    found = [phrase for phrase, _ in words]
    # Every phrase's query in one: the index answers them together, in one look-up.
    indexed = [f"( {tsquery} )" for _, tsquery in words if tsquery is not None]
    conditions: list[ColumnElement[bool]] = [
        searched_text().ilike(_anywhere(phrase), escape="\\")
        for phrase, tsquery in words
        if tsquery is None
    ]
    if indexed:
        conditions.append(searched_words().op("@@")(cast(literal(" & ".join(indexed)), TSQUERY)))
    if above is not None:
        conditions.append(articles.c.id > above)
    conditions += _facet_conditions(query, articles)
    if query.tagged_only or query.countries or query.aspects:
        conditions.append(_tagged(query, articles.c.id, postgres=True))
    candidates = (
        select(articles.c.id, articles.c.dated_at)
        .where(and_(true(), *conditions))
        .order_by(articles.c.dated_at.desc(), articles.c.id.desc())
        .limit(depth)
        .cte("candidates")
    )
    never: Any = false()  # no filter looks at only part of the matches here
    count = select(func.count().label("total"), never.label("cut")).select_from(candidates)
    order: list[Any] = []
    ranked = bool(found) and query.sort is Sort.RELEVANCE
    if ranked:  # a story whose headline has every word first, then the newest
        in_title = and_(*(articles.c.title.ilike(_anywhere(p), escape="\\") for p in found))
        order.append(case((in_title, 0), else_=1))
    rows = (
        select(
            *_hit_columns(whole_text=bool(found)),
            func.count().over().label("total"),
            false().label("cut"),
        )
        .select_from(
            candidates.join(articles, articles.c.id == candidates.c.id).join(
                sources, sources.c.id == articles.c.source_id
            )
        )
        .order_by(*order, candidates.c.dated_at.desc(), candidates.c.id.desc())
        .limit(query.limit)
        .offset(query.offset)
    )
    return rows, count


def _hit_columns(*, whole_text: bool) -> list[Any]:
    """What a search hit shows of its article: the whole text when a passage is to be cut
    around the words, else its opening."""
    shown = articles.c.text if whole_text else func.substr(articles.c.text, 1, _OPENING_CHARS)
    return [
        articles.c.id,
        articles.c.url,
        articles.c.title,
        articles.c.language,
        articles.c.dated_at,
        articles.c.summary,
        sources.c.name.label("source"),
        shown.label("text"),
    ]


def _facet_conditions(query: SearchQuery, facts: Any) -> list[ColumnElement[bool]]:
    """The filters on an article's language, source and date, on the table that holds them
    (SQLite's ``article_facets``, PostgreSQL's ``articles``)."""
    found: list[ColumnElement[bool]] = []
    if query.languages:
        found.append(facts.c.language.in_(query.languages))
    if query.sources:
        found.append(
            facts.c.source_id.in_(select(sources.c.id).where(sources.c.name.in_(query.sources)))
        )
    if query.since:
        found.append(facts.c.dated_at >= query.since)
    if query.until:
        found.append(facts.c.dated_at < query.until)
    return found


def _tagged(query: SearchQuery, key: Any, *, postgres: bool) -> ColumnElement[bool]:
    """The article ``key`` is tagged, with one of the query's countries and aspects if any."""
    conditions = [tags.c.article_id == key]
    for field, wanted in ((tags.c.countries, query.countries), (tags.c.aspects, query.aspects)):
        if wanted:
            # The stored JSON list's text holds each value in quotes: a LIKE on it is exact for
            # codes and aspect names, and far cheaper than unpacking every list. (SQLite keeps
            # the text as it is; PostgreSQL's json needs the cast.)
            listed = cast(field, Text) if postgres else type_coerce(field, Text)
            conditions.append(
                or_(*(listed.like(f'%"{_like_escaped(v)}"%', escape="\\") for v in wanted))
            )
    return exists(select(1).select_from(tags).where(and_(*conditions)))


def _matching(expression: str) -> ColumnElement[bool]:
    return literal_column("articles_fts").match(expression)


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _anywhere(phrase: str) -> str:
    """A LIKE pattern (escaped with a backslash) for ``phrase`` anywhere in a text."""
    return "%" + _like_escaped(phrase) + "%"


def passage(text: str, words: list[str]) -> str | None:
    """The text around the first of ``words`` it holds (ignoring case, as the index does), with
    every one of them marked there; None when none is in the text (a headline match).

    Cut here rather than by FTS5's snippet(), which looks each page's row up in the index again
    and reads every word's position lists: most of a search's time for a common word."""
    longest_first = sorted(words, key=len, reverse=True)
    # Letter by letter, as the index folds case: a regular expression ignoring case, run over
    # the passage only; the first match is found in the lower-cased text, far faster, unless
    # lower case changes its length (İ), which would shift every offset.
    pattern = re.compile("|".join(re.escape(w) for w in longest_first), re.IGNORECASE)
    folded = text.lower()
    if len(folded) == len(text):
        at = min((i for i in (folded.find(w.lower()) for w in words) if i >= 0), default=-1)
        first = pattern.match(text, at) if at >= 0 else None
    else:
        first = pattern.search(text)
    if first is None:
        return None
    start = max(0, first.start() - _BEFORE_MATCH)
    end = min(len(text), start + _PASSAGE_CHARS)
    if start > 0:  # begin and end at a word, away from a cut one
        space = text.find(" ", start, first.start())
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.rfind(" ", first.end(), end)
        end = space if space >= 0 else end
    pieces, at = [], start
    for found in pattern.finditer(text, start, end):
        pieces += [
            text[at : found.start()],
            MARK_START,
            text[found.start() : found.end()],
            MARK_END,
        ]
        at = found.end()
    pieces.append(text[at:end])
    marked = " ".join("".join(pieces).split())
    return ("…" if start > 0 else "") + marked + ("…" if end < len(text) else "")


def search(store: Store, query: SearchQuery) -> SearchPage:
    """One page of stored articles matching ``query``, and how many match in all (up to the
    query's depth; ``more`` when there are more)."""
    depth = query.depth or CANDIDATES
    try:
        with store.reading() as conn:
            sqlite = store.engine.dialect.name == "sqlite"
            windows: list[int | None] = [None]
            words: list[tuple[str, str | None]] = []
            if not sqlite:  # the newest articles first, then further back while too few match
                newest = int(conn.execute(select(func.max(articles.c.id))).scalar() or 0)
                windows = [newest - size for size in PG_WINDOWS if size < newest] + [None]
                words = postgres_words(conn, phrases(query.words))
                if any(tsquery for _, tsquery in words):
                    # The planner takes checking a row's stored words for cheap and walks an
                    # index checking tens of thousands of rows (0.1-0.5 s over a million
                    # articles); as bitmaps, the words' own index finds them (15-150 ms).
                    conn.execute(text("SET LOCAL enable_indexscan = off"))
            for above in windows:
                rows_query, count_query = (
                    build(query) if sqlite else build_postgres(query, above, words)
                )
                rows = conn.execute(rows_query).all()
                # Every row of the page carries the count; an empty page (nothing found, or a
                # page beyond the last) counts on its own.
                counted = rows[0] if rows else conn.execute(count_query).one()
                total, cut = int(counted.total), bool(counted.cut)
                if total >= depth or above is None:
                    break
            ids = [row.id for row in rows]
            tag_rows = conn.execute(select(tags).where(tags.c.article_id.in_(ids))).all()
    except StorageError as exc:
        if "fts5: syntax error" in str(exc) or "malformed MATCH" in str(exc):
            raise ValueError(f"cannot search for {query.words!r}: {exc}") from None
        raise
    tagged: dict[int, list[Any]] = {}
    for tag in tag_rows:
        tagged.setdefault(tag.article_id, []).append(tag)
    verdicts = store.judgements(ids)
    indexed = [p for p in phrases(query.words) if len(p) >= _MIN_INDEXED]
    hits = []
    for row in rows:
        body = _without_headline(row.title, row.text)
        found = sorted(tagged.get(row.id, []), key=lambda t: -t.score)
        best = found[0] if found else None
        hits.append(
            SearchHit(
                id=row.id,
                url=row.url or "",
                title=row.title,
                source=row.source,
                language=row.language,
                dated_at=row.dated_at,
                topics=tuple(t.topic for t in found),
                score=float(best.score) if best else None,
                aspects=tuple(best.aspects) if best else (),
                countries=tuple(best.countries) if best else (),
                summary=row.summary,
                passage=(indexed and passage(body, indexed)) or _opening(body),
                relevant=verdicts.get(row.id),
            )
        )
    return SearchPage(total, tuple(hits), more=cut or total >= (query.depth or CANDIDATES))


def _without_headline(title: str, text: str) -> str:
    """The text without the headline that extracted texts often begin with: the passage shown
    under a hit's headline should not repeat it."""
    first, _, rest = (text or "").partition("\n")
    if rest and " ".join(first.split()).casefold() == " ".join((title or "").split()).casefold():
        return rest.lstrip()
    return text or ""


def _opening(text: str) -> str:
    """The first words of a text, cut at a word, for a hit without a marked passage."""
    text = " ".join((text or "")[: 2 * _OPENING_CHARS].split())
    if len(text) < _OPENING_CHARS - 10:
        return text
    cut = text[: _OPENING_CHARS - 10].rsplit(" ", 1)[0]
    return cut + "…"


def tagged_countries(store: Store) -> list[str]:
    """Every country some tagged story names, for the search form's choices."""
    # Each database's JSON function, written out (a table-valued function the query builder
    # would take for a cartesian product).
    query = text(
        "SELECT DISTINCT value FROM tags, json_each(tags.countries)"
        if store.engine.dialect.name == "sqlite"
        else "SELECT DISTINCT json_array_elements_text(countries) FROM tags"
    )
    with store.reading() as conn:
        return sorted(str(code) for code in conn.execute(query).scalars() if code)
