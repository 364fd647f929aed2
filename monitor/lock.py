"""One cycle at a time per storage: an OS file lock, released by the kernel even on kill -9."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from monitor.errors import RunLockedError


def lock_path(sqlite_path: Path | None, reports_dir: Path) -> Path:
    """Beside the SQLite file; for a database server, in the reports folder."""
    if sqlite_path is not None:
        return sqlite_path.with_name(sqlite_path.name + ".lock")
    return reports_dir / ".monitor.lock"


@contextmanager
def cycle_lock(path: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the lock, waiting up to ``wait`` seconds. Raises RunLockedError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        raise RunLockedError(
            f"another monitoring cycle is running on this storage (lock {path}); "
            + ("it did not finish in time" if wait else "try again later or pass --wait SECONDS")
        ) from None
    try:
        yield
    finally:
        lock.release()
