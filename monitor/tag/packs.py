"""Language packs: all the vocabulary of one language in one file, ``monitor/rules/lang/<code>.yaml``.

A pack adds terms to topics defined elsewhere (``monitor/rules/<topic>.yaml`` holds a topic's
settings and its language-neutral names) and country data for its language. A press officer who
wants a Turkish term opens ``lang/tr.yaml`` and nothing else::

    language: tr
    topics:
      film_cooperation:                 # a topic id
        concepts: {film: [film*, sinema*], cooperation: [işbirliğ*, ~ortak*]}
        aspects: {co_production: [ortak yapım*]}
        exclude: [dizin*]
    countries:
      inflection: {suffixes: [nın, nin, da, de], max_suffixes: 3}
      ignore: [...]
      names: {TR: [Türk]}
      bodies: {TR: [Sinema Genel Müdürlüğü]}
      cities: {TR: [Ankara, İzmir]}     # cities CLDR has no time zone for
      home: TR                          # see monitor.tag.participants for home and cues
      cues: {own: [iki ülke*], background: [daha önce], roles: [yönetmen*],
             venue_suffixes: [da, de]}
    numbers: {counts: {iki: 2, üç: 3}, scales: {bin: 1000, milyon: 1000000}}   # grouping
    stages:                             # how a headline names an event's stage (grouping)
      opening: [açılış*, açıldı]
      closing: [kapanış*, ödül töreni*]
      showcase: [sinema günleri]        # a country's film days (told apart from a closing)

Users may list their own packs (or topic files) under ``topics:`` in ``sources.yaml``; a user pack
adds to the built-in vocabulary of its language. The grouping takes CLDR's country names in every
language that has a pack.

What a pack cannot say lives with the code that reads text, since it concerns a script or how
letters are compared rather than one language's words. A language in a script the monitor
already reads (Latin, Cyrillic, Georgian, Arabic) needs nothing more; otherwise:

- which scripts a language is written in, and letters that rule a language out (Kazakh letters
  in "Russian" text): ``SCRIPTS`` and ``FOREIGN_LETTERS`` in ``monitor/tag/language.py``;
- letter rules applied before matching: the dotless I of Turkic languages (``TURKIC_I``), the
  aspirating heh of Urdu (``ASPIRATING_HEH``), Arabic-script letter variants, and the
  abbreviations after which a full stop does not end a sentence: ``monitor/tag/normalize.py``;
- writing a script in Latin letters, so that names meet across scripts in the grouping
  (Баку ~ Baku ~ ბაქო): the tables at the top of ``monitor/grouping.py``; Uzbek rule terms written
  in Latin are spelled in Cyrillic too by ``monitor/tag/translit.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from monitor.errors import ConfigError, Problem
from monitor.tag.cache import load_or_build, shipped_rules
from monitor.tag.terms import check_term
from monitor.yamlfile import line_of, read_yaml, validate

TermText = Annotated[str, AfterValidator(check_term)]
COUNTRY_CODES_HINT = "an ISO 3166-1 alpha-2 code such as TR, or EU"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class PackInflection(_Strict):
    """How country names inflect: ``endings`` replace a name's ending (Russian, Georgian);
    ``suffixes`` are appended, up to ``max_suffixes`` of them (Turkic languages)."""

    endings: dict[str, list[str]] = Field(default_factory=dict)
    suffixes: list[str] = Field(default_factory=list)
    max_suffixes: int = Field(default=0, ge=0, le=4)
    min_stem: int = Field(default=3, ge=1)


class _PackTopic(_Strict):
    concepts: dict[str, list[TermText]] = Field(default_factory=dict)
    aspects: dict[str, list[TermText]] = Field(default_factory=dict)
    exclude: list[TermText] = Field(default_factory=list)


class PackCues(_Strict):
    """Words that tell which named countries take part (see :mod:`monitor.tag.participants`)."""

    own: list[TermText] = Field(default_factory=list)
    background: list[TermText] = Field(default_factory=list)
    prospect: list[TermText] = Field(default_factory=list)
    roles: list[TermText] = Field(default_factory=list)
    venue: list[TermText] = Field(default_factory=list)
    venue_after: list[TermText] = Field(default_factory=list)
    venue_suffixes: list[str] = Field(default_factory=list)
    events: list[TermText] = Field(default_factory=list)


class _PackCountries(_Strict):
    inflection: PackInflection | None = None
    ignore: list[TermText] = Field(default_factory=list)
    names: dict[str, list[TermText]] = Field(default_factory=dict)
    bodies: dict[str, list[TermText]] = Field(default_factory=dict)
    cities: dict[str, list[TermText]] = Field(default_factory=dict)
    home: str | None = None
    cues: PackCues = Field(default_factory=PackCues)

    @field_validator("home")
    @classmethod
    def _home(cls, value: str | None) -> str | None:
        if value is not None and not (len(value) == 2 and value.isascii() and value.isupper()):
            raise ValueError(f"{value!r} is not {COUNTRY_CODES_HINT}")
        return value

    @field_validator("names", "bodies", "cities")
    @classmethod
    def _codes(cls, value: dict[str, Any]) -> dict[str, Any]:
        for code in value:
            if not (len(code) == 2 and code.isascii() and code.isupper()):
                raise ValueError(f"{code!r} is not {COUNTRY_CODES_HINT}")
        return value


class _PackStages(_Strict):
    """Words by which a headline names an event's stage: the digest never puts a festival's
    opening and its awards in one entry (see :mod:`monitor.grouping`)."""

    opening: list[TermText] = Field(default_factory=list)
    closing: list[TermText] = Field(default_factory=list)
    # A country's film days or week, often held inside a festival: not the festival's opening
    # nor its closing, though it shares the festival's every name.
    showcase: list[TermText] = Field(default_factory=list)


class _PackNumbers(_Strict):
    """How the language writes numbers, for the grouping: counts as words (exact forms), and
    scale words after a number ("5 млн")."""

    counts: dict[str, int] = Field(default_factory=dict)
    scales: dict[str, float] = Field(default_factory=dict)

    @field_validator("counts")
    @classmethod
    def _counts(cls, value: dict[str, int]) -> dict[str, int]:
        wrong = [w for w, n in value.items() if not 2 <= n <= 100]
        if wrong:
            raise ValueError(f"counts are from 2 to 100: {', '.join(wrong)}")
        return value

    @field_validator("scales")
    @classmethod
    def _scales(cls, value: dict[str, float]) -> dict[str, float]:
        wrong = [w for w, n in value.items() if n < 10]
        if wrong:
            raise ValueError(f"a scale multiplies by 10 or more: {', '.join(wrong)}")
        return value


class _Pack(_Strict):
    language: str
    topics: dict[str, _PackTopic] = Field(default_factory=dict)
    countries: _PackCountries = Field(default_factory=_PackCountries)
    stages: _PackStages = Field(default_factory=_PackStages)
    numbers: _PackNumbers = Field(default_factory=_PackNumbers)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not (2 <= len(value) <= 3 and value.isascii() and value.isalpha() and value.islower()):
            raise ValueError(f"{value!r} is not a language code (e.g. tr, uz, ka)")
        return value


@dataclass(frozen=True)
class PackTopic:
    concepts: Mapping[str, tuple[str, ...]]
    aspects: Mapping[str, tuple[str, ...]]
    exclude: tuple[str, ...]


@dataclass(frozen=True)
class LanguagePack:
    language: str
    source: str
    builtin: bool = False  # shipped with the monitor: it fills the built-in topics only
    topics: Mapping[str, PackTopic] = field(default_factory=dict)
    inflection: PackInflection | None = None
    ignore: tuple[str, ...] = ()
    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    bodies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cities: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    home: str | None = None
    cues: PackCues = field(default_factory=PackCues)
    stages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # stage -> terms
    counts: Mapping[str, int] = field(default_factory=dict)  # "шести" -> 6
    scales: Mapping[str, float] = field(default_factory=dict)  # "млн" -> 1e6
    # Where each topic and concept/aspect was written, for messages about unknown names.
    lines: Mapping[tuple[str, ...], int | None] = field(default_factory=dict)


def is_pack(document: Any) -> bool:
    return isinstance(document, dict) and "language" in document


def builtin_pack_files() -> list[Path]:
    folder = Path(str(resources.files("monitor") / "rules" / "lang"))
    return sorted(folder.glob("*.yaml"))


@cache
def builtin_packs() -> tuple[LanguagePack, ...]:
    """The packs shipped with the monitor, read once per process: the tagger, the grouping's
    stage words and its number words all use them. Reading the YAML takes most of a second,
    which every ``monitor digest`` would pay for its grouping; the validated packs are kept
    in the tagger's cache (:mod:`monitor.tag.cache`) beside the built tagger."""

    def read() -> tuple[LanguagePack, ...]:
        return tuple(load_packs(builtin_pack_files(), builtin=True))

    return load_or_build("packs", read, tuple, lambda: [shipped_rules()])


def load_pack(path: Path, document: Any = None, *, builtin: bool = False) -> LanguagePack:
    """Read and validate one pack. Raises ConfigError with file:line."""
    document = read_yaml(path) if document is None else document
    if not isinstance(document, dict):
        raise ConfigError(
            [Problem(str(path), 1, "", "expected a mapping (language, topics, countries)")]
        )
    model = validate(_Pack, document, path)
    lines: dict[tuple[str, ...], int | None] = {}
    for topic_id, topic in model.topics.items():
        lines[(topic_id,)] = line_of(document, ("topics", topic_id))
        for kind in ("concepts", "aspects"):
            for name in getattr(topic, kind):
                lines[(topic_id, kind, name)] = line_of(document, ("topics", topic_id, kind, name))
    countries = model.countries
    return LanguagePack(
        language=model.language,
        source=str(path),
        builtin=builtin,
        topics={
            topic_id: PackTopic(
                concepts={k: tuple(v) for k, v in t.concepts.items()},
                aspects={k: tuple(v) for k, v in t.aspects.items()},
                exclude=tuple(t.exclude),
            )
            for topic_id, t in model.topics.items()
        },
        inflection=countries.inflection,
        ignore=tuple(countries.ignore),
        names={k: tuple(v) for k, v in countries.names.items()},
        bodies={k: tuple(v) for k, v in countries.bodies.items()},
        cities={k: tuple(v) for k, v in countries.cities.items()},
        home=countries.home,
        cues=countries.cues,
        stages={k: tuple(v) for k, v in model.stages.model_dump().items() if v},
        counts={w.lower(): n for w, n in model.numbers.counts.items()},
        scales={w.lower(): n for w, n in model.numbers.scales.items()},
        lines=lines,
    )


def load_packs(paths: Sequence[Path], *, builtin: bool = False) -> list[LanguagePack]:
    """Every pack's problems are reported together."""
    packs: list[LanguagePack] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            packs.append(load_pack(path, builtin=builtin))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return packs
