"""The operations ``monitor run``, ``monitor digest`` and ``monitor serve`` share, built from a
``Config``: one monitoring cycle, and writing (and sending) a digest.

Only this module, the CLI and the service turn configuration into objects; the pipeline and the
stages receive them ready-made.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from monitor.config import Config
from monitor.errors import StorageError
from monitor.models import RunReport, Source, SourceOutcome, SourceStatus
from monitor.schedule import is_due
from monitor.text import plural

# The cycle's modules (httpx, trafilatura, the tagger) load only for a cycle, the digest's
# (grouping, Jinja, babel's data) only for a digest: a run from cron with nothing due needs
# neither.
if TYPE_CHECKING:
    from monitor.alerts.engine import AlertReport
    from monitor.extractors import Extractor
    from monitor.pipeline import Progress
    from monitor.store import Store
    from monitor.tag import Tagger
    from monitor.workers import Worker

log = logging.getLogger(__name__)

FEED_DAYS = 7  # the Atom feed holds the stories of this many days
# Seconds a worker waits for another's alert step (a slow mail server, mostly) before it leaves
# what it stored to the next cycle of any worker.
ALERTS_WAIT = 20.0


def utc_now() -> datetime:
    return datetime.now(UTC)


async def cycle(
    config: Config,
    store: Store,
    tagger: Tagger,
    extract: Extractor,
    *,
    force: bool = False,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = utc_now,
    rng: random.Random | None = None,
    sources: Sequence[Source] | None = None,
    worker: str | None = None,
) -> RunReport:
    """One cycle over the configuration's sources (those due, or all with ``force``), or over
    ``sources``: those ``worker`` leased when several share the database (``claim``)."""
    from monitor.fetch import Fetcher
    from monitor.pipeline import CycleOptions, run_cycle
    from monitor.robots import Robots

    # Before the cycle, not on its first article in each language: compiling a language's
    # lexicons holds the interpreter for up to half a second, and the cycle's requests with it.
    tagger.prepare({s.language for s in config.sources if s.enabled})
    # A rule seen for the first time watches what is stored from this cycle on, not the archive.
    for rule in config.alerts:
        store.start_alert_cursor(rule.name)

    try:
        async with Fetcher(config.fetch) as fetcher:
            report = await run_cycle(
                config.sources if sources is None else sources,
                store=store,
                fetcher=fetcher,
                tagger=tagger,
                extract=extract,
                timezone=config.timezone,
                clock=clock,
                options=CycleOptions(force=force, schedule=config.schedule, rng=rng, worker=worker),
                progress=progress,
                robots=Robots(fetcher),
            )
    finally:
        if worker is not None:
            # Each outcome released its own; this is for those the cycle never reached. With the
            # database away, they lapse by themselves.
            with suppress(StorageError):
                store.release_leases(worker)
    # Within the cycle that stored the story: an alert leaves seconds after it was tagged.
    return with_alerts(config, store, report, clock())


def claim(
    config: Config,
    worker: Worker | None,
    *,
    force: bool = False,
    exclude: Collection[str] = (),
) -> tuple[Source, ...]:
    """The sources a cycle is for: all configured ones when this is the only machine on the
    storage; among several workers, the due ones (all with ``force``) that ``worker`` leased,
    none of those named in ``exclude``."""
    if worker is None:
        return config.sources
    return worker.claim([s for s in config.sources if s.name not in exclude], force=force)


def idle_cycle(
    config: Config,
    store: Store,
    clock: Callable[[], datetime] = utc_now,
    worker: str | None = None,
) -> RunReport:
    """The cycle when ``anything_due`` said no: recorded like any other, every source skipped,
    without loading what a cycle fetches and reads with."""
    started = clock()
    run_id = store.start_run(started, worker)
    outcomes = tuple(SourceOutcome(s.name, s.url, SourceStatus.SKIPPED) for s in config.sources)
    report = RunReport(run_id, started, clock(), outcomes, tagged=0)
    store.finish_run(run_id, report.finished_at, status="idle", outcomes=outcomes, tagged=0)
    # Nothing new, but a failed alert's retry or quiet hours' end may be due.
    return with_alerts(config, store, report, clock())


def with_alerts(config: Config, store: Store, report: RunReport, now: datetime) -> RunReport:
    """``report`` with the alerts sent after it."""
    done = alerts(config, store, now)
    if done is None:
        return report
    return replace(report, alerts_sent=done.sent, alert_failures=done.failures)


def alerts(config: Config, store: Store, now: datetime | None = None) -> AlertReport | None:
    """The alert rules look at what was stored since they last looked and send what is
    pending (``monitor.alerts``); None when no rule is configured."""
    if not config.alerts:
        return None
    from monitor.alerts.engine import AlertContext, run_alerts

    context = AlertContext(
        config.alerts, config.timezone, config.digest.locale, config.digest.email, os.environ
    )
    # One worker at a time looks and sends; another waits for it, then looks at what it
    # stored meanwhile: the deliveries recorded keep an alert from going twice.
    with store.exclusive("alerts", wait=ALERTS_WAIT) as ours:
        if not ours:
            log.info("alerts: another worker is sending them")
            return None
        return run_alerts(context, store, now or utc_now())


def digest_is_current(config: Config, store: Store, now: datetime | None = None) -> bool:
    """Whether today's digest files were written after anything was stored and after the
    configuration last changed: then a run with nothing due leaves them as they are (and a web
    server keeps answering 304 for them)."""
    from monitor.deliver import written_after

    day = (now or utc_now()).astimezone(config.timezone).date()
    try:
        changed = config.path.stat().st_mtime
    except OSError:
        return False
    stored = store.last_change()
    if stored is not None:
        changed = max(changed, stored.timestamp())
    return written_after(config.reports_dir, day.isoformat(), changed)


def anything_due(config: Config, store: Store, now: datetime | None = None) -> bool:
    """Whether any enabled source is due for a fetch: what a cycle has to do at all."""
    enabled = [s.name for s in config.sources if s.enabled]
    moment = now or utc_now()
    return any(is_due(when, moment) for when in store.next_due(enabled).values())


def summary(report: RunReport) -> str:
    counts = {status: 0 for status in SourceStatus}
    for outcome in report.outcomes:
        counts[outcome.status] += 1
    seconds = (report.finished_at - report.started_at).total_seconds()
    return (
        f"{plural(len(report.outcomes), 'source')}: {counts[SourceStatus.OK]} ok, "
        f"{counts[SourceStatus.NOT_MODIFIED]} unchanged, {counts[SourceStatus.ERROR]} failed, "
        f"{counts[SourceStatus.SKIPPED]} not due or disabled; "
        f"{plural(report.new_items, 'new article')}, "
        f"{report.tagged} tagged; "
        + (f"{report.alerts_sent} alerted; " if report.alerts_sent else "")
        + (
            f"{plural(len(report.alert_failures), 'alert channel')} failed; "
            if report.alert_failures
            else ""
        )
        + f"{seconds:.1f} s"
    )


@dataclass(frozen=True)
class DigestResult:
    name: str
    paths: tuple[str, ...]
    failures: tuple[str, ...]  # one message per delivery channel that failed


def scheduled_digest(
    config: Config, store: Store, day: date, slot: datetime, now: datetime
) -> DigestResult | None:
    """Write and send the digest of ``day`` for the scheduled ``slot`` unless it was served
    already; None then, or while another worker is sending it. The check and the sending are
    one worker's at a time, so a slot is sent once however many workers reach it."""
    with store.exclusive("digest") as ours:
        if not ours:
            log.info("the digest for %s is being sent by another worker", slot.isoformat())
            return None
        served = store.last_digest_slot()
        if served is not None and served >= slot:
            return None
        return write_digest(config, store, day, deliver=True, slot=slot, now=now)


def write_digest(
    config: Config,
    store: Store,
    day: date | None = None,
    last: date | None = None,
    *,
    deliver: bool = True,
    slot: datetime | None = None,
    now: datetime | None = None,
) -> DigestResult:
    """Write the digest files of a day (today by default) or of the days ``day``..``last``,
    then, with ``deliver``, send them. ``slot`` is the scheduled time this digest serves; it is
    recorded so that a restarted service knows the slot was served."""
    from monitor.deliver import send, write_files
    from monitor.digest import build_digest, day_window, select_stories
    from monitor.kept_anchors import kept_anchors

    now = now or utc_now()
    day = day or now.astimezone(config.timezone).date()
    since, until = day_window(day, config.timezone, last)
    stored = store.tagged_between(since, until)
    # The sources watched: a disabled one is the admin's choice, not a gap in the field.
    health = store.health([s.name for s in config.sources if s.enabled], since, until)
    # The reader's language leads a story told in several: the digest's own locale.
    prefer = (config.digest.locale,)
    # The feed's week was mostly grouped by the run before: what it read of each story is kept.
    with kept_anchors() as kept:
        digest = build_digest(day, config.timezone, now, stored, health, last, prefer, kept)
        recent = select_stories(
            store.tagged_between(until - timedelta(days=FEED_DAYS), until),
            config.timezone,
            prefer,
            kept,
        )
    if last is not None and last != day:
        # A period's digest (the weekly one) says what the office judged meanwhile.
        from monitor.feedback import export_lines, summary

        judged = summary(export_lines(store.feedback_since(since, until)))
        digest = replace(digest, feedback=judged)
    settings = config.digest
    paths = write_files(
        digest,
        config.reports_dir,
        locale=settings.locale,
        group_by=settings.group_by,
        feed_stories=recent,
        mode=config.reports_mode,
    )
    failures: list[str] = []
    if deliver:
        failures = send(
            digest,
            locale=settings.locale,
            group_by=settings.group_by,
            email=settings.email,
            webhooks=settings.webhooks,
            env=os.environ,
        )
        store.record_digest(digest.name, now, slot, failures)
    return DigestResult(digest.name, tuple(str(p) for p in paths), tuple(failures))
