"""Topic rule files: their format, validation (file:line: field: message) and loading.

A topic file is one YAML mapping (see ``monitor/rules/film_cooperation.yaml`` for a commented
example)::

    id: film_cooperation          # what Tagging.topics holds; a user file with the same id
    title: Cooperation in the film industry        # replaces the built-in topic
    threshold: 0.5                # score in [0, 1] from which a story is tagged
    half_score: 3                 # evidence that scores 0.5: score = e / (e + half_score)
    proximity: {sentence: true, words: 20}   # concepts meet in one sentence, or <= 20 words apart
    weights: {title: 3, lead: 2, body: 1,    # what one meeting of the concepts is worth, by zone
              subject_in_title: 1.5,         # the title names the first concept (the subject)
              subject_share: 0.4,            # ... or this share of the other sentences does
              country_pair: 0.5}             # a sentence naming the subject and two countries
    concepts:                     # every concept must match, and they must meet
      film: {en: [film*, cinema*], ru: [кино, кинематограф*], az: [film*, kino*]}
      cooperation: {en: [cooperat*, co-produc*, ~partners], ...}   # ~ marks a weak term
    rules:                        # optional: which concepts must meet, several ways
      cooperation: {concepts: [film, cooperation]}
      film_abroad: {concepts: [film, event], national: event, countries: 2}
    aspects:                      # labels for the digest, looked up in tagged stories only
      co_production: {en: [co-produc*], ...}
    exclude:                      # terms that hide what they cover (false friends, "plastic film")
      ru: [кинолог*, киновар*]

Terms are grouped by ISO 639-1 language code; the key ``all`` holds terms for every language
(names such as Eurimages). Term syntax is described in :mod:`monitor.tag.terms`.

Without ``rules``, every concept must be found and they must meet. With ``rules``, a story is
evidenced by a meeting of any rule's concepts; a rule may also ask the sentences of its meeting
to name ``countries`` different countries (cities count; the outlet's own country counts with
another one when the story names it somewhere; ``story_countries`` asks it of the whole
story), one of its concepts to be ``national`` (a country's name or adjective right by its
term: "Days of *Kazakh* cinema"), concepts the story must name ``anywhere`` (not necessarily in
the meeting) or must not name at all (``unless``; with ``unless_outweighs: CONCEPT``, only as
often as that concept, and never in the meeting's own sentences: news named in passing does
not undo a deal on programmes), its own ``words`` window (or ``adjacent: true``: its concepts'
terms next to each other, "a *European film festival*"), and a ``strength`` that scales what
its meeting is worth. A rule whose
other party is by nature unnamed (a cash rebate for whoever films in the country, a national
pavilion at a festival) says ``one_party: true``: a story tagged by such rules alone may name
one party (see :mod:`monitor.tag.participants`).

Built-in topics are the ``*.yaml`` files of ``monitor/rules/`` that have a ``concepts`` key
(other files there, such as ``countries_extra.yaml``, are data for other purposes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.errors import ConfigError, Problem
from monitor.tag.packs import LanguagePack
from monitor.tag.terms import check_term
from monitor.yamlfile import line_of, read_yaml, validate

ALL = "all"
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_language(code: str) -> str:
    if code != ALL and not _LANGUAGE.match(code):
        raise ValueError(f"{code!r} is not a language code (use e.g. en, ru, az, or 'all')")
    return code


TermText = Annotated[str, AfterValidator(check_term)]
LanguageCode = Annotated[str, AfterValidator(_check_language)]
Terms = dict[str, list[TermText]]
LanguageTerms = dict[LanguageCode, list[TermText]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class _Proximity(_Strict):
    sentence: bool = True
    words: int | None = Field(default=None, ge=1, le=500)

    @model_validator(mode="after")
    def _some_limit(self) -> _Proximity:
        if not self.sentence and self.words is None:
            raise ValueError("set sentence: true, or words: N, or both")
        return self


class _Weights(_Strict):
    title: float = Field(default=3.0, ge=0)
    lead: float = Field(default=2.0, ge=0)
    body: float = Field(default=1.0, ge=0)
    subject_in_title: float = Field(default=0.0, ge=0)
    country_pair: float = Field(default=0.0, ge=0, le=1)
    subject_share: float = Field(default=0.0, ge=0, le=1)


class _Rule(_Strict):
    concepts: list[str] = Field(min_length=1)
    anywhere: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)
    unless_outweighs: str | None = None
    words: int | None = Field(default=None, ge=1, le=500)
    countries: int = Field(default=0, ge=0, le=10)
    story_countries: int = Field(default=0, ge=0, le=10)
    national: str | None = None
    strength: float = Field(default=1.0, gt=0, le=1)
    one_party: bool = False
    adjacent: bool = False


class _Topic(_Strict):
    id: str
    title: str = Field(min_length=1)
    threshold: float = Field(gt=0, le=1)
    proximity: _Proximity = _Proximity()
    weights: _Weights = _Weights()
    half_score: float = Field(default=3.0, gt=0)
    concepts: dict[str, LanguageTerms] = Field(min_length=1)
    aspects: dict[str, LanguageTerms] = Field(default_factory=dict)
    exclude: LanguageTerms = Field(default_factory=dict)
    rules: dict[str, _Rule] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _rule_concepts(self) -> _Topic:
        for name, rule in self.rules.items():
            named = [*rule.concepts, *rule.anywhere, *rule.unless]
            named += [rule.unless_outweighs] if rule.unless_outweighs else []
            unknown = [c for c in named if c not in self.concepts]
            if unknown:
                known = ", ".join(self.concepts)
                raise ValueError(f"rules.{name}: no concept {unknown[0]!r} (concepts: {known})")
            if rule.national is not None and rule.national not in rule.concepts:
                raise ValueError(
                    f"rules.{name}: national: {rule.national!r} is not one of its concepts"
                )
            if rule.unless_outweighs is not None and not rule.unless:
                raise ValueError(f"rules.{name}: unless_outweighs needs an unless list")
        return self

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"{value!r}: use lower-case letters, digits and _ (e.g. film_cooperation)"
            )
        return value

    @field_validator("concepts", "aspects", "rules")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(f"{name!r}: use lower-case letters, digits and _ in names")
        return value


LanguageTable = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Rule:
    """One way the concepts of a topic can meet (see the module docstring)."""

    name: str
    concepts: tuple[str, ...]
    window: int | None  # words; None: the topic's
    countries: int = 0
    national: str | None = None  # the concept a country's name must stand by
    strength: float = 1.0
    anywhere: tuple[str, ...] = ()  # concepts the story must name, not necessarily there
    story_countries: int = 0  # countries the whole story must name (cities count)
    unless: tuple[str, ...] = ()  # concepts the story must not name
    # ... only as often as this concept (and not in the meeting itself); None: not at all
    unless_outweighs: str | None = None
    one_party: bool = False  # its other party is unnamed by nature (foreign producers)
    adjacent: bool = False  # its concepts' terms stand next to each other ("European film week")


@dataclass(frozen=True)
class Topic:
    """A validated topic, independent of YAML and pydantic."""

    id: str
    title: str
    threshold: float
    same_sentence: bool
    window: int | None
    weights: Mapping[str, float]  # title, lead, body
    subject_in_title: float
    country_pair: float
    half_score: float  # evidence that scores 0.5
    concepts: tuple[tuple[str, LanguageTable], ...]
    aspects: tuple[tuple[str, LanguageTable], ...]
    exclude: LanguageTable
    source: str
    rules: tuple[Rule, ...] = ()
    subject_share: float = 0.0  # 0 = off

    @property
    def meeting_rules(self) -> tuple[Rule, ...]:
        """The rules, or, without any, one rule that all concepts meet."""
        if self.rules:
            return self.rules
        return (Rule(self.id, tuple(name for name, _ in self.concepts), None),)

    @property
    def languages(self) -> frozenset[str]:
        tables = [t for _, t in self.concepts] + [t for _, t in self.aspects] + [self.exclude]
        return frozenset(code for table in tables for code in table if code != ALL)


def load_topic(path: Path) -> Topic:
    """Read and validate one topic file. Raises ConfigError with file:line."""
    document = read_yaml(path)
    if not isinstance(document, dict):
        raise ConfigError(
            [Problem(str(path), 1, "", "expected a mapping (id, title, concepts...)")]
        )
    model = validate(_Topic, document, path)
    return Topic(
        id=model.id,
        title=model.title,
        threshold=model.threshold,
        same_sentence=model.proximity.sentence,
        window=model.proximity.words,
        weights={
            "title": model.weights.title,
            "lead": model.weights.lead,
            "body": model.weights.body,
        },
        subject_in_title=model.weights.subject_in_title,
        country_pair=model.weights.country_pair,
        subject_share=model.weights.subject_share,
        half_score=model.half_score,
        concepts=tuple((name, _table(t)) for name, t in model.concepts.items()),
        aspects=tuple((name, _table(t)) for name, t in model.aspects.items()),
        exclude=_table(model.exclude),
        source=str(path),
        rules=tuple(
            Rule(
                name,
                tuple(r.concepts),
                window=r.words,
                countries=r.countries,
                national=r.national,
                strength=r.strength,
                anywhere=tuple(r.anywhere),
                story_countries=r.story_countries,
                unless=tuple(r.unless),
                unless_outweighs=r.unless_outweighs,
                one_party=r.one_party,
                adjacent=r.adjacent,
            )
            for name, r in model.rules.items()
        ),
    )


def _table(terms: Terms) -> LanguageTable:
    return {code: tuple(dict.fromkeys(values)) for code, values in terms.items()}


def builtin_rule_files() -> list[Path]:
    """Topic files shipped in ``monitor/rules/`` (files with a ``concepts`` key), sorted."""
    folder = Path(str(resources.files("monitor") / "rules"))
    return [p for p in sorted(folder.glob("*.yaml")) if _is_topic_file(p)]


def _is_topic_file(path: Path) -> bool:
    document = read_yaml(path)
    return isinstance(document, dict) and "concepts" in document


def topic_aspects(extra_rule_files: Sequence[Path] = ()) -> dict[str, frozenset[str]]:
    """Each topic's id and aspect names, read from the files without building the topic: what
    the configuration checks an alert rule against. A file that cannot be read is left to the
    tagger's own loading, which reports it."""
    found: dict[str, frozenset[str]] = {}
    for path in [*builtin_rule_files(), *map(Path, extra_rule_files)]:
        try:
            document = read_yaml(path)
        except ConfigError:
            continue
        if isinstance(document, dict) and isinstance(document.get("id"), str):
            aspects = document.get("aspects")
            found[document["id"]] = frozenset(aspects) if isinstance(aspects, dict) else frozenset()
    return found


def load_topics(
    extra_rule_files: Sequence[Path] = (), packs: Sequence[LanguagePack] = ()
) -> tuple[Topic, ...]:
    """Built-in topics, then user topic files (a user topic replaces a built-in one with its id;
    two user files may not define the same id), then the terms of the language ``packs``.
    Every file's problems are reported together."""
    topics: dict[str, Topic] = {}
    user_ids: dict[str, str] = {}
    problems: list[Problem] = []
    for path in builtin_rule_files():
        topic = load_topic(path)
        topics[topic.id] = topic
    for path in extra_rule_files:
        try:
            topic = load_topic(Path(path))
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if topic.id in user_ids:
            message = f"topic id {topic.id!r} is already defined in {user_ids[topic.id]}"
            problems.append(
                Problem(str(path), line_of(read_yaml(Path(path)), ("id",)), "id", message)
            )
            continue
        user_ids[topic.id] = str(path)
        topics[topic.id] = topic
    for pack in packs:
        # A user topic that replaced a built-in one does not take the built-in packs' terms:
        # they were written for the concepts of the built-in definition.
        skip = frozenset(user_ids) if pack.builtin else frozenset()
        problems.extend(_merge_pack(topics, pack, skip))
    for topic in topics.values():
        # Checked once the packs are in: a topic file may leave every term to them.
        problems.extend(
            Problem(
                topic.source,
                _line(topic.source, ("concepts", name)),
                f"concepts.{name}",
                "no terms in any language (neither here nor in a language pack)",
            )
            for name, table in topic.concepts
            if not any(table.values())
        )
    if problems:
        raise ConfigError(problems)
    return tuple(topics.values())


def _line(source: str, loc: tuple[str, ...]) -> int | None:
    try:
        return line_of(read_yaml(Path(source)), loc)
    except ConfigError:
        return None


def _merge_pack(
    topics: dict[str, Topic], pack: LanguagePack, skip: frozenset[str]
) -> list[Problem]:
    """Add a pack's terms to the topics it names, under its language. Unknown topic, concept or
    aspect names are reported: they are typos, and a silent one would lose a term list."""
    problems = []
    for topic_id, terms in pack.topics.items():
        if topic_id in skip:
            continue
        topic = topics.get(topic_id)
        if topic is None:
            known = ", ".join(sorted(topics)) or "none"
            problems.append(
                Problem(
                    pack.source,
                    pack.lines.get((topic_id,)),
                    f"topics.{topic_id}",
                    f"no topic with this id (known: {known})",
                )
            )
            continue
        merged = {}
        for kind, current, added in (
            ("concepts", topic.concepts, terms.concepts),
            ("aspects", topic.aspects, terms.aspects),
        ):
            names = dict(current)
            for name, values in added.items():
                if name not in names:
                    problems.append(
                        Problem(
                            pack.source,
                            pack.lines.get((topic_id, kind, name)),
                            f"topics.{topic_id}.{kind}.{name}",
                            f"topic {topic_id!r} has no such {kind[:-1]} (it has: {', '.join(names)})",
                        )
                    )
                    continue
                names[name] = _extend(names[name], pack.language, values)
            merged[kind] = tuple(names.items())
        topics[topic_id] = replace(
            topic,
            concepts=merged["concepts"],
            aspects=merged["aspects"],
            exclude=_extend(topic.exclude, pack.language, terms.exclude),
        )
    return problems


def _extend(table: LanguageTable, language: str, values: Sequence[str]) -> LanguageTable:
    if not values:
        return table
    merged = dict(table)
    merged[language] = tuple(dict.fromkeys((*merged.get(language, ()), *values)))
    return merged
