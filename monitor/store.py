"""Storage: SQLAlchemy Core over SQLite by default, PostgreSQL by URL, one code path for both.

Tables: ``sources`` (fetch state, health and when each is due), ``articles``, ``tags``, ``runs``
and ``run_sources`` (a log of every cycle), ``digests`` (digests delivered on schedule),
``users``, ``api_tokens`` and ``feedback`` (the workspace's accounts and the office's judgements),
``alert_cursors``, ``alerts``, ``alert_articles`` and ``alert_deliveries`` (instant alerts),
``alembic_version`` (the schema's revision: ``monitor.migrations``). On SQLite, ``articles_fts`` indexes the articles' titles
and texts for the archive search (``monitor.search``) and ``article_facets`` keeps what it filters
and orders by (language, date, source) apart from the long rows; triggers keep both in step.

Crash safety comes from the order of writes, each in its own short transaction: an article and
its tags together; a source's validators and body hash only after all its new articles. A cycle
killed at any moment leaves every finished article stored and the feed's state unchanged, so the
next cycle fetches the feed again, skips what is stored and finishes the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    case,
    create_engine,
    event,
    exists,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import AccountError, StorageError
from monitor.models import (
    Article,
    Evidence,
    Source,
    SourceHealth,
    SourceOutcome,
    SourceStatus,
    Tagging,
    TextOrigin,
    Validators,
)
from monitor.schedule import HISTORY_DAYS, History
from monitor.urls import host_of

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
STEP_POLL = 0.2  # seconds between tries of a step's lock held by another worker
FORGET_WORKERS = timedelta(days=1)  # a worker silent this long leaves the workers table
TOKEN_USE_RESOLUTION = timedelta(minutes=5)  # how exactly a token's last use is kept
_READING = "monitor_reading"  # execution option: a read-only transaction (see _on_begin)
# The first key of the PostgreSQL advisory locks the monitor takes, one a kind of lock, so that
# they never meet another application's (or each other's) keys.
_NS_STORE, _NS_SITE, _NS_STEP = 0x6D6F6E00, 0x6D6F6E01, 0x6D6F6E02


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as naive UTC: SQLite would silently drop an offset."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to storage; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


metadata = MetaData()

# Where the schema version was kept before Alembic's ``alembic_version``: read once, when a
# database made by an earlier version is first opened, and dropped (see _upgrade).
legacy_schema_version = Table(
    "schema_version",
    MetaData(),
    Column("version", Integer, primary_key=True),
    Column("applied_at", UTCDateTime, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("language", String(8)),
    Column("country", String(2)),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("last_attempt_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_status", String(20)),
    Column("last_error_code", String(60)),
    Column("last_error_message", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_new_items", Integer, nullable=False, default=0),
    # Schema version 2:
    Column("first_attempt_at", UTCDateTime),
    Column("next_due_at", UTCDateTime),
    # Schema version 7: the worker fetching the source and until when (several workers share a
    # PostgreSQL database); the heartbeat extends it, a dead worker's lapses.
    Column("lease_owner", String(200)),
    Column("lease_until", UTCDateTime),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    # running -> ok | no_source | interrupted; idle: nothing was due, nothing changed
    Column("status", String(20), nullable=False),
    Column("sources_total", Integer, nullable=False, default=0),
    Column("sources_failed", Integer, nullable=False, default=0),
    Column("new_items", Integer, nullable=False, default=0),
    Column("tagged", Integer, nullable=False, default=0),
    Column("worker", String(200)),  # schema version 9: who ran it, with several workers
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("url", Text, unique=True),  # canonical; NULL for an item without an http(s) link
    Column("guid", Text),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("text_origin", String(20), nullable=False),
    Column("extract_error", String(60)),
    Column("published_at", UTCDateTime),
    Column("fetched_at", UTCDateTime, nullable=False),
    # published_at, or fetched_at for an undated item: the digest selects on it
    Column("dated_at", UTCDateTime, nullable=False),
    Column("author", Text),
    Column("categories", JSON, nullable=False, default=list),
    Column("language", String(8)),
    UniqueConstraint("source_id", "guid", name="uq_articles_source_guid"),
    Index("ix_articles_dated_at", "dated_at"),
    # Schema version 3: per-source counts over recent days (health, history) read the index.
    Index("ix_articles_source_fetched", "source_id", "fetched_at"),
)

tags = Table(
    "tags",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("topic", String(60), primary_key=True),
    Column("score", Float, nullable=False),
    Column("aspects", JSON, nullable=False),
    Column("countries", JSON, nullable=False),
    Column("evidence", JSON, nullable=False),
    Index("ix_tags_topic", "topic"),
)

run_sources = Table(
    "run_sources",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("new_items", Integer, nullable=False, default=0),
    Column("error_code", String(60)),
    Column("error_message", Text),
    Column("warnings", JSON, nullable=False, default=list),
)


digests = Table(
    "digests",
    metadata,
    Column("name", String(40), primary_key=True),  # 2026-11-26, or FIRST_LAST for a period
    Column("slot_at", UTCDateTime),  # the scheduled time it served; NULL when made by hand
    Column("generated_at", UTCDateTime, nullable=False),
    Column("failures", JSON, nullable=False, default=list),  # delivery channels that failed
)


users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(10), nullable=False),  # admin | reader
    Column("password_hash", Text, nullable=False),  # Argon2id, see monitor.accounts
    Column("created_at", UTCDateTime, nullable=False),
    Column("signed_out_at", UTCDateTime),  # sessions issued before are void (schema 7)
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256: never the token
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
)

# Failed sign-ins to the workspace by key (a client address, a user name), Unix time: the
# throttle of every ``monitor web`` process counts the same attempts (schema 8).
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(300), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_sign_in_failures_key_at", "key", "at"),
)


feedback = Table(
    "feedback",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("relevant", Boolean, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("judged_at", UTCDateTime, nullable=False),
    Index("ix_feedback_judged_at", "judged_at"),
)

# Instant alerts (``monitor.alerts``). A rule's cursor is the last article id it has looked at;
# an alert is one story for one rule (its first version), ``alert_articles`` every version that
# joined it, ``alert_deliveries`` its state in each of the rule's channels: pending until sent.
alert_cursors = Table(
    "alert_cursors",
    metadata,
    Column("rule", String(200), primary_key=True),
    Column("article_id", Integer, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rule", String(200), nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_alerts_rule", "rule"),
)

alert_articles = Table(
    "alert_articles",
    metadata,
    Column("rule", String(200), primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("channel", String(40), primary_key=True),  # AlertChannel.key
    Column("state", String(10), nullable=False),  # pending | sent
    Column("attempts", Integer, nullable=False, default=0),  # failures so far
    Column("next_try_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime),
    Column("rollup", Boolean, nullable=False, default=False),
    Index("ix_alert_deliveries_state", "state", "channel"),
)


# What the archive search filters and orders by, apart from the article's row: there, language
# and date sit after the text, and reading them reads through the text's overflow pages. Kept in
# step with articles by triggers (SQLite, like the full-text index).
article_facets = Table(
    "article_facets",
    metadata,
    Column("id", Integer, primary_key=True),  # the article's id
    Column("source_id", Integer, nullable=False),
    Column("language", String(8)),
    Column("dated_at", UTCDateTime, nullable=False),
    Index("ix_article_facets_dated_at", "dated_at"),
)

FACETS_SQLITE = (
    "CREATE TABLE IF NOT EXISTS article_facets (id INTEGER PRIMARY KEY, "
    "source_id INTEGER NOT NULL, language VARCHAR(8), dated_at TIMESTAMP NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_article_facets_dated_at ON article_facets (dated_at)",
    "CREATE TRIGGER IF NOT EXISTS article_facets_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO article_facets (id, source_id, language, dated_at) "
    "VALUES (new.id, new.source_id, new.language, new.dated_at); END",
    "CREATE TRIGGER IF NOT EXISTS article_facets_delete AFTER DELETE ON articles BEGIN "
    "DELETE FROM article_facets WHERE id = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS article_facets_update "
    "AFTER UPDATE OF source_id, language, dated_at ON articles BEGIN "
    "UPDATE article_facets SET source_id = new.source_id, language = new.language, "
    "dated_at = new.dated_at WHERE id = new.id; END",
    "INSERT OR REPLACE INTO article_facets (id, source_id, language, dated_at) "
    "SELECT id, source_id, language, dated_at FROM articles",
)

# SQLite's full-text index over titles and texts. The trigram tokenizer matches any three
# letters in a row, so a query finds its word inside inflected forms (film -> filmlər, фильм ->
# фильмов, კინო -> კინოს) in every script, where a word tokenizer matches whole words only.
FTS_SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5("
    "title, text, content='articles', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS articles_fts_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS articles_fts_delete AFTER DELETE ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS articles_fts_update AFTER UPDATE OF title, text ON articles "
    "BEGIN INSERT INTO articles_fts(articles_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
)

# Schema version 7: the workers sharing a PostgreSQL database (``monitor.workers``), each named
# host:pid, with the lease it takes and its last sign of life.
workers = Table(
    "workers",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("lease_seconds", Float, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
)


# The newest revision in monitor/migrations/versions (a test checks they agree): a database at
# it needs no upgrade, and then Alembic is not even imported (cron's idle runs open the store).
SCHEMA_VERSION = 11


@dataclass(frozen=True)
class SourceState:
    id: int
    validators: Validators
    last_attempt_at: datetime | None
    next_due_at: datetime | None = None


@dataclass(frozen=True)
class StoredArticle:
    id: int
    article: Article


class Store:
    """The monitor's database. Use as a context manager, or call ``close()``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        try:
            self._migrate()
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StorageError(f"cannot open storage {safe_url(url)}: {exc}") from exc

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StorageError(f"storage {safe_url(self.url)}: {exc}") from exc

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A transaction that only reads: on SQLite it takes no write lock, so the workspace's
        pages never hold up a cycle, nor wait for one."""
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{_READING: True})
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise StorageError(f"storage {safe_url(self.url)}: {exc}") from exc

    # -- schema ------------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self.engine.begin() as conn:
            if self.shared:
                # Workers started together on a new database: one creates it, the others wait
                # and find it made.
                conn.execute(text("SELECT pg_advisory_xact_lock(:ns, 1)"), {"ns": _NS_STORE})
            current = _revision(conn)
            if current > SCHEMA_VERSION:
                raise StorageError(
                    f"storage {safe_url(self.url)} has schema version {current}, newer than this "
                    f"monitor understands ({SCHEMA_VERSION}); upgrade the monitor"
                )
            if current == SCHEMA_VERSION:
                return
            if current == 0:
                log.info(
                    "creating storage %s (schema version %d)", safe_url(self.url), SCHEMA_VERSION
                )
            else:
                log.info("upgrading storage from schema version %d to %d", current, SCHEMA_VERSION)
            _upgrade(conn, current)

    def schema_version(self) -> int:
        with self._tx() as conn:
            return _revision(conn)

    def table_names(self) -> list[str]:
        return sorted(inspect(self.engine).get_table_names())

    # -- sources -----------------------------------------------------------------------------

    def ensure_source(self, source: Source) -> SourceState:
        """The stored state of a configured source, created on first sight. A changed URL
        forgets the old validators: they belong to the old feed."""
        with self._tx() as conn:
            row = conn.execute(select(sources).where(sources.c.name == source.name)).first()
            if row is None:
                source_id = conn.execute(
                    sources.insert()
                    .returning(sources.c.id)
                    .values(
                        name=source.name,
                        url=source.url,
                        language=source.language,
                        country=source.country,
                        consecutive_failures=0,
                        last_new_items=0,
                    )
                ).scalar_one()
                return SourceState(int(source_id), Validators(), None)
            values: dict[str, Any] = {"language": source.language, "country": source.country}
            validators = Validators(row.etag, row.last_modified, row.body_hash)
            next_due = row.next_due_at
            if row.url != source.url:
                # A new address is a new feed: fetch it now, with no validators of the old one.
                values.update(
                    url=source.url, etag=None, last_modified=None, body_hash=None, next_due_at=None
                )
                validators = Validators()
                next_due = None
            conn.execute(update(sources).where(sources.c.id == row.id).values(**values))
            return SourceState(int(row.id), validators, row.last_attempt_at, next_due)

    def record_outcome(
        self,
        run_id: int,
        source_id: int,
        outcome: SourceOutcome,
        validators: Validators | None,
        now: datetime,
        next_due: datetime | None = None,
        *,
        lease_owner: str | None = None,
    ) -> None:
        """Close a source's part of a cycle. ``validators`` are saved only when given, that is
        after every new item of the fetched feed is stored. The lease of ``lease_owner`` is
        released with it (not another worker's, taken over after this one's lapsed)."""
        values: dict[str, Any] = {
            "last_attempt_at": now,
            "last_status": outcome.status.value,
            "last_new_items": outcome.new_items,
            "next_due_at": next_due,
            "first_attempt_at": func.coalesce(sources.c.first_attempt_at, now),
        }
        if outcome.status is SourceStatus.ERROR:
            values.update(
                last_error_code=outcome.error_code,
                last_error_message=outcome.error_message,
                consecutive_failures=sources.c.consecutive_failures + 1,
            )
        else:
            values.update(
                last_success_at=now,
                last_error_code=None,
                last_error_message=None,
                consecutive_failures=0,
            )
        if lease_owner is not None:
            mine = sources.c.lease_owner == lease_owner
            values.update(
                lease_owner=case((mine, None), else_=sources.c.lease_owner),
                lease_until=case((mine, None), else_=sources.c.lease_until),
            )
        if validators is not None:
            values.update(
                etag=validators.etag,
                last_modified=validators.last_modified,
                body_hash=validators.body_hash,
            )
        with self._tx() as conn:
            conn.execute(update(sources).where(sources.c.id == source_id).values(**values))
            conn.execute(
                self._insert(run_sources)
                .values(
                    run_id=run_id,
                    source_id=source_id,
                    status=outcome.status.value,
                    new_items=outcome.new_items,
                    error_code=outcome.error_code,
                    error_message=outcome.error_message,
                    warnings=list(outcome.warnings),
                )
                .on_conflict_do_nothing()
            )

    def health(
        self, names: Sequence[str], since: datetime, until: datetime, recent_days: int = 30
    ) -> list[SourceHealth]:
        """Health of the named sources, in that order; ``new_items`` counts the articles
        stored from each between ``since`` and ``until``, ``recent_items`` those of the
        ``recent_days`` before ``until``, ``last_item`` the newest one's time."""
        recent = until - timedelta(days=recent_days)
        # Each source's newest article by one index seek: grouping the whole table by source
        # read every article's entry.
        last = (
            select(func.max(articles.c.fetched_at))
            .where(articles.c.source_id == sources.c.id)
            .where(articles.c.fetched_at < until)
            .scalar_subquery()
        )

        def counted(start: datetime) -> Any:
            # Each source's count over its own range of the (source, fetched) index: a count
            # grouped by source over the window scanned the whole table on PostgreSQL.
            return (
                select(func.count())
                .where(articles.c.source_id == sources.c.id)
                .where(articles.c.fetched_at >= start)
                .where(articles.c.fetched_at < until)
                .scalar_subquery()
            )

        with self._tx() as conn:
            rows = {
                r.name: r
                for r in conn.execute(
                    select(
                        sources,
                        last.label("last_item"),
                        counted(since).label("new"),
                        counted(recent).label("recent"),
                    ).where(sources.c.name.in_(names))
                )
            }
        result = []
        for name in names:
            row = rows.get(name)
            if row is None:
                result.append(SourceHealth(name, "", SourceStatus.SKIPPED, 0, None))
                continue
            result.append(
                SourceHealth(
                    name=name,
                    url=row.url,
                    status=SourceStatus(row.last_status)
                    if row.last_status
                    else SourceStatus.SKIPPED,
                    new_items=int(row.new),
                    error=row.last_error_code,
                    error_message=row.last_error_message,
                    last_success=row.last_success_at,
                    consecutive_failures=row.consecutive_failures,
                    last_item=row.last_item,
                    recent_items=int(row.recent),
                )
            )
        return result

    def history(self, source_id: int, now: datetime, days: int = HISTORY_DAYS) -> History:
        """What the scheduler needs to know of a source (see monitor.schedule)."""
        with self._tx() as conn:
            row = conn.execute(select(sources).where(sources.c.id == source_id)).one()
            recent = conn.scalar(
                select(func.count())
                .select_from(articles)
                .where(articles.c.source_id == source_id)
                .where(articles.c.fetched_at >= now - timedelta(days=days))
            )
        first = row.first_attempt_at
        return History(
            watched_for=now - first if first is not None else timedelta(0),
            items_last_days=int(recent or 0),
            consecutive_failures=int(row.consecutive_failures or 0),
            last_error=row.last_error_code,
        )

    def next_due(self, names: Sequence[str]) -> dict[str, datetime | None]:
        """When each named source is due; None for a source never fetched (due now). A source
        leased by a worker, or of a site whose sources a worker is fetching, is due no sooner
        than that lease ends: no other worker may take it before."""
        with self._tx() as conn:
            rows = conn.execute(
                select(sources.c.name, sources.c.url, sources.c.next_due_at, sources.c.lease_until)
            ).all()
        held: dict[str, datetime] = {}  # site -> the latest lease on it
        for row in rows:
            if row.lease_until is not None:
                site = host_of(row.url)
                held[site] = max(row.lease_until, held.get(site, row.lease_until))
        found: dict[str, datetime | None] = {}
        for row in rows:
            lease = held.get(host_of(row.url))
            due = row.next_due_at
            found[row.name] = due if lease is None else max(lease, due or lease)
        return {name: found.get(name) for name in names}

    # -- digests -----------------------------------------------------------------------------

    def record_digest(
        self, name: str, generated_at: datetime, slot: datetime | None, failures: Sequence[str]
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                self._insert(digests)
                .values(name=name, slot_at=slot, generated_at=generated_at, failures=list(failures))
                .on_conflict_do_update(
                    index_elements=[digests.c.name],
                    set_={
                        "slot_at": func.coalesce(slot, digests.c.slot_at),
                        "generated_at": generated_at,
                        "failures": list(failures),
                    },
                )
            )

    def version(self) -> tuple[Any, ...]:
        """Changes whenever an article is stored or a judgement made, changed or removed: what
        a view computed from the archive can be kept against (cheap: an index end each)."""
        with self.reading() as conn:
            return tuple(
                conn.execute(
                    select(
                        select(func.max(articles.c.id)).scalar_subquery(),
                        select(func.max(feedback.c.judged_at)).scalar_subquery(),
                        select(func.count()).select_from(feedback).scalar_subquery(),
                    )
                ).one()
            )

    def last_change(self) -> datetime | None:
        """When the last cycle that checked a source ended (or began, if it was cut short):
        nothing stored is newer. Idle runs change nothing and do not count."""
        when = func.coalesce(runs.c.finished_at, runs.c.started_at, type_=UTCDateTime)
        latest = func.max(when, type_=UTCDateTime)
        with self._tx() as conn:
            value = conn.scalar(select(latest).where(runs.c.status != "idle"))
        return value if isinstance(value, datetime) else None

    def last_digest_slot(self) -> datetime | None:
        """The latest scheduled slot a digest was made for."""
        with self._tx() as conn:
            value = conn.scalar(select(func.max(digests.c.slot_at)))
        return value if isinstance(value, datetime) else None

    # -- articles ----------------------------------------------------------------------------

    def known(self, source_id: int, url: str | None, guid: str | None) -> bool:
        """Whether an item is stored already: same canonical URL anywhere, or same guid from
        this source."""
        return bool(self.known_among(source_id, [(url, guid)]))

    def known_among(
        self, source_id: int, items: Sequence[tuple[str | None, str | None]]
    ) -> set[tuple[str | None, str | None]]:
        """Which (url, guid) pairs are stored already (see ``known``), in a few queries rather
        than one per item: a feed of thousands of items must not hold the cycle up."""
        urls = sorted({u for u, _ in items if u})
        guids = sorted({g for _, g in items if g})
        stored_urls: set[str] = set()
        stored_guids: set[str] = set()
        with self._tx() as conn:
            for start in range(0, len(urls), 500):
                chunk = urls[start : start + 500]
                rows = conn.execute(select(articles.c.url).where(articles.c.url.in_(chunk)))
                stored_urls.update(r.url for r in rows)
            for start in range(0, len(guids), 500):
                chunk = guids[start : start + 500]
                rows = conn.execute(
                    select(articles.c.guid).where(
                        (articles.c.source_id == source_id) & articles.c.guid.in_(chunk)
                    )
                )
                stored_guids.update(r.guid for r in rows)
        return {(u, g) for u, g in items if (u and u in stored_urls) or (g and g in stored_guids)}

    def add_article(self, source_id: int, run_id: int, article: Article) -> int | None:
        """Store an article and its tags in one transaction. Returns its id, or None when an
        article with the same URL (or the same guid from this source) was stored first."""
        return self.add_articles(source_id, run_id, [article])[0]

    def add_articles(
        self, source_id: int, run_id: int, batch: Sequence[Article]
    ) -> list[int | None]:
        """Store articles and their tags in one transaction (a commit per article costs more
        than the inserts). Returns each one's id, or None as ``add_article`` does."""
        if not batch:
            return []
        with self._tx() as conn:
            if self.shared:
                # Held until commit: article_ceiling waits for it (see there).
                conn.execute(text("SELECT pg_advisory_xact_lock_shared(:ns, 0)"), {"ns": _NS_STORE})
            return [self._add(conn, source_id, run_id, article) for article in batch]

    def _add(self, conn: Connection, source_id: int, run_id: int, article: Article) -> int | None:
        article_id = conn.execute(
            self._insert(articles)
            .values(
                source_id=source_id,
                run_id=run_id,
                url=article.url or None,
                guid=article.guid,
                title=article.title,
                summary=article.summary,
                text=article.text,
                text_origin=article.text_origin.value,
                extract_error=article.extract_error,
                published_at=article.published,
                fetched_at=article.fetched_at,
                dated_at=article.published or article.fetched_at,
                author=article.author,
                categories=list(article.categories),
                language=article.language,
            )
            .on_conflict_do_nothing()
            .returning(articles.c.id)
        ).scalar()
        if article_id is None:
            return None
        tagging = article.tagging
        for topic in tagging.topics:
            conn.execute(
                tags.insert().values(
                    article_id=article_id,
                    topic=topic,
                    score=tagging.score,
                    aspects=list(tagging.aspects),
                    countries=list(tagging.countries),
                    evidence=[
                        {"term": e.term, "text": e.text, "concept": e.concept}
                        for e in tagging.evidence
                    ],
                )
            )
        return int(article_id)

    def tagged_between(self, since: datetime, until: datetime) -> list[StoredArticle]:
        """Tagged articles dated in [since, until), best score first; none that the office
        marked not relevant."""
        query = (
            select(articles, sources.c.name.label("source_name"), tags)
            .join(sources, sources.c.id == articles.c.source_id)
            .join(tags, tags.c.article_id == articles.c.id)
            .where(articles.c.dated_at >= since, articles.c.dated_at < until)
            # A story someone in the office marked not relevant leaves every later digest.
            .where(
                ~exists().where(
                    feedback.c.article_id == articles.c.id, feedback.c.relevant.is_(False)
                )
            )
            .order_by(tags.c.score.desc(), articles.c.dated_at.desc(), articles.c.id)
        )
        with self._tx() as conn:
            rows = conn.execute(query).all()
        merged: dict[int, tuple[Any, list[Any]]] = {}
        for row in rows:
            merged.setdefault(row.id, (row, []))[1].append(row)
        return [
            StoredArticle(aid, _article(first, tag_rows))
            for aid, (first, tag_rows) in merged.items()
        ]

    def facets_between(
        self, since: datetime, until: datetime
    ) -> list[tuple[datetime, list[str], list[str]]]:
        """(dated_at, aspects, countries) of each film-cooperation story dated in [since,
        until), none that the office marked not relevant: what the trends count."""
        query = (
            select(articles.c.dated_at, tags.c.aspects, tags.c.countries)
            .join(tags, tags.c.article_id == articles.c.id)
            .where(tags.c.topic == "film_cooperation")
            .where(articles.c.dated_at >= since, articles.c.dated_at < until)
            .where(
                ~exists().where(
                    feedback.c.article_id == articles.c.id, feedback.c.relevant.is_(False)
                )
            )
        )
        with self.reading() as conn:
            return [(r.dated_at, list(r.aspects), list(r.countries)) for r in conn.execute(query)]

    def count_articles(self) -> int:
        with self._tx() as conn:
            return int(conn.scalar(select(func.count()).select_from(articles)) or 0)

    # -- accounts and feedback (the workspace) ------------------------------------------------

    def add_user(self, name: str, role: str, password_hash: str, now: datetime) -> int:
        with self._tx() as conn:
            if conn.scalar(select(users.c.id).where(users.c.name == name)) is not None:
                raise AccountError(f"user {name!r} exists already")
            return int(
                conn.execute(
                    users.insert()
                    .returning(users.c.id)
                    .values(name=name, role=role, password_hash=password_hash, created_at=now)
                ).scalar_one()
            )

    def remove_user(self, name: str) -> None:
        """The user, their tokens and their feedback."""
        with self._tx() as conn:
            if not conn.execute(users.delete().where(users.c.name == name)).rowcount:
                raise AccountError(f"no user {name!r}")

    def users(self) -> list[dict[str, Any]]:
        """Each user with the number of their tokens, by name."""
        tokens = (
            select(func.count())
            .where(api_tokens.c.user_id == users.c.id)
            .scalar_subquery()
            .label("tokens")
        )
        with self.reading() as conn:
            rows = conn.execute(
                select(users.c.id, users.c.name, users.c.role, users.c.created_at, tokens).order_by(
                    users.c.name
                )
            ).all()
        return [dict(row._mapping) for row in rows]

    def user(self, user_id: int) -> dict[str, Any] | None:
        """A user by id (without the password hash), or None once removed."""
        with self.reading() as conn:
            row = conn.execute(
                select(
                    users.c.id,
                    users.c.name,
                    users.c.role,
                    users.c.created_at,
                    users.c.signed_out_at,
                ).where(users.c.id == user_id)
            ).first()
        return dict(row._mapping) if row else None

    def sign_in_failures(self, key: str, since: float) -> list[float]:
        with self._tx() as conn:
            return [
                float(t)
                for t in conn.scalars(
                    select(sign_in_failures.c.at).where(
                        sign_in_failures.c.key == key, sign_in_failures.c.at > since
                    )
                )
            ]

    def add_sign_in_failures(self, keys: Sequence[str], at: float, forget_before: float) -> None:
        with self._tx() as conn:
            conn.execute(sign_in_failures.insert(), [{"key": k[:300], "at": at} for k in keys])
            conn.execute(sign_in_failures.delete().where(sign_in_failures.c.at < forget_before))

    def clear_sign_in_failures(self, key: str) -> None:
        with self._tx() as conn:
            conn.execute(sign_in_failures.delete().where(sign_in_failures.c.key == key[:300]))

    def sign_out(self, user_id: int, now: datetime) -> None:
        """Void every session of the user issued before ``now`` (every browser's)."""
        with self._tx() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(signed_out_at=now))

    def user_login(self, name: str) -> dict[str, Any] | None:
        """The row a sign-in checks (with the password hash), or None."""
        with self.reading() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        return dict(row._mapping) if row else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self._tx() as conn:
            conn.execute(
                update(users).where(users.c.id == user_id).values(password_hash=password_hash)
            )

    def add_token(self, name: str, token_hash: str, now: datetime) -> None:
        with self._tx() as conn:
            user_id = conn.scalar(select(users.c.id).where(users.c.name == name))
            if user_id is None:
                raise AccountError(f"no user {name!r}")
            conn.execute(
                api_tokens.insert().values(user_id=user_id, token_hash=token_hash, created_at=now)
            )

    def user_by_token(self, token_hash: str, now: datetime) -> dict[str, Any] | None:
        """The user a token belongs to, or None. The token's last use is recorded at most every
        few minutes: a script's every request need not wait for the write lock."""
        with self.reading() as conn:
            row = conn.execute(
                select(
                    users.c.id,
                    users.c.name,
                    users.c.role,
                    users.c.created_at,
                    api_tokens.c.last_used_at,
                )
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == token_hash)
            ).first()
        if row is None:
            return None
        if row.last_used_at is None or now - row.last_used_at > TOKEN_USE_RESOLUTION:
            with self._tx() as conn:
                conn.execute(
                    update(api_tokens)
                    .where(api_tokens.c.token_hash == token_hash)
                    .values(last_used_at=now)
                )
        user = dict(row._mapping)
        del user["last_used_at"]
        return user

    def set_feedback(
        self, article_id: int, user_id: int, relevant: bool, note: str, now: datetime
    ) -> None:
        """A user's judgement of an article; a second one replaces the first."""
        with self._tx() as conn:
            if conn.scalar(select(articles.c.id).where(articles.c.id == article_id)) is None:
                raise AccountError(f"no article {article_id}")
            statement = self._insert(feedback).values(
                article_id=article_id, user_id=user_id, relevant=relevant, note=note, judged_at=now
            )
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[feedback.c.article_id, feedback.c.user_id],
                    set_={"relevant": relevant, "note": note, "judged_at": now},
                )
            )

    def story(self, article_id: int) -> dict[str, Any] | None:
        """One stored article with its source's name and its tags (``tags``: a list, best
        first), or None."""
        with self.reading() as conn:
            row = conn.execute(
                select(articles, sources.c.name.label("source"))
                .join(sources, sources.c.id == articles.c.source_id)
                .where(articles.c.id == article_id)
            ).first()
            if row is None:
                return None
            tag_rows = conn.execute(
                select(tags).where(tags.c.article_id == article_id).order_by(tags.c.score.desc())
            ).all()
        story = dict(row._mapping)
        story["tags"] = [dict(tag._mapping) for tag in tag_rows]
        return story

    def feedback_of(self, article_id: int) -> list[dict[str, Any]]:
        """Who judged an article and how, by name."""
        with self.reading() as conn:
            rows = conn.execute(
                select(users.c.name.label("user"), feedback.c.relevant, feedback.c.note,
                       feedback.c.judged_at)
                .join(users, users.c.id == feedback.c.user_id)
                .where(feedback.c.article_id == article_id)
                .order_by(users.c.name)
            ).all()  # fmt: skip
        return [dict(row._mapping) for row in rows]

    def judgements(self, article_ids: Sequence[int]) -> dict[int, bool]:
        """Per judged article: False when anyone said not relevant, else True."""
        if not article_ids:
            return {}
        with self.reading() as conn:
            rows = conn.execute(
                select(feedback.c.article_id, feedback.c.relevant).where(
                    feedback.c.article_id.in_(article_ids)
                )
            ).all()
        verdict: dict[int, bool] = {}
        for article_id, relevant in rows:
            verdict[article_id] = verdict.get(article_id, True) and bool(relevant)
        return verdict

    def feedback_since(
        self, since: datetime | None, until: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Every judgement (judged at or after ``since``, before ``until``), with its article
        and the tags it had, oldest first."""
        query = (
            select(
                feedback.c.relevant,
                feedback.c.note,
                feedback.c.judged_at,
                users.c.name.label("user"),
                articles.c.id.label("article_id"),
                articles.c.url,
                articles.c.title,
                articles.c.text,
                articles.c.language,
                sources.c.name.label("source"),
                tags.c.topic,
                tags.c.aspects,
                tags.c.countries,
            )
            .join(users, users.c.id == feedback.c.user_id)
            .join(articles, articles.c.id == feedback.c.article_id)
            .join(sources, sources.c.id == articles.c.source_id)
            .outerjoin(tags, tags.c.article_id == articles.c.id)
            .order_by(feedback.c.judged_at, articles.c.id, users.c.name)
        )
        if since is not None:
            query = query.where(feedback.c.judged_at >= since)
        if until is not None:
            query = query.where(feedback.c.judged_at < until)
        with self.reading() as conn:
            return [dict(row._mapping) for row in conn.execute(query).all()]

    # -- runs --------------------------------------------------------------------------------

    def start_run(self, now: datetime, worker: str | None = None) -> int:
        """A new run, by ``worker`` when several share the database."""
        with self._tx() as conn:
            # A run still marked running was killed: alone on the storage (its lock) no other is
            # alive; among several workers, one whose worker has stopped answering.
            live = [
                r.name
                for r in conn.execute(select(workers))
                if _live(r.heartbeat_at, r.lease_seconds, now)
            ]
            conn.execute(
                update(runs)
                .where(runs.c.status == "running")
                .where(runs.c.worker.is_(None) | runs.c.worker.not_in(live))
                .values(status="interrupted")
            )
            return int(
                conn.execute(
                    runs.insert()
                    .returning(runs.c.id)
                    .values(started_at=now, status="running", worker=worker)
                ).scalar_one()
            )

    def finish_run(
        self,
        run_id: int,
        now: datetime,
        *,
        status: str,
        outcomes: Sequence[SourceOutcome],
        tagged: int,
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    finished_at=now,
                    status=status,
                    sources_total=len(outcomes),
                    sources_failed=sum(o.status is SourceStatus.ERROR for o in outcomes),
                    new_items=sum(o.new_items for o in outcomes),
                    tagged=tagged,
                )
            )

    def runs(self) -> list[dict[str, Any]]:
        with self._tx() as conn:
            return [dict(r._mapping) for r in conn.execute(select(runs).order_by(runs.c.id))]

    # -- alerts ------------------------------------------------------------------------------

    def alert_cursor(self, rule: str) -> int | None:
        """The last article id ``rule`` has looked at; None for a rule never run."""
        with self._tx() as conn:
            value = conn.scalar(
                select(alert_cursors.c.article_id).where(alert_cursors.c.rule == rule)
            )
        return None if value is None else int(value)

    def start_alert_cursor(self, rule: str) -> int:
        """A new rule starts at the newest stored article: it alerts on what comes from now on,
        not on the archive. A rule already started keeps its cursor."""
        with self._tx() as conn:
            newest = int(conn.scalar(select(func.max(articles.c.id))) or 0)
            conn.execute(
                self._insert(alert_cursors)
                .values(rule=rule, article_id=newest)
                .on_conflict_do_nothing(index_elements=["rule"])
            )
            value = conn.scalar(
                select(alert_cursors.c.article_id).where(alert_cursors.c.rule == rule)
            )
        return int(value or 0)

    def tagged_after(
        self, after_id: int, limit: int, upto: int | None = None
    ) -> list[StoredArticle]:
        """Up to ``limit`` tagged articles with ids above ``after_id`` (and at most ``upto``),
        oldest first."""
        ids = (
            select(articles.c.id)
            .join(tags, tags.c.article_id == articles.c.id)
            .where(articles.c.id > after_id)
            .group_by(articles.c.id)
            .order_by(articles.c.id)
            .limit(limit)
        )
        if upto is not None:
            ids = ids.where(articles.c.id <= upto)
        with self._tx() as conn:
            chosen = [int(i) for i in conn.scalars(ids)]
        found = {s.id: s for s in self.stored_articles(chosen)}
        return [found[i] for i in chosen if i in found]

    def newest_article_id(self) -> int:
        with self._tx() as conn:
            return int(conn.scalar(select(func.max(articles.c.id))) or 0)

    def stored_articles(self, ids: Sequence[int]) -> list[StoredArticle]:
        """The tagged articles of ``ids`` (in no particular order)."""
        if not ids:
            return []
        query = (
            select(articles, sources.c.name.label("source_name"), tags)
            .join(sources, sources.c.id == articles.c.source_id)
            .join(tags, tags.c.article_id == articles.c.id)
            .where(articles.c.id.in_(list(ids)))
            .order_by(articles.c.id, tags.c.score.desc())
        )
        with self._tx() as conn:
            rows = conn.execute(query).all()
        merged: dict[int, tuple[Any, list[Any]]] = {}
        for row in rows:
            merged.setdefault(row.id, (row, []))[1].append(row)
        return [StoredArticle(i, _article(first, rows_)) for i, (first, rows_) in merged.items()]

    def alerted(self, rule: str, article_ids: Sequence[int]) -> dict[int, int]:
        """Of ``article_ids``, those already in an alert of ``rule``: article id -> alert id."""
        if not article_ids:
            return {}
        query = select(alert_articles.c.article_id, alert_articles.c.alert_id).where(
            alert_articles.c.rule == rule, alert_articles.c.article_id.in_(list(article_ids))
        )
        with self._tx() as conn:
            return {int(a): int(b) for a, b in conn.execute(query)}

    def record_alerts(
        self,
        rule: str,
        matches: Sequence[tuple[int, int | None]],
        cursor: int,
        channels: Sequence[str],
        now: datetime,
    ) -> list[int]:
        """In one transaction: each matched (article id, alert it joins or None) recorded, a new
        alert pending in every one of ``channels``, and the rule's cursor moved to ``cursor``.
        A cycle killed before this looks at the same articles again; after it, nothing is lost.
        Returns the new alerts' ids."""
        created: list[int] = []
        with self._tx() as conn:
            for article_id, joins in matches:
                if joins is None:
                    inserted = conn.execute(
                        alerts.insert().values(rule=rule, article_id=article_id, created_at=now)
                    ).inserted_primary_key
                    assert inserted is not None
                    joins = int(inserted[0])
                    created.append(joins)
                    for channel in channels:
                        conn.execute(
                            alert_deliveries.insert().values(
                                alert_id=joins,
                                channel=channel,
                                state="pending",
                                attempts=0,
                                next_try_at=now,
                                rollup=False,
                            )
                        )
                conn.execute(
                    self._insert(alert_articles)
                    .values(rule=rule, article_id=article_id, alert_id=joins)
                    .on_conflict_do_nothing(index_elements=["rule", "article_id"])
                )
            conn.execute(
                update(alert_cursors).where(alert_cursors.c.rule == rule).values(article_id=cursor)
            )
        return created

    def pending_alerts(self, rule: str, channel: str, now: datetime) -> list[tuple[int, int]]:
        """(alert id, its first version's article id) pending in ``channel`` and due to be
        tried, oldest first."""
        query = (
            select(alerts.c.id, alerts.c.article_id)
            .join(alert_deliveries, alert_deliveries.c.alert_id == alerts.c.id)
            .where(
                alerts.c.rule == rule,
                alert_deliveries.c.channel == channel,
                alert_deliveries.c.state == "pending",
                alert_deliveries.c.next_try_at <= now,
            )
            .order_by(alerts.c.id)
        )
        with self._tx() as conn:
            return [(int(a), int(b)) for a, b in conn.execute(query)]

    def alerts_sent_since(self, rule: str, channel: str, since: datetime) -> tuple[int, bool]:
        """How many of ``rule``'s alerts ``channel`` sent since ``since``, and whether one of
        its messages then was a roll-up."""
        query = (
            select(
                func.count(),
                func.count().filter(alert_deliveries.c.rollup.is_(True)),
            )
            .select_from(alert_deliveries.join(alerts, alerts.c.id == alert_deliveries.c.alert_id))
            .where(
                alerts.c.rule == rule,
                alert_deliveries.c.channel == channel,
                alert_deliveries.c.state == "sent",
                alert_deliveries.c.sent_at >= since,
            )
        )
        with self._tx() as conn:
            count, rollups = conn.execute(query).one()
        return int(count), bool(rollups)

    def alerts_sent(
        self, alert_ids: Sequence[int], channel: str, now: datetime, *, rollup: bool
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                update(alert_deliveries)
                .where(
                    alert_deliveries.c.alert_id.in_(list(alert_ids)),
                    alert_deliveries.c.channel == channel,
                )
                .values(state="sent", sent_at=now, rollup=rollup, last_error=None)
            )

    def alerts_failed(
        self,
        alert_ids: Sequence[int],
        channel: str,
        error: str,
        retry_at: Callable[[int], datetime],
    ) -> None:
        """Record a failed try; ``retry_at(attempts)`` says when to try again."""
        with self._tx() as conn:
            rows = conn.execute(
                select(alert_deliveries.c.alert_id, alert_deliveries.c.attempts).where(
                    alert_deliveries.c.alert_id.in_(list(alert_ids)),
                    alert_deliveries.c.channel == channel,
                )
            ).all()
            for alert_id, attempts in rows:
                conn.execute(
                    update(alert_deliveries)
                    .where(
                        alert_deliveries.c.alert_id == alert_id,
                        alert_deliveries.c.channel == channel,
                    )
                    .values(
                        attempts=attempts + 1,
                        next_try_at=retry_at(attempts + 1),
                        last_error=error,
                    )
                )

    def alert_status(self, rule: str) -> dict[str, Any]:
        """For ``monitor alerts status``: alerts made, versions joined, last sent, pending
        deliveries, those failing, the last error and when the next try is."""
        with self._tx() as conn:
            made = conn.scalar(select(func.count()).where(alerts.c.rule == rule)) or 0
            versions = conn.scalar(select(func.count()).where(alert_articles.c.rule == rule)) or 0
            by_rule = alert_deliveries.join(alerts, alerts.c.id == alert_deliveries.c.alert_id)
            last_sent = conn.scalar(
                select(func.max(alert_deliveries.c.sent_at, type_=UTCDateTime))
                .select_from(by_rule)
                .where(alerts.c.rule == rule)
            )
            pending = conn.scalar(
                select(func.count())
                .select_from(by_rule)
                .where(alerts.c.rule == rule, alert_deliveries.c.state == "pending")
            )
            failing = conn.execute(
                select(
                    func.count(),
                    func.min(alert_deliveries.c.next_try_at, type_=UTCDateTime),
                    func.max(alert_deliveries.c.last_error),
                )
                .select_from(by_rule)
                .where(
                    alerts.c.rule == rule,
                    alert_deliveries.c.state == "pending",
                    alert_deliveries.c.attempts > 0,
                )
            ).one()
        return {
            "alerts": int(made),
            "versions": int(versions),
            "last_sent": last_sent if isinstance(last_sent, datetime) else None,
            "pending": int(pending or 0),
            "failing": int(failing[0] or 0),
            "next_try": failing[1] if isinstance(failing[1], datetime) else None,
            "last_error": failing[2],
        }

    # -- several workers on one database (PostgreSQL; see monitor.workers) -------------------

    @property
    def shared(self) -> bool:
        """Whether several workers may share this database: a PostgreSQL server, where leases
        and advisory locks keep them apart. SQLite is one machine's, guarded by a file lock."""
        return self.engine.dialect.name == "postgresql"

    def register_worker(
        self, name: str, host: str, pid: int, lease: timedelta, now: datetime
    ) -> None:
        with self._tx() as conn:
            conn.execute(workers.delete().where(workers.c.heartbeat_at < now - FORGET_WORKERS))
            values = {"host": host, "pid": pid, "lease_seconds": lease.total_seconds()}
            conn.execute(
                self._insert(workers)
                .values(name=name, started_at=now, heartbeat_at=now, **values)
                .on_conflict_do_update(
                    index_elements=[workers.c.name],
                    set_={"started_at": now, "heartbeat_at": now, **values},
                )
            )

    def heartbeat(self, name: str, now: datetime, lease: timedelta) -> int:
        """The worker's sign of life, which extends its leases; how many it holds."""
        with self._tx() as conn:
            conn.execute(update(workers).where(workers.c.name == name).values(heartbeat_at=now))
            renewed = conn.execute(
                update(sources).where(sources.c.lease_owner == name).values(lease_until=now + lease)
            )
            return int(renewed.rowcount or 0)

    def release_leases(self, name: str) -> None:
        """Whatever the worker still holds (a cycle cut short), for the others to take now."""
        with self._tx() as conn:
            conn.execute(
                update(sources)
                .where(sources.c.lease_owner == name)
                .values(lease_owner=None, lease_until=None)
            )

    def unregister_worker(self, name: str) -> None:
        """A worker stopping: its leases are released at once, not when they lapse."""
        self.release_leases(name)
        with self._tx() as conn:
            conn.execute(workers.delete().where(workers.c.name == name))

    def claim_sources(
        self,
        wanted: Sequence[Source],
        owner: str,
        now: datetime,
        lease: timedelta,
        *,
        force: bool = False,
    ) -> set[str]:
        """Lease to ``owner`` those of ``wanted`` that are due (all with ``force``) and that no
        live worker holds, with every other due source of their sites: a site's sources go to
        one worker at a time, so the per-site pacing of one fetcher holds across workers. A
        worker takes its share of the sites free now (divided among the live workers); the rest
        stays due for the next to look. Returns the names leased. PostgreSQL only."""
        if not wanted:
            return set()
        names = [s.name for s in wanted]
        with self._tx() as conn:
            # A source never seen gets its row first (in a transaction of its own: two workers
            # inserting one row wait for each other until commit), so that it can be leased.
            known = set(conn.scalars(select(sources.c.name).where(sources.c.name.in_(names))))
            missing = [s for s in wanted if s.name not in known]
            if missing:
                conn.execute(
                    self._insert(sources)
                    .values(
                        [
                            {
                                "name": s.name,
                                "url": s.url,
                                "language": s.language,
                                "country": s.country,
                                "consecutive_failures": 0,
                                "last_new_items": 0,
                            }
                            for s in missing
                        ]
                    )
                    .on_conflict_do_nothing(index_elements=[sources.c.name])
                )
        free = (
            sources.c.lease_until.is_(None)
            | (sources.c.lease_until < now)
            | (sources.c.lease_owner == owner)
        )
        claimable = select(sources.c.id, sources.c.name, sources.c.url).where(
            sources.c.name.in_(names), free
        )
        if not force:
            claimable = claimable.where(
                sources.c.next_due_at.is_(None) | (sources.c.next_due_at <= now)
            )
        foreign = select(sources.c.url).where(
            sources.c.lease_until >= now, sources.c.lease_owner != owner
        )
        with self._tx() as conn:
            # Read without locks: two workers claiming at once contend only for the sites
            # both want, and only through the advisory locks below.
            sites: dict[str, list[int]] = {}
            for row in conn.execute(claimable.order_by(sources.c.id)):
                sites.setdefault(host_of(row.url), []).append(int(row.id))
            busy = {host_of(url) for url in conn.scalars(foreign)}
            free_sites = [site for site in sites if site not in busy]
            live = sum(
                _live(r.heartbeat_at, r.lease_seconds, now) for r in conn.execute(select(workers))
            )
            share = max(1, -(-len(free_sites) // max(1, live)))
            # A site's lock is held until commit, so that two workers never claim its sources
            # at once; one being claimed by another is passed over, not waited for.
            taken: list[str] = []
            for site in free_sites:
                if len(taken) == share:
                    break
                if conn.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:ns, hashtext(:site))"),
                    {"ns": _NS_SITE, "site": site},
                ):
                    taken.append(site)
            # Read again under the locks: a claim committed meanwhile is seen now.
            busy = {host_of(url) for url in conn.scalars(foreign)}
            ids = [i for site in taken if site not in busy for i in sites[site]]
            if not ids:
                return set()
            # The rows locked, and what made them claimable checked again on their latest
            # version.
            rows = conn.execute(
                claimable.where(sources.c.id.in_(ids)).with_for_update(skip_locked=True)
            ).all()
            if rows:
                conn.execute(
                    update(sources)
                    .where(sources.c.id.in_([row.id for row in rows]))
                    .values(lease_owner=owner, lease_until=now + lease)
                )
        return {row.name for row in rows}

    def list_workers(self, now: datetime) -> list[dict[str, Any]]:
        """The workers registered, each with ``live`` (its heartbeat is within its lease) and
        ``leases`` (source name, until), newest heartbeat first."""
        with self._tx() as conn:
            rows = conn.execute(select(workers).order_by(workers.c.heartbeat_at.desc())).all()
            leases = conn.execute(
                select(sources.c.lease_owner, sources.c.name, sources.c.lease_until)
                .where(sources.c.lease_owner.is_not(None))
                .order_by(sources.c.name)
            ).all()
        held: dict[str, list[tuple[str, datetime]]] = {}
        for owner, name, until in leases:
            held.setdefault(owner, []).append((name, until))
        return [
            {
                **row._mapping,
                "live": _live(row.heartbeat_at, row.lease_seconds, now),
                "leases": held.get(row.name, []),
            }
            for row in rows
        ]

    @contextmanager
    def exclusive(self, step: str, wait: float = 0.0) -> Iterator[bool]:
        """Whether this process is the one doing ``step`` (the scheduled digest, the alerts)
        while the block runs, having waited up to ``wait`` seconds for another to finish it:
        among workers sharing a PostgreSQL database, a session advisory lock on a connection
        of its own, which the server drops if the process dies. Alone on SQLite (the file
        lock), always True."""
        if not self.shared:
            yield True
            return
        key = {"ns": _NS_STEP, "step": step}
        deadline = time.monotonic() + wait
        try:
            conn = self.engine.connect()
            # Tried again and again rather than waited for in the server: a wait there holds
            # the connection without a time limit of its own.
            while (
                not (
                    got := bool(
                        conn.scalar(text("SELECT pg_try_advisory_lock(:ns, hashtext(:step))"), key)
                    )
                )
                and time.monotonic() < deadline
            ):
                conn.commit()
                time.sleep(min(STEP_POLL, max(0.0, deadline - time.monotonic())))
            conn.commit()
        except SQLAlchemyError as exc:
            raise StorageError(f"storage {safe_url(self.url)}: {exc}") from exc
        try:
            yield got
        finally:
            try:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:ns, hashtext(:step))"), key)
                    conn.commit()
            except SQLAlchemyError:
                conn.invalidate()  # closed rather than pooled: the lock goes with it
            finally:
                conn.close()

    def article_ceiling(self) -> int:
        """The newest stored article id with no id below it still to be committed: how far an
        id cursor may move. Among several workers ids are handed out at insert and committed
        in another order; each write holds a shared lock until its commit (``add_articles``),
        so taking that lock exclusively waits for the writes in flight, and every write after
        it gets a higher id."""
        with self._tx() as conn:
            if self.shared:
                conn.execute(text("SELECT pg_advisory_xact_lock(:ns, 0)"), {"ns": _NS_STORE})
            return int(conn.scalar(select(func.max(articles.c.id))) or 0)

    # -- helpers -----------------------------------------------------------------------------

    def insert_ignoring(self, table: Table) -> Any:
        """INSERT into ``table`` that skips rows whose key is there already."""
        return self._insert(table).on_conflict_do_nothing()

    def _insert(self, table: Table) -> Any:
        # Each dialect's INSERT (with ON CONFLICT) loaded for the database in use only.
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table)
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        raise StorageError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")


def _revision(conn: Connection) -> int:
    """The database's schema version: Alembic's revision number, or for a database made before
    Alembic the old table's, or 0 for an empty one."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" in tables:
        found = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        try:
            return int(found or 0)
        except ValueError:  # a revision id this monitor does not name: a newer one's
            return SCHEMA_VERSION + 1
    if "schema_version" in tables:
        return int(conn.scalar(select(func.max(legacy_schema_version.c.version))) or 0)
    return 0


def _upgrade(conn: Connection, current: int) -> None:
    """Alembic's upgrade to the newest revision, in ``conn``'s transaction; a database of the
    old version table is first stamped at its version and the table dropped."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", "monitor:migrations")
    config.attributes["connection"] = conn
    tables = set(inspect(conn).get_table_names())
    if "schema_version" in tables and "alembic_version" not in tables:
        command.stamp(config, f"{current:04d}")
        legacy_schema_version.drop(conn)
    command.upgrade(config, "head")


def _live(heartbeat_at: datetime, lease_seconds: float, now: datetime) -> bool:
    """A worker is alive while its last heartbeat is within its lease."""
    return heartbeat_at + timedelta(seconds=lease_seconds) >= now


def _article(row: Any, tag_rows: list[Any]) -> Article:
    first = tag_rows[0]
    tagging = Tagging(
        topics=tuple(r.topic for r in tag_rows),
        score=float(first.score),
        aspects=tuple(first.aspects),
        countries=tuple(first.countries),
        evidence=tuple(
            Evidence(e["term"], e["text"], e.get("concept", "")) for e in first.evidence
        ),
        language=row.language,
    )
    return Article(
        source=row.source_name,
        url=row.url or "",
        title=row.title,
        text=row.text,
        text_origin=TextOrigin(row.text_origin),
        fetched_at=row.fetched_at,
        guid=row.guid,
        summary=row.summary,
        published=row.published_at,
        author=row.author,
        categories=tuple(row.categories),
        language=row.language,
        extract_error=row.extract_error,
        tagging=tagging,
    )


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        folder = Path(url[len("sqlite:///") :]).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the storage folder {folder}: {exc}") from exc
    url = _with_driver(url)
    try:
        engine = create_engine(url, future=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StorageError(f"cannot use storage {safe_url(url)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _with_driver(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy would pick psycopg2, not installed).
    The password is not in the URL: libpq reads PGPASSWORD, ~/.pgpass and the other PG*
    variables itself."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so that BEGIN IMMEDIATE can be used.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL loses no committed transaction when a process dies, only on power loss.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Take the write lock at the start: a deferred transaction that upgrades to writing can
        # fail at once with "database is locked" instead of waiting for busy_timeout. Reads
        # (Store.reading) begin deferred: in WAL mode they never wait for a writer.
        reading = conn.get_execution_options().get(_READING, False)
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def safe_url(url: str) -> str:
    """A storage URL fit for messages: no password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<storage>"


def _now() -> datetime:
    return datetime.now(UTC)
