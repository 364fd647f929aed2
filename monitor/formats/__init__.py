"""Digest formats: one module per format, each turning a ``Digest`` into text in the reader's
language, and ``_MODULES``, the registry. ``monitor.deliver`` writes the formats that have a file
suffix into the reports folder and sends the others; nothing else names a format.

What every format shares lives here: the order of stories (best first) and which evidence a
story shows. Adding a format: a module with a ``FORMAT``, its tests and a line in ``_MODULES``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from monitor.models import Digest, Story

__all__ = ["DigestFormat", "GroupBy", "View", "best_first", "evidence_by_sentence", "get"]

GroupBy = Literal["aspect", "country"] | None

_MODULES: dict[str, str] = {
    "json": "monitor.formats.jsondata",
    "markdown": "monitor.formats.markdown",
    "html": "monitor.formats.html",
    "chat": "monitor.formats.chat",
}

EVIDENCE_SENTENCES = 3  # evidence sentences a story shows


@dataclass(frozen=True)
class View:
    """How the reader wants it: the language of the words around the stories, and how the
    stories are grouped where a format groups them."""

    locale: str = "en"
    group_by: GroupBy = None


@dataclass(frozen=True)
class DigestFormat:
    name: str
    suffix: str  # its file in the reports folder, ".json"; "" for a format that is only sent
    media_type: str
    render: Callable[[Digest, View], str]


@functools.cache
def get(name: str) -> DigestFormat:
    """The format called ``name``; its module is imported the first time."""
    if name not in _MODULES:
        raise KeyError(f"no digest format {name!r} (known: {', '.join(_MODULES)})")
    found = importlib.import_module(_MODULES[name]).FORMAT
    assert isinstance(found, DigestFormat) and found.name == name, _MODULES[name]
    return found


def names() -> tuple[str, ...]:
    return tuple(_MODULES)


def file_formats() -> list[DigestFormat]:
    """The formats written into the reports folder for every digest, in registry order."""
    return [f for f in map(get, _MODULES) if f.suffix]


def best_first(stories: Iterable[Story]) -> list[Story]:
    """The digest's one order: highest score first, then newest, then by link."""
    return sorted(stories, key=lambda s: (-s.score, -s.published.timestamp(), s.url))


def evidence_by_sentence(story: Story) -> list[tuple[str, list[str]]]:
    """The evidence a story shows: each sentence once, in order, with the terms it matched;
    the first ``EVIDENCE_SENTENCES``."""
    grouped: dict[str, list[str]] = {}
    for ev in story.evidence:
        terms = grouped.setdefault(ev.text, [])
        if ev.term not in terms:
            terms.append(ev.term)
    return list(grouped.items())[:EVIDENCE_SENTENCES]
