"""A topic compiled for matching, and its verdict on one document.

The document is split into zones (title, lead, body), each normalised once. For a topic, each of
its rules names concepts that must meet; a concept's lexicon runs over every zone the first time a
rule asks for it, and a rule whose concept is missing altogether is dropped at once. Most stories
name no film at all: they cost a regex pass or two per zone.

Otherwise the rule's *meetings* are looked for: places where all its concepts occur in one
sentence, or within ``window`` words (a meeting may then straddle a sentence break), and where the
rule's conditions hold (its sentences name enough countries; a country's name is right by its first
concept). Each sentence that closes a meeting of any rule adds its zone's weight to the story's
evidence, once, at the strength of its strongest rule. Two weaker signals add to
it when the topic asks for them: the title naming the subject (the first concept), and a sentence
that names the subject and two or more countries (``country_pair``, a fraction of a meeting,
capped at half a title). The body's share is diluted in long articles, where a few meetings are a
passing mention. ``score = evidence / (evidence + half_score)``; at least one meeting is needed.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from monitor.models import Evidence
from monitor.tag.normalize import (
    WORD,
    clean,
    fold,
    has_paragraph_break,
    sentence_index,
    sentence_spans,
)
from monitor.tag.rules import ALL, LanguageTable, Rule, Topic
from monitor.tag.terms import (
    WEAK,
    Found,
    Lexicon,
    Term,
    compile_lexicon,
    is_weak,
    parse_term,
    variants,
    word_starts,
)

EXCLUDE = "-"
WEAK_STRENGTH = 0.5  # what a meeting made with a weak term (~partners) is worth
EVIDENCE_CHARS = 300
MAX_EVIDENCE = 8
LONG_ARTICLE = 25  # body sentences beyond which the body's evidence is diluted
MIN_ASPECT_WEIGHT = 2.0  # an aspect named in the title, in a meeting, or twice in the body
NATIONAL_WORDS = 1  # how near a "national" rule's concept a country's name must be: next to it
POSSESSIVE = re.compile(r"['’]s\b")  # English possessive after a name: Kazakhstan's
SUBJECT_SENTENCES = 2  # a title without the subject is made up for by at least this many sentences
DATELINE_WORDS = 4  # at most this many words, with a number or in capitals: a dateline


class CountryLookup(Protocol):
    @property
    def home(self) -> str | None:
        """The outlet's country: a party of its story that the story need not name."""
        ...

    def codes(self, zone: Zone) -> list[tuple[int, str]]:
        """(offset, ISO code) of the countries and cities named in a zone's normalised text."""
        ...

    def names(self, zone: Zone) -> list[tuple[int, int]]:
        """(start, end) of the countries' names and adjectives in a zone (not cities)."""
        ...


@dataclass(frozen=True)
class Zone:
    """One part of a document: display text and its folded form (same length)."""

    name: str
    text: str
    norm: str
    _sentences: list[tuple[int, int]] = field(default_factory=list, compare=False, repr=False)
    _word_starts: list[int] = field(default_factory=list, compare=False, repr=False)

    def sentences(self) -> list[tuple[int, int]]:
        """Sentence spans, computed on first use (a negative story never needs them)."""
        if not self._sentences:
            self._sentences.extend(sentence_spans(self.text) or [(0, len(self.text))])
        return self._sentences

    def word_index(self, offset: int) -> int:
        if not self._word_starts:
            self._word_starts.extend([m.start() for m in WORD.finditer(self.norm)])
        return bisect_right(self._word_starts, offset)


def make_zones(title: str, lead: str, body: str, language: str | None) -> tuple[Zone, ...]:
    zones = []
    for name, raw in (("title", title), ("lead", lead), ("body", body)):
        text = clean(raw or "")
        if text.strip():
            zones.append(Zone(name, text, fold(text, language)))
    return tuple(zones)


@dataclass(frozen=True)
class Lexicons:
    """A topic's lexicons for one language."""

    concepts: tuple[tuple[str, Lexicon], ...]
    aspects: Lexicon
    union: Lexicon  # every concept's terms in one lexicon, found once per zone
    gate: Lexicon  # the terms of the concepts rules start with: without one, no rule can meet

    def all(self) -> tuple[Lexicon, ...]:
        return (*(lexicon for _, lexicon in self.concepts), self.aspects, self.union, self.gate)


@dataclass(frozen=True)
class Hit:
    """A meeting of all concepts: the sentences it spans and the terms that met."""

    zone: str
    span: tuple[int, int]  # from the start of its first sentence to the end of its last
    found: tuple[tuple[str, Found], ...]  # (concept, term found)
    strength: float = 1.0  # WEAK_STRENGTH when a concept met only through weak terms
    rule: str = ""  # the rule whose concepts met (the strongest, where several did)


@dataclass(frozen=True)
class Verdict:
    topic: str
    score: float
    tagged: bool
    hits: tuple[Hit, ...] = ()
    aspects: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    pair_sentences: tuple[tuple[str, tuple[int, int]], ...] = ()  # (zone, span)
    one_party: bool = False  # a rule met whose other party is unnamed by nature (see Rule)


@dataclass(frozen=True)
class CompiledTopic:
    """A topic's terms compiled per language. Picklable."""

    topic: Topic
    by_language: Mapping[str, Lexicons]
    fallback: Lexicons  # terms under "all" only, for other languages

    def lexicons(self, language: str | None) -> Lexicons:
        return self.by_language.get(language or "", self.fallback)

    def evaluate(
        self, zones: tuple[Zone, ...], language: str | None, countries: CountryLookup
    ) -> Verdict:
        topic = self.topic
        compiled = self.lexicons(language)
        # Every rule starts with a concept most stories never name (film, a pavilion, a film
        # school, a broadcaster...): one pass for those ends the look at most stories.
        if not any(_kept(compiled.gate.find(z.norm)) for z in zones):
            return Verdict(topic.id, 0.0, False)
        # One pass over each zone finds where any concept's terms are; each concept is then
        # looked for only there (Lexicon.find_within).
        spans = {z.name: [(f.start, f.end) for f in compiled.union.find(z.norm)] for z in zones}
        starts = {z.name: word_starts(z.norm, spans[z.name]) for z in zones}
        lexicons = dict(compiled.concepts)
        found: dict[str, dict[str, list[Found]]] = {}

        def present(concept: str) -> bool:
            """Looks the concept up in every zone on first use; is it anywhere?"""
            if concept not in found:
                lexicon = lexicons[concept]
                found[concept] = {
                    z.name: _kept(lexicon.find_within(z.norm, spans[z.name], starts[z.name]))
                    for z in zones
                }
            return any(found[concept].values())

        hits: list[Hit] = []
        one_party = False  # also where a stronger rule met in the same sentence
        meetings: dict[tuple[str, tuple[str, ...], int | None], list[Hit]] = {}
        for rule in topic.meeting_rules:
            # all() stops at the first concept missing: most stories cost one look-up.
            if not all(present(c) for c in (*rule.concepts, *rule.anywhere)):
                continue
            vetoes = [c for c in rule.unless if present(c)]
            if vetoes and (
                rule.unless_outweighs is None
                or not present(rule.unless_outweighs)
                or _count(found, vetoes) >= _count(found, [rule.unless_outweighs])
            ):
                continue  # the story is about what the rule must not be about
            if rule.story_countries and rule.story_countries > _story_countries(zones, countries):
                continue
            window = rule.window or topic.window
            for zone in zones:
                # Rules of the same concepts (with other conditions) share their meetings.
                key = (zone.name, rule.concepts, window)
                if key not in meetings:
                    terms = {c: found[c][zone.name] for c in rule.concepts}
                    meetings[key] = _zone_hits(zone, terms, topic.same_sentence, window)
                met = [
                    replace(hit, rule=rule.name, strength=hit.strength * rule.strength)
                    for hit in meetings[key]
                    if _holds(rule, zone, hit, countries, zones)
                    and not _names_any(hit, (found[c][zone.name] for c in vetoes))
                ]
                one_party = one_party or (rule.one_party and bool(met))
                hits.extend(met)
        if not hits:
            return Verdict(topic.id, 0.0, False)
        hits = _strongest_per_sentence(hits, [z.name for z in zones])
        subject_name = topic.concepts[0][0]
        present(subject_name)
        subject = found[subject_name]
        pairs = _pair_sentences(zones, subject, hits, countries) if topic.country_pair else []
        evidence = _evidence_weight(topic, zones, hits, pairs, subject)
        score = round(evidence / (evidence + topic.half_score), 3)
        if score < topic.threshold:
            return Verdict(topic.id, score, False)
        return Verdict(
            topic.id,
            score,
            True,
            tuple(hits),
            _aspects(compiled.aspects, zones, hits, topic.weights),
            _evidence(zones, hits),
            tuple(pairs),
            one_party,
        )


def compile_topic(topic: Topic, languages: Iterable[str]) -> CompiledTopic:
    by_language = {lang: _lexicons(topic, lang) for lang in sorted(set(languages))}
    return CompiledTopic(topic, by_language, _lexicons(topic, None))


def _lexicons(topic: Topic, language: str | None) -> Lexicons:
    exclude = list(_terms(topic.exclude, language, EXCLUDE))
    concepts = tuple(
        (name, compile_lexicon([*_terms(table, language, name), *exclude]))
        for name, table in topic.concepts
    )
    aspect_terms = [t for name, table in topic.aspects for t in _terms(table, language, name)]
    union = [t for name, table in topic.concepts for t in _terms(table, language, name)]
    first = {rule.concepts[0] for rule in topic.meeting_rules}
    gate = [
        t for name, table in topic.concepts if name in first for t in _terms(table, language, name)
    ]
    return Lexicons(
        concepts,
        compile_lexicon([*aspect_terms, *exclude]),
        compile_lexicon([*union, *exclude]),
        compile_lexicon([*gate, *exclude]),
    )


def _terms(table: LanguageTable, language: str | None, label: str) -> Iterable[tuple[Term, str]]:
    for key in (ALL, language) if language else (ALL,):
        for text in table.get(key or "", ()):
            tagged = label + WEAK if is_weak(text) else label
            for spelling in variants(text, language):
                yield parse_term(spelling, language), tagged


def _count(found: Mapping[str, Mapping[str, list[Found]]], concepts: Iterable[str]) -> int:
    """How many terms of ``concepts`` a story names, over its zones."""
    return sum(len(terms) for c in concepts for terms in found[c].values())


def _names_any(hit: Hit, terms: Iterable[list[Found]]) -> bool:
    """Whether a term of ``terms`` stands in the sentences where ``hit`` met."""
    start, end = hit.span
    return any(start <= f.start < end for found in terms for f in found)


def _kept(found: list[Found]) -> list[Found]:
    return [f for f in found if EXCLUDE not in f.labels]


def _zone_hits(
    zone: Zone, found: dict[str, list[Found]], same_sentence: bool, window: int | None
) -> list[Hit]:
    """Meetings of every concept of ``found`` in a zone, one per sentence that closes one."""
    if not all(found.values()):
        return []
    spans = zone.sentences()
    starts = [s for s, _ in spans]
    located = sorted(
        (
            (zone.word_index(f.start), f.start, concept, f)
            for concept, items in found.items()
            for f in items
        ),
        key=lambda item: item[:3],
    )
    needed = len(found)
    meetings: dict[int, tuple[int, dict[tuple[str, int], Found]]] = {}
    crossing: list[tuple[int, int, dict[str, Found]]] = []
    for i, (word, offset, _, _) in enumerate(located):
        first = sentence_index(starts, offset)
        met: dict[str, Found] = {}
        for other_word, other_offset, concept, f in located[i:]:
            last = sentence_index(starts, other_offset)
            same = last == first
            near = window is not None and other_word - word <= window
            if not (near or (same_sentence and same)):
                break
            if not same and has_paragraph_break(zone.text, offset, other_offset):
                break  # a meeting may cross a sentence break, not a paragraph break
            if concept not in met or _strength(concept, f) > _strength(concept, met[concept]):
                met[concept] = f
            if len(met) == needed:
                if same:
                    members = meetings.setdefault(last, (last, {}))[1]
                    members.update({(c, x.start): x for c, x in met.items()})
                else:
                    crossing.append((first, last, met))
                break
    # A sentence where the concepts met holds all its terms of them: its strength is that of
    # its strongest terms, wherever they stand in it.
    for index, (_, members) in meetings.items():
        start, end = spans[index]
        members.update({(c, f.start): f for _, o, c, f in located if start <= o < end})
    # A meeting across sentences counts only where its closing sentence has none of its own.
    for first, last, met in crossing:
        if last not in meetings:
            members = meetings.setdefault(last, (first, {}))[1]
            members.update({(c, x.start): x for c, x in met.items()})
    return [
        Hit(
            zone.name,
            (spans[low][0], spans[last][1]),
            tuple((c, f) for (c, _), f in sorted(members.items(), key=lambda m: m[1].start)),
            min(max(_strength(c, f) for (c, _), f in members.items() if c == n) for n in found),
        )
        for last, (low, members) in sorted(meetings.items())
    ]


def _story_countries(zones: tuple[Zone, ...], countries: CountryLookup) -> int:
    """How many countries a story names, the outlet's own counted when it names another one
    (an Azerbaijani outlet writing of a deal with Iran need not name Azerbaijan)."""
    named = {code for zone in zones for _, code in countries.codes(zone)}
    if named and countries.home:
        named.add(countries.home)
    return len(named)


def _named(zones: tuple[Zone, ...], countries: CountryLookup) -> set[str]:
    """The countries a story names (cities count)."""
    return {code for zone in zones for _, code in countries.codes(zone)}


def _holds(
    rule: Rule, zone: Zone, hit: Hit, countries: CountryLookup, zones: tuple[Zone, ...]
) -> bool:
    """The rule's conditions on a meeting: countries named in its sentences (the outlet's own
    counted with another one when the story names it: "Almaty's university signs with the New
    York Film Academy" in a Kazakh outlet), and a country's name right by its first concept."""
    if rule.countries:
        start, end = hit.span
        named = {code for offset, code in countries.codes(zone) if start <= offset < end}
        home = countries.home
        if named and home and home not in named and home in _named(zones, countries):
            named.add(home)
        if len(named) < rule.countries:
            return False
    if rule.adjacent and not _adjacent(zone, rule.concepts, hit):
        return False
    if rule.national:
        first = [f for concept, f in hit.found if concept == rule.national]
        names = countries.names(zone)
        if not any(_near(zone, f, name) for f in first for name in names):
            return False
    return True


def _adjacent(zone: Zone, concepts: tuple[str, ...], hit: Hit) -> bool:
    """Does a term of the first concept stand next to a term of each other concept?"""
    first = [f for concept, f in hit.found if concept == concepts[0]]
    return any(
        all(
            any(_near(zone, f, (g.start, g.end)) for concept, g in hit.found if concept == other)
            for other in concepts[1:]
        )
        for f in first
    )


def _near(zone: Zone, term: Found, name: tuple[int, int]) -> bool:
    """Is a country's name inside the term ("days of *Uzbek* cinema") or within
    :data:`NATIONAL_WORDS` words of it ("*Azərbaycan* film festivalı")? The name's last word
    counts as well as its first: "*Kazakhstan's* cinema days", "*South Korean* film week"."""
    low = zone.word_index(term.start) - NATIONAL_WORDS
    high = zone.word_index(max(term.start, term.end - 1)) + NATIONAL_WORDS
    first = zone.word_index(name[0])
    last = zone.word_index(max(name[0], name[1] - 1))
    if POSSESSIVE.match(zone.norm, name[1]):
        last += 1  # "'s" is a word of its own to word_index
    return first <= high and last >= low


def _strongest_per_sentence(hits: list[Hit], zone_order: list[str]) -> list[Hit]:
    """One hit per sentence closing a meeting: the strongest rule's, with every rule's terms."""
    best: dict[tuple[str, int], Hit] = {}
    for hit in hits:
        key = (hit.zone, hit.span[1])
        other = best.get(key)
        if other is None:
            best[key] = hit
            continue
        strong, weak = (hit, other) if hit.strength > other.strength else (other, hit)
        merged = tuple(dict.fromkeys((*strong.found, *weak.found)))
        span = (min(hit.span[0], other.span[0]), hit.span[1])
        best[key] = replace(strong, span=span, found=merged)
    return sorted(best.values(), key=lambda h: (zone_order.index(h.zone), h.span))


def _strength(concept: str, found: Found) -> float:
    return 1.0 if concept in found.labels else WEAK_STRENGTH


def _pair_sentences(
    zones: tuple[Zone, ...],
    subject: dict[str, list[Found]],
    hits: list[Hit],
    countries: CountryLookup,
) -> list[tuple[str, tuple[int, int]]]:
    """Sentences, outside meetings, that name the subject and two or more different countries."""
    out: list[tuple[str, tuple[int, int]]] = []
    for zone in zones:
        if not subject[zone.name]:
            continue
        spans = zone.sentences()
        starts = [s for s, _ in spans]
        taken = [h.span for h in hits if h.zone == zone.name]
        codes: dict[int, set[str]] = {}
        for offset, code in countries.codes(zone):
            codes.setdefault(sentence_index(starts, offset), set()).add(code)
        with_subject = {sentence_index(starts, f.start) for f in subject[zone.name]}
        for index in sorted(with_subject):
            span = spans[index]
            if len(codes.get(index, ())) >= 2 and not any(s <= span[0] < e for s, e in taken):
                out.append((zone.name, span))
    return out


def _evidence_weight(
    topic: Topic,
    zones: tuple[Zone, ...],
    hits: list[Hit],
    pairs: list[tuple[str, tuple[int, int]]],
    subject: dict[str, list[Found]],
) -> float:
    weights = topic.weights
    body = next((z for z in zones if z.name == "body"), None)
    sentences = body.sentences() if body else []
    dilution = min(1.0, LONG_ARTICLE / len(sentences)) if sentences else 1.0
    lead_end = (
        _lead_end(body, sentences) if body and not any(z.name == "lead" for z in zones) else -1
    )
    total = 0.0
    for hit in hits:
        if hit.zone != "body":
            total += weights[hit.zone] * hit.strength
        elif hit.span[1] <= lead_end:
            total += weights["lead"] * hit.strength
        else:
            total += weights["body"] * hit.strength * dilution
    pair_total = sum(
        weights[zone] * topic.country_pair * (dilution if zone == "body" else 1.0)
        for zone, _ in pairs
    )
    total += min(pair_total, weights["title"] / 2)
    return total + topic.subject_in_title * _subject_strength(
        zones, subject, topic.concepts[0][0], topic.subject_share
    )


def _lead_end(body: Zone, sentences: list[tuple[int, int]]) -> int:
    """Without a lead, the body's first sentence is the lead (news put the news first), or the
    first two when the first is only a dateline."""
    if not sentences:
        return -1
    start, end = sentences[0]
    if len(sentences) > 1 and _is_dateline(body.text[start:end]):
        return sentences[1][1]
    return end


def _is_dateline(sentence: str) -> bool:
    """A place and a date: a few words, with a number or in capitals ("BISHKEK, 16 September.",
    "Tashkent, 5 May."), unlike a short sentence of news ("Shares rose.")."""
    words = WORD.findall(sentence)
    if not words or len(words) > DATELINE_WORDS:
        return False
    return any(w.isdigit() for w in words) or (len(words[0]) > 2 and words[0].isupper())


def _subject_strength(
    zones: tuple[Zone, ...], subject: dict[str, list[Found]], concept: str, share: float
) -> float:
    """Is the story about the subject? 1 when the title names it with a strong term,
    WEAK_STRENGTH when only with weak ones (a weak term corroborates, it is not evidence). A title
    that does not name it ("Kazakhstan and Korea sign a memorandum") is made up for when at least
    ``share`` of the other sentences, and two or more, name it with a strong term: the subject
    runs through the story rather than passing through it. With a weak-only meeting in the title
    (title weight x WEAK_STRENGTH), the half bonus keeps the story below the threshold unless
    something else supports it."""
    found = subject.get("title", [])
    if found:
        return max(_strength(concept, f) for f in found)
    if not share:
        return 0.0
    total = naming = 0
    for zone in zones:
        if zone.name == "title":
            continue
        spans = zone.sentences()
        starts = [s for s, _ in spans]
        total += len(spans)
        naming += len(
            {sentence_index(starts, f.start) for f in subject[zone.name] if concept in f.labels}
        )
    return 1.0 if naming >= SUBJECT_SENTENCES and naming >= share * total else 0.0


def _aspects(
    lexicon: Lexicon, zones: tuple[Zone, ...], hits: list[Hit], weights: Mapping[str, float]
) -> tuple[str, ...]:
    """Aspects mentioned in the story, the most weighty first; a mention inside a meeting
    counts double."""
    totals: dict[str, float] = {}
    first: dict[str, tuple[int, int]] = {}
    for rank, zone in enumerate(zones):
        spans = sorted(h.span for h in hits if h.zone == zone.name)
        starts = [s for s, _ in spans]
        for f in _kept(lexicon.find(zone.norm)):
            n = bisect_right(starts, f.start)
            inside = n > 0 and f.start < max(e for _, e in spans[:n])
            for label in {x.rstrip(WEAK) for x in f.labels}:
                totals[label] = totals.get(label, 0.0) + weights[zone.name] * (2 if inside else 1)
                first.setdefault(label, (rank, f.start))
    kept = [a for a in totals if totals[a] >= MIN_ASPECT_WEIGHT]
    return tuple(sorted(kept, key=lambda a: (-totals[a], first[a])))


def _evidence(zones: tuple[Zone, ...], hits: list[Hit]) -> tuple[Evidence, ...]:
    texts = {z.name: z.text for z in zones}
    seen: set[tuple[str, str]] = set()
    out: list[Evidence] = []
    for hit in hits:
        text = texts[hit.zone]
        for concept, f in hit.found:
            term = text[f.start : f.end]
            key = (term.casefold(), concept)
            if key in seen:
                continue
            seen.add(key)
            out.append(Evidence(term, excerpt(text, hit.span, f), concept))
            if len(out) >= MAX_EVIDENCE:
                return tuple(out)
    return tuple(out)


def excerpt(text: str, span: tuple[int, int], found: Found, limit: int = EVIDENCE_CHARS) -> str:
    """The sentence, or about ``limit`` characters of it around the term, cut between words."""
    start, end = span
    if end - start <= limit:
        return " ".join(text[start:end].split())
    half = (limit - (found.end - found.start)) // 2
    lo = max(start, found.start - half)
    hi = min(end, lo + limit)
    lo = max(start, hi - limit)
    if lo > start:
        cut = text.find(" ", lo, found.start)
        lo = cut + 1 if cut != -1 else lo
    if hi < end:
        cut = text.rfind(" ", found.end, hi)
        hi = cut if cut != -1 else hi
    body = " ".join(text[lo:hi].split())
    return ("…" if lo > start else "") + body + ("…" if hi < end else "")
