"""Failed sign-ins to the workspace kept in the database, so that every process of
``monitor web --workers N`` throttles the same attempts."""

from alembic import op

from monitor.store import metadata, sign_in_failures

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=[sign_in_failures])
