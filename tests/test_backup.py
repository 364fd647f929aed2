"""`monitor storage backup`: a consistent, checked copy of the SQLite archive, while in use."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

import pytest

from monitor import cli
from monitor.localserver import LocalServer
from tests.sites import write_config
from tests.test_e2e import EN_COOP, EN_OTHER, serve_outlet

pytestmark = pytest.mark.e2e


def test_a_copy_taken_while_another_connection_writes(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve_outlet(server, "w", [EN_COOP, EN_OTHER], "en")
    config = write_config(tmp_path, [{"name": "Wire", "url": url}])
    assert cli.main(["--config", str(config), "run"]) == 0
    database = tmp_path / "storage" / "monitor.db"
    stop = threading.Event()

    def write() -> None:  # a busy writer, as the service would be
        with contextlib.closing(sqlite3.connect(database, timeout=30)) as db:
            db.execute("CREATE TABLE IF NOT EXISTS scratch (n INTEGER)")
            while not stop.is_set():
                with db:
                    db.executemany("INSERT INTO scratch VALUES (?)", [(i,) for i in range(200)])

    writer = threading.Thread(target=write)
    writer.start()
    try:
        folder = tmp_path / "backups"
        folder.mkdir()
        assert cli.main(["--config", str(config), "storage", "backup", str(folder)]) == 0
    finally:
        stop.set()
        writer.join()
    (copy,) = folder.glob("monitor-*.db")
    assert "2 articles, checked" in capsys.readouterr().out
    with contextlib.closing(sqlite3.connect(copy)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM articles").fetchone() == (2,)
    assert not list(folder.glob(".*"))  # no partial copy left


def test_nothing_to_copy_or_a_database_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, [{"name": "Wire", "url": "http://127.0.0.1:9/rss"}])
    assert cli.main(["--config", str(config), "storage", "backup", str(tmp_path / "b.db")]) == 1
    assert "nothing to back up" in capsys.readouterr().err
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("storage: storage/monitor.db", "storage: postgresql://x@127.0.0.1/db"),
        encoding="utf-8",
    )
    assert cli.main(["--config", str(config), "storage", "backup", str(tmp_path / "b.db")]) == 1
    assert "pg_dump" in capsys.readouterr().err
