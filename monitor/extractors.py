"""Where pages are turned into text: the ``Extractor`` interface the per-item path
(``monitor.item``) calls, the cycle's pool of worker processes, and one worker thread for
commands that extract a handful of pages (``monitor sources test``)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from monitor.errors import ExtractError
from monitor.models import PageText

Extract = Callable[[bytes, str, str | None], PageText]


def _extract_page() -> Extract:
    # trafilatura and lxml are imported with the first page, not with the cycle: a run with
    # nothing due extracts nothing.
    from monitor.extract import extract_page

    return extract_page


class Extractor(Protocol):
    async def __call__(self, body: bytes, url: str, content_type: str | None) -> PageText: ...


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
        function: Extract | None = None,
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
            from monitor.extract import watch_parent  # see _extract_page

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
        function = self._function or _extract_page()
        work = loop.run_in_executor(pool, function, body, url, content_type)
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


class ThreadExtractor:
    """Extraction in one worker thread of this process: a few pages do not pay for starting a
    pool, the event loop stays free, and one thread at a time keeps trafilatura safe."""

    def __init__(self, function: Extract | None = None) -> None:
        self._function = function
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="extract")

    async def __call__(self, body: bytes, url: str, content_type: str | None) -> PageText:
        loop = asyncio.get_running_loop()
        function = self._function or _extract_page()
        return await loop.run_in_executor(self._pool, function, body, url, content_type)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ThreadExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
