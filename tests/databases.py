"""The databases the storage tests run on: SQLite in a temporary folder, and PostgreSQL on the
server ``MONITOR_TEST_DATABASE_URL`` names (the local one by default), each test in a schema of
its own that is dropped after it.

Where no PostgreSQL server answers, its tests are skipped, unless
``MONITOR_TEST_REQUIRE_POSTGRES=1`` (CI sets it): then they fail, so that CI never passes without
having run them.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
DATABASES = ("sqlite", "postgresql")


def pg_url() -> str:
    return os.environ.get("MONITOR_TEST_DATABASE_URL", DEFAULT_PG)


def _driver(url: str) -> str:
    """psycopg (3) for a bare postgresql:// URL, as the monitor itself chooses."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@functools.cache
def pg_problem() -> str | None:
    """Why PostgreSQL cannot be used for tests, or None when it can."""
    try:
        engine = create_engine(_driver(pg_url()), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except (SQLAlchemyError, ImportError) as exc:
        return f"no PostgreSQL at {make_url(pg_url()).render_as_string()}: {exc}"
    return None


def require_pg() -> None:
    problem = pg_problem()
    if problem is None:
        return
    if os.environ.get("MONITOR_TEST_REQUIRE_POSTGRES") == "1":
        pytest.fail(problem)
    pytest.skip(problem)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A storage URL whose tables live in a new schema of the test server, dropped after."""
    require_pg()
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_driver(pg_url()))
    with admin.begin() as conn:
        # The search's extension in public, once: made in a test's schema it would go with it
        # (DROP SCHEMA ... CASCADE), and with it the index of every other test's.
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    url = make_url(pg_url()).update_query_dict({"options": f"-csearch_path={name}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@contextmanager
def database_url(kind: str, folder: Path) -> Iterator[str]:
    """A fresh, empty storage of ``kind`` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/db/monitor.db"
    else:
        with pg_schema() as url:
            yield url
