"""Three ``monitor serve`` processes on one PostgreSQL database over outlets on five loopback
addresses; the one fetching a slow page is killed with SIGKILL mid-cycle. Every item is stored
once, the digest and each alert go once, the killed worker's source is fetched by another
after its lease, and nothing is left leased or half-written."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from monitor.localserver import LocalServer, Reply, Request, static
from monitor.store import Store
from monitor.workers import print_workers
from tests.databases import pg_schema
from tests.sites import HTML, Story, page, write_config
from tests.test_alerts_e2e import Receiver
from tests.test_e2e import EN_COOP, EN_OTHER, serve_outlet

pytestmark = pytest.mark.e2e

T = TypeVar("T")
LEASE = 3  # seconds: short, so that the killed worker's source comes back within the test
DEADLINE = 90.0  # seconds for everything; it takes about 30 on two busy cores
SITES = 4  # outlets of three items each, besides the slow one


def stories(k: int) -> list[Story]:
    """Outlet k's items: a film co-production story of its own and two others."""
    coop = replace(EN_COOP, slug=f"coop-{k}", title=f"{EN_COOP.title}, the {k + 1}th in ten years")
    other = [
        replace(EN_OTHER, slug=f"other-{k}-{j}", title=f"{EN_OTHER.title}: report {k}-{j}")
        for j in range(2)
    ]
    return [coop, *other]


def wait_for(what: str, check: Callable[[], T | None], deadline: float) -> T:
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def outlets() -> Iterator[list[LocalServer]]:
    """An outlet server on each of 127.0.0.2 to 127.0.0.6: five sites, as the fetcher and the
    leases see them."""
    with ExitStack() as stack:
        yield [stack.enter_context(LocalServer(f"127.0.0.{2 + k}")) for k in range(SITES + 1)]


def test_three_workers_one_killed(
    server: LocalServer, outlets: list[LocalServer], tmp_path: Path
) -> None:
    digest_hook, alert_hook = Receiver(server, "/digest"), Receiver(server, "/alert")
    sources = [
        {"name": f"Outlet {k}", "url": serve_outlet(site, f"o{k}", stories(k), "en")}
        for k, site in enumerate(outlets[:SITES])
    ]
    # The slow outlet: its first article page answers after a minute, the next request at once.
    slow_site, slow_items = outlets[SITES], stories(SITES)[:2]
    slow_feed = serve_outlet(slow_site, "slow", slow_items, "en")
    slow_path = f"/slow/articles/{slow_items[0].slug}.html"
    body = page(slow_items[0].title, slow_items[0].paragraphs)
    fast = static(body, HTML)

    def slow_once(request: Request) -> Reply:
        reply = fast(request)
        return replace(reply, delay=60.0) if slow_site.hits(slow_path) == 1 else reply

    slow_site.route(slow_path, slow_once)
    sources.append({"name": "Slow", "url": slow_feed})
    total = SITES * 3 + len(slow_items)
    coop = SITES + 1  # one film co-production story an outlet

    # The digest's time passed a minute ago: each worker finds its slot missed at start.
    due = (datetime.now(ZoneInfo("Asia/Baku")) - timedelta(minutes=1)).strftime("%H:%M")
    extra = (
        f"schedule:\n  lease: {LEASE}s\n"
        f'digest:\n  time: "{due}"\n  day: current\n  webhooks:\n    - url: {digest_hook.url}\n'
        f"alerts:\n  - name: coproductions\n    topic: film_cooperation\n"
        f"    channels:\n      - webhook: {alert_hook.url}\n"
    )
    with pg_schema() as url:
        config = write_config(tmp_path, sources, extra)
        config.write_text(
            config.read_text()
            .replace("storage: storage/monitor.db", f'storage: "{url}"')
            .replace("timeout: 3s", "timeout: 30s")  # the slow page is waited for, not given up
        )
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))

        def scalar(query: str) -> Any:
            with engine.connect() as conn:
                return conn.execute(text(query)).scalar()

        with Store(url) as store:
            _hold_sources_back(store, sources)
        procs = [_serve(config, tmp_path / f"worker{i}.log") for i in range(3)]
        try:
            deadline = time.monotonic() + DEADLINE
            for i, _ in enumerate(procs):
                log = tmp_path / f"worker{i}.log"
                wait_for(f"worker {i}", lambda log=log: "serving" in _read(log), deadline)
            # All three up: every source due now, and each worker told to look at once.
            with engine.begin() as conn:
                conn.execute(text("UPDATE sources SET next_due_at = NULL"))
            for proc in procs:
                proc.send_signal(signal.SIGHUP)

            wait_for("the slow page", lambda: slow_site.hits(slow_path) >= 1, deadline)
            holder = wait_for(
                "the slow source's lease",
                lambda: scalar("SELECT lease_owner FROM sources WHERE name = 'Slow'"),
                deadline,
            )
            killed = next(p for p in procs if p.pid == int(holder.rpartition(":")[2]))
            killed.kill()
            killed.wait(timeout=10)

            def finished() -> bool:
                return (
                    scalar("SELECT count(*) FROM articles") == total
                    and scalar("SELECT count(*) FROM sources WHERE lease_owner IS NOT NULL") == 0
                    and scalar("SELECT count(*) FROM sources WHERE last_status = 'ok'")
                    == len(sources)
                    and scalar("SELECT count(*) FROM runs WHERE status = 'running'") == 0
                    # Every tagged story seen by the alert rule, and its alert sent.
                    and scalar("SELECT count(*) FROM alert_articles") == coop
                    and scalar("SELECT count(*) FROM alert_deliveries WHERE state = 'pending'") == 0
                    and len(digest_hook.posts()) >= 1
                )

            wait_for("every source done", finished, deadline)
            for proc in procs:
                if proc is not killed:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                assert proc.wait(timeout=30) in (0, -signal.SIGKILL)
        finally:
            for proc in procs:
                _end(proc)

        with engine.connect() as conn:

            def rows(query: str) -> list[Any]:
                return list(conn.execute(text(query)))

            urls = [r.url for r in rows("SELECT url FROM articles")]
            slow_run_worker = rows(
                "SELECT r.worker FROM articles a JOIN runs r ON r.id = a.run_id "
                f"WHERE a.url LIKE '%{slow_items[0].slug}%'"
            )
            killed_runs = rows(f"SELECT status FROM runs WHERE worker = '{holder}'")
            orphans = rows(
                "SELECT count(*) FROM tags t LEFT JOIN articles a ON a.id = t.article_id "
                "WHERE a.id IS NULL"
            )[0][0]
            leased = rows("SELECT count(*) FROM sources WHERE lease_owner IS NOT NULL")[0][0]
            still_running = rows("SELECT count(*) FROM runs WHERE status = 'running'")[0][0]
            tagged = rows("SELECT count(*) FROM tags")[0][0]
            alerts = rows("SELECT count(*) FROM alerts")[0][0]
            sent = rows("SELECT count(*) FROM alert_deliveries WHERE state = 'sent'")[0][0]
        engine.dispose()
        with Store(url) as store:
            listing = io.StringIO()
            print_workers(store, listing)

    # Every item once, the slow one by another worker after the lease, nothing left over.
    assert len(urls) == len(set(urls)) == total
    assert slow_run_worker and slow_run_worker[0].worker not in (None, holder)
    assert ("interrupted",) in killed_runs
    assert (orphans, leased, still_running, tagged) == (0, 0, 0, coop)
    # One digest for the slot, each alert once.
    assert len(digest_hook.posts()) == 1
    titles = Counter(alert_hook.titles())
    assert titles and max(titles.values()) == 1
    assert alerts == sent == len(titles)
    # The killed worker is listed as silent; the others left.
    assert f"{holder}  host" in listing.getvalue()
    assert "NOT ANSWERING" in listing.getvalue()
    assert "0 live workers" in listing.getvalue()


def _hold_sources_back(store: Store, sources: list[dict[str, str]]) -> None:
    """Every source known and due in an hour: no worker starts before all three are up."""
    later = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None)  # stored naive UTC
    with store.engine.begin() as conn:
        for source in sources:
            conn.execute(
                text(
                    "INSERT INTO sources (name, url, consecutive_failures, last_new_items, "
                    "next_due_at) VALUES (:name, :url, 0, 0, :later)"
                ),
                {"name": source["name"], "url": source["url"], "later": later},
            )


def _serve(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "serve"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its extraction processes with it, for _end
        )


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Whatever is left of a worker's process group (extraction processes of the killed one)."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def test_runs_from_cron_on_two_hosts_share_the_sources(
    outlets: list[LocalServer], tmp_path: Path
) -> None:
    sources = [
        {"name": f"Outlet {k}", "url": serve_outlet(site, f"o{k}", stories(k), "en")}
        for k, site in enumerate(outlets)
    ]
    with pg_schema() as url:
        config = write_config(tmp_path, sources)
        config.write_text(
            config.read_text().replace("storage: storage/monitor.db", f'storage: "{url}"')
        )
        Store(url).close()  # the tables first: two runs on a new database would wait in turn
        command = [sys.executable, "-m", "monitor", "--config", str(config), "run", "--no-digest"]
        runs = [
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        errors = [run.communicate(timeout=DEADLINE)[1].decode() for run in runs]
        assert [run.returncode for run in runs] == [0, 0], errors
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            urls = list(conn.scalars(text("SELECT url FROM articles")))
            fetched = dict(
                conn.execute(
                    text(
                        "SELECT s.name, count(*) FROM run_sources r JOIN sources s "
                        "ON s.id = r.source_id WHERE r.status <> 'skipped' GROUP BY s.name"
                    )
                ).all()
            )
            leased = conn.execute(
                text("SELECT count(*) FROM sources WHERE lease_owner IS NOT NULL")
            ).scalar()
            workers = conn.execute(text("SELECT count(*) FROM workers")).scalar()
        engine.dispose()
    assert len(urls) == len(set(urls)) == 3 * len(outlets)
    assert fetched == {s["name"]: 1 for s in sources}  # each by one of the two, once
    assert (leased, workers) == (0, 0)  # both left, releasing what they held
