"""Sources, runs, articles and their tags, and each run's outcome per source.

create_all builds the tables as now defined, so a new database gets the later columns here
already; the revisions after this one add only what is missing."""

from alembic import op

from monitor.store import articles, metadata, run_sources, runs, sources, tags

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=[sources, runs, articles, tags, run_sources])
