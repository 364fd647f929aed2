"""On PostgreSQL, the archive search's index: pg_trgm's trigrams of every article's title and
text, which serve ILIKE '%word%' (a word inside longer words, in every script), as FTS5's
trigram tokenizer does on SQLite. The expression is ``monitor.search.searched_text``'s.

pg_trgm ships with PostgreSQL and is a trusted extension (PostgreSQL 13 and later): the owner of
the database may create it. Where it exists already, it is used from its schema."""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema = conn.exec_driver_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    ).scalar()
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_articles_trgm ON articles "
        f"USING gin ((title || ' ' || text) {schema}.gin_trgm_ops)"
    )
