"""A cycle killed with SIGKILL mid-way, and two cycles at once, as separate processes."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.localserver import LocalServer, Reply
from tests.sites import Story, page, rss, write_config

pytestmark = pytest.mark.e2e

ITEMS = 16


def slow_outlet(server: LocalServer, delay: float) -> str:
    base = server.url("/slow")
    stories = [
        Story(
            f"story-{i}",
            f"Story number {i} about the city budget",
            (
                f"The city council discussed item {i} of the budget on Monday.",
                "Officials gave details.",
            ),
        )
        for i in range(ITEMS)
    ]
    feed = rss("slow", base, stories).encode()
    server.route(
        "/slow/rss.xml", lambda _r: Reply(200, feed, {"Content-Type": "application/rss+xml"})
    )
    for story in stories:
        body = page(story.title, story.paragraphs * 3).encode()
        server.route(
            f"/slow/articles/{story.slug}.html",
            lambda _r, body=body: Reply(200, body, {"Content-Type": "text/html"}, delay=delay),
        )
    return f"{base}/rss.xml"


class Cycle:
    """``monitor run --all`` in its own process, its output in a file beside the config."""

    def __init__(self, config: Path, *args: str) -> None:
        self.log = config.parent / f"cycle-{time.monotonic_ns()}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(config), "run", "--all", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, extraction workers included
            )

    def wait(self, timeout: float = 60) -> int:
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL to the cycle alone, as a crash would."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def output(self) -> str:
        return self.log.read_text()


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # schema not created yet


def test_killed_cycle_resumes_without_loss_or_duplicates(
    server: LocalServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, [{"name": "Slow", "url": slow_outlet(server, delay=0.4)}])
    db = tmp_path / "storage" / "monitor.db"
    killed = Cycle(config)
    wait_for(lambda: count(db, "SELECT count(*) FROM articles") >= 3)
    killed.kill()
    try:
        # Its extraction workers notice and leave by themselves.
        wait_for(lambda: not killed.group_alive(), timeout=20)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(killed.process.pid, signal.SIGKILL)
    with sqlite3.connect(db) as conn:
        stored_before = [u for (u,) in conn.execute("SELECT url FROM articles")]
    assert 3 <= len(stored_before) < ITEMS

    resumed = Cycle(config)
    assert resumed.wait() == 0, resumed.output()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        urls = [u for (u,) in conn.execute("SELECT url FROM articles")]
        statuses = [s for (s,) in conn.execute("SELECT status FROM runs ORDER BY id")]
        fetch_state = conn.execute("SELECT body_hash FROM sources").fetchone()[0]
    assert len(urls) == len(set(urls)) == ITEMS
    assert statuses == ["interrupted", "ok"]
    assert fetch_state is not None
    # Pages stored before the kill were not fetched again (fetched but unstored ones may be).
    for url in stored_before:
        assert server.hits(url.removeprefix(server.base_url)) == 1, url


def test_second_cycle_at_once_exits_clearly_or_waits(server: LocalServer, tmp_path: Path) -> None:
    # Slow enough (16 pages, 0.5 s each, 2 at a time) that the second process, which needs a
    # second or two to start, finds the first still running.
    config = write_config(tmp_path, [{"name": "Slow", "url": slow_outlet(server, delay=0.5)}])
    db = tmp_path / "storage" / "monitor.db"
    first = Cycle(config)
    wait_for(lambda: count(db, "SELECT count(*) FROM runs") >= 1)

    second = Cycle(config)
    assert second.wait() == 75, second.output()
    assert "another monitoring cycle is running" in second.output()

    waiting = Cycle(config, "--wait", "60")
    assert first.wait() == 0, first.output()
    assert waiting.wait() == 0, waiting.output()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone() == (
            ITEMS,
            ITEMS,
        )
        assert [s for (s,) in conn.execute("SELECT status FROM runs ORDER BY id")] == ["ok", "ok"]
