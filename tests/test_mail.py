"""E-mail delivery against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.channels.email import build_message, send_digest
from monitor.errors import DeliveryError
from monitor.settings import SmtpSettings
from tests.sites import free_port

SUBJECT = "Kino əməkdaşlığı — дайджест 26.11.2026"
TEXT = "Altı ölkənin kino agentlikləri Bakıda görüşüb.\nКиноагентства шести стран обсудили…\n"
HTML = "<html><body><h1>Kino əməkdaşlığı</h1><p>Киноагентства шести стран</p></body></html>"


@dataclass
class Collector:
    """aiosmtpd handler that keeps what it received; it runs before the server answers 250,
    so a message is here as soon as ``send_digest`` returns."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        # handled=False: aiosmtpd then answers 535 itself (True means "I already replied").
        return AuthResult(success=data.password == b"s3cret", handled=False)


def _start(handler: Collector, **kwargs: Any) -> Controller:
    for _ in range(5):  # another process may take the port between the probe and the bind
        # aiosmtpd's Controller cannot listen on port 0 (it connects to its own port to start).
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
        try:
            controller.start()
        except OSError:
            continue
        return controller
    raise RuntimeError("no free port for the SMTP server")


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Collector]]:
    handler = Collector()
    controller = _start(handler)
    yield controller, handler
    controller.stop()


@pytest.fixture
def smtp_auth() -> Iterator[tuple[Controller, Collector]]:
    handler = Collector()
    # Loopback only: AUTH without TLS is acceptable for the test, never for a real server.
    controller = _start(handler, authenticator=handler.authenticate, auth_require_tls=False)
    yield controller, handler
    controller.stop()


def _settings(controller: Controller, **changes: Any) -> SmtpSettings:
    base = SmtpSettings(
        host="127.0.0.1",
        port=controller.port,
        security="none",
        sender="Film monitor <monitor@press.example.az>",
        recipients=("desk@press.example.az", "Редакция <editor@press.example.ru>"),
        timeout=5,
    )
    return replace(base, **changes)


def _message(settings: SmtpSettings) -> EmailMessage:
    return build_message(
        SUBJECT,
        HTML,
        TEXT,
        settings.sender,
        settings.recipients,
        date=datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
    )


def test_message_has_both_parts_and_encoded_headers() -> None:
    msg = build_message(SUBJECT, HTML, TEXT, "m@press.example.az", ["a@b.example"])
    raw = msg.as_bytes()
    assert raw.isascii()  # headers as encoded words, bodies as quoted-printable or base64
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert str(msg["Message-ID"]).endswith("@press.example.az>")
    assert msg["Date"]


def test_subject_line_breaks_are_folded_into_spaces() -> None:
    msg = build_message("Film\r\nBcc: victim@example.com", HTML, TEXT, "m@x.example", ["a@b.c"])
    assert msg["Subject"] == "Film Bcc: victim@example.com"
    assert msg["Bcc"] is None


def test_message_needs_a_recipient() -> None:
    with pytest.raises(ValueError):
        build_message(SUBJECT, HTML, TEXT, "m@x.example", [])


def test_real_server_receives_both_parts_and_the_subject(
    smtp: tuple[Controller, Collector],
) -> None:
    controller, handler = smtp
    settings = _settings(controller)
    send_digest(settings, _message(settings), env={})

    [(mail_from, rcpt_tos, content)] = handler.received
    assert mail_from == "monitor@press.example.az"
    assert rcpt_tos == ["desk@press.example.az", "editor@press.example.ru"]
    assert content.isascii()  # no SMTPUTF8 needed: headers encoded, bodies in base64
    received = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(received, EmailMessage)
    assert received["Subject"] == SUBJECT
    assert received["From"].addresses[0].addr_spec == "monitor@press.example.az"
    assert [a.display_name for a in received["To"].addresses] == ["", "Редакция"]
    assert received["Date"].datetime == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert received["Message-ID"].endswith("@press.example.az>")
    assert received.get_content_type() == "multipart/alternative"
    plain = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content_charset() == "utf-8"
    assert plain.get_content() == TEXT
    assert html.get_content().strip() == HTML


def test_login_reads_the_password_from_the_environment(
    smtp_auth: tuple[Controller, Collector],
) -> None:
    controller, handler = smtp_auth
    settings = _settings(controller, user="monitor", password_env="MONITOR_SMTP_PASSWORD")
    send_digest(settings, _message(settings), env={"MONITOR_SMTP_PASSWORD": "s3cret"})
    assert handler.logins == [(b"monitor", b"s3cret")]
    assert len(handler.received) == 1


def test_wrong_password_is_a_delivery_error(smtp_auth: tuple[Controller, Collector]) -> None:
    controller, handler = smtp_auth
    settings = _settings(controller, user="monitor", password_env="MONITOR_SMTP_PASSWORD")
    with pytest.raises(DeliveryError) as caught:
        send_digest(settings, _message(settings), env={"MONITOR_SMTP_PASSWORD": "wrong"})
    message = str(caught.value)
    assert f"127.0.0.1:{controller.port}" in message
    assert "log in as 'monitor'" in message and "535" in message
    assert "wrong" not in message
    assert handler.received == []


def test_missing_password_variable_names_the_variable(
    smtp_auth: tuple[Controller, Collector],
) -> None:
    controller, handler = smtp_auth
    settings = _settings(controller, user="monitor", password_env="MONITOR_SMTP_PASSWORD")
    with pytest.raises(DeliveryError, match="MONITOR_SMTP_PASSWORD is not set"):
        send_digest(settings, _message(settings), env={"OTHER": "x"})
    assert handler.logins == [] and handler.received == []


def test_user_without_password_variable_is_a_delivery_error() -> None:
    settings = SmtpSettings(host="127.0.0.1", sender="m@x.example", recipients=("a@b.c",))
    with pytest.raises(DeliveryError, match="password_env"):
        send_digest(replace(settings, user="monitor"), _message(settings), env={})


def test_login_on_a_server_without_auth_is_a_delivery_error(
    smtp: tuple[Controller, Collector],
) -> None:
    controller, _ = smtp
    settings = _settings(controller, user="monitor", password_env="PW")
    with pytest.raises(DeliveryError, match=r"log in as 'monitor'.*not support"):
        send_digest(settings, _message(settings), env={"PW": "x"})


def test_starttls_on_a_server_without_it_is_a_delivery_error(
    smtp: tuple[Controller, Collector],
) -> None:
    controller, handler = smtp
    settings = _settings(controller, security="starttls")
    with pytest.raises(DeliveryError, match=r"127\.0\.0\.1:\d+: cannot STARTTLS"):
        send_digest(settings, _message(settings), env={})
    assert handler.received == []


def test_tls_to_a_plain_server_is_a_delivery_error(smtp: tuple[Controller, Collector]) -> None:
    controller, _ = smtp
    settings = _settings(controller, security="tls")
    with pytest.raises(DeliveryError, match=rf"127\.0\.0\.1:{controller.port}: TLS failed"):
        send_digest(settings, _message(settings), env={})


def test_refused_connection_names_host_and_port() -> None:
    # A bound socket that does not listen refuses connections, and nobody else can take its port.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        settings = SmtpSettings(
            host="127.0.0.1",
            port=port,
            security="none",
            sender="m@x.example",
            recipients=("a@b.c",),
        )
        with pytest.raises(DeliveryError) as caught:
            send_digest(settings, _message(settings), env={})
    assert str(caught.value) == f"SMTP 127.0.0.1:{port}: cannot connect: connection refused"
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_refused_recipient_is_reported(
    smtp: tuple[Controller, Collector], caplog: pytest.LogCaptureFixture
) -> None:
    controller, handler = smtp
    handler.refuse.add("gone@press.example.az")
    some = _settings(controller, recipients=("gone@press.example.az", "desk@press.example.az"))
    with caplog.at_level(logging.WARNING, logger="monitor.channels.email"):
        send_digest(some, _message(some), env={})
    assert "gone@press.example.az (550 5.1.1 no such mailbox)" in caplog.text
    assert [r for _, r, _ in handler.received] == [["desk@press.example.az"]]

    every = _settings(controller, recipients=("gone@press.example.az",))
    with pytest.raises(DeliveryError, match="every recipient was refused: gone@"):
        send_digest(every, _message(every), env={})
