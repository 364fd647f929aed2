"""On SQLite, the archive search's facets of every article (language, date, source) in a table
of their own, filled from the articles already stored."""

from alembic import op

from monitor.store import FACETS_SQLITE

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for statement in FACETS_SQLITE:
            conn.exec_driver_sql(statement)
