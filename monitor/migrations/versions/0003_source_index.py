"""An index for a source's articles by time: without it, a digest's source health and each
source's schedule read every stored article."""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_articles_source_fetched ON articles (source_id, fetched_at)"
    )
