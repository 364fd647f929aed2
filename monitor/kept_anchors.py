"""What the grouping found of each story, kept between runs.

The digest's Atom feed groups the stories of the last week: reading the anchors of a thousand
stories (their names, numbers, countries) is most of a day's digest, and six days of them were
read by the run before. Each story's :class:`~monitor.grouping.RawAnchors` is kept by a digest
of everything it was read from (:func:`~monitor.grouping.anchor_key`), so a story edited since,
or tagged anew, is read again; the file holds the stories the last run used, and is named by a
hash of the grouping's code and the language packs, so a new version starts afresh. It lives
in the cache folder of :mod:`monitor.tag.cache` (``MONITOR_CACHE_DIR=off`` turns it off); a
file that cannot be read or written costs the work, never a failure.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from monitor.grouping import RawAnchors
from monitor.tag.cache import (
    cache_dir,
    fingerprint,
    read_pickle,
    remove_unused,
    shipped_rules,
    write_pickle,
)

NAME = "anchors"


class KeptAnchors(MutableMapping[str, RawAnchors]):
    """The kept anchors, remembering which were used or added in this run."""

    def __init__(self, found: dict[str, RawAnchors] | None = None) -> None:
        self._found = dict(found or {})
        self.used: dict[str, RawAnchors] = {}
        self.added = 0

    def __getitem__(self, key: str) -> RawAnchors:
        value = self._found[key]
        self.used[key] = value
        return value

    def __setitem__(self, key: str, value: RawAnchors) -> None:
        self._found[key] = value
        self.used[key] = value
        self.added += 1

    def __delitem__(self, key: str) -> None:
        del self._found[key]
        self.used.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._found)

    def __len__(self) -> int:
        return len(self._found)


@contextmanager
def kept_anchors() -> Iterator[KeptAnchors]:
    """The anchors the last run kept; on leaving, those this run used are kept for the next,
    if it found any anew."""
    path = _path()
    found = read_pickle(path, dict) if path is not None else None
    kept = KeptAnchors(found)
    yield kept
    if path is not None and kept.added:
        write_pickle(path, kept.used)
        remove_unused(path.parent, NAME)


def _path() -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    return folder / f"{NAME}-{fingerprint([shipped_rules(), _grouping_code()])}.pickle"


@functools.cache
def _grouping_code() -> bytes:
    return (resources.files("monitor") / "grouping.py").read_bytes()
