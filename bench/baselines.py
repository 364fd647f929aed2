"""The two reference points of the cycle benchmark, each run in its own process.

naive
    The script a user would write first: for each feed ``feedparser.parse(url)``, for each item
    ``trafilatura.fetch_url(link)`` and ``trafilatura.extract(html)``, one after another, with the
    libraries' defaults (but trafilatura's SSRF protection, which refuses loopback addresses,
    is switched off in its default configuration). Imports happen before the clock starts.

ceiling
    Extraction alone, on every core, over pages already in memory: the pages are fetched first
    (not timed), then a ``ProcessPoolExecutor(os.cpu_count())`` started with ``fork`` (its
    workers inherit the pages and a warm trafilatura, so nothing but an index and a length
    crosses a pipe) maps an extraction function over them. Two functions, their rounds
    alternated so that other load on the machine falls on both alike:
    ``trafilatura.extract(html)`` with the library's defaults (**the ceiling**: what any program
    that extracts every page with trafilatura as it comes can reach on this machine) and
    ``monitor.extract.extract_page``, the monitor's own extraction (the same text, cheaper
    settings: ``bench/extraction_quality.py`` measures both on real pages).

Both print one JSON object on standard output::

    .venv/bin/python bench/baselines.py naive FEEDS.txt      # one feed URL a line
    .venv/bin/python bench/baselines.py ceiling PAGES.txt    # one page URL a line

From Python: ``run_naive(feed_urls)`` and ``run_ceiling(page_urls)``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

_PAGES: list[tuple[bytes, str, str | None]] = []  # the ceiling's pages, inherited by the workers


def naive(feed_urls: list[str]) -> dict[str, Any]:
    import feedparser
    import trafilatura
    from trafilatura.settings import DEFAULT_CONFIG

    # trafilatura >= 2.3 refuses non-public addresses (SSRF protection); the news web is on
    # loopback. Switched off in its default configuration, so the loop below stays as written.
    DEFAULT_CONFIG.set("DEFAULT", "SSRF_PROTECTION", "False")
    pages = extracted = 0
    started = time.perf_counter()
    # --- the naive script -----------------------------------------------------------------
    for url in feed_urls:
        feed = feedparser.parse(url)
        for entry in feed.entries:
            html = trafilatura.fetch_url(entry.link)
            text = trafilatura.extract(html)
            # ------------------------------------------------------------------------------
            pages += 1
            extracted += text is not None
    seconds = time.perf_counter() - started
    return {"feeds": len(feed_urls), "pages": pages, "extracted": extracted, "seconds": seconds}


def _get(url: str) -> tuple[bytes, str, str | None]:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read(), response.geturl(), response.headers.get("Content-Type")


def _plain(body: bytes, url: str, content_type: str | None) -> int:
    import trafilatura

    return len(trafilatura.extract(body) or "")


def _own(body: bytes, url: str, content_type: str | None) -> int:
    from monitor.errors import ExtractError
    from monitor.extract import extract_page

    try:
        return len(extract_page(body, url, content_type).text)
    except ExtractError:
        return 0


_FUNCTIONS = {"trafilatura": _plain, "monitor": _own}
_CHOSEN: list[str] = ["monitor"]  # set in the parent before a pool forks


def _extract(index: int) -> int:
    """In a worker: extract page ``index``; the text's length, 0 when there is none."""
    return _FUNCTIONS[_CHOSEN[0]](*_PAGES[index])


def _ready(_: int) -> int:
    return os.getpid()


def ceiling(page_urls: list[str], workers: int | None = None, rounds: int = 3) -> dict[str, Any]:
    """Extraction of every page, ``rounds`` times with a fresh pool for each function; the
    fastest round of each counts (other load on the machine only ever slows a round down).
    ``seconds`` and ``extract_cpu_seconds`` are plain trafilatura's, ``own_*`` the monitor's."""
    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        _PAGES[:] = pool.map(_get, page_urls)
    fetch_seconds = time.perf_counter() - started
    # Warm: imports done and trafilatura's lazy set-up paid in the parent, inherited by forks.
    for page in _PAGES[:3]:
        for function in _FUNCTIONS.values():
            function(*page)
    workers = workers or os.cpu_count() or 1
    context = multiprocessing.get_context("fork")
    chunk = max(1, min(8, len(_PAGES) // (workers * 16)))
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in _FUNCTIONS}
    lengths: dict[str, list[int]] = {}
    for _ in range(max(1, rounds)):
        for name in _FUNCTIONS:
            _CHOSEN[0] = name
            before = os.times()
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                # Every worker started and waiting before the clock starts.
                list(pool.map(_ready, range(workers * 4)))
                started = time.perf_counter()
                lengths[name] = list(pool.map(_extract, range(len(_PAGES)), chunksize=chunk))
                seconds = time.perf_counter() - started
            after = os.times()  # the workers have exited: their CPU is in the children's times
            results[name].append((seconds, sum(after[:4]) - sum(before[:4])))
    (seconds, cpu), (own_seconds, own_cpu) = min(results["trafilatura"]), min(results["monitor"])
    return {
        "seconds": seconds,
        "extract_cpu_seconds": cpu,
        "rounds": [round(s, 2) for s, _ in results["trafilatura"]],
        "extracted": sum(1 for n in lengths["trafilatura"] if n),
        "own_seconds": own_seconds,
        "own_cpu_seconds": own_cpu,
        "own_rounds": [round(s, 2) for s, _ in results["monitor"]],
        "own_extracted": sum(1 for n in lengths["monitor"] if n),
        "pages": len(_PAGES),
        "workers": workers,
        "bytes": sum(len(body) for body, _, _ in _PAGES),
        "fetch_seconds": fetch_seconds,
    }


def _run(kind: str, urls: list[str], timeout: float | None = None) -> dict[str, Any]:
    """Run ``kind`` in a process of its own; its result, with the CPU its process tree and the
    whole machine spent meanwhile (``cpu_seconds``, ``machine_busy_seconds``)."""
    from procwatch import TreeWatch

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(urls) + "\n")
    try:
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), kind, handle.name],
                stdout=out,
                stderr=err,
                text=True,
            )
            watch = TreeWatch(process.pid, interval=0.2, pss=False).start()
            try:
                returncode = process.wait(timeout)
            finally:
                watch.stop()
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
    finally:
        os.unlink(handle.name)
    if returncode != 0:
        raise RuntimeError(f"{kind} failed ({returncode}):\n{stderr[-3000:]}")
    result = dict(json.loads(stdout.strip().splitlines()[-1]))
    result["cpu_seconds"] = watch.cpu_seconds
    result["machine_busy_seconds"] = watch.machine_busy_seconds
    return result


def run_naive(feed_urls: list[str], timeout: float | None = None) -> dict[str, Any]:
    return _run("naive", feed_urls, timeout)


def run_ceiling(page_urls: list[str], timeout: float | None = None) -> dict[str, Any]:
    return _run("ceiling", page_urls, timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("naive", "ceiling"))
    parser.add_argument("urls", type=Path, help="a file with one URL a line")
    parser.add_argument("--workers", type=int, help="ceiling: processes (default: every core)")
    args = parser.parse_args(argv)
    urls = [u.strip() for u in args.urls.read_text().splitlines() if u.strip()]
    result = naive(urls) if args.kind == "naive" else ceiling(urls, args.workers)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
