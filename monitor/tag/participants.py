"""Which of the countries named in a tagged story take part in it.

A country counts by where it is named (title 3, lead 2, body 1) plus a bonus where the concepts
met; it takes part from a weight of 2 (the title, or twice in the body). When the headline names
two or more parties, others must weigh twice that to join them: a country named once in passing
(a buyer among seventeen, a comparison) is not a party of the story the headline tells. Where
two parties stand out (a weight of 5) without the headline naming both, a country named once
beside them, even where the concepts met, is an example (a filming location, an actor's
country), not a third party.
Language packs add cues (``countries: cues:`` in ``lang/<code>.yaml``) for mentions that name a
country without making it a party:

- ``background``: a sentence opening with "Earlier," / "Ранее" / "For example," recounts older
  news or another case, whose countries do not count;
- ``roles``: a nationality next to a person, or a word before it ("the Syrian director", "the
  British veteran director", "regista siriano"), is not a party;
- ``prospect``: a sentence with "in the future" / "в будущем" / "gələcəkdə" names partners that
  may join later; its countries do not count;
- ``venue`` / ``venue_after`` / ``venue_suffixes``: "in China", "Çində", "پاکستان میں" name the
  place, which counts as a plain mention, without the meeting bonus.

A name inside quotation marks is a title («Qızıl qatar», "Ali and Nino"), not a party; a film
body inside them («Қазақфильм») still is. A country's name that only places one of its cities
("Cannes, France", "Fransanın Kann şəhərində") counts as the city does.

Cities count half their country's name when they name a party ("the Baku and Tbilisi film
schools", "Tbilisi Film Academy"), never as the venue ("signed in Cannes", "Bakıda"), the dateline
that opens a report ("BAKU, Nov 24 -") or the name of an event held there (``events``: "the
Cannes festival", "Berlin film festival").

Two cues add a party that is not named:

- ``own``: "both countries", "iki ölkənin", "nel nostro Paese" make the outlet's home country a
  party (the source's ``country``, or the pack's ``home`` for the language) when fewer than two
  countries were found;
- cooperation needs two parties, so when one country qualifies, the next best one named as a
  country (not only by a city, not only as the venue) joins it; unless a rule that tagged the
  story is one whose other party is unnamed by nature (``one_party``: a cash rebate for
  whoever films in the country, a national pavilion at a festival), where the countries named
  beside it are examples, the venue or the market, not a party.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from monitor.tag.countries import BODY_KIND, CITY_KIND, CountryFinder, CountryMention
from monitor.tag.matcher import Verdict, Zone
from monitor.tag.normalize import normalize
from monitor.tag.packs import LanguagePack
from monitor.tag.terms import Found, Lexicon, compile_lexicon, parse_term, variants

ZONE_WEIGHTS = {"title": 3.0, "lead": 2.0, "body": 1.0}
IN_MEETING_BONUS = 1.0  # a country named where the concepts met, or in a list of countries
MIN_COUNTRY_WEIGHT = 2.0  # e.g. named in the title, or twice in the body
LONE_PARTY = 1.0  # weight a country needs to join a lone party
ROLE_GAP = 1  # words that may stand between a nationality and a role ("British veteran director")
TITLE_PARTIES = 4.0
STRONG_PARTY = 5.0  # e.g. named in the headline and where the concepts met in the body
FUND = "EU"  # Eurimages, Creative Europe: a fund of the co-producers the story lists
EVENT_WORDS = 3  # an event's word this near after a city makes the city its name
CITY_SHARE = 0.5  # a city counts half its country's name, without the meeting bonus
_CUE_KINDS = ("own", "background", "prospect", "roles", "venue", "venue_after", "events")
_DATELINE_END = ",-–—:(/"  # what follows a city that opens a report: "BAKU, Nov 24 -"
_OPENING_PUNCTUATION = " \t\n\"'«»“”„(-–—*•"


@dataclass(frozen=True)
class CueSet:
    """One language's cues, compiled."""

    home: str | None = None
    lexicon: Lexicon | None = None
    venue_suffixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParticipantRules:
    """Cues by language, from the language packs. Picklable."""

    cues: Mapping[str, CueSet] = field(default_factory=dict)

    def for_language(self, language: str | None) -> CueSet:
        return self.cues.get(language or "", CueSet())


def load_participant_rules(packs: Sequence[LanguagePack]) -> ParticipantRules:
    """Merge the packs' cues per language (a user pack adds to the built-in one; its ``home``,
    if given, wins)."""
    homes: dict[str, str | None] = {}
    terms: dict[str, list[tuple[str, str]]] = {}
    suffixes: dict[str, list[str]] = {}
    for pack in packs:
        language = pack.language
        if pack.home:
            homes[language] = pack.home
        homes.setdefault(language, None)
        for kind in _CUE_KINDS:
            terms.setdefault(language, []).extend((t, kind) for t in getattr(pack.cues, kind))
        suffixes.setdefault(language, []).extend(
            normalize(s, language) for s in pack.cues.venue_suffixes
        )
    cues: dict[str, CueSet] = {}
    for language, home in homes.items():
        entries = [
            (parse_term(spelling, language), kind)
            for text, kind in terms.get(language, [])
            for spelling in variants(text, language)
        ]
        cues[language] = CueSet(
            home=home,
            lexicon=compile_lexicon(entries) if entries else None,
            venue_suffixes=tuple(
                sorted({s for s in suffixes.get(language, []) if s}, key=len, reverse=True)
            ),
        )
    return ParticipantRules(cues)


@dataclass(frozen=True)
class _ZoneCues:
    found: list[Found]

    def of(self, kind: str) -> list[Found]:
        return [f for f in self.found if kind in f.labels]


def participants(
    zones: tuple[Zone, ...],
    verdicts: Iterable[Verdict],
    mentions: Mapping[str, list[CountryMention]],
    cues: CueSet,
    finder: CountryFinder,
    language: str | None,
    home: str | None = None,
) -> tuple[str, ...]:
    """Countries taking part, in order of first mention (an unnamed home country last).

    ``mentions`` maps a zone's name to the countries named in it; ``home`` is the source's
    country, which overrides the pack's."""
    verdicts = list(verdicts)
    alone = any(v.one_party for v in verdicts)
    weight: dict[str, float] = {}
    order: list[str] = []
    by_city: dict[str, None] = {}  # codes counted through a city, in order
    named: dict[str, float] = {}  # weight of the mentions by name that are not the venue
    in_title: set[str] = set()  # named in the headline, not as the venue
    own = False
    for zone in zones:
        found = _ZoneCues(cues.lexicon.find(zone.norm) if cues.lexicon else [])
        own = own or bool(found.of("own"))
        spans = [h.span for v in verdicts for h in v.hits if h.zone == zone.name]
        spans += [span for v in verdicts for name, span in v.pair_sentences if name == zone.name]
        background = _background_sentences(zone, found.of("background"))
        background += _sentences_with(zone, found.of("prospect"))
        zone_mentions = mentions.get(zone.name, [])
        quoted = _quoted(zone.text)
        for mention in zone_mentions:
            city = mention.kind == CITY_KIND
            if not city and _names_a_city(zone.norm, mention, zone_mentions):
                continue  # "Fransanın Kann şəhərində", "Cannes, France": the city's place
            if mention.code not in order and not city:
                order.append(mention.code)
            weight.setdefault(mention.code, 0.0)
            if (
                _in_any(mention.start, background)
                or _next_to(zone.norm, mention, found.of("roles"), words=ROLE_GAP)
                or (mention.kind != BODY_KIND and _in_any(mention.start, quoted))
            ):
                continue
            gain = ZONE_WEIGHTS[zone.name]
            venue = _is_venue(zone.norm, mention, found, cues, finder, language)
            if city:
                # A city stands for its country's party less surely than the country's name,
                # and the venue, the dateline or an event's name not at all.
                named_event = _names_event(zone, mention, found.of("events"))
                if not (venue or named_event or _is_dateline(zone.norm, mention)):
                    weight[mention.code] += gain * CITY_SHARE
                    by_city.setdefault(mention.code, None)
                continue
            if not venue and _in_any(mention.start, spans):
                gain += IN_MEETING_BONUS
            weight[mention.code] += gain
            if zone.name == "title" and not venue and mention.code != FUND:
                in_title.add(mention.code)  # (Eurimages funds parties the body lists)
            if not venue:
                named[mention.code] = named.get(mention.code, 0.0) + gain
    # Countries named come first, in order; those named only by a city after them.
    order += [code for code in by_city if code not in order]
    kept = [code for code in order if weight[code] >= MIN_COUNTRY_WEIGHT]
    if sum(1 for c in kept if weight[c] >= STRONG_PARTY and c != FUND) >= 2:
        # Two parties stand out: a country named once beside them, even where the concepts
        # met, is an example (a filming location, a cast member's country), not a third party.
        # Eurimages (EU) neither counts among the two nor is dropped: it funds the co-producers
        # the story lists, however briefly it is named.
        kept = [c for c in kept if weight[c] > MIN_COUNTRY_WEIGHT or c == FUND]
    if len(in_title) >= 2:
        # The headline names the parties: others must be named as much to join them.
        kept = [c for c in kept if c in in_title or weight[c] >= TITLE_PARTIES]
    home = home or cues.home
    if own and home and home not in kept and len(kept) < 2:
        kept.append(home)
    if len(kept) == 1 and not alone:
        # Cooperation needs two parties: the next best named country joins a lone one, if it
        # is named as a country (not only by a city, not only as the venue) outside the
        # background.
        others = [c for c in order if c not in kept and named.get(c, 0.0) >= LONE_PARTY]
        if others:
            kept.append(max(others, key=lambda c: (weight[c], -order.index(c))))
    if kept:
        return tuple(kept)
    return tuple(c for c in order if weight[c] > 0) or tuple(order)


def _in_any(offset: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(s <= offset < e for s, e in spans)


def _background_sentences(zone: Zone, cues: list[Found]) -> list[tuple[int, int]]:
    """Sentences that open with a background cue."""
    if not cues:
        return []
    out: list[tuple[int, int]] = []
    for start, end in zone.sentences():
        for cue in cues:
            if start <= cue.start < end and not zone.norm[start : cue.start].strip(
                _OPENING_PUNCTUATION
            ):
                out.append((start, end))
                break
    return out


def _sentences_with(zone: Zone, cues: list[Found]) -> list[tuple[int, int]]:
    """Sentences holding a cue anywhere."""
    return [
        (start, end)
        for start, end in zone.sentences()
        if any(start <= cue.start < end for cue in cues)
    ]


def _names_event(zone: Zone, mention: CountryMention, cues: list[Found]) -> bool:
    """A city naming an event held there: an events cue right after it, or after one or two
    words more ("Cannes film festival", "Kann 66-cı beynəlxalq kinofestivalı")."""
    last = zone.word_index(max(mention.start, mention.end - 1))
    return any(
        cue.start >= mention.end and zone.word_index(cue.start) - last <= EVENT_WORDS
        for cue in cues
    )


def _names_a_city(text: str, mention: CountryMention, mentions: list[CountryMention]) -> bool:
    """A country's name that only places one of its cities: right before it ("Fransanın Kann
    şəhərində", "France's Cannes") or after it and a comma ("Cannes, France")."""
    for other in mentions:
        if other.kind != CITY_KIND or other.code != mention.code:
            continue
        if other.start >= mention.end:
            if not text[mention.end : other.start].strip():
                return True
        elif text[other.end : mention.start].strip() == ",":
            return True
    return False


def _is_dateline(text: str, mention: CountryMention) -> bool:
    """A city opening the zone and followed by a comma or a dash: the report's dateline."""
    before = text[: mention.start].strip(_OPENING_PUNCTUATION)
    after = text[mention.end : mention.end + 3].lstrip()
    return not before and after[:1] in _DATELINE_END


def _next_to(text: str, mention: CountryMention, cues: list[Found], words: int = 0) -> bool:
    """Whether a cue is the word right before or right after the mention, or ``words`` words
    after it ("the British veteran director")."""
    for cue in cues:
        if cue.end <= mention.start and not text[cue.end : mention.start].strip():
            return True
        if cue.start >= mention.end and len(text[mention.end : cue.start].split()) <= words:
            return True
    return False


_QUOTES = re.compile(r"«[^«»\n]{1,80}»|“[^“”\n]{1,80}”|„[^„“”\n]{1,80}[“”]|\"[^\"\n]{1,80}\"")


def _quoted(text: str) -> list[tuple[int, int]]:
    """Spans in quotation marks: a film's or a programme's title («Qızıl qatar», "Ali and
    Nino"), whose country names name no party. (Zones' normalised text keeps the offsets.)"""
    return [m.span() for m in _QUOTES.finditer(text)]


def _is_venue(
    text: str,
    mention: CountryMention,
    found: _ZoneCues,
    cues: CueSet,
    finder: CountryFinder,
    language: str | None,
) -> bool:
    before = [c for c in found.of("venue") if c.end <= mention.start]
    if before and _next_to(text, mention, before[-1:]):
        return True
    after = [c for c in found.of("venue_after") if c.start >= mention.end]
    if after and _next_to(text, mention, after[:1]):
        return True
    surface = text[mention.start : mention.end]
    for suffix in cues.venue_suffixes:
        if not surface.endswith(suffix) or len(surface) <= len(suffix) + 2:
            continue
        if mention.kind == CITY_KIND:
            return True  # "ბერლინში", "Bakıda": no country name hides a city's suffix
        # The name without the suffix must still be the same country ("Çində" is Çin + də,
        # "Kanada" is not Kana + da).
        base = surface[: len(surface) - len(suffix)].rstrip("'")
        named = finder.find(base, language)
        if any(m.code == mention.code and m.start == 0 and m.end == len(base) for m in named):
            return True
    return False
