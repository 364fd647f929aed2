"""General matcher rules: paragraphs, the longest term, weak title terms, countries, build cache."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.tag.countries import _chain
from monitor.tag.matcher import CompiledTopic, Verdict, Zone, compile_topic, make_zones
from monitor.tag.normalize import normalize, sentence_spans
from monitor.tag.rules import load_topic
from monitor.tag.terms import Term, Word, compile_lexicon, parse_term

TOPIC = """\
id: widgets
title: Widget mergers
threshold: 0.5
half_score: 3
proximity: {sentence: true, words: 5}
weights: {title: 3, lead: 2, body: 1, subject_in_title: 1.5}
concepts:
  subject:
    en: [widget*, ~gadget*]
  action:
    en: [merger*, ~deal*]
"""


class _NoCountries:
    home = None

    def codes(self, zone: Zone) -> list[tuple[int, str]]:
        return []

    def names(self, zone: Zone) -> list[tuple[int, int]]:
        return []


@pytest.fixture(scope="module")
def topic(tmp_path_factory: pytest.TempPathFactory) -> CompiledTopic:
    path = Path(tmp_path_factory.mktemp("topic")) / "widgets.yaml"
    path.write_text(TOPIC, encoding="utf-8")
    return compile_topic(load_topic(path), ["en"])


def verdict(topic: CompiledTopic, title: str, body: str = "") -> Verdict:
    return topic.evaluate(make_zones(title, "", body, "en"), "en", _NoCountries())


# --- 1. a paragraph break is a blank line ------------------------------------------------------


def test_a_single_line_break_does_not_end_a_sentence() -> None:
    text = "The widget makers agreed\non a merger. Next one.\n\nA heading\n \nLast paragraph"
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "The widget makers agreed\non a merger.",
        "Next one.",
        "A heading",
        "Last paragraph",
    ]


def test_a_meeting_crosses_a_line_break_but_not_a_blank_line(topic: CompiledTopic) -> None:
    wrapped = "Widget makers\nannounced a merger. Shares rose."  # hard-wrapped plain text
    assert [h.span for h in verdict(topic, "Widgets", wrapped).hits] == [(0, 33)]
    split = "Widget makers\n\nannounced a merger. Shares rose."
    assert not verdict(topic, "Widgets", split).tagged


# --- 2. the longest term at a position wins ----------------------------------------------------


def found(terms: list[str], text: str, language: str) -> list[tuple[str, str]]:
    lexicon = compile_lexicon([(parse_term(t, language), t) for t in terms])
    norm = normalize(text, language)
    return [(norm[f.start : f.end], f.labels[0]) for f in lexicon.find(norm)]


def test_a_longer_stem_phrase_beats_a_shorter_literal() -> None:
    terms = ["accordo", "accord* di pace"]
    assert found(terms, "un accordo di pace, un accordo firmato", "it") == [
        ("accordo di pace", "accord* di pace"),
        ("accordo", "accordo"),
    ]


def test_a_phrase_beats_an_inflection_ending() -> None:
    # A country adjective with case endings (as countries.py builds it) against an ignored
    # phrase that starts with a stem: the phrase is longer, so the adjective is hidden.
    adjective = Term((Word(normalize("ინგლისურ", "ka"), tail="(?:ის|ი|)"),), ())
    ignored = parse_term("ინგლისურ* ენა*", "ka")
    lexicon = compile_lexicon([(adjective, "GB"), (ignored, "ignore")])
    norm = normalize("ინგლისური ენა და ინგლისური ფილმი", "ka")
    assert [f.labels for f in lexicon.find(norm)] == [("ignore",), ("GB",)]


def test_the_longest_wins_even_when_a_deeper_branch_fails_first() -> None:
    terms = ["films", "films of the world", "film* festival"]
    assert found(terms, "films festival; films of the world; films", "en") == [
        ("films festival", "film* festival"),
        ("films of the world", "films of the world"),
        ("films", "films"),
    ]


def test_on_equal_length_the_literal_term_wins() -> None:
    assert found(["accord*", "accordo"], "accordo accordi", "it") == [
        ("accordo", "accordo"),
        ("accordi", "accord*"),
    ]


# --- 3. a weak subject term in the title -------------------------------------------------------


def test_a_weak_only_title_meeting_stays_below_the_threshold(topic: CompiledTopic) -> None:
    weak = verdict(topic, "Gadget deal")
    assert weak.score < 0.5 and not weak.tagged
    strong = verdict(topic, "Widget deal")  # strong subject: the full title bonus
    assert strong.tagged
    corroborated = verdict(topic, "Gadget deal", "Widget makers announced a merger.")
    assert corroborated.tagged


def test_the_title_bonus_is_halved_for_a_weak_subject(topic: CompiledTopic) -> None:
    body = "Shares rose. Widget makers announced a merger."
    weak, strong, none = (verdict(topic, t, body).score for t in ("Gadgets", "Widgets", "News"))
    # evidence: body meeting 1 + title bonus 0.75 / 1.5 / 0
    assert (weak, strong, none) == (round(1.75 / 4.75, 3), round(2.5 / 5.5, 3), 0.25)


def test_a_subject_running_through_the_story_stands_for_the_title(
    tmp_path: Path,
) -> None:
    """A headline without the subject ("Two makers agree") is made up for when enough of the
    other sentences name it with a strong term; weak terms and a single sentence do not."""
    path = tmp_path / "widgets.yaml"
    path.write_text(
        TOPIC.replace("subject_in_title: 1.5}", "subject_in_title: 1.5, subject_share: 0.5}"),
        encoding="utf-8",
    )
    shared = compile_topic(load_topic(path), ["en"])
    merger = "Shares rose. Widget makers announced a merger. Other prices held firm all day long."
    running = merger + " Widgets sell. Widget prices hold."
    assert verdict(shared, "Two makers agree", running).score == round(2.5 / 5.5, 3)
    # Without the setting the same story has only its body meeting.
    plain = compile_topic(load_topic(_written(tmp_path, TOPIC)), ["en"])
    assert verdict(plain, "Two makers agree", running).score == 0.25
    # Below the share, or through weak terms only: no stand-in.
    sparse = merger + " Markets calm. Rates hold."
    assert verdict(shared, "Two makers agree", sparse).score == 0.25
    weak = merger + " Gadgets sell. Gadget prices hold."
    assert verdict(shared, "Two makers agree", weak).score == 0.25
    # One sentence of a two-sentence story is half of it, but not "running through" it.
    short = "Widget makers announced a merger. Other prices held firm all day long."
    assert verdict(shared, "Two makers agree", short).score == round(2 / 5, 3)  # the lead alone


def _written(folder: Path, text: str) -> Path:
    path = folder / "plain.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- 5. the suffix chain ------------------------------------------------------------------------


def _nested(forms: list[str], times: int) -> str:
    """The former form of the chain: (?:'?S(?:S(?:S)?)?)?"""
    one = "(?:" + "|".join(re.escape(f) for f in forms) + ")"
    inner = ""
    for _ in range(times - 1):
        inner = f"(?:{one}{inner})?"
    return f"(?:'?{one}{inner})?"


@pytest.mark.parametrize("times", [1, 2, 3])
def test_the_suffix_chain_matches_what_the_nested_form_did(times: int) -> None:
    suffixes = ("nın", "nin", "ın", "da", "dan", "ki", "a")
    chain = _chain(suffixes, times, "tr")
    forms = sorted(suffixes, key=len, reverse=True)
    new, old = (re.compile(f"türkiye{c}(?!\\w)") for c in (chain, _nested(forms, times)))
    words = ["türkiye", "türkiye'nin", "türkiyenin", "türkiyedaki", "türkiyedadanki"]
    words += ["türkiye'", "türkiyex", "türkiyeninda", "türkiyeki'"]
    for word in words:
        a, b = new.match(word), old.match(word)
        assert (a and a.group()) == (b and b.group()), word
    assert _chain(suffixes, times, "tr") is chain  # cached


# --- 6. countries a rule asks of its sentences ----------------------------------------------------

COUNTRY_TOPIC = TOPIC + "rules:\n  merger: {concepts: [subject, action], countries: 2}\n"


class _Named:
    """Countries at fixed words of a zone's text: {word: code}; names only (no cities)."""

    def __init__(self, words: dict[str, str], home: str | None = None) -> None:
        self.words = words
        self.home = home

    def _found(self, zone: Zone) -> list[tuple[int, int, str]]:
        out = []
        for word, code in self.words.items():
            for m in re.finditer(re.escape(word.lower()), zone.norm):
                out.append((m.start(), m.end(), code))
        return sorted(out)

    def codes(self, zone: Zone) -> list[tuple[int, str]]:
        return [(start, code) for start, _, code in self._found(zone)]

    def names(self, zone: Zone) -> list[tuple[int, int]]:
        return [(start, end) for start, end, _ in self._found(zone)]


@pytest.fixture(scope="module")
def country_topic(tmp_path_factory: pytest.TempPathFactory) -> CompiledTopic:
    path = Path(tmp_path_factory.mktemp("topic")) / "widgets.yaml"
    path.write_text(COUNTRY_TOPIC, encoding="utf-8")
    return compile_topic(load_topic(path), ["en"])


def _rules(topic: CompiledTopic, title: str, body: str, countries: _Named) -> list[str]:
    verdict = topic.evaluate(make_zones(title, "", body, "en"), "en", countries)
    return [hit.rule for hit in verdict.hits]


def test_the_outlet_country_counts_when_the_story_names_it(country_topic: CompiledTopic) -> None:
    title = "Widget merger with Iran"
    iran = {"Iran": "IR", "Azerbaijan": "AZ"}
    # An Azerbaijani outlet: Iran is the other party, Azerbaijan named elsewhere in the story.
    named = _rules(country_topic, title, "Azerbaijan welcomed it.", _Named(iran, home="AZ"))
    assert named == ["merger"]
    # ... but not when the story is about another country alone.
    assert _rules(country_topic, title, "Shares rose.", _Named(iran, home="AZ")) == []
    assert _rules(country_topic, title, "Azerbaijan welcomed it.", _Named(iran)) == []
