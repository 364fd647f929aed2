"""The same story reported by several outlets or in several languages, shown once.

Pure: stories in, stories out. Sameness is decided from the content, not from the title alone, and
across scripts, by comparing language-independent *anchors* taken from the title, summary and
evidence sentences (and the opening of the article text when the caller passes it):

- names: capitalised words (not the first word of a sentence) and acronyms, transliterated to a
  Latin key and folded so that spellings of one name in different languages meet (Баку, Baku and
  Bakıda all give ``bak…``; Ташкент and Taşkent give ``taskant``). Words of caseless scripts
  (Georgian) are *soft* names: they count when they meet a name of the other story and never
  count against it. Names of countries are dropped (``Story.countries`` already says it, and a
  country pair alone must not make two stories one), and so are the words of the outlet's name.
- numbers, with separators and scale words normalised (``5 million``, ``5 млн``, ``5.000``,
  ``30%``, ``%30``); years (1900–2100) apart.
- countries: ``Story.countries``.

Two stories are the same when they share at least :data:`MIN_SPECIFIC` worth of names and
non-year numbers (three or more shared countries add to it) and ``specific × overlap`` reaches
:data:`MIN_EVIDENCE`, where overlap is the shared weight over the smaller story's weight. Anchors
found in many of the day's stories weigh less (an IDF-like weight with a prior, so that it behaves
on a day of five stories too). Two things veto a pair
outright: disjoint years (the same festival's 2026 and 2027 editions) and disjoint countries.

Pairs are merged best first, single-link, but never so that one group holds two different URLs of
one outlet (a cannot-link rule plain union-find would break through a third story).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache

from babel import Locale

from monitor.models import AlsoIn, Story

WINDOW = timedelta(hours=36)
MIN_SPECIFIC = 1.0  # shared names and numbers, in units of one rare anchor
MIN_SHARED = 2  # one name alone ("Baku") is not a story
MIN_EVIDENCE = 0.75  # specific × overlap: much shared, or little shared by two short stories
TEXT_CHARS = 1500  # opening of the article text used: leads are translated, bodies diverge
PRIOR_STORIES = 10  # IDF prior: a day is assumed to hold at least this many other stories

# Type weights: a country or a year is shared by many unrelated stories, a small count often.
_W_NAME = 1.0
_W_NUMBER = 1.0
_W_SMALL_NUMBER = 0.5
_W_YEAR = 0.5
_W_COUNTRY = 0.5
_MIN_KEY = 3  # shortest name key kept
_MIN_PREFIX = 4  # shortest key that may match a longer one by prefix (Baku ~ Bakıda)

# Languages whose CLDR country names are dropped from the names (pooled: a Latin text may quote
# a Russian name). Those of the monitor's rule packs.
_COUNTRY_LOCALES = ("en", "ru", "az", "tr", "uz", "kk", "ka", "it")

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
# Turkic Latin letters; ``c`` is /dʒ/ and ``x`` /χ/ only in the languages listed below.
_TURKIC = {"ç": "ch", "ş": "sh", "ğ": "g", "ə": "a", "ı": "i", "ö": "o", "ü": "u", "q": "k"}
_C_IS_J = frozenset({"tr", "az"})
_X_IS_KH = frozenset({"az", "uz"})
# Folding after transliteration: digraphs first, then letters that languages spell differently.
_DIGRAPHS = (
    ("dzh", "j"),
    ("zh", "j"),
    ("kh", "h"),
    ("sh", "s"),
    ("ch", "c"),
    ("ts", "s"),
    ("ph", "p"),
    ("th", "t"),
)
_FIRST_FOLD = str.maketrans({"f": "p", "w": "v", "x": "h", "q": "k", "y": "i"})
_LETTER_FOLD = str.maketrans({"f": "p", "w": "v", "x": "h", "q": "k", "e": "a", "i": "a",
                              "o": "a", "u": "a", "y": "a"})  # fmt: skip

_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE_START = re.compile(r"(?:^|[.!?…:;\n]|\s[–—-])[\s\"'«»“”„(]*$")
_NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:[.,  ]\d{3})+(?!\d)|\d+)(?:[.,](\d{1,2})(?!\d))?"
    r"(?:\s*(?P<scale>[^\W\d_]+))?"
)
_SCALES = {
    "thousand": 1e3,
    "тыс": 1e3,
    "тысяч": 1e3,
    "тысячи": 1e3,
    "bin": 1e3,
    "ming": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "mln": 1e6,
    "млн": 1e6,
    "миллион": 1e6,
    "миллиона": 1e6,
    "миллионов": 1e6,
    "milyon": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "млрд": 1e9,
    "миллиард": 1e9,
    "миллиарда": 1e9,
    "миллиардов": 1e9,
    "milyar": 1e9,
    "milyard": 1e9,
    "mlrd": 1e9,
    "ملین": 1e6,
    "میلیون": 1e6,
    "مليون": 1e6,
    "لاکھ": 1e5,
    "کروڑ": 1e7,
    "ارب": 1e9,
    "მილიონი": 1e6,
}

# Counts written as words, 2..12 (translations write "six", "шести", "altı" where no digit is).
# Exact forms only: stems would catch пятница or English "on".
_COUNT_WORDS: dict[str, dict[str, int]] = {
    "en": dict(zip(["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"],
                   range(2, 13), strict=True)),
    "tr": dict(zip(["iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz", "on"], range(2, 11), strict=True)),
    "az": dict(zip(["iki", "üç", "dörd", "beş", "altı", "yeddi", "səkkiz", "doqquz", "on"], range(2, 11),
                   strict=True)),
    "ru": {
        form: n
        for n, forms in enumerate(
            [
                "два две двух двум двумя",
                "три трех трём трем тремя",
                "четыре четырех четырём четырьмя",
                "пять пяти пятью",
                "шесть шести шестью",
                "семь семи семью",
                "восемь восьми восемью",
                "девять девяти девятью",
                "десять десяти десятью",
            ],
            start=2,
        )
        for form in forms.split()
    },
}  # fmt: skip


@dataclass(frozen=True)
class Anchors:
    """What one story can be recognised by, in any language."""

    names: frozenset[str] = frozenset()  # folded Latin keys of names and acronyms
    soft: frozenset[str] = frozenset()  # keys of words of caseless scripts: count only if matched
    numbers: frozenset[str] = frozenset()
    years: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Match:
    """How much two stories share: ``specific`` (names and numbers) and ``overlap`` (0..1)."""

    specific: float
    overlap: float
    shared: int = 0  # distinct names, numbers and years the two have in common
    vetoed: str | None = None  # why the pair cannot be one story

    @property
    def same(self) -> bool:
        return (
            self.vetoed is None
            and self.shared >= MIN_SHARED
            and self.specific >= MIN_SPECIFIC
            and self.specific * self.overlap >= MIN_EVIDENCE
        )


def group_stories(
    stories: Sequence[Story],
    *,
    window: timedelta = WINDOW,
    texts: Mapping[str, str] | None = None,
    prefer_languages: Sequence[str] = (),
) -> tuple[Story, ...]:
    """One story per group, in the order of each group's first story, with ``also`` filled.

    ``stories`` are expected best first (as the digest sorts them). The representative is the
    group's first story, unless ``prefer_languages`` is given: then the first story in the most
    preferred language present (a press office reading English sees the English version, with
    the Russian and Azerbaijani ones under "also in"). ``texts`` maps a URL to its article text.
    """
    texts = texts or {}
    found = [anchors(s, texts.get(s.url, "")) for s in stories]
    weigh = _weights(found)
    parent = list(range(len(stories)))
    members: dict[int, list[int]] = {i: [i] for i in range(len(stories))}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs: list[tuple[float, float, int, int]] = []
    for i, a in enumerate(stories):
        for j in range(i + 1, len(stories)):
            b = stories[j]
            if a.url and a.url == b.url:
                pairs.append((-math.inf, -math.inf, i, j))
                continue
            if a.source == b.source or abs(a.published - b.published) > window:
                continue
            match = compare(found[i], found[j], weigh)
            if match.same:
                pairs.append((-match.overlap, -match.specific, i, j))
    # Surest pairs first; on a tie the better-ranked stories (earlier in the input) win.
    for *_, i, j in sorted(pairs):
        ri, rj = root(i), root(j)
        if ri == rj or _conflict(stories, members[ri], members[rj]):
            continue
        keep, gone = min(ri, rj), max(ri, rj)
        parent[gone] = keep
        members[keep] = sorted(members[keep] + members.pop(gone))
    return tuple(
        _represent([stories[k] for k in group], prefer_languages)
        for _, group in sorted(members.items())
    )


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


def anchors(story: Story, text: str = "") -> Anchors:
    """The anchors of one story, from its title, summary, evidence and the opening of ``text``."""
    lang = (story.language or "").split("-")[0].lower()
    evidence = dict.fromkeys(e.text for e in story.evidence)
    parts = [story.title, story.summary, *evidence, text[:TEXT_CHARS]]
    if lang in ("en", "") and _title_case(story.title) and any(parts[1:]):
        parts = parts[1:]  # Title Case headlines capitalise every word; the body has the names
    own = {_key(w, lang) for w in _WORD.findall(story.source)}
    names: set[str] = set()
    soft: set[str] = set()
    numbers: set[str] = set()
    years: set[str] = set()
    for part in parts:
        for word, caseless, initial in _words(part):
            key = _key(word, lang)
            if len(key) < _MIN_KEY or key in own or _is_country(key):
                continue
            if caseless:
                soft.add(key)
            elif (word.isupper() and 2 <= len(word) <= 6) or (not initial and word[0].isupper()):
                names.add(key)
        for value in _numbers(part):
            (years if value.startswith("y") else numbers).add(value)
        words = _COUNT_WORDS.get(lang, {})
        numbers.update(str(words[w]) for w in _WORD.findall(part.lower()) if w in words)
    return Anchors(
        names=frozenset(names),
        soft=frozenset(soft - names),
        numbers=frozenset(numbers),
        years=frozenset(years),
        countries=frozenset(story.countries),
    )


def _title_case(title: str) -> bool:
    words = [w for w in _WORD.findall(title) if len(w) > 3]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)


def _words(text: str) -> Iterable[tuple[str, bool, bool]]:
    """Each word with: is it of a caseless script (Georgian), does it start a sentence."""
    for m in _WORD.finditer(text):
        word = m.group()
        start = m.start()
        if start >= 2 and text[start - 1] in ("'", "’") and text[start - 2].isalpha():
            continue  # a Turkish suffix after an apostrophe: İzmir'de
        caseless = any("\u10d0" <= ch <= "\u10ff" for ch in word)
        # Look back by index: slicing the text before every word is quadratic in its length.
        i = start
        while i > 0 and text[i - 1] in " \t\"'«»“”„(":
            i -= 1
        initial = i == 0 or text[i - 1] in ".!?…:;\n" or text[i - 2 : i] in (" –", " —", " -")
        yield word, caseless, initial


def _key(word: str, lang: str) -> str:
    """A Latin key on which spellings of one name in several languages and scripts meet."""
    out = []
    for ch in word.replace("İ", "i").lower():
        if ch in _CYRILLIC:
            out.append(_CYRILLIC[ch])
        elif ch in _GEORGIAN:
            out.append(_GEORGIAN[ch])
        elif ch in _TURKIC:
            out.append(_TURKIC[ch])
        elif ch == "c" and lang in _C_IS_J:
            out.append("j")
        elif ch == "x" and lang in _X_IS_KH:
            out.append("kh")
        elif ch == "c":
            out.append("k")
        else:
            out.append(ch)
    latin = unicodedata.normalize("NFKD", "".join(out))
    latin = "".join(ch for ch in latin if "a" <= ch <= "z")
    for digraph, single in _DIGRAPHS:
        latin = latin.replace(digraph, single)
    # Vowels fold to one, but not the first letter: Estonia and Astana stay apart.
    folded = latin[:1].translate(_FIRST_FOLD) + latin[1:].translate(_LETTER_FOLD)
    return re.sub(r"(.)\1+", r"\1", folded)


@cache
def _country_keys() -> dict[str, frozenset[str]]:
    """Keys of country names in the pooled locales, by their first letters."""
    keys: dict[str, set[str]] = {}
    for lang in _COUNTRY_LOCALES:
        for code, name in Locale.parse(lang).territories.items():
            if len(code) != 2 or not code.isalpha():
                continue
            words = _WORD.findall(name)
            if len(words) != 1:
                continue  # "Kuzey Kore", "Terre Australi": their words are common words
            key = _key(words[0], lang)
            if len(key) >= _MIN_PREFIX:
                keys.setdefault(key[:_MIN_PREFIX], set()).add(key)
    return {k: frozenset(v) for k, v in keys.items()}


def _is_country(key: str) -> bool:
    if len(key) < _MIN_PREFIX:
        return False
    return any(_prefix_match(key, c) for c in _country_keys().get(key[:_MIN_PREFIX], ()))


def _prefix_match(a: str, b: str) -> bool:
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return long.startswith(short) and (len(short) >= _MIN_PREFIX or short == long)


def _numbers(text: str) -> Iterable[str]:
    for m in _NUMBER.finditer(text):
        whole = re.sub(r"\D", "", m.group(1))
        value = float(f"{whole}.{m.group(2)}" if m.group(2) else whole)
        scale = (m.group("scale") or "").lower().rstrip(".")
        value *= _SCALES.get(scale, 1.0)
        if value == int(value) and 1900 <= value <= 2100 and scale not in _SCALES:
            yield f"y{int(value)}"
        elif value:
            yield f"{value:g}" if value != int(value) else str(int(value))


# --- comparing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Weights:
    df: Counter[str]
    total: int

    def __call__(self, kind: str, anchor: str) -> float:
        """Type weight times a rarity factor: 1 for an anchor in at most two stories."""
        base = {"n": _W_NAME, "c": _W_COUNTRY, "y": _W_YEAR}.get(kind, _W_NUMBER)
        if kind == "#" and anchor.isdigit() and int(anchor) < 13:
            base = _W_SMALL_NUMBER
        size = self.total + PRIOR_STORIES
        rare = math.log(size / 2.5)
        return base * min(1.0, math.log(size / (self.df[kind + anchor] + 0.5)) / rare)


def _weights(found: Sequence[Anchors]) -> _Weights:
    df: Counter[str] = Counter()
    for a in found:
        df.update({"n" + k for k in a.names | a.soft})
        df.update({"#" + k for k in a.numbers})
        df.update({"y" + k for k in a.years})
        df.update({"c" + k for k in a.countries})
    return _Weights(df, len(found))


def compare(a: Anchors, b: Anchors, weigh: _Weights | None = None) -> Match:
    """How much two stories' anchors agree (see the module's docstring)."""
    w = weigh or _weights([a, b])
    if a.years and b.years and not a.years & b.years:
        return Match(0.0, 0.0, vetoed="years differ")
    if a.countries and b.countries and not a.countries & b.countries:
        return Match(0.0, 0.0, vetoed="countries differ")
    names = min(_matched_names(a, b, w), _matched_names(b, a, w))
    count = sum(_meets(k, b.names | b.soft) for k in a.names | a.soft)
    count += len(a.numbers & b.numbers) + len(a.years & b.years)
    numbers = sum(w("#", n) for n in a.numbers & b.numbers)
    shared = (
        names
        + numbers
        + sum(w("y", y) for y in a.years & b.years)
        + sum(w("c", c) for c in a.countries & b.countries)
    )
    # One country pair is shared by many stories; the same three or more countries are telling.
    many = _W_COUNTRY * max(0, len(a.countries & b.countries) - 2)
    smaller = min(_total(a, w), _total(b, w))
    # Soft words count in ``shared`` only, so the ratio can pass 1.
    overlap = min(1.0, shared / smaller) if smaller else 0.0
    return Match(names + numbers + many, overlap, count)


def _matched_names(a: Anchors, b: Anchors, w: _Weights) -> float:
    """Weight of ``a``'s names (and soft words) that meet one of ``b``'s."""
    theirs = b.names | b.soft
    return sum(w("n", k) for k in a.names | a.soft if _meets(k, theirs))


def _meets(key: str, keys: frozenset[str]) -> bool:
    return key in keys or any(_prefix_match(key, k) for k in keys)


def _total(a: Anchors, w: _Weights) -> float:
    return (
        sum(w("n", k) for k in a.names)
        + sum(w("#", n) for n in a.numbers)
        + sum(w("y", y) for y in a.years)
        + sum(w("c", c) for c in a.countries)
    )
