"""``monitor serve``: the monitor as a long-running service, scheduled by APScheduler 3.

Three jobs, each with at most one instance and missed runs coalesced into one:

- ``fetch`` looks every minute for sources that are due and runs a cycle over them. When a
  source is due is decided after each of its fetches (its own interval, adapted and jittered by
  ``monitor.schedule``) and kept in the database, so cron and the service agree. After a cycle
  that stored something, today's digest files are rewritten; nothing is sent.
- ``digest`` writes and sends the digest at ``digest.time`` in ``timezone``. A slot missed while
  the machine slept or the service was down is served once if less than ``schedule.grace`` late;
  the slots served are recorded, so a restart never sends one twice.
- ``reload`` rereads ``sources.yaml`` when it changes (checked every few seconds) or on SIGHUP.
  A bad edit is reported with every problem and the running configuration stays.

SIGTERM or SIGINT stop the service within ``stop_timeout`` seconds (container runtimes kill
after 10 to 30): no new job starts, a running cycle is cancelled at once, and a second signal
exits at once. Cancelling is safe: articles are stored in short transactions and a feed's state
only after its articles, so the next start fetches what was cut and skips what was stored.
On SQLite, one service per storage: it holds the same lock as ``monitor run`` for as long as it
runs. On PostgreSQL, services on several hosts share the database as workers
(``monitor.workers``): each cycle leases the due sources it fetches, and the digest of a slot is
sent by one of them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from monitor import app
from monitor.config import Config, load_config, nothing_to_check
from monitor.errors import ConfigError, MonitorError, Problem
from monitor.extractors import Extractor, ProcessExtractor
from monitor.interrupt import EXIT_INTERRUPTED
from monitor.lock import cycle_lock, lock_path
from monitor.models import Source
from monitor.schedule import digest_trigger, last_slot, missed_slot
from monitor.store import Store
from monitor.tag import Tagger, load_tagger
from monitor.text import plural
from monitor.workers import Worker, shared_storage

log = logging.getLogger(__name__)

SIGNAL_SLICE = 0.2  # seconds: how soon a signal is acted on while a cycle is waited for

RELOAD_EVERY = 5.0  # seconds between checks of sources.yaml
STOP_TIMEOUT = 5.0  # seconds from SIGTERM to exit, a cancelled cycle's unwinding included
# How often the fetch job looks for due sources. A tick rather than a job rescheduled to the
# next due time: a job cannot safely reschedule itself while APScheduler is running it.
FETCH_TICK = 60.0


@dataclass(frozen=True)
class _FileState:
    mtime_ns: int
    size: int


def _file_state(path: Path) -> _FileState | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return _FileState(stat.st_mtime_ns, stat.st_size)


@dataclass(frozen=True)
class Activity:
    """What the service did, for logs and simulations."""

    at: datetime
    job: str  # fetch | digest | reload
    detail: str


class Service:
    """Build with the configuration file's path; ``run()`` blocks until a signal stops it.

    ``make_scheduler``, ``extractor``, ``rng`` and ``on_activity`` are for simulations and
    tests: a scheduler stepped by a test instead of the blocking one (called with APScheduler's
    options as keywords), an extractor without worker processes, seeded jitter, and a record of
    every job run.
    """

    def __init__(
        self,
        config_path: Path,
        *,
        make_scheduler: Callable[..., BaseScheduler] | None = None,
        extractor: Extractor | None = None,
        rng: random.Random | None = None,
        on_activity: Callable[[Activity], None] | None = None,
        stop_timeout: float = STOP_TIMEOUT,
        reload_every: float = RELOAD_EVERY,
    ) -> None:
        self.path = config_path
        self.config = load_config(config_path)  # a bad file stops the start, with every problem
        self.tagger: Tagger = load_tagger(self.config.topic_files)
        self._file = _file_state(config_path)
        self._rejected: _FileState | None = None
        self._force_reload = False
        self._extractor = extractor
        self._rng = rng
        self._on_activity = on_activity
        self._stop_timeout = stop_timeout
        self._reload_every = reload_every
        self._store: Store | None = None
        self._worker: Worker | None = None
        self._trigger: CronTrigger = digest_trigger(self.config.digest.time, self.config.timezone)
        self._stopping = threading.Event()
        self._cycle_done = threading.Event()
        self._cycle_done.set()
        self._cycle_task: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None
        options: dict[str, Any] = {
            "timezone": self.config.timezone,
            "job_defaults": {
                # A job late by less than the grace period runs once; later, it is skipped
                # (APScheduler's default grace is one second: a sleeping laptop would skip it).
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.config.schedule.grace.total_seconds()),
            },
        }
        if make_scheduler is None:
            self.scheduler: BaseScheduler = BlockingScheduler(
                executors={"default": ThreadPoolExecutor(max_workers=3)}, **options
            )
        else:
            self.scheduler = make_scheduler(**options)

    # -- life cycle ---------------------------------------------------------------------------

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT. Raises RunLockedError when another cycle or service
        holds the storage."""
        with self.opened():
            previous = self._install_signals()
            try:
                log.info(
                    "serving %s from %s; digest at %s (%s)",
                    plural(len(self.config.sources), "source"),
                    self.path,
                    self.config.digest.time,
                    self.config.timezone.key,
                )
                if not any(s.enabled for s in self.config.sources):
                    log.warning("%s", nothing_to_check(self.config))
                self.scheduler.start()  # blocks until stop() shuts it down
            finally:
                try:
                    self._finish_in_flight()  # a second signal meanwhile stops at once
                finally:
                    self._restore_signals(previous)
        log.info("stopped")
        return 0

    @contextmanager
    def opened(self) -> Iterator[Service]:
        """Hold the storage lock and the database, with the jobs added (not started)."""
        config = self.config
        with ExitStack() as stack:
            shared = shared_storage(config.storage_url)
            if not shared:
                stack.enter_context(cycle_lock(lock_path(config.sqlite_path, config.reports_dir)))
            self._store = stack.enter_context(Store(config.storage_url))
            if shared:
                self._worker = stack.enter_context(Worker(self._store, config.schedule.lease))
            if self._extractor is None:
                self._extractor = stack.enter_context(ProcessExtractor())
            self._add_jobs()
            try:
                yield self
            finally:
                self._store = None
                self._worker = None

    def stop(self, *, cancel: bool = False) -> None:
        """Stop scheduling; with ``cancel``, cancel the running cycle now."""
        if self._stopping.is_set():
            cancel = True
        self._stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if cancel:
            self._cancel_cycle()

    def _install_signals(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous: dict[int, Any] = {}

        def on_stop(signum: int, _frame: FrameType | None) -> None:
            name = signal.Signals(signum).name
            if self._stopping.is_set():
                # Nothing stored is lost: each article is committed whole (see monitor.interrupt).
                log.warning("%s received again: stopping at once", name)
                logging.shutdown()
                os._exit(EXIT_INTERRUPTED)
            busy = not self._cycle_done.is_set()
            log.info(
                "%s received: stopping%s; send it again to stop at once",
                name,
                ": the running cycle is cancelled, what it stored is kept and the next start "
                "resumes it"
                if busy
                else "",
            )
            self.stop(cancel=True)

        def on_hup(_signum: int, _frame: FrameType | None) -> None:
            log.info("SIGHUP received: reloading %s", self.path)
            self._force_reload = True
            self.scheduler.modify_job("reload", next_run_time=app.utc_now())

        for signum, handler in (
            (signal.SIGTERM, on_stop),
            (signal.SIGINT, on_stop),
            (signal.SIGHUP, on_hup),
        ):
            previous[signum] = signal.signal(signum, handler)
        return previous

    @staticmethod
    def _restore_signals(previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def _finish_in_flight(self) -> None:
        """Wait for the cancelled cycle to unwind, within the stop's time; then leave the pages
        being extracted (the workers are stopped, not waited for). A cycle still not unwound
        (a request in the resolver, a write) is left too: what it stored is kept."""
        unwound = self._wait_cycle(self._stop_timeout)
        if isinstance(self._extractor, ProcessExtractor):
            self._extractor.abandon()
        if not unwound:
            log.warning(
                "the cancelled cycle did not end within %.0f s: exiting now; the next start "
                "resumes it",
                self._stop_timeout,
            )
            logging.shutdown()
            os._exit(0)

    def _wait_cycle(self, timeout: float) -> bool:
        """Wait for the running cycle in short slices: a signal the kernel hands to another
        thread runs its Python handler only when the main thread next runs, and one long wait
        would hold a second Ctrl-C back until it ends."""
        deadline = time.monotonic() + timeout
        while not self._cycle_done.wait(min(SIGNAL_SLICE, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                return False
        return True

    def _cancel_cycle(self) -> None:
        running = self._cycle_task
        if running is not None:
            loop, task = running
            loop.call_soon_threadsafe(task.cancel)

    # -- jobs ---------------------------------------------------------------------------------

    def _add_jobs(self) -> None:
        now = app.utc_now()
        self.scheduler.add_job(
            self.fetch_job,
            "interval",
            seconds=FETCH_TICK,
            next_run_time=now,
            id="fetch",
            replace_existing=True,
        )
        self.scheduler.add_job(self.digest_job, self._trigger, id="digest", replace_existing=True)
        self.scheduler.add_job(
            self.reload_job,
            "interval",
            seconds=self._reload_every,
            id="reload",
            replace_existing=True,
        )
        store = self._require_store()
        late = missed_slot(self._trigger, now, store.last_digest_slot(), self.config.schedule.grace)
        if late is not None:
            log.info("the digest due at %s was not sent: sending it now", late.isoformat())
            self.scheduler.add_job(
                self.digest_job, "date", run_date=now, id="digest-catch-up", replace_existing=True
            )

    def fetch_job(self) -> None:
        if self._stopping.is_set():
            return
        config, store = self.config, self._require_store()
        try:
            self._fetch(config, store)
        finally:
            self._wake_when_due(config, store)

    def _fetch(self, config: Config, store: Store) -> None:
        if not app.anything_due(config, store):
            self._alerts_only(config, store)
            return
        try:
            sources = app.claim(config, self._worker)
        except MonitorError as exc:
            log.error("sources not leased: %s", exc)
            return
        if not sources:  # all that is due is other workers'
            self._alerts_only(config, store)
            return
        self._cycle_done.clear()
        try:
            report = asyncio.run(self._cycle(config, store, sources))
        except asyncio.CancelledError:
            self._record("fetch", "cycle cancelled")
            return
        except MonitorError as exc:  # storage trouble: try again later, the service stays up
            log.error("cycle failed: %s", exc)
            report = None
        finally:
            self._cycle_task = None
            self._cycle_done.set()
        if report is not None:
            fetched = [o.name for o in report.outcomes if o.status.value != "skipped"]
            self._record("fetch", f"{app.summary(report)} [{', '.join(fetched)}]")
            if report.new_items:
                self._write_today(config, store)

    def _wake_when_due(self, config: Config, store: Store) -> None:
        """Run the next fetch when the next source is due rather than at the next tick: a
        source fetched every minute would otherwise wait up to a tick more, and its alerts
        with it."""
        if self._stopping.is_set():
            return
        try:
            due = store.next_due([s.name for s in config.sources if s.enabled]).values()
        except MonitorError:
            return  # the next tick tries again
        now = app.utc_now()
        # Among several workers a source never fetched may be one nobody has taken yet (each
        # takes a share): due now. Alone, this worker's cycle just took every one of them.
        shared = self._worker is not None
        known = [when if when is not None else now for when in due if when is not None or shared]
        job = self.scheduler.get_job("fetch")
        if not known or job is None or job.next_run_time is None:
            return
        soonest = max(min(known), now + timedelta(seconds=1))
        if soonest < job.next_run_time:
            self.scheduler.modify_job("fetch", next_run_time=soonest)

    def _alerts_only(self, config: Config, store: Store) -> None:
        """With nothing due, what alerts are pending still go: a failed channel's retry, the
        end of quiet hours."""
        try:
            done = app.alerts(config, store)
        except MonitorError as exc:
            log.error("alerts not sent: %s", exc)
            return
        if done is not None and done.sent:
            self._record("alerts", f"{done.sent} alerted")

    async def _cycle(self, config: Config, store: Store, sources: tuple[Source, ...]) -> Any:
        task = asyncio.current_task()
        assert task is not None
        self._cycle_task = (asyncio.get_running_loop(), task)
        assert self._extractor is not None
        worker = self._worker.name if self._worker is not None else None
        return await app.cycle(
            config,
            store,
            self.tagger,
            self._extractor,
            rng=self._rng,
            sources=sources,
            worker=worker,
        )

    def _write_today(self, config: Config, store: Store) -> None:
        try:
            app.write_digest(config, store, deliver=False)
        except MonitorError as exc:
            log.error("today's digest files not written: %s", exc)

    def digest_job(self) -> None:
        if self._stopping.is_set():
            return
        config, store = self.config, self._require_store()
        now = app.utc_now()
        slot = last_slot(self._trigger, now, config.schedule.grace)
        if slot is None:
            slot = now  # run by hand through the scheduler, off the schedule
        day = scheduled_day(slot, config)
        try:
            # None: sent already (before a restart, by monitor run, by another worker)
            result = app.scheduled_digest(config, store, day, slot, now)
        except MonitorError as exc:
            log.error("digest for %s not written: %s", day, exc)
            return
        if result is None:
            return
        for failure in result.failures:
            log.error("digest %s: delivery failed: %s", result.name, failure)
        self._record("digest", f"{result.name} for the slot {slot.isoformat()}")

    def reload_job(self) -> None:
        state = _file_state(self.path)
        forced, self._force_reload = self._force_reload, False
        if state is None or (not forced and state in (self._file, self._rejected)):
            return
        try:
            config = load_config(self.path)
            if config.storage_url != self.config.storage_url:
                raise ConfigError(
                    [
                        Problem(
                            str(self.path),
                            None,
                            "storage",
                            "cannot change while the service runs; restart the service",
                        )
                    ]
                )
            tagger = (
                load_tagger(config.topic_files)
                if config.topic_files != self.config.topic_files
                else self.tagger
            )
            trigger = digest_trigger(config.digest.time, config.timezone)
        except ConfigError as exc:
            self._rejected = state
            for problem in exc.problems:
                log.error("sources.yaml not reloaded: %s", problem)
            self._record("reload", f"rejected: {len(exc.problems)} problem(s); old one kept")
            return
        self.config, self.tagger, self._file, self._rejected = config, tagger, state, None
        if str(trigger) != str(self._trigger) or trigger.timezone != self._trigger.timezone:
            self._trigger = trigger
            self.scheduler.reschedule_job("digest", trigger=trigger)
        self._record("reload", plural(len(config.sources), "source"))
        self.scheduler.modify_job("fetch", next_run_time=app.utc_now())  # new sources are due

    # -- helpers ------------------------------------------------------------------------------

    def _require_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the service's storage is not open")
        return self._store

    def _record(self, job: str, detail: str) -> None:
        log.info("%s: %s", job, detail)
        if self._on_activity is not None:
            self._on_activity(Activity(app.utc_now(), job, detail))


def scheduled_day(slot: datetime, config: Config) -> date:
    """The day a scheduled digest covers: the day before the slot (the last whole day), or the
    slot's own day with ``digest.day: current``."""
    local = slot.astimezone(config.timezone).date()
    return local if config.digest.day == "current" else local - timedelta(days=1)
