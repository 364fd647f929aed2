"""One monitoring cycle: every due source fetched at once (a feed, a sitemap or a listing page),
its new items extracted, tagged and stored; when each source is due next is decided by
``monitor.schedule`` and stored with its outcome. The CLI and the scheduler call ``run_cycle``; the stages never call each other.

A failing source is recorded with its error code and the others go on. Only storage failures
stop a cycle.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import Protocol
from urllib.parse import urljoin

from monitor.content import looks_like_html
from monitor.errors import ExtractError, FetchError, ParseError, SourceError, StorageError
from monitor.extract import extract_page, watch_parent
from monitor.fetch import FEED_ACCEPT, PAGE_ACCEPT, Fetcher
from monitor.listing import parse_listing, parse_sitemap, sitemaps_in_robots
from monitor.models import (
    Article,
    FeedItem,
    Fetched,
    PageText,
    ParsedFeed,
    RunReport,
    Source,
    SourceOutcome,
    SourceStatus,
    TextOrigin,
    Validators,
)
from monitor.parse import parse_feed
from monitor.robots import Robots
from monitor.schedule import SchedulePolicy, is_due, next_attempt
from monitor.store import SourceState, Store
from monitor.tag import Tagger, TagInput
from monitor.urls import is_http_url

log = logging.getLogger(__name__)

# Feeds larger than this are parsed in a thread so that fetches keep flowing meanwhile.
_PARSE_IN_THREAD_BYTES = 256 * 1024


class Extractor(Protocol):
    async def __call__(self, body: bytes, url: str, content_type: str | None) -> PageText: ...


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


class ProcessExtractor:
    """Runs extraction in worker processes: it is the cycle's CPU cost, and trafilatura is not
    safe in threads. The pool is replaced after ``tasks_per_child`` pages a worker, to keep
    lxml's caches bounded, and a crashed worker costs one page, not the cycle.

    Not ``ProcessPoolExecutor(max_tasks_per_child=...)``: on Python 3.11 to 3.14 a pool whose
    worker exits at that limit with work queued may never start a replacement, and every page
    after it waits forever (CPython gh-115634).

    A page not extracted within ``page_timeout`` seconds (queueing included) fails with
    ``extract.timeout``, and its pool is killed and replaced: a worker stuck in lxml cannot be
    interrupted, and would otherwise hold the cycle. Pages in flight in that pool fail too
    (``extract.crashed``) and keep their feed text."""

    def __init__(
        self,
        workers: int | None = None,
        tasks_per_child: int = 1000,
        function: Callable[[bytes, str, str | None], PageText] = extract_page,
        page_timeout: float = 120.0,
    ) -> None:
        self._function = function  # module-level, so that it can be sent to the workers
        self._page_timeout = page_timeout
        self._workers = max(1, workers or os.cpu_count() or 1)
        self._tasks_per_child = tasks_per_child
        self._pool: ProcessPoolExecutor | None = None
        self._submitted = 0  # pages sent to the current pool
        self._worn: list[ProcessPoolExecutor] = []  # the replaced pool, finishing its pages

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is not None and self._submitted >= self._tasks_per_child * self._workers:
            # Its workers finish the pages they were sent, then exit; not waited for here, on
            # the event loop. Only the last one is kept for close() to wait for: the one before
            # was replaced a whole pool's worth of pages ago.
            self._pool.shutdown(wait=False)
            self._worn, self._pool = [self._pool], None
        if self._pool is None:
            # forkserver/spawn: forking a process that runs an event loop and threads is unsafe.
            method = (
                "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            )
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                # Workers fork from a server that has imported trafilatura and lxml once: they
                # start at once, and share those pages instead of each holding a copy.
                context.set_forkserver_preload(["monitor.extract"])
            self._pool = ProcessPoolExecutor(
                self._workers,
                mp_context=context,
                # In monitor.extract: a worker then imports what extraction needs, not the
                # pipeline with httpx, SQLAlchemy and the tagger.
                initializer=watch_parent,
                initargs=(os.getpid(),),
            )
            self._submitted = 0
        return self._pool

    async def __call__(self, body: bytes, url: str, content_type: str | None) -> PageText:
        loop = asyncio.get_running_loop()
        pool = self._executor()
        self._submitted += 1
        work = loop.run_in_executor(pool, self._function, body, url, content_type)
        try:
            return await asyncio.wait_for(work, self._page_timeout)
        except BrokenProcessPool:
            self._discard(pool)
            raise ExtractError(
                "extract.crashed", "the extractor process died on this page"
            ) from None
        except TimeoutError:
            self._discard(pool, kill=True)
            raise ExtractError(
                "extract.timeout", f"no text extracted within {self._page_timeout:g} s"
            ) from None

    def _discard(self, pool: ProcessPoolExecutor, *, kill: bool = False) -> None:
        if self._pool is pool:
            self._pool = None
        if kill:
            # No public way to stop a busy worker before Python 3.14's kill_workers().
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        for pool in [*self._worn, self._pool]:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._pool, self._worn = None, []

    def abandon(self) -> None:
        """Stop now: the workers are killed, not waited for (a page in lxml cannot be
        interrupted, and a stopping service has seconds, not the page's two minutes). The pages
        they held are not stored; the next cycle fetches them again."""
        for pool in [*self._worn, self._pool]:
            if pool is not None:
                self._discard(pool, kill=True)
        self._pool, self._worn = None, []

    def __enter__(self) -> ProcessExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class CycleOptions:
    force: bool = False  # fetch every enabled source, due or not
    pages_in_flight: int = 32  # bounds memory: page bodies waiting for extraction
    schedule: SchedulePolicy = field(default_factory=SchedulePolicy)
    rng: random.Random | None = None  # the schedule's jitter; seeded in simulations


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
    run_id = store.start_run(started)
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
        self.pages = asyncio.Semaphore(ctx.options.pages_in_flight)

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
        except (
            Exception
        ) as exc:  # a bug must cost one source, not the cycle; the log keeps the trace
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
        ctx.store.record_outcome(self.run_id, state.id, outcome, validators, now, next_due)
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
        accept = FEED_ACCEPT if source.kind == "feed" else PAGE_ACCEPT
        # A source on this machine or its network may link there; one on the internet may not.
        private_ok = ctx.fetcher.policy.allow_private or await ctx.fetcher.is_private(source.url)
        fetched = await ctx.fetcher.fetch(
            source.url, state.validators, accept=accept, private_ok=private_ok
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
            private_ok=private_ok,
        )
        feed = _newest(feed, MAX_ITEMS_PER_CYCLE)
        fresh = self._fresh(feed.items, state)
        ctx.progress.articles_found(len(fresh))
        batch = _Batch(ctx.store, state.id, self.run_id)
        try:
            await asyncio.gather(*(self._article(source, state, item, private_ok, batch)
                                   for item in fresh))  # fmt: skip
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

    async def _article(
        self, source: Source, state: SourceState, item: FeedItem, private_ok: bool, batch: _Batch
    ) -> None:
        """Fetch, extract and tag one item, and hand it to ``batch`` to be stored."""
        ctx = self.ctx
        page: PageText | None = None
        error: str | None = None
        if item.url and not private_ok and await ctx.fetcher.is_private(item.url):
            error = "fetch.private_address"  # said before robots.txt, which it would hide
        elif (
            item.url
            and is_http_url(item.url)
            and not await self._allowed(source, item.url, private_ok)
        ):
            error = "fetch.robots_disallowed"
        elif item.url and is_http_url(item.url):
            # The host's turn first, then a page slot: see Fetcher.take_turn.
            await ctx.fetcher.take_turn(item.url)
            async with self.pages:
                try:
                    fetched = await ctx.fetcher.fetch(
                        item.url, accept=PAGE_ACCEPT, private_ok=private_ok
                    )
                    page = await ctx.extract(
                        fetched.body, fetched.final_url, fetched.headers.get("content-type")
                    )
                except (FetchError, ExtractError, ParseError) as exc:
                    error = exc.code
                    log.info(
                        "%s: page %s not used (%s), text taken from the feed",
                        source.name,
                        item.url,
                        exc,
                    )
        else:
            error = "extract.no_link"
        text, origin = choose_text(item, page)
        doc = TagInput(
            item.title, text, lead=item.summary, language=source.language, country=source.country
        )
        # In the cycle's tagging thread: a feed of hundreds of items whose pages are not
        # fetched would otherwise tag them all in one turn of the event loop, holding up every
        # other source's requests.
        tagging = await asyncio.get_running_loop().run_in_executor(
            self.tagging, ctx.tagger.tag, doc
        )
        article = Article(
            source=source.name,
            url=item.url,
            title=item.title or (page.title if page and page.title else ""),
            text=text,
            text_origin=origin,
            fetched_at=ctx.clock(),
            guid=item.guid,
            summary=item.summary,
            published=item.published or (page.published if page else None),
            author=item.author or (page.author if page else None),
            categories=item.categories,
            language=tagging.language or source.language,
            extract_error=error,
            tagging=tagging,
        )
        batch.add(article)
        if batch.full:
            self._flush(batch)
        ctx.progress.article_done()

    async def _allowed(self, source: Source, url: str, private_ok: bool) -> bool:
        robots = self.ctx.robots
        return (
            robots is None or not source.robots or await robots.allowed(url, private_ok=private_ok)
        )


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


SITEMAPS_PER_SOURCE = 3  # sitemaps read per cycle after the first
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


async def read_source(
    fetcher: Fetcher,
    source: Source,
    fetched: Fetched,
    *,
    now: datetime,
    timezone: tzinfo,
    private_ok: bool,
) -> ParsedFeed:
    """The items of a source's fetched document: a feed, a listing page, or a sitemap (with the
    sitemaps it leads to). Large documents are parsed in a thread so fetches keep flowing."""
    read = partial(_read_items, source, fetched, now, timezone)
    large = len(fetched.body) > _PARSE_IN_THREAD_BYTES
    feed = await asyncio.to_thread(read) if large else read()
    if source.kind == "sitemap":
        feed = await _follow_sitemaps(fetcher, source, fetched, feed, now, private_ok)
    return feed


def _read_items(source: Source, fetched: Fetched, now: datetime, timezone: tzinfo) -> ParsedFeed:
    if source.kind == "html":
        return parse_listing(
            fetched.body,
            fetched.final_url,
            selector=source.selector,
            pattern=source.pattern,
            headers=fetched.headers,
        )
    if source.kind == "sitemap":
        return _sitemap_feed(fetched, now)
    return parse_feed(
        fetched.body,
        fetched.headers,
        fetched.final_url,
        language=source.language,
        default_tz=timezone,
        now=now,
    )


async def _follow_sitemaps(
    fetcher: Fetcher,
    source: Source,
    fetched: Fetched,
    first: ParsedFeed,
    now: datetime,
    private_ok: bool,
) -> ParsedFeed:
    """Follow sitemap indexes, or the site's robots.txt when ``url`` is the site itself, to the
    news sitemaps: a few, news first, newest first (an outlet's index lists years of archives).
    An index found on the way is followed too, within the same budget."""
    pending = list(first.children)
    if first.version == "site":
        try:
            robots = await fetcher.fetch(
                urljoin(fetched.final_url, "/robots.txt"), private_ok=private_ok
            )
            text = robots.body.decode("utf-8", "replace")
        except FetchError as exc:
            text = ""
            log.info("%s: robots.txt not read (%s)", source.name, exc)
        pending = sitemaps_in_robots(text, fetched.final_url)
        if not pending:
            raise ParseError(
                "parse.no_sitemap",
                f"{source.url} is a web page and its robots.txt names no sitemap; "
                "give the sitemap's address as url",
            )
    items = list(first.items)
    seen = {fetched.url, fetched.final_url}
    budget = SITEMAPS_PER_SOURCE
    while pending and budget > 0:
        url = _news_first(pending)[0]
        pending.remove(url)
        if url in seen:
            continue
        seen.add(url)
        budget -= 1
        try:
            child = _sitemap_feed(await fetcher.fetch(url, private_ok=private_ok), now)
        except (FetchError, ParseError) as exc:
            log.info("%s: sitemap %s not read (%s)", source.name, url, exc)
            continue
        items.extend(child.items)
        pending.extend(c for c in child.children if c not in seen)
    return ParsedFeed(first.title, tuple(items), "sitemap", first.warning)


def _sitemap_feed(fetched: Fetched, now: datetime) -> ParsedFeed:
    """A sitemap as a feed; its child sitemaps in ``children``. A web page (the site's address
    given as url) reads as version "site", to be looked up in robots.txt."""
    try:
        sitemap = parse_sitemap(fetched.body, fetched.final_url, now=now)
    except ParseError:
        if looks_like_html(fetched.body, fetched.headers.get("content-type")):
            return ParsedFeed("", (), "site")
        raise
    return ParsedFeed("", sitemap.items, "sitemap", children=sitemap.sitemaps)


def _news_first(urls: Sequence[str]) -> list[str]:
    """News sitemaps before others, then in the site's order (usually newest first)."""
    return sorted(dict.fromkeys(urls), key=lambda u: "news" not in u.lower())


def choose_text(item: FeedItem, page: PageText | None) -> tuple[str, TextOrigin]:
    """The page's text when extraction found one; otherwise the best the feed offers."""
    if page is not None and page.text:
        return page.text, TextOrigin.PAGE
    if item.content and len(item.content) >= len(item.summary):
        return item.content, TextOrigin.FEED_CONTENT
    if item.summary:
        return item.summary, TextOrigin.FEED_SUMMARY
    return item.title, TextOrigin.TITLE_ONLY
