"""The monitor on PostgreSQL, end to end: a cycle over local outlets stores, tags, alerts and
writes the digest exactly as on SQLite; a second cycle stores nothing twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from monitor.localserver import LocalServer
from tests.databases import pg_schema
from tests.sites import monitor, run_all, write_config
from tests.test_alerts_e2e import Receiver
from tests.test_e2e import EN_COOP, EN_OTHER, RU_COOP, serve_outlet

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quick_cli")]


def test_a_cycle_digest_and_alert_on_postgresql(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = Receiver(server)
    sources = [
        {"name": "Wire EN", "url": serve_outlet(server, "en", [EN_COOP, EN_OTHER], "en")},
        {"name": "Wire RU", "url": serve_outlet(server, "ru", [RU_COOP], "ru")},
    ]
    alerts = f"alerts:\n  - name: all\n    channels:\n      - webhook: {hook.url}\n"
    with pg_schema() as url:
        config = write_config(tmp_path, sources, alerts)
        config.write_text(
            config.read_text().replace("storage: storage/monitor.db", f'storage: "{url}"')
        )
        assert run_all(config) == 0
        assert run_all(config) == 0  # nothing new: nothing stored or alerted twice
        assert monitor(config, "digest") == 0
        assert monitor(config, "sources", "status") == 0

        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM articles")).scalar()
            tagged = conn.execute(text("SELECT count(*) FROM tags")).scalar()
            runs = conn.execute(text("SELECT count(*) FROM runs")).scalar()
        engine.dispose()
    assert (stored, tagged, runs) == (3, 2, 2)
    assert sorted(hook.titles()) == sorted([EN_COOP.title, RU_COOP.title])
    assert not (tmp_path / "storage").exists()  # nothing went to a SQLite file
    digest = next((tmp_path / "reports").glob("2*.html")).read_text(encoding="utf-8")
    assert EN_COOP.title in digest and EN_OTHER.title not in digest
    assert "Wire RU" in capsys.readouterr().out
