"""The rule tagger: language, topics, countries and evidence for one document."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.models import Evidence, Tagging
from monitor.tag.countries import CITY_KIND, CountryFinder, CountryMention
from monitor.tag.language import LanguageDetector
from monitor.tag.matcher import CompiledTopic, Zone, make_zones
from monitor.tag.participants import ParticipantRules, participants


@dataclass(frozen=True)
class TagInput:
    """What the tagger reads of an article."""

    title: str
    text: str  # article body (plain text, paragraphs separated by blank lines)
    lead: str = ""  # feed summary / first paragraph; weighs more than the body
    language: str | None = None  # the source's declared language, a prior only
    country: str | None = None  # the source's country: the one "both countries" includes


@dataclass(frozen=True)
class _Countries:
    """Country mentions per zone of one document, looked up once and only when needed."""

    finder: CountryFinder
    language: str | None
    home: str | None = None  # the outlet's country, or the language pack's
    cache: dict[str, list[CountryMention]] = field(default_factory=dict)

    def mentions(self, zone: Zone) -> list[CountryMention]:
        if zone.name not in self.cache:
            self.cache[zone.name] = self.finder.find(zone.norm, self.language)
        return self.cache[zone.name]

    def codes(self, zone: Zone) -> list[tuple[int, str]]:
        return [(m.start, m.code) for m in self.mentions(zone)]

    def names(self, zone: Zone) -> list[tuple[int, int]]:
        return [(m.start, m.end) for m in self.mentions(zone) if m.kind != CITY_KIND]


@dataclass(frozen=True)
class RuleTagger:
    """Compiled topics, country tables and a language detector. Picklable; ``tag`` is pure."""

    topics: tuple[CompiledTopic, ...]
    countries: CountryFinder
    detector: LanguageDetector
    parties: ParticipantRules = field(default_factory=ParticipantRules)

    @property
    def languages(self) -> tuple[str, ...]:
        return self.detector.languages

    def prepare(self, languages: Iterable[str | None]) -> None:
        """Compile now what tagging texts in ``languages`` needs (each lexicon's regex, the
        language model) rather than on the first such text, in the middle of a cycle."""
        self.detector.load()
        for language in set(languages):
            lexicons = [self.countries.lexicon(language)]
            cues = self.parties.for_language(language).lexicon
            lexicons += [cues] if cues is not None else []
            for topic in self.topics:
                lexicons.extend(topic.lexicons(language).all())
            for lexicon in lexicons:
                _ = lexicon.pattern  # compiled once, kept on the lexicon

    def tag(self, doc: TagInput) -> Tagging:
        sample = "\n".join(part for part in (doc.title, doc.lead, doc.text) if part)
        language = self.detector.detect(sample, doc.language)
        zones = make_zones(doc.title, doc.lead, doc.text, language)
        home = doc.country or self.parties.for_language(language).home
        countries = _Countries(self.countries, language, home)
        verdicts = [t.evaluate(zones, language, countries) for t in self.topics]
        tagged = sorted((v for v in verdicts if v.tagged), key=lambda v: -v.score)
        if not tagged:
            return Tagging(language=language)
        return Tagging(
            topics=tuple(v.topic for v in tagged),
            score=tagged[0].score,
            aspects=tuple(dict.fromkeys(a for v in tagged for a in v.aspects)),
            countries=participants(
                zones,
                tagged,
                {zone.name: countries.mentions(zone) for zone in zones},
                self.parties.for_language(language),
                self.countries,
                language,
                doc.country,
            ),
            evidence=_merge_evidence(v.evidence for v in tagged),
            language=language,
        )


def _merge_evidence(groups: Iterable[tuple[Evidence, ...]]) -> tuple[Evidence, ...]:
    return tuple(dict.fromkeys(e for group in groups for e in group))
