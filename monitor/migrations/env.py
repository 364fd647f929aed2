"""Alembic's entry: the monitor hands it an open connection (``config.attributes``), already in
the transaction the whole upgrade runs in."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
