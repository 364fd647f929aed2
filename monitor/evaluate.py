"""Measuring the tagger against labeled articles: pure functions, no I/O.

A labeled line (the format of ``eval/dev/*.jsonl``) holds ``id``, ``lang``, ``title``, ``text``,
``label`` (a film-cooperation story or not), ``borderline``, and for positives the expected
``aspects`` and ``countries``; ``script`` is optional. :func:`parse_example` checks one line's
object, :func:`evaluate` scores (example, prediction) pairs per language and overall:

- precision, recall and F1 of the label, on lines that are not borderline;
- borderline lines apart: how many, and how many the tagger tagged;
- aspects: micro precision/recall/F1 of the aspect labels on true positives;
- countries: on true positives, the share whose country set is exactly right and the mean
  Jaccard index of the sets;
- how often the detected language is the labeled one;
- the misclassified lines (false positives and negatives, not borderline), with their scores.

Lines may also say which event they report (``event``, with the outlet's name in ``source`` and
the ``published`` time): :func:`score_grouping` then measures how the digest grouped them — pair
precision (of the pairs of lines put in one entry, how many report one event), pair recall (of
the pairs reporting one event, how many share an entry), the entries that mix events, and the
pairs it got wrong. A wrong merge hides a story, a missed one shows a duplicate line: precision
comes first.

A ratio with an empty denominator (no prediction, no positive) is None, shown as ``-``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from itertools import combinations
from typing import Any

ALL = "all"


@dataclass(frozen=True)
class Example:
    """One labeled article."""

    id: str
    language: str
    title: str
    text: str
    label: bool
    borderline: bool = False
    aspects: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    script: str | None = None
    lead: str = ""
    event: str | None = None  # the event the line reports, for measuring grouping
    source: str | None = None  # the outlet, as a digest names it
    published: datetime | None = None


@dataclass(frozen=True)
class Prediction:
    """What the tagger said about an article."""

    tagged: bool
    score: float = 0.0
    aspects: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    language: str | None = None


@dataclass(frozen=True)
class Rates:
    precision: float | None
    recall: float | None
    f1: float | None


@dataclass(frozen=True)
class Miss:
    """A misclassified line: ``kind`` is "FP" (tagged, not a story) or "FN" (missed)."""

    id: str
    language: str
    kind: str
    score: float


@dataclass(frozen=True)
class GroupScore:
    """The figures of one language, or of all lines (``group`` = "all")."""

    group: str
    lines: int  # not borderline
    positives: int
    tp: int
    fp: int
    fn: int
    label: Rates
    aspects: Rates  # micro, on true positives
    countries_exact: float | None  # share of true positives
    countries_jaccard: float | None  # mean over true positives
    borderline: int
    borderline_tagged: int
    language_ok: float | None  # share of all lines, borderline included


@dataclass(frozen=True)
class Report:
    groups: tuple[GroupScore, ...]  # one per language, sorted, then "all"
    misses: tuple[Miss, ...]


# --- one labeled line ---------------------------------------------------------------------------

_REQUIRED = {"id": str, "lang": str, "title": str, "text": str, "label": bool}


def parse_example(data: object) -> Example:
    """A labeled line's decoded JSON as an Example. Raises ValueError naming what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    for key, kind in _REQUIRED.items():
        if key not in data:
            raise ValueError(f"{key!r} is missing")
        if not isinstance(data[key], kind):
            raise ValueError(f"{key!r} must be {_KIND_NAMES[kind]}")
    borderline = data.get("borderline", False)
    if not isinstance(borderline, bool):
        raise ValueError("'borderline' must be true or false")
    for key in ("script", "lead", "event", "source"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ValueError(f"{key!r} must be a string")
    event = data.get("event") or None
    published = _published(data.get("published"))
    if event is not None and (not data.get("source") or published is None):
        raise ValueError("a line with 'event' needs 'source' (the outlet) and 'published'")
    return Example(
        id=data["id"],
        language=data["lang"],
        title=data["title"],
        text=data["text"],
        label=data["label"],
        borderline=borderline,
        aspects=_labels(data, "aspects"),
        countries=_labels(data, "countries"),
        script=data.get("script"),
        lead=data.get("lead") or "",
        event=event,
        source=data.get("source") or None,
        published=published,
    )


def _published(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("'published' must be a string such as 2026-10-04T11:20:00+04:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"'published' {value!r} is not an ISO 8601 time such as 2026-10-04T11:20:00+04:00"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"'published' {value!r} needs a UTC offset, e.g. +04:00 or Z")
    return moment


_KIND_NAMES = {str: "a string", bool: "true or false"}


def _labels(data: Mapping[str, Any], key: str) -> frozenset[str]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ValueError(f"{key!r} must be a list of strings")
    return frozenset(value)


# --- metrics ------------------------------------------------------------------------------------


def ratio(numerator: int | float, denominator: int | float) -> float | None:
    return numerator / denominator if denominator else None


def rates(hits: int, predicted: int, expected: int) -> Rates:
    """Precision hits/predicted, recall hits/expected, and their harmonic mean."""
    precision, recall = ratio(hits, predicted), ratio(hits, expected)
    if precision is None or recall is None:
        return Rates(precision, recall, None)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Rates(precision, recall, f1)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b|; two empty sets agree fully."""
    union = a | b
    return len(a & b) / len(union) if union else 1.0


def score_group(group: str, pairs: Sequence[tuple[Example, Prediction]]) -> GroupScore:
    """The figures of a set of (example, prediction) pairs."""
    main = [(e, p) for e, p in pairs if not e.borderline]
    true_pos = [(e, p) for e, p in main if e.label and p.tagged]
    tp = len(true_pos)
    fp = sum(1 for e, p in main if p.tagged and not e.label)
    fn = sum(1 for e, p in main if e.label and not p.tagged)
    aspect_hits = sum(len(e.aspects & p.aspects) for e, p in true_pos)
    borderline = [p for e, p in pairs if e.borderline]
    return GroupScore(
        group=group,
        lines=len(main),
        positives=sum(1 for e, _ in main if e.label),
        tp=tp,
        fp=fp,
        fn=fn,
        label=rates(tp, tp + fp, tp + fn),
        aspects=rates(
            aspect_hits,
            sum(len(p.aspects) for _, p in true_pos),
            sum(len(e.aspects) for e, _ in true_pos),
        ),
        countries_exact=ratio(sum(1 for e, p in true_pos if e.countries == p.countries), tp),
        countries_jaccard=ratio(sum(jaccard(e.countries, p.countries) for e, p in true_pos), tp),
        borderline=len(borderline),
        borderline_tagged=sum(1 for p in borderline if p.tagged),
        language_ok=ratio(sum(1 for e, p in pairs if p.language == e.language), len(pairs)),
    )


def misses(pairs: Iterable[tuple[Example, Prediction]]) -> tuple[Miss, ...]:
    """False positives and false negatives among the lines that are not borderline."""
    return tuple(
        Miss(e.id, e.language, "FP" if p.tagged else "FN", p.score)
        for e, p in pairs
        if not e.borderline and e.label != p.tagged
    )


def evaluate(pairs: Sequence[tuple[Example, Prediction]]) -> Report:
    """Figures per language (sorted) and for all lines, and the misclassified lines."""
    languages = sorted({e.language for e, _ in pairs})
    groups = [
        score_group(code, [(e, p) for e, p in pairs if e.language == code]) for code in languages
    ]
    return Report((*groups, score_group(ALL, pairs)), misses(pairs))


# --- grouping -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupingScore:
    """How lines labeled with events were grouped into digest entries."""

    lines: int
    events: int
    entries: int
    pairs: Rates  # pair precision, recall, F1
    pairs_expected: int  # pairs of lines reporting one event
    pairs_found: int  # pairs of lines sharing an entry
    mixed_entries: int  # entries holding lines of more than one event: hidden news
    wrong: tuple[tuple[str, str], ...]  # ids in one entry that report different events
    missed: tuple[tuple[str, str], ...]  # ids of one event left in different entries


def score_grouping(events: Mapping[str, str], entries: Iterable[Collection[str]]) -> GroupingScore:
    """Pair figures of a grouping: ``events`` maps a line's id to its event, ``entries`` are the
    digest's entries as sets of line ids (every id in exactly one entry)."""
    groups = [sorted(entry) for entry in entries]
    placed = sorted(i for g in groups for i in g)
    if placed != sorted(events) or len(set(placed)) != len(placed):
        raise ValueError("every labeled line must be in exactly one entry")
    found = {pair for g in groups for pair in combinations(g, 2)}
    by_event: dict[str, list[str]] = {}
    for line, event in sorted(events.items()):
        by_event.setdefault(event, []).append(line)
    expected = {pair for lines in by_event.values() for pair in combinations(lines, 2)}
    right = found & expected
    return GroupingScore(
        lines=len(events),
        events=len(by_event),
        entries=len(groups),
        pairs=rates(len(right), len(found), len(expected)),
        pairs_expected=len(expected),
        pairs_found=len(found),
        mixed_entries=sum(1 for g in groups if len({events[i] for i in g}) > 1),
        wrong=tuple(sorted(found - expected)),
        missed=tuple(sorted(expected - found)),
    )


# --- output ---------------------------------------------------------------------------------------

_HEADER = (
    "lang", "lines", "pos", "tp", "fp", "fn", "prec", "recall", "f1",
    "asp.P", "asp.R", "asp.F1", "ctry=", "ctry.J", "border", "b.tagged", "lang.ok",
)  # fmt: skip


def format_table(report: Report) -> str:
    """The report as a plain-text table, then the misclassified lines."""
    rows = [_HEADER, *(_row(g) for g in report.groups)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    lines = [
        "  ".join(
            cell.rjust(w) if i else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines += [
        "",
        "Borderline lines are left out of every figure but border/b.tagged (and lang.ok).",
        "asp.*: aspect labels on true positives (micro); ctry=: true positives whose countries "
        "are exactly right; ctry.J: mean Jaccard of the country sets.",
        "",
    ]
    if report.misses:
        lines.append("misclassified (not borderline):")
        lines += [f"  {m.kind}  {m.id}  {m.language}  score {m.score:.3f}" for m in report.misses]
    else:
        lines.append("misclassified: none")
    return "\n".join(lines) + "\n"


def _row(g: GroupScore) -> tuple[str, ...]:
    return (
        g.group,
        str(g.lines),
        str(g.positives),
        str(g.tp),
        str(g.fp),
        str(g.fn),
        *(_figure(x) for x in (g.label.precision, g.label.recall, g.label.f1)),
        *(_figure(x) for x in (g.aspects.precision, g.aspects.recall, g.aspects.f1)),
        _figure(g.countries_exact),
        _figure(g.countries_jaccard),
        str(g.borderline),
        str(g.borderline_tagged),
        _figure(g.language_ok),
    )


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_grouping(score: GroupingScore, events: Mapping[str, str]) -> str:
    """The grouping figures, then the pairs it got wrong (each with the lines' events)."""
    lines = [
        f"grouping: {score.lines} lines of {score.events} events in {score.entries} entries; "
        f"{score.mixed_entries} entries mix events",
        f"  pairs: precision {_figure(score.pairs.precision)} "
        f"({score.pairs_found - len(score.wrong)}/{score.pairs_found}), "
        f"recall {_figure(score.pairs.recall)} "
        f"({score.pairs_expected - len(score.missed)}/{score.pairs_expected}), "
        f"F1 {_figure(score.pairs.f1)}",
    ]
    for title, pairs in (
        ("merged but different events", score.wrong),
        ("not merged", score.missed),
    ):
        if pairs:
            lines.append(f"  {title}:")
            lines += [f"    {a} ({events[a]})  {b} ({events[b]})" for a, b in pairs]
    return "\n".join(lines) + "\n"


def to_json(report: Report, grouping: GroupingScore | None = None) -> dict[str, Any]:
    """The report as JSON-ready data: ``groups`` by name ("all" last) and ``misclassified``,
    and ``grouping`` when lines were labeled with events."""
    data: dict[str, Any] = {
        "groups": {g.group: asdict(g) for g in report.groups},
        "misclassified": [asdict(m) for m in report.misses],
    }
    if grouping is not None:
        data["grouping"] = asdict(grouping)
    return data
