"""The same story reported by several outlets or in several languages, shown once.

Pure: stories in, stories out. Sameness is decided from the content, not from the title alone, and
across scripts, by comparing language-independent *anchors* taken from the title, summary and
evidence sentences (and the opening of the article text when the caller passes it):

- names: capitalised words (not the first word of a sentence) and acronyms, transliterated to a
  Latin key and folded so that spellings of one name in different languages meet (Баку, Baku and
  Bakıda all give ``bak…``; Ташкент and Taşkent give ``taskant``; Ўзбек, Özbek and Uzbek give
  ``ozbak``: a first vowel is kept, but o and u are one there; Қазақфильм and Казахфильм give
  ``kasakpalm``: h and k are one after it, and so are z and s, as Italian reads Kazakhfilm),
  without the case endings and suffixes of their language (the packs' inflection of country
  names: Эшелондар, Эшелонлар and Эшелоны give ``esalan…``). Capitalised words that the day's stories also write in lower case (Film,
  Festival, Министерство) are parts of names, not names. Names of countries are dropped
  (``Story.countries`` already says it, and a country pair alone must not make two stories
  one), and so are the words of the outlet's name. A capitalised word that opens a sentence
  is a *soft* name (below): Kazakh, Turkish and Azerbaijani sentences often open with the
  place (Астанада ..., Bakıda ...), but so do ordinary words.
- words of caseless scripts: Georgian words are soft names, Arabic-script words (Urdu) are kept
  as their consonants (استنبول ~ Istanbul: ``stnbl``), since short vowels are not written, and
  so are two such words together, since the script writes many names in two (اسلام آباد ~
  Islamabad, علی زادہ ~ Ализаде; a final he writes a vowel). Both
  count when they meet a *name* of the other story; two stories in a caseless script do not
  meet by their common words. Such a story's own weight counts the words that meet a name of
  any of the day's stories, in place of its names: a short Urdu version is not measured against
  all the names of a long English one.
- numbers, with separators and scale words normalised (``5 million``, ``5 млн``, ``5.000``,
  ``30%``, ``%30``), counts written as words (``шести``) and Roman numerals (the XV festival,
  the 15th); years (1900–2100) apart. The scale and count words are the language packs'
  ``numbers:`` (Uzbek's also in Cyrillic letters). A day next to a month is a date, whatever
  the language (18 сентября, September 18, 19 sentyabrda, 6–8 декабря: CLDR's month names),
  and not a count that a festival's 14th edition would meet.
- countries: ``Story.countries`` (the parties'), and every country the story names at all.
- the stage of the event the headline names: an opening or a closing named in both headlines
  adds to what the two share, though not to their rare anchors (a country's film days are a kind
  of event, which look-alikes share, not a step of one).

Two stories are the same when they share at least :data:`MIN_SPECIFIC` worth of names and
non-year numbers (three or more shared countries add to it) and either ``specific × overlap``
reaches :data:`MIN_EVIDENCE`, where overlap is the shared weight over the smaller story's weight
(at most :data:`LONG_STORY`), or two rare names are shared (:data:`MANY_SPECIFIC`) by stories that
overlap at all (two long versions that chose different details). Anchors found in many of the
day's stories weigh less (an IDF-like weight with a prior, so that it behaves on a day of five
stories too). Five things veto a pair outright: other years in the headlines and summaries (the
same festival's 2026 and 2027 editions), other stages of an event there (its opening, its closing
and awards; a country's film days held inside a festival, named in the headline, and the
festival's closing: the words are in the language packs, see :mod:`monitor.tag.stages`), disjoint
countries, parties that differ (each names a party's country the other never names: Azerbaijan
signs with Kazakhstan, and Azerbaijan signs with Uzbekistan), and other parties (two or more
each, neither's all of the other's, however many the bodies list).

Groups are formed by complete linkage: two stories share an entry only if every pair in the
entry is the same story by the test above, so A like B and B like C does not put A and C in one
entry (a wrong merge hides news; a missed one only shows a duplicate line). The surest groups
(those whose weakest pair shares the most specific anchors) merge first, and never so that one group holds two different URLs of one outlet.

Not every pair is weighed: a week holds a thousand stories. Candidates come from an index of
anchors (a pair must share two, and a name meets only names of its first letters, or of its
consonants), and pairs that a veto or an upper bound on ``specific`` rules out are skipped; the
result is the same as weighing every pair.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache, cached_property, lru_cache
from typing import TypeVar

from babel import Locale

from monitor.models import AlsoIn, Story
from monitor.tag.numbers import count_words, scale_words
from monitor.tag.packs import builtin_packs
from monitor.tag.stages import stages_named
from monitor.tag.translit import uz_latin_to_cyrillic

WINDOW = timedelta(hours=36)
MIN_SPECIFIC = 1.0  # shared names and numbers, in units of one rare anchor
MIN_SHARED = 2  # one name alone ("Baku") is not a story
MIN_EVIDENCE = 0.75  # specific × overlap: much shared, or little shared by two short stories
MANY_SPECIFIC = 2.0  # ... or this much shared (two rare names) ...
MIN_OVERLAP = 0.25  # ... however long the stories (0.12 let look-alikes of one busy day meet)
# A story weighing more is measured as if it weighed this much: two long versions, each naming a
# dozen people of its own, share no less of the event than two short ones (9 let look-alikes of
# a busy day meet).
LONG_STORY = 12.0
TEXT_CHARS = 1500  # opening of the article text used: leads are translated, bodies diverge
MENTION_CHARS = 6000  # text searched for the countries a story names (to tell parties apart)
PRIOR_STORIES = 10  # IDF prior: a day is assumed to hold at least this many other stories

# Type weights: a country or a year is shared by many unrelated stories, a small count often.
_W_NAME = 1.0
_W_NUMBER = 1.0
_W_SMALL_NUMBER = 0.5
_W_YEAR = 0.5
_W_COUNTRY = 0.5
_W_STAGE = 0.5
_MIN_KEY = 3  # shortest name key kept
_MIN_PREFIX = 4  # shortest key that may match a longer one by prefix (Baku ~ Bakıda)
_MIN_TOLD = 6  # shortest country key two countries share that their letters may tell apart
_MIN_SKELETON = 3  # fewest consonants of an Arabic-script word kept
_MIN_COMMON = 6  # letters a capitalised word shares with a common word to be one
_VOWELS = str.maketrans("", "", "aeiouvy")
_ROUNDING = 1e-9  # slack for a sum of floats taken in another order

_CYRILLIC = {
    **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdeziyklmnoprstufye", strict=True)),
    "ё": "e",
    "ж": "zh",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "sh",
    "ъ": "",
    "ь": "",
    "ю": "yu",
    "я": "ya",
    # Kazakh, Uzbek, Azerbaijani Cyrillic letters
    "ә": "a",
    "ғ": "g",
    "қ": "k",
    "ң": "n",
    "ө": "o",
    "ұ": "u",
    "ү": "u",
    "һ": "h",
    "і": "i",
    "ў": "o",
    "ҳ": "h",
    "ј": "y",
    "ҹ": "j",
}
_GEORGIAN = dict(
    zip(
        "აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ",
        [
            "a", "b", "g", "d", "e", "v", "z", "t", "i", "k", "l", "m", "n", "o", "p", "zh",
            "r", "s", "t", "u", "p", "k", "g", "k", "sh", "ch", "ts", "dz", "ts", "ch", "kh",
            "j", "h",
        ],
        strict=True,
    )
)  # fmt: skip
# Arabic script (Urdu, Persian, Arabic): consonants, and the letters that also write vowels
# (alef, vav, ye) as vowels; short vowels are not written, so such words are matched by their
# consonants (see ``_skeleton``).
_ARABIC = {
    **dict.fromkeys("اآأإٱ", "a"),
    **dict.fromkeys("ىيیئےۓ", "i"),
    **dict.fromkeys("وؤ", "u"),
    **dict.fromkeys("هہھۃة", "h"),
    **dict.fromkeys("كک", "k"),
    **dict.fromkeys("تٹط", "t"),
    **dict.fromkeys("دڈ", "d"),
    **dict.fromkeys("رڑ", "r"),
    **dict.fromkeys("ذزضظ", "z"),
    **dict.fromkeys("سصث", "s"),
    "ب": "b", "پ": "p", "ج": "j", "چ": "ch", "ح": "h", "خ": "kh", "ژ": "zh", "ش": "sh",
    "ع": "", "غ": "g", "ف": "f", "ق": "q", "گ": "g", "ل": "l", "م": "m", "ن": "n", "ں": "n",
    "ء": "",
}  # fmt: skip
_FINAL_HE = frozenset("هہة")
# Turkic Latin letters; ``c`` is /dʒ/ and ``x`` /χ/ only in the languages listed below.
_TURKIC = {"ç": "ch", "ş": "sh", "ğ": "g", "ə": "a", "ı": "i", "ö": "o", "ü": "u", "q": "k"}
_C_IS_J = frozenset({"tr", "az"})
_X_IS_KH = frozenset({"az", "uz"})
# Folding after transliteration: digraphs first, then letters that languages spell differently.
_DIGRAPHS = (
    ("eu", "ev"),  # Europe, Европа; Eurasia, Евразия
    ("dzh", "j"),
    ("zh", "j"),
    ("kh", "h"),
    ("sh", "s"),
    ("ch", "c"),
    ("ts", "s"),
    ("ph", "p"),
    ("th", "t"),
)
_FIRST_FOLD = str.maketrans({"f": "p", "w": "v", "x": "h", "q": "k", "y": "i", "u": "o"})
# After the first letter, h and k are one: the Kazakh Қ is the Russian Х (Қазақфильм, Казахфильм).
_LETTER_FOLD = str.maketrans({"f": "p", "w": "v", "x": "k", "h": "k", "q": "k", "e": "a",
                              "i": "a", "o": "a", "u": "a", "y": "a"})  # fmt: skip

_WORD = re.compile(r"[^\W\d_]+")
# Georgian and the Arabic script: no capital letter marks a name.
_CASELESS = re.compile("[\u10d0-\u10ff\u0600-\u06ff]")
_ABJAD = re.compile("[\u0600-\u06ff]")
# The words of _WORD but those starting with a lower-case Latin or Cyrillic letter: no names in
# a cased script, and most words. The expression skips them, not a loop word by word; it opens
# with a character class, which the engine scans for fast, then looks behind: a word's start.
_LOWER = "".join(ch for ch in map(chr, range(0x530)) if ch.isalpha() and ch.islower())
_NOT_LOWER_WORD = re.compile(rf"[^\W\d_{re.escape(_LOWER)}](?<![^\W\d_].)[^\W\d_]*")
_LOWER_WORD = re.compile(rf"[{re.escape(_LOWER)}](?<![^\W\d_].)[^\W\d_]*")
# A digit not after a letter, digit, point or comma, then more (the look-behind follows the first
# digit so that the expression opens with it: the engine scans for a digit fast).
_NUMBER = re.compile(
    r"(\d(?<![\w.,]\d)(?:\d{0,2}(?:[.,  ]\d{3})+(?!\d)|\d*))(?:[.,](\d{1,2})(?!\d))?"
    r"(?:\s*(?P<scale>[^\W\d_]+))?"
)


def _whole_words(words: Iterable[str]) -> re.Pattern[str]:
    """Any of ``words`` as a whole word of _WORD. Each looks behind once matched, so that the
    expression opens with letters: the engine scans for them fast."""
    alternatives = "|".join(rf"{re.escape(w)}(?<![^\W\d_]{re.escape(w)})" for w in words)
    return re.compile(rf"(?:{alternatives})(?![^\W\d_])")


_N = TypeVar("_N", int, float)


@cache
def _count_word_patterns() -> dict[str, tuple[Mapping[str, int], re.Pattern[str]]]:
    """Counts written as words (the packs' ``numbers: counts:``), one pattern per language."""
    found = {lang: {**words, **_other_script(lang, words)} for lang, words in count_words().items()}
    return {lang: (words, _whole_words(words)) for lang, words in found.items()}


@cache
def _scale_words() -> Mapping[str, float]:
    """The packs' scale words (``numbers: scales:``), every language's in one table."""
    found = dict(scale_words())
    for pack in builtin_packs():
        found.update(_other_script(pack.language, pack.scales))
    return found


def _other_script(lang: str, words: Mapping[str, _N]) -> dict[str, _N]:
    """The spellings of a language's number words in its other script: Uzbek is written in
    Latin and Cyrillic letters, its packs in Latin only (``тўрт``, ``минг``)."""
    if lang != "uz":
        return {}
    return {uz_latin_to_cyrillic(word): value for word, value in words.items()}


@dataclass(frozen=True)
class Anchors:
    """What one story can be recognised by, in any language."""

    names: frozenset[str] = frozenset()  # folded Latin keys of names and acronyms
    soft: frozenset[str] = frozenset()  # keys of Georgian words: count only if matched
    numbers: frozenset[str] = frozenset()
    years: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()  # the parties' countries (``Story.countries``)
    abjad: frozenset[str] = frozenset()  # consonants of Arabic-script words: soft, see _skeleton
    lead_years: frozenset[str] = frozenset()  # years in the title and summary
    mentioned: frozenset[str] = frozenset()  # every country the story names, parties included
    stages: frozenset[str] = frozenset()  # the event's stage the headline names (opening...)

    @cached_property
    def all_names(self) -> frozenset[str]:
        """Names and soft words: what another story's names are matched against."""
        return self.names | self.soft

    @cached_property
    def skeletons(self) -> frozenset[str]:
        """Consonants of every name and soft word, and the Arabic-script words: what an
        Arabic-script word of another story is matched against."""
        return frozenset(_skeleton(k) for k in self.all_names) | self.abjad

    @cached_property
    def by_prefix(self) -> dict[str, tuple[str, ...]]:
        """Names and soft words long enough to match by prefix, by bucket (see ``_bucket``)."""
        return _by_prefix(self.all_names)

    @cached_property
    def names_by_prefix(self) -> dict[str, tuple[str, ...]]:
        """The same of the names alone: what a soft word may meet."""
        return _by_prefix(self.names)

    @cached_property
    def name_skeletons(self) -> frozenset[str]:
        """Consonants of the names alone: what an Arabic-script word may meet."""
        return frozenset(_skeleton(k) for k in self.names)


def _by_prefix(keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for key in keys:
        if len(key) >= _MIN_PREFIX:
            found.setdefault(_bucket(key), []).append(key)
    return {bucket: tuple(keys) for bucket, keys in found.items()}


@dataclass(frozen=True)
class Match:
    """How much two stories share: ``specific`` (names and numbers) and ``overlap`` (0..1)."""

    specific: float
    overlap: float
    shared: int = 0  # distinct names, numbers and years the two have in common
    vetoed: str | None = None  # why the pair cannot be one story

    @property
    def same(self) -> bool:
        if self.vetoed is not None or self.shared < MIN_SHARED or self.specific < MIN_SPECIFIC:
            return False
        # Much shared, or little shared by two short stories; or several rare names shared by
        # two long versions that chose different details to tell.
        return self.specific * self.overlap >= MIN_EVIDENCE or (
            self.specific >= MANY_SPECIFIC and self.overlap >= MIN_OVERLAP
        )


def group_stories(
    stories: Sequence[Story],
    *,
    window: timedelta = WINDOW,
    texts: Mapping[str, str] | None = None,
    prefer_languages: Sequence[str] = (),
    kept: MutableMapping[str, RawAnchors] | None = None,
) -> tuple[Story, ...]:
    """One story per group, in the order of each group's first story, with ``also`` filled.

    ``stories`` are expected best first (as the digest sorts them). The representative is the
    group's first story, unless ``prefer_languages`` is given: then the first story in the most
    preferred language present (a press office reading English sees the English version, with
    the Russian and Azerbaijani ones under "also in"). ``texts`` maps a URL to its article text.
    ``kept`` holds each story's :class:`RawAnchors` by :func:`anchor_key`, read where found and
    added to: what an earlier run found of the same story is not worked out again.
    """
    texts = texts or {}
    raws = [_raw(s, texts.get(s.url, ""), kept) for s in stories]
    common = _common(r.lower_words for r in raws)
    found = [settle(r, common) for r in raws]
    weigh = _weights(found)
    # Consonant buckets matter only where a story has Arabic-script words.
    abjad = any(a.abjad for a in found)
    reach = [_reach(a, weigh, abjad) for a in found]
    strength: dict[tuple[int, int], tuple[float, float]] = {
        pair: _SURE for pair in _same_url(stories)
    }
    for i, j in _candidates(found, abjad):
        a, b = stories[i], stories[j]
        if a.url and a.url == b.url:
            continue  # paired above
        if a.source == b.source or abs(a.published - b.published) > window:
            continue
        # Cheap bounds first: most pairs of a busy week fail them and need no weighing.
        if _veto(found[i], found[j]) or not _may_be_specific(
            found[i], found[j], reach[i], reach[j]
        ):
            continue
        match = compare(found[i], found[j], weigh)
        if match.same:
            # The pair that shares the most rare anchors is the surest: a version that shares
            # a little with a short look-alike joins the versions it shares much with first.
            strength[i, j] = (match.specific, match.overlap)
    groups = complete_linkage(
        len(stories), strength, lambda left, right: _conflict(stories, left, right)
    )
    return tuple(_represent([stories[k] for k in group], prefer_languages) for group in groups)


_SURE = (math.inf, math.inf)  # one URL: one article


def anchor_key(story: Story, text: str) -> str:
    """A digest of everything :func:`raw_anchors` reads of a story: equal keys, equal anchors."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (
        story.language or "",
        story.source,
        story.title,
        story.summary,
        "\0".join(story.countries),
        *(e.text for e in story.evidence),
        text,
    ):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0\1")
    return digest.hexdigest()


def _raw(story: Story, text: str, kept: MutableMapping[str, RawAnchors] | None) -> RawAnchors:
    if kept is None:
        return raw_anchors(story, text)
    key = anchor_key(story, text)
    raw = kept.get(key)
    if raw is None:
        raw = kept[key] = raw_anchors(story, text)
    return raw


def complete_linkage(
    size: int,
    strength: Mapping[tuple[int, int], tuple[float, float]],
    conflict: Callable[[Sequence[int], Sequence[int]], bool] = lambda _a, _b: False,
) -> list[list[int]]:
    """Groups of the items ``0..size-1`` in which every pair is in ``strength`` (complete
    linkage: A like B and B like C does not make A and C one).

    ``strength[i, j]`` (i < j) says how sure the pair (i, j) is. Two groups are as sure as their
    least sure pair; the surest two groups are merged first, again and again, while some pair is
    left whose groups may merge and ``conflict`` does not forbid it. On a tie the groups of the
    lower items (better ranked) win. Groups come sorted by their first item, each sorted.
    """
    neighbours: dict[int, set[int]] = {}
    for i, j in strength:
        neighbours.setdefault(i, set()).add(j)
        neighbours.setdefault(j, set()).add(i)
    home = list(range(size))
    members: dict[int, list[int]] = {i: [i] for i in range(size)}
    version = [0] * size

    def linkage(a: int, b: int) -> tuple[float, float] | None:
        weakest: tuple[float, float] | None = None
        for x in members[a]:
            for y in members[b]:
                pair = strength.get((x, y) if x < y else (y, x))
                if pair is None:
                    return None
                weakest = pair if weakest is None or pair < weakest else weakest
        return weakest

    heap: list[tuple[float, float, int, int, int, int]] = []

    def push(a: int, b: int) -> None:
        a, b = min(a, b), max(a, b)
        sure = linkage(a, b)
        if sure is not None:
            heapq.heappush(heap, (-sure[0], -sure[1], a, b, version[a], version[b]))

    for i, j in strength:
        push(i, j)
    while heap:
        *_, a, b, va, vb = heapq.heappop(heap)
        if va != version[a] or vb != version[b] or a not in members or b not in members:
            continue  # a group changed since this entry was pushed
        if conflict(members[a], members[b]):
            continue
        members[a] = sorted(members[a] + members.pop(b))
        for k in members[a]:
            home[k] = a
        version[a] += 1
        near = {home[n] for k in members[a] for n in neighbours.get(k, ())} - {a}
        for other in near:
            push(a, other)
    return [members[k] for k in sorted(members)]


def _same_url(stories: Sequence[Story]) -> Iterator[tuple[int, int]]:
    """Pairs (i, j), i < j, of stories with one non-empty URL: one article, always merged."""
    by_url: dict[str, list[int]] = {}
    for i, story in enumerate(stories):
        if story.url:
            by_url.setdefault(story.url, []).append(i)
    for same in by_url.values():
        yield from ((i, j) for n, i in enumerate(same) for j in same[n + 1 :])


def _candidates(found: Sequence[Anchors], abjad: bool = True) -> Iterator[tuple[int, int]]:
    """Pairs (i, j), i < j, that may reach :data:`MIN_SHARED`: a superset of the ``same`` ones.

    ``compare(found[i], found[j]).shared`` counts ``i``'s names that meet one of ``j``'s, plus
    shared numbers and years. A name meets only keys in its own bucket (:func:`_bucket`), so
    summing, over the buckets both stories have, how many of ``i``'s anchors fall in each bounds
    that count from above; pairs below :data:`MIN_SHARED` cannot be the same story.
    """
    counts = [_bucket_counts(a, abjad) for a in found]
    postings: dict[str, list[int]] = {}
    for j, buckets in enumerate(counts):
        for bucket in buckets:
            postings.setdefault(bucket, []).append(j)
    for i, buckets in enumerate(counts):
        hits: Counter[int] = Counter()
        for bucket, times in buckets.items():
            holders = postings[bucket]
            later = holders[bisect_right(holders, i) :]
            for _ in range(times):
                hits.update(later)
        yield from ((i, j) for j, n in hits.items() if n >= MIN_SHARED)


def _bucket_counts(a: Anchors, abjad: bool = True) -> Counter[str]:
    """How many of the story's anchors fall in each bucket; kinds apart. A name is in two: that
    of its first letters and, when ``abjad``, that of its consonants (where an Arabic-script
    word meets it)."""
    counts = Counter("n" + _bucket(k) for k in a.all_names)
    if abjad:
        counts.update("s" + _bucket(_skeleton(k), 3) for k in a.all_names)
    counts.update("s" + _bucket(k, 3) for k in a.abjad)
    counts.update("#" + n for n in a.numbers)
    counts.update("y" + y for y in a.years)
    return counts


def _reach(a: Anchors, w: _Weights, abjad: bool = True) -> dict[str, float]:
    """Per bucket, the most that the story's names or number there can add to ``specific``."""
    reach: dict[str, float] = {}
    for k in a.all_names:
        buckets = (
            ("n" + _bucket(k), "s" + _bucket(_skeleton(k), 3)) if abjad else ("n" + _bucket(k),)
        )
        for bucket in buckets:
            reach[bucket] = reach.get(bucket, 0.0) + w("n", k)
    for k in a.abjad:
        bucket = "s" + _bucket(k, 3)
        reach[bucket] = reach.get(bucket, 0.0) + w("s", k)
    for n in a.numbers:
        reach["#" + n] = w("#", n)
    return reach


def _may_be_specific(
    a: Anchors, b: Anchors, reach_a: Mapping[str, float], reach_b: Mapping[str, float]
) -> bool:
    """False when ``compare(a, b).specific`` stays under :data:`MIN_SPECIFIC` for sure.

    Its names weigh at most ``a``'s that meet ``b``'s, which share their buckets; its numbers
    are the shared ones. The bound adds the same weights in another order: a rounding apart.
    """
    bound = sum(reach_a[bucket] for bucket in reach_a.keys() & reach_b.keys())
    bound += _W_COUNTRY * max(0, len(a.countries & b.countries) - 2)
    return bound >= MIN_SPECIFIC - _ROUNDING


def _bucket(key: str, size: int = _MIN_PREFIX) -> str:
    """The part of a name's key that every key it meets shares (see :func:`_prefix_match`).

    A key shorter than :data:`_MIN_PREFIX` meets only itself; a longer one only keys of at least
    that length that begin with the same :data:`_MIN_PREFIX` letters. Consonant skeletons meet
    only their equals, bucketed by their first three letters.
    """
    return key[:size]


def _conflict(stories: Sequence[Story], left: Iterable[int], right: Iterable[int]) -> bool:
    """True when merging would put two different articles of one outlet in a group."""
    urls = {(stories[k].source, stories[k].url) for k in left}
    return any(
        stories[k].source == source and stories[k].url != url for k in right for source, url in urls
    )


def _represent(group: list[Story], prefer: Sequence[str]) -> Story:
    rank = {lang: n for n, lang in enumerate(prefer)}
    best = min(group, key=lambda s: rank.get(s.language or "", len(rank))) if rank else group[0]
    seen = {best.url}
    also: list[AlsoIn] = []
    for other in [*best.also, *(a for s in group if s is not best for a in _as_also(s))]:
        if other.url not in seen:
            seen.add(other.url)
            also.append(other)
    return replace(best, also=tuple(also))


def _as_also(story: Story) -> list[AlsoIn]:
    return [AlsoIn(story.url, story.source, story.language), *story.also]


# --- anchors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommonWords:
    """The words written in lower case somewhere in a day's stories, by first letters: a
    capitalised word among them (Festival, Министерство, Film) is part of a name, not a name
    that tells one story from another. Compared as written, lower-cased (not as keys, whose
    folded vowels would make Şöhrət a form of "сохранить")."""

    by_bucket: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __contains__(self, word: str) -> bool:
        lower = _lower(word)
        words = self.by_bucket.get(lower[:_MIN_PREFIX])
        if not words:
            return False
        if lower in words:
            return True
        # Inflected forms: Festivalı / festivalda share all but their endings.
        need = max(_MIN_COMMON, len(lower) - 2)
        return len(lower) >= _MIN_COMMON and any(w.startswith(lower[:need]) for w in words)


def common_words(stories: Iterable[Story], texts: Mapping[str, str]) -> CommonWords:
    """The :class:`CommonWords` of the stories' titles, summaries and text openings."""
    return _common(_lower_words(story, texts.get(story.url, "")) for story in stories)


def _common(per_story: Iterable[frozenset[str]]) -> CommonWords:
    found: dict[str, set[str]] = {}
    for words in per_story:
        for word in words:
            found.setdefault(word[:_MIN_PREFIX], set()).add(word)
    return CommonWords({bucket: frozenset(words) for bucket, words in found.items()})


def _lower_words(story: Story, text: str) -> frozenset[str]:
    lang = (story.language or "").split("-")[0].lower()
    parts = (story.title, story.summary, text[:TEXT_CHARS])
    words = {w for part in parts for w in _LOWER_WORD.findall(_letters(part, lang))}
    return frozenset(_lower(w) for w in words if len(w) >= _MIN_PREFIX)


def _lower(word: str) -> str:
    return word.replace("İ", "i").replace("I", "ı").lower() if word[:1] in "İI" else word.lower()


@dataclass(frozen=True)
class RawAnchors:
    """What one story's words give before the day's common words are known: the part of its
    :class:`Anchors` that depends on the story alone, and so can be kept between runs (the
    digest's feed groups a week of stories, six days of which the previous run saw)."""

    found: Anchors  # all but the names; its soft words are the caseless ones (Georgian)
    sure: frozenset[str]  # keys of names whatever the day's words: acronyms, titles in quotes
    cased: tuple[tuple[str, str, bool], ...]  # (word, key, opens a sentence): names, or not
    lower_words: frozenset[str]  # what the story gives the day's common words


def anchors(story: Story, text: str = "", common: CommonWords | None = None) -> Anchors:
    """The anchors of one story, from its title, summary, evidence and the opening of ``text``;
    capitalised words that are ``common`` words are not names."""
    return settle(raw_anchors(story, text), common)


def settle(raw: RawAnchors, common: CommonWords | None = None) -> Anchors:
    """A story's :class:`Anchors` from its :class:`RawAnchors` and the day's common words."""
    names = set(raw.sure)
    soft = set(raw.found.soft)
    for word, key, initial in raw.cased:
        if _is_name(word, initial, common):
            names.add(key)
        elif initial and not (common and word in common):
            # A sentence may open with a name (Астанада ...): soft, it counts where it meets
            # another story's name.
            soft.add(key)
    return replace(raw.found, names=frozenset(names), soft=frozenset(soft - names))


def raw_anchors(story: Story, text: str = "") -> RawAnchors:
    """What :func:`anchors` reads from one story, whatever the other stories of the day."""
    lang = (story.language or "").split("-")[0].lower()
    evidence = dict.fromkeys(e.text for e in story.evidence)
    parts = [_letters(p, lang) for p in (story.title, story.summary, *evidence, text[:TEXT_CHARS])]
    if lang in ("en", "") and _title_case(story.title) and any(parts[1:]):
        parts = parts[1:]  # Title Case headlines capitalise every word; the body has the names
    own = {_key(w, lang) for w in _WORD.findall(story.source)}
    sure: set[str] = set()
    cased: dict[tuple[str, str, bool], None] = {}
    soft: set[str] = set()
    abjad: set[str] = set()
    numbers: set[str] = set()
    years: set[str] = set()
    for part in parts:
        titles = _quoted(part)
        for word, caseless, initial in _words(part):
            if (edition := _roman(word)) is not None:
                numbers.add(str(edition))  # the XV festival, the 15th
                continue
            key = _name_key(word, lang)
            if len(key) < _MIN_KEY or key in own or _country_named(word, key, lang):
                continue
            if not caseless and (month := _month(word)):
                # June, Kasım: a month meets its name in any language, not Jonathan by prefix
                numbers.add(f"m{month}")
                continue
            key = _sibilants(key)
            if caseless and _ABJAD.search(word):
                skeleton = _skeleton(key)
                if len(skeleton) >= _MIN_SKELETON:
                    abjad.add(skeleton)
            elif caseless:
                soft.add(key)
            elif word in titles or _is_acronym(word):
                sure.add(key)  # a title in quotes, an acronym: a name on any day
            else:
                cased[word, key, initial] = None
        if _ABJAD.search(part):
            abjad.update(_compounds(part, lang))
        for value in _numbers(part):
            (years if value.startswith("y") else numbers).add(value)
        if counting := _count_word_patterns().get(lang):
            words, pattern = counting
            numbers.update(str(words[w]) for w in pattern.findall(part.lower()))
    lead = f"{story.title}\n{story.summary}"
    found = Anchors(
        soft=frozenset(soft),
        numbers=frozenset(numbers),
        years=frozenset(years),
        countries=frozenset(story.countries),
        abjad=frozenset(abjad),
        lead_years=frozenset(y for y in _numbers(lead) if y.startswith("y")),
        mentioned=frozenset(story.countries) | _countries_named(lead, _letters(text, lang), lang),
        stages=_stages(story.title, story.summary, lang),
    )
    return RawAnchors(found, frozenset(sure), tuple(cased), _lower_words(story, text))


# Uzbek's o‘ and g‘ are letters: O‘zbekkino is one word, not O and a lower-case zbekkino.
_UZ_APOSTROPHE = re.compile(r"(?<=[OoGg])['‘’ʼ`´](?=[^\W\d_])")
# A title in quotation marks: «Мерос», “Pearl of the Silk Road”, „აწარმოე საქართველოში“.
_QUOTED = re.compile(
    r"«([^«»\n]{1,60})»|“([^“”\n]{1,60})”|„([^„“”\n]{1,60})[“”]|\"([^\"\n]{1,60})\""
)
_TITLE_WORDS = 5  # more words in quotation marks are what someone said, not a title


def _letters(text: str, lang: str) -> str:
    """``text`` with the apostrophes that are part of a letter joined to it (Uzbek)."""
    return _UZ_APOSTROPHE.sub("", text) if lang == "uz" and text else text


def _quoted(text: str) -> frozenset[str]:
    """Capitalised words of the titles in quotation marks: names, even if they are common
    words or open a sentence (the film «Мерос», «Талан»; the «Евразия» festival)."""
    if not any(mark in text for mark in '«“„"'):
        return frozenset()
    found: set[str] = set()
    for m in _QUOTED.finditer(text):
        words = _WORD.findall(next(g for g in m.groups() if g))
        if len(words) <= _TITLE_WORDS:
            found.update(w for w in words if w[0].isupper())
    return frozenset(found)


def _is_acronym(word: str) -> bool:
    return word.isupper() and 2 <= len(word) <= 6


def _is_name(word: str, initial: bool, common: CommonWords | None) -> bool:
    """An acronym, or a capitalised word that does not open a sentence and is not common."""
    if _is_acronym(word):
        return True
    return not initial and word[0].isupper() and not (common and word in common)


def _countries_named(lead: str, text: str, lang: str) -> frozenset[str]:
    """Countries a story names anywhere, by a name or an adjective (Kazakh, казахстанский)."""
    words = set(_WORD.findall(f"{lead}\n{text[:MENTION_CHARS]}"))  # each word looked up once
    return frozenset(code for word in words if (code := _word_country(word, lang)))


_ABJAD_PAIR = re.compile(
    r"(?=(?<![\u0600-\u06ff])([\u0600-\u06ff]{2,}) ([\u0600-\u06ff]{2,})(?![\u0600-\u06ff]))"
)


def _compounds(text: str, lang: str) -> set[str]:
    """Consonants of two Arabic-script words together: the script writes many names in two
    (اسلام آباد, Islamabad; علی زادہ, Alizade)."""
    found = set()
    for first, second in _ABJAD_PAIR.findall(text):
        skeleton = _skeleton(_key(first + second, lang))
        if len(skeleton) >= _MIN_SKELETON:
            found.add(skeleton)
    return found


def _skeleton(key: str) -> str:
    """A key's consonants: Arabic script leaves most vowels unwritten, so that Istanbul and
    استنبول meet only here (``stnbl``); ``v`` and ``i`` go too, written for vowels there."""
    return _sibilants(key).translate(_VOWELS)


def _sibilants(key: str) -> str:
    """A name's key with z as s after its first letter: languages write one name with either
    (KazakhFilm, Kasakhfilm as Italian reads it; Aziz, Азиз, عزیز). Not so for a country's
    key, where the two tell names apart (Грузия, Grecia)."""
    if "z" not in key[1:]:
        return key
    return re.sub(r"(.)\1+", r"\1", key[:1] + key[1:].replace("z", "s"))


def _title_case(title: str) -> bool:
    words = [w for w in _WORD.findall(title) if len(w) > 3]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)


_ROMAN = re.compile(r"(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def _roman(word: str) -> int | None:
    """The value of a Roman numeral of two letters or more (II to LXXXIX), which numbers a
    festival's editions (XV, the 15th); None for any other word."""
    if len(word) < 2 or not _ROMAN.fullmatch(word):
        return None
    values = [_ROMAN_VALUES[ch] for ch in word]
    return sum(-v if v < after else v for v, after in zip(values, [*values[1:], 0], strict=True))


def _words(text: str) -> Iterable[tuple[str, bool, bool]]:
    """Each word that may be a name, with: is it of a caseless script (Georgian), does it start
    a sentence. A word that starts with a lower-case letter of a cased script never is, and most
    words do."""
    georgian = _CASELESS.search(text) is not None
    for m in (_WORD if georgian else _NOT_LOWER_WORD).finditer(text):
        word = m.group()
        caseless = georgian and _CASELESS.search(word) is not None
        if word.islower() and not caseless:
            continue
        start = m.start()
        if start >= 2 and text[start - 1] in ("'", "’") and text[start - 2].isalpha():
            continue  # a Turkish suffix after an apostrophe: İzmir'de
        # Look back by index: slicing the text before every word is quadratic in its length.
        i = start
        while i > 0 and text[i - 1] in " \t\"'«»“”„(":
            i -= 1
        initial = i == 0 or text[i - 1] in ".!?…:;\n" or text[i - 2 : i] in (" –", " —", " -")
        yield word, caseless, initial


@cache
def _endings() -> dict[str, tuple[tuple[str, ...], int]]:
    """Per language, the case endings and suffixes a name may take (the packs' inflection of
    country names: Қазақстанның, Түркияға, Rossiyada, Италией), longest first, and how many
    may follow one another. Endings of one letter are left: keys fold every vowel to one, so
    that Эшелоны and Эшелон already meet by prefix."""
    found: dict[str, tuple[tuple[str, ...], int]] = {}
    for pack in builtin_packs():
        rules = pack.inflection
        if rules is None:
            continue
        forms = set(rules.suffixes) | {f for fs in rules.endings.values() for f in fs}
        forms |= set(_other_script(pack.language, dict.fromkeys(forms, 0)))
        longer = sorted((f.lower() for f in forms if len(f) >= 2), key=lambda f: (-len(f), f))
        if longer:
            found[pack.language] = (tuple(longer), max(1, rules.max_suffixes))
    return found


@lru_cache(maxsize=1 << 18)
def _name_key(word: str, lang: str) -> str:
    """The key of a name without the case endings of its language, when enough is left to
    tell it (Эшелондар, Эшелонлар and Эшелоны meet; Тоқаевтың is Тоқаев): a stem is a
    prefix of the word, so whatever the word met, its stem meets too."""
    key = _key(word, lang)
    rules = _endings().get(lang)
    if rules is None or word.isupper():
        return key
    endings, times = rules
    stem = word.lower()
    for _ in range(times):
        cut = next((e for e in endings if stem.endswith(e) and len(stem) - len(e) >= 4), None)
        if cut is None:
            break
        shorter = _key(stem[: -len(cut)], lang)
        if len(shorter) <= _MIN_PREFIX or not key.startswith(shorter):
            break
        stem, key = stem[: -len(cut)], shorter
    return key


@lru_cache(maxsize=1 << 18)  # a day's texts repeat their words; keys are pure
def _key(word: str, lang: str) -> str:
    """A Latin key on which spellings of one name in several languages and scripts meet."""
    latin = _latin(word, lang)
    # Vowels fold to one, but not the first letter: Estonia and Astana stay apart.
    folded = latin[:1].translate(_FIRST_FOLD) + latin[1:].translate(_LETTER_FOLD)
    return re.sub(r"(.)\1+", r"\1", folded)


@lru_cache(maxsize=1 << 18)
def _latin(word: str, lang: str) -> str:
    """The word in Latin letters, its vowels as written (Georgiy, Moris): what a key is folded
    from."""
    out = []
    if len(word) > 2 and word[-1] in _FINAL_HE:
        word = word[:-1] + "ا"  # a final he writes a vowel: زادہ, Zade
    lower = word.replace("İ", "i").lower()
    for n, ch in enumerate(lower):
        if ch in _CYRILLIC:
            out.append(_CYRILLIC[ch])
        elif ch in _GEORGIAN:
            out.append(_GEORGIAN[ch])
        elif ch in _TURKIC:
            out.append(_TURKIC[ch])
        elif ch in _ARABIC:
            out.append(_ARABIC[ch])
        elif ch == "c" and lang in _C_IS_J:
            out.append("j")
        elif ch == "x":
            # Alexander, Александр; a first x is the pinyin's (Xi, Си; Xinjiang, Синьцзян)
            out.append("kh" if lang in _X_IS_KH else "ks" if n else "s")
        elif lang == "it" and ch in "ghz":
            out.append(_italian(ch, lower[n - 1 : n], lower[n + 1 : n + 2]))
        elif ch == "c":
            out.append(_latin_c(lower[n + 1 : n + 2], lang))
        else:
            out.append(ch)
    latin = unicodedata.normalize("NFKD", "".join(out))
    latin = "".join(ch for ch in latin if "a" <= ch <= "z")
    if latin.startswith("ye"):
        latin = latin[1:]  # Yerlan, Ерлан; Yevgeniy, Евгений: a first е is said ye
    for digraph, single in _DIGRAPHS:
        latin = latin.replace(digraph, single)
    return latin


def _italian(ch: str, before: str, following: str) -> str:
    """Italian g, h and z as the Cyrillic spelling of a name reads them: g before e and i is
    дж (Giuli, Джули; Giorgio, Джорджо), ch and gh are k and g (Chianti), z is ц (Venezia,
    Венеция)."""
    if ch == "g":
        return "j" if following and following in "ei" else "g"
    if ch == "h":
        return "" if before in ("c", "g") else "h"
    return "ts"


def _latin_c(following: str, lang: str) -> str:
    """The sound of a Latin c: ch is ч (Chingiz, Чингиз) but k in Italian (Chianti); before e
    and i it is ч in Italian (Cinecittà, Чинечитта), s in English (Venice, Венеция)."""
    if following == "h":
        return "k" if lang == "it" else "c"
    if following and following in "eiy":
        if lang == "it":
            return "c"
        if lang in ("en", ""):
            return "s"
    return "k"


@cache
def _country_keys() -> dict[str, tuple[tuple[str, str], ...]]:
    """(key, code) of CLDR's country names in the languages of the packs, pooled (a Latin text
    may quote a Russian name), by their first letters."""
    keys: dict[str, set[tuple[str, str]]] = {}
    for lang in sorted({p.language for p in builtin_packs()}):
        for code, name in Locale.parse(lang).territories.items():
            if len(code) != 2 or not code.isalpha():
                continue
            words = _WORD.findall(name)
            if len(words) != 1:
                continue  # "Kuzey Kore", "Terre Australi": their words are common words
            key = _key(words[0], lang)
            if len(key) >= _MIN_PREFIX:
                keys.setdefault(key[:_MIN_PREFIX], set()).add((key, code))
    return {k: tuple(sorted(v)) for k, v in keys.items()}


@cache
def _country_starts_by_key() -> dict[tuple[str, str], frozenset[str]]:
    """By key and how the name starts as written (see :func:`_start`), the countries: two
    countries' names may fold to one key (Moldova, Мальдивы), their letters tell them apart."""
    found: dict[tuple[str, str], set[str]] = {}
    for lang in sorted({p.language for p in builtin_packs()}):
        for code, name in Locale.parse(lang).territories.items():
            words = _WORD.findall(name)
            if len(code) == 2 and code.isalpha() and len(words) == 1:
                found.setdefault((_key(words[0], lang), _start(words[0], lang)), set()).add(code)
    return {k: frozenset(codes) for k, codes in found.items()}


def _country_by_start(key: str, start: str) -> str | None:
    """The country of the longest name whose form the key is (Moldovada: Moldova), told by
    how the word starts where two countries' names have that key."""
    names = {
        k
        for k, _ in _country_keys().get(key[:_MIN_PREFIX], ())
        # long names only: short keys of two countries (Mali, maliyyə "finance") are noise
        if len(k) >= _MIN_TOLD and (k == key or key.startswith(k))
    }
    for name in sorted(names, key=len, reverse=True):
        codes = _country_starts_by_key().get((name, start), frozenset())
        if len(codes) == 1:
            return next(iter(codes))
    return None


@cache
def _country_spellings() -> dict[str, frozenset[str]]:
    """By key, how CLDR's country names with that key start in Latin letters, their vowels as
    written (Moris, Georgia, Грузия: ``mor``, ``geo``, ``gru``)."""
    found: dict[str, set[str]] = {}
    for key, start in _country_starts_by_key():
        found.setdefault(key, set()).add(start)
    return {key: frozenset(starts) for key, starts in found.items()}


def _start(word: str, lang: str, size: int = _MIN_KEY) -> str:
    """How a word starts in Latin letters; an Arabic-script word apart (its vowels are not
    written: استونیا, Estonia)."""
    latin = _latin(word, lang)
    start = latin[:1].translate(_FIRST_FOLD) + latin[1:size]
    return f"~{start}" if _ABJAD.search(word) else start


@lru_cache(maxsize=1 << 18)  # every word of a text is looked up: one call each
def _word_country(word: str, lang: str) -> str | None:
    return _country_named(word, _key(word, lang), lang)


@lru_cache(maxsize=1 << 18)  # a story's every word: looked up once a process
def _country_named(word: str, key: str, lang: str) -> str | None:
    """The country ``word`` names (see :func:`_country_of`). A word whose key is a country's
    whole key must also start as one of its names, or be a form of another: keys fold vowels,
    so that the film «Мерос» has the key of Mauritius (Moris), the name Giorgi that of Georgia
    and Astana that of Estonia."""
    code = _country_of(key) or _country_by_start(key, _start(word, lang))
    spellings = _country_spellings().get(key) if code else None
    if code and not spellings:
        return code if _begins_as_country(word, key, code, lang) else None
    if not spellings:
        return code
    if _start(word, lang) in spellings:
        return code
    # Or the word is a longer form of a shorter name of the country (Azərbaycana, Azərbaycan).
    others = _country_keys().get(key[:_MIN_PREFIX], ())
    shorter = (k for k, c in others if c == code and _MIN_PREFIX < len(k) < len(key))
    return code if any(key.startswith(k) for k in shorter) else None


def _begins_as_country(word: str, key: str, code: str, lang: str) -> bool:
    """A form of a country's name (Қазақстанның), or a word shorter than every name of the
    country that also starts as one of them, letters as written (Kazakh, Özbek). Keys fold
    vowels and f and p: without this Farooq would be Paraguay (Paraqvay)."""
    names = _country_keys().get(key[:_MIN_PREFIX], ())
    if any(c == code and key.startswith(k) for k, c in names) or _ABJAD.search(word):
        return True
    return _start(word, lang, _MIN_PREFIX) in _country_starts().get(code, ())


@cache
def _country_starts() -> dict[str, frozenset[str]]:
    """By country, how CLDR's one-word names of it start in Latin letters (see _start)."""
    found: dict[str, set[str]] = {}
    for lang in sorted({p.language for p in builtin_packs()}):
        for code, name in Locale.parse(lang).territories.items():
            words = _WORD.findall(name)
            if len(code) == 2 and code.isalpha() and len(words) == 1:
                found.setdefault(code, set()).add(_start(words[0], lang, _MIN_PREFIX))
    return {code: frozenset(starts) for code, starts in found.items()}


@lru_cache(maxsize=1 << 18)
def _country_of(key: str) -> str | None:
    """The country a key names (by prefix: Kazakh, Қазақстанның): that of the longest country
    name it meets, if that names one country."""
    if len(key) < _MIN_PREFIX:
        return None
    found = [
        (k, c)
        for k, c in _country_keys().get(key[:_MIN_PREFIX], ())
        # A short name meets only itself: Kosova's "kasa" is not the start of every Kasa...,
        # nor Roma the start of Romania.
        if k == key or (min(len(k), len(key)) > _MIN_PREFIX and _prefix_match(key, k))
    ]
    if not found:
        return None
    # A form of a name (Azərbaycana, Moldovada) before a name the key only begins (Kazakh,
    # Kazakhstan): Moldova is the whole of one name, not the start of Мальдивлар.
    forms = [(k, c) for k, c in found if key.startswith(k)] or found
    longest = max(len(k) for k, _ in forms)
    codes = {c for k, c in forms if len(k) == longest}
    return next(iter(codes)) if len(codes) == 1 else None


def _prefix_match(a: str, b: str) -> bool:
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return long.startswith(short) and (len(short) >= _MIN_PREFIX or short == long)


def _numbers(text: str) -> Iterable[str]:
    for m in _NUMBER.finditer(text):
        whole = re.sub(r"\D", "", m.group(1))
        value = float(f"{whole}.{m.group(2)}" if m.group(2) else whole)
        scale = (m.group("scale") or "").lower().rstrip(".")
        multiplier = _scale_words().get(scale)
        value *= multiplier or 1.0
        if value == int(value) and 1900 <= value <= 2100 and multiplier is None:
            yield f"y{int(value)}"
        elif multiplier is None and not m.group(2) and 1 <= value <= 31 and len(whole) <= 2:
            month = _month_after(text, m.end(1)) or _month_before(text, m.start())
            yield f"d{int(value)}.{month}" if month else str(int(value))
        elif value:
            yield f"{value:g}" if value != int(value) else str(int(value))


# After a day: the month (18 сентября, 19 sentyabrda; 11-noyabrdan, 24-қараша), after an
# ordinal's ending (15th September, 15-го сентября), or after the day that ends the range
# (6–8 декабря, 14 to 18 September, с 6 по 8 декабря, 8–12-noyabr, 23-dən 27-dək noyabr).
_AFTER_DAY = (
    re.compile(r"\s*-?([^\W\d_]+)"),
    re.compile(r"(?:-[^\W\d_]{1,4}|[^\W\d_]{2})\.?\s+([^\W\d_]+)"),
    re.compile(
        r"\s*(?:-[^\W\d_]{1,4}\s*[-–—]?|[-–—]|\s[^\W\d_]{1,3}\s)\s*\d{1,2}"
        r"(?:(?:-[^\W\d_]{1,4}|[^\W\d_]{2})\.?\s+|\s*-?)([^\W\d_]+)"
    ),
)
# Before a day: the month (September 15, December 6–8, Noyabrın 8-dən 12-dək).
_BEFORE_DAY = re.compile(r"([^\W\d_]+)\.?\s+(?:\d{1,2}(?:-[^\W\d_]{1,4}\s*[-–—]?|\s*[-–—])\s*)?$")


def _month_after(text: str, end: int) -> int | None:
    for pattern in _AFTER_DAY:
        m = pattern.match(text, end, end + 40)
        if m and (month := _month(m.group(1))):
            return month
    return None


def _month_before(text: str, start: int) -> int | None:
    m = _BEFORE_DAY.search(text, max(0, start - 30), start)
    return _month(m.group(1)) if m else None


@cache
def _month_names() -> tuple[dict[str, int], dict[str, tuple[tuple[str, int], ...]]]:
    """CLDR's month names in the packs' languages (Uzbek in both scripts): the abbreviations
    and short names as written, the longer ones by their stems (сентября, сентябрь,
    sentyabrda, қыркүйекте). A form two months share is left out."""
    exact: dict[str, set[int]] = {}
    stems: dict[str, set[int]] = {}
    locales = {p.language for p in builtin_packs()} | {"uz_Cyrl"}
    for name in sorted(locales):
        months = Locale.parse(name).months
        for context in ("format", "stand-alone"):
            for number, word in months[context]["abbreviated"].items():
                word = word.lower().rstrip(".")
                if len(word) >= 3:
                    exact.setdefault(word, set()).add(number)
            for number, word in months[context]["wide"].items():
                word = word.lower()
                exact.setdefault(word, set()).add(number)
                if len(word) >= 5:
                    stems.setdefault(word[:-1], set()).add(number)
    by_start: dict[str, list[tuple[str, int]]] = {}
    for stem, numbers in stems.items():
        if len(numbers) == 1:
            by_start.setdefault(stem[:3], []).append((stem, next(iter(numbers))))
    return (
        {word: next(iter(n)) for word, n in exact.items() if len(n) == 1},
        {start: tuple(found) for start, found in by_start.items()},
    )


@lru_cache(maxsize=1 << 14)
def _month(word: str) -> int | None:
    """The month a word names, inflected or not (сентября, 19 sentyabrda: September)."""
    exact, by_start = _month_names()
    word = word.lower()
    if word in exact:
        return exact[word]
    for stem, number in by_start.get(word[:3], ()):
        if word.startswith(stem) and len(word) - len(stem) <= 4:
            return number
    return None


# --- comparing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Weights:
    df: Counter[str]
    total: int
    named: Anchors = field(default_factory=Anchors)  # every name of the day's stories
    # Per-instance memos: a grouping run weighs the same anchors and stories again and again.
    _known: dict[str, float] = field(default_factory=dict, init=False, repr=False, compare=False)
    _totals: dict[Anchors, float] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _caseless: dict[Anchors, float] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @cached_property
    def _size(self) -> int:
        return self.total + PRIOR_STORIES

    @cached_property
    def _rare(self) -> float:
        return math.log(self._size / 2.5)

    def __call__(self, kind: str, anchor: str) -> float:
        """Type weight times a rarity factor: 1 for an anchor in at most two stories."""
        tagged = kind + anchor
        weight = self._known.get(tagged)
        if weight is None:
            weight = self._known[tagged] = self._weigh(kind, anchor, self.df[tagged])
        return weight

    def _weigh(self, kind: str, anchor: str, df: int) -> float:
        base = {"n": _W_NAME, "s": _W_NAME, "c": _W_COUNTRY, "g": _W_STAGE, "y": _W_YEAR}.get(
            kind, _W_NUMBER
        )
        if kind == "#" and ((anchor.isdigit() and int(anchor) < 13) or anchor.startswith("m")):
            base = _W_SMALL_NUMBER
        return base * min(1.0, math.log(self._size / (df + 0.5)) / self._rare)

    def caseless_total_of(self, a: Anchors) -> float:
        """The weight of a story in a caseless script as if it had names: its words that meet
        a name of any of the day's stories stand for them."""
        total = self._caseless.get(a)
        if total is None:
            total = self.total_of(a)
            total += sum(self("n", k) for k in a.soft if _meets(k, self.named, names_only=True))
            total += sum(self("s", k) for k in a.abjad if k in self.named.name_skeletons)
            self._caseless[a] = total
        return total

    def total_of(self, a: Anchors) -> float:
        """The weight of all of a story's anchors but its soft words."""
        total = self._totals.get(a)
        if total is None:
            total = self._totals[a] = _total(a, self)
        return total


def _weights(found: Sequence[Anchors]) -> _Weights:
    df: Counter[str] = Counter()
    for a in found:
        df.update({"n" + k for k in a.names | a.soft})
        df.update({"s" + k for k in a.skeletons})
        df.update({"#" + k for k in a.numbers})
        df.update({"y" + k for k in a.years})
        df.update({"c" + k for k in a.countries})
        df.update({"g" + k for k in a.stages})
    named = Anchors(names=frozenset(k for a in found for k in a.names))
    return _Weights(df, len(found), named)


def compare(a: Anchors, b: Anchors, weigh: _Weights | None = None) -> Match:
    """How much two stories' anchors agree (see the module's docstring)."""
    w = weigh or _weights([a, b])
    vetoed = _veto(a, b)
    if vetoed:
        return Match(0.0, 0.0, vetoed=vetoed)
    mine = _matched(a, b)
    names = min(_weight_of(mine, w), _weight_of(_matched(b, a), w))
    numbers_shared = a.numbers & b.numbers
    years = a.years & b.years
    countries = a.countries & b.countries
    count = len(mine) + len(numbers_shared) + len(years)
    numbers = sum(w("#", n) for n in numbers_shared)
    shared = names + numbers + sum(w("y", y) for y in years) + sum(w("c", c) for c in countries)
    # Two headlines that name one stage (both the opening) tell one step of the event; film
    # days are what two look-alike film days have in common.
    shared += sum(w("g", g) for g in a.stages & b.stages - {_SHOWCASE})
    # One country pair is shared by many stories; the same three or more countries are telling.
    many = _W_COUNTRY * max(0, len(countries) - 2)
    # A story in a caseless script (Georgian, Urdu) has no names to count in its total: its
    # words that meet a name of any of the day's stories stand for them, so that a short
    # version is not measured against a long one's names. Two such stories count neither.
    # Soft words count in ``shared`` only, so the ratio can pass 1.
    if bool(a.names) == bool(b.names):
        totals = [w.total_of(a), w.total_of(b)]
    else:
        totals = [w.total_of(x) if x.names else w.caseless_total_of(x) for x in (a, b)]
    smaller = min(*totals, LONG_STORY)
    overlap = min(1.0, shared / smaller) if smaller else (1.0 if shared else 0.0)
    return Match(names + numbers + many, overlap, count)


def _veto(a: Anchors, b: Anchors) -> str | None:
    """Why two stories cannot be one whatever else they share, if they cannot: their headlines
    and summaries name other years (the 2026 and 2027 editions) or other stages of the event
    (the festival opens, the festival closes with its awards), their parties are of other
    countries, or each has a party's country that the other never names (Azerbaijan and
    Kazakhstan sign, Azerbaijan and Uzbekistan sign: look-alikes, not one story told twice)."""
    if a.lead_years and b.lead_years and a.lead_years.isdisjoint(b.lead_years):
        return "years differ"
    if _stages_differ(a.stages, b.stages):
        return "stages differ"
    if a.countries and b.countries and a.countries.isdisjoint(b.countries):
        return "countries differ"
    if a.countries - b.mentioned and b.countries - a.mentioned:
        return "parties differ"
    if _other_parties(a.countries, b.countries):
        return "other parties"
    return None


_SHOWCASE = "showcase"
_CLOSING = "closing"


def _stages(title: str, summary: str, lang: str) -> frozenset[str]:
    """The stages the headline and summary name; a showcase only from the headline (a
    festival's summary lists its sections: "where the film days of ... are held")."""
    return stages_named(title, lang) | (stages_named(summary, lang) - {_SHOWCASE})


def _stages_differ(a: frozenset[str], b: frozenset[str]) -> bool:
    """The festival opens, the festival closes; or a country's film days (a showcase, often
    held inside a festival) and the closing of the festival, its awards. A showcase that
    opens and the same showcase named alone are one stage, and so may be a showcase and an
    opening (one version names the film days, another that they opened)."""
    if not a or not b:
        return False
    if _showcase_and_closing(a, b) or _showcase_and_closing(b, a):
        return True
    core_a, core_b = a - {_SHOWCASE}, b - {_SHOWCASE}
    return bool(core_a and core_b and core_a.isdisjoint(core_b))


def _showcase_and_closing(a: frozenset[str], b: frozenset[str]) -> bool:
    return _SHOWCASE in a and _CLOSING not in a and _CLOSING in b and _SHOWCASE not in b


def _other_parties(a: frozenset[str], b: frozenset[str]) -> bool:
    """Two stories of two or more parties each, neither's all of the other's: look-alike deals
    (Kazakhstan with Azerbaijan, Kazakhstan with Türkiye) whose bodies may list every partner of
    the day. A version naming fewer parties than another is a subset, not a conflict."""
    return len(a) >= 2 and len(b) >= 2 and not (a <= b or b <= a)


def _matched(a: Anchors, b: Anchors) -> list[str]:
    """``a``'s anchors that meet one of ``b``'s, each tagged with its kind ("n" or "s") for
    weighing: names meet names, soft words and Arabic-script words; soft and Arabic-script
    words meet names only (two stories in a caseless script share their common words too)."""
    found = ["n" + k for k in a.names if _meets(k, b) or (b.abjad and _skeleton(k) in b.abjad)]
    found += ["n" + k for k in a.soft if _meets(k, b, names_only=True)]
    return found + ["s" + k for k in a.abjad if k in b.name_skeletons]


def _weight_of(tagged: Iterable[str], w: _Weights) -> float:
    return sum(w(t[0], t[1:]) for t in tagged)


def _meets(key: str, other: Anchors, names_only: bool = False) -> bool:
    """Does ``key`` meet one of ``other``'s names or soft words (:func:`_prefix_match`), or of
    its names alone?

    Only keys of its bucket can, and a short key only itself: the others are not tried.
    """
    if key in (other.names if names_only else other.all_names):
        return True
    prefixes = other.names_by_prefix if names_only else other.by_prefix
    longer = prefixes.get(_bucket(key))
    return longer is not None and any(_prefix_match(key, k) for k in longer)


def _total(a: Anchors, w: _Weights) -> float:
    return (
        sum(w("n", k) for k in a.names)
        + sum(w("#", n) for n in a.numbers)
        + sum(w("y", y) for y in a.years)
        + sum(w("c", c) for c in a.countries)
    )
