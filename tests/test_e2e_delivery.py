"""``monitor run`` and ``monitor digest`` with e-mail and a webhook configured, against a real
SMTP server and the local HTTP server on 127.0.0.1.

The digest is scheduled every minute ("* * * * *") and the clock held inside one minute, so
that ``monitor run`` finds its slot due, and due once only."""

from __future__ import annotations

import email
import email.policy
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from monitor import cli
from monitor.localserver import LocalServer, Reply
from tests.sites import write_config
from tests.test_e2e import EN_COOP, EN_OTHER, serve_outlet
from tests.test_mail import Collector, _start

pytestmark = pytest.mark.e2e


@pytest.fixture
def one_minute() -> Iterator[None]:
    """The clock starts 5 s into the current minute and runs on from there."""
    with time_machine.travel(datetime.now(UTC).replace(second=5, microsecond=0), tick=True):
        yield


def delivery(smtp_port: int, hook: str) -> str:
    return (
        "digest:\n"
        "  locale: az\n"
        '  time: "* * * * *"\n'
        "  day: current\n"
        "  email:\n"
        "    host: 127.0.0.1\n"
        f"    port: {smtp_port}\n"
        "    security: none\n"
        "    sender: monitor@example.org\n"
        "    recipients: [press@example.org]\n"
        "  webhooks:\n"
        f"    - url: {hook}\n"
    )


@pytest.mark.usefixtures("one_minute")
def test_scheduled_digest_is_mailed_and_posted_once(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/hook", lambda _r: Reply(200, b"ok"))
    collector = Collector()
    controller = _start(collector)
    try:
        url = serve_outlet(server, "w", [EN_COOP, EN_OTHER], "en")
        extra = delivery(controller.port, server.url("/hook"))
        config = write_config(tmp_path, [{"name": "Wire", "url": url}], extra)
        assert cli.main(["--config", str(config), "run"]) == 0
        # The same slot again (cron calls every few minutes): nothing is sent twice.
        assert cli.main(["--config", str(config), "run", "--all"]) == 0
    finally:
        controller.stop()
    ((_sender, recipients, content),) = collector.received
    assert recipients == ["press@example.org"]
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["Subject"].startswith("Kino əməkdaşlığı icmalı")
    html = message.get_body(("html",)).get_content()
    assert EN_COOP.title in html and EN_OTHER.title not in html
    posted = next(r for r in server.requests if r.path == "/hook")
    assert EN_COOP.title in json.loads(posted.body)["text"]
    assert sum(r.path == "/hook" for r in server.requests) == 1
    out = capsys.readouterr().out
    assert all(name in out for name in (".html", "index.html", "feed.xml"))


def test_run_writes_files_but_sends_nothing_before_the_digest_time(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/hook", lambda _r: Reply(200, b"ok"))
    url = serve_outlet(server, "w", [EN_COOP], "en")
    # 08:00 in Asia/Baku is not due unless the clock is within the hour of grace after it.
    extra = delivery(1, server.url("/hook")).replace('"* * * * *"', '"0 8 1 1 *"')
    config = write_config(tmp_path, [{"name": "Wire", "url": url}], extra)
    assert cli.main(["--config", str(config), "run"]) == 0
    assert not any(r.path == "/hook" for r in server.requests)
    assert len(list((tmp_path / "reports").glob("*.json"))) == 1
    # monitor digest sends whenever it is asked.
    assert cli.main(["--config", str(config), "digest"]) == 1  # port 1: e-mail fails
    assert sum(r.path == "/hook" for r in server.requests) == 1
    assert "delivery failed: e-mail:" in capsys.readouterr().err


@pytest.mark.usefixtures("one_minute")
def test_failed_delivery_keeps_the_files_and_exits_1(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/hook", lambda _r: Reply(500, b"down"))
    url = serve_outlet(server, "w", [EN_COOP], "en")
    config = write_config(
        tmp_path, [{"name": "Wire", "url": url}], delivery(1, server.url("/hook"))
    )
    assert cli.main(["--config", str(config), "run"]) == 1
    err = capsys.readouterr().err
    assert "delivery failed: e-mail:" in err and "delivery failed: webhook:" in err
    assert len(list((tmp_path / "reports").glob("*.json"))) == 1
    assert (tmp_path / "reports" / "index.html").exists()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.usefixtures("one_minute")
def test_a_day_no_source_could_be_checked_says_so_everywhere(
    server: LocalServer, tmp_path: Path
) -> None:
    """Every source unreachable: no format may read like a quiet news day."""
    server.route("/hook", lambda _r: Reply(200, b"ok"))
    collector = Collector()
    controller = _start(collector)
    sources = [
        {"name": "Refused A", "url": f"http://127.0.0.1:{_closed_port()}/rss"},
        {"name": "Refused B", "url": f"http://127.0.0.1:{_closed_port()}/rss"},
        {"name": "Moved", "url": server.url("/gone.xml")},
        {"name": "Paused", "url": server.url("/paused.xml"), "enabled": False},
    ]
    try:
        extra = delivery(controller.port, server.url("/hook")).replace("locale: az", "locale: en")
        config = write_config(tmp_path, sources, extra)
        # Every source failed: the run exits 1 (for cron's mail), and still writes and sends.
        assert cli.main(["--config", str(config), "run"]) == 1
    finally:
        controller.stop()
    ((_sender, _recipients, content),) = collector.received
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["Subject"].endswith("— no source could be checked")
    (data_path,) = (tmp_path / "reports").glob("????-??-??.json")
    data = json.loads(data_path.read_text(encoding="utf-8"))
    coverage = data["coverage"]
    assert {k: coverage[k] for k in ("sources", "ok", "failed", "silent")} == {
        "sources": 3, "ok": 0, "failed": 3, "silent": 0,
    }  # fmt: skip
    assert [(c["cause"], c["count"]) for c in coverage["causes"]] == [("refused", 2), ("moved", 1)]
    assert "Paused" not in [s["name"] for s in data["sources"]]
    quiet_day = "No film-cooperation stories were found"
    html = data_path.with_suffix(".html").read_text(encoding="utf-8")
    markdown = data_path.with_suffix(".md").read_text(encoding="utf-8")
    mailed = message.get_body(("html",)).get_content()
    for text in (html, markdown, mailed):
        assert "No source could be checked (3 tried)" in text and quiet_day not in text
        assert "connection refused: the site is down" in text
        assert "the feed has moved" in text
    posted = json.loads(next(r for r in server.requests if r.path == "/hook").body)["text"]
    assert posted.split("\n")[1].startswith("⚠ No source could be checked (3 tried)")
    assert "• connection refused" in posted and "Refused A, Refused B" in posted
