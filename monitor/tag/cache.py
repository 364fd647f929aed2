"""The built tagger, its language model and the validated language packs kept on disk between
runs.

Building the tagger (reading the rule files and language packs, turning eleven languages'
vocabulary into one regex source a lexicon) takes about two seconds, unpacking the language
model half a second, validating the packs (which the digest's grouping reads too) most of a
second; reading them back takes milliseconds, and every ``monitor run`` from cron
that has something to fetch needs both. A file is named by a hash of everything its build reads
or depends on (the rule and pack files, user files named in ``sources.yaml``, the tagger's code,
the versions of Python, CLDR's data and the language model), so a change to any of them builds
afresh; files not used for 30 days are removed when a new one is written. The grouping keeps
what it read of each story in the same folder (:mod:`monitor.kept_anchors`).

Where: ``$MONITOR_CACHE_DIR``, else systemd's ``$CACHE_DIRECTORY``, else ``$XDG_CACHE_HOME`` or
``~/.cache``, in ``film-coop-monitor/``. ``MONITOR_CACHE_DIR=off`` turns the cache off. A pickle
runs code when read, so only a file owned by this user and writable by nobody else is read; any
file that cannot be read or written costs a build, never a failure.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import TypeVar

from monitor import __version__
from monitor.atomic import replacing

log = logging.getLogger(__name__)

T = TypeVar("T")

APP_DIR = "film-coop-monitor"
_DEPENDENCIES = ("babel", "py3langid")  # CLDR's names and the model are built into the tagger


def cache_dir(env: dict[str, str] | None = None) -> Path | None:
    """Where the cache lives, or None when it is turned off."""
    env = dict(os.environ) if env is None else env
    chosen = env.get("MONITOR_CACHE_DIR", "").strip()
    if chosen:
        return None if chosen.lower() == "off" else Path(chosen)
    systemd = env.get("CACHE_DIRECTORY", "").split(":")[0].strip()  # CacheDirectory=
    if systemd:
        return Path(systemd)
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / APP_DIR


def fingerprint(parts: Iterable[bytes]) -> str:
    """A hash of ``parts`` and of the versions every cached object depends on."""
    digest = hashlib.sha256()
    digest.update(f"{__version__}\n{sys.version}\n".encode())
    for name in _DEPENDENCIES:
        try:
            digest.update(f"{name} {metadata.version(name)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name} -\n".encode())
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:32]


@functools.cache
def shipped_rules() -> bytes:
    """The rule files, language packs and tagger code shipped with the monitor, in one piece:
    what a built tagger depends on besides the user's files. Read once per process."""
    package = resources.files("monitor")
    entries = [e for folder in (package / "rules", package / "tag") for e in _files(folder)]
    return b"".join(
        e.name.encode() + b"\0" + e.read_bytes() + b"\0"
        for e in sorted(entries, key=lambda e: e.name)
        if e.name.endswith((".yaml", ".py"))
    )


def file_contents(paths: Sequence[Path]) -> Iterator[bytes]:
    """Each file's resolved path and content. Raises OSError for one that cannot be read."""
    for path in paths:
        resolved = Path(path).resolve()
        yield str(resolved).encode() + b"\0" + resolved.read_bytes()


def _files(folder: resources.abc.Traversable) -> list[resources.abc.Traversable]:
    found = []
    for entry in folder.iterdir():
        if entry.is_dir():
            found.extend(_files(entry))
        elif entry.is_file():
            found.append(entry)
    return found


def load_or_build(
    name: str, build: Callable[[], T], kind: type[T], depends_on: Callable[[], Iterable[bytes]]
) -> T:
    """The cached ``kind`` called ``name`` whose build read ``depends_on()``, or ``build()``
    (then kept for the next run). Whatever ``build`` raises (a ConfigError for a bad user file)
    is raised."""
    folder = cache_dir()
    if folder is None:
        return build()
    try:
        path = folder / f"{name}-{fingerprint(depends_on())}.pickle"
    except OSError:
        return build()  # a user file that cannot be read: the build says so properly
    found = read_pickle(path, kind)
    if found is not None:
        return found
    built = build()
    write_pickle(path, built)
    remove_unused(folder, name)
    return built


def read_pickle(path: Path, kind: type[T]) -> T | None:
    """The ``kind`` kept in ``path``, if this user alone may have written it; else None."""
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                log.warning("%s: not read: it is not ours alone", path)
                return None
            value = pickle.load(handle)
        os.utime(path)  # used: see remove_unused
    except FileNotFoundError:
        return None
    except Exception as exc:  # a file cut short, written by other code: build afresh
        log.info("%s: not read (%s: %s); building afresh", path, type(exc).__name__, exc)
        return None
    return value if isinstance(value, kind) else None


def write_pickle(path: Path, value: object) -> None:
    """Keep ``value`` in ``path`` (readable by this user alone); a failure is only logged."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Synced as it is written, before the cycle: left to the kernel, tens of megabytes would
        # be flushed by the cycle's first database commit, which would wait for them.
        with replacing(path) as handle:  # 0600
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as exc:
        log.info("%s is not kept: %s", path, exc)


UNUSED_DAYS = 30


def remove_unused(folder: Path, name: str) -> None:
    """Files of ``name`` not read for ``UNUSED_DAYS``: those of an older version or of rule
    files since changed. Others may be another configuration's, in use."""
    limit = time.time() - UNUSED_DAYS * 86400
    for old in folder.glob(f"{name}-*.pickle"):
        try:
            if old.stat().st_mtime < limit:
                old.unlink()
        except OSError:
            pass
