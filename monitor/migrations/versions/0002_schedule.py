"""When each source is due, since when it is watched; digests made on schedule."""

from alembic import op
from sqlalchemy import inspect

from monitor.store import digests, metadata

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    present = {c["name"] for c in inspect(conn).get_columns("sources")}
    for column in ("first_attempt_at", "next_due_at"):
        if column not in present:
            conn.exec_driver_sql(f"ALTER TABLE sources ADD COLUMN {column} TIMESTAMP")
    metadata.create_all(conn, tables=[digests])
