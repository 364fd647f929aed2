"""Delivery channels (monitor.channels): the configured ones, in order, each tried on its own so
that one that fails costs no other, every failure named by its channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from monitor.channels import configured
from monitor.deliver import send
from monitor.localserver import LocalServer, Reply, Request
from monitor.models import Digest, SourceHealth, SourceStatus
from monitor.settings import SmtpSettings, Webhook

DIGEST = Digest(
    date="2026-12-07",
    timezone="UTC",
    generated_at=datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
    stories=(),
    sources=(SourceHealth("Wire", "https://news.example/rss", SourceStatus.OK, 0, None),),
)
CLOSED = SmtpSettings(host="127.0.0.1", port=9, sender="m@example.org", recipients=("p@x.org",))


def test_the_configured_channels_e_mail_first() -> None:
    assert configured(None, ()) == []
    hooks = (Webhook("http://127.0.0.1:9/a"), Webhook("http://127.0.0.1:9/b", "digest"))
    assert [c.label for c in configured(CLOSED, hooks)] == ["e-mail", "webhook", "webhook"]


def test_a_failing_channel_costs_no_other(server: LocalServer) -> None:
    received: list[dict[str, object]] = []

    def hook(request: Request) -> Reply:
        received.append(json.loads(request.body))
        return Reply(200, b"ok")

    server.route("/hook", hook)
    failures = send(
        DIGEST,
        locale="ru",
        group_by=None,
        email=CLOSED,
        webhooks=(Webhook("http://127.0.0.1:9/hook"), Webhook(server.url("/hook"))),
        env={},
    )
    assert [f.split(":")[0] for f in failures] == ["e-mail", "webhook"], failures
    assert "SMTP 127.0.0.1:9" in failures[0] and "127.0.0.1:9" in failures[1]
    [chat] = received
    assert str(chat["text"]).startswith("Дайджест")  # the digest's language
