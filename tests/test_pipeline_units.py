"""Pieces of the pipeline that are easiest to check on their own: worker processes for
extraction, the progress display, the choice of text."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time

import pytest

from monitor.cli import _Progress
from monitor.errors import ExtractError
from monitor.extractors import ProcessExtractor
from monitor.item import choose_text
from monitor.models import FeedItem, PageText, SourceOutcome, SourceStatus, TextOrigin

PAGE = (
    b"<html><body><article>"
    + b"".join(
        f"<p>Paragraph {i}: the film agencies signed a co-production agreement.</p>".encode()
        for i in range(5)
    )
    + b"</article></body></html>"
)


def crash(body: bytes, url: str, content_type: str | None) -> PageText:
    if b"crash" in body:
        os._exit(1)  # what a segfault in lxml would look like from the parent
    return PageText(text=body.decode())


def test_extraction_in_worker_processes() -> None:
    async def go() -> list[PageText]:
        with ProcessExtractor(workers=2) as extract:
            return await asyncio.gather(
                *(extract(PAGE, f"https://x.example/{i}", "text/html") for i in range(4))
            )

    pages = asyncio.run(go())
    assert all("co-production agreement" in p.text for p in pages)


def worker(body: bytes, url: str, content_type: str | None) -> PageText:
    return PageText(text=f"{body.decode()} by {os.getpid()}")


def test_workers_are_replaced_after_their_pages_without_losing_queued_ones() -> None:
    # With the standard library's max_tasks_per_child this hangs on the third page.
    async def go() -> list[PageText]:
        with ProcessExtractor(workers=1, tasks_per_child=2, function=worker) as extract:
            return await asyncio.wait_for(
                asyncio.gather(*(extract(str(i).encode(), f"u{i}", None) for i in range(7))), 60
            )

    pages = asyncio.run(go())
    assert [p.text.split()[0] for p in pages] == [str(i) for i in range(7)]
    workers = [p.text.split()[-1] for p in pages]
    assert len(set(workers)) == 4  # pages 0-1, 2-3, 4-5, 6
    assert workers[0] == workers[1] != workers[2] == workers[3]


def stuck(body: bytes, url: str, content_type: str | None) -> PageText:
    if b"stuck" in body:
        threading.Event().wait()  # what lxml looping on a page would look like from the parent
    return PageText(text=body.decode())


def test_a_stuck_worker_costs_its_page_and_is_replaced() -> None:
    async def go() -> tuple[str, float, PageText]:
        with ProcessExtractor(workers=1, function=stuck, page_timeout=1.0) as extract:
            started = time.monotonic()
            with pytest.raises(ExtractError) as info:
                await extract(b"stuck", "https://x.example/1", None)
            waited = time.monotonic() - started
            return info.value.code, waited, await extract(b"fine", "https://x.example/2", None)

    code, waited, page = asyncio.run(go())
    assert code == "extract.timeout"
    assert waited < 10
    assert page.text == "fine"


def test_a_crashed_worker_costs_one_page_not_the_cycle() -> None:
    async def go() -> tuple[str, PageText]:
        with ProcessExtractor(workers=1, function=crash) as extract:
            with pytest.raises(ExtractError) as info:
                await extract(b"crash", "https://x.example/1", None)
            return info.value.code, await extract(b"fine", "https://x.example/2", None)

    code, page = asyncio.run(go())
    assert code == "extract.crashed"
    assert page.text == "fine"


def test_extraction_errors_cross_the_process_boundary() -> None:
    async def go() -> str:
        with ProcessExtractor(workers=1) as extract:
            with pytest.raises(ExtractError) as info:
                await extract(b"<html><body></body></html>", "https://x.example/e", "text/html")
            return info.value.code

    assert asyncio.run(go()) == "extract.no_text"


def test_same_page_extracted_twice_keeps_its_text() -> None:
    # trafilatura's deduplicate=True would drop paragraphs it has seen before in this process.
    async def go() -> list[PageText]:
        with ProcessExtractor(workers=1) as extract:
            return [await extract(PAGE, "https://x.example/a", "text/html") for _ in range(2)]

    first, second = asyncio.run(go())
    assert first.text == second.text != ""


@pytest.mark.parametrize(
    ("item", "page", "origin"),
    [
        (
            FeedItem("u", "T", summary="s", content="longer content"),
            PageText("page text"),
            TextOrigin.PAGE,
        ),
        (FeedItem("u", "T", summary="s", content="longer content"), None, TextOrigin.FEED_CONTENT),
        (FeedItem("u", "T", summary="summary only"), None, TextOrigin.FEED_SUMMARY),
        (FeedItem("u", "Title only"), None, TextOrigin.TITLE_ONLY),
    ],
)
def testchoose_text(item: FeedItem, page: PageText | None, origin: TextOrigin) -> None:
    assert choose_text(item, page)[1] is origin


def test_progress_on_a_terminal_is_one_updating_line() -> None:
    stream = io.StringIO()
    progress = _Progress(stream, live=True)
    progress.articles_found(3)
    progress.article_done()
    progress.source_done(SourceOutcome("A", "http://a/", SourceStatus.OK, 1))
    progress.finish()
    assert "\r" in stream.getvalue() and "articles: 1/3" in stream.getvalue()
    assert "\n" not in stream.getvalue()


def test_progress_elsewhere_is_plain_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    progress = _Progress(stream, live=False)
    with caplog.at_level("INFO", logger="monitor"):
        progress.source_done(SourceOutcome("A", "http://a/", SourceStatus.OK, 3))
        failed = SourceOutcome("B", "http://b/", SourceStatus.ERROR, error_code="fetch.timeout")
        progress.source_done(failed)
    assert stream.getvalue() == ""
    assert "A: ok (3 new)" in caplog.text
    assert "B:" not in caplog.text  # the pipeline's own warning reports failures


def test_local_server_records_post_bodies() -> None:
    import httpx

    from monitor.localserver import LocalServer, Reply

    with LocalServer() as server:
        server.route("/hook", lambda request: Reply(201, request.body.upper()))
        response = httpx.post(server.url("/hook"), content=b"payload")
        assert (response.status_code, response.content) == (201, b"PAYLOAD")
        assert server.requests[-1].method == "POST" and server.requests[-1].body == b"payload"
