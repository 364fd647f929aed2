"""On PostgreSQL, the archive search's index becomes a full-text one: every article's title and
text as words (``to_tsvector('simple', ...)``: no stemming, every language alike), kept in a
column of their own, ``words``, that the server computes as an article is stored, and a GIN
index over it. The trigram index of revision 0010 answered a common word with every article
that might hold it, each then read and checked against its text: seconds, up to tens of
seconds, for a word in a third of a million articles, however few were wanted. A word's
articles now come from the index exactly; looking a word up by its beginning (``film`` for
``filmləri``) checks each candidate against its stored words, not its text, and the column's
statistics let the planner combine the index with the newest articles' ids.

The column is PostgreSQL's alone (``monitor.store.articles`` does not name it: nothing writes
or reads it but the search, through ``monitor.search.searched_words``). Adding it rewrites the
articles table: over a large archive this takes minutes (about ten for a million articles) and
room for a second copy of the table while it runs."""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")  # a faster index build
    conn.exec_driver_sql(
        "ALTER TABLE articles ADD COLUMN IF NOT EXISTS words tsvector GENERATED ALWAYS AS "
        "(to_tsvector('simple'::regconfig, title || ' ' || text)) STORED"
    )
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_articles_words ON articles USING gin (words)"
    )
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_articles_trgm")
    # The planner's estimate of how many articles hold a word comes from these statistics.
    conn.exec_driver_sql("ANALYZE articles")
