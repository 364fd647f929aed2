"""The stage of an event a headline names: its opening, or its closing and awards; or a
country's film days or week (a showcase, often held inside a festival).

Two reports of one festival a day apart share every name, but "the festival opens" and "the
festival closes; the winners" are two stories a reader wants to see. The words are in the
language packs (``stages:``); a language without them names no stage, and then nothing is
kept apart by it.
"""

from __future__ import annotations

from functools import cache

from monitor.tag.normalize import normalize
from monitor.tag.packs import builtin_packs
from monitor.tag.terms import Lexicon, compile_lexicon, parse_term, variants


@cache
def _lexicons() -> dict[str, Lexicon]:
    out: dict[str, Lexicon] = {}
    for pack in builtin_packs():
        entries = [
            (parse_term(spelling, pack.language), stage)
            for stage, terms in pack.stages.items()
            for term in terms
            for spelling in variants(term, pack.language)
        ]
        if entries:
            out[pack.language] = compile_lexicon(entries)
    return out


def stages_named(text: str, language: str) -> frozenset[str]:
    """The stages (``opening``, ``closing``, ``showcase``) that ``text``, a headline and
    summary, names."""
    lexicon = _lexicons().get(language)
    if lexicon is None or not text:
        return frozenset()
    found = lexicon.find(normalize(text, language))
    return frozenset(label for f in found for label in f.labels)
