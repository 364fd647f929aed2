"""Tagger evaluation metrics (monitor.evaluate) on small hand-made inputs, figures by hand."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from monitor.evaluate import (
    Example,
    Prediction,
    Rates,
    evaluate,
    format_grouping,
    format_table,
    jaccard,
    misses,
    parse_example,
    rates,
    score_group,
    score_grouping,
    to_json,
)


def example(
    id: str,
    label: bool,
    language: str = "en",
    borderline: bool = False,
    aspects: tuple[str, ...] = (),
    countries: tuple[str, ...] = (),
) -> Example:
    return Example(
        id, language, "title", "text", label, borderline, frozenset(aspects), frozenset(countries)
    )


def predicted(
    tagged: bool,
    score: float = 0.0,
    aspects: tuple[str, ...] = (),
    countries: tuple[str, ...] = (),
    language: str | None = "en",
) -> Prediction:
    return Prediction(tagged, score, frozenset(aspects), frozenset(countries), language)


def test_rates() -> None:
    assert rates(2, 3, 3) == Rates(2 / 3, 2 / 3, pytest.approx(2 / 3))
    assert rates(1, 1, 4) == Rates(1.0, 0.25, 0.4)  # 2 * 1 * 0.25 / 1.25
    assert rates(0, 2, 3) == Rates(0.0, 0.0, 0.0)
    assert rates(0, 0, 3) == Rates(None, 0.0, None)  # nothing predicted: no precision
    assert rates(0, 0, 0) == Rates(None, None, None)


def test_jaccard() -> None:
    assert jaccard(frozenset({"AZ", "TR"}), frozenset({"AZ"})) == 0.5
    assert jaccard(frozenset({"AZ"}), frozenset({"UZ"})) == 0.0
    assert jaccard(frozenset(), frozenset()) == 1.0


# Six English lines and one borderline line:
#   a  positive, tagged     aspects {agreement, co_production} vs {agreement}   countries exact
#   b  positive, tagged     aspects {festival_market} vs {festival_market, diplomacy}
#                           countries {AZ, TR} vs {AZ}: Jaccard 1/2
#   c  positive, missed
#   d  negative, tagged     (false positive)
#   e  negative, not tagged
#   f  negative, not tagged, detected as Italian
#   g  borderline, tagged   (left out of everything but the borderline count and lang.ok)
PAIRS = [
    (
        example("a", True, aspects=("agreement", "co_production"), countries=("AZ", "IT")),
        predicted(True, 0.9, aspects=("agreement",), countries=("AZ", "IT")),
    ),
    (
        example("b", True, aspects=("festival_market",), countries=("AZ", "TR")),
        predicted(True, 0.7, aspects=("festival_market", "diplomacy"), countries=("AZ",)),
    ),
    (example("c", True, aspects=("policy",), countries=("UZ",)), predicted(False, 0.3)),
    (example("d", False), predicted(True, 0.6)),
    (example("e", False), predicted(False)),
    (example("f", False), predicted(False, language="it")),
    (example("g", True, borderline=True), predicted(True, 0.55)),
]


def test_score_group_by_hand() -> None:
    g = score_group("en", PAIRS)
    assert (g.lines, g.positives, g.tp, g.fp, g.fn) == (6, 3, 2, 1, 1)
    assert g.label == Rates(2 / 3, 2 / 3, pytest.approx(2 / 3))
    # Aspects on a and b: hits 1 + 1, predicted 1 + 2, expected 2 + 1.
    assert g.aspects == Rates(2 / 3, 2 / 3, pytest.approx(2 / 3))
    assert g.countries_exact == 0.5  # a right, b not
    assert g.countries_jaccard == 0.75  # (1 + 1/2) / 2
    assert (g.borderline, g.borderline_tagged) == (1, 1)
    assert g.language_ok == 6 / 7  # f was detected as Italian; borderline lines count here


def test_an_empty_group_has_no_rates() -> None:
    g = score_group("ka", [(example("x", False, "ka"), predicted(False, language="ka"))])
    assert (g.tp, g.fp, g.fn) == (0, 0, 0)
    assert g.label == Rates(None, None, None)
    assert g.countries_exact is None and g.countries_jaccard is None


def test_misses_are_false_positives_and_negatives_outside_the_borderline() -> None:
    assert [(m.id, m.kind, m.score) for m in misses(PAIRS)] == [("c", "FN", 0.3), ("d", "FP", 0.6)]


def test_evaluate_groups_by_language_then_all() -> None:
    az = [(example("z", True, "az", countries=("AZ",)), predicted(True, 0.8, countries=("AZ",)))]
    report = evaluate([*PAIRS, *az])
    assert [g.group for g in report.groups] == ["az", "en", "all"]
    az_group, _, overall = report.groups
    assert (az_group.tp, az_group.fp, az_group.fn) == (1, 0, 0)
    assert (overall.lines, overall.tp, overall.fp, overall.fn) == (7, 3, 1, 1)
    assert overall.label.precision == 0.75 and overall.label.recall == 0.75
    assert overall.countries_exact == pytest.approx(2 / 3)
    assert [m.id for m in report.misses] == ["c", "d"]


def test_table_and_json() -> None:
    report = evaluate(PAIRS)
    table = format_table(report)
    header, en, overall = table.splitlines()[:3]
    assert header.split()[:9] == ["lang", "lines", "pos", "tp", "fp", "fn", "prec", "recall", "f1"]
    assert en.split()[:9] == ["en", "6", "3", "2", "1", "1", "0.67", "0.67", "0.67"]
    assert overall.startswith("all")
    assert "FN  c  en  score 0.300" in table and "FP  d  en  score 0.600" in table
    data = json.loads(json.dumps(to_json(report)))
    assert data["groups"]["en"]["label"]["recall"] == pytest.approx(2 / 3)
    assert data["groups"]["all"]["borderline_tagged"] == 1
    assert data["misclassified"][0] == {"id": "c", "language": "en", "kind": "FN", "score": 0.3}


def test_a_ratio_without_denominator_is_a_dash() -> None:
    table = format_table(evaluate([(example("x", False), predicted(False))]))
    assert table.splitlines()[1].split()[6:9] == ["-", "-", "-"]


LINE = {
    "id": "az-001",
    "lang": "az",
    "title": "Başlıq",
    "text": "Mətn",
    "label": True,
    "borderline": False,
    "aspects": ["agreement"],
    "countries": ["AZ", "MD"],
    "source_url": "https://example.com/",
    "why": "extra keys are ignored",
}


def test_parse_example() -> None:
    parsed = parse_example(LINE)
    assert parsed == Example(
        "az-001", "az", "Başlıq", "Mətn", True, False, frozenset({"agreement"}),
        frozenset({"AZ", "MD"}),
    )  # fmt: skip
    minimal = parse_example({k: LINE[k] for k in ("id", "lang", "title", "text", "label")})
    assert not minimal.borderline and minimal.aspects == frozenset()
    assert parse_example({**LINE, "script": "Cyrl"}).script == "Cyrl"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([LINE], "expected a JSON object"),
        ({k: v for k, v in LINE.items() if k != "lang"}, "'lang' is missing"),
        ({**LINE, "label": "yes"}, "'label' must be true or false"),
        ({**LINE, "title": None}, "'title' must be a string"),
        ({**LINE, "borderline": 1}, "'borderline' must be true or false"),
        ({**LINE, "countries": "AZ"}, "'countries' must be a list of strings"),
        ({**LINE, "event": "e1", "published": "2026-10-04T11:20:00+04:00"}, "needs 'source'"),
        ({**LINE, "event": "e1", "source": "Trend"}, "needs 'source' .* and 'published'"),
        ({**LINE, "published": "4 October"}, "is not an ISO 8601 time"),
        ({**LINE, "published": "2026-10-04T11:20:00"}, "needs a UTC offset"),
        ({**LINE, "event": 7}, "'event' must be a string"),
    ],
)
def test_bad_lines_are_explained(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_example(data)


def test_parse_example_with_an_event() -> None:
    line = {**LINE, "event": "e1", "source": "Trend", "published": "2026-10-04T11:20:00+04:00"}
    parsed = parse_example(line)
    assert (parsed.event, parsed.source) == ("e1", "Trend")
    assert parsed.published is not None and parsed.published.utcoffset() == timedelta(hours=4)


# Six lines of three events, grouped into three entries:
#   entry {a1, a2, b1}   a1-a2 right; a1-b1 and a2-b1 merge two events (a wrong merge)
#   entry {b2}           b1-b2 missed
#   entry {c1}           a single line, no pair
#   entry {a3}           a1-a3 and a2-a3 missed
EVENTS = {"a1": "a", "a2": "a", "a3": "a", "b1": "b", "b2": "b", "c1": "c"}
ENTRIES = [{"a1", "a2", "b1"}, {"b2"}, {"c1"}, {"a3"}]


def test_score_grouping_by_hand() -> None:
    score = score_grouping(EVENTS, ENTRIES)
    assert (score.lines, score.events, score.entries) == (6, 3, 4)
    # Expected pairs: a1-a2, a1-a3, a2-a3, b1-b2 (4). Found: a1-a2, a1-b1, a2-b1 (3), 1 right.
    assert (score.pairs_expected, score.pairs_found) == (4, 3)
    assert score.pairs == Rates(1 / 3, 1 / 4, pytest.approx(2 / 7))
    assert score.mixed_entries == 1
    assert score.wrong == (("a1", "b1"), ("a2", "b1"))
    assert score.missed == (("a1", "a3"), ("a2", "a3"), ("b1", "b2"))
    text = format_grouping(score, EVENTS)
    assert "precision 0.33 (1/3), recall 0.25 (1/4)" in text
    assert "    a1 (a)  b1 (b)" in text
    assert json.loads(json.dumps(to_json(evaluate(PAIRS), score)))["grouping"]["entries"] == 4


def test_score_grouping_every_line_once() -> None:
    with pytest.raises(ValueError, match="exactly one entry"):
        score_grouping(EVENTS, [{"a1", "a2"}])
    with pytest.raises(ValueError, match="exactly one entry"):
        score_grouping(EVENTS, [*ENTRIES, {"a1"}])


def test_score_grouping_of_singletons() -> None:
    score = score_grouping({"x": "1", "y": "2"}, [{"x"}, {"y"}])
    assert score.pairs == Rates(None, None, None) and score.mixed_entries == 0
