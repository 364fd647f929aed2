"""Several workers on one database: each source's lease, each run's worker, the workers."""

from alembic import op
from sqlalchemy import inspect

from monitor.store import metadata, workers

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    for table, columns in (
        ("sources", {"lease_owner": "VARCHAR(200)", "lease_until": "TIMESTAMP"}),
        ("runs", {"worker": "VARCHAR(200)"}),
    ):
        present = {c["name"] for c in inspect(conn).get_columns(table)}
        for column, kind in columns.items():
            if column not in present:
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    metadata.create_all(conn, tables=[workers])
