"""Countries named in a text, as ISO 3166-1 alpha-2 codes.

Names come from CLDR through Babel (``Locale(language).territories``), not from hand-written
lists; ``monitor/rules/countries_extra.yaml`` adds what CLDR lacks (adjectives, demonyms, short and
alternative names, film bodies mapped to their country), lists CLDR names that are common words in
a language, and describes how names inflect:

- Russian: a name's ending selects a declension class (``Италия`` → Италии, Италию, Италией), so
  that the stem alone never matches (``Индия`` must not match "индивид").
- Azerbaijani (and other agglutinative languages later): a name takes up to ``max_suffixes`` case
  suffixes, after an optional apostrophe (Azərbaycan’ın, Türkiyənin, İtaliyadakı).
- Terms with ``*`` in the extra file are stems and are not inflected further.

Cities are found too, as mentions of kind ``city`` (a party named by its city, "the Baku and
Tbilisi film schools", stands for its country; :mod:`monitor.tag.participants` decides when a
city is a party and when only the venue). Their names come from CLDR's exemplar cities of time
zones, in every language (Баку, Bakı, ბაქო, باکو); ``cities`` in the extra file and in the
language packs add the cities CLDR has no time zone for (Ankara, Astana, Lahore, Cannes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from babel import Locale, UnknownLocaleError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from monitor.tag.normalize import normalize
from monitor.tag.packs import LanguagePack, PackInflection
from monitor.tag.terms import (
    Lexicon,
    Term,
    Word,
    check_term,
    compile_lexicon,
    parse_term,
    variants,
)
from monitor.yamlfile import read_yaml, validate

IGNORE = "-"
ALL = "all"
CITY = "city:"  # label prefix of a city's entries: "city:AZ"
BODY = "body:"  # label prefix of a film body's entries: "body:KZ"
COUNTRY, CITY_KIND, BODY_KIND = "country", "city", "body"
_PREFIX_KINDS = ((CITY, CITY_KIND), (BODY, BODY_KIND))
DATA_FILE = "countries_extra.yaml"
OTHER = "other"  # declension class of names whose ending is not listed

# CLDR territories that are not countries of ISO 3166-1 (or not ones to report as words). Kosovo
# (XK, user-assigned in ISO 3166-1) is kept: it signs film agreements under that code.
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)
_CODE = re.compile(r"^(?:[A-Z]{2})$")
_NAME_CHARS = re.compile(r"^[\w'’ .\-]+$")

TermText = Annotated[str, AfterValidator(check_term)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


_Inflection = PackInflection


class _CountryData(_Strict):
    min_name_length: int = Field(default=4, ge=1)
    inflection: dict[str, _Inflection] = Field(default_factory=dict)
    ignore: dict[str, list[TermText]] = Field(default_factory=dict)
    names: dict[str, dict[str, list[TermText]]] = Field(default_factory=dict)
    bodies: dict[str, dict[str, list[TermText]]] = Field(default_factory=dict)
    cities: dict[str, dict[str, list[TermText]]] = Field(default_factory=dict)

    @field_validator("names", "bodies", "cities")
    @classmethod
    def _codes(cls, value: dict[str, object]) -> dict[str, object]:
        for code in value:
            if not _CODE.match(code) or (code in _NOT_COUNTRIES and code != "EU"):
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 code (or EU)")
        return value


@dataclass(frozen=True)
class CountryMention:
    code: str
    start: int
    end: int
    kind: str = COUNTRY  # COUNTRY (a name, an adjective), BODY_KIND or CITY_KIND


@dataclass(frozen=True)
class CountryFinder:
    """Country lexicons by language, compiled once. Picklable."""

    lexicons: Mapping[str, Lexicon]
    fallback: Lexicon  # names valid in every language, for languages without a table
    # Ignored words written out in full, by language: also not a name's inflected form that
    # reads the same (Georgian რომ "that" is a form of რომი, Rome).
    ignored: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def lexicon(self, language: str | None) -> Lexicon:
        """The names of ``language``; those of every language for one without a table."""
        return self.lexicons.get(language or "", self.fallback)

    def find(self, text: str, language: str | None) -> list[CountryMention]:
        """Countries in a normalised text, left to right."""
        lexicon = self.lexicon(language)
        ignored = self.ignored.get(language or "", frozenset())
        mentions = []
        for found in lexicon.find(text):
            if IGNORE in found.labels or (ignored and text[found.start : found.end] in ignored):
                continue
            # A name that is a country's and a city's (Kuwait, Singapore) is the country.
            label = min(found.labels, key=lambda x: (x.startswith(CITY), x.startswith(BODY)))
            prefix, kind = next(
                ((p, k) for p, k in _PREFIX_KINDS if label.startswith(p)), ("", COUNTRY)
            )
            mentions.append(CountryMention(label[len(prefix) :], found.start, found.end, kind))
        return mentions


def data_file() -> Path:
    return Path(str(resources.files("monitor") / "rules" / DATA_FILE))


def load_country_finder(
    languages: frozenset[str], path: Path | None = None, packs: Sequence[LanguagePack] = ()
) -> CountryFinder:
    """Compile country lexicons for ``languages`` from CLDR, the extra data file and the
    language packs' country sections."""
    path = path or data_file()
    document = read_yaml(path)
    data = _with_packs(validate(_CountryData, document, path), packs)
    lexicons: dict[str, Lexicon] = {}
    ignored: dict[str, frozenset[str]] = {}
    for language in sorted(languages):
        lexicons[language] = compile_lexicon(_entries(data, language))
        ignored[language] = frozenset(
            normalize(spelling, language)
            for text in data.ignore.get(language, [])
            if "*" not in text and "?" not in text
            for spelling in variants(text, language)
        )
    return CountryFinder(lexicons, compile_lexicon(_entries(data, None)), ignored)


def _with_packs(data: _CountryData, packs: Sequence[LanguagePack]) -> _CountryData:
    inflection = dict(data.inflection)
    ignore = {k: list(v) for k, v in data.ignore.items()}
    names, bodies, cities = (
        {code: {k: list(v) for k, v in table.items()} for code, table in data_table.items()}
        for data_table in (data.names, data.bodies, data.cities)
    )
    for pack in packs:
        if pack.inflection is not None:
            inflection[pack.language] = pack.inflection
        ignore.setdefault(pack.language, []).extend(pack.ignore)
        for merged, extra in ((names, pack.names), (bodies, pack.bodies), (cities, pack.cities)):
            for code, terms in extra.items():
                merged.setdefault(code, {}).setdefault(pack.language, []).extend(terms)
    return data.model_copy(
        update={
            "inflection": inflection,
            "ignore": ignore,
            "names": names,
            "bodies": bodies,
            "cities": cities,
        }
    )


def _entries(data: _CountryData, language: str | None) -> Iterator[tuple[Term, str]]:
    inflection = data.inflection.get(language or "", _Inflection())
    ignored = {normalize(t, language) for t in data.ignore.get(language or "", [])}
    for text in data.ignore.get(language or "", []):
        for spelling in variants(text, language):
            yield parse_term(spelling, language), IGNORE
    if language:
        for locale in _CLDR_LOCALES.get(language, (language,)):
            for code, name in _cldr_names(locale):
                if len(name.replace(" ", "")) < data.min_name_length:
                    continue
                if normalize(name, language) in ignored:
                    continue
                yield _inflected(name, language, inflection), code
    for table, prefix in ((data.names, ""), (data.bodies, BODY)):
        for code, by_language in table.items():
            for text in _texts(by_language, language):
                for spelling in variants(text, language):
                    yield _inflected(spelling, language, inflection), prefix + code
    cities: dict[str, set[str]] = {}
    for locale in _CLDR_LOCALES.get(language, (language,)) if language else ():
        for code, name in _cldr_cities(locale):
            cities.setdefault(name, set()).add(code)
    for code, by_language in data.cities.items():
        for text in _texts(by_language, language):
            cities.setdefault(text, set()).add(code)
    for name, codes in cities.items():
        if len(codes) != 1 or len(name.replace(" ", "")) < data.min_name_length:
            continue  # a name of cities in two countries tells neither
        if normalize(name, language) in ignored:
            continue
        for spelling in variants(name, language):
            yield _inflected(spelling, language, inflection), CITY + next(iter(codes))


def _texts(by_language: Mapping[str, list[str]], language: str | None) -> list[str]:
    """A table's terms for every language and for ``language``."""
    return [*by_language.get(ALL, []), *(by_language.get(language, []) if language else [])]


# CLDR locales whose names a language's texts may use: Uzbek is written in Latin and Cyrillic.
_CLDR_LOCALES = {"uz": ("uz", "uz_Cyrl")}


def _cldr_names(language: str) -> Iterator[tuple[str, str]]:
    """(code, name) for ISO countries in CLDR, parenthesised parts dropped; names shared by two
    codes (Congo) and names with characters a term cannot hold are skipped."""
    try:
        territories = Locale.parse(language).territories
    except (UnknownLocaleError, ValueError):
        return
    names: dict[str, set[str]] = {}
    for code, raw in territories.items():
        if not _CODE.match(code) or code in _NOT_COUNTRIES:
            continue
        name = re.sub(r"\s*\([^)]*\)", "", raw).strip()
        if _NAME_CHARS.match(name) and not name.startswith(("о-в", "о-ва")) and _is_term(name):
            names.setdefault(name, set()).add(code)
    for name, codes in names.items():
        if len(codes) == 1:
            yield next(iter(codes)), name


# Time zones whose exemplar city is not a city a story would name as a party: research stations
# and "Unknown".
_NOT_CITY_TERRITORIES = frozenset({"AQ", "ZZ", "001"})


def _cldr_cities(language: str) -> Iterator[tuple[str, str]]:
    """(country code, city name) of CLDR's exemplar cities of time zones in ``language``; a
    locale leaves out the names written as in English, which the zone's id then gives."""
    try:
        zones = Locale.parse(language).time_zones
    except (UnknownLocaleError, ValueError):
        return
    for zone, code in _zone_territories():
        localized = zones.get(zone, {}).get("city")
        name = localized or zone.rsplit("/", 1)[-1].replace("_", " ")
        if _NAME_CHARS.match(name) and _is_term(name):
            yield code, name


@cache
def _zone_territories() -> tuple[tuple[str, str], ...]:
    """(zone, country code) of the zones named after a city: not Asia/Qatar, whose "city" is
    the country (and, in Azerbaijani, the word for a train)."""
    from babel.core import get_global

    countries = Locale.parse("en").territories
    return tuple(
        (zone, code)
        for zone, code in sorted(get_global("zone_territories").items())
        if _CODE.match(code)
        and code not in _NOT_COUNTRIES | _NOT_CITY_TERRITORIES
        and zone.rsplit("/", 1)[-1].replace("_", " ") != countries.get(code)
    )


def _is_term(name: str) -> bool:
    try:
        check_term(name)
    except ValueError:
        return False
    return True


def _inflected(text: str, language: str | None, inflection: _Inflection) -> Term:
    """A name as a term, with the inflectional endings of ``language`` (see module docstring)."""
    if "*" in text or (not inflection.endings and not inflection.suffixes):
        return parse_term(text, language)
    term = parse_term(text, language)
    if inflection.endings:
        return Term(tuple(_declined(w, language, inflection) for w in term.words), term.joins)
    chain = _suffix_chain(inflection, language)
    last = term.words[-1]
    return Term((*term.words[:-1], Word(last.literal, last.any_start, chain)), term.joins)


def _declined(word: Word, language: str | None, inflection: _Inflection) -> Word:
    if word.gap or word.tail:
        return word
    key = tuple((ending, tuple(forms)) for ending, forms in inflection.endings.items())
    for norm, forms in _endings(key, language):
        if word.literal.endswith(norm):
            stem = word.literal[: len(word.literal) - len(norm)]
            if len(stem) < inflection.min_stem:
                return word
            return Word(stem, word.any_start, forms)
    return word


@cache
def _endings(
    endings: tuple[tuple[str, tuple[str, ...]], ...], language: str | None
) -> tuple[tuple[str, str], ...]:
    """(normalised ending, alternation of its forms), longest ending first, ``other`` last.
    Cached: the same table serves each of a language's names."""
    table = dict(endings)
    order = sorted((e for e in table if e != OTHER), key=len, reverse=True)
    out: list[tuple[str, str]] = []
    for ending in [*order, OTHER] if OTHER in table else order:
        norm = "" if ending == OTHER else normalize(ending, language)
        forms = sorted({normalize(f, language) for f in table[ending]}, key=len)
        out.append((norm, _alternation(forms[::-1])))
    return tuple(out)


def _suffix_chain(inflection: _Inflection, language: str | None) -> str:
    """``(?:'?(?:S1|S2|…){1,n})?``: an optional apostrophe, then 1..n suffixes."""
    return _chain(tuple(inflection.suffixes), inflection.max_suffixes, language)


@cache
def _chain(suffixes: tuple[str, ...], max_suffixes: int, language: str | None) -> str:
    # Cached: the same chain ends each of a language's ~2,500 names.
    if not max_suffixes or not suffixes:
        return ""
    # Suffixes in every script of the language (Uzbek -ning is also -нинг).
    spellings = {v for s in suffixes for v in variants(s, language)}
    forms = sorted({normalize(s, language) for s in spellings}, key=len, reverse=True)
    repeat = "" if max_suffixes == 1 else f"{{1,{max_suffixes}}}"
    return f"(?:'?{_alternation(forms)}{repeat})?"


def _alternation(forms: list[str]) -> str:
    return "(?:" + "|".join(re.escape(f) for f in forms) + ")"
