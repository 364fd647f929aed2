"""How each language writes numbers, from the language packs (``numbers:``), for the grouping:
counts written as words ("six", "шести", "altı" where a translation has no digit) and the scale
words after a number ("5 млн", "5 milyon"). A new language brings its own in its pack."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from monitor.tag.packs import builtin_packs


@cache
def count_words() -> Mapping[str, Mapping[str, int]]:
    """Per language, the exact word forms of counts: {"ru": {"шести": 6, ...}, ...}."""
    return {p.language: dict(p.counts) for p in builtin_packs() if p.counts}


@cache
def scale_words() -> Mapping[str, float]:
    """Every language's scale words in one table: a translated story may keep the original's
    ("5 mln" in English), so they are looked up whatever the story's language."""
    return {word: value for p in builtin_packs() for word, value in p.scales.items()}
