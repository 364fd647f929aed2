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

A ratio with an empty denominator (no prediction, no positive) is None, shown as ``-``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
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
    script = data.get("script")
    if script is not None and not isinstance(script, str):
        raise ValueError("'script' must be a string")
    return Example(
        id=data["id"],
        language=data["lang"],
        title=data["title"],
        text=data["text"],
        label=data["label"],
        borderline=borderline,
        aspects=_labels(data, "aspects"),
        countries=_labels(data, "countries"),
        script=script,
    )


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


def to_json(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data: ``groups`` by name ("all" last) and ``misclassified``."""
    return {
        "groups": {g.group: asdict(g) for g in report.groups},
        "misclassified": [asdict(m) for m in report.misses],
    }
