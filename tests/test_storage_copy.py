"""`monitor storage copy --to URL`: an SQLite archive moved into PostgreSQL, whole, resumable,
and usable there at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import storage_copy
from monitor.localserver import LocalServer
from monitor.store import Store
from tests.databases import pg_schema
from tests.sites import Story, database, monitor, run_all, write_config
from tests.test_e2e import EN_COOP, EN_OTHER, RU_COOP, serve_outlet

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quick_cli")]

LATER = Story(
    "later",
    "Kazakhstan and Uzbekistan agree to co-produce an animated film",
    (
        "Kazakhfilm and Uzbekkino signed an agreement in Almaty to co-produce an animated feature film.",
        "The two studios will share the budget and release the film in both countries next year.",
    ),
)


def _archive(server: LocalServer, tmp_path: Path) -> Path:
    """An SQLite archive with articles, tags, runs, an alert and a user."""
    hook = server.url("/hook")
    from monitor.localserver import Reply

    server.route("/hook", lambda _r: Reply(204))
    sources = [
        {"name": "Wire EN", "url": serve_outlet(server, "en", [EN_COOP, EN_OTHER], "en")},
        {"name": "Wire RU", "url": serve_outlet(server, "ru", [RU_COOP], "ru")},
        {"name": "Later", "url": server.url("/later/rss.xml")},
    ]
    alerts = f"alerts:\n  - name: all\n    channels:\n      - webhook: {hook}\n"
    config = write_config(tmp_path, sources, alerts)
    assert run_all(config) == 0
    with Store(f"sqlite:///{database(tmp_path)}") as store:
        store.add_user("leyla", "admin", "$argon2id$not-a-real-hash", store.runs()[0]["started_at"])
    return config


def _counts(url: str) -> dict[str, int]:
    with Store(url) as store:
        return {t.name: storage_copy._count(store, t) for t in storage_copy.TABLES}


def test_copy_into_postgresql_resumes_and_the_copy_works_on(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = _archive(server, tmp_path)
    sqlite_url = f"sqlite:///{database(tmp_path)}"
    with pg_schema() as pg:
        # Cut short after the first batch of articles, as a kill or a lost connection would.
        monkeypatch.setattr(storage_copy, "BATCH", 1)
        original = storage_copy._copy_table

        def failing(source: Store, target: Store, table: object, progress: object) -> object:
            def stop(name: str, written: int) -> None:
                if name == "articles" and written >= 1:
                    raise KeyboardInterrupt

            return original(source, target, table, stop)  # type: ignore[arg-type]

        monkeypatch.setattr(storage_copy, "_copy_table", failing)
        with pytest.raises(KeyboardInterrupt), Store(sqlite_url) as a, Store(pg) as b:
            storage_copy.copy_storage(a, b)
        monkeypatch.setattr(storage_copy, "_copy_table", original)

        assert monitor(config, "storage", "copy", "--to", pg) == 0
        out = capsys.readouterr().out
        assert "articles: 3 rows (2 written now)" in out and "the counts match" in out
        assert _counts(pg) == _counts(sqlite_url)
        assert monitor(config, "storage", "copy", "--to", pg) == 0  # again: nothing to write
        assert "articles: 3 rows (0 written now)" in capsys.readouterr().out

        # The copy is the storage from now on: new ids follow the copied ones, alerts go on.
        config.write_text(
            config.read_text().replace("storage: storage/monitor.db", f'storage: "{pg}"')
        )
        serve_outlet(server, "later", [LATER], "en")
        assert run_all(config) == 0
        counts = _counts(pg)
        assert counts["articles"] == 4 and counts["alerts"] == 3 and counts["users"] == 1


def test_copy_refuses_the_storage_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, [])
    assert monitor(config, "storage", "copy", "--to", "storage/monitor.db") == 1
    assert "the target is the configured storage itself" in capsys.readouterr().err
