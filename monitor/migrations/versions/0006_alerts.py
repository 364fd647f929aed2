"""Instant alerts: each rule's cursor, the alerts, their versions and deliveries."""

from alembic import op

from monitor.store import alert_articles, alert_cursors, alert_deliveries, alerts, metadata

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(
        op.get_bind(), tables=[alert_cursors, alerts, alert_articles, alert_deliveries]
    )
