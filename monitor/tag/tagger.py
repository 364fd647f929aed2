"""The rule tagger: language, topics, countries and evidence for one document."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.models import Evidence, Tagging
from monitor.tag.countries import CountryFinder
from monitor.tag.language import LanguageDetector
from monitor.tag.matcher import CompiledTopic, Verdict, Zone, make_zones

ZONE_WEIGHTS = {"title": 3.0, "lead": 2.0, "body": 1.0}
IN_MEETING_BONUS = 1.0  # a country named where the concepts met, or in a list of countries
MIN_COUNTRY_WEIGHT = 2.0  # e.g. named in the title, or twice in the body


@dataclass(frozen=True)
class TagInput:
    """What the tagger reads of an article."""

    title: str
    text: str  # article body (plain text, paragraphs separated by blank lines)
    lead: str = ""  # feed summary / first paragraph; weighs more than the body
    language: str | None = None  # the source's declared language, a prior only


@dataclass(frozen=True)
class _Countries:
    """Country mentions per zone of one document, looked up once and only when needed."""

    finder: CountryFinder
    language: str | None
    cache: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def codes(self, zone: Zone) -> list[tuple[int, str]]:
        if zone.name not in self.cache:
            found = self.finder.find(zone.norm, self.language)
            self.cache[zone.name] = [(m.start, m.code) for m in found]
        return self.cache[zone.name]


@dataclass(frozen=True)
class RuleTagger:
    """Compiled topics, country tables and a language detector. Picklable; ``tag`` is pure."""

    topics: tuple[CompiledTopic, ...]
    countries: CountryFinder
    detector: LanguageDetector

    @property
    def languages(self) -> tuple[str, ...]:
        return self.detector.languages

    def tag(self, doc: TagInput) -> Tagging:
        sample = "\n".join(part for part in (doc.title, doc.lead, doc.text) if part)
        language = self.detector.detect(sample, doc.language)
        zones = make_zones(doc.title, doc.lead, doc.text, language)
        countries = _Countries(self.countries, language)
        verdicts = [t.evaluate(zones, language, countries) for t in self.topics]
        tagged = sorted((v for v in verdicts if v.tagged), key=lambda v: -v.score)
        if not tagged:
            return Tagging(language=language)
        return Tagging(
            topics=tuple(v.topic for v in tagged),
            score=tagged[0].score,
            aspects=tuple(dict.fromkeys(a for v in tagged for a in v.aspects)),
            countries=_participants(zones, tagged, countries),
            evidence=_merge_evidence(v.evidence for v in tagged),
            language=language,
        )


def _participants(
    zones: tuple[Zone, ...], verdicts: list[Verdict], countries: _Countries
) -> tuple[str, ...]:
    """Countries taking part: named in the title or lead, where the concepts met, in a sentence
    listing countries, or more than once; in order of first mention. When none qualifies, every
    country named."""
    weight: dict[str, float] = {}
    order: list[str] = []
    for zone in zones:
        spans = [h.span for v in verdicts for h in v.hits if h.zone == zone.name]
        spans += [span for v in verdicts for name, span in v.pair_sentences if name == zone.name]
        for offset, code in countries.codes(zone):
            inside = any(s <= offset < e for s, e in spans)
            gain = ZONE_WEIGHTS[zone.name] + (IN_MEETING_BONUS if inside else 0.0)
            weight[code] = weight.get(code, 0.0) + gain
            if code not in order:
                order.append(code)
    kept = [code for code in order if weight[code] >= MIN_COUNTRY_WEIGHT]
    return tuple(kept or order)


def _merge_evidence(groups: Iterable[tuple[Evidence, ...]]) -> tuple[Evidence, ...]:
    return tuple(dict.fromkeys(e for group in groups for e in group))
