"""Webhook delivery against the local HTTP server, and the chat message built from a digest."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from monitor import __version__
from monitor.channels.webhook import USER_AGENT, post_digest, redact
from monitor.errors import DeliveryError
from monitor.formats.chat import chat_payload
from monitor.labels import labels_for
from monitor.localserver import LocalServer, Reply, Request

DIGEST: dict[str, Any] = {
    "date": "2026-11-26",
    "timezone": "Asia/Baku",
    "generated_at": "2026-11-26T13:54:04+04:00",
    "stories": [
        {
            "url": "https://caspian.example/ru/41873?a=1&b=2|x",
            "title": "Киноагентства шести стран обсудили в Баку совместное производство",
            "source": "Caspian Wire (Русская служба)",
            "language": "ru",
            "published": "2026-11-26T10:12:00+04:00",
            "countries": ["AZ", "TR", "UZ"],
            "aspects": ["co_production", "digital"],
            "also": [
                {
                    "url": "https://caspian.example/az/41874",
                    "source": "Caspian Wire (AZ)",
                    "language": "az",
                }
            ],
        },
        {
            "url": None,
            "title": "Türkiye <ve> Azerbaycan & ortak film",
            "source": "Anka Haber",
            "language": "tr",
            "published": "2026-11-26T09:00:00+03:00",
            "countries": ["TR", "AZ"],
            "aspects": ["co_production"],
            "also": [],
        },
        {
            "url": "https://kino.example/ge/1",
            "title": "ქართულ-აზერბაიჯანული კინოთანამშრომლობა",
            "source": "Kino GE",
            "language": "ka",
            "published": "2026-11-26T08:00:00+04:00",
            "countries": ["GE", "AZ"],
            "aspects": ["agreement"],
            "also": [],
        },
    ],
    "sources": [
        {"name": "Caspian Wire", "status": "ok", "error": None},
        {"name": "Anka Haber", "status": "not_modified", "error": None},
        {"name": "Kino GE", "status": "error", "error": "fetch.timeout"},
        {"name": "Paused", "status": "skipped", "error": None},
    ],
    "coverage": {
        "sources": 4, "ok": 2, "failed": 1, "unchecked": 1, "silent": 0,
        "causes": [{"cause": "timeout", "count": 1, "sources": ["Kino GE"]}],
    },
}  # fmt: skip


def _record(status: int = 200, body: bytes = b"ok") -> Any:
    def handle(request: Request) -> Reply:
        return Reply(status, body, {"Content-Type": "text/plain"})

    return handle


def test_posts_json_with_content_type_and_user_agent(server: LocalServer) -> None:
    server.route("/hooks/secret-token", _record())
    payload = chat_payload(DIGEST)
    post_digest(
        server.url("/hooks/secret-token"),
        payload,
        timeout=5,
        headers={"Authorization": "Bearer t0ken"},
    )
    [request] = server.requests
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == USER_AGENT
    assert __version__ in USER_AGENT
    assert request.headers["authorization"] == "Bearer t0ken"
    assert json.loads(request.body.decode("utf-8")) == payload
    # Non-ASCII text travels as UTF-8, not as \u escapes.
    assert "Киноагентства".encode() in request.body


def test_server_error_is_a_delivery_error_without_the_secret(server: LocalServer) -> None:
    server.route("/hooks/secret-token", _record(500, b"invalid_payload\n"))
    with pytest.raises(DeliveryError) as caught:
        post_digest(server.url("/hooks/secret-token"), {"text": "x"}, timeout=5)
    message = str(caught.value)
    assert message == (
        f"webhook {server.base_url}/…: HTTP 500 Internal Server Error: invalid_payload"
    )
    assert "secret-token" not in message


def test_redirect_is_not_followed(server: LocalServer) -> None:
    server.route("/old", lambda r: Reply(308, b"", {"Location": server.url("/new")}))
    server.route("/new", _record())
    with pytest.raises(DeliveryError, match="HTTP 308"):
        post_digest(server.url("/old"), {"text": "x"}, timeout=5)
    assert server.hits("/new") == 0


def test_slow_server_is_a_timeout(server: LocalServer) -> None:
    # The reply waits longer than the client's read time-out; stop() releases it.
    server.route("/slow", lambda r: Reply(200, b"ok", delay=30))
    with pytest.raises(DeliveryError, match=r"no answer within 0\.2 s"):
        post_digest(server.url("/slow"), {"text": "x"}, timeout=0.2)


def test_refused_connection_is_a_delivery_error() -> None:
    # A bound socket that does not listen refuses connections, and no one else can take its port.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        with pytest.raises(DeliveryError) as caught:
            post_digest(f"http://127.0.0.1:{port}/hooks/x", {"text": "x"}, timeout=5)
    assert str(caught.value).startswith(f"webhook http://127.0.0.1:{port}/…: cannot connect")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1/hook", "webhook ftp://127.0.0.1/…: the URL must start with http://"),
        ("not a url", "webhook <invalid URL>: the URL must start with http://"),
        ("http://[::1/hook", "webhook <invalid URL>: invalid URL"),
        ("http://127.0.0.1:99999/hook", "webhook <invalid URL>: invalid URL"),
        ("http:///nohost", "webhook <invalid URL>: the URL has no host"),
    ],
)
def test_bad_url_is_a_delivery_error(url: str, message: str) -> None:
    with pytest.raises(DeliveryError) as caught:
        post_digest(url, {"text": "x"}, timeout=1)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T0/B0/abc", "https://hooks.slack.com/…"),
        ("https://user:pw@chat.example:8443/hooks/x?token=y", "https://chat.example:8443/…"),
        ("http://[::1]:9000/", "http://[::1]:9000"),
        ("http://[::1", "<invalid URL>"),
    ],
)
def test_redact_keeps_only_scheme_host_and_port(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_chat_text_has_date_counts_and_linked_headlines() -> None:
    payload = chat_payload(DIGEST, max_stories=2)
    lines = payload["text"].split("\n")
    assert lines[0] == "Film cooperation digest — 2026-11-26"
    # Half the field unseen: said before the stories, with the cause and its likely fix.
    assert lines[1].startswith("⚠ Only 2 of 4 sources could be checked")
    assert lines[2] == "3 stories · 2 of 4 sources checked"
    assert lines[3].startswith("• no answer in time") and lines[3].endswith(" — 1: Kino GE")
    assert lines[5] == (
        "• <https://caspian.example/ru/41873?a=1&b=2%7Cx|Киноагентства шести стран обсудили в Баку"
        " совместное производство> — Caspian Wire (Русская служба) (ru) · AZ, TR, UZ"
        " · also in: az"
    )
    # No link without a URL; Slack's reserved characters escaped in feed text.
    assert lines[6] == "• Türkiye &lt;ve&gt; Azerbaycan &amp; ortak film — Anka Haber (tr) · TR, AZ"
    assert lines[7] == "… (+1)"
    assert [s["title"] for s in payload["stories"]] == [
        DIGEST["stories"][0]["title"],
        DIGEST["stories"][1]["title"],
    ]
    assert payload["stories"][1]["url"] is None
    json.dumps(payload)  # plain JSON all the way down


def test_chat_text_is_in_the_digest_language() -> None:
    lines = chat_payload(DIGEST, labels_for("az"), max_stories=1)["text"].split("\n")
    assert lines[0] == "Kino əməkdaşlığı icmalı — 2026-11-26"
    assert lines[5].endswith(" · digər dillərdə: az")


def test_chat_payload_of_an_empty_day() -> None:
    payload = chat_payload({"date": "2026-11-27", "stories": [], "sources": []})
    assert payload == {"text": "Film cooperation digest — 2026-11-27\n0 stories", "stories": []}


def test_chat_payload_of_a_blind_day_in_russian() -> None:
    blind = {
        "date": "2026-11-27", "stories": [],
        "coverage": {"sources": 36, "ok": 0, "failed": 36, "silent": 0,
                     "causes": [{"cause": "dns", "count": 36, "sources": ["Trend", "Report"]}]},
    }  # fmt: skip
    lines = chat_payload(blind, labels_for("ru"))["text"].split("\n")
    assert lines[1].startswith("⚠ Ни один источник не удалось проверить (попыток: 36)")
    assert lines[2] == "0 сюжетов · проверено источников: 0 из 36"
    assert lines[3].startswith("• имена сайтов не разрешаются (DNS)")


def test_long_titles_are_clipped() -> None:
    story = {**DIGEST["stories"][2], "title": "ფილმი " * 100}
    line = chat_payload({"date": "d", "stories": [story]})["text"].split("\n")[-1]
    title = line.split("|", 1)[1].split(">", 1)[0]
    assert len(title) == 200 and title.endswith("…")
