"""Cycles killed with SIGKILL at random moments, many times over.

Three outlets publish as a newsroom would: their feeds grow between cycles (so every cycle has
pages to fetch), one outlet syndicates another's stories (cross-source dedup) and one has
guid-only briefs without links. Each round starts ``monitor run --all`` and kills it (its whole
process group, or now and then the main process alone) at a moment drawn from a seeded
generator, counted from one of three points so that every phase is hit whatever the machine's
speed: the launch, the cycle's first feed request, or the round's first stored page.

After each kill the database must be sound and hold no story twice, earlier runs must be closed
as interrupted, and no story may be lost: an item not stored must still be due for a fetch by a
source whose saved feed hash does not cover it. A last clean cycle then stores every served item
exactly once. A round killed before its run began leaves no run row, so the runs number the
rounds that reached ``start_run``, plus one.

``MONITOR_CRASH_SEED`` replays a failure; ``MONITOR_CRASH_ROUNDS`` raises the number of rounds
for a soak run (``MONITOR_CRASH_ROUNDS=200 pytest tests/test_crash_random.py -s``).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from monitor.localserver import LocalServer, Reply, Request
from monitor.store import SCHEMA_VERSION
from monitor.urls import canonical_url
from tests.sites import page, write_config
from tests.test_crash import Cycle, count, wait_for

pytestmark = pytest.mark.e2e

SEED = int(os.environ.get("MONITOR_CRASH_SEED") or 20261126)
ROUNDS = int(os.environ.get("MONITOR_CRASH_ROUNDS") or 12)

OUTLETS = ("alpha", "beta", "gamma")
FIRST_STORIES = 12  # per outlet before the first round
PAGE_DELAY = 0.1  # per article page; two pages at a time per host
SYNDICATED_EVERY = 3  # every 3rd alpha story is in beta's feed too
BRIEF_EVERY = 3  # every 3rd gamma story is a guid-only brief without a link
PARTNERS = ("Italy", "France", "Georgia", "Kazakhstan", "Turkey", "Uzbekistan")
# What a kill's delay counts from, in a fixed mix shuffled by blocks: the launch (start-up,
# lock, migration, start of the run), the first feed request (sources, feeds, briefs stored,
# pages fetched, the extraction pool starting), the round's first stored page (extraction
# and storage, a burst of a fraction of a second).
ANCHORS = ("launch", "cycle", "cycle", "storing", "storing")
# Every 6th round kills the main process alone, as the OOM killer would: its extraction workers
# must leave by themselves (they check every 2 s), which costs a few seconds a round.
MAIN_ALONE_EVERY = 6
PAGES_STORED = "SELECT count(*) FROM articles WHERE url IS NOT NULL"
TABLES = {"alembic_version", "sources", "runs", "articles", "tags", "run_sources", "digests"}


@dataclass(frozen=True)
class Item:
    key: str  # canonical URL, or guid:<outlet>:<guid> for an item without a link
    title: str
    link: str | None
    guid: str | None
    summary: str
    published: datetime
    film: bool  # tagged film_cooperation: its article must come with its tags


class Newsroom:
    """The outlets' feeds, growing on ``publish``; what each served feed body listed."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.feeds: dict[str, list[Item]] = {o: [] for o in OUTLETS}
        self.numbers = dict.fromkeys(OUTLETS, 0)
        self.served: dict[str, frozenset[str]] = {}  # sha256 of a feed body -> its item keys
        self.feed_requested = threading.Event()
        self.first_feed_at = 0.0
        for outlet in OUTLETS:
            server.route(f"/{outlet}/rss.xml", lambda request, o=outlet: self._feed(o, request))

    def publish(self, outlet: str) -> None:
        with self.lock:
            n = self.numbers[outlet] = self.numbers[outlet] + 1
            film = n % 2 == 0
            if film:
                partner = PARTNERS[n % len(PARTNERS)]
                title = f"Azerbaijan and {partner} sign film co-production agreement ({outlet} {n})"
                paragraphs = (
                    f"The Azerbaijan Film Agency and {partner}'s national cinema body signed "
                    f"co-production agreement number {n} in Baku, {outlet} reports.",
                    "The joint film will be shot in Baku next year, the agency said.",
                )
            else:
                title = f"City council of {outlet} discusses budget item {n}"
                paragraphs = (
                    f"The city council discussed item {n} of the budget on Monday, {outlet} reports.",
                    "Officials gave details of the spending plan.",
                )
            published = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=n)
            if outlet == "gamma" and n % BRIEF_EVERY == 0:
                guid = f"tag:gamma.test,2026:brief-{n}"
                item = Item(f"guid:gamma:{guid}", title, None, guid, paragraphs[0], published, film)
                self.feeds[outlet].append(item)
                return
            path = f"/{outlet}/articles/{n}.html"
            body = page(title, paragraphs * 3, site=outlet.title()).encode()
            self.server.route(
                path,
                lambda _r, body=body: Reply(
                    200, body, {"Content-Type": "text/html"}, delay=PAGE_DELAY
                ),
            )
            link = canonical_url(self.server.url(path))
            beta_guid = f"urn:beta:{n}" if outlet == "beta" else None
            item = Item(link, title, link, beta_guid, paragraphs[0], published, film)
            self.feeds[outlet].append(item)
            if outlet == "alpha" and n % SYNDICATED_EVERY == 0:
                copy = Item(
                    link, f"{title} (via Alpha)", link, f"urn:beta:syn-{n}", paragraphs[0],
                    published, film,
                )  # fmt: skip
                self.feeds["beta"].append(copy)

    def publish_some(self, rng: random.Random) -> int:
        """Most outlets publish a few stories between two cycles."""
        published = 0
        for outlet in OUTLETS:
            if rng.random() < 0.75:
                for _ in range(rng.randint(1, 3)):
                    self.publish(outlet)
                    published += 1
        return published

    def current(self) -> dict[str, set[str]]:
        with self.lock:
            return {o: {item.key for item in items} for o, items in self.feeds.items()}

    def items(self) -> dict[str, Item]:
        with self.lock:
            return {item.key: item for items in self.feeds.values() for item in items}

    def _feed(self, outlet: str, _request: Request) -> Reply:
        with self.lock:
            items = sorted(self.feeds[outlet], key=lambda i: i.published, reverse=True)
            body = _rss(outlet, self.server.url(f"/{outlet}/"), items).encode()
            self.served[hashlib.sha256(body).hexdigest()] = frozenset(i.key for i in items)
            if not self.feed_requested.is_set():
                self.first_feed_at = time.monotonic()
                self.feed_requested.set()
        return Reply(200, body, {"Content-Type": "application/rss+xml"})


def _rss(outlet: str, base: str, items: list[Item]) -> str:
    entries = []
    for item in items:
        link = f"<link>{html.escape(item.link)}</link>" if item.link else ""
        guid = f'<guid isPermaLink="false">{html.escape(item.guid)}</guid>' if item.guid else ""
        entries.append(
            f"<item><title>{html.escape(item.title)}</title>{link}{guid}"
            f"<description>{html.escape(item.summary)}</description>"
            f"<pubDate>{format_datetime(item.published)}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{outlet}</title><link>{base}</link><description>News</description>"
        f"<language>en</language>{''.join(entries)}</channel></rss>"
    )


@dataclass
class Snapshot:
    """What a killed cycle left in the database."""

    problems: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)  # runs, in order
    keys: Counter[str] = field(default_factory=Counter)  # stored articles by item key
    # key, text origin, text length, tag rows
    articles: list[tuple[str, str, int, int]] = field(default_factory=list)
    hashes: dict[str, str | None] = field(default_factory=dict)  # source -> saved body hash


def inspect_db(db: Path, newsroom: Newsroom) -> Snapshot:
    snap = Snapshot()
    if not db.exists():
        return snap
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        integrity = [r for (r,) in conn.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            snap.problems.append(f"integrity_check: {integrity}")
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return snap  # killed before the migration committed: nothing was written
        if not tables >= TABLES:
            snap.problems.append(f"half-migrated schema: tables {sorted(tables)}")
            return snap
        versions = [v for (v,) in conn.execute("SELECT version_num FROM alembic_version")]
        if versions != [f"{SCHEMA_VERSION:04d}"]:
            snap.problems.append(f"schema versions {versions}")
        if fk := conn.execute("PRAGMA foreign_key_check").fetchall():
            snap.problems.append(f"foreign_key_check: {fk}")
        if dup := conn.execute(
            "SELECT url, count(*) FROM articles WHERE url IS NOT NULL GROUP BY url HAVING count(*) > 1"
        ).fetchall():
            snap.problems.append(f"URL stored twice: {dup}")
        if dup := conn.execute(
            "SELECT source_id, guid, count(*) FROM articles WHERE guid IS NOT NULL "
            "GROUP BY source_id, guid HAVING count(*) > 1"
        ).fetchall():
            snap.problems.append(f"(source, guid) stored twice: {dup}")
        if orphans := conn.execute(
            "SELECT t.article_id, t.topic FROM tags t LEFT JOIN articles a ON a.id = t.article_id "
            "WHERE a.id IS NULL"
        ).fetchall():
            snap.problems.append(f"tags without their article: {orphans}")
        snap.statuses = [s for (s,) in conn.execute("SELECT status FROM runs ORDER BY id")]
        snap.hashes = dict(conn.execute("SELECT name, body_hash FROM sources").fetchall())
        rows = conn.execute(
            "SELECT a.url, a.guid, s.name, a.text_origin, length(a.text), "
            "(SELECT count(*) FROM tags t WHERE t.article_id = a.id) "
            "FROM articles a JOIN sources s ON s.id = a.source_id ORDER BY a.id"
        ).fetchall()
    items = newsroom.items()
    for url, guid, source, origin, length, tag_rows in rows:
        key = url or f"guid:{source}:{guid}"
        snap.keys[key] += 1
        snap.articles.append((key, origin, length, tag_rows))
        item = items.get(key)
        if item is None:
            snap.problems.append(f"stored article served by no feed: {key}")
        elif item.film and tag_rows == 0:
            snap.problems.append(f"tagged story stored without its tags: {key}")
    if twice := [k for k, n in snap.keys.items() if n > 1]:
        snap.problems.append(f"stories stored twice: {twice}")
    # No story lost: one not stored must still be fetched by a source whose saved feed hash
    # does not cover it (validators are saved only after every new item is stored).
    covered: dict[str, frozenset[str]] = {}
    for outlet in OUTLETS:
        saved = snap.hashes.get(outlet)
        if saved is None:
            covered[outlet] = frozenset()
        elif saved in newsroom.served:
            covered[outlet] = newsroom.served[saved]
        else:
            snap.problems.append(f"{outlet}: saved body hash {saved} of no feed served")
            covered[outlet] = frozenset()
    current = newsroom.current()
    for key in sorted(set().union(*current.values()) - set(snap.keys)):
        if all(key in covered[o] for o in OUTLETS if key in current[o]):
            snap.problems.append(f"lost: {key} unstored, yet every feed listing it is marked done")
    return snap


def _wait_until(condition: Callable[[], bool], cycle: Cycle, timeout: float = 60.0) -> bool:
    """Wait for ``condition``; False when the cycle ends first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if cycle.process.poll() is not None:
            return False
        if time.monotonic() > deadline:
            raise AssertionError(f"no progress in {timeout:.0f} s:\n{cycle.output()[-3000:]}")
        time.sleep(0.02)
    return True


def test_cycles_killed_at_random_moments_lose_and_duplicate_nothing(
    server: LocalServer, tmp_path: Path
) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    replay = f"MONITOR_CRASH_SEED={SEED} MONITOR_CRASH_ROUNDS={ROUNDS}"
    # A killed cycle resets its connections: not worth a traceback from the server each time.
    server._httpd.handle_error = lambda *_args: None  # type: ignore[method-assign]
    newsroom = Newsroom(server)
    for outlet in OUTLETS:
        for _ in range(FIRST_STORIES):
            newsroom.publish(outlet)
    config = write_config(
        tmp_path, [{"name": o, "url": server.url(f"/{o}/rss.xml")} for o in OUTLETS]
    )
    db = tmp_path / "storage" / "monitor.db"

    startups: list[float] = []  # launch to first feed request, seconds
    phases: Counter[str] = Counter()
    journal: list[str] = []
    previous = Snapshot()
    with_run = 0  # rounds that started a run (a run row exists for them)
    anchors: list[str] = []

    def report() -> str:
        return f"[{replay}] {dict(phases)}\n" + "\n".join(journal)

    for r in range(ROUNDS):
        published = newsroom.publish_some(rng) if r else 0
        if not anchors:
            anchors = list(ANCHORS)
            rng.shuffle(anchors)
        anchor = anchors.pop()
        whole_group = r % MAIN_ALONE_EVERY != MAIN_ALONE_EVERY - 1
        estimate = statistics.median(startups) if startups else 3.0
        delay = {
            "launch": rng.uniform(0, 1.05) * estimate,
            "cycle": rng.uniform(0, 1.0),
            "storing": rng.uniform(0, 0.25),
        }[anchor]
        stored_before = sum(previous.keys.values())
        pages_before = sum(n for k, n in previous.keys.items() if "://" in k)
        newsroom.feed_requested.clear()
        launched = time.monotonic()
        cycle = Cycle(config)
        try:
            reached = True
            if anchor != "launch":
                reached = _wait_until(newsroom.feed_requested.is_set, cycle)
            if reached and anchor == "storing":
                reached = _wait_until(lambda n=pages_before: count(db, PAGES_STORED) > n, cycle)
            try:
                code: int | None = cycle.process.wait(timeout=delay if reached else 60)
            except subprocess.TimeoutExpired:
                code = None
                if whole_group:
                    os.killpg(cycle.process.pid, signal.SIGKILL)
                cycle.kill()  # the main process alone when not the whole group
            if newsroom.feed_requested.is_set():
                startups.append(newsroom.first_feed_at - launched)
            try:
                # A process group killed whole is gone at once; extraction workers left behind
                # by their killed parent notice and leave by themselves.
                wait_for(lambda c=cycle: not c.group_alive(), timeout=20)
            except AssertionError:
                raise AssertionError(
                    f"round {r}: processes of the killed cycle still alive 20 s later\n{report()}"
                ) from None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(cycle.process.pid, signal.SIGKILL)

        snap = inspect_db(db, newsroom)
        if code is not None:
            assert code == 0, f"round {r} ended by itself with {code}\n{cycle.output()[-3000:]}"
        before = previous.statuses
        if len(snap.statuses) == len(before):
            phase = "start-up"  # killed before its run began: it changed no run
            if snap.statuses != before:
                snap.problems.append(f"runs changed by a cycle with no run: {snap.statuses}")
        elif len(snap.statuses) == len(before) + 1:
            with_run += 1
            expected = ["interrupted" if s == "running" else s for s in before]
            if snap.statuses[:-1] != expected:
                snap.problems.append(f"earlier runs not closed: {snap.statuses}")
            phase = {"running": "mid-cycle", "ok": "completed"}.get(snap.statuses[-1], "?")
            if phase == "?" or (code is not None and phase != "completed"):
                snap.problems.append(f"last run {snap.statuses[-1]!r} (exit {code})")
        else:
            phase = "?"
            snap.problems.append(f"runs {before} became {snap.statuses}")
        phases[phase] += 1
        new = sum(snap.keys.values()) - stored_before
        journal.append(
            f"round {r:3d}: +{published:2d} published, kill {delay:4.2f} s after {anchor:7s} "
            f"({'group' if whole_group else 'main '}) -> {phase}, {new:+d} stored"
            + (f", exit {code}" if code is not None else "")
            + f" [{time.monotonic() - launched:.1f} s]"
        )
        assert not snap.problems, f"round {r}: {snap.problems}\n{report()}"
        previous = snap

    # A clean cycle finishes the work.
    newsroom.publish_some(rng)
    final_started = time.monotonic()
    final = Cycle(config)
    try:
        assert final.wait(timeout=120) == 0, f"{final.output()[-3000:]}\n{report()}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(final.process.pid, signal.SIGKILL)
    final_took = time.monotonic() - final_started
    stored_in_rounds = sum(previous.keys.values())
    snap = inspect_db(db, newsroom)
    assert not snap.problems, f"after the final cycle: {snap.problems}\n{report()}"
    expected_keys = set(newsroom.items())
    missing = sorted(expected_keys - set(snap.keys))
    assert not missing, f"stories lost: {missing}\n{report()}"
    assert set(snap.keys) == expected_keys
    assert all(n == 1 for n in snap.keys.values())
    pages = [(k, origin, length) for k, origin, length, _ in snap.articles if "://" in k]
    no_text = [(k, origin, length) for k, origin, length in pages if origin != "page" or not length]
    assert not no_text, f"articles without their page's text: {no_text}\n{report()}"
    assert snap.statuses[-1] == "ok"
    assert set(snap.statuses[:-1]) <= {"interrupted", "ok"}, snap.statuses
    assert len(snap.statuses) == with_run + 1, f"{snap.statuses}\n{report()}"
    current = newsroom.current()
    for outlet in OUTLETS:
        saved = snap.hashes[outlet]
        # The last feed each source saw is marked done, and it lists everything served.
        assert saved is not None and newsroom.served.get(saved) == frozenset(current[outlet])

    # Meaningful only when most kills came mid-cycle.
    elapsed = time.monotonic() - started
    print(
        f"\n{report()}\n{len(expected_keys)} stories, all stored once, "
        f"{len(expected_keys) - stored_in_rounds} by the final cycle "
        f"({final_took:.1f} s); {elapsed:.0f} s in all"
    )
    assert phases["mid-cycle"] * 2 >= ROUNDS, f"too few mid-cycle kills\n{report()}"
