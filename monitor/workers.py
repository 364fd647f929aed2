"""Several workers on one PostgreSQL database: ``monitor serve`` (or ``monitor run`` from cron)
on several hosts.

Each process is a worker named ``host:pid``, registered in the ``workers`` table while it runs.
A cycle leases the due sources it will fetch (``Store.claim_sources``: ``FOR UPDATE SKIP
LOCKED``, a site's sources to one worker at a time) until ``schedule.lease`` from now; a thread
renews the worker's heartbeat and its leases every third of a lease, and the outcome of each
source releases it. A worker that dies stops renewing: its sources go back to the others once
the lease lapses. The scheduled digest and the alerts are each sent by one worker at a time
(``Store.exclusive``), and the records of slots and deliveries keep them from going twice.

On SQLite nothing of this is used: a file lock keeps one cycle at a time per database.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from monitor.errors import MonitorError
from monitor.models import Source
from monitor.text import plural

if TYPE_CHECKING:
    from monitor.store import Store

log = logging.getLogger(__name__)


def shared_storage(storage_url: str) -> bool:
    """Whether a storage URL names a database server that several workers may share (without
    opening it: the file lock is taken before the database is)."""
    return storage_url.startswith(("postgresql:", "postgres:", "postgresql+"))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Worker:
    """This process as one of the workers sharing ``store``: registered on entering, with a
    heartbeat thread that keeps its leases, and unregistered (its leases released) on leaving.
    """

    def __init__(
        self,
        store: Store,
        lease: timedelta,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.store = store
        self.lease = lease
        self.name = name or worker_name()
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Worker:
        host, _, pid = self.name.rpartition(":")
        self.store.register_worker(
            self.name, host, int(pid) if pid.isdigit() else os.getpid(), self.lease, self._clock()
        )
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self._thread.start()
        log.info("worker %s: leases of %s", self.name, self.lease)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.store.unregister_worker(self.name)
        except MonitorError as exc:  # its leases lapse on their own
            log.warning("worker %s not unregistered: %s", self.name, exc)

    def claim(self, sources: Sequence[Source], *, force: bool = False) -> tuple[Source, ...]:
        """Of the enabled ``sources``, those this worker now holds (in their order): due (all
        with ``force``), held by no other live worker, on no site another worker is fetching."""
        enabled = [s for s in sources if s.enabled]
        won = self.store.claim_sources(enabled, self.name, self._clock(), self.lease, force=force)
        return tuple(s for s in enabled if s.name in won)

    def _beat(self) -> None:
        # A third of the lease: two heartbeats may fail (a database restart) before one lapses.
        every = self.lease.total_seconds() / 3
        while not self._stop.wait(every):
            try:
                self.store.heartbeat(self.name, self._clock(), self.lease)
            except MonitorError as exc:
                log.warning("worker %s: heartbeat failed: %s", self.name, exc)


def print_workers(store: Store, out: TextIO, now: datetime | None = None) -> None:
    """``monitor workers``: the live workers, their leases and last heartbeat, and those that
    stopped answering (their leases lapse or have lapsed)."""
    if not store.shared:
        print(
            "this storage is SQLite: one machine's, one cycle at a time under a file lock; "
            "several workers need a PostgreSQL server (see 'Running on several machines')",
            file=out,
        )
        return
    now = now or _utc_now()
    rows = store.list_workers(now)
    live = [r for r in rows if r["live"]]
    print(f"{plural(len(live), 'live worker')}", file=out)
    for row in rows:
        beat = (now - row["heartbeat_at"]).total_seconds()
        state = "" if row["live"] else "  NOT ANSWERING"
        print(
            f"{row['name']}  host {row['host']}  pid {row['pid']}  "
            f"since {row['started_at']:%Y-%m-%d %H:%M:%S}Z  "
            f"heartbeat {beat:.0f} s ago  lease {row['lease_seconds']:g} s{state}",
            file=out,
        )
        for source, until in row["leases"]:
            left = (until - now).total_seconds()
            when = f"for {left:.0f} s" if left >= 0 else f"lapsed {-left:.0f} s ago"
            print(f"    {source}  leased {when}", file=out)
