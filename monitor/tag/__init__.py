"""The tagging stage: which topics a story is about, why, in which language, with which countries.

Public surface::

    tagger = load_tagger(extra_rule_files=[Path("my_topic.yaml")])   # ConfigError on bad files
    tagging = tagger.tag(TagInput(title=..., text=..., lead=..., language="az"))

Rules are data: topic files (``monitor/rules/*.yaml``; format in :mod:`monitor.tag.rules`, term
syntax in :mod:`monitor.tag.terms`) and country data (``monitor/rules/countries_extra.yaml`` on
top of CLDR, :mod:`monitor.tag.countries`). ``tag`` is pure and the tagger is picklable, so it can
be sent to worker processes.

Modules: ``normalize`` (text folding, words, sentences), ``terms`` (term syntax, one-regex
lexicons), ``rules`` (topic files), ``countries``, ``language`` (py3langid), ``matcher`` (a topic's
verdict), ``participants`` (which named countries take part), ``tagger`` (the whole).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from monitor.models import Tagging
from monitor.tag.cache import file_contents, load_or_build, shipped_rules
from monitor.tag.countries import load_country_finder
from monitor.tag.language import LanguageDetector
from monitor.tag.matcher import compile_topic
from monitor.tag.packs import builtin_packs, is_pack, load_packs
from monitor.tag.participants import load_participant_rules
from monitor.tag.rules import load_topics
from monitor.tag.tagger import RuleTagger, TagInput
from monitor.yamlfile import read_yaml

__all__ = ["RuleTagger", "TagInput", "Tagger", "load_tagger"]


class Tagger(Protocol):
    def prepare(self, languages: Iterable[str | None]) -> None: ...
    def tag(self, doc: TagInput) -> Tagging: ...


def load_tagger(extra_rule_files: Sequence[Path] = ()) -> Tagger:
    """The built-in topic rules (monitor/rules/*.yaml, shipped in the package) plus user files,
    which may add topics or override a built-in one by id. Raises ConfigError with file:line.
    Read from the cache of built taggers when nothing it depends on changed (``tag.cache``)."""
    files = [Path(p) for p in extra_rule_files]

    def depends_on() -> list[bytes]:
        return [shipped_rules(), *file_contents(files)]

    return load_or_build("tagger", lambda: build_tagger(files), RuleTagger, depends_on)


def build_tagger(extra_rule_files: Sequence[Path] = ()) -> RuleTagger:
    """Like :func:`load_tagger`, typed as the concrete class (for tests and benchmarks).

    ``extra_rule_files`` may be topic files or language packs (a file with a ``language`` key).
    """
    user_topics: list[Path] = []
    user_packs: list[Path] = []
    for path in extra_rule_files:
        (user_packs if is_pack(read_yaml(Path(path))) else user_topics).append(Path(path))
    packs = [*builtin_packs(), *load_packs(user_packs)]
    topics = load_topics(user_topics, packs)
    languages = frozenset().union(*(t.languages for t in topics))
    compiled = tuple(compile_topic(t, languages) for t in topics)
    countries = load_country_finder(languages, packs=packs)
    parties = load_participant_rules(packs)
    return RuleTagger(compiled, countries, LanguageDetector(sorted(languages)), parties)
