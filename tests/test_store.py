from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.errors import StorageError
from monitor.models import (
    Article,
    Evidence,
    Source,
    SourceOutcome,
    SourceStatus,
    Tagging,
    TextOrigin,
    Validators,
)
from monitor.store import SCHEMA_VERSION, Store
from tests.databases import DATABASES, database_url

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SOURCE = Source("Wire", "https://wire.example/rss", "en", "AZ")


def article(
    url: str | None, guid: str | None = None, tagged: bool = True, published: datetime | None = NOW
) -> Article:
    tagging = (
        Tagging(
            ("film_cooperation",),
            0.9,
            ("agreement",),
            ("AZ", "IT"),
            (Evidence("co-production", "They signed.", "film"),),
            "en",
        )
        if tagged
        else Tagging(language="en")
    )
    return Article(
        source="Wire", url=url or "", title="T", text="Body", text_origin=TextOrigin.PAGE,
        fetched_at=NOW, guid=guid, published=published, categories=("Culture",), language="en", tagging=tagging,
    )  # fmt: skip


@pytest.fixture(params=DATABASES)
def store(request: pytest.FixtureRequest, tmp_path: Path):
    with database_url(request.param, tmp_path) as url, Store(url) as s:
        yield s


def test_schema_created_with_version_and_pragmas(store: Store, tmp_path: Path) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    assert {"articles", "sources", "tags", "runs", "run_sources", "alembic_version"} <= set(
        store.table_names()
    )
    if store.engine.dialect.name != "sqlite":
        return
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    Store(url).close()
    with sqlite3.connect(tmp_path / "m.db") as conn:
        conn.execute("CREATE TABLE marker (x)")  # an upgrade would not touch it; a rebuild would
    with Store(url) as again:
        assert again.schema_version() == SCHEMA_VERSION
        assert "marker" in again.table_names()
    with sqlite3.connect(tmp_path / "m.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (f"{SCHEMA_VERSION:04d}",)
        ]


def test_the_newest_revision_is_the_schema_version() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "monitor:migrations")
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_heads() == [f"{SCHEMA_VERSION:04d}"]
    numbers = sorted(int(s.revision) for s in scripts.walk_revisions())
    assert numbers == list(range(1, SCHEMA_VERSION + 1))  # one chain, numbered in order


def test_a_database_of_the_old_version_table_is_taken_over(tmp_path: Path) -> None:
    """A database an earlier monitor made at schema version 3 (its ``schema_version`` table):
    opened now, it is stamped at 3, upgraded, the old table dropped, its articles kept."""
    url = f"sqlite:///{tmp_path}/m.db"
    with Store(url) as store:
        state = store.ensure_source(SOURCE)
        store.add_article(state.id, store.start_run(NOW), article("https://wire.example/1"))
    with sqlite3.connect(tmp_path / "m.db") as conn:
        conn.executescript(
            "DROP TABLE alembic_version; DROP TABLE users; DROP TABLE api_tokens;"
            "DROP TABLE feedback; DROP TABLE alerts; DROP TABLE alert_cursors;"
            "DROP TABLE alert_articles; DROP TABLE alert_deliveries;"
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP);"
            "INSERT INTO schema_version VALUES (1, '2026-01-01'), (2, '2026-01-01'),"
            " (3, '2026-01-01');"
        )
    with Store(url) as store:
        assert store.schema_version() == SCHEMA_VERSION
        names = store.table_names()
        assert "schema_version" not in names and {"users", "alerts"} <= set(names)
        assert store.count_articles() == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    Store(url).close()
    for newer in (f"{SCHEMA_VERSION + 1:04d}", "a1b2c3d4e5f6"):
        with sqlite3.connect(tmp_path / "m.db") as conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (newer,))
        with pytest.raises(StorageError, match="newer than this monitor understands"):
            Store(url)


def test_unusable_storage_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="cannot"):
        Store(f"sqlite:///{tmp_path}/file/sub/m.db")
    not_a_db = tmp_path / "junk.db"
    not_a_db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError):
        Store(f"sqlite:///{not_a_db}")


def test_articles_deduplicated_by_url_and_by_guid(store: Store) -> None:
    state = store.ensure_source(SOURCE)
    run = store.start_run(NOW)
    assert store.add_article(state.id, run, article("https://wire.example/1", "g1")) is not None
    assert store.add_article(state.id, run, article("https://wire.example/1", "g2")) is None
    assert store.add_article(state.id, run, article("https://wire.example/2", "g1")) is None
    assert store.add_article(state.id, run, article(None, "g3")) is not None
    assert (
        store.add_article(state.id, run, article(None, "g4")) is not None
    )  # NULL urls do not clash
    assert store.known(state.id, "https://wire.example/1", None)
    assert store.known(state.id, None, "g3")
    assert not store.known(state.id, "https://wire.example/9", "g9")
    other = store.ensure_source(Source("Other", "https://other.example/rss"))
    assert not store.known(other.id, None, "g3")  # a guid is only unique within its source
    assert store.count_articles() == 3


def test_a_batch_is_one_transaction_with_duplicates_reported_in_place(
    store: Store, tmp_path: Path
) -> None:
    state = store.ensure_source(SOURCE)
    run = store.start_run(NOW)
    store.add_article(state.id, run, article("https://wire.example/1", "g1"))
    batch = [
        article("https://wire.example/2", "g2"),
        article("https://wire.example/1", "g9"),  # stored before
        article("https://wire.example/3", "g3", tagged=False),
        article("https://wire.example/2", "g8"),  # earlier in this batch
    ]
    ids = store.add_articles(state.id, run, batch)
    assert [i is not None for i in ids] == [True, False, True, False]
    assert store.count_articles() == 3
    assert store.add_articles(state.id, run, []) == []

    # A failing batch leaves nothing of itself behind.
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_fifth BEFORE INSERT ON articles WHEN NEW.url LIKE '%/5' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_fifth() RETURNS trigger AS $$ BEGIN "
                "IF NEW.url LIKE '%%/5' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; "
                "END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_fifth BEFORE INSERT ON articles "
                "FOR EACH ROW EXECUTE FUNCTION refuse_fifth()"
            )
    with pytest.raises(StorageError, match="refused"):
        store.add_articles(
            state.id, run, [article("https://wire.example/4"), article("https://wire.example/5")]
        )
    assert store.count_articles() == 3
    assert not store.known(state.id, "https://wire.example/4", None)


def test_tagged_between_round_trips_tagging(store: Store) -> None:
    state = store.ensure_source(SOURCE)
    run = store.start_run(NOW)
    store.add_article(state.id, run, article("https://wire.example/1"))
    store.add_article(state.id, run, article("https://wire.example/2", tagged=False))
    store.add_article(
        state.id, run, article("https://wire.example/3", published=NOW - timedelta(days=2))
    )
    store.add_article(
        state.id, run, article("https://wire.example/4", published=None)
    )  # dated by fetch time
    found = store.tagged_between(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert sorted(s.article.url for s in found) == [
        "https://wire.example/1",
        "https://wire.example/4",
    ]
    tagging = found[0].article.tagging
    assert tagging.topics == ("film_cooperation",) and tagging.countries == ("AZ", "IT")
    assert tagging.evidence == (Evidence("co-production", "They signed.", "film"),)
    assert found[0].article.published is None or found[0].article.published.tzinfo is UTC


def test_validators_saved_only_when_given_and_failures_counted(store: Store) -> None:
    state = store.ensure_source(SOURCE)
    run = store.start_run(NOW)
    ok = SourceOutcome("Wire", SOURCE.url, SourceStatus.OK, new_items=2)
    store.record_outcome(run, state.id, ok, Validators('"v1"', None, "abc"), NOW)
    assert store.ensure_source(SOURCE).validators == Validators('"v1"', None, "abc")
    failed = SourceOutcome(
        "Wire", SOURCE.url, SourceStatus.ERROR, error_code="fetch.http_500", error_message="x"
    )
    for i in range(3):
        store.record_outcome(
            store.start_run(NOW), state.id, failed, None, NOW + timedelta(minutes=i)
        )
    (health,) = store.health(["Wire"], NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert (health.status, health.error, health.consecutive_failures) == (
        SourceStatus.ERROR,
        "fetch.http_500",
        3,
    )
    assert health.last_success == NOW
    assert store.ensure_source(SOURCE).validators.etag == '"v1"'  # a failure keeps them


def test_changed_feed_url_forgets_validators(store: Store) -> None:
    state = store.ensure_source(SOURCE)
    store.record_outcome(
        store.start_run(NOW),
        state.id,
        SourceOutcome("Wire", SOURCE.url, SourceStatus.OK),
        Validators("e", "m", "h"),
        NOW,
    )
    moved = store.ensure_source(Source("Wire", "https://wire.example/new-rss"))
    assert moved.id == state.id and moved.validators == Validators()


def test_interrupted_runs_are_marked_by_the_next(store: Store) -> None:
    first = store.start_run(NOW)
    second = store.start_run(NOW + timedelta(minutes=5))
    store.finish_run(second, NOW + timedelta(minutes=6), status="ok", outcomes=[], tagged=0)
    assert [(r["id"], r["status"]) for r in store.runs()] == [
        (first, "interrupted"),
        (second, "ok"),
    ]


def test_the_last_change_is_the_last_cycle_that_checked_a_source(store: Store) -> None:
    assert store.last_change() is None
    checked = store.start_run(NOW)
    store.finish_run(checked, NOW + timedelta(minutes=1), status="ok", outcomes=[], tagged=0)
    idle = store.start_run(NOW + timedelta(minutes=10))
    store.finish_run(idle, NOW + timedelta(minutes=10), status="idle", outcomes=[], tagged=0)
    assert store.last_change() == NOW + timedelta(minutes=1)
    store.start_run(NOW + timedelta(minutes=20))  # cut short: it may have stored something
    assert store.last_change() == NOW + timedelta(minutes=20)


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StorageError):
        store.start_run(datetime(2026, 1, 1))


def test_alert_records_from_cursor_to_sent(store: Store) -> None:
    """The alerts' records on both databases: a new rule's cursor, alerts and the versions that
    join them, deliveries pending, failed with a retry time, and sent."""
    state = store.ensure_source(SOURCE)
    run = store.start_run(NOW)
    store.add_article(state.id, run, article("https://wire.example/old"))
    assert store.alert_cursor("r") is None
    start = store.start_alert_cursor("r")
    assert store.start_alert_cursor("r") == start == store.newest_article_id()
    first, second, plain = store.add_articles(
        state.id,
        run,
        [
            article("https://wire.example/1"),
            article("https://wire.example/2"),
            article("https://wire.example/3", tagged=False),
        ],
    )
    assert first and second and plain
    news = store.tagged_after(start, 10)
    assert [s.id for s in news] == [first, second]  # untagged and older ones are not news
    (alert,) = store.record_alerts("r", [(first, None)], first, ["hook", "mail"], NOW)
    store.record_alerts("r", [(second, alert)], second, ["hook", "mail"], NOW)
    assert store.alert_cursor("r") == second
    assert store.alerted("r", [first, second, plain]) == {first: alert, second: alert}
    assert store.pending_alerts("r", "hook", NOW) == [(alert, first)]

    store.alerts_failed([alert], "hook", "HTTP 500", lambda n: NOW + timedelta(minutes=n))
    assert store.pending_alerts("r", "hook", NOW) == []  # waits for its retry
    assert store.pending_alerts("r", "hook", NOW + timedelta(minutes=1)) == [(alert, first)]
    status = store.alert_status("r")
    assert (status["alerts"], status["versions"], status["pending"], status["failing"]) == (
        1, 2, 2, 1,
    )  # fmt: skip
    assert status["last_error"] == "HTTP 500" and status["next_try"] == NOW + timedelta(minutes=1)

    store.alerts_sent([alert], "hook", NOW, rollup=True)
    assert store.alerts_sent_since("r", "hook", NOW - timedelta(hours=1)) == (1, True)
    assert store.alerts_sent_since("r", "mail", NOW - timedelta(hours=1)) == (0, False)
    assert store.alert_status("r")["last_sent"] == NOW
    assert [s.article.url for s in store.stored_articles([second])] == ["https://wire.example/2"]
