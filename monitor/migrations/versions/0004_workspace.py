"""The workspace: accounts, API tokens, the office's feedback, and on SQLite the archive's
full-text index, filled with the articles already stored."""

from alembic import op

from monitor.store import FTS_SQLITE, api_tokens, feedback, metadata, users

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    metadata.create_all(conn, tables=[users, api_tokens, feedback])
    if conn.dialect.name == "sqlite":
        for statement in FTS_SQLITE:
            conn.exec_driver_sql(statement)
