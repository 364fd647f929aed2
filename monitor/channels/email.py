"""The e-mail channel: a digest sent as one message over SMTP.

``build_message`` is pure: it turns an already rendered digest (HTML and plain text) into a
multipart/alternative message. ``send_digest`` does the SMTP exchange and turns every failure
(DNS, refused connection, TLS, authentication, a refused sender or recipient) into a
``DeliveryError`` that names the server and the step that failed.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from monitor import formats
from monitor.coverage import coverage_of
from monitor.coverage import subject as coverage_subject
from monitor.errors import DeliveryError
from monitor.formats import View
from monitor.labels import labels_for
from monitor.models import Digest
from monitor.settings import SmtpSettings

log = logging.getLogger(__name__)


def build_message(
    subject: str,
    html: str,
    text: str,
    sender: str,
    recipients: Sequence[str],
    *,
    date: datetime | None = None,
) -> EmailMessage:
    """A multipart/alternative message: plain text first, HTML last (the part mail readers
    prefer when they can show it). Headers are encoded by the ``email`` package, so non-ASCII
    subjects come out as RFC 2047 encoded words."""
    if not recipients:
        raise ValueError("an e-mail needs at least one recipient")
    msg = EmailMessage()
    # A subject built from feed text must stay on one line: a line break would be refused.
    msg["Subject"] = " ".join(subject.split())
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    # The sender's domain, not socket.getfqdn(): that can block on a DNS lookup for seconds.
    msg["Message-ID"] = make_msgid(domain=_domain(sender))
    # The email package would pick 8bit for short lines; base64 needs no 8BITMIME from the
    # server and is the most compact for Cyrillic, Georgian or Arabic-script text.
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    return msg


def send_digest(settings: SmtpSettings, message: EmailMessage, env: Mapping[str, str]) -> None:
    """Send ``message`` to ``settings.recipients`` (the envelope, whatever the headers say)."""
    password = _password(settings, env)
    where = settings.where
    if settings.user is not None and settings.security == "none":
        log.warning("SMTP %s: logging in without TLS sends the password in clear text", where)
    step = "connect"
    try:
        smtp = _connect(settings)
        try:
            if settings.security == "starttls":
                step = "STARTTLS"
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.user is not None:
                step = f"log in as {settings.user!r}"
                smtp.login(settings.user, password or "")
            step = "send"
            # Bare addresses in the envelope: a display name such as "Редакция <e@x>" here
            # would make smtplib demand SMTPUTF8 and send raw UTF-8 headers.
            refused = smtp.send_message(
                message,
                from_addr=parseaddr(settings.sender)[1],
                to_addrs=[parseaddr(r)[1] for r in settings.recipients],
            )
        finally:
            _close(smtp)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(
            f"SMTP {where}: every recipient was refused: {_refusals(exc.recipients)}"
        ) from exc
    except smtplib.SMTPSenderRefused as exc:
        raise DeliveryError(
            f"SMTP {where}: sender {settings.sender!r} refused: {_reply(exc.smtp_code, exc.smtp_error)}"
        ) from exc
    except smtplib.SMTPResponseException as exc:
        # Authentication failures, a refused message (DATA), a refused STARTTLS, ...
        raise DeliveryError(
            f"SMTP {where}: cannot {step}: {_reply(exc.smtp_code, exc.smtp_error)}"
        ) from exc
    except ssl.SSLError as exc:
        # Before OSError: SSLError is one, and "certificate verify failed" deserves its own words.
        raise DeliveryError(f"SMTP {where}: TLS failed during {step}: {exc}") from exc
    except TimeoutError as exc:
        raise DeliveryError(
            f"SMTP {where}: no answer within {settings.timeout:g} s during {step}"
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {where}: cannot {step}: {_describe(exc)}") from exc
    except UnicodeError as exc:
        # smtplib encodes credentials as ASCII.
        raise DeliveryError(f"SMTP {where}: cannot {step}: non-ASCII text: {exc}") from exc
    if refused:
        # Delivered to the others; raising would make a retry send them a second copy.
        log.warning("SMTP %s: some recipients were refused: %s", where, _refusals(refused))


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT politely; a failure here comes after the message was accepted, so it is not one."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _password(settings: SmtpSettings, env: Mapping[str, str]) -> str | None:
    if settings.user is None:
        return None
    if not settings.password_env:
        raise DeliveryError(
            f"SMTP {settings.where}: user {settings.user!r} is set but no password variable "
            "(password_env) is configured"
        )
    password = env.get(settings.password_env)
    if not password:
        raise DeliveryError(
            f"SMTP {settings.where}: the password variable {settings.password_env} is not set "
            "in the environment"
        )
    return password


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.security == "tls":
        return smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=settings.timeout,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)


def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(message.split())}"


def _refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{rcpt} ({_reply(code, text)})" for rcpt, (code, text) in refused.items())


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"the server closed the connection ({exc})" if str(exc) else "disconnected"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"the server does not support it ({exc})"
    text = str(exc) or type(exc).__name__
    return text


class EmailChannel:
    """The digest as one e-mail: the HTML format with the Markdown as its plain-text part, the
    subject saying how much of the field was seen."""

    label = "e-mail"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, digest: Digest, view: View, env: Mapping[str, str]) -> None:
        labels = labels_for(view.locale)
        title = labels.digest_title.format(date=digest.period)
        subject = coverage_subject(title, coverage_of(digest.sources), labels)
        html, text = (formats.get(name).render(digest, view) for name in ("html", "markdown"))
        settings = self.settings
        message = build_message(subject, html, text, settings.sender, settings.recipients)
        send_digest(settings, message, env)
