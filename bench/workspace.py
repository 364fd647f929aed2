"""The workspace over a large archive: search, story pages and a steady load, through HTTP.

    .venv/bin/python bench/workspace.py                       # 1,000,000 articles (builds once)
    .venv/bin/python bench/workspace.py --articles 100000     # a smaller archive
    .venv/bin/python bench/workspace.py --postgres postgresql://postgres@127.0.0.1/bench

The archive is bench/digestdb.py's (same parameters, same cached file: the monitor's own schema,
full-text index included, 300-800-word articles in English, Russian, Azerbaijani and Turkish, 5 %
tagged). ``monitor web`` runs on it in processes of its own (``--workers``, one a core by default:
``--web-workers``); a user and a session are made first. Then, each request timed from sending to
the last byte:

- **search**: 50 mixed queries, first page: words and names in four languages and scripts,
  inflected forms, phrases, common and rare words, some with filters (language, country, tagged,
  period) or sorted by date; target p95 < 300 ms;
- **story page**: 50 stories at random; target p95 < 100 ms;
- **load**: mixed pages (latest stories, searches, story pages, trends) sent at a steady 50 a
  second for ``--load-seconds``, whatever the answers' pace (an open loop: a slow answer does not
  slow the next request); target p95 < 300 ms at 50 requests/s.

Prints a table and JSON on its last line; exits 1 when a target fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import digestdb
import procwatch
from newsweb import free_port

SEARCH_TARGET_MS = 300.0
STORY_TARGET_MS = 100.0
LOAD_TARGET_MS = 300.0
LOAD_RATE = 50.0
PASSWORD = "bench password 1"

# (query string) for /search: every script of the archive, common and rare words, names,
# inflected forms, phrases, filters, both orders.
QUERIES = [
    "q=film", "q=kino", "q=фильм", "q=фильмов", "q=кинофестиваль", "q=filmlər", "q=festival",
    "q=sinema", "q=yönetmen", "q=memorandum", "q=co-production", "q=совместное+производство",
    "q=birgə+istehsal", "q=ortak+yapım", "q=Tashkent", "q=Ташкент", "q=Daşkənd", "q=Taşkent",
    "q=Mosfilm", "q=Netflix", "q=Berlinale", "q=Samarkand", "q=Самарканд", "q=Batumi",
    "q=Anna+Petrova", "q=Анна+Петрова", "q=Rəşid+Behbudov", "q=Ahmet+Yılmaz", "q=UNESCO",
    "q=%22joint+project%22", "q=%22совместный+проект%22", "q=premiere&language=en",
    "q=премьера&language=ru", "q=premyera&tagged=1", "q=gala&language=tr&sort=date",
    "q=producer&sort=date", "q=продюсер&tagged=1&sort=date", "q=Cannes&country=IT",
    "q=Kann&tagged=1", "q=documentary&since=2026-06-01", "q=serial&until=2026-09-30",
    "q=economy", "q=экономика", "q=iqtisadiyyat", "q=ekonomi&sort=date", "q=xyzzyq",
    "q=Gəncə", "q=Гянджа&language=ru", "q=film+festival+Baku", "tagged=1&sort=date",
]  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its descendants (the workers) so far."""
    return sum(procwatch.cpu_seconds(p) for p in procwatch.tree(pid))


def sign_in(client: httpx.Client) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token
    answer = client.post(
        "/login", data={"name": "bench", "password": PASSWORD, "csrf": token.group(1)}
    )
    assert answer.status_code == 303, answer.text[:300]


def timed(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    answer.read()
    if answer.status_code != 200:
        raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
    return (time.perf_counter() - started) * 1000


async def load(
    base: str, cookies: httpx.Cookies, paths: list[str], seconds: float
) -> dict[str, Any]:
    """Requests sent at LOAD_RATE a second for ``seconds`` (open loop); their latencies."""
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, limits=limits, timeout=30
    ) as client:

        async def one(path: str) -> None:
            nonlocal failures
            started = time.perf_counter()
            try:
                answer = await client.get(path)
                if answer.status_code != 200:
                    failures += 1
            except httpx.HTTPError:
                failures += 1
            latencies.append((time.perf_counter() - started) * 1000)

        tasks = []
        start = time.perf_counter()
        count = int(seconds * LOAD_RATE)
        for n in range(count):
            delay = start + n / LOAD_RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(paths[n % len(paths)])))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return {
        "requests": count,
        "rate": count / elapsed,
        "failures": failures,
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "max_ms": max(latencies),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--tagged", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--date", default=None)
    parser.add_argument("--dir", default=str(digestdb.DEFAULT_DIR))
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--analyze", action="store_true")
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--web-workers", type=int, default=os.cpu_count() or 1,
                        help="monitor web --workers (default: one a core)")  # fmt: skip
    parser.add_argument("--postgres", metavar="URL",
                        help="the archive in this PostgreSQL database (digestdb.py --postgres)")  # fmt: skip
    args = parser.parse_args(argv)

    started = time.perf_counter()
    built = digestdb.build(args)
    print(f"archive: {built['articles']:,} articles, {built['bytes'] / 1e9:.1f} GB "
          f"({'reused' if built.get('reused') else f'built in {time.perf_counter() - started:.0f} s'})",
          flush=True)  # fmt: skip
    folder = digestdb.folder_for(args)
    config = folder / "sources.yaml"
    database = folder / "monitor.db"

    from monitor import accounts
    from monitor.store import Store

    with Store(args.postgres or f"sqlite:///{database}") as store:
        if store.user_login("bench") is None:
            accounts.create(store, "bench", "admin", PASSWORD, datetime.now(UTC))
        with store.reading() as conn:
            from sqlalchemy import text

            top = int(conn.execute(text("SELECT max(id) FROM articles")).scalar_one())
    if not args.postgres:
        with open(database, "rb") as handle:  # the file in the page cache, as on a server in use
            while handle.read(1 << 24):
                pass

    port = free_port("127.0.0.1")
    server = subprocess.Popen(
        [
            *digestdb.monitor_command(),
            "--config",
            str(config),
            "-q",
            "web",
            "--port",
            str(port),
            "--workers",
            str(args.web_workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "MONITOR_WEB_SECRET": "bench"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/healthz", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    problem = server.stderr.read() if server.stderr else b""
                    raise RuntimeError(f"monitor web did not start: {problem!r}") from None
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=60) as client:
            sign_in(client)
            for query in QUERIES[:5]:  # warm: imports, first statements
                timed(client, "/search?" + query)
            search_ms = [timed(client, "/search?" + query) for query in QUERIES]
            rng = random.Random(args.seed)
            ids = [rng.randint(1, top) for _ in range(50)]
            story_ms = [timed(client, f"/stories/{i}") for i in ids]
            cookies = client.cookies
        mixed = ["/", *(f"/search?{q}" for q in QUERIES[::5]), *(f"/stories/{i}" for i in ids[:20]),
                 "/trends"]  # fmt: skip
        random.Random(args.seed).shuffle(mixed)
        # The CPU the load cost the server, the load generator and the rest of the machine:
        # on a shared machine a late answer may be another process's doing.
        server_cpu, own_cpu, busy = (
            tree_cpu(server.pid),
            time.process_time(),
            procwatch.machine_busy(),
        )
        steady = asyncio.run(load(base, cookies, mixed, args.load_seconds))
        server_cpu = tree_cpu(server.pid) - server_cpu
        own_cpu = time.process_time() - own_cpu
        steady["server_cpu_ms_per_request"] = 1000 * server_cpu / steady["requests"]
        steady["generator_cpu_s"] = own_cpu
        steady["other_cpu_s"] = procwatch.machine_busy() - busy - server_cpu - own_cpu
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        server.stderr.close()  # type: ignore[union-attr]

    slowest = sorted(zip(search_ms, QUERIES, strict=True), reverse=True)[:5]
    result = {
        "articles": built["articles"],
        "search": {"p50_ms": statistics.median(search_ms), "p95_ms": percentile(search_ms, 0.95),
                   "max_ms": max(search_ms), "slowest": [[round(ms), q] for ms, q in slowest]},
        "story": {"p50_ms": statistics.median(story_ms), "p95_ms": percentile(story_ms, 0.95),
                  "max_ms": max(story_ms)},
        "load": steady,
    }  # fmt: skip
    checks = [
        ("search, first page, 50 queries", result["search"]["p95_ms"], SEARCH_TARGET_MS),
        ("story page, 50 stories", result["story"]["p95_ms"], STORY_TARGET_MS),
        (f"mixed pages at {LOAD_RATE:g}/s ({steady['rate']:.1f}/s sent, {steady['failures']} failed)",
         steady["p95_ms"], LOAD_TARGET_MS),
    ]  # fmt: skip
    ok = steady["failures"] == 0
    print(f"\n{'what':<55} {'p95 ms':>8} {'target':>8}  result")
    for name, value, target in checks:
        passed = value < target
        ok &= passed
        print(f"{name:<55} {value:8.0f} {target:8.0f}  {'PASS' if passed else 'FAIL'}")
    print("slowest searches: " + "; ".join(f"{q} {ms} ms" for ms, q in result["search"]["slowest"]))
    print(f"load: the server spent {steady['server_cpu_ms_per_request']:.1f} ms of CPU a request; "
          f"the load generator {steady['generator_cpu_s']:.1f} s and other processes "
          f"{steady['other_cpu_s']:.1f} s of CPU over the {args.load_seconds:g} s")  # fmt: skip
    print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
