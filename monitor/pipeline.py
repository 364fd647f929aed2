"""One monitoring cycle: every due source fetched at once and read by its kind
(``monitor.kinds``), its new items taken through the per-item path (``monitor.item``) and
stored; when each source is due next is decided by ``monitor.schedule`` and stored with its
outcome. The CLI and the scheduler call ``run_cycle``; the stages never call each other.

A failing source is recorded with its error code and the others go on. Only storage failures
stop a cycle.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from monitor.errors import SourceError, StorageError
from monitor.extractors import Extractor
from monitor.fetch import Fetcher
from monitor.item import ItemTools, private_ok, process_item
from monitor.kinds import read_source, reader
from monitor.models import (
    Article,
    FeedItem,
    ParsedFeed,
    RunReport,
    Source,
    SourceOutcome,
    SourceStatus,
    Tagging,
    Validators,
)
from monitor.robots import Robots
from monitor.schedule import SchedulePolicy, is_due, next_attempt
from monitor.store import SourceState, Store
from monitor.tag import Tagger, TagInput

log = logging.getLogger(__name__)


class Progress(Protocol):
    def source_done(self, outcome: SourceOutcome) -> None: ...
    def articles_found(self, count: int) -> None: ...
    def article_done(self) -> None: ...


class _NoProgress:
    def source_done(self, outcome: SourceOutcome) -> None:
        pass

    def articles_found(self, count: int) -> None:
        pass

    def article_done(self) -> None:
        pass


@dataclass(frozen=True)
class CycleOptions:
    force: bool = False  # fetch every enabled source, due or not
    pages_in_flight: int = 32  # bounds memory: page bodies waiting for extraction
    schedule: SchedulePolicy = field(default_factory=SchedulePolicy)
    rng: random.Random | None = None  # the schedule's jitter; seeded in simulations
    # The worker running the cycle when several share the database (monitor.workers): its run
    # is marked as its own, and each source's outcome releases its lease.
    worker: str | None = None


@dataclass(frozen=True)
class Context:
    store: Store
    fetcher: Fetcher
    tagger: Tagger
    extract: Extractor
    timezone: tzinfo
    clock: Callable[[], datetime]
    options: CycleOptions
    progress: Progress
    robots: Robots | None


async def run_cycle(
    sources: Sequence[Source],
    *,
    store: Store,
    fetcher: Fetcher,
    tagger: Tagger,
    extract: Extractor,
    timezone: tzinfo,
    clock: Callable[[], datetime],
    options: CycleOptions = CycleOptions(),
    progress: Progress | None = None,
    robots: Robots | None = None,
) -> RunReport:
    """Run one cycle over ``sources`` and return what happened to each. Sources not yet due
    are skipped unless ``options.force``; article pages a site's robots.txt disallows are not
    fetched when ``robots`` is given (and the source does not opt out)."""
    ctx = Context(
        store,
        fetcher,
        tagger,
        extract,
        timezone,
        clock,
        options,
        progress or _NoProgress(),
        robots,
    )
    started = clock()
    run_id = store.start_run(started, options.worker)
    with ThreadPoolExecutor(1, thread_name_prefix="tag") as tagging:
        cycle = _Cycle(ctx, run_id, tagging)
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(cycle.source(s)) for s in sources]
    outcomes = tuple(t.result() for t in tasks)
    report = RunReport(run_id, started, clock(), outcomes, tagged=cycle.tagged)
    store.finish_run(
        run_id,
        report.finished_at,
        status="no_source" if report.all_failed else "ok",
        outcomes=outcomes,
        tagged=cycle.tagged,
    )
    return report


class _Cycle:
    """State of one cycle: the URLs claimed so far (the same story in two feeds is fetched
    once) and the count of tagged articles."""

    def __init__(self, ctx: Context, run_id: int, tagging: ThreadPoolExecutor) -> None:
        self.ctx = ctx
        self.run_id = run_id
        self.tagging = tagging
        self.claimed: set[str] = set()
        self.tagged = 0
        self.tools = ItemTools(
            fetcher=ctx.fetcher,
            extract=ctx.extract,
            tag=self._tag,
            clock=ctx.clock,
            robots=ctx.robots,
            pages=asyncio.Semaphore(ctx.options.pages_in_flight),
        )

    async def source(self, source: Source) -> SourceOutcome:
        ctx = self.ctx
        outcome = SourceOutcome(source.name, source.url, SourceStatus.SKIPPED)
        if not source.enabled:
            ctx.progress.source_done(outcome)
            return outcome
        state = ctx.store.ensure_source(source)
        if not ctx.options.force and not is_due(state.next_due_at, ctx.clock()):
            ctx.progress.source_done(outcome)
            return outcome
        validators: Validators | None = None
        try:
            outcome, validators = await self._fetch_source(source, state)
        except SourceError as exc:
            outcome = replace(
                outcome, status=SourceStatus.ERROR, error_code=exc.code, error_message=exc.message
            )
        except (StorageError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug costs one source, not the cycle; the log keeps the trace
            log.exception("unexpected failure on source %s", source.name)
            outcome = replace(
                outcome,
                status=SourceStatus.ERROR,
                error_code="internal.error",
                error_message=f"{type(exc).__name__}: {exc}",
            )
        if outcome.status is SourceStatus.ERROR:
            log.warning("%s: %s: %s", source.name, outcome.error_code, outcome.error_message)
        now = ctx.clock()
        try:
            next_due = self._next_due(source, state, outcome, now)
        except (StorageError, asyncio.CancelledError):
            raise
        except Exception:  # a scheduling bug must not cost the cycle: the plain interval
            log.exception("%s: next fetch time not computed", source.name)
            next_due = now + source.interval
        ctx.store.record_outcome(
            self.run_id,
            state.id,
            outcome,
            validators,
            now,
            next_due,
            lease_owner=ctx.options.worker,
        )
        ctx.progress.source_done(outcome)
        return outcome

    def _next_due(
        self, source: Source, state: SourceState, outcome: SourceOutcome, now: datetime
    ) -> datetime:
        stored = self.ctx.store.history(state.id, now)
        failed = outcome.status is SourceStatus.ERROR
        history = replace(
            stored,
            consecutive_failures=stored.consecutive_failures + 1 if failed else 0,
            last_error=outcome.error_code if failed else None,
        )
        options = self.ctx.options
        return next_attempt(
            now,
            source.interval,
            history,
            options.schedule,
            adaptive=source.adaptive,
            rng=options.rng,
        )

    async def _fetch_source(
        self, source: Source, state: SourceState
    ) -> tuple[SourceOutcome, Validators]:
        ctx = self.ctx
        private = await private_ok(ctx.fetcher, source)
        fetched = await ctx.fetcher.fetch(
            source.url, state.validators, accept=reader(source.kind).accept, private_ok=private
        )
        unchanged = SourceOutcome(source.name, source.url, SourceStatus.NOT_MODIFIED)
        if fetched.not_modified:
            return unchanged, Validators(
                fetched.etag or state.validators.etag,
                fetched.last_modified or state.validators.last_modified,
                state.validators.body_hash,
            )
        body_hash = hashlib.sha256(fetched.body).hexdigest()
        validators = Validators(fetched.etag, fetched.last_modified, body_hash)
        if body_hash == state.validators.body_hash:
            return unchanged, validators  # stale validators on the server, same bytes: nothing new
        feed = await read_source(
            ctx.fetcher,
            source,
            fetched,
            now=ctx.clock(),
            timezone=ctx.timezone,
            private_ok=private,
            first_read=state.validators.body_hash is None,  # never read successfully
        )
        feed = _newest(feed, MAX_ITEMS_PER_CYCLE)
        fresh = self._fresh(feed.items, state)
        ctx.progress.articles_found(len(fresh))
        batch = _Batch(ctx.store, state.id, self.run_id)
        try:
            await asyncio.gather(*(self._article(source, item, private, batch) for item in fresh))
        except StorageError:
            raise
        except BaseException:
            self._flush(batch)  # what is done is kept when the rest failed or was cancelled
            raise
        self._flush(batch)
        outcome = SourceOutcome(
            source.name,
            source.url,
            SourceStatus.OK,
            new_items=batch.new,
            warnings=(feed.warning,) if feed.warning else (),
        )
        return outcome, validators

    def _fresh(self, items: Sequence[FeedItem], state: SourceState) -> list[FeedItem]:
        stored = self.ctx.store.known_among(state.id, [(i.url or None, i.guid) for i in items])
        fresh = []
        for item in items:
            key = item.url or f"guid:{state.id}:{item.guid}"
            if key in self.claimed or (item.url or None, item.guid) in stored:
                continue
            self.claimed.add(key)
            fresh.append(item)
        return fresh

    def _flush(self, batch: _Batch) -> None:
        self.tagged += sum(1 for article in batch.flush() if article.tagging.tagged)

    async def _article(self, source: Source, item: FeedItem, private: bool, batch: _Batch) -> None:
        """Fetch, extract and tag one item, and hand it to ``batch`` to be stored."""
        article = await process_item(self.tools, source, item, private=private)
        batch.add(article)
        if batch.full:
            self._flush(batch)
        self.ctx.progress.article_done()

    async def _tag(self, doc: TagInput) -> Tagging:
        # In the cycle's tagging thread: a feed of hundreds of items whose pages are not
        # fetched would otherwise tag them all in one turn of the event loop, holding up every
        # other source's requests.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.tagging, self.ctx.tagger.tag, doc)


# Articles are written in transactions of up to STORE_BATCH (a commit per article costs more
# than the article), and none waits longer than STORE_WAIT seconds: a slow source's work is kept
# as it goes, should the cycle be killed.
STORE_BATCH = 25
STORE_WAIT = 1.0


class _Batch:
    """A source's finished articles on their way to the store. Written together, and always
    before the source's validators (``record_outcome``): a cycle killed in between fetches the
    unwritten ones again next time."""

    def __init__(self, store: Store, source_id: int, run_id: int) -> None:
        self._store = store
        self._source_id = source_id
        self._run_id = run_id
        self._pending: list[Article] = []
        self._since = 0.0  # when the oldest pending article came
        self.new = 0  # articles stored, not counting those another source stored first

    def add(self, article: Article) -> None:
        if not self._pending:
            self._since = time.monotonic()
        self._pending.append(article)

    @property
    def full(self) -> bool:
        return len(self._pending) >= STORE_BATCH or time.monotonic() - self._since >= STORE_WAIT

    def flush(self) -> list[Article]:
        """Write what is pending; the articles that were new."""
        pending, self._pending = self._pending, []
        ids = self._store.add_articles(self._source_id, self._run_id, pending)
        new = [article for article, id_ in zip(pending, ids, strict=True) if id_ is not None]
        self.new += len(new)
        return new


# Items taken from one document per cycle, newest first; the rest is not read. News feeds carry
# tens of items: 20,000 is a mistake or an attack, and would hold the cycle up.
MAX_ITEMS_PER_CYCLE = 500


def _newest(feed: ParsedFeed, limit: int) -> ParsedFeed:
    if len(feed.items) <= limit:
        return feed
    oldest = datetime.min.replace(tzinfo=UTC)
    ranked = sorted(
        range(len(feed.items)),
        key=lambda i: (feed.items[i].published or oldest, -i),
        reverse=True,
    )
    keep = sorted(ranked[:limit])  # in the feed's own order
    note = f"{len(feed.items)} items; the newest {limit} were read"
    warning = f"{feed.warning}; {note}" if feed.warning else note
    return replace(feed, items=tuple(feed.items[i] for i in keep), warning=warning)
