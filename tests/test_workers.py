"""Several workers on one PostgreSQL database: leases of due sources (one worker a site, a dead
worker's sources back after its lease), the steps one worker at a time does (digest, alerts),
runs of dead workers marked interrupted, and ``monitor workers``."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.models import Source, SourceOutcome, SourceStatus
from monitor.store import SCHEMA_VERSION, Store
from monitor.workers import Worker, print_workers, shared_storage
from tests.databases import database_url, pg_schema
from tests.test_store import article

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
# Two sites with two feeds each, and a third with one.
SOURCES = (
    Source("A news", "https://a.example/news.xml", "en"),
    Source("A sport", "https://a.example/sport.xml", "en"),
    Source("B news", "https://b.example/rss", "en"),
    Source("B film", "https://www.b.example/film/rss", "en"),
    Source("C", "http://c.example:8080/feed", "en"),
)


@pytest.fixture
def store() -> Iterator[Store]:
    with pg_schema() as url, Store(url) as s:
        for name in ("w1", "w2"):
            s.register_worker(name, "host", 1, LEASE, NOW)
        yield s


def test_a_site_goes_to_one_worker_and_each_source_to_one(store: Store) -> None:
    # Four sites free, two live workers: half of them each, whole sites (www.b.example is a
    # host of its own).
    first = store.claim_sources(SOURCES, "w1", NOW, LEASE)
    assert first == {"A news", "A sport", "B news"}
    second = store.claim_sources(SOURCES, "w2", NOW, LEASE)
    assert second == {"B film"}
    third = store.claim_sources(SOURCES, "w2", NOW, LEASE)
    assert third and not third & first
    # A site a worker fetches is due for nobody before its lease ends.
    due = store.next_due([s.name for s in SOURCES])
    assert due["A news"] == due["B film"] == NOW + LEASE


def test_a_dead_workers_sources_return_after_its_lease(store: Store) -> None:
    taken = store.claim_sources(SOURCES, "w1", NOW, LEASE)
    store.heartbeat("w2", NOW + LEASE, LEASE)  # w1 says nothing more
    assert store.claim_sources(SOURCES, "w2", NOW + LEASE / 2, LEASE) & taken == set()
    later = NOW + LEASE + timedelta(seconds=1)
    assert store.claim_sources(SOURCES, "w2", later, LEASE) == {s.name for s in SOURCES}


def test_the_heartbeat_keeps_the_leases_and_the_outcome_releases_one(store: Store) -> None:
    taken = store.claim_sources(SOURCES[:2], "w1", NOW, LEASE)
    assert taken == {"A news", "A sport"}
    assert store.heartbeat("w1", NOW + LEASE * 0.9, LEASE) == 2
    assert store.claim_sources(SOURCES[:2], "w2", NOW + LEASE * 1.5, LEASE) == set()
    run = store.start_run(NOW, "w1")
    state = store.ensure_source(SOURCES[0])
    ok = SourceOutcome("A news", SOURCES[0].url, SourceStatus.OK)
    store.record_outcome(run, state.id, ok, None, NOW, NOW + timedelta(hours=1), lease_owner="w1")
    # Released, and not due: nobody takes it; its site is still w1's through "A sport".
    listed = {w["name"]: w["leases"] for w in store.list_workers(NOW)}
    assert [name for name, _ in listed["w1"]] == ["A sport"]
    store.unregister_worker("w1")
    assert store.claim_sources(SOURCES[:2], "w2", NOW, LEASE) == {"A sport"}


def test_an_outcome_leaves_a_lease_taken_over_by_another(store: Store) -> None:
    store.claim_sources(SOURCES[4:], "w1", NOW, LEASE)
    later = NOW + LEASE * 2
    assert store.claim_sources(SOURCES[4:], "w2", later, LEASE) == {"C"}
    state = store.ensure_source(SOURCES[4])
    failed = SourceOutcome("C", SOURCES[4].url, SourceStatus.ERROR, error_code="http.timeout")
    store.record_outcome(store.start_run(later, "w1"), state.id, failed, None, later, None, lease_owner="w1")  # fmt: skip
    listed = {w["name"]: [name for name, _ in w["leases"]] for w in store.list_workers(later)}
    assert listed == {"w1": [], "w2": ["C"]}


def test_a_share_of_the_sites_each_when_many_are_due(store: Store) -> None:
    many = [Source(f"S{i}", f"https://site{i}.example/rss", "en") for i in range(9)]
    store.register_worker("w3", "host", 3, LEASE, NOW)
    first = store.claim_sources(many, "w1", NOW, LEASE)
    assert len(first) == 3  # nine free sites, three live workers
    assert len(store.claim_sources(many, "w2", NOW, LEASE)) == 2  # six left: ceil(6 / 3)


def test_only_a_dead_workers_run_is_marked_interrupted(store: Store) -> None:
    alive = store.start_run(NOW, "w1")
    dead = store.start_run(NOW, "w2")
    store.heartbeat("w1", NOW + LEASE, LEASE)
    store.start_run(NOW + LEASE + timedelta(seconds=1), "w1")
    status = {r["id"]: r["status"] for r in store.runs()}
    assert (status[alive], status[dead]) == ("running", "interrupted")


def test_a_step_is_one_workers_at_a_time(store: Store) -> None:
    with pg_schema() as url, Store(url) as other:
        with store.exclusive("digest") as ours:
            assert ours
            with other.exclusive("digest") as theirs:
                assert not theirs
            with other.exclusive("alerts") as theirs:
                assert theirs  # another step is not held
        with other.exclusive("digest", wait=1.0) as theirs:
            assert theirs  # released


def test_the_article_ceiling_waits_for_writes_in_flight(store: Store) -> None:
    source_id = store.ensure_source(SOURCES[0]).id
    run = store.start_run(NOW)
    store.add_articles(source_id, run, [article("https://a.example/1")])
    # A write holds its shared lock until it commits: the ceiling waits, then counts it.
    with store.engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock_shared(:ns, 0)"), {"ns": 0x6D6F6E00})
        got: list[int] = []
        reader = threading.Thread(target=lambda: got.append(store.article_ceiling()))
        reader.start()
        reader.join(timeout=0.5)
        assert reader.is_alive() and not got
        conn.execute(text("SELECT 1"))
    reader.join(timeout=10)
    assert got == [store.newest_article_id()]


def test_a_worker_registers_renews_and_leaves(store: Store) -> None:
    clock = [NOW]
    with Worker(store, timedelta(seconds=0.3), name="host-a:42", clock=lambda: clock[0]) as me:
        # Two sites free, three live workers: one site.
        assert [s.name for s in me.claim(SOURCES[:3])] == ["A news", "A sport"]
        out = io.StringIO()
        print_workers(store, out, NOW)
        assert "host-a:42  host host-a  pid 42" in out.getvalue()
        assert "A news  leased for" in out.getvalue()
    assert "host-a:42" not in {w["name"] for w in store.list_workers(NOW)}
    assert all(w["leases"] == [] for w in store.list_workers(NOW))


def test_workers_on_sqlite_say_it_is_one_machines(tmp_path: Path) -> None:
    assert not shared_storage(f"sqlite:///{tmp_path}/m.db")
    assert shared_storage("postgresql://monitor@db/monitor")
    with database_url("sqlite", tmp_path) as url, Store(url) as store:
        out = io.StringIO()
        print_workers(store, out)
    assert "SQLite" in out.getvalue() and "PostgreSQL" in out.getvalue()


def test_workers_started_together_create_the_database_once() -> None:
    with pg_schema() as url:
        errors: list[BaseException] = []

        def open_store() -> None:
            try:
                Store(url).close()
            except BaseException as exc:  # reported below, with the others'
                errors.append(exc)

        threads = [threading.Thread(target=open_store) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        with Store(url) as store:
            with store.engine.connect() as conn:
                stamped = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            assert store.schema_version() == SCHEMA_VERSION
            assert stamped == [(f"{SCHEMA_VERSION:04d}",)]  # made once, by one of them


def test_a_site_another_worker_is_claiming_is_passed_over(store: Store) -> None:
    with store.engine.begin() as conn:
        # What a claim of a.example in flight holds until it commits.
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:ns, hashtext('a.example'))"), {"ns": 0x6D6F6E01}
        )
        got = store.claim_sources(SOURCES, "w2", NOW, LEASE)
    assert got == {"B news", "B film"}  # its share, two sites, without waiting
