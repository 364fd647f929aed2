"""``monitor storage copy --to URL``: move the archive into another database (an SQLite file into
PostgreSQL, typically, when an office outgrows one machine).

Table by table in the order their references need, in batches ordered by primary key, each
batch one transaction written with ON CONFLICT DO NOTHING: an interrupted copy is resumed by
running it again (each table restarts from the last key the target holds), and rows already
there are not written twice. The target gets the same schema first (``Store`` migrates it), its
id sequences are moved past the copied ids, and the counts of every table are compared at the
end. SQLite's search tables (full-text index, facets) are built by the target's own triggers or
migrations, not copied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Table, func, select, text

from monitor import store as db
from monitor.errors import StorageError
from monitor.store import Store

BATCH = 2000

# Parents before children. article_facets and articles_fts are derived (SQLite only).
TABLES: tuple[Table, ...] = (
    db.sources,
    db.runs,
    db.articles,
    db.tags,
    db.run_sources,
    db.digests,
    db.users,
    db.api_tokens,
    db.feedback,
    db.alert_cursors,
    db.alerts,
    db.alert_articles,
    db.alert_deliveries,
)


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int  # in the source
    written: int  # by this run (the rest were there already)


def copy_storage(
    source: Store, target: Store, progress: Callable[[str, int], None] | None = None
) -> list[Copied]:
    """Copy every table of ``source`` into ``target``; raises StorageError when a count differs
    afterwards (the target held rows of another archive, or a write was lost)."""
    if source.schema_version() != target.schema_version():
        raise StorageError(
            f"the two databases have schema versions {source.schema_version()} and "
            f"{target.schema_version()}: open both with this version of the monitor first"
        )
    done = [_copy_table(source, target, table, progress) for table in TABLES]
    _advance_sequences(target)
    wrong = [
        f"{table.name}: {want} in the source, {have} in the target"
        for table, want, have in ((t, _count(source, t), _count(target, t)) for t in TABLES)
        if want != have
    ]
    if wrong:
        raise StorageError("the copy does not match: " + "; ".join(wrong))
    return done


def _copy_table(
    source: Store, target: Store, table: Table, progress: Callable[[str, int], None] | None
) -> Copied:
    order = list(table.primary_key.columns)
    first = order[0]
    with target.engine.connect() as conn:
        resume = conn.scalar(select(func.max(first)))
    before = _count(target, table)
    query = select(table).order_by(*order)
    if resume is not None:
        # From the last key copied: its rows again (a composite key may have been cut in the
        # middle of one value), skipped by ON CONFLICT where already there.
        query = query.where(first >= resume)
    read = 0
    with source.engine.connect() as reading:
        result = reading.execution_options(yield_per=BATCH).execute(query)
        for rows in result.partitions(BATCH):
            with target.engine.begin() as conn:
                conn.execute(target.insert_ignoring(table), [dict(r._mapping) for r in rows])
            read += len(rows)
            if progress:
                progress(table.name, read)
    return Copied(table.name, _count(source, table), _count(target, table) - before)


def _count(store: Store, table: Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def _advance_sequences(target: Store) -> None:
    """Rows copied with their ids leave PostgreSQL's sequences at 1: the next insert would
    collide. Move each past the largest id."""
    if target.engine.dialect.name != "postgresql":
        return
    with target.engine.begin() as conn:
        for table in TABLES:
            if "id" not in table.c or not table.c.id.primary_key:
                continue
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                    f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                ),
                {"t": table.name},
            )
