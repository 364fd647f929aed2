"""The database's schema changes, as Alembic revisions (``versions/``), for SQLite and
PostgreSQL alike.

``monitor.store.Store`` applies them when it opens a database (``monitor storage migrate`` does
only that), inside one transaction. Revision ids are numbers in order (``0001``, ``0002``, ...),
and the number is the schema version the monitor reports. A database made before Alembic kept
its version in a ``schema_version`` table; the first open by this version stamps Alembic's
table with that version and drops the old one (``monitor.store``).

Adding a change: a new file in ``versions/`` with the next number, ``down_revision`` the last
one, an ``upgrade()`` that works on both databases (``op.get_bind().dialect.name`` tells which),
and the new number in ``monitor.store.SCHEMA_VERSION``; never edit a released revision.
"""
