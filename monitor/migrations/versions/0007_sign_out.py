"""When each user last signed out: sessions issued before it are no longer honoured (a session
cookie is signed, not stored, so signing out must be remembered on the server)."""

from alembic import op
from sqlalchemy import inspect

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if "signed_out_at" not in {c["name"] for c in inspect(conn).get_columns("users")}:
        conn.exec_driver_sql("ALTER TABLE users ADD COLUMN signed_out_at TIMESTAMP")
