"""Topic rules: several ways concepts meet, with conditions on the countries a story names;
their validation; and the one-pass lookup of concepts (``Lexicon.find_within``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.tag import build_tagger
from monitor.tag.matcher import CompiledTopic, Verdict, Zone, compile_topic, make_zones
from monitor.tag.rules import load_topic
from monitor.tag.terms import word_starts

TOPIC = """\
id: widgets
title: Widget cooperation
threshold: 0.5
half_score: 3
proximity: {sentence: true, words: 5}
weights: {title: 3, lead: 3, body: 1}
concepts:
  widget: {en: [widget*]}
  deal: {en: [merger*, joint venture*]}
  fair: {en: [widget fair*, widget week*]}
  branch: {en: [branch*]}
  foreign: {en: [foreign]}
  costs: {en: [costs]}
  gossip: {en: [gossip]}
  weakdeal: {en: [~talks, pact]}
rules:
  deal:
    concepts: [widget, deal]
    story_countries: 2
  deal_abroad:
    concepts: [widget, deal]
    anywhere: [foreign]
  fair_abroad:
    concepts: [widget, fair]
    national: fair
    countries: 2
  branch:
    concepts: [branch]
    countries: 1
    anywhere: [costs]
    strength: 0.5
  talks:
    concepts: [widget, weakdeal]
    unless: [gossip]
"""

# The fake country lookup: these words name countries (names) or cities.
NAMES = {"uzbek": "UZ", "azerbaijani": "AZ", "azerbaijan": "AZ", "kazakhstan": "KZ"}
CITIES = {"tashkent": "UZ", "baku": "AZ"}


class Countries:
    """Countries as the tagger's lookup gives them, from two small tables."""

    def __init__(self, home: str | None = None) -> None:
        self.home = home

    def _find(self, zone: Zone, table: dict[str, str]) -> list[tuple[int, int, str]]:
        out = []
        for word, code in table.items():
            start = zone.norm.find(word)
            while start != -1:
                out.append((start, start + len(word), code))
                start = zone.norm.find(word, start + 1)
        return sorted(out)

    def codes(self, zone: Zone) -> list[tuple[int, str]]:
        found = self._find(zone, NAMES) + self._find(zone, CITIES)
        return sorted((s, c) for s, _, c in found)

    def names(self, zone: Zone) -> list[tuple[int, int]]:
        return [(s, e) for s, e, _ in self._find(zone, NAMES)]


@pytest.fixture(scope="module")
def topic(tmp_path_factory: pytest.TempPathFactory) -> CompiledTopic:
    path = Path(tmp_path_factory.mktemp("topic")) / "widgets.yaml"
    path.write_text(TOPIC, encoding="utf-8")
    return compile_topic(load_topic(path), ["en"])


def verdict(topic: CompiledTopic, title: str, body: str = "", home: str | None = None) -> Verdict:
    return topic.evaluate(make_zones(title, "", body, "en"), "en", Countries(home))


def rules_met(v: Verdict) -> set[str]:
    return {h.rule for h in v.hits}


def test_story_countries(topic: CompiledTopic) -> None:
    """A widget merger is cooperation in a story naming two countries, not a domestic one."""
    assert not verdict(topic, "Widget makers agree on a merger").tagged
    both = verdict(topic, "Widget makers of Azerbaijan and Kazakhstan agree on a merger")
    assert both.tagged and rules_met(both) == {"deal"}
    # The outlet's own country counts as the second, once the story names another.
    assert verdict(topic, "Kazakhstan widget makers agree on a merger", home="AZ").tagged
    assert not verdict(topic, "Kazakhstan widget makers agree on a merger").tagged


def test_anywhere(topic: CompiledTopic) -> None:
    """A foreign party named anywhere in the story, without its country, will do too."""
    v = verdict(topic, "Widget makers agree on a merger", "The partner is a foreign firm.")
    assert v.tagged and rules_met(v) == {"deal_abroad"}


def test_national_and_countries(topic: CompiledTopic) -> None:
    """A fair by a country's name, in a sentence naming another country or a city."""
    assert rules_met(verdict(topic, "Uzbek widget week opens in Baku")) == {"fair_abroad"}
    # The country's name must be by the fair, not elsewhere in the sentence.
    assert not verdict(topic, "In Baku, a widget week opens with Uzbek guests").tagged
    # Two countries are needed: the fair's own and another.
    assert not verdict(topic, "Uzbek widget week opens").tagged


def test_strength_and_conditions_on_a_rule_without_the_subject(topic: CompiledTopic) -> None:
    """A rule may start with any concept; its strength scales what its meeting is worth."""
    title = "Branch opens in Tashkent"
    assert verdict(topic, title).score == 0.0  # no costs anywhere
    weak = verdict(topic, title, "Costs are shared.")
    assert rules_met(weak) == set() and weak.score == pytest.approx(1.5 / 4.5, abs=1e-3)


def test_unless(topic: CompiledTopic) -> None:
    """A rule does not apply to a story naming one of its ``unless`` concepts."""
    assert verdict(topic, "Widget pact signed").tagged
    assert not verdict(topic, "Widget pact signed", "Mere gossip, say the makers.").tagged


def test_a_sentence_is_as_strong_as_its_strongest_terms(topic: CompiledTopic) -> None:
    """A weak term met first does not make the sentence weak when a strong one follows."""
    v = verdict(topic, "Widget talks end in a pact")
    assert v.hits[0].strength == 1.0 and v.score == 0.5


def test_one_sentence_counts_once_at_its_strongest_rule(topic: CompiledTopic) -> None:
    v = verdict(topic, "Azerbaijan widget makers plan a foreign joint venture with Kazakhstan")
    assert len(v.hits) == 1 and v.hits[0].rule == "deal"  # both deal rules met: listed once
    assert v.score == 0.5  # one title meeting: 3 / (3 + 3)


def test_a_dateline_is_not_the_lead(topic: CompiledTopic) -> None:
    """Without a lead, the body's first sentence weighs as one; a dateline before it ("TASHKENT,
    5 May.") does not take its place."""
    news = "Widget makers of Azerbaijan and Kazakhstan agree on a merger."
    assert verdict(topic, "News", news).score == 0.5  # the lead: 3 / (3 + 3)
    assert verdict(topic, "News", "TASHKENT, 5 May. " + news).score == 0.5
    later = "The day began with rain in the capital. " + news
    assert verdict(topic, "News", later).score == pytest.approx(1 / 4)  # the body: 1 / (1 + 3)


def test_only_the_concepts_rules_start_with_open_the_look(topic: CompiledTopic) -> None:
    """A story naming none of the concepts rules start with (widget, branch) ends after one
    pass, however many other concepts' terms it names."""
    gate = topic.lexicons("en").gate
    assert gate.find("a widget") and gate.find("a branch")
    assert not gate.find("a foreign merger: costs, talks and gossip")
    v = verdict(topic, "Foreign merger talks", "Costs of the merger of Baku and Tashkent firms.")
    assert v == Verdict("widgets", 0.0, False)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("rules: {x: {concepts: [widget, nothing]}}", "rules.x: no concept 'nothing'"),
        ("rules: {x: {concepts: [widget], anywhere: [nothing]}}", "no concept 'nothing'"),
        ("rules: {x: {concepts: [widget], unless: [nothing]}}", "no concept 'nothing'"),
        ("rules: {x: {concepts: [widget], national: deal}}", "national: 'deal' is not one of"),
        ("rules: {x: {concepts: [widget], unless_outweighs: deal}}", "needs an unless list"),
        ("rules: {x: {concepts: [widget], unless: [deal], unless_outweighs: no}}", "no concept"),
        ("rules: {x: {concepts: [widget], adjacent: sometimes}}", "adjacent"),
        ("rules: {x: {concepts: []}}", "concepts"),
        ("rules: {x: {concepts: [widget], strength: 2}}", "strength"),
        ("rules: {X-1: {concepts: [widget]}}", "lower-case letters"),
    ],
)
def test_bad_rules_are_explained(tmp_path: Path, rules: str, message: str) -> None:
    head = TOPIC.split("rules:")[0]
    path = tmp_path / "topic.yaml"
    path.write_text(head + rules + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_topic(path)
    assert str(path) in str(caught.value)


def test_without_rules_every_concept_meets(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(TOPIC.split("rules:")[0], encoding="utf-8")
    plain = compile_topic(load_topic(path), ["en"])
    assert [r.concepts for r in plain.topic.meeting_rules] == [
        ("widget", "deal", "fair", "branch", "foreign", "costs", "gossip", "weakdeal")
    ]


# --- one pass per zone: each concept found only where the union of all found something --------

EVAL = Path(__file__).parents[1] / "eval" / "dev"


def test_find_within_the_union_finds_what_find_finds() -> None:
    """For every built-in concept and every dev article, looking a concept up only inside the
    spans the union of all concepts found gives exactly what a scan of the whole text gives."""
    tagger = build_tagger()
    (topic,) = tagger.topics
    checked = 0
    for path in sorted(EVAL.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            article = json.loads(line)
            language = article["lang"]
            lexicons = topic.lexicons(language)
            for zone in make_zones(article["title"], "", article["text"], language):
                spans = [(f.start, f.end) for f in lexicons.union.find(zone.norm)]
                starts = word_starts(zone.norm, spans)  # found once for every concept
                for _, lexicon in lexicons.concepts:
                    whole = lexicon.find(zone.norm)
                    assert lexicon.find_within(zone.norm, spans) == whole
                    assert lexicon.find_within(zone.norm, spans, starts) == whole
                    checked += 1
    assert checked > 5000
