"""``monitor storage backup FILE``: a consistent copy of the SQLite archive, while it is in use.

SQLite's online backup copies the database page by page under its own locks, so the service
may go on writing meanwhile and the copy is still one consistent state (copying the file with
``cp`` while a cycle writes can give a torn copy). The copy is written beside its target and
renamed into place, and checked with ``PRAGMA integrity_check`` before it is.
A database server (PostgreSQL) is backed up with its own tools (``pg_dump``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.errors import StorageError

PAGES_PER_STEP = 1024  # pages copied between two looks at the source: writers are not held long


@dataclass(frozen=True)
class Backup:
    path: Path
    bytes: int
    articles: int


def backup_sqlite(database: Path, target: Path) -> Backup:
    """Copy ``database`` to ``target`` (a file, or a folder to put ``monitor-<date>.db`` in)."""
    if not database.exists():
        raise StorageError(f"no database at {database}: nothing to back up")
    if target.is_dir():
        target = target / f"monitor-{datetime.now(UTC):%Y%m%d-%H%M%S}.db"
    partial = target.with_name(f".{target.name}.partial")
    try:
        with (
            contextlib.closing(sqlite3.connect(database, timeout=30)) as source,
            contextlib.closing(sqlite3.connect(partial)) as copy,
        ):
            source.backup(copy, pages=PAGES_PER_STEP)
            verdict = copy.execute("PRAGMA integrity_check").fetchone()
            if verdict != ("ok",):
                raise StorageError(f"the copy of {database} failed its check: {verdict}")
            articles = int(copy.execute("SELECT count(*) FROM articles").fetchone()[0])
        os.replace(partial, target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"cannot back up {database} to {target}: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Backup(target, target.stat().st_size, articles)
